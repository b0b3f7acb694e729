//! Lambda for the route served by `evreg::handlers::routes::events_ticket_key`.

use evreg::handlers::routes::{events_ticket_key, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::EventsTicketKey, |ctx, req, _caller| async move {
        events_ticket_key::handle(&ctx, req).await
    })
    .await
}
