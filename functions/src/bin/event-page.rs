//! Lambda for `GET /e/{slug}` (`evreg::handlers::routes::event_page`).

evreg::route_function!(event_page);
