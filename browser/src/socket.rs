//! The WebSocket, as both apps use it. It only reports what happens,
//! tagged with the generation number the app gave it: an app replaces its
//! socket on every reconnect, and a late event of a replaced one must be
//! recognised and ignored, not taken for the current link's. What to do
//! about an event (auth, resuming, backing off) is each app's business.

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
    // Kept alive as long as the socket may call them.
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Socket")
    }
}

/// `ws://host/path`, or `wss://` under an `https:` page: the apps talk to
/// the server that served them, never to another host.
pub fn ws_url(page_protocol: &str, host: &str, path: &str) -> String {
    let scheme = if page_protocol.eq_ignore_ascii_case("https:") {
        "wss"
    } else {
        "ws"
    };
    format!("{scheme}://{host}{path}")
}

/// [`ws_url`] to `path` on this page's own host; `None` when the browser
/// gives no location.
pub fn same_host_url(path: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    Some(ws_url(
        &location.protocol().ok()?,
        &location.host().ok()?,
        path,
    ))
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

    /// Stops listening and closes normally (1000): a replaced socket must
    /// not report anything more.
    pub fn close(&self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close_with_code(1000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_host_secure_under_https() {
        assert_eq!(
            ws_url("https:", "hub.test", "/ws/widget"),
            "wss://hub.test/ws/widget"
        );
        assert_eq!(
            ws_url("http:", "127.0.0.1:3000", "/ws/agent"),
            "ws://127.0.0.1:3000/ws/agent"
        );
        assert_eq!(ws_url("HTTPS:", "a.test", "/x"), "wss://a.test/x");
    }
}
