//! Lambda for the route served by `evreg::handlers::routes::registrations_create`.

use evreg::handlers::routes::{registrations_create, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::RegistrationsCreate, |ctx, req, _caller| async move {
        registrations_create::handle(&ctx, req).await
    })
    .await
}
