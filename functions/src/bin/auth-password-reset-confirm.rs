//! Lambda for the route served by `evreg::handlers::routes::auth_password_reset_confirm`.

use evreg::handlers::routes::{auth_password_reset_confirm, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(
        Route::AuthPasswordResetConfirm,
        |ctx, req, _caller| async move { auth_password_reset_confirm::handle(&ctx, req).await },
    )
    .await
}
