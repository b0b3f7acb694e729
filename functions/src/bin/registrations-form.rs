//! Lambda for `POST /registrations/{id}` (`evreg::handlers::routes::registrations_form`).

evreg::route_function!(registrations_form);
