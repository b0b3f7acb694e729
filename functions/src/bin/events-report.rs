//! Lambda for the route served by `evreg::handlers::routes::events_report`.

use evreg::handlers::routes::{events_report, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::EventsReport, |ctx, req, caller| async move {
        events_report::handle(&ctx, req, caller).await
    })
    .await
}
