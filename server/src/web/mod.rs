//! What browsers load besides the API: the website widget (its loader, the
//! chat window's page and their assets), the agent console at `/app`, and,
//! with `--demo`, an example host page that embeds the widget.

pub mod assets;

use axum::extract::{Query, State};
use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::api::error::ApiError;
use crate::api::AppState;

/// The example host page, with `{{website_token}}` to fill in.
const DEMO_PAGE: &str = include_str!("../../../examples/demo.html");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/widget/sdk.js", get(loader))
        .route("/widget/frame", get(frame))
        .route("/widget/assets/{file}", get(asset))
        // `/app/` arrives as `/app`: a trailing slash is trimmed first.
        .route("/app", get(console))
        .route("/app/assets/{file}", get(console_asset))
        // The console routes in the browser: every other path is its page.
        .route("/app/{*path}", get(console))
        .route("/demo", get(demo))
        .route("/", get(home))
}

fn embedded(route: &str, headers: &HeaderMap) -> Response {
    match assets::find(route) {
        Some(asset) => asset.respond(headers),
        None => ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such file").into_response(),
    }
}

async fn loader(headers: HeaderMap) -> Response {
    embedded("/widget/sdk.js", &headers)
}

async fn asset(
    axum::extract::Path(file): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    embedded(&format!("/widget/assets/{file}"), &headers)
}

async fn console_asset(
    axum::extract::Path(file): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    embedded(&format!("/app/assets/{file}"), &headers)
}

/// The agent console's page. It runs only our own scripts and is never
/// framed by another site.
async fn console(headers: HeaderMap) -> Response {
    let mut response = embedded("/app", &headers);
    response.headers_mut().insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
             img-src * data: blob:; connect-src 'self'; media-src 'self' data:; \
             base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    response
}

#[derive(Debug, Deserialize)]
pub struct FrameQuery {
    #[serde(default)]
    website_token: Option<String>,
}

/// The chat window's page, framed by the loader on the host page. Its
/// Content-Security-Policy lets it run only our own scripts and lets only
/// the inbox's website (and this server, for the demo) frame it.
async fn frame(
    State(state): State<AppState>,
    Query(query): Query<FrameQuery>,
    headers: HeaderMap,
) -> Response {
    // An unknown token still gets the page: the widget then tells the
    // visitor politely that this chat is not available.
    let site = match query.website_token.as_deref().map(str::trim) {
        Some(token) if !token.is_empty() => state
            .store
            .inbox_by_website_token(token)
            .await
            .ok()
            .and_then(|inbox| inbox.settings.website_url)
            .and_then(|url| crate::realtime::widget::origin_of(&url)),
        _ => None,
    };
    let ancestors = match site {
        Some(origin) => format!("'self' {origin}"),
        None => "*".to_string(),
    };
    let policy = format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src * data: blob:; media-src 'self'; connect-src 'self'; base-uri 'none'; \
         form-action 'none'; frame-ancestors {ancestors}"
    );
    let mut response = embedded("/widget/frame", &headers);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// The example host page (`examples/demo.html`), embedding the demo inbox's
/// widget. Only with `--demo`.
async fn demo(State(state): State<AppState>) -> Response {
    match state.demo_website_token.as_deref() {
        Some(token) => {
            let page = DEMO_PAGE.replace("{{website_token}}", token);
            let mut response = Html(page).into_response();
            response
                .headers_mut()
                .insert("cache-control", HeaderValue::from_static("no-cache"));
            response
        }
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "The demo page exists only when the server runs with --demo",
        )
        .into_response(),
    }
}

/// With `--demo` the root opens the demo; otherwise it says what runs here.
async fn home(State(state): State<AppState>) -> Response {
    if state.demo_website_token.is_some() {
        return Redirect::temporary("/demo").into_response();
    }
    axum::Json(serde_json::json!({
        "name": "switchboard",
        "api": "/api/v1",
        "widget": "/widget/sdk.js",
    }))
    .into_response()
}
