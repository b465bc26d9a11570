//! `chat`'s visitors: each starts a conversation, then writes on schedule
//! and measures the answers.
//!
//! A visitor whose socket drops (or whose oldest unanswered message waits
//! longer than [`STUCK_AFTER`]) reconnects to the next URL with its token
//! and last cursor, and sends every unacknowledged message again with the
//! same `echo_id` (the server answers a repeated one with the first
//! message). A message refused with an `error` is sent again after a
//! pause. Answers come in the order frames were sent (the server handles
//! a connection's frames one at a time), which is how an `error`, which
//! names no `echo_id`, is matched to its message. After a `resync` the
//! visitor reloads its conversation with `history` and counts the agent
//! replies it finds there and had missed as delivered.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_protocol::realtime::{event, VisitorFrame};
use tokio::sync::Semaphore;

use super::recovery::{pause, RECONNECT_ATTEMPTS};
use super::Shared;
use crate::net::{Dialer, Peek, Stamp, Ws};
use crate::scenarios::{next_phase, Phase};
use crate::stats::LocalLatency;

/// An unanswered message older than this means the connection is stuck
/// (a node waiting for an account's dead owner): reconnect elsewhere.
const STUCK_AFTER: Duration = Duration::from_secs(5);
/// Failed attempts before a message is given up (counted as an error).
const MESSAGE_ATTEMPTS: u32 = 8;

/// One visitor: starts a conversation, then (once the run starts) writes at
/// the scheduled rate and measures the agent's answers.
pub(super) async fn visitor_task(
    dialer: Arc<Dialer>,
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
    let started = match start(&mut ws, lane).await {
        Ok(started) => started,
        Err(e) => {
            shared.c.failed.inc();
            shared.errors.add("start_conversation", e);
            return;
        }
    };
    shared.conversations[lane].store(started.conversation_id, Ordering::Relaxed);
    shared.c.started.inc();
    let mut v = Visitor {
        lane,
        dialer: &dialer,
        website_token: &website_token,
        shared: &shared,
        conversation_id: started.conversation_id,
        visitor_token: started.visitor_token,
        cursor: started.cursor,
        at: lane,
        start: None,
        pending: BTreeMap::new(),
        awaiting: VecDeque::new(),
        resend_at: None,
        failures: 0,
        a2v: shared.agent_to_visitor.local(),
        ack: shared.visitor_ack.local(),
        echo: shared.visitor_echo.local(),
    };
    let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);
    let mut sending = false;
    let mut seq = 0usize;
    let capacity = shared.from_visitors.capacity();
    loop {
        let next = match v.start {
            Some(at) if sending && seq < capacity => shared.send_time(at, lane, seq),
            _ => far,
        };
        let stuck = v
            .awaiting
            .front()
            .map_or(far, |(_, sent)| *sent + STUCK_AFTER);
        let resend = v.resend_at.unwrap_or(far);
        let trouble = tokio::select! {
            biased;
            p = next_phase(&mut phase) => match p {
                Phase::Run { at } => {
                    v.start = Some(at);
                    sending = true;
                    None
                }
                Phase::Stop => {
                    sending = false;
                    None
                }
                Phase::Close => break,
                Phase::Setup => None,
            },
            text = ws.next_text() => match text {
                Ok(text) => v.frame(&mut ws, &text).await.err(),
                Err(ended) => Some(("visitor_disconnected", ended.to_string())),
            },
            _ = tokio::time::sleep_until(stuck.into()), if stuck != far => {
                Some(("visitor_stuck", format!("no answer within {STUCK_AFTER:?}")))
            }
            _ = tokio::time::sleep_until(resend.into()), if resend != far => {
                v.resend_at = None;
                v.resend_pending(&mut ws).await.err()
            }
            _ = tokio::time::sleep_until(next.into()), if next != far => {
                shared.from_visitors.sent(lane, seq);
                shared.c.sent.inc();
                v.pending.insert(seq, 0);
                seq += 1;
                v.send(&mut ws, seq - 1).await.err()
            }
        };
        if let Some((kind, why)) = trouble {
            shared.errors.add(kind, why);
            match v.reconnect().await {
                Some(new) => ws = new,
                None => return,
            }
            if let Err((kind, why)) = v.resend_pending(&mut ws).await {
                shared.errors.add(kind, why);
            }
        }
    }
    drop(v);
    ws.close().await;
}

/// A failure that makes the visitor reconnect: an error kind and why.
type Trouble = (&'static str, String);

/// A visitor's state across its connections.
struct Visitor<'a> {
    lane: usize,
    dialer: &'a Dialer,
    website_token: &'a str,
    shared: &'a Shared,
    conversation_id: i64,
    visitor_token: Option<String>,
    /// The latest cursor seen: where a new connection resumes.
    cursor: Option<u64>,
    /// The URL in use (mod their number).
    at: usize,
    /// When the measured phase started: messages' send times follow from it.
    start: Option<Instant>,
    /// Sent, not acknowledged: failed attempts of each, by sequence number.
    pending: BTreeMap<usize, u32>,
    /// What the connection owes an answer to, in order: a message's
    /// sequence number, or `None` for a `history` request; and when sent.
    awaiting: VecDeque<(Option<usize>, Instant)>,
    /// When messages refused with an `error` are sent again.
    resend_at: Option<Instant>,
    /// Failures since the last acknowledgement (sets the pause).
    failures: u32,
    a2v: LocalLatency,
    ack: LocalLatency,
    echo: LocalLatency,
}

