//! Lambda for the route served by `evreg::handlers::routes::event_page_register`.

use evreg::handlers::routes::{event_page_register, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::EventPageRegister, |ctx, req, _caller| async move {
        event_page_register::handle(&ctx, req).await
    })
    .await
}
