//! Lambda for `GET /events/{id}/registrations` (`evreg::handlers::routes::events_registrations`).

evreg::route_function!(events_registrations);
