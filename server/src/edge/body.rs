//! The request body read timeout. A body that stalls (no bytes for
//! [`super::EdgeConfig::body_read_timeout`]) fails inside whichever
//! extractor reads it, which would answer its own 400; the edge notices the
//! timeout and answers `408 request_timeout` instead, closing the connection
//! (the rest of the body is never read).
//!
//! The clock runs between pieces of the body, not over all of it (tower-http's
//! `TimeoutBody`, like nginx's `client_body_timeout`): a large upload on a
//! slow link keeps going as long as it keeps moving.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tower_http::timeout::{TimeoutBody, TimeoutError};

use crate::http::error::ApiError;

/// Set when a request's body stalled past the timeout.
#[derive(Debug, Clone, Default)]
pub(super) struct Stalled(Arc<AtomicBool>);

impl Stalled {
    pub(super) fn happened(&self) -> bool {
        self.0.load(Relaxed)
    }
}

/// `body`, failing once it stalls for `within`, with what tells it did.
pub(super) fn limit(body: Incoming, within: Duration) -> (Body, Stalled) {
    let stalled = Stalled::default();
    let flag = stalled.clone();
    let body = TimeoutBody::new(within, body).map_err(move |err| {
        if err.is::<TimeoutError>() {
            flag.0.store(true, Relaxed);
        }
        err
    });
    (Body::new(body), stalled)
}

/// The answer to a request whose body stalled.
pub(super) fn stalled_answer(within: Duration) -> Response {
    let mut response = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        format!("The request body stalled for {within:?}; send it again."),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
