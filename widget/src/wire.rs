//! Event listeners of the frame: each tells the app what the visitor or
//! the host page did. Listeners are attached once and live with the page.

use wasm_bindgen::JsCast;
use web_sys::{Element, Event, KeyboardEvent};

use crate::app::{on_host_message, on_image_error, on_key, with_app, with_view};
use crate::dom::{self, listen, listen_capture, now_ms};

/// Whether to start loading older messages: near the top of the list.
const NEAR_TOP_PX: i32 = 48;

pub(crate) fn wire() {
    let Some(window) = dom::window() else { return };
    listen(&window, "message", on_host_message);
    listen(&window, "online", |_| {
        with_app(|a| a.session.network_online())
    });
    if let Some(doc) = dom::document() {
        listen(&doc, "keydown", on_key);
    }
    with_app(|app| {
        let v = &app.view;
        listen(v.close_button(), "click", |_| with_app(|a| a.ask_close()));
        listen(&v.composer, "submit", |e: Event| {
            e.prevent_default();
            with_app(|a| a.submit());
        });
        listen(&v.input, "keydown", |e: Event| {
            let Ok(key) = e.dyn_into::<KeyboardEvent>() else {
                return;
            };
            // Enter sends, Shift+Enter is a new line; Enter that confirms
            // an input method's composition is not a send.
            if key.key() == "Enter" && !key.shift_key() && !key.is_composing() {
                key.prevent_default();
                with_app(|a| a.submit());
            }
        });
        listen(&v.input, "input", |_| {
            with_app(|a| {
                let bottom = a.view.at_bottom();
                a.view.fit_input();
                if bottom {
                    a.view.scroll_to_bottom();
                }
                let has_text = !a.view.input.value().trim().is_empty();
                a.session.input(has_text, now_ms());
            })
        });
        listen(&v.list, "click", |e: Event| {
            let retry = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|t| t.closest(".sb-retry").ok().flatten())
                .and_then(|b| b.get_attribute("data-uid"))
                .and_then(|uid| uid.parse::<u32>().ok());
            if let Some(uid) = retry {
                with_app(|a| a.session.retry(uid));
            }
        });
        listen_capture(&v.list, "error", on_image_error);
        // Pictures and players take their size late (these do not bubble).
        for kind in ["load", "loadedmetadata"] {
            listen_capture(&v.list, kind, |_| with_view(|a| a.view.media_loaded()));
        }
        listen(&v.scroller, "scroll", |e: Event| {
            with_view(|a| a.view.scrolled());
            let near_top = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .is_some_and(|s| s.scroll_top() < NEAR_TOP_PX);
            if near_top {
                with_app(|a| a.session.load_older());
            }
        });
        listen(&v.attach, "click", |_| {
            with_view(|a| {
                if a.session.can_attach() {
                    a.view.file.click();
                }
            })
        });
        listen(&v.file, "change", |_| with_app(|a| a.attach()));
        listen(&v.upload_retry, "click", |_| {
            with_app(|a| a.session.retry_upload())
        });
        listen(&v.upload_cancel, "click", |_| {
            with_app(|a| {
                a.session.cancel_upload();
                a.view.focus();
            })
        });
        listen(&v.older, "click", |_| with_app(|a| a.session.load_older()));
        listen(&v.prechat, "submit", |e: Event| {
            e.prevent_default();
            with_app(|a| {
                let (name, email) = (a.view.name.value(), a.view.email.value());
                a.session.submit_prechat(&name, &email);
            });
        });
    });
}
