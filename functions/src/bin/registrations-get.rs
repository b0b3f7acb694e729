//! Lambda for the route served by `evreg::handlers::routes::registrations_get`.

use evreg::handlers::routes::{registrations_get, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::RegistrationsGet, |ctx, req, caller| async move {
        registrations_get::handle(&ctx, req, caller).await
    })
    .await
}
