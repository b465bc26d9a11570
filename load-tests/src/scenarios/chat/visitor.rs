//! `chat`'s visitors: each starts a conversation, then writes on schedule
//! and measures the answers.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_protocol::realtime::{event, VisitorFrame};
use tokio::sync::Semaphore;

use super::Shared;
use crate::net::{Peek, Stamp, Ws};
use crate::scenarios::{next_phase, Phase};

/// One visitor: starts a conversation, then (once the run starts) writes at
/// the scheduled rate and measures the agent's answers.
pub(super) async fn visitor_task(
    dialer: Arc<crate::net::Dialer>,
    handshakes: Arc<Semaphore>,
    website_token: String,
    lane: usize,
    shared: Arc<Shared>,
    mut phase: tokio::sync::watch::Receiver<Phase>,
) {
    let opened = {
        let Ok(_permit) = handshakes.acquire().await else {
            return;
        };
        dialer.visitor(lane, &website_token).await
    };
    let mut ws = match opened {
        Ok((ws, _)) => ws,
        Err(e) => {
            shared.c.failed.inc();
            shared.errors.add(format!("visitor_{}", e.kind), e);
            return;
        }
    };
    shared.c.visitors_open.inc();
    let conversation_id = match start_conversation(&mut ws, lane).await {
        Ok(id) => id,
        Err(e) => {
            shared.c.failed.inc();
            shared.errors.add("start_conversation", e);
            return;
        }
    };
    shared.conversations[lane].store(conversation_id, Ordering::Relaxed);
    shared.c.started.inc();

    let mut a2v = shared.agent_to_visitor.local();
    let mut ack = shared.visitor_ack.local();
    let mut echo = shared.visitor_echo.local();
    let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);
    let mut start: Option<Instant> = None;
    let mut sending = false;
    let mut seq = 0usize;
    let capacity = shared.from_visitors.capacity();
    loop {
        let next = match start {
            Some(at) if sending && seq < capacity => shared.send_time(at, lane, seq),
            _ => far,
        };
        tokio::select! {
            biased;
            p = next_phase(&mut phase) => match p {
                Phase::Run { at } => {
                    start = Some(at);
                    sending = true;
                }
                Phase::Stop => sending = false,
                Phase::Close => break,
                Phase::Setup => {}
            },
            text = ws.next_text() => {
                let text = match text {
                    Ok(t) => t,
                    Err(ended) => {
                        shared.errors.add("visitor_disconnected", ended);
                        return;
                    }
                };
                let Ok(peek) = Peek::parse(&text) else {
                    shared.errors.add("visitor_unreadable_frame", &*text);
                    continue;
                };
                let d = &peek.data;
                match peek.event.as_ref() {
                    event::ACK => {
                        let seq = d.echo_id.as_deref().and_then(|e| echo_seq(e, 'v', lane));
                        if let (Some(seq), Some(id), Some(at)) = (seq, d.message_id, start) {
                            if shared.from_visitors.acked(lane, seq, id) {
                                shared.c.acked.inc();
                                ack.record(shared.clock.since_us(
                                    shared.clock.at_us(shared.send_time(at, lane, seq)),
                                ));
                            }
                        }
                    }
                    event::MESSAGE_CREATED => {
                        shared.c.deliveries.inc();
                        let Some(stamp) = d.content.as_deref().and_then(|c| Stamp::parse(c, &shared.run)) else {
                            continue;
                        };
                        if stamp.lane != lane {
                            shared.errors.add("misrouted", format!("visitor {lane} received {stamp:?}"));
                            continue;
                        }
                        match stamp.kind {
                            'a' => {
                                a2v.record(shared.clock.since_us(stamp.at_us));
                                shared.c.agent_to_visitor.inc();
                                shared.from_agents.seen(lane, stamp.seq);
                            }
                            'v' => echo.record(shared.clock.since_us(stamp.at_us)),
                            _ => {}
                        }
                    }
                    event::ERROR => {
                        shared.errors.add(
                            format!("visitor_error_{}", d.error.as_deref().unwrap_or("unknown")),
                            d.message.as_deref().unwrap_or(""),
                        );
                    }
                    _ => {}
                }
            }
            _ = tokio::time::sleep_until(next.into()), if next != far => {
                let stamp = Stamp {
                    kind: 'v',
                    lane,
                    seq,
                    at_us: shared.clock.at_us(next),
                };
                let frame = VisitorFrame::Message {
                    conversation_id,
                    content: stamp.content(&shared.run),
                    echo_id: Some(format!("v{lane}-{seq}")),
                };
                shared.from_visitors.sent(lane, seq);
                seq += 1;
                shared.c.sent.inc();
                if let Err(e) = ws.send(&frame).await {
                    shared.errors.add("visitor_send", e);
                    return;
                }
            }
        }
    }
    drop((a2v, ack, echo));
    ws.close().await;
}

/// Sends `start_conversation` and waits for its `ack`; the conversation id.
pub(crate) async fn start_conversation(ws: &mut Ws, lane: usize) -> Result<i64, String> {
    let echo = format!("s{lane}");
    ws.send(&VisitorFrame::StartConversation {
        content: None,
        echo_id: Some(echo.clone()),
    })
    .await?;
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let text = ws.next_text().await.map_err(|e| e.to_string())?;
            let peek = Peek::parse(&text)?;
            match peek.event.as_ref() {
                event::ACK if peek.data.echo_id.as_deref() == Some(echo.as_str()) => {
                    return peek
                        .data
                        .conversation_id
                        .ok_or_else(|| "an ack without a conversation".to_string())
                }
                event::ERROR => {
                    return Err(format!(
                        "{}: {}",
                        peek.data.error.as_deref().unwrap_or("error"),
                        peek.data.message.as_deref().unwrap_or("")
                    ))
                }
                _ => {}
            }
        }
    })
    .await
    .map_err(|_| "no ack for start_conversation within 30 s".to_string())?
}

/// The sequence number in an echo id `<kind><lane>-<seq>` of this lane.
pub(crate) fn echo_seq(echo: &str, kind: char, lane: usize) -> Option<usize> {
    let rest = echo.strip_prefix(kind)?;
    let (l, s) = rest.split_once('-')?;
    (l.parse::<usize>().ok()? == lane).then_some(())?;
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::echo_seq;

    #[test]
    fn echo_ids_name_lane_and_sequence() {
        assert_eq!(echo_seq("v12-3", 'v', 12), Some(3));
        assert_eq!(echo_seq("v12-3", 'v', 1), None);
        assert_eq!(echo_seq("a12-3", 'v', 12), None);
        assert_eq!(echo_seq("s12", 'v', 12), None);
    }
}
