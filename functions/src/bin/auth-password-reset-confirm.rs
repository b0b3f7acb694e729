//! Lambda for `POST /auth/password-reset/confirm` (`evreg::handlers::routes::auth_password_reset_confirm`).

evreg::route_function!(auth_password_reset_confirm);
