//! Lambda for `POST /payments/webhook` (`evreg::handlers::routes::payments_webhook`).

evreg::route_function!(payments_webhook);
