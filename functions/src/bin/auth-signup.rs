//! Lambda for `POST /auth/signup` (`evreg::handlers::routes::auth_signup`).

evreg::route_function!(auth_signup);
