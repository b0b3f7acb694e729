//! GET /door/{file} — one of the door app's files (scripts, stylesheet, manifest, icon,
//! service worker, vendored decoder: `handlers::common::door`); 404 `not_found` for any
//! other name. Public and cacheable.

use lambda_http::Request;

use crate::handlers::common::door;
use crate::http::{path_id, ApiResult};

/// Serves `GET /door/{file}` (answers: the module docs).
pub async fn handle(req: Request) -> ApiResult {
    let name: String = path_id(&req, "file", "door app file")?;
    door::serve(&req, &name)
}
