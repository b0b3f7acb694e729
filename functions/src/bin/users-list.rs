//! Lambda for the route served by `evreg::handlers::routes::users_list`.

use evreg::handlers::routes::{users_list, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::UsersList, |ctx, req, _caller| async move {
        users_list::handle(&ctx, req).await
    })
    .await
}
