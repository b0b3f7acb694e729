//! Lambda for the route served by `evreg::handlers::routes::users_create`.

use evreg::handlers::routes::{users_create, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::UsersCreate, |ctx, req, _caller| async move {
        users_create::handle(&ctx, req).await
    })
    .await
}
