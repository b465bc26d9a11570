//! The browser's WebSocket to `/ws/agent`. It only reports to the app,
//! tagged with a generation number, so an event from a socket that has
//! since been replaced is recognised and ignored. The rules (auth,
//! resuming, backoff) are in [`crate::link`].

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

/// What a socket tells the app.
#[derive(Debug)]
pub enum SockEvent {
    Open,
    Text(String),
    Closed(u16),
}

pub struct Socket {
    ws: WebSocket,
    // Kept alive as long as the socket may call them.
    _open: Closure<dyn FnMut(Event)>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
}

/// `ws://` or `wss://` to this same host.
pub fn url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = match location.protocol().ok()?.as_str() {
        "https:" => "wss",
        _ => "ws",
    };
    Some(format!("{scheme}://{}/ws/agent", location.host().ok()?))
}

impl Socket {
    pub fn open(generation: u32, report: fn(u32, SockEvent)) -> Option<Socket> {
        let ws = WebSocket::new(&url()?).ok()?;
        let open = Closure::<dyn FnMut(Event)>::new(move |_| report(generation, SockEvent::Open));
        let message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(text) = e.data().as_string() {
                report(generation, SockEvent::Text(text));
            }
        });
        // `error` is always followed by `close`: one path is enough.
        let close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            report(generation, SockEvent::Closed(e.code()));
        });
        ws.set_onopen(Some(open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(close.as_ref().unchecked_ref()));
        Some(Socket {
            ws,
            _open: open,
            _message: message,
            _close: close,
        })
    }

    /// Sends a text frame; `false` when the socket is not open.
    pub fn send(&self, text: &str) -> bool {
        self.ws.ready_state() == WebSocket::OPEN && self.ws.send_with_str(text).is_ok()
    }

    /// Detaches the handlers and closes normally.
    pub fn close(&self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close_with_code(1000);
    }
}