impl Visitor<'_> {
    /// Sends message `seq` (again: the same content and `echo_id`).
    async fn send(&mut self, ws: &mut Ws, seq: usize) -> Result<(), Trouble> {
        let Some(at) = self.start else {
            return Ok(());
        };
        let stamp = Stamp {
            kind: 'v',
            lane: self.lane,
            seq,
            at_us: self
                .shared
                .clock
                .at_us(self.shared.send_time(at, self.lane, seq)),
        };
        let frame = VisitorFrame::Message {
            conversation_id: self.conversation_id,
            content: stamp.content(&self.shared.run),
            echo_id: Some(format!("v{}-{seq}", self.lane)),
        };
        self.awaiting.push_back((Some(seq), Instant::now()));
        ws.send(&frame).await.map_err(|e| ("visitor_send", e))
    }

    /// Sends every unacknowledged message not already awaiting an answer.
    async fn resend_pending(&mut self, ws: &mut Ws) -> Result<(), Trouble> {
        let waiting: Vec<usize> = self.awaiting.iter().filter_map(|(s, _)| *s).collect();
        let again: Vec<usize> = self
            .pending
            .keys()
            .copied()
            .filter(|s| !waiting.contains(s))
            .collect();
        for seq in again {
            self.shared.c.resent.inc();
            self.send(ws, seq).await?;
        }
        Ok(())
    }

    /// A failed attempt of every message in `seqs`: counted, and given up
    /// after [`MESSAGE_ATTEMPTS`].
    fn attempts_failed(&mut self, seqs: &[usize], kind: &str, why: &str) {
        self.shared.recovery.failed(self.lane);
        self.failures += 1;
        for seq in seqs {
            let Some(failed) = self.pending.get_mut(seq) else {
                continue;
            };
            *failed += 1;
            self.shared.retried.add(kind, why);
            if *failed >= MESSAGE_ATTEMPTS {
                self.pending.remove(seq);
                self.shared
                    .errors
                    .add("visitor_message_given_up", format!("{kind}: {why}"));
            }
        }
    }

    /// Opens a new connection on the next URL, resuming after the last
    /// cursor; `None` (an error) after [`RECONNECT_ATTEMPTS`].
    async fn reconnect(&mut self) -> Option<Ws> {
        let pending: Vec<usize> = self.pending.keys().copied().collect();
        self.attempts_failed(&pending, "visitor_reconnected", "the connection failed");
        self.awaiting.clear();
        for attempt in 1..=RECONNECT_ATTEMPTS {
            tokio::time::sleep(pause(attempt)).await;
            self.at += 1;
            let opened = self
                .dialer
                .returning_visitor(
                    self.at,
                    self.website_token,
                    self.visitor_token.as_deref(),
                    self.cursor,
                )
                .await;
            match opened {
                Ok((ws, welcome, cursor)) => {
                    self.shared.c.reconnects.inc();
                    if !welcome.resumed {
                        self.cursor = self.cursor.max(cursor);
                    }
                    return Some(ws);
                }
                Err(e) => {
                    self.shared.recovery.failed(self.lane);
                    self.shared
                        .errors
                        .add(format!("visitor_reconnect_{}", e.kind), e);
                }
            }
        }
        self.shared.errors.add(
            "visitor_gave_up",
            format!("visitor {} could not reconnect", self.lane),
        );
        None
    }

    /// Handles one frame from the server.
    async fn frame(&mut self, ws: &mut Ws, text: &str) -> Result<(), Trouble> {
        let Ok(peek) = Peek::parse(text) else {
            self.shared.errors.add("visitor_unreadable_frame", text);
            return Ok(());
        };
        let d = &peek.data;
        match peek.event.as_ref() {
            event::RESYNC => {
                self.shared.c.resyncs.inc();
                self.cursor = peek.cursor;
                return self.ask_history(ws, None).await;
            }
            event::HISTORY => {
                self.awaiting.pop_front();
                let older = self.history(text);
                if let Some(before) = older {
                    return self.ask_history(ws, Some(before)).await;
                }
            }
            event::ACK => {
                self.cursor = self.cursor.max(peek.cursor);
                let seq = d
                    .echo_id
                    .as_deref()
                    .and_then(|e| echo_seq(e, 'v', self.lane));
                if let Some(seq) = seq {
                    self.awaiting.retain(|(s, _)| *s != Some(seq));
                    if let Some(id) = d.message_id {
                        self.acked(seq, id);
                    }
                }
            }
            event::MESSAGE_CREATED => {
                self.cursor = self.cursor.max(peek.cursor);
                self.delivered(d.content.as_deref());
            }
            event::ERROR => {
                let code = format!("visitor_error_{}", d.error.as_deref().unwrap_or("unknown"));
                let why = d.message.as_deref().unwrap_or("");
                match self.awaiting.pop_front() {
                    Some((Some(seq), _)) => {
                        self.attempts_failed(&[seq], &code, why);
                        let wait = pause(self.failures);
                        self.resend_at = Some(self.resend_at.unwrap_or(Instant::now() + wait));
                    }
                    _ => self.shared.errors.add(code, why),
                }
            }
            _ => self.cursor = self.cursor.max(peek.cursor),
        }
        Ok(())
    }

    fn acked(&mut self, seq: usize, id: i64) {
        let Some(failed) = self.pending.remove(&seq) else {
            return;
        };
        let shared = self.shared;
        shared.recovery.succeeded(self.lane);
        self.failures = 0;
        if failed > 0 {
            shared.c.retried_writes.inc();
        }
        if let (true, Some(at)) = (shared.from_visitors.acked(self.lane, seq, id), self.start) {
            shared.c.acked.inc();
            let due = shared.clock.at_us(shared.send_time(at, self.lane, seq));
            self.ack.record(shared.clock.since_us(due));
        }
    }

    /// A `message.created` of this visitor's conversation.
    fn delivered(&mut self, content: Option<&str>) {
        let shared = self.shared;
        shared.c.deliveries.inc();
        let Some(stamp) = content.and_then(|c| Stamp::parse(c, &shared.run)) else {
            return;
        };
        if stamp.lane != self.lane {
            shared.errors.add(
                "misrouted",
                format!("visitor {} received {stamp:?}", self.lane),
            );
            return;
        }
        match stamp.kind {
            'a' => {
                self.a2v.record(shared.clock.since_us(stamp.at_us));
                shared.c.agent_to_visitor.inc();
                shared.from_agents.seen(self.lane, stamp.seq);
            }
            'v' => self.echo.record(shared.clock.since_us(stamp.at_us)),
            _ => {}
        }
    }

    async fn ask_history(&mut self, ws: &mut Ws, before: Option<i64>) -> Result<(), Trouble> {
        let frame = VisitorFrame::History {
            conversation_id: self.conversation_id,
            before,
        };
        self.awaiting.push_back((None, Instant::now()));
        ws.send(&frame).await.map_err(|e| ("visitor_send", e))
    }

    /// Counts the agent replies a `history` page holds that this visitor
    /// had missed; the id to read older messages before, when the page
    /// had some (older ones may have been missed too).
    fn history(&mut self, text: &str) -> Option<i64> {
        #[derive(serde::Deserialize)]
        struct Page {
            data: PageData,
        }
        #[derive(serde::Deserialize)]
        struct PageData {
            has_more: bool,
            messages: Vec<Old>,
        }
        #[derive(serde::Deserialize)]
        struct Old {
            id: i64,
            content: Option<String>,
        }
        let page: Page = match serde_json::from_str(text) {
            Ok(page) => page,
            Err(e) => {
                self.shared.errors.add("visitor_unreadable_history", e);
                return None;
            }
        };
        let mut found = false;
        for m in &page.data.messages {
            let stamp = m
                .content
                .as_deref()
                .and_then(|c| Stamp::parse(c, &self.shared.run));
            if let Some(s) = stamp.filter(|s| s.kind == 'a' && s.lane == self.lane) {
                if self.shared.from_agents.reloaded(self.lane, s.seq) {
                    self.shared.c.reloaded.inc();
                    found = true;
                }
            }
        }
        let oldest = page.data.messages.iter().map(|m| m.id).min();
        oldest.filter(|_| found && page.data.has_more)
    }
}

