//! Lambda for `POST /auth/password-reset` (`evreg::handlers::routes::auth_password_reset`).

evreg::route_function!(auth_password_reset);
