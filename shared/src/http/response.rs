use http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;

use super::ApiError;

pub type ApiResult = Result<Response<Body>, ApiError>;

pub fn json(status: StatusCode, value: &impl Serialize) -> ApiResult {
    let body = serde_json::to_string(value).map_err(ApiError::internal)?;
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body))
        .map_err(ApiError::internal)
}
