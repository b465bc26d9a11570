//! What browsers load besides the API: the website widget (its loader, the
//! chat window's page and their assets), the agent console at `/app`, and,
//! with `--demo`, an example host page that embeds the widget.

pub(crate) mod assets;

use axum::extract::{Query, State};
use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::http::error::ApiError;
use crate::http::AppState;

/// The example host page, with `{{website_token}}` to fill in, in English
/// and in Brazilian Portuguese.
const DEMO_PAGE: &str = include_str!("../../../examples/demo.html");
const DEMO_PAGE_PT_BR: &str = include_str!("../../../examples/demo.pt-BR.html");

pub(crate) fn routes() -> Router<AppState> {
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
pub(crate) struct FrameQuery {
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
/// widget. Only with `--demo`. It speaks the inbox's language, as its
/// widget does; an inbox that follows each visitor's browser gets the page
/// in the language the browser asks for.
async fn demo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match state.config.demo_website_token.as_deref() {
        Some(token) => {
            // An inbox that can't be read (deleted, the store down) still
            // gets the page; its widget says what is wrong.
            let inbox_locale = state
                .store
                .inbox_by_website_token(token)
                .await
                .ok()
                .and_then(|i| i.settings.locale);
            let accept = headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok());
            let template = if portuguese(inbox_locale.as_deref(), accept) {
                DEMO_PAGE_PT_BR
            } else {
                DEMO_PAGE
            };
            let page = template.replace("{{website_token}}", token);
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

/// Whether the demo page is shown in Portuguese: the inbox's language when
/// set, else the browser's first choice among the two the page is written
/// in (`Accept-Language`, by weight).
fn portuguese(inbox_locale: Option<&str>, accept_language: Option<&str>) -> bool {
    if let Some(locale) = inbox_locale {
        return locale == "pt-BR";
    }
    let mut best: Option<(f32, bool)> = None;
    for part in accept_language.unwrap_or_default().split(',') {
        let mut pieces = part.split(';');
        let tag = pieces
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let weight = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let pt = tag == "pt" || tag.starts_with("pt-");
        let en = tag == "en" || tag.starts_with("en-");
        if (pt || en) && weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
            best = Some((weight, pt));
        }
    }
    best.is_some_and(|(_, pt)| pt)
}

/// With `--demo` the root opens the demo; otherwise it says what runs here.
async fn home(State(state): State<AppState>) -> Response {
    if state.config.demo_website_token.is_some() {
        return Redirect::temporary("/demo").into_response();
    }
    axum::Json(serde_json::json!({
        "name": "switchboard",
        "api": "/api/v1",
        "widget": "/widget/sdk.js",
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::portuguese;

    #[test]
    fn the_demo_page_speaks_the_inbox_language_else_the_browser_s() {
        assert!(portuguese(Some("pt-BR"), Some("en-US")));
        assert!(!portuguese(Some("en"), Some("pt-BR")));
        assert!(portuguese(None, Some("pt-BR,pt;q=0.9,en;q=0.8")));
        assert!(!portuguese(None, Some("en-US,en;q=0.9,pt-BR;q=0.5")));
        assert!(portuguese(None, Some("fr-FR, pt;q=0.7, en;q=0.3")));
        assert!(!portuguese(None, Some("pt;q=0")));
        assert!(!portuguese(None, None));
        assert!(!portuguese(None, Some("garbage;;q=x,")));
    }
}
