//! Lambda for `PATCH /users/{id}` (`evreg::handlers::routes::users_update`).

evreg::route_function!(users_update);
