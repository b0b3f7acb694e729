//! The one mapping from every error a request can meet to an RFC 9457
//! `application/problem+json` document with a stable machine-readable `code`.

use http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

use crate::domain::{DomainError, FieldError, Refusal};
use crate::ports::WebhookError;
use crate::ports::{BusError, StoreError};
use crate::services::ServiceError;

/// Every way a request can fail, each with one status and one stable `code`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `malformed_body`: not JSON at all, or unreadable.
    #[error("the request body is not valid JSON: {0}")]
    MalformedBody(String),
    /// 400 `invalid_query`: a query parameter (or cursor) that cannot be read.
    #[error("a query parameter is not valid: {0}")]
    BadQuery(String),
    /// 400 `invalid_header`.
    #[error("a header is not valid: {0}")]
    BadHeader(String),
    /// 400 `malformed_ticket`: the scanned text is no ticket of ours.
    #[error("the ticket is not a ticket")]
    MalformedTicket,
    /// 422 `invalid_ticket`: a ticket whose signature does not verify (forged).
    #[error("the ticket's signature does not verify")]
    ForgedTicket,
    /// 422 `wrong_event`: a good ticket for another event than the door's.
    #[error("the ticket is for another event")]
    WrongEvent,
    /// 422 `idempotency_key_reused`: the key came before with another body.
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    /// 409 `request_in_progress` + `Retry-After`: the key's first request still runs.
    #[error("a request with this Idempotency-Key is still in progress")]
    RequestInProgress,
    /// 422 `validation_failed` with `errors`: every invalid field.
    #[error("the request is not valid")]
    Invalid(Vec<FieldError>),
    /// 401 `unauthenticated`: no credentials, or credentials that do not hold.
    #[error("authentication is required")]
    Unauthenticated,
    /// 401 `invalid_credentials`: the same for an unknown email and a wrong password.
    #[error("the email or password is wrong")]
    InvalidCredentials,
    /// 401 `invalid_refresh_token`.
    #[error("the refresh token is not valid")]
    InvalidRefreshToken,
    /// 400 `invalid_reset_token`.
    #[error("the password-reset token is invalid, expired or used")]
    InvalidResetToken,
    /// Login throttling: `retry_after` seconds until the counting window ends.
    #[error("too many failed attempts; retry later")]
    TooManyAttempts {
        /// Seconds.
        retry_after: u64,
    },
    /// 429 `rate_limited` + `Retry-After`: the caller sent more than the route's
    /// throttle allows (the dev server; API Gateway answers its own 429 when deployed).
    #[error("too many requests; retry later")]
    RateLimited {
        /// Seconds until a request would be let through.
        retry_after: u64,
    },
    /// 403 `forbidden`: signed in, but not allowed.
    #[error("you may not do this")]
    Forbidden,
    /// 403 `cross_site_request`: a form post a browser made from another site
    /// (`Sec-Fetch-Site`, `Origin`; see [`crate::http::form`]).
    #[error("this form may only be sent from its own page")]
    CrossSite,
    /// 404 `not_found`, naming the kind of resource.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// 404 `no_route`.
    #[error("no route for this method and path")]
    NoRoute,
    /// 405 `method_not_allowed` + `Allow` (RFC 9110 §15.5.6): the path exists, with
    /// other methods (`allow`: them, comma-separated).
    #[error("this path does not take this method; see Allow")]
    MethodNotAllowed {
        /// The path's methods, as the `Allow` header lists them (`GET, PUT`).
        allow: String,
    },
    /// Taken, full or duplicate: a uniqueness or capacity condition of the store.
    #[error("{0}")]
    Conflict(StoreError),
    /// The state of a registration or event refuses the action.
    #[error("{0}")]
    Refused(Refusal),
    /// 400 `invalid_webhook`: a payment webhook that is unsigned, wrongly signed, stale or
    /// unreadable; nothing changed.
    #[error("{0}")]
    BadWebhook(WebhookError),
    /// 503 `payment_provider_unavailable` + `Retry-After`: the provider failed; the seat
    /// was not kept.
    #[error("the payment provider is unavailable; retry shortly")]
    PaymentProviderUnavailable,
    /// 503 `busy` + `Retry-After`: lost too many races for one event; retry.
    #[error("too many concurrent changes; retry shortly")]
    Busy,
    /// 503 `unavailable` + `Retry-After`: a service the request needs (the store, the bus,
    /// the blob store) failed or throttled past the SDK's own retries; the client retries
    /// the same request. Logged with its chain.
    #[error("a service this request needs is unavailable; retry shortly")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// 500 `internal`: logged with its chain; the client learns nothing more.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedBody(_)
            | Self::BadQuery(_)
            | Self::BadHeader(_)
            | Self::MalformedTicket => StatusCode::BAD_REQUEST,
            Self::Invalid(_)
            | Self::ForgedTicket
            | Self::WrongEvent
            | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RequestInProgress => StatusCode::CONFLICT,
            Self::Unauthenticated | Self::InvalidCredentials | Self::InvalidRefreshToken => {
                StatusCode::UNAUTHORIZED
            }
            Self::InvalidResetToken | Self::BadWebhook(_) => StatusCode::BAD_REQUEST,
            Self::TooManyAttempts { .. } | Self::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Forbidden | Self::CrossSite => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::NoRoute => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::Refused(_) => StatusCode::CONFLICT,
            Self::Busy | Self::PaymentProviderUnavailable | Self::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable and machine-readable: clients branch on this, never on `detail`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedBody(_) => "malformed_body",
            Self::BadQuery(_) => "invalid_query",
            Self::BadHeader(_) => "invalid_header",
            Self::MalformedTicket => "malformed_ticket",
            Self::ForgedTicket => "invalid_ticket",
            Self::WrongEvent => "wrong_event",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::RequestInProgress => "request_in_progress",
            Self::Invalid(_) => "validation_failed",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::InvalidResetToken => "invalid_reset_token",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::RateLimited { .. } => "rate_limited",
            Self::Forbidden => "forbidden",
            Self::CrossSite => "cross_site_request",
            Self::NotFound(_) => "not_found",
            Self::NoRoute => "no_route",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Conflict(conflict) => match conflict {
                StoreError::EmailTaken => "email_taken",
                StoreError::SlugTaken => "slug_taken",
                StoreError::EventFull => "event_full",
                StoreError::DuplicateRegistration => "duplicate_registration",
                _ => "conflict",
            },
            Self::Refused(refusal) => match refusal {
                Refusal::AlreadyCancelled => "already_cancelled",
                Refusal::AlreadyCheckedIn(_) => "already_checked_in",
                Refusal::Cancelled => "registration_cancelled",
                Refusal::NotConfirmed => "not_confirmed",
                Refusal::EventClosed => "event_closed",
                Refusal::EventEnded => "event_ended",
            },
            Self::BadWebhook(_) => "invalid_webhook",
            Self::PaymentProviderUnavailable => "payment_provider_unavailable",
            Self::Busy => "busy",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// A 503 caused by `error`, a dependency that failed or throttled.
    pub fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(error))
    }

    /// A 500 caused by `error`.
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(error))
    }

    /// The problem document as a response (`application/problem+json`), with
    /// `Retry-After` where the client should come back.
    pub fn to_response(&self) -> Response<Body> {
        self.respond("application/problem+json", self.problem().to_string())
    }

    /// The same problem as a page, for a browser (its `Accept` prefers `text/html`): the
    /// status's reason as the title and the detail as the text, with the same status and
    /// headers. Someone who mistypes an event's link reads a sentence, not JSON.
    pub fn to_page_response(&self) -> Response<Body> {
        let status = self.status();
        let page = super::html::error_page(
            status.canonical_reason().unwrap_or("Error"),
            &self.to_string(),
            self.retry_after().is_some(),
        );
        match page {
            Ok(page) => self.respond(super::html::HTML, page),
            Err(_) => self.to_response(),
        }
    }

    /// `Retry-After` in seconds, where the client should come back.
    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyAttempts { retry_after } | Self::RateLimited { retry_after } => {
                Some(*retry_after)
            }
            _ if self.status() == StatusCode::SERVICE_UNAVAILABLE
                || matches!(self, Self::RequestInProgress) =>
            {
                Some(1)
            }
            _ => None,
        }
    }

    /// A response of this error's status and headers with `body` as `content_type`.
    fn respond(&self, content_type: &str, body: String) -> Response<Body> {
        let status = self.status();
        if status.is_server_error() {
            // The chain is logged for operators; clients get no internals.
            tracing::error!(error = %error_chain(self), code = self.code(), "request failed");
        }
        let mut response = Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, content_type);
        if let Self::MethodNotAllowed { allow } = self {
            response = response.header(http::header::ALLOW, allow.as_str());
        }
        if let Some(seconds) = self.retry_after() {
            response = response.header(http::header::RETRY_AFTER, seconds.to_string());
        }
        response.body(Body::Text(body)).unwrap_or_default()
    }

    /// The RFC 9457 problem document.
    fn problem(&self) -> serde_json::Value {
        let status = self.status();
        let mut problem = json!({
            "type": format!("urn:evreg:problem:{}", self.code()),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "code": self.code(),
            "detail": self.to_string(),
        });
        if let Self::Invalid(errors) = self {
            problem["errors"] = json!(errors);
        }
        if let Self::Refused(Refusal::AlreadyCheckedIn(Some(at))) = self {
            // The door needs the first scan's time to tell a double entry from a mistake.
            problem["checked_in_at"] = json!(at
                .format(&time::format_description::well_known::Rfc3339)
                .ok());
        }
        problem
    }
}

