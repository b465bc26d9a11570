//! The WebSocket itself. It only reports what happens to the app, tagged
//! with its generation so that a late event of a replaced socket is
//! recognised and ignored; what to do about it is the session's business.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

/// What a socket tells the app.
#[derive(Debug)]
pub enum SocketEvent {
    Open,
    Text(String),
    Closed(u16),
}

pub struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Socket")
    }
}

impl Socket {
    /// Opens `url`; each event goes to `report` with this generation.
    /// `None` when the browser refuses the URL outright.
    pub fn open(url: &str, generation: u32, report: fn(u32, SocketEvent)) -> Option<Socket> {
        let ws = WebSocket::new(url).ok()?;
        let on_open =
            Closure::<dyn FnMut(Event)>::new(move |_| report(generation, SocketEvent::Open));
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            // Text frames only: the protocol has no binary ones.
            if let Some(text) = e.data().as_string() {
                report(generation, SocketEvent::Text(text));
            }
        });
        // An `error` event is always followed by `close`: one path suffices.
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            report(generation, SocketEvent::Closed(e.code()));
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Some(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Writes a text frame; `false` when the socket is not open.
    pub fn send(&self, text: &str) -> bool {
        self.ws.ready_state() == WebSocket::OPEN && self.ws.send_with_str(text).is_ok()
    }

    /// Stops listening and closes (normally: 1000).
    pub fn close(&self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close_with_code(1000);
    }
}
