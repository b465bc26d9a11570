//! WebSocket connections: spread over several loopback source addresses
//! and, with several `--url`s, over the servers (client i opens its
//! sockets to URL i mod N), authenticated as a visitor or an agent, and
//! read with a light parser.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use switchboard_protocol::realtime::{
    event, AgentFrame, AgentWelcome, ErrorData, Identity, ServerFrame, VisitorFrame, VisitorWelcome,
};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// How long opening a connection (TCP, upgrade, `auth`, `welcome`) may take.
pub(crate) const OPEN_WITHIN: Duration = Duration::from_secs(15);
/// Connections per source address before another is used: the kernel's
/// ephemeral range (32768-60999) gives about 28,000 per address and
/// destination; leave some room.
const PER_SOURCE: usize = 25_000;

/// How a connection attempt failed, for the error table.
#[derive(Debug)]
pub(crate) struct OpenError {
    pub kind: &'static str,
    pub detail: String,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

impl std::error::Error for OpenError {}

fn io_error(stage: &'static str, e: &std::io::Error) -> OpenError {
    let kind = match e.raw_os_error() {
        // EMFILE / ENFILE: out of file descriptors.
        Some(24 | 23) => "fd_limit",
        // EADDRINUSE / EADDRNOTAVAIL: out of ports on a source address.
        Some(98 | 99) => "ports_exhausted",
        // ECONNREFUSED: the listen backlog overflowed or nothing listens.
        Some(111) => "refused",
        // ECONNRESET
        Some(104) => "reset",
        _ => stage,
    };
    OpenError {
        kind,
        detail: format!("{stage}: {e}"),
    }
}

/// One server a [`Dialer`] opens sockets to.
struct Target {
    server: SocketAddr,
    ws_base: String,
    /// Sockets opened to it (per-URL figures of the report).
    opened: AtomicU64,
}

/// Opens WebSockets to one or more servers, spreading them over source
/// addresses.
pub(crate) struct Dialer {
    targets: Vec<Target>,
    sources: Vec<IpAddr>,
    /// The next source port to try, per source address.
    ports: Vec<AtomicU32>,
    /// The kernel's ephemeral port range, which source ports are taken from.
    port_range: (u16, u16),
    next: AtomicUsize,
}

/// Ports tried for one connection before giving up.
const BIND_ATTEMPTS: usize = 64;

/// A few changing bits from the clock.
fn clock_noise() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default()
}

/// The kernel's ephemeral port range (`ip_local_port_range`).
fn ephemeral_ports() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut parts = text.split_whitespace().map(|p| p.parse::<u16>());
            match (parts.next()?, parts.next()?) {
                (Ok(low), Ok(high)) if low < high => Some((low, high)),
                _ => None,
            }
        })
        .unwrap_or((32768, 60999))
}

impl Target {
    async fn new(url: &str) -> anyhow::Result<Target> {
        let parsed =
            reqwest::Url::parse(url).with_context(|| format!("--url {url} is not a URL"))?;
        let ws_scheme = match parsed.scheme() {
            "http" => "ws",
            "https" => {
                anyhow::bail!("https is not supported; point --url at the server's plain HTTP port")
            }
            other => anyhow::bail!("--url must be http://, not {other}://"),
        };
        let host = parsed.host_str().context("--url has no host")?;
        let port = parsed.port_or_known_default().unwrap_or(80);
        let server = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .with_context(|| format!("cannot resolve {host}"))?
            .find(SocketAddr::is_ipv4)
            .with_context(|| format!("{host} has no IPv4 address"))?;
        Ok(Target {
            server,
            ws_base: format!("{ws_scheme}://{host}:{port}"),
            opened: AtomicU64::new(0),
        })
    }
}

