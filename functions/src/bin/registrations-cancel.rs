//! Lambda for the route served by `evreg::handlers::routes::registrations_cancel`.

use evreg::handlers::routes::{registrations_cancel, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::RegistrationsCancel, |ctx, req, caller| async move {
        registrations_cancel::handle(&ctx, req, caller).await
    })
    .await
}
