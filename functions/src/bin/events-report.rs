//! Lambda for `GET /events/{id}/report` (`evreg::handlers::routes::events_report`).

evreg::route_function!(events_report);
