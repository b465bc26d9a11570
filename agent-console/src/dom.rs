//! The in-house view layer: an element builder and a few DOM helpers. The
//! helpers the widget uses too come from `switchboard-browser`, re-exported
//! here so every one is reached as `dom::...`.
//!
//! Every browser call that can fail is taken as an `Option` and skipped on
//! failure: the wasm is built with `panic = "abort"`, so no panic may be
//! reachable. Elements carry no listeners of their own: they name their
//! action in `data-act` and the few listeners on the root turn events into
//! messages (see `actions.rs`), so rows can be rebuilt freely without
//! leaking closures.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};

pub(crate) use switchboard_browser::dom::*;

pub(crate) fn by_id(id: &str) -> Option<Element> {
    document()?.get_element_by_id(id)
}

/// Unix seconds, as the API's times.
pub(crate) fn now_s() -> i64 {
    (now_ms() / 1000.0) as i64
}

/// Minutes east of UTC of the browser's zone.
pub(crate) fn tz_offset_minutes() -> i64 {
    -(js_sys::Date::new_0().get_timezone_offset() as i64)
}

/// An element under construction.
pub(crate) struct H(Element);

/// A new element; `None` only if the browser has no document.
pub(crate) fn h(tag: &str) -> Option<H> {
    document()?.create_element(tag).ok().map(H)
}

impl H {
    pub(crate) fn id(self, id: &str) -> H {
        self.0.set_id(id);
        self
    }

    /// Adds classes (space separated).
    pub(crate) fn class(self, classes: &str) -> H {
        for c in classes.split_whitespace() {
            let _ = self.0.class_list().add_1(c);
        }
        self
    }

    /// Adds `class` when `on`.
    pub(crate) fn class_if(self, class: &str, on: bool) -> H {
        if on {
            self.class(class)
        } else {
            self
        }
    }

    pub(crate) fn attr(self, name: &str, value: &str) -> H {
        let _ = self.0.set_attribute(name, value);
        self
    }

    /// Sets a boolean attribute (`hidden`, `disabled`, `selected`...) when `on`.
    pub(crate) fn flag(self, name: &str, on: bool) -> H {
        if on {
            let _ = self.0.set_attribute(name, "");
        }
        self
    }

    /// The action the root listeners dispatch for this element.
    pub(crate) fn act(self, action: &str) -> H {
        self.attr("data-act", action)
    }

    pub(crate) fn data(self, key: &str, value: &str) -> H {
        self.attr(&format!("data-{key}"), value)
    }

    pub(crate) fn text(self, text: &str) -> H {
        self.0.set_text_content(Some(text));
        self
    }

    /// Appends a child (an `Option` so `h(..)` can be passed directly).
    pub(crate) fn child(self, child: impl Into<Option<H>>) -> H {
        if let Some(c) = child.into() {
            let _ = self.0.append_child(&c.0);
        }
        self
    }

    pub(crate) fn children(self, children: impl IntoIterator<Item = Option<H>>) -> H {
        for c in children.into_iter().flatten() {
            let _ = self.0.append_child(&c.0);
        }
        self
    }

    /// The current value of an input, textarea or select.
    pub(crate) fn value(self, value: &str) -> H {
        set_value(&self.0, value);
        self
    }

    pub(crate) fn el(self) -> Element {
        self.0
    }

    pub(crate) fn el_ref(&self) -> &Element {
        &self.0
    }
}

/// A label wrapping a caption and a control, the forms' building block.
pub(crate) fn field(caption: &str, control: Option<H>) -> Option<H> {
    Some(
        h("label")?
            .class("field")
            .child(h("span")?.class("caption").text(caption))
            .child(control),
    )
}

/// `<option value=..>text</option>`, selected when `selected`.
pub(crate) fn option(value: &str, text: &str, selected: bool) -> Option<H> {
    Some(
        h("option")?
            .attr("value", value)
            .text(text)
            .flag("selected", selected),
    )
}

pub(crate) fn append(parent: &Element, child: Option<H>) {
    if let Some(c) = child {
        let _ = parent.append_child(&c.0);
    }
}

/// Replaces all children of `parent`.
pub(crate) fn replace_children(parent: &Element, children: impl IntoIterator<Item = Option<H>>) {
    parent.set_text_content(None);
    for c in children {
        append(parent, c);
    }
}

pub(crate) fn toggle_class(e: &Element, class: &str, on: bool) {
    let _ = e.class_list().toggle_with_force(class, on);
}

pub(crate) fn set_disabled(e: &Element, disabled: bool) {
    if e.has_attribute("disabled") != disabled {
        let _ = e.toggle_attribute_with_force("disabled", disabled);
    }
}

/// The value of an input, textarea or select ("" for anything else).
pub(crate) fn value(e: &Element) -> String {
    if let Some(i) = e.dyn_ref::<HtmlInputElement>() {
        i.value()
    } else if let Some(t) = e.dyn_ref::<HtmlTextAreaElement>() {
        t.value()
    } else if let Some(s) = e.dyn_ref::<HtmlSelectElement>() {
        s.value()
    } else {
        String::new()
    }
}

pub(crate) fn set_value(e: &Element, value: &str) {
    if let Some(i) = e.dyn_ref::<HtmlInputElement>() {
        i.set_value(value);
    } else if let Some(t) = e.dyn_ref::<HtmlTextAreaElement>() {
        t.set_value(value);
    } else if let Some(s) = e.dyn_ref::<HtmlSelectElement>() {
        s.set_value(value);
    }
}

/// The value of the element with this id.
pub(crate) fn value_of(id: &str) -> String {
    by_id(id).map(|e| value(&e)).unwrap_or_default()
}

pub(crate) fn checked_of(id: &str) -> bool {
    by_id(id)
        .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
        .is_some_and(|i| i.checked())
}

pub(crate) fn focus(e: &Element) {
    if let Some(h) = html(e) {
        let _ = h.focus();
    }
}

/// Puts `text` on the clipboard where the browser allows it.
/// `navigator.clipboard` is missing outside secure contexts: calling it
/// there would throw, so it is looked up first.
pub(crate) fn copy_to_clipboard(text: &str) {
    let clipboard = window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &"clipboard".into()).ok())
        .filter(|c| !c.is_undefined() && !c.is_null());
    if let Some(c) = clipboard {
        let _ = c.unchecked_into::<web_sys::Clipboard>().write_text(text);
    }
}

/// Focuses and selects the text of an input or textarea, so Ctrl+C works
/// where the clipboard API does not.
pub(crate) fn select(e: &Element) {
    focus(e);
    if let Some(i) = e.dyn_ref::<HtmlInputElement>() {
        i.select();
    } else if let Some(t) = e.dyn_ref::<HtmlTextAreaElement>() {
        t.select();
    }
}
