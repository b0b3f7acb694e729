//! Lambda for `POST /e/{slug}` (`evreg::handlers::routes::event_page_register`).

evreg::route_function!(event_page_register);
