//! Lambda for the route served by `evreg::handlers::routes::auth_logout`.

use evreg::handlers::routes::{auth_logout, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::AuthLogout, |ctx, req, _caller| async move {
        auth_logout::handle(&ctx, req).await
    })
    .await
}
