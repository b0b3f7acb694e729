//! Lambda for `POST /auth/refresh` (`evreg::handlers::routes::auth_refresh`).

evreg::route_function!(auth_refresh);
