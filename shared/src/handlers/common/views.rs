//! Response shapes shared by several routes.

use http::StatusCode;
use serde::Serialize;

use crate::app::AppContext;
use crate::domain::{Event, EventStats};
use crate::http::{json, ApiResult};

/// An event (or its listing) with the read model's counters beside its own fields.
#[derive(Serialize)]
pub struct EventWithStats<'a, E: Serialize> {
    /// The event's own fields.
    #[serde(flatten)]
    pub event: &'a E,
    /// Its counters.
    #[serde(flatten)]
    pub stats: EventStats,
}

/// 200 with `event` and its counters as the read model has them now: what an event's
/// writes answer.
pub async fn event_with_stats(ctx: &AppContext, event: &Event) -> ApiResult {
    let stats = ctx.read_model.stats(event.id).await?;
    json(StatusCode::OK, &EventWithStats { event, stats })
}

/// `{"items": […], "next_cursor": …}`, the shape of every list.
#[derive(Serialize)]
pub struct ListPage<T: Serialize> {
    /// This page.
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// The body of signup and login.
#[derive(serde::Deserialize)]
pub struct Credentials {
    /// The account's email, normalized before use.
    pub email: String,
    /// As typed.
    pub password: String,
}

/// An account as the ADMIN routes show it: everything but the password hash.
#[derive(Serialize)]
#[allow(missing_docs)] // the fields are User's
pub struct UserView<'a> {
    pub id: crate::domain::UserId,
    pub email: &'a str,
    pub role: crate::domain::Role,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

impl<'a> From<&'a crate::domain::User> for UserView<'a> {
    fn from(user: &'a crate::domain::User) -> Self {
        Self {
            id: user.id,
            email: &user.email,
            role: user.role,
            active: user.active,
            created_at: user.created_at,
        }
    }
}
