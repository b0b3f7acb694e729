//! Lambda for the route served by `evreg::handlers::routes::checkins_create`.

use evreg::handlers::routes::checkins_create;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(
        |ctx, req| async move { checkins_create::handle(&ctx, req).await },
    )
    .await
}
