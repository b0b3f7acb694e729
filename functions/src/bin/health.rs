//! Lambda for `GET /health` (`evreg::handlers::routes::health`).

evreg::route_function!(health);
