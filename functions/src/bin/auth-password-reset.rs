//! Lambda for the route served by `evreg::handlers::routes::auth_password_reset`.

use evreg::handlers::routes::{auth_password_reset, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::AuthPasswordReset, |ctx, req, _caller| async move {
        auth_password_reset::handle(&ctx, req).await
    })
    .await
}
