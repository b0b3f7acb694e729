//! Lambda for the route served by `evreg::handlers::routes::checkins_create`.

use evreg::handlers::routes::{checkins_create, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::CheckinsCreate, |ctx, req, caller| async move {
        checkins_create::handle(&ctx, req, caller).await
    })
    .await
}
