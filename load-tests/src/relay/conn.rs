//! One relayed socket: the upgrade, a reader that forwards frames and a
//! writer that drains the socket's queue.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use super::{Hub, Outbox, Role};

/// Frames queued for one socket before forwarding to it waits.
const QUEUE: usize = 1024;
/// Most frames written between two flushes (switchboard's figure too).
const WRITE_BATCH: usize = 64;
/// Read chunk per socket; it is allocated for every socket.
const READ_BUFFER: usize = 8 * 1024;

type Sink = SplitSink<WebSocketStream<TcpStream>, Message>;
type Source = SplitStream<WebSocketStream<TcpStream>>;

/// Serves one connection until it closes or the relay stops.
pub(super) async fn run(tcp: TcpStream, hub: Arc<Hub>, stop: watch::Receiver<bool>) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "relay: nodelay");
    }
    let mut role = None;
    // The result type is tungstenite's handshake callback's.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        let uri = request.uri();
        role = Role::parse(uri.path(), uri.query());
        if role.is_some() {
            return Ok(response);
        }
        let mut refusal = ErrorResponse::new(Some(
            "use /visitor?room=N&agent=J or /agent?id=J\n".to_string(),
        ));
        *refusal.status_mut() = StatusCode::NOT_FOUND;
        Err(refusal)
    };
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let ws =
        match tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, Some(config)).await {
            Ok(ws) => ws,
            Err(e) => {
                tracing::debug!(error = %e, "relay: handshake failed");
                return;
            }
        };
    let Some(role) = role else { return };
    let (sink, source) = ws.split();
    let (outbox, queue) = mpsc::channel(QUEUE);
    hub.join(role, outbox.clone());
    let (done, reader_done) = oneshot::channel();
    let writer = tokio::spawn(write_out(sink, queue, reader_done, stop.clone()));
    match role {
        Role::Visitor { agent, .. } => from_visitor(source, agent, &hub, stop).await,
        Role::Agent { .. } => from_agent(source, &hub, stop).await,
    }
    hub.leave(role, &outbox);
    // Other sockets may still hold a copy of `outbox`: the writer is told
    // directly that this socket is done.
    let _ = done.send(());
    let _ = writer.await;
}

/// The next text frame; `None` once the socket closed or the relay stops.
/// Pings are answered by tungstenite while reading.
async fn next_text(source: &mut Source, stop: &mut watch::Receiver<bool>) -> Option<Utf8Bytes> {
    loop {
        tokio::select! {
            biased;
            () = stopping(stop) => return None,
            message = source.next() => match message? {
                Ok(Message::Text(text)) => return Some(text),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            },
        }
    }
}

/// Completes once the relay stops (or is gone).
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Sends `text` to `outbox`, waiting while its queue is full; `false` if the
/// socket behind it is gone.
async fn forward(outbox: &Outbox, text: Utf8Bytes) -> bool {
    outbox.send(Message::Text(text)).await.is_ok()
}

/// A visitor's frames go to their agent, unread.
async fn from_visitor(mut source: Source, agent: u64, hub: &Hub, mut stop: watch::Receiver<bool>) {
    let mut to: Option<Outbox> = None;
    while let Some(text) = next_text(&mut source, &mut stop).await {
        if to.as_ref().is_none_or(Outbox::is_closed) {
            to = hub.agent(agent);
        }
        match &to {
            Some(outbox) if forward(outbox, text).await => {}
            _ => hub.drop_frame(),
        }
    }
}

/// An agent's frames go to the visitor of the room they start with.
async fn from_agent(mut source: Source, hub: &Hub, mut stop: watch::Receiver<bool>) {
    // Rooms this agent wrote to, so the shared map is read once per room.
    let mut rooms: HashMap<u64, Outbox> = HashMap::new();
    while let Some(text) = next_text(&mut source, &mut stop).await {
        let Some(room) = text
            .as_str()
            .split_once(' ')
            .and_then(|(room, _)| room.parse::<u64>().ok())
        else {
            hub.drop_frame();
            continue;
        };
        let cached = rooms.get(&room).filter(|o| !o.is_closed()).cloned();
        let Some(outbox) = cached.or_else(|| hub.visitor(room)) else {
            hub.drop_frame();
            continue;
        };
        if forward(&outbox, text).await {
            rooms.insert(room, outbox);
        } else {
            rooms.remove(&room);
            hub.drop_frame();
        }
    }
}

/// Writes queued frames out, a batch per flush, until the reader is done
/// (then closes politely) or the relay stops (then closes with 1001).
async fn write_out(
    mut sink: Sink,
    mut queue: mpsc::Receiver<Message>,
    mut reader_done: oneshot::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    loop {
        tokio::select! {
            biased;
            () = stopping(&mut stop) => {
                let away = CloseFrame { code: CloseCode::Away, reason: "relay stopping".into() };
                let _ = sink.send(Message::Close(Some(away))).await;
                return;
            }
            _ = &mut reader_done => break,
            n = queue.recv_many(&mut batch, WRITE_BATCH) => {
                if n == 0 {
                    break;
                }
                for message in batch.drain(..) {
                    if sink.feed(message).await.is_err() {
                        return;
                    }
                }
                if sink.flush().await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = sink.close().await;
}
