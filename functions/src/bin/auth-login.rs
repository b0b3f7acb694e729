//! Lambda for the route served by `evreg::handlers::routes::auth_login`.

use evreg::handlers::routes::{auth_login, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::AuthLogin, |ctx, req, _caller| async move {
        auth_login::handle(&ctx, req).await
    })
    .await
}
