//! Lambda for `GET /door` (`evreg::handlers::routes::door`).

evreg::route_function!(door);