impl Dialer {
    /// `connections`: how many the scenario will hold at once, to choose
    /// how many source addresses to use when `source_addresses` is not given.
    pub(crate) async fn new(
        urls: &[impl AsRef<str>],
        source_addresses: Option<u8>,
        connections: usize,
    ) -> anyhow::Result<Dialer> {
        anyhow::ensure!(!urls.is_empty(), "--url is required");
        let mut targets = Vec::new();
        for url in urls {
            targets.push(Target::new(url.as_ref()).await?);
        }
        let wanted = match source_addresses {
            Some(n) => usize::from(n),
            None => connections.div_ceil(PER_SOURCE).max(1),
        };
        let sources = if targets.iter().all(|t| t.server.ip().is_loopback()) {
            (0..wanted.min(250))
                .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i as u8)))
                .collect()
        } else {
            if wanted > 0 && connections > PER_SOURCE {
                tracing::warn!(
                    "a server is not on loopback: connections come from one source address, \
                     which gives about 28,000 ports"
                );
            }
            Vec::new()
        };
        Ok(Dialer {
            targets,
            // Start somewhere else each run: ports of the previous run may
            // still be held by sockets in TIME_WAIT.
            ports: sources
                .iter()
                .map(|_| AtomicU32::new(std::process::id().wrapping_mul(7919) ^ clock_noise()))
                .collect(),
            sources,
            port_range: ephemeral_ports(),
            next: AtomicUsize::new(0),
        })
    }

    /// Binds to the next source address, choosing the port itself: with
    /// port 0 the kernel searches the whole range for a free port on every
    /// bind, which grows slow (seconds of system time) past ~10,000
    /// connections on one address.
    fn bind(&self, socket: &TcpSocket) -> Result<(), OpenError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.sources.len();
        let (low, high) = self.port_range;
        let span = u32::from(high - low) + 1;
        let mut last = None;
        for _ in 0..BIND_ATTEMPTS {
            let offset = self.ports[i].fetch_add(1, Ordering::Relaxed) % span;
            let port = u16::try_from(u32::from(low) + offset).unwrap_or(high);
            match socket.bind(SocketAddr::new(self.sources[i], port)) {
                Ok(()) => return Ok(()),
                // Taken (by another connection, or one in TIME_WAIT): next port.
                Err(e) if e.raw_os_error() == Some(98) => last = Some(e),
                Err(e) => return Err(io_error("bind", &e)),
            }
        }
        Err(last.map_or_else(
            || OpenError {
                kind: "ports_exhausted",
                detail: "no free port".into(),
            },
            |e| io_error("bind", &e),
        ))
    }

    pub(crate) fn sources(&self) -> &[IpAddr] {
        &self.sources
    }

    /// Sockets opened to each URL so far.
    pub(crate) fn opened(&self) -> Vec<u64> {
        self.targets
            .iter()
            .map(|t| t.opened.load(Ordering::Relaxed))
            .collect()
    }

    /// Opens a WebSocket to `path` on URL `at` (mod their number). `heavy`:
    /// a connection that receives a lot (an agent console) gets a larger
    /// read buffer.
    pub(crate) async fn open(&self, at: usize, path: &str, heavy: bool) -> Result<Ws, OpenError> {
        let target = &self.targets[at % self.targets.len()];
        // A source port whose connection to the server is still remembered
        // (TIME_WAIT) refuses the connect with EADDRNOTAVAIL: try another.
        let mut attempt = 0;
        let tcp = loop {
            attempt += 1;
            let socket = TcpSocket::new_v4().map_err(|e| io_error("socket", &e))?;
            if !self.sources.is_empty() {
                self.bind(&socket)?;
            }
            match socket.connect(target.server).await {
                Ok(tcp) => break tcp,
                Err(e) if e.raw_os_error() == Some(99) && attempt < 3 => continue,
                Err(e) => return Err(io_error("connect", &e)),
            }
        };
        tcp.set_nodelay(true).map_err(|e| io_error("connect", &e))?;
        let config = WebSocketConfig::default()
            .read_buffer_size(if heavy { 64 * 1024 } else { 4 * 1024 })
            .write_buffer_size(0);
        let url = format!("{}{path}", target.ws_base);
        let (stream, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config))
            .await
            .map_err(|e| OpenError {
                kind: match &e {
                    tokio_tungstenite::tungstenite::Error::Io(_) => "handshake_io",
                    tokio_tungstenite::tungstenite::Error::Http(_) => "handshake_refused",
                    _ => "handshake",
                },
                detail: e.to_string(),
            })?;
        target.opened.fetch_add(1, Ordering::Relaxed);
        Ok(Ws { stream })
    }

    /// A visitor of the inbox with this website token, new (no visitor
    /// token), on URL `at`.
    pub(crate) async fn visitor(
        &self,
        at: usize,
        website_token: &str,
    ) -> Result<(Ws, VisitorWelcome), OpenError> {
        let (ws, welcome, _) = self
            .returning_visitor(at, website_token, None, None)
            .await?;
        Ok((ws, welcome))
    }

    /// A visitor coming back with their token, resuming after `cursor`;
    /// also returns the `welcome`'s cursor.
    pub(crate) async fn returning_visitor(
        &self,
        at: usize,
        website_token: &str,
        visitor_token: Option<&str>,
        cursor: Option<u64>,
    ) -> Result<(Ws, VisitorWelcome, Option<u64>), OpenError> {
        let auth = VisitorFrame::Auth {
            website_token: website_token.to_string(),
            visitor_token: visitor_token.map(str::to_string),
            cursor,
        };
        self.signed_in(at, "/ws/widget", false, &auth).await
    }

    /// An agent console signed in with `token` on URL `at`.
    pub(crate) async fn agent(
        &self,
        at: usize,
        token: &str,
        account_id: i64,
    ) -> Result<(Ws, AgentWelcome), OpenError> {
        let (ws, welcome, _) = self.returning_agent(at, token, account_id, None).await?;
        Ok((ws, welcome))
    }

    /// An agent console resuming after `cursor`; also returns the
    /// `welcome`'s cursor.
    pub(crate) async fn returning_agent(
        &self,
        at: usize,
        token: &str,
        account_id: i64,
        cursor: Option<u64>,
    ) -> Result<(Ws, AgentWelcome, Option<u64>), OpenError> {
        let auth = AgentFrame::Auth {
            access_token: token.to_string(),
            account_id,
            cursor,
        };
        self.signed_in(at, "/ws/agent", true, &auth).await
    }

    /// Opens `path`, sends `auth` and waits for the `welcome`, all within
    /// [`OPEN_WITHIN`].
    async fn signed_in<W: serde::de::DeserializeOwned>(
        &self,
        at: usize,
        path: &str,
        heavy: bool,
        auth: &impl Serialize,
    ) -> Result<(Ws, W, Option<u64>), OpenError> {
        tokio::time::timeout(OPEN_WITHIN, async {
            let mut ws = self.open(at, path, heavy).await?;
            ws.send(auth).await.map_err(|e| OpenError {
                kind: "auth",
                detail: e.to_string(),
            })?;
            let (welcome, cursor) = ws.answer(event::WELCOME).await?;
            Ok((ws, welcome, cursor))
        })
        .await
        .unwrap_or_else(|_| {
            Err(OpenError {
                kind: "timeout",
                detail: format!("no welcome within {OPEN_WITHIN:?}"),
            })
        })
    }
}

