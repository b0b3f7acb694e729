//! Lambda for the route served by `evreg::handlers::routes::door`.

use evreg::handlers::routes::{door, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::Door, |_ctx, req, _caller| async move {
        door::handle(req).await
    })
    .await
}
