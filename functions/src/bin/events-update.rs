//! Lambda for `PUT /events/{id}` (`evreg::handlers::routes::events_update`).

evreg::route_function!(events_update);
