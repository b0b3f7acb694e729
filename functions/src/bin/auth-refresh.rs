//! Lambda for the route served by `evreg::handlers::routes::auth_refresh`.

use evreg::handlers::routes::{auth_refresh, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::AuthRefresh, |ctx, req, _caller| async move {
        auth_refresh::handle(&ctx, req).await
    })
    .await
}
