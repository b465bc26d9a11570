//! Connections: half-open ones do not hold up shutdown, slow heads and
//! stalled bodies are cut, one address holds a bounded number.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{closed_within, connect, exchange, spawn, try_exchange, HEALTHZ};
use crate::both_databases;
use crate::common::{Db, TestDb};

both_databases!(
    half_open_connections_do_not_hold_up_shutdown,
    slow_heads_are_cut_at_the_header_timeout,
    connections_past_the_per_address_cap_are_refused,
    stalled_bodies_get_a_json_408,
);

async fn half_open_connections_do_not_hold_up_shutdown(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn(&db, |s| {
        s.edge.shutdown_timeout = Duration::from_millis(500)
    })
    .await;
    let mut held = Vec::new();
    // Half a request line, a head without its blank line, nothing at all.
    for partial in ["GET /heal", "GET /healthz HTTP/1.1\r\nHost: x\r\n", ""] {
        for _ in 0..3 {
            let mut stream = connect(&app).await;
            stream.write_all(partial.as_bytes()).await.expect("write");
            held.push(stream);
        }
    }
    // And an idle keep-alive connection.
    let mut idle = connect(&app).await;
    assert_eq!(exchange(&mut idle, HEALTHZ).await.0, 200);
    held.push(idle);

    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(3), app.stop())
        .await
        .expect("the server stops within 3 s despite half-open connections");
    assert!(started.elapsed() < Duration::from_secs(3));
    for stream in &mut held {
        assert!(closed_within(stream, Duration::from_secs(1)).await);
    }
}

async fn slow_heads_are_cut_at_the_header_timeout(db: Db) {
    let db = TestDb::new(db).await;
    let timeout = Duration::from_millis(400);
    let app = spawn(&db, |s| s.edge.header_read_timeout = timeout).await;

    // A head sent in time is served.
    let mut prompt = connect(&app).await;
    assert_eq!(exchange(&mut prompt, HEALTHZ).await.0, 200);

    // A header line every 100 ms: the head never completes in time.
    let (mut reader, mut writer) = connect(&app).await.into_split();
    let started = Instant::now();
    let drip = tokio::spawn(async move {
        let _ = writer.write_all(b"GET /healthz HTTP/1.1\r\n").await;
        while writer.write_all(b"X-Drip: 1\r\n").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut chunk = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(3), reader.read(&mut chunk)).await;
    assert!(
        matches!(read, Ok(Ok(0) | Err(_))),
        "a dripping head is cut, with no answer: {read:?}"
    );
    let took = started.elapsed();
    assert!(took >= timeout - Duration::from_millis(50), "{took:?}");
    drip.abort();

    // An idle keep-alive connection waits for its next head no longer.
    assert!(closed_within(&mut prompt, Duration::from_secs(2)).await);
    app.stop().await;
}

async fn connections_past_the_per_address_cap_are_refused(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn(&db, |s| s.edge.connections_per_address = 3).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut stream = connect(&app).await;
        assert_eq!(exchange(&mut stream, HEALTHZ).await.0, 200);
        open.push(stream);
    }

    // The fourth is closed as soon as it is accepted...
    let mut fourth = connect(&app).await;
    assert!(closed_within(&mut fourth, Duration::from_secs(2)).await);
    assert!(try_exchange(&mut connect(&app).await, HEALTHZ)
        .await
        .is_none());

    // ...while the three keep working, and the refusals are counted.
    for stream in &mut open {
        assert_eq!(exchange(stream, HEALTHZ).await.0, 200);
    }
    let metrics = "GET /metrics HTTP/1.1\r\nHost: switchboard.test\r\n\r\n";
    let (_, _, text) = exchange(&mut open[0], metrics).await;
    assert!(
        text.contains("switchboard_connections_refused_total{reason=\"tcp_per_address\"} 2"),
        "{text}"
    );

    // One closes: a new connection is served again.
    drop(open.pop());
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some((status, _, _)) = try_exchange(&mut connect(&app).await, HEALTHZ).await {
            assert_eq!(status, 200);
            break;
        }
        assert!(Instant::now() < until, "no room came back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop().await;
}

async fn stalled_bodies_get_a_json_408(db: Db) {
    let db = TestDb::new(db).await;
    let app = spawn(&db, |s| {
        s.edge.body_read_timeout = Duration::from_millis(300)
    })
    .await;
    // 100 bytes promised, 10 sent.
    let request = "POST /auth/sign_in HTTP/1.1\r\nHost: switchboard.test\r\n\
                   Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":";
    let (status, body) = app.raw_http(request).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (408, Some("request_timeout")),
        "{body}"
    );
    // A body sent in time is read as usual.
    let (status, body) = app
        .call(
            reqwest::Method::POST,
            "/auth/sign_in",
            None,
            Some(serde_json::json!({"email": "nobody@acme.test", "password": "password123"})),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    app.stop().await;
}
