//! Small DOM helpers. Every browser call that can fail is taken as an
//! `Option` and the failure skipped: with `panic = "abort"` a panic would
//! kill the widget, so none may be reachable.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Event, EventTarget, HtmlElement, Storage, Window};

pub fn window() -> Option<Window> {
    web_sys::window()
}

pub fn document() -> Option<Document> {
    window()?.document()
}

pub fn now() -> f64 {
    js_sys::Date::now()
}

pub fn random() -> f64 {
    js_sys::Math::random()
}

/// A new element with a class (empty: none).
pub fn el(tag: &str, class: &str) -> Option<Element> {
    let e = document()?.create_element(tag).ok()?;
    if !class.is_empty() {
        e.set_class_name(class);
    }
    Some(e)
}

/// `el` appended to `parent`.
pub fn child(parent: &Element, tag: &str, class: &str) -> Option<Element> {
    let e = el(tag, class)?;
    parent.append_child(&e).ok()?;
    Some(e)
}

/// Sets an attribute; a failure (invalid name) is ours and skipped.
pub fn attr(e: &Element, name: &str, value: &str) {
    if e.get_attribute(name).as_deref() != Some(value) {
        let _ = e.set_attribute(name, value);
    }
}

/// Sets the text only when it differs, so live regions do not repeat it.
pub fn text(e: &Element, value: &str) {
    if e.text_content().as_deref() != Some(value) {
        e.set_text_content(Some(value));
    }
}

pub fn hide(e: &Element, hidden: bool) {
    if e.has_attribute("hidden") != hidden {
        let _ = e.toggle_attribute_with_force("hidden", hidden);
    }
}

pub fn html(e: &Element) -> Option<HtmlElement> {
    e.clone().dyn_into::<HtmlElement>().ok()
}

/// Sets a CSS custom property through the CSSOM (allowed by the frame's
/// `style-src 'self'`, unlike a `style` attribute).
pub fn css_var(e: &Element, name: &str, value: &str) {
    if let Some(h) = html(e) {
        let _ = h.style().set_property(name, value);
    }
}

/// Listens for good: the widget's listeners live as long as the page.
pub fn listen(target: &EventTarget, kind: &str, f: impl FnMut(Event) + 'static) {
    let closure = Closure::<dyn FnMut(Event)>::new(f);
    if target
        .add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref())
        .is_ok()
    {
        closure.forget();
    }
}

/// Like [`listen`], in the capture phase (for events that do not bubble,
/// such as an image's `error`).
pub fn listen_capture(target: &EventTarget, kind: &str, f: impl FnMut(Event) + 'static) {
    let closure = Closure::<dyn FnMut(Event)>::new(f);
    if target
        .add_event_listener_with_callback_and_bool(kind, closure.as_ref().unchecked_ref(), true)
        .is_ok()
    {
        closure.forget();
    }
}

/// Runs `f` once after `ms`.
pub fn later(ms: u32, f: impl FnOnce() + 'static) {
    let Some(w) = window() else { return };
    let closure = Closure::once_into_js(f);
    let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
        closure.unchecked_ref(),
        i32::try_from(ms).unwrap_or(i32::MAX),
    );
}

/// Runs `f` every `ms`, for good.
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

/// The visitor token, in `localStorage` when the browser lets us (it may
/// not: blocked third-party storage throws), and always in memory.
#[derive(Debug)]
pub struct TokenStore {
    key: String,
    memory: Option<String>,
}

impl TokenStore {
    pub fn new(key: String) -> TokenStore {
        let memory = storage().and_then(|s| s.get_item(&key).ok().flatten());
        TokenStore {
            key,
            memory: memory.filter(|t| !t.trim().is_empty()),
        }
    }

    pub fn get(&self) -> Option<String> {
        self.memory.clone()
    }

    pub fn set(&mut self, token: Option<String>) {
        if let Some(s) = storage() {
            let _ = match &token {
                Some(t) => s.set_item(&self.key, t),
                None => s.remove_item(&self.key),
            };
        }
        self.memory = token;
    }
}

fn storage() -> Option<Storage> {
    window()?.local_storage().ok().flatten()
}