/// Sends `start_conversation` and waits for its `ack`; the conversation id.
pub(crate) async fn start_conversation(ws: &mut Ws, lane: usize) -> Result<i64, String> {
    start(ws, lane).await.map(|s| s.conversation_id)
}

/// What a visitor needs to come back after starting its conversation.
struct Started {
    conversation_id: i64,
    /// From the `identity` frame a new visitor's first write brings.
    visitor_token: Option<String>,
    cursor: Option<u64>,
}

/// Sends `start_conversation` and waits for its `ack`.
async fn start(ws: &mut Ws, lane: usize) -> Result<Started, String> {
    let echo = format!("s{lane}");
    let (mut visitor_token, mut cursor) = (None, None);
    ws.send(&VisitorFrame::StartConversation {
        content: None,
        echo_id: Some(echo.clone()),
    })
    .await?;
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let text = ws.next_text().await.map_err(|e| e.to_string())?;
            let peek = Peek::parse(&text)?;
            cursor = cursor.max(peek.cursor);
            match peek.event.as_ref() {
                event::IDENTITY => visitor_token = peek.data.visitor_token.map(String::from),
                event::ACK if peek.data.echo_id.as_deref() == Some(echo.as_str()) => {
                    let conversation_id = peek
                        .data
                        .conversation_id
                        .ok_or_else(|| "an ack without a conversation".to_string())?;
                    return Ok(Started {
                        conversation_id,
                        visitor_token,
                        cursor,
                    });
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
