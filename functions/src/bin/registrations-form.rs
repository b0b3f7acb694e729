//! Lambda for the route served by `evreg::handlers::routes::registrations_form`.

use evreg::handlers::routes::{registrations_form, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::RegistrationsForm, |ctx, req, caller| async move {
        registrations_form::handle(&ctx, req, caller).await
    })
    .await
}
