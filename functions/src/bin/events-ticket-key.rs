//! Lambda for `GET /events/{id}/ticket-key` (`evreg::handlers::routes::events_ticket_key`).

evreg::route_function!(events_ticket_key);