/// `error` and its sources, outermost first, joined by ": " (a log line or an ADMIN's report
/// gets the whole cause, a problem document never does).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(error) => error.into(),
            ServiceError::NotFound(resource) => Self::NotFound(resource),
            ServiceError::Refused(refusal) => Self::Refused(refusal),
            ServiceError::CapacityBelowTaken { .. } => Self::Invalid(vec![FieldError {
                field: "max_capacity",
                message: error.to_string(),
            }]),
            ServiceError::InProgress => Self::RequestInProgress,
            ServiceError::Busy => Self::Busy,
            ServiceError::PaymentProviderUnavailable => Self::PaymentProviderUnavailable,
            ServiceError::Provider(error) => Self::unavailable(error),
            ServiceError::Store(error) => error.into(),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::Invalid(errors) => Self::Invalid(errors),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::EmailTaken
            | StoreError::SlugTaken
            | StoreError::EventFull
            | StoreError::DuplicateRegistration => Self::Conflict(error),
            StoreError::Refused(refusal) => Self::Refused(refusal),
            StoreError::RegistrationNotFound => Self::NotFound("registration"),
            // A draft or cancelled event is indistinguishable from a missing one to the public.
            StoreError::EventNotFound | StoreError::EventNotOpen => Self::NotFound("event"),
            StoreError::InvalidCursor => Self::BadQuery("cursor is not valid".into()),
            StoreError::SeatAvailable | StoreError::Contended => Self::Busy,
            // A throttle or outage that outlasted the SDK's retries: the client retries.
            StoreError::Unavailable(_) => Self::unavailable(error),
            StoreError::Corrupt(_) => Self::internal(error),
        }
    }
}

