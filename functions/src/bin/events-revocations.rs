//! Lambda for `GET /events/{id}/revocations` (`evreg::handlers::routes::events_revocations`).

evreg::route_function!(events_revocations);
