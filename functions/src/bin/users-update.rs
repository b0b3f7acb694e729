//! Lambda for the route served by `evreg::handlers::routes::users_update`.

use evreg::handlers::routes::{users_update, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::UsersUpdate, |ctx, req, caller| async move {
        users_update::handle(&ctx, req, caller).await
    })
    .await
}
