//! GET /users — every account, by email, cursor-paginated, for ADMINs; never the hashes.

use http::StatusCode;
use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::handlers::common::views::{ListPage, UserView};
use crate::http::{json, page_limit, query_param, ApiResult};

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;

/// Serves `GET /users` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let limit = page_limit(&req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let cursor = query_param::<String>(&req, "cursor")?;

    let page = ctx.users.users(limit, cursor.as_deref()).await?;

    json(
        StatusCode::OK,
        &ListPage {
            items: page.items.iter().map(UserView::from).collect(),
            next_cursor: page.next_cursor,
        },
    )
}
