//! Lambda for `GET /registrations/{id}` (`evreg::handlers::routes::registrations_get`).

evreg::route_function!(registrations_get);
