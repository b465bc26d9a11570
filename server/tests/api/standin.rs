//! A local stand-in for an outside HTTP service (a webhook receiver, Meta's
//! Graph API): records every request and answers from a script.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::net::TcpListener;

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
    /// The status the stand-in answered with.
    pub answered: u16,
}

impl Recorded {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// An answer: status, extra headers, body.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub(crate) fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: "{}".into(),
        }
    }

    pub(crate) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    /// Answers for the next requests, in order; then `default`.
    script: VecDeque<Reply>,
    default: Option<Reply>,
    /// Answers wait while this is set (a slow or hung receiver).
    held: bool,
    in_flight: usize,
    max_in_flight: usize,
}

#[derive(Clone)]
pub(crate) struct StandIn {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl StandIn {
    /// Listens on a loopback port; answers 200 `{}` unless told otherwise.
    pub(crate) async fn start() -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let shared = inner.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let shared = shared.clone();
                async move {
                    let response = record(&shared, method, uri, headers, body);
                    while shared.lock().unwrap_or_else(|e| e.into_inner()).held {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    shared.lock().unwrap_or_else(|e| e.into_inner()).in_flight -= 1;
                    response
                }
            },
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandIn { url, inner }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers the next request with `reply` (queued after earlier ones).
    pub(crate) fn then(&self, reply: Reply) -> &Self {
        self.lock().script.push_back(reply);
        self
    }

    /// Answers every unscripted request with `reply`.
    pub(crate) fn always(&self, reply: Reply) {
        self.lock().default = Some(reply);
    }

    /// Holds every answer until [`StandIn::release`].
    pub(crate) fn hold(&self) {
        self.lock().held = true;
    }

    pub(crate) fn release(&self) {
        self.lock().held = false;
    }

    /// The most requests it was answering at once.
    pub(crate) fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Waits until `pred` holds for the recorded requests (at most 20 s).
    pub(crate) async fn wait_until(
        &self,
        what: &str,
        pred: impl Fn(&[Recorded]) -> bool,
    ) -> Vec<Recorded> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let seen = self.requests();
            if pred(&seen) {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "stand-in never saw {what}; it saw {} requests: {:#?}",
                seen.len(),
                seen.iter()
                    .map(|r| (
                        r.path.clone(),
                        r.answered,
                        String::from_utf8_lossy(&r.body)
                            .chars()
                            .take(200)
                            .collect::<String>()
                    ))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn record(
    inner: &Mutex<Inner>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
    inner.in_flight += 1;
    inner.max_in_flight = inner.max_in_flight.max(inner.in_flight);
    let reply = inner
        .script
        .pop_front()
        .or_else(|| inner.default.clone())
        .unwrap_or_else(|| Reply::status(200));
    inner.requests.push(Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: body.to_vec(),
        at: Instant::now(),
        answered: reply.status,
    });
    let mut response = (
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK),
        reply.body,
    )
        .into_response();
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
