//! Lambda for `PUT /registrations/{id}` (`evreg::handlers::routes::registrations_update`).

evreg::route_function!(registrations_update);
