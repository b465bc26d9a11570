//! The DOM helpers both apps call. Every browser call that can fail is
//! taken as an `Option` and the failure skipped: the apps are built with
//! `panic = "abort"`, where a panic would kill the page's chat, so none may
//! be reachable.
//!
//! The setters compare before they write, so redrawing a part that did not
//! change costs no layout and repeats nothing to a screen reader's live
//! region. Listeners and timers free their closures when they are done, or
//! live as long as the page: the apps never leak one per redraw.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Event, EventTarget, HtmlElement, Storage, Window};

pub fn window() -> Option<Window> {
    web_sys::window()
}

pub fn document() -> Option<Document> {
    window()?.document()
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A number in `0..1`, for jitter and ids.
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// Sets the text only when it differs.
pub fn set_text(e: &Element, text: &str) {
    if e.text_content().as_deref() != Some(text) {
        e.set_text_content(Some(text));
    }
}

/// Sets an attribute when it differs; a failure (an invalid name) is ours
/// and skipped.
pub fn set_attr(e: &Element, name: &str, value: &str) {
    if e.get_attribute(name).as_deref() != Some(value) {
        let _ = e.set_attribute(name, value);
    }
}

pub fn set_hidden(e: &Element, hidden: bool) {
    if e.has_attribute("hidden") != hidden {
        let _ = e.toggle_attribute_with_force("hidden", hidden);
    }
}

pub fn html(e: &Element) -> Option<HtmlElement> {
    e.clone().dyn_into::<HtmlElement>().ok()
}

/// Listens for the page's whole life: for listeners set up once (on the
/// document, the window, a root element), never per redrawn element.
pub fn listen(target: &EventTarget, kind: &str, f: impl FnMut(Event) + 'static) {
    let closure = Closure::<dyn FnMut(Event)>::new(f);
    if target
        .add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref())
        .is_ok()
    {
        closure.forget();
    }
}

/// Runs `f` once after `ms` (the closure is freed once it has run).
pub fn later(ms: u32, f: impl FnOnce() + 'static) {
    let Some(w) = window() else { return };
    let closure = Closure::once_into_js(f);
    let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
        closure.unchecked_ref(),
        i32::try_from(ms).unwrap_or(i32::MAX),
    );
}

/// Runs `f` every `ms` for the page's whole life.
pub fn every(ms: i32, f: impl FnMut() + 'static) {
    let Some(w) = window() else { return };
    let closure = Closure::<dyn FnMut()>::new(f);
    if w.set_interval_with_callback_and_timeout_and_arguments_0(
        closure.as_ref().unchecked_ref(),
        ms,
    )
    .is_ok()
    {
        closure.forget();
    }
}

/// `localStorage`, when the browser lets us have it: it may not (blocked
/// third-party storage in the widget's frame throws).
fn storage() -> Option<Storage> {
    window()?.local_storage().ok().flatten()
}

/// The value kept under `key`, if storage is there and has one.
pub fn stored(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

/// Keeps `value` under `key` (`None` removes it); skipped without storage.
pub fn store(key: &str, value: Option<&str>) {
    if let Some(s) = storage() {
        let _ = match value {
            Some(v) => s.set_item(key, v),
            None => s.remove_item(key),
        };
    }
}
