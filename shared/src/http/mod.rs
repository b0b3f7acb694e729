//! HTTP edges shared by every route: request parsing, JSON and HTML responses, form posts
//! and their CSRF protection, signed cursors, and the one mapping from errors to RFC 9457
//! problem documents.

pub mod cursor;
pub mod form;
pub mod html;
mod problem;
mod request;
mod response;

pub use cursor::CursorSigner;
pub use problem::{error_chain, ApiError};
pub use request::{
    header, json_body, page_limit, path, preferred_media_type, present, query_param, DoorFileName,
    EventSlug, PathParam,
};
pub use response::{
    into_response, json, public_body, public_json, ApiResult, SHARED_MAX_AGE_SECONDS,
};
