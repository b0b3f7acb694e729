//! Lambda for the route served by `evreg::handlers::routes::registrations_update`.

use evreg::handlers::routes::{registrations_update, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::RegistrationsUpdate, |ctx, req, caller| async move {
        registrations_update::handle(&ctx, req, caller).await
    })
    .await
}
