//! Lambda for `GET /users` (`evreg::handlers::routes::users_list`).

evreg::route_function!(users_list);
