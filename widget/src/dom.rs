//! DOM helpers: the ones the agent console uses too come from
//! `switchboard-browser` (re-exported here, so the widget reaches every
//! helper as `dom::...`); these are the widget's own. As there, every
//! browser call that can fail is taken as an `Option` and the failure
//! skipped: with `panic = "abort"` a panic would kill the widget.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, EventTarget};

pub(crate) use switchboard_browser::dom::*;

/// A new element with a class (empty: none).
pub(crate) fn el(tag: &str, class: &str) -> Option<Element> {
    let e = document()?.create_element(tag).ok()?;
    if !class.is_empty() {
        e.set_class_name(class);
    }
    Some(e)
}

/// `el` appended to `parent`.
pub(crate) fn child(parent: &Element, tag: &str, class: &str) -> Option<Element> {
    let e = el(tag, class)?;
    parent.append_child(&e).ok()?;
    Some(e)
}

/// Sets a CSS custom property through the CSSOM (allowed by the frame's
/// `style-src 'self'`, unlike a `style` attribute).
pub(crate) fn css_var(e: &Element, name: &str, value: &str) {
    if let Some(h) = html(e) {
        let _ = h.style().set_property(name, value);
    }
}

/// Like [`listen`], in the capture phase (for events that do not bubble,
/// such as an image's `error`).
pub(crate) fn listen_capture(target: &EventTarget, kind: &str, f: impl FnMut(Event) + 'static) {
    let closure = Closure::<dyn FnMut(Event)>::new(f);
    if target
        .add_event_listener_with_callback_and_bool(kind, closure.as_ref().unchecked_ref(), true)
        .is_ok()
    {
        closure.forget();
    }
}

/// The visitor token, in `localStorage` when the browser lets us (it may
/// not: blocked third-party storage throws), and always in memory.
#[derive(Debug)]
pub(crate) struct TokenStore {
    key: String,
    memory: Option<String>,
}

impl TokenStore {
    pub(crate) fn new(key: String) -> TokenStore {
        let memory = stored(&key);
        TokenStore {
            key,
            memory: memory.filter(|t| !t.trim().is_empty()),
        }
    }

    pub(crate) fn get(&self) -> Option<String> {
        self.memory.clone()
    }

    pub(crate) fn set(&mut self, token: Option<String>) {
        store(&self.key, token.as_deref());
        self.memory = token;
    }
}
