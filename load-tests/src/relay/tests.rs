//! The relay on its own: routing both ways, refusals, shutdown.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::*;

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(relay: &Relay, path: &str) -> Client {
    let url = format!("ws://{}{path}", relay.addr);
    tokio_tungstenite::connect_async(url)
        .await
        .expect("connects")
        .0
}

/// The next message, within a second.
async fn next(ws: &mut Client) -> Message {
    tokio::time::timeout(Duration::from_secs(1), ws.next())
        .await
        .expect("a frame in time")
        .expect("open")
        .expect("readable")
}

async fn send(ws: &mut Client, text: &str) {
    ws.send(Message::text(text)).await.expect("sent");
}

#[test]
fn urls_name_the_side() {
    assert_eq!(
        Role::parse("/visitor", Some("room=7&agent=2")),
        Some(Role::Visitor { room: 7, agent: 2 })
    );
    assert_eq!(
        Role::parse("/visitor", Some("room=7")),
        Some(Role::Visitor { room: 7, agent: 0 })
    );
    assert_eq!(Role::parse("/agent", None), Some(Role::Agent { id: 0 }));
    assert_eq!(
        Role::parse("/agent", Some("id=3")),
        Some(Role::Agent { id: 3 })
    );
    assert_eq!(Role::parse("/visitor", None), None, "a room is required");
    assert_eq!(Role::parse("/visitor", Some("room=x")), None);
    assert_eq!(Role::parse("/other", Some("room=1")), None);
}

#[tokio::test]
async fn frames_go_to_the_other_side_of_their_room_as_they_are() {
    let relay = start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("starts");
    let mut agent = connect(&relay, "/agent?id=1").await;
    let mut other_agent = connect(&relay, "/agent?id=2").await;
    let mut v7 = connect(&relay, "/visitor?room=7&agent=1").await;
    let mut v8 = connect(&relay, "/visitor?room=8&agent=1").await;
    let mut v9 = connect(&relay, "/visitor?room=9&agent=2").await;

    send(&mut v7, "hello from 7").await;
    send(&mut v8, "{\"not\": \"parsed\"}").await;
    assert_eq!(next(&mut agent).await, Message::text("hello from 7"));
    assert_eq!(
        next(&mut agent).await,
        Message::text("{\"not\": \"parsed\"}")
    );
    send(&mut v9, "to agent 2").await;
    assert_eq!(next(&mut other_agent).await, Message::text("to agent 2"));

    // Nowhere to go (no room 5, no room number): dropped; the rest flows.
    send(&mut agent, "5 nobody").await;
    send(&mut agent, "no-room").await;
    send(&mut agent, "8 answer to 8").await;
    send(&mut agent, "7 answer to 7").await;
    assert_eq!(next(&mut v8).await, Message::text("8 answer to 8"));
    assert_eq!(next(&mut v7).await, Message::text("7 answer to 7"));
    assert_eq!(relay.dropped_frames(), 2);
    assert!(
        tokio::time::timeout(Duration::from_millis(100), v9.next())
            .await
            .is_err(),
        "room 9 hears nothing"
    );

    // Shutting down closes every socket with 1001.
    let stopping = tokio::spawn(relay.stop());
    for ws in [&mut agent, &mut v7] {
        match next(ws).await {
            Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Away),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
    drop((agent, other_agent, v7, v8, v9));
    stopping.await.expect("joined").expect("stopped cleanly");
}

#[tokio::test]
async fn other_paths_are_refused() {
    let relay = start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("starts");
    let url = format!("ws://{}/visitor", relay.addr);
    let refused = tokio_tungstenite::connect_async(url).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 404);
        }
        other => panic!("expected a 404, got {other:?}"),
    }
    relay.stop().await.expect("stopped");
}
