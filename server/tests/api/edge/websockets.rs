//! WebSockets: a cap per client address (the TCP peer, or behind a trusted
//! proxy the client it forwarded), and a ceiling that leaves descriptors
//! for plain requests.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use serde_json::Value;
use switchboard_server::edge::client::parse_proxy;
use switchboard_server::edge::{ClientAddr, TrustedProxies};
use tokio::net::TcpStream;

use super::{connect, exchange, spawn, HEALTHZ};
use crate::both_databases;
use crate::common::{Db, TestApp, TestDb};

both_databases!(
    websockets_per_address_are_capped,
    trusted_proxies_give_forwarded_clients_their_own_caps,
    untrusted_peers_cannot_choose_their_address,
    websockets_leave_descriptors_for_plain_requests,
);

/// A WebSocket upgrade of `path`, from `forwarded_for` if given.
fn upgrade(path: &str, forwarded_for: Option<&str>) -> String {
    let forwarded = forwarded_for
        .map(|xff| format!("X-Forwarded-For: {xff}\r\n"))
        .unwrap_or_default();
    format!(
        "GET {path} HTTP/1.1\r\nHost: switchboard.test\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{forwarded}\r\n"
    )
}

/// Opens a WebSocket (left unauthenticated: it holds its slot all the same)
/// and returns its connection, or the refusal's status, head and JSON body.
async fn websocket(
    app: &TestApp,
    path: &str,
    forwarded_for: Option<&str>,
) -> Result<TcpStream, (u16, String, Value)> {
    let mut stream = connect(app).await;
    let (status, head, body) = exchange(&mut stream, &upgrade(path, forwarded_for)).await;
    if status == 101 {
        return Ok(stream);
    }
    let body = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{status}: {body:?}"));
    Err((status, head, body))
}

/// Asserts that an upgrade is refused with `status` and `code`, with a
/// `Retry-After`.
async fn refused(app: &TestApp, path: &str, forwarded_for: Option<&str>, status: u16, code: &str) {
    match websocket(app, path, forwarded_for).await {
        Ok(_) => panic!("{path} from {forwarded_for:?} was accepted"),
        Err((got, head, body)) => {
            assert_eq!(
                (got, body["error"].as_str()),
                (status, Some(code)),
                "{body}"
            );
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
            assert!(head.contains("retry-after: "), "{head}");
        }
    }
}