/// What ended a connection's reading.
#[derive(Debug)]
pub(crate) enum Ended {
    /// A close frame, with its code if any.
    Closed(Option<u16>),
    /// The stream ended or failed without a close frame.
    Broken(String),
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Closed(Some(code)) => write!(f, "closed by the server with code {code}"),
            Ended::Closed(None) => write!(f, "closed by the server"),
            Ended::Broken(e) => write!(f, "connection broken: {e}"),
        }
    }
}

/// One open WebSocket.
pub(crate) struct Ws {
    stream: WebSocketStream<TcpStream>,
}

impl Ws {
    /// Sends one JSON frame.
    pub(crate) async fn send(&mut self, frame: &impl Serialize) -> Result<(), String> {
        let text = serde_json::to_string(frame).map_err(|e| e.to_string())?;
        self.stream
            .send(Message::text(text))
            .await
            .map_err(|e| e.to_string())
    }

    /// Sends one text frame as it is.
    pub(crate) async fn send_text(&mut self, text: String) -> Result<(), String> {
        self.stream
            .send(Message::text(text))
            .await
            .map_err(|e| e.to_string())
    }

    /// Queues a text frame without writing it out yet (see [`Ws::flush`]):
    /// answering a burst of frames with one write.
    pub(crate) async fn feed_text(&mut self, text: String) -> Result<(), String> {
        self.stream
            .feed(Message::text(text))
            .await
            .map_err(|e| e.to_string())
    }

