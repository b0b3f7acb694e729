//! Lambda for the route served by `evreg::handlers::routes::auth_refresh`.

use evreg::handlers::routes::auth_refresh;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(
        |ctx, req| async move { auth_refresh::handle(&ctx, req).await },
    )
    .await
}
