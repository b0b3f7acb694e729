//! Lambda for the route served by `evreg::handlers::routes::registrations_ticket`.

use evreg::handlers::routes::registrations_ticket;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(|ctx, req| async move {
        registrations_ticket::handle(&ctx, req).await
    })
    .await
}