    pub(crate) async fn flush(&mut self) -> Result<(), String> {
        self.stream.flush().await.map_err(|e| e.to_string())
    }

    /// The next text frame if it can be had without waiting.
    pub(crate) fn ready_text(
        &mut self,
    ) -> Option<Result<tokio_tungstenite::tungstenite::Utf8Bytes, Ended>> {
        futures_util::FutureExt::now_or_never(self.next_text())
    }

    /// The next text frame. Pings are answered by tungstenite as it reads.
    pub(crate) async fn next_text(
        &mut self,
    ) -> Result<tokio_tungstenite::tungstenite::Utf8Bytes, Ended> {
        loop {
            match self.stream.next().await {
                Some(Ok(Message::Text(text))) => return Ok(text),
                Some(Ok(Message::Close(frame))) => {
                    return Err(Ended::Closed(frame.map(|f| u16::from(f.code))))
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(Ended::Broken(e.to_string())),
                None => return Err(Ended::Broken("stream ended".to_string())),
            }
        }
    }

    /// Makes a new visitor a contact (an empty `set_custom_attributes`,
    /// answered by `identity`) and returns the contact's id: a new visitor
    /// is no contact until they first write.
    pub(crate) async fn become_contact(&mut self) -> Result<i64, OpenError> {
        let frame = VisitorFrame::SetCustomAttributes {
            custom_attributes: serde_json::Map::new(),
        };
        self.send(&frame).await.map_err(|e| OpenError {
            kind: "identity",
            detail: e,
        })?;
        let (identity, _): (Identity, _) =
            tokio::time::timeout(OPEN_WITHIN, self.answer(event::IDENTITY))
                .await
                .unwrap_or_else(|_| {
                    Err(OpenError {
                        kind: "timeout",
                        detail: format!("no identity within {OPEN_WITHIN:?}"),
                    })
                })?;
        Ok(identity.contact.id)
    }

    /// The data and cursor of the next `name` frame (skipping signals such
    /// as `presence.update`); an `error` frame first is refused.
    async fn answer<T: serde::de::DeserializeOwned>(
        &mut self,
        name: &str,
    ) -> Result<(T, Option<u64>), OpenError> {
        loop {
            let text = self.next_text().await.map_err(|e| OpenError {
                kind: "auth",
                detail: e.to_string(),
            })?;
            let frame: ServerFrame = serde_json::from_str(&text).map_err(|e| OpenError {
                kind: "auth",
                detail: format!("unreadable frame: {e}"),
            })?;
            match frame.event.as_str() {
                e if e == name => {
                    let data = serde_json::from_value(frame.data).map_err(|e| OpenError {
                        kind: "auth",
                        detail: format!("unreadable {name}: {e}"),
                    })?;
                    return Ok((data, frame.cursor));
                }
                event::ERROR => {
                    let detail = serde_json::from_value::<ErrorData>(frame.data)
                        .map(|e| format!("{}: {}", e.error, e.message))
                        .unwrap_or_else(|e| format!("unreadable error: {e}"));
                    return Err(OpenError {
                        kind: "auth_refused",
                        detail,
                    });
                }
                _ => continue,
            }
        }
    }

    /// Closes politely: a close frame, then waiting briefly for the server's.
    pub(crate) async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(3), async {
            if self.stream.close(None).await.is_ok() {
                while let Some(Ok(_)) = self.stream.next().await {}
            }
        })
        .await;
    }
}

