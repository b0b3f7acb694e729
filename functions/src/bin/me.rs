//! Lambda for the route served by `evreg::handlers::routes::me`.

use evreg::handlers::routes::{me, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::Me, |ctx, req, caller| async move {
        me::handle(&ctx, req, caller).await
    })
    .await
}
