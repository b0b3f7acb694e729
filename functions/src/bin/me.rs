//! Lambda for `GET /me` (`evreg::handlers::routes::me`).

evreg::route_function!(me);
