//! Lambda for the route served by `evreg::handlers::routes::events_registrations`.

use evreg::handlers::routes::{events_registrations, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::EventsRegistrations, |ctx, req, caller| async move {
        events_registrations::handle(&ctx, req, caller).await
    })
    .await
}
