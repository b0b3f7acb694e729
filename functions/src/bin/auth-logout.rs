//! Lambda for `POST /auth/logout` (`evreg::handlers::routes::auth_logout`).

evreg::route_function!(auth_logout);