impl From<BusError> for ApiError {
    fn from(error: BusError) -> Self {
        Self::unavailable(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_error_keeps_the_status_and_headers_of_its_problem() {
        let limited = ApiError::RateLimited { retry_after: 7 };
        let page = limited.to_page_response();
        assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(page.headers()[http::header::RETRY_AFTER], "7");
        assert!(page.headers()[http::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let Body::Text(html) = page.body() else {
            panic!("a page")
        };
        assert!(html.contains("<title>Too Many Requests</title>"), "{html}");
        assert!(html.contains("Please try again in a moment."));
        let gone = ApiError::NotFound("event").to_page_response();
        let Body::Text(html) = gone.body() else {
            panic!("a page")
        };
        assert!(html.contains("<p>no such event</p>") && !html.contains("try again"));
        let allow = ApiError::MethodNotAllowed {
            allow: "GET".into(),
        };
        assert_eq!(
            allow.to_page_response().headers()[http::header::ALLOW],
            "GET"
        );
    }

    fn body(response: &Response<Body>) -> serde_json::Value {
        match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap(),
            other => panic!("unexpected body {other:?}"),
        }
    }

    #[test]
    fn a_conflict_is_a_409_problem_with_a_stable_code() {
        let response = ApiError::from(StoreError::EventFull).to_response();
        assert_eq!(response.status(), 409);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem = body(&response);
        assert_eq!(problem["code"], "event_full");
        assert_eq!(problem["type"], "urn:evreg:problem:event_full");
        assert_eq!(problem["status"], 409);
    }

    #[test]
    fn validation_problems_name_the_fields() {
        let error = ApiError::from(DomainError::Invalid(vec![FieldError {
            field: "email",
            message: "must be an email address".into(),
        }]));
        let problem = body(&error.to_response());
        assert_eq!(problem["status"], 422);
        assert_eq!(problem["errors"][0]["field"], "email");
    }

    #[test]
    fn internal_errors_do_not_leak_details() {
        let error = ApiError::from(StoreError::Corrupt("secret table name".into()));
        let problem = body(&error.to_response());
        assert_eq!(problem["status"], 500);
        assert!(!problem.to_string().contains("secret table name"));
    }

    #[test]
    fn an_unavailable_store_is_a_503_to_retry_that_leaks_nothing() {
        let error = ApiError::from(StoreError::Unavailable("ThrottlingException on t1".into()));
        let response = error.to_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "1");
        let problem = body(&response);
        assert_eq!(problem["code"], "unavailable");
        assert!(!problem.to_string().contains("t1"));
        let bus = ApiError::from(BusError("SNS throttled".into()));
        assert_eq!(bus.status(), 503);
    }

    #[test]
    fn busy_is_a_503_that_says_when_to_retry() {
        let response = ApiError::from(StoreError::SeatAvailable).to_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "1");
        assert_eq!(body(&response)["code"], "busy");
    }

    #[test]
    fn hidden_events_look_missing() {
        assert_eq!(ApiError::from(StoreError::EventNotOpen).status(), 404);
    }
}
