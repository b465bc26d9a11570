//! One WebSocket connection, agent or visitor: limits, heartbeat, rate
//! limiting, abuse handling, and writing the connection's outbound queue.
//!
//! Each connection is one task that owns its socket. It waits on three
//! things at once: a frame from the client, a frame from its queue (filled by
//! the account's dispatcher, which never waits on a socket), and the
//! heartbeat. Nothing here holds a lock while writing.

use std::future::Future;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use futures_util::SinkExt;
use switchboard_protocol::realtime::{close, ErrorData, ServerEvent};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Frame, Start};
use crate::http::error::ApiError;
use crate::views::frames::frame;

/// Bytes read from the socket at a time (it grows for a larger frame while
/// reading it). Small on purpose: an idle
/// connection should cost a few KB, not tungstenite's 128 KiB default.
pub const READ_BUFFER: usize = 512;
/// Bytes written before the socket is flushed.
pub const WRITE_BUFFER: usize = 8 * 1024;
/// Largest frame (and message) a client may send. Longer messages go over REST.
pub const MAX_FRAME: usize = 64 * 1024;
/// Most frames written between two flushes.
pub const WRITE_BATCH: usize = 64;
/// How often the server pings.
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// A connection that sent nothing (not even a pong) this long is closed.
pub const IDLE_AFTER: Duration = Duration::from_secs(60);
/// How long a client has to send its `auth` frame.
pub const AUTH_WITHIN: Duration = Duration::from_secs(10);
/// How long a closing connection waits for the client's close reply.
pub const CLOSE_WITHIN: Duration = Duration::from_secs(2);
/// Frames a client may send per second on average, and in a burst.
pub const RATE_PER_SECOND: f64 = 20.0;
pub const RATE_BURST: f64 = 40.0;
/// Refused frames (invalid or over the rate) before the socket is closed.
pub const STRIKES: u32 = 20;

/// Applies the limits above to an upgrade.
pub fn configure(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
}

