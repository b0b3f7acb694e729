//! Lambda for `GET /door/{file}` (`evreg::handlers::routes::door_file`).

evreg::route_function!(door_file);
