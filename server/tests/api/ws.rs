//! A WebSocket client for tests: connect, send JSON frames, wait for events.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::common::TestApp;

/// How long a test waits for a frame it expects.
const WAIT: Duration = Duration::from_secs(15);

pub(crate) struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The cursor of the newest event received.
    pub cursor: Option<u64>,
}

/// What ended a connection.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Closed {
    Code(u16),
    NoCode,
}

fn ws_url(app: &TestApp, path: &str) -> String {
    format!("{}{path}", app.base.replacen("http://", "ws://", 1))
}

impl Ws {
    pub(crate) async fn connect(app: &TestApp, path: &str) -> Ws {
        let (stream, _) = tokio_tungstenite::connect_async(ws_url(app, path))
            .await
            .expect("websocket connects");
        Ws {
            stream,
            cursor: None,
        }
    }

    /// Connects with extra request headers; `Err(status)` if the upgrade is refused.
    pub(crate) async fn connect_with(
        app: &TestApp,
        path: &str,
        headers: &[(&'static str, &str)],
    ) -> Result<Ws, u16> {
        let mut request = ws_url(app, path).into_client_request().expect("request");
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(*name, value.parse().expect("header value"));
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(Ws {
                stream,
                cursor: None,
            }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(other) => panic!("unexpected connect error: {other}"),
        }
    }

    /// Connects a socket whose kernel receive buffer is tiny, so a client
    /// that stops reading pushes back on the server at once.
    pub(crate) async fn connect_small(app: &TestApp, path: &str) -> Ws {
        let addr = app.base.trim_start_matches("http://").to_string();
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("rcvbuf");
        let tcp = socket
            .connect(addr.parse().expect("addr"))
            .await
            .expect("tcp connect");
        let (stream, _) =
            tokio_tungstenite::client_async(ws_url(app, path), MaybeTlsStream::Plain(tcp))
                .await
                .expect("handshake");
        Ws {
            stream,
            cursor: None,
        }
    }

    /// Signs an agent in over a first `auth` frame; returns the welcome.
    pub(crate) async fn agent(
        app: &TestApp,
        token: &str,
        account_id: i64,
        cursor: Option<u64>,
    ) -> (Ws, Value) {
        let mut ws = Ws::connect(app, "/ws/agent").await;
        ws.send(json!({"type": "auth", "access_token": token, "account_id": account_id, "cursor": cursor}))
            .await;
        let welcome = ws.event("welcome").await;
        (ws, welcome)
    }

    /// A website visitor; `visitor_token` None creates a new one.
    pub(crate) async fn visitor(
        app: &TestApp,
        website_token: &str,
        visitor_token: Option<&str>,
    ) -> (Ws, Value) {
        let mut ws = Ws::connect(app, "/ws/widget").await;
        ws.send(
            json!({"type": "auth", "website_token": website_token, "visitor_token": visitor_token}),
        )
        .await;
        let welcome = ws.event("welcome").await;
        (ws, welcome)
    }

    /// A new visitor who has become a contact (as a first write does);
    /// returns the `identity` data: `visitor_token`, `contact`.
    pub(crate) async fn contact(app: &TestApp, website_token: &str) -> (Ws, Value) {
        let (mut ws, _) = Ws::visitor(app, website_token, None).await;
        ws.send(json!({"type": "set_custom_attributes", "custom_attributes": {}}))
            .await;
        let identity = ws.event("identity").await["data"].clone();
        (ws, identity)
    }

    pub(crate) async fn send(&mut self, frame: Value) {
        self.stream
            .send(Message::text(frame.to_string()))
            .await
            .expect("send");
    }

    pub(crate) async fn send_text(&mut self, text: &str) {
        self.stream.send(Message::text(text)).await.expect("send");
    }

    /// Sends unless the server has already closed; whether it went out.
    pub(crate) async fn try_send_text(&mut self, text: &str) -> bool {
        self.stream.send(Message::text(text)).await.is_ok()
    }

    /// The next JSON frame, or how the connection closed.
    pub(crate) async fn next(&mut self) -> Result<Value, Closed> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("a frame within the wait");
            match msg {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).expect("frames are JSON");
                    if let Some(c) = value["cursor"].as_u64() {
                        if value["event"] != "welcome" && value["event"] != "resync" {
                            self.cursor = Some(c);
                        }
                    }
                    return Ok(value);
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(frame.map_or(Closed::NoCode, |f| Closed::Code(u16::from(f.code))))
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(Closed::NoCode),
            }
        }
    }

    /// The next frame, which must be a frame (not a close).
    pub(crate) async fn frame(&mut self) -> Value {
        self.next().await.expect("a frame, not a close")
    }

    /// Skips frames until the event `name`; returns it.
    pub(crate) async fn event(&mut self, name: &str) -> Value {
        loop {
            let frame = self.frame().await;
            if frame["event"] == name {
                return frame;
            }
            if frame["event"] == "error" && name != "error" {
                panic!("error while waiting for {name}: {frame}");
            }
        }
    }

    /// Every frame up to and including the first that `done` accepts.
    pub(crate) async fn until(&mut self, done: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let frame = self.frame().await;
            let last = done(&frame);
            seen.push(frame);
            if last {
                return seen;
            }
        }
    }

    /// Reads until the connection closes; returns its close code.
    pub(crate) async fn closed(&mut self) -> Closed {
        loop {
            if let Err(closed) = self.next().await {
                return closed;
            }
        }
    }

    pub(crate) async fn close(mut self) {
        let _ = self
            .stream
            .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            }))
            .await;
    }
}
