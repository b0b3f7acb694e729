//! Lambda for the route served by `evreg::handlers::routes::auth_signup`.

use evreg::handlers::routes::{auth_signup, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::AuthSignup, |ctx, req, _caller| async move {
        auth_signup::handle(&ctx, req).await
    })
    .await
}
