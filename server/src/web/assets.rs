//! The website widget's files, built by `server/build.rs` and compiled into
//! the binary: one server to deploy, and the widget always matches the
//! protocol of the server that serves it.
//!
//! Each file is stored raw and pre-compressed with gzip and brotli; a request
//! gets the smallest encoding it accepts. Files named by content hash are
//! cacheable forever; the loader (`/widget/sdk.js`, a fixed URL pasted into
//! host pages) is cached for five minutes so a new release reaches sites
//! quickly; the chat window's page is revalidated every time.

use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One embedded file.
#[derive(Debug)]
pub(crate) struct Asset {
    pub route: &'static str,
    pub content_type: &'static str,
    /// Named by content hash: never changes.
    pub immutable: bool,
    pub etag: &'static str,
    pub raw: &'static [u8],
    pub gzip: &'static [u8],
    pub brotli: &'static [u8],
}

/// Every embedded file, in the order the build script wrote them.
pub(crate) static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The embedded file served at `route`.
pub(crate) fn find(route: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.route == route)
}

/// How long the loader may be cached, in seconds.
const LOADER_MAX_AGE: u32 = 300;

impl Asset {
    fn cache_control(&self) -> String {
        if self.immutable {
            "public, max-age=31536000, immutable".to_string()
        } else if self.content_type.starts_with("text/html") {
            "no-cache".to_string()
        } else {
            format!("public, max-age={LOADER_MAX_AGE}")
        }
    }

    /// The response for a request with these headers: `304` when the
    /// client's copy is current, else the body in the best encoding it takes.
    pub(crate) fn respond(&self, request: &HeaderMap) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        headers.insert(ETAG, HeaderValue::from_static(self.etag));
        headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
        if let Ok(value) = HeaderValue::from_str(&self.cache_control()) {
            headers.insert(CACHE_CONTROL, value);
        }
        headers.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        let current = request
            .get(IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|tags| {
                tags.split(',')
                    .any(|t| t.trim() == self.etag || t.trim() == "*")
            });
        if current {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        let (encoding, body) = match accepted(request) {
            Encoding::Brotli => (Some("br"), self.brotli),
            Encoding::Gzip => (Some("gzip"), self.gzip),
            Encoding::Identity => (None, self.raw),
        };
        // A tiny file can grow when compressed.
        let (encoding, body) = if body.len() < self.raw.len() {
            (encoding, body)
        } else {
            (None, self.raw)
        };
        if let Some(encoding) = encoding {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        (headers, body).into_response()
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// The best encoding `Accept-Encoding` allows (an encoding given `q=0` is
/// refused).
fn accepted(request: &HeaderMap) -> Encoding {
    let Some(value) = request.get(ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return Encoding::Identity;
    };
    let allows = |name: &str| {
        value.split(',').any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            coding.eq_ignore_ascii_case(name) && !refused
        })
    };
    if allows("br") {
        Encoding::Brotli
    } else if allows("gzip") {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// Logs what the widget weighs, once at start-up.
pub(crate) fn log_sizes() {
    for a in ASSETS {
        tracing::debug!(
            route = a.route,
            raw = a.raw.len(),
            gzip = a.gzip.len(),
            brotli = a.brotli.len(),
            "widget asset"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT_ENCODING, HeaderValue::from_str(accept).unwrap());
        h
    }

    #[test]
    fn encodings_are_negotiated() {
        assert_eq!(accepted(&with("gzip, deflate, br")), Encoding::Brotli);
        assert_eq!(accepted(&with("gzip")), Encoding::Gzip);
        assert_eq!(accepted(&with("br;q=0, gzip;q=0.5")), Encoding::Gzip);
        assert_eq!(accepted(&with("identity")), Encoding::Identity);
        assert_eq!(accepted(&HeaderMap::new()), Encoding::Identity);
    }

    #[test]
    fn the_build_embedded_the_widget() {
        for route in ["/widget/sdk.js", "/widget/frame"] {
            let asset = find(route).unwrap_or_else(|| panic!("{route} is embedded"));
            assert!(!asset.raw.is_empty());
        }
        let wasm = ASSETS
            .iter()
            .find(|a| a.content_type == "application/wasm")
            .expect("the wasm is embedded");
        assert!(wasm.raw.starts_with(b"\0asm"), "a real wasm module");
        assert!(wasm.gzip.len() < wasm.raw.len());
    }
}
