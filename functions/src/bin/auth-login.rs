//! Lambda for `POST /auth/login` (`evreg::handlers::routes::auth_login`).

evreg::route_function!(auth_login);
