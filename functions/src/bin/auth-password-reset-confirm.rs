//! Lambda for the route served by `evreg::handlers::routes::auth_password_reset_confirm`.

use evreg::handlers::routes::auth_password_reset_confirm;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(|ctx, req| async move {
        auth_password_reset_confirm::handle(&ctx, req).await
    })
    .await
}
