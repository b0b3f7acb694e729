//! GET /events/{id}/registrations — the event's registrations in the order they were made,
//! for its owner, ADMIN and STAFF; `?status=` filters; `Accept: text/csv` exports them all.

use http::StatusCode;
use lambda_http::{Body, Request, Response};

use super::Caller;
use crate::app::AppContext;
use crate::domain::{EventId, Registration, RegistrationStatus};
use crate::handlers::common::views::ListPage;
use crate::http::{
    json, page_limit, path, preferred_media_type, query_param, ApiError, ApiResult,
};

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;
/// Pages the CSV export reads at a time.
const EXPORT_PAGE: usize = 500;

/// Serves `GET /events/{id}/registrations` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let event_id: EventId = path(&req)?;
    let status = query_param::<String>(&req, "status")?
        .map(|raw| {
            RegistrationStatus::parse(&raw)
                .ok_or_else(|| ApiError::BadQuery(format!("status {raw:?} is not a status")))
        })
        .transpose()?;

    caller.event(ctx, event_id).await?;

    if preferred_media_type(&req, &["application/json", "text/csv"]) == Some("text/csv") {
        return csv_export(ctx, event_id, status).await;
    }
    let limit = page_limit(&req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let cursor = query_param::<String>(&req, "cursor")?;
    let page = ctx
        .registrations
        .registrations(event_id, status, limit, cursor.as_deref())
        .await?;
    json(
        StatusCode::OK,
        &ListPage {
            items: page.items,
            next_cursor: page.next_cursor,
        },
    )
}

/// Every matching registration as CSV. API Gateway buffers Lambda responses (6 MB), which
/// bounds an export to some tens of thousands of rows; larger events would export to S3.
async fn csv_export(
    ctx: &AppContext,
    event_id: EventId,
    status: Option<RegistrationStatus>,
) -> ApiResult {
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record([
        "id",
        "email",
        "full_name",
        "phone",
        "status",
        "created_at",
        "checked_in_at",
    ])
    .map_err(ApiError::internal)?;
    let mut cursor: Option<String> = None;
    loop {
        let page = ctx
            .registrations
            .registrations(event_id, status, EXPORT_PAGE, cursor.as_deref())
            .await?;
        for registration in &page.items {
            csv.write_record(
                csv_row(registration)
                    .iter()
                    .map(|cell| spreadsheet_safe(cell)),
            )
            .map_err(ApiError::internal)?;
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let body = csv.into_inner().map_err(ApiError::internal)?;
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(
            http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"registrations-{event_id}.csv\""),
        )
        .body(Body::Text(String::from_utf8_lossy(&body).into_owned()))
        .map_err(ApiError::internal)
}

fn csv_row(registration: &Registration) -> [String; 7] {
    let time = |at: Option<time::OffsetDateTime>| {
        at.and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
    };
    [
        registration.id.to_string(),
        registration.email.clone(),
        registration.full_name.clone(),
        registration.phone.clone().unwrap_or_default(),
        registration.status.as_str().to_owned(),
        time(Some(registration.created_at)),
        time(registration.checked_in_at),
    ]
}

/// Attendees type their own names, addresses and numbers: a cell starting like a formula
/// would run as one when an organizer opens the export in a spreadsheet (CSV injection),
/// so every cell of a row, whatever its column, is defused as OWASP's CSV Injection page
/// advises: a leading `'` before `=`, `+`, `-`, `@`, tab or carriage return. Spreadsheets
/// skip leading spaces and some read full-width `＝＋－＠` as their ASCII forms, so those
/// count too. A cell has no leading spaces to keep in this export, so none are lost.
fn spreadsheet_safe(text: &str) -> String {
    const FORMULA_STARTS: [char; 10] = [
        '=', '+', '-', '@', '\t', '\r', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
    ];
    if text.trim_start_matches(' ').starts_with(FORMULA_STARTS) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;
    use proptest::prelude::*;

    proptest! {
        /// Whatever an attendee typed: the cell does not start like a formula, and it is
        /// the text itself or the text behind one `'`.
        #[test]
        fn no_cell_starts_like_a_formula(text in "\\PC{0,40}", formula in "[ ]{0,2}[=+@\\t\\r\u{FF1D}-]\\PC{0,20}") {
            for text in [text, formula] {
                let cell = spreadsheet_safe(&text);
                let first = cell.trim_start_matches(' ').chars().next();
                let live = matches!(
                    first,
                    Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\u{FF1D}' | '\u{FF0B}' | '\u{FF0D}' | '\u{FF20}')
                );
                prop_assert!(!live, "a live formula: {:?}", cell);
                prop_assert!(cell == text || cell.strip_prefix('\'') == Some(text.as_str()));
            }
        }
    }

    #[test]
    fn formulas_are_defused_and_plain_text_is_kept() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("+1+1"), "'+1+1");
        assert_eq!(spreadsheet_safe("  -2+3"), "'  -2+3");
        assert_eq!(spreadsheet_safe("\u{FF1D}1+1"), "'\u{FF1D}1+1");
        assert_eq!(spreadsheet_safe("\tx"), "'\tx");
        assert_eq!(spreadsheet_safe("Ann Lee"), "Ann Lee");
        assert_eq!(spreadsheet_safe("ann@example.org"), "ann@example.org");
    }
}
