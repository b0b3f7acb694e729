//! Lambda for `POST /events/{id}/registrations` (`evreg::handlers::routes::registrations_create`).

evreg::route_function!(registrations_create);
