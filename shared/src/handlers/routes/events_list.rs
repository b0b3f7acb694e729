//! GET /events — published events from the read model, cursor-paginated, filtered by
//! `from`/`to` (RFC 3339, the event date), `venue` and `q` (text in the name or
//! description, case-insensitive), ordered by `sort=date` (default, soonest first) or
//! `sort=newest` (created, newest first). Cursors are signed (HMAC) over the query they
//! page, so a modified, forged or transplanted cursor is a 400, never a 500.

use lambda_http::Request;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Caller;
use crate::app::AppContext;
use crate::handlers::common::views::{EventWithStats, ListPage};
use crate::http::{page_limit, public_json, query_param, ApiError, ApiResult};
use crate::ports::{ListingOrder, ListingQuery};

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;
const MAX_TEXT_CHARS: usize = 200;

/// Serves `GET /events` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let limit = page_limit(&req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let query = listing_query(&req)?;
    let context = query.canonical();
    let cursor = query_param::<String>(&req, "cursor")?
        .map(|signed| {
            ctx.cursors
                .open(&context, &signed)
                .ok_or_else(|| ApiError::BadQuery("cursor is not valid".into()))
        })
        .transpose()?;

    let page = ctx
        .read_model
        .listings(&query, limit, cursor.as_deref())
        .await?;

    let items = page
        .items
        .iter()
        .map(|(listing, stats)| EventWithStats {
            event: listing,
            stats: *stats,
        })
        .collect();
    public_json(
        &req,
        &ListPage {
            items,
            next_cursor: page
                .next_cursor
                .map(|cursor| ctx.cursors.sign(&context, &cursor)),
        },
    )
}

fn listing_query(req: &Request) -> Result<ListingQuery, ApiError> {
    let time = |name: &str| -> Result<Option<OffsetDateTime>, ApiError> {
        query_param::<String>(req, name)?
            .map(|raw| {
                OffsetDateTime::parse(&raw, &Rfc3339)
                    .map_err(|_| ApiError::BadQuery(format!("{name} must be an RFC 3339 time")))
            })
            .transpose()
    };
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        let value = query_param::<String>(req, name)?.filter(|v| !v.trim().is_empty());
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > MAX_TEXT_CHARS)
        {
            return Err(ApiError::BadQuery(format!(
                "{name} must be at most {MAX_TEXT_CHARS} characters"
            )));
        }
        Ok(value)
    };
    let order = match query_param::<String>(req, "sort")?.as_deref() {
        None | Some("date") => ListingOrder::Date,
        Some("newest") => ListingOrder::Newest,
        Some(other) => {
            return Err(ApiError::BadQuery(format!(
                "sort {other:?} is not date or newest"
            )))
        }
    };
    let (from, to) = (time("from")?, time("to")?);
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(ApiError::BadQuery("from must not be after to".into()));
        }
    }
    Ok(ListingQuery {
        from,
        to,
        venue: text("venue")?,
        text: text("q")?,
        order,
    })
}
