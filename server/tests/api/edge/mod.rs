//! The network edge under slow and flooding clients, one file per defence:
//! connections (half-open connections and shutdown, slow heads, stalled
//! bodies, the cap per address), websockets (caps per client, trusted
//! proxies, the descriptor reserve) and answers (hyper's own errors as
//! JSON). Every limit is shortened through `Settings::edge` so each test
//! takes a second or two; the helpers speak raw HTTP/1.1 over TCP.

mod answers;
mod connections;
mod websockets;

use std::time::Duration;

use switchboard_server::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{TestApp, TestDb};

pub(crate) const HEALTHZ: &str = "GET /healthz HTTP/1.1\r\nHost: switchboard.test\r\n\r\n";

pub(crate) async fn spawn(db: &TestDb, edit: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::new("https://switchboard.test");
    edit(&mut settings);
    TestApp::spawn_with(db, settings).await
}

pub(crate) async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// One answer on `stream` to `request`: status, head (lowercased) and
/// body. `None` if the server closed the connection before a full answer.
pub(crate) async fn try_exchange(
    stream: &mut TcpStream,
    request: &str,
) -> Option<(u16, String, String)> {
    if stream.write_all(request.as_bytes()).await.is_err() {
        return None;
    }
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("an answer within 5 s")
            .ok()?;
        if n == 0 {
            return None;
        }
        answer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&answer).to_string();
        let Some(end) = text.find("\r\n\r\n") else {
            continue;
        };
        let head = text[..end].to_ascii_lowercase();
        let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().expect("content-length"));
        if answer.len() >= end + 4 + length {
            return Some((status, head, text[end + 4..end + 4 + length].to_string()));
        }
    }
}

pub(crate) async fn exchange(stream: &mut TcpStream, request: &str) -> (u16, String, String) {
    try_exchange(stream, request)
        .await
        .expect("an answer before the connection closed")
}

/// Whether the server closes `stream` within `within` (whatever it sends
/// before is read and dropped).
pub(crate) async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut chunk = [0u8; 1024];
    tokio::time::timeout(within, async {
        while let Ok(n) = stream.read(&mut chunk).await {
            if n == 0 {
                return;
            }
        }
    })
    .await
    .is_ok()
}
