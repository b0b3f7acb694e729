//! Lambda for `GET /registrations/{id}/ticket` (`evreg::handlers::routes::registrations_ticket`).

evreg::route_function!(registrations_ticket);