/// What a handler wants after a frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// Handles the frames a client sends once it is authenticated. The
/// connection parses them; a frame that does not parse, or that `handle`
/// refuses, is answered with an `error` frame and counts as a strike.
pub trait Handler: Send {
    type Frame: serde::de::DeserializeOwned + Send;
    fn handle(
        &mut self,
        conn: &mut Conn,
        frame: Self::Frame,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// A token bucket: [`RATE_PER_SECOND`] frames a second, bursts of [`RATE_BURST`].
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * RATE_PER_SECOND;
        self.tokens = (self.tokens + refill).min(RATE_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub struct Conn {
    socket: WebSocket,
    heard: Instant,
    bucket: Bucket,
    strikes: u32,
    closed: bool,
}

impl Conn {
    pub fn new(socket: WebSocket) -> Conn {
        Conn {
            socket,
            heard: Instant::now(),
            bucket: Bucket {
                tokens: RATE_BURST,
                at: Instant::now(),
            },
            strikes: 0,
            closed: false,
        }
    }

    /// Writes a frame; `false` once the socket is gone.
    pub async fn send(&mut self, frame: Utf8Bytes) -> bool {
        !self.closed && self.socket.send(Message::Text(frame)).await.is_ok()
    }

    /// Writes `first` and whatever else is already queued (up to
    /// [`WRITE_BATCH`] frames) with one flush: a busy connection costs a
    /// write per batch, not per frame.
    async fn send_queued(&mut self, first: Frame, queue: &mut mpsc::Receiver<Frame>) -> bool {
        if self.closed
            || self
                .socket
                .feed(Message::Text(Utf8Bytes::clone(&first)))
                .await
                .is_err()
        {
            return false;
        }
        for _ in 1..WRITE_BATCH {
            let Ok(frame) = queue.try_recv() else { break };
            if super::channel::is_revoked(&frame) {
                let _ = self.socket.flush().await;
                self.close_revoked().await;
                return false;
            }
            if self
                .socket
                .feed(Message::Text(Utf8Bytes::clone(&frame)))
                .await
                .is_err()
            {
                return false;
            }
        }
        self.socket.flush().await.is_ok()
    }

    /// Parses a client frame and hands it to `handler`; refusals become
    /// `error` frames and strikes.
    async fn dispatch<H: Handler>(&mut self, handler: &mut H, text: &str) -> Flow {
        let parsed = match serde_json::from_str::<H::Frame>(text) {
            Ok(frame) => frame,
            Err(err) => {
                self.error("invalid_frame", err.to_string()).await;
                return self.strike().await;
            }
        };
        // Boxed: an idle connection does not carry the space of the
        // largest frame handling.
        match Box::pin(handler.handle(self, parsed)).await {
            Ok(()) => Flow::Continue,
            Err(err) => {
                self.api_error(&err).await;
                self.strike().await
            }
        }
    }

    /// Sends an `error` frame.
    pub async fn error(&mut self, code: &str, message: impl Into<String>) -> bool {
        let data = ErrorData {
            error: code.to_string(),
            message: message.into(),
            errors: Vec::new(),
        };
        self.send(frame(ServerEvent::Error, None, &data)).await
    }

    /// An API error as an `error` frame, with its field errors.
    pub async fn api_error(&mut self, err: &ApiError) -> bool {
        let data = ErrorData {
            error: err.code().to_string(),
            message: err.describe(),
            errors: err.field_errors().to_vec(),
        };
        self.send(frame(ServerEvent::Error, None, &data)).await
    }

    /// Counts a refused frame; past [`STRIKES`] the socket is closed (1008).
    pub async fn strike(&mut self) -> Flow {
        self.strikes += 1;
        if self.strikes >= STRIKES {
            self.close(1008, "too many refused frames").await;
            return Flow::Stop;
        }
        Flow::Continue
    }

    pub async fn close(&mut self, code: u16, reason: &'static str) {
        if self.closed {
            return;
        }
        self.closed = true;
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        if self.socket.send(Message::Close(Some(frame))).await.is_err() {
            return;
        }
        // The closing handshake: read (and drop) what the client still sends
        // until it answers the close, so the socket is not reset while our
        // last frames are still on their way to it.
        let _ = tokio::time::timeout(CLOSE_WITHIN, async {
            while let Some(Ok(msg)) = self.socket.recv().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }

    /// The first text frame, within [`AUTH_WITHIN`]. `None` (after closing
    /// the socket) if none came.
    pub async fn first_text(&mut self) -> Option<String> {
        let deadline = tokio::time::sleep(AUTH_WITHIN);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => {
                    self.error("auth_timeout", "send an auth frame first").await;
                    self.close(close::AUTH_TIMEOUT, "no auth frame").await;
                    return None;
                }
                msg = self.socket.recv() => match msg {
                    Some(Ok(Message::Text(text))) => return Some(text.to_string()),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Binary(_))) => {
                        self.error("invalid_frame", "frames are JSON text").await;
                        self.close(close::UNAUTHORIZED, "expected an auth frame").await;
                        return None;
                    }
                    _ => return None,
                },
            }
        }
    }

    /// Sends `welcome` (made by `welcome(resumed)`), then what the
    /// subscription's start calls for: the missed events, or `resync`.
    /// `false` once the socket is gone.
    pub async fn greet<T: serde::Serialize>(
        &mut self,
        start: Start,
        welcome: impl Fn(bool) -> T,
    ) -> bool {
        match start {
            Start::Fresh { cursor } => {
                self.send(frame(ServerEvent::Welcome, Some(cursor), &welcome(false)))
                    .await
            }
            Start::Resumed { cursor, missed } => {
                let mut ok = self
                    .send(frame(ServerEvent::Welcome, Some(cursor), &welcome(true)))
                    .await;
                for f in missed {
                    ok = ok && self.send(Utf8Bytes::clone(&f)).await;
                }
                ok
            }
            Start::Resync { cursor } => {
                self.send(frame(ServerEvent::Welcome, Some(cursor), &welcome(false)))
                    .await
                    && self
                        .send(frame(
                            ServerEvent::Resync,
                            Some(cursor),
                            &serde_json::json!({}),
                        ))
                        .await
            }
        }
    }

    /// The credentials this connection was opened with were revoked.
    async fn close_revoked(&mut self) {
        self.close(
            close::REVOKED,
            "credentials revoked; do not reconnect with them",
        )
        .await;
    }

    /// Refuses the connection after a bad `auth`.
    pub async fn refuse(&mut self, code: &str, message: impl Into<String>) {
        self.error(code, message).await;
        self.close(close::UNAUTHORIZED, "not authorized").await;
    }

    /// Runs the connection until the client leaves, the server shuts down
    /// (the queue is written out, then "going away"), the client falls too
    /// far behind (its queue was cut: [`close::SLOW_CONSUMER`]), or it goes
    /// quiet for [`IDLE_AFTER`].
    pub async fn run(
        mut self,
        mut queue: mpsc::Receiver<Frame>,
        shutdown: CancellationToken,
        handler: &mut impl Handler,
    ) {
        let mut heartbeat = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => {
                    while let Ok(frame) = queue.try_recv() {
                        if !self.send(Utf8Bytes::clone(&frame)).await {
                            return;
                        }
                    }
                    self.close(1001, "server shutting down").await;
                    return;
                }
                out = queue.recv() => match out {
                    Some(frame) if super::channel::is_revoked(&frame) => {
                        self.close_revoked().await;
                        return;
                    }
                    Some(frame) => {
                        if !self.send_queued(frame, &mut queue).await {
                            return;
                        }
                    }
                    None => {
                        self.close(close::SLOW_CONSUMER, "too slow; resume with your last cursor").await;
                        return;
                    }
                },
                msg = self.socket.recv() => {
                    self.heard = Instant::now();
                    let flow = match msg {
                        Some(Ok(Message::Text(text))) => {
                            if self.bucket.take() {
                                self.dispatch(handler, text.as_str()).await
                            } else {
                                self.error("rate_limited", format!(
                                    "at most {RATE_PER_SECOND} frames a second; this one was dropped"
                                )).await;
                                self.strike().await
                            }
                        }
                        Some(Ok(Message::Binary(_))) => {
                            self.error("invalid_frame", "frames are JSON text").await;
                            self.strike().await
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Flow::Continue,
                        // A frame over the limit, or broken framing.
                        Some(Err(_)) => {
                            self.error("invalid_frame", format!(
                                "unreadable or larger than {MAX_FRAME} bytes"
                            )).await;
                            self.close(1009, "invalid or oversized frame").await;
                            Flow::Stop
                        }
                        Some(Ok(Message::Close(_))) | None => Flow::Stop,
                    };
                    if flow == Flow::Stop || self.closed {
                        return;
                    }
                }
                _ = heartbeat.tick() => {
                    if self.heard.elapsed() > IDLE_AFTER {
                        self.close(close::IDLE, "idle").await;
                        return;
                    }
                    if self.socket.send(Message::Ping(Default::default())).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}
