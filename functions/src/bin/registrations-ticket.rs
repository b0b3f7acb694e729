//! Lambda for the route served by `evreg::handlers::routes::registrations_ticket`.

use evreg::handlers::routes::{registrations_ticket, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::RegistrationsTicket, |ctx, req, caller| async move {
        registrations_ticket::handle(&ctx, req, caller).await
    })
    .await
}
