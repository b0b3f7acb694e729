//! GET /health

use http::StatusCode;
use lambda_http::Request;
use serde_json::json;

use crate::app::AppContext;
use crate::http::{json, ApiResult};

/// Serves `GET /health` (answers: the module docs).
pub async fn handle(_ctx: &AppContext, _req: Request) -> ApiResult {
    json(
        StatusCode::OK,
        &json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }),
    )
}
