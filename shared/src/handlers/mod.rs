//! What the Lambda binaries and the dev server run: route handlers (one file per route,
//! [`routes`]), worker handlers (one file per worker, [`workers`]) and scheduled jobs
//! ([`schedules`]), each table declared row by row ([`declare`]); every request's way in
//! ([`entrance`]); and what routes share at the HTTP edge ([`common`]).

pub mod common;
pub mod declare;
pub mod entrance;
pub mod routes;
pub mod schedules;
pub mod workers;
