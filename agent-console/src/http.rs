//! Same-origin JSON requests with `fetch`. A request never panics: every
//! failure (no network, a non-2xx answer, a body we cannot read) becomes a
//! [`Failure`] carrying the server's own sentence when it sent one.

use serde::de::DeserializeOwned;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

use crate::forms::Failure;

/// The header the API reads the token from (Chatwoot's name).
const TOKEN_HEADER: &str = "api_access_token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// What a request carries.
pub(crate) enum Body {
    Json(Value),
    /// `multipart/form-data` (files): the browser writes the boundary.
    Form(web_sys::FormData),
}

/// Sends one request and decodes a 2xx answer as `T`.
pub(crate) async fn request<T: DeserializeOwned>(
    method: Method,
    path: String,
    token: Option<String>,
    body: Option<Body>,
) -> Result<T, Failure> {
    let text = send(method, &path, token.as_deref(), body.as_ref()).await?;
    let text = if text.trim().is_empty() {
        "null"
    } else {
        &text
    };
    serde_json::from_str(text).map_err(|_| Failure::status(200))
}

async fn send(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Body>,
) -> Result<String, Failure> {
    let network = |_: JsValue| Failure::network();
    let window = web_sys::window().ok_or_else(Failure::network)?;
    let headers = Headers::new().map_err(network)?;
    headers.set("Accept", "application/json").map_err(network)?;
    if let Some(token) = token {
        headers.set(TOKEN_HEADER, token).map_err(network)?;
    }
    let init = RequestInit::new();
    init.set_method(method.as_str());
    match body {
        Some(Body::Json(body)) => {
            headers
                .set("Content-Type", "application/json")
                .map_err(network)?;
            init.set_body(&JsValue::from_str(&body.to_string()));
        }
        Some(Body::Form(form)) => init.set_body(form),
        None => {}
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(path, &init).map_err(network)?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(network)?
        .dyn_into()
        .map_err(|_| Failure::network())?;
    let status = response.status();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    if (200..300).contains(&status) {
        Ok(text)
    } else {
        Err(Failure::from_response(status, &text))
    }
}
