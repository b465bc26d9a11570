//! Telling the agent something: the error toast, a short beep and a
//! desktop notification when a conversation is assigned to them.
//!
//! Browsers allow sound and the notification prompt only after a user
//! gesture, so both are unlocked by the first click or key press
//! ([`unlock`]); the permission is asked once and the answer remembered
//! by the browser.

use std::cell::{Cell, RefCell};

use wasm_bindgen::JsCast;
use web_sys::{
    AudioContext, Element, Notification, NotificationOptions, NotificationPermission,
    OscillatorType,
};

use crate::dom::{self, h};

thread_local! {
    static AUDIO: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
    static TOAST_SEQ: Cell<u32> = const { Cell::new(0) };
}

/// How long a toast stays.
const TOAST_MS: u32 = 6_000;

fn toast_el() -> Option<Element> {
    if let Some(e) = dom::by_id("toast") {
        return Some(e);
    }
    let e = h("div")?
        .id("toast")
        .attr("role", "alert")
        .act("dismiss-toast")
        .flag("hidden", true)
        .el();
    dom::document()?.body()?.append_child(&e).ok()?;
    Some(e)
}

/// Shows `text` (a server's message, as it sent it) for a few seconds.
/// The toast floats over the page, so nothing under it moves.
pub(crate) fn toast(text: &str) {
    let Some(e) = toast_el() else { return };
    dom::set_text(&e, text);
    dom::set_hidden(&e, false);
    let seq = TOAST_SEQ.with(|s| {
        s.set(s.get().wrapping_add(1));
        s.get()
    });
    dom::later(TOAST_MS, move || {
        if TOAST_SEQ.with(Cell::get) == seq {
            dismiss_toast();
        }
    });
}

pub(crate) fn dismiss_toast() {
    if let Some(e) = dom::by_id("toast") {
        dom::set_hidden(&e, true);
    }
}

/// On a user gesture: create (or wake) the audio context; with `ask`
/// (the first gesture ever), ask for permission to show notifications.
pub(crate) fn unlock(ask: bool) {
    AUDIO.with(|a| {
        if let Ok(mut slot) = a.try_borrow_mut() {
            if slot.is_none() {
                *slot = AudioContext::new().ok();
            }
            if let Some(ctx) = slot.as_ref() {
                let _ = ctx.resume();
            }
        }
    });
    if ask && permission() == Some(NotificationPermission::Default) {
        let _ = Notification::request_permission();
    }
}

/// Whether the page's global object has `name`. Calling an API the
/// browser lacks would throw through the wasm and stop the console.
pub(crate) fn has_global(name: &str) -> bool {
    js_sys::Reflect::has(&js_sys::global(), &name.into()).unwrap_or(false)
}

/// The notification permission; `None` where notifications do not exist.
fn permission() -> Option<NotificationPermission> {
    has_global("Notification").then(Notification::permission)
}

/// A short two-tone beep (nothing before the first gesture).
pub(crate) fn beep() {
    AUDIO.with(|a| {
        let Ok(slot) = a.try_borrow() else { return };
        let Some(ctx) = slot.as_ref() else { return };
        let t = ctx.current_time();
        for (i, freq) in [880.0_f32, 1320.0].into_iter().enumerate() {
            let start = t + 0.14 * i as f64;
            let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else {
                return;
            };
            osc.set_type(OscillatorType::Sine);
            osc.frequency().set_value(freq);
            let g = gain.gain();
            let _ = g.set_value_at_time(0.0001, start);
            let _ = g.exponential_ramp_to_value_at_time(0.2, start + 0.02);
            let _ = g.exponential_ramp_to_value_at_time(0.0001, start + 0.13);
            let _ = osc.connect_with_audio_node(&gain);
            let _ = gain.connect_with_audio_node(&ctx.destination());
            let _ = osc.start_with_when(start);
            let _ = osc.stop_with_when(start + 0.14);
        }
    });
}

/// A desktop notification; clicking it focuses the console and runs `open`.
pub(crate) fn notify(title: &str, body: &str, tag: &str, open: impl FnOnce() + 'static) {
    if permission() != Some(NotificationPermission::Granted) {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(body);
    options.set_tag(tag);
    let Ok(n) = Notification::new_with_options(title, &options) else {
        return;
    };
    let click = wasm_bindgen::closure::Closure::once_into_js(move || {
        if let Some(w) = dom::window() {
            let _ = w.focus();
        }
        open();
    });
    n.set_onclick(Some(click.unchecked_ref()));
}