/// The few fields of a server frame the load generator looks at. Agents of
/// a busy account receive thousands of frames a second and the load
/// generator shares the machine with the server, so frames are not parsed
/// into full [`ServerFrame`] values: serde skips every other field.
#[derive(Debug, Deserialize)]
pub(crate) struct Peek<'a> {
    #[serde(borrow)]
    pub event: Cow<'a, str>,
    /// The account's cursor: what a connection resumes after.
    pub cursor: Option<u64>,
    #[serde(default)]
    pub data: PeekData<'a>,
}

/// See [`Peek`]. Field meanings depend on the event: `id` is the message's
/// id in `message.*` and the conversation's in `conversation.*` and
/// `assignee.changed`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PeekData<'a> {
    pub id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub assignee_id: Option<i64>,
    /// Visitors' conversation shape: the assignee, or `null`.
    pub assignee: Option<serde::de::IgnoredAny>,
    pub message_id: Option<i64>,
    #[serde(borrow)]
    pub content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub sender_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub echo_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub error: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub message: Option<Cow<'a, str>>,
    /// `identity`: the token a visitor reconnects with.
    #[serde(borrow)]
    pub visitor_token: Option<Cow<'a, str>>,
}

impl<'a> Peek<'a> {
    pub(crate) fn parse(text: &'a str) -> Result<Peek<'a>, String> {
        serde_json::from_str(text).map_err(|e| format!("unreadable frame: {e}"))
    }
}

/// What the load generator writes into a message, so that whoever receives
/// it knows which run, sender and sequence number it is and when it was
/// meant to be sent: `lt <run> <kind> <lane> <seq> <micros>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// `v` a visitor wrote it, `a` an agent.
    pub kind: char,
    pub lane: usize,
    pub seq: usize,
    pub at_us: u64,
}

impl Stamp {
    pub(crate) fn content(&self, run: &str) -> String {
        format!(
            "lt {run} {} {} {} {}",
            self.kind, self.lane, self.seq, self.at_us
        )
    }

    /// The stamp in `content`, if it is one of this run's.
    pub(crate) fn parse(content: &str, run: &str) -> Option<Stamp> {
        let mut parts = content.split(' ');
        if parts.next()? != "lt" || parts.next()? != run {
            return None;
        }
        let kind = parts.next()?.chars().next()?;
        let lane = parts.next()?.parse().ok()?;
        let seq = parts.next()?.parse().ok()?;
        let at_us = parts.next()?.parse().ok()?;
        Some(Stamp {
            kind,
            lane,
            seq,
            at_us,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_and_ignore_other_runs() {
        let stamp = Stamp {
            kind: 'v',
            lane: 12,
            seq: 3,
            at_us: 123_456,
        };
        let content = stamp.content("ltabc-1-0");
        assert_eq!(Stamp::parse(&content, "ltabc-1-0"), Some(stamp));
        assert_eq!(Stamp::parse(&content, "ltabc-1-1"), None);
        assert_eq!(Stamp::parse("Olá!", "ltabc-1-0"), None);
    }

    #[test]
    fn peeks_at_message_frames() {
        let text = r#"{"event":"message.created","cursor":7,"data":{"id":311,"content":"hi \"there\"",
            "conversation_id":42,"sender_type":"User","sender":{"id":2,"name":"B"},"echo_id":null}}"#;
        let peek = Peek::parse(text).expect("parses");
        assert_eq!(peek.event, "message.created");
        assert_eq!(peek.data.id, Some(311));
        assert_eq!(peek.data.conversation_id, Some(42));
        assert_eq!(peek.data.content.as_deref(), Some("hi \"there\""));
        assert_eq!(peek.data.sender_type.as_deref(), Some("User"));
    }
}
