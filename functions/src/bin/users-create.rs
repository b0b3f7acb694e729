//! Lambda for `POST /users` (`evreg::handlers::routes::users_create`).

evreg::route_function!(users_create);
