//! Lambda for the route served by `evreg::handlers::routes::events_cancel`.

use evreg::handlers::routes::{events_cancel, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::EventsCancel, |ctx, req, _caller| async move {
        events_cancel::handle(&ctx, req).await
    })
    .await
}
