//! Lambda for `DELETE /events/{id}` (`evreg::handlers::routes::events_cancel`).

evreg::route_function!(events_cancel);
