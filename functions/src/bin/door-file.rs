//! Lambda for the route served by `evreg::handlers::routes::door_file`.

use evreg::handlers::routes::{door_file, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::DoorFile, |_ctx, req, _caller| async move {
        door_file::handle(req).await
    })
    .await
}
