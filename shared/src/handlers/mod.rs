//! Route handlers (one file per route) and worker handlers (one file per worker).
//! The Lambda binaries and the dev server call exactly these functions.

pub mod routes;
pub mod workers;
