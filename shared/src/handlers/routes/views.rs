//! Response shapes shared by several routes.

use serde::Serialize;

use crate::domain::EventStats;

/// An event (or its listing) with the read model's counters beside its own fields.
#[derive(Serialize)]
pub struct EventWithStats<'a, E: Serialize> {
    #[serde(flatten)]
    pub event: &'a E,
    #[serde(flatten)]
    pub stats: EventStats,
}

/// `{"items": […], "next_cursor": …}`, the shape of every list.
#[derive(Serialize)]
pub struct ListPage<T: Serialize> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The body of signup and login.
#[derive(serde::Deserialize)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}
