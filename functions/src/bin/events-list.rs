//! Lambda for the route served by `evreg::handlers::routes::events_list`.

use evreg::handlers::routes::{events_list, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::EventsList, |ctx, req, _caller| async move {
        events_list::handle(&ctx, req).await
    })
    .await
}
