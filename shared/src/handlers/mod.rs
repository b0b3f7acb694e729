//! Route handlers (one file per route, [`routes`]), worker handlers (one file per worker,
//! [`workers`]) and what routes share ([`common`]). The Lambda binaries and the dev server
//! call exactly these functions.

pub mod common;
pub mod routes;
pub mod schedules;
pub mod workers;
