//! Lambda for `GET /events/{id}` (`evreg::handlers::routes::events_get`).

evreg::route_function!(events_get);
