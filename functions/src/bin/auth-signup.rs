//! Lambda for the route served by `evreg::handlers::routes::auth_signup`.

use evreg::handlers::routes::auth_signup;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(
        |ctx, req| async move { auth_signup::handle(&ctx, req).await },
    )
    .await
}
