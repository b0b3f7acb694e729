//! Lambda for the route served by `evreg::handlers::routes::me`.

use evreg::handlers::routes::me;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(|ctx, req| async move { me::handle(&ctx, req).await }).await
}
