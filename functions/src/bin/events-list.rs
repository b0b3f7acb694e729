//! Lambda for `GET /events` (`evreg::handlers::routes::events_list`).

evreg::route_function!(events_list);