/// Retries an upgrade for a few seconds: a closed socket gives its slot
/// back once the server has noticed.
async fn accepted_again(app: &TestApp, path: &str, forwarded_for: Option<&str>) -> TcpStream {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        match websocket(app, path, forwarded_for).await {
            Ok(stream) => return stream,
            Err(refusal) if Instant::now() > until => panic!("still refused: {refusal:?}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

async fn websockets_per_address_are_capped(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn(&db, |s| s.edge.websockets_per_address = 2).await;
    // The cap is per client across both endpoints.
    let widget = websocket(&app, "/ws/widget", None).await.expect("first");
    let agent = websocket(&app, "/ws/agent", None).await.expect("second");
    refused(&app, "/ws/widget", None, 429, "too_many_connections").await;
    refused(&app, "/ws/agent", None, 429, "too_many_connections").await;

    // Plain requests are not WebSockets.
    let (status, _) = app.call(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(status, 200);

    // A socket closes: its slot is free again.
    drop(widget);
    let again = accepted_again(&app, "/ws/widget", None).await;
    refused(&app, "/ws/widget", None, 429, "too_many_connections").await;
    // Closed before stopping: the server would wait for open sockets.
    drop((agent, again));
    app.stop().await;
}

async fn trusted_proxies_give_forwarded_clients_their_own_caps(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn(&db, |s| {
        s.edge.trusted_proxies = vec![parse_proxy("127.0.0.1").expect("proxy")];
        s.edge.websockets_per_address = 1;
        s.edge.connections_per_address = 1;
    })
    .await;
    let first = websocket(&app, "/ws/widget", Some("203.0.113.5"))
        .await
        .expect("203.0.113.5");
    refused(
        &app,
        "/ws/widget",
        Some("203.0.113.5"),
        429,
        "too_many_connections",
    )
    .await;
    // What a client writes to the left of what our proxy saw changes nothing.
    let spoofed = Some("198.51.100.7, 203.0.113.5");
    refused(&app, "/ws/agent", spoofed, 429, "too_many_connections").await;
    // Other clients behind the same proxy have caps of their own.
    let second = websocket(&app, "/ws/widget", Some("203.0.113.6"))
        .await
        .expect("203.0.113.6");
    let chained = Some("203.0.113.7, 127.0.0.1");
    let third = websocket(&app, "/ws/agent", chained)
        .await
        .expect("chained");

    // The proxy carries everyone's connections: no TCP cap for it.
    let mut open = Vec::new();
    for _ in 0..4 {
        let mut stream = connect(&app).await;
        assert_eq!(exchange(&mut stream, HEALTHZ).await.0, 200);
        open.push(stream);
    }
    drop((first, second, third));
    app.stop().await;
}

async fn untrusted_peers_cannot_choose_their_address(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn(&db, |s| {
        s.edge.trusted_proxies = vec![parse_proxy("10.0.0.0/8").expect("proxy")];
        s.edge.websockets_per_address = 1;
    })
    .await;
    let first = websocket(&app, "/ws/widget", Some("203.0.113.5"))
        .await
        .expect("first");
    // Our peer (127.0.0.1) is no trusted proxy: its header is ignored.
    refused(
        &app,
        "/ws/widget",
        Some("203.0.113.6"),
        429,
        "too_many_connections",
    )
    .await;
    refused(&app, "/ws/widget", None, 429, "too_many_connections").await;
    drop(first);
    app.stop().await;
}

async fn websockets_leave_descriptors_for_plain_requests(db: Db) {
    let db = TestDb::new(db).await;
    let (limit, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).expect("open files limit");
    // Room for exactly one WebSocket.
    let app = spawn(&db, |s| s.edge.descriptor_reserve = limit.saturating_sub(1)).await;
    let first = websocket(&app, "/ws/widget", None).await.expect("first");
    refused(&app, "/ws/agent", None, 503, "at_capacity").await;
    let (status, _) = app.call(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(status, 200, "plain requests still get a descriptor");
    drop(first);
    drop(accepted_again(&app, "/ws/agent", None).await);
    app.stop().await;
}

/// `X-Forwarded-For` is read from the right and believed only as far as
/// trusted proxies vouch for it.
#[test]
fn client_addresses_are_read_from_the_right() {
    let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
    let trusted =
        TrustedProxies::new(["10.0.0.0/8", "::1"].map(|p| parse_proxy(p).expect("proxy")));
    let client = |peer: &str, lines: &[&str]| {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append("x-forwarded-for", line.parse().expect("value"));
        }
        ClientAddr::resolve(ip(peer), &headers, &trusted).ip()
    };
    // An untrusted peer is the client, whatever it writes.
    assert_eq!(client("192.0.2.1", &["203.0.113.5"]), ip("192.0.2.1"));
    // A trusted one: the right-most address that is not a trusted proxy.
    assert_eq!(
        client("10.0.0.1", &["198.51.100.7, 203.0.113.5"]),
        ip("203.0.113.5")
    );
    assert_eq!(
        client("10.0.0.1", &["203.0.113.5, 10.0.0.2"]),
        ip("203.0.113.5")
    );
    assert_eq!(
        client("10.0.0.1", &["198.51.100.7", "203.0.113.5"]),
        ip("203.0.113.5")
    );
    assert_eq!(client("::1", &["[2001:db8::7]:443"]), ip("2001:db8::7"));
    assert_eq!(
        client("10.0.0.1", &["203.0.113.5:51000"]),
        ip("203.0.113.5")
    );
    // An IPv4 peer as a dual-stack listener reports it.
    assert_eq!(
        client("::ffff:10.0.0.1", &["203.0.113.5"]),
        ip("203.0.113.5")
    );
    // Nothing usable: the last trusted hop.
    assert_eq!(client("10.0.0.1", &[]), ip("10.0.0.1"));
    assert_eq!(client("10.0.0.1", &["unknown, 10.0.0.2"]), ip("10.0.0.2"));
    assert_eq!(client("10.0.0.1", &["203.0.113.5, junk"]), ip("10.0.0.1"));
    assert!(parse_proxy("not an address").is_err());
}
