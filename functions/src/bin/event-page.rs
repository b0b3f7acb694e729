//! Lambda for the route served by `evreg::handlers::routes::event_page`.

use evreg::handlers::routes::{event_page, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::EventPage, |ctx, req, _caller| async move {
        event_page::handle(&ctx, req).await
    })
    .await
}
