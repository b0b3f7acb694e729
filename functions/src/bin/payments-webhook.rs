//! Lambda for the route served by `evreg::handlers::routes::payments_webhook`.

use evreg::handlers::routes::{payments_webhook, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::PaymentsWebhook, |ctx, req, _caller| async move {
        payments_webhook::handle(&ctx, req).await
    })
    .await
}
