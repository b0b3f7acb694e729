//! GET /door — the door app's page: an offline web app where door staff sign in, pick an
//! event, and scan tickets, verified on the device and synced to `POST /checkins`
//! (`handlers::common::door`). Public and cacheable; the app itself needs a STAFF sign-in.

use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::handlers::common::door;
use crate::http::ApiResult;

/// Serves `GET /door` (answers: the module docs).
pub async fn handle(_ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    door::serve(&req, "index.html")
}
