//! GET /door/{file} — one of the door app's files (scripts, stylesheet, manifest, icon,
//! service worker, vendored decoder: `handlers::common::door`); 404 `not_found` for any
//! other name. Public and cacheable.

use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::handlers::common::door;
use crate::http::{path, ApiResult, DoorFileName};

/// Serves `GET /door/{file}` (answers: the module docs).
pub async fn handle(_ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let DoorFileName(name) = path(&req)?;
    door::serve(&req, &name)
}
