//! Lambda for the route served by `evreg::handlers::routes::users_update`.

use evreg::handlers::routes::users_update;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(
        |ctx, req| async move { users_update::handle(&ctx, req).await },
    )
    .await
}
