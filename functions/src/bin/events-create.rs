//! Lambda for `POST /events` (`evreg::handlers::routes::events_create`).

evreg::route_function!(events_create);
