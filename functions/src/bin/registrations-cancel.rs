//! Lambda for `DELETE /registrations/{id}` (`evreg::handlers::routes::registrations_cancel`).

evreg::route_function!(registrations_cancel);
