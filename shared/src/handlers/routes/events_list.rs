//! GET /events — published events from the read model, soonest first, cursor-paginated.

use http::StatusCode;
use lambda_http::Request;

use super::views::{EventWithStats, ListPage};
use crate::app::AppContext;
use crate::http::{json, page_limit, query_param, ApiResult};

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let limit = page_limit(&req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let cursor = query_param::<String>(&req, "cursor")?;

    let page = ctx.read_model.published(limit, cursor.as_deref()).await?;

    let items = page
        .items
        .iter()
        .map(|(listing, stats)| EventWithStats {
            event: listing,
            stats: *stats,
        })
        .collect();
    json(
        StatusCode::OK,
        &ListPage {
            items,
            next_cursor: page.next_cursor,
        },
    )
}
