//! What the two halves of `compare` share: the tallies, the visitor (the
//! same loop against both targets, only the frames differ), the measured
//! phase and the half's report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_protocol::realtime::{event, VisitorFrame};
use tokio::sync::watch;

use super::pace::{Mode, Pacer};
use crate::ledger::Ledger;
use crate::net::{Peek, Stamp, Ws};
use crate::report::{Measure, Report};
use crate::scenarios::chat::echo_seq;
use crate::scenarios::{next_phase, per_second, wait_until, Counter, Ctx, Phase};
use crate::stats::{Clock, CpuWindow, Errors, Latency};

/// What one half counts. A message is delivered when it reaches the other
/// side: a visitor's at the agent, an answer at the visitor.
pub(super) struct Tally {
    pub run: Arc<str>,
    pub clock: Clock,
    pub errors: Arc<Errors>,
    pub mode: Mode,
    pub lanes: usize,
    /// Most messages one visitor may send (the ledgers' size).
    pub capacity: usize,
    pub v2a: Arc<Latency>,
    pub a2v: Arc<Latency>,
    /// A visitor's message to its answer: what paces the closed loop.
    pub round_trip: Arc<Latency>,
    /// Switchboard only: every message, its acknowledgement and delivery,
    /// checked against the database at the end (the relay keeps nothing).
    pub ledgers: Option<Ledgers>,
    pub c: Counts,
}

pub(super) struct Ledgers {
    /// Visitor messages, due at the conversation's agent.
    pub visitors: Ledger,
    /// Answers, due at the visitor.
    pub agents: Ledger,
}

#[derive(Default)]
pub(super) struct Counts {
    /// Visitors connected (and, on switchboard, with a conversation).
    pub ready: Counter,
    pub failed: Counter,
    pub sent: Counter,
    /// Visitor messages that reached their agent.
    pub v2a: Counter,
    /// Answers that reached their visitor.
    pub a2v: Counter,
    /// Answers matched to a message the visitor was waiting on.
    pub answered: Counter,
    /// Sends `--max-rate` held back (closed loop) ...
    pub capped: Counter,
    /// ... and for how long in all, µs.
    pub held_us: Counter,
    /// Switchboard: answers being posted over REST.
    pub replies_in_flight: Counter,
}

impl Tally {
    pub(super) fn new(
        ctx: &Ctx,
        mode: Mode,
        lanes: usize,
        capacity: usize,
        ledgers: bool,
    ) -> Tally {
        Tally {
            run: ctx.run.clone(),
            clock: ctx.clock,
            errors: ctx.errors.clone(),
            mode,
            lanes,
            capacity,
            v2a: Latency::new(),
            a2v: Latency::new(),
            round_trip: Latency::new(),
            ledgers: ledgers.then(|| Ledgers {
                visitors: Ledger::new(lanes, capacity, 1),
                agents: Ledger::new(lanes, capacity, 1),
            }),
            c: Counts::default(),
        }
    }

    fn delivered(&self) -> u64 {
        self.c.v2a.get() + self.c.a2v.get()
    }

    /// Nothing on its way any more.
    fn settled(&self) -> bool {
        self.c.sent.get() == self.c.answered.get()
            && self.c.replies_in_flight.get() == 0
            && self
                .ledgers
                .as_ref()
                .is_none_or(|l| l.visitors.in_flight() == 0 && l.agents.in_flight() == 0)
    }
}

/// The two targets' frames.
#[derive(Debug, Clone, Copy)]
pub(super) enum Wire {
    /// `"<room> <stamp>"` both ways.
    Relay,
    /// `message` frames with an `echo_id` out; `ack` and `message.created` in.
    Switchboard,
}

/// What a frame a visitor received means.
pub(super) enum Heard {
    /// The agent's answer.
    Answer(Stamp),
    /// Switchboard made message `seq` durable as `id`.
    Ack {
        seq: usize,
        id: i64,
    },
    Error(String, String),
    Other,
}

impl Wire {
    fn message(self, run: &str, lane: usize, conversation: i64, stamp: &Stamp) -> String {
        match self {
            Wire::Relay => format!("{conversation} {}", stamp.content(run)),
            Wire::Switchboard => serde_json::to_string(&VisitorFrame::Message {
                conversation_id: conversation,
                content: stamp.content(run),
                echo_id: Some(format!("v{lane}-{}", stamp.seq)),
            })
            .unwrap_or_default(),
        }
    }

    fn heard(self, run: &str, lane: usize, text: &str) -> Heard {
        let answer = |content: &str| match Stamp::parse(content, run) {
            Some(s) if s.kind == 'a' && s.lane == lane => Heard::Answer(s),
            Some(s) if s.kind == 'a' => {
                Heard::Error("misrouted".into(), format!("visitor {lane} got {s:?}"))
            }
            _ => Heard::Other,
        };
        match self {
            Wire::Relay => match text.split_once(' ') {
                Some((_, content)) => answer(content),
                None => Heard::Error("visitor_unexpected_frame".into(), text.into()),
            },
            Wire::Switchboard => {
                let Ok(peek) = Peek::parse(text) else {
                    return Heard::Error("visitor_unreadable_frame".into(), text.into());
                };
                let d = &peek.data;
                match peek.event.as_ref() {
                    event::ACK => match (d.echo_id.as_deref(), d.message_id) {
                        (Some(echo), Some(id)) => echo_seq(echo, 'v', lane)
                            .map_or(Heard::Other, |seq| Heard::Ack { seq, id }),
                        _ => Heard::Other,
                    },
                    // The visitor's own messages come back too: not answers.
                    event::MESSAGE_CREATED => d.content.as_deref().map_or(Heard::Other, answer),
                    event::ERROR => Heard::Error(
                        format!("visitor_error_{}", d.error.as_deref().unwrap_or("unknown")),
                        d.message.as_deref().unwrap_or("").into(),
                    ),
                    _ => Heard::Other,
                }
            }
        }
    }
}

/// One visitor, from the start of the run until told to close: sends as
/// its [`Pacer`] says and matches answers to its messages.
pub(super) async fn visitor(
    mut ws: Ws,
    wire: Wire,
    lane: usize,
    conversation: i64,
    t: Arc<Tally>,
    mut phase: watch::Receiver<Phase>,
) {
    let mut pace = Pacer::new(t.mode, lane, t.lanes);
    // (seq, µs it counts from) of the messages awaiting an answer.
    let mut waiting: Vec<(usize, u64)> = Vec::new();
    let (mut a2v, mut round_trip) = (t.a2v.local(), t.round_trip.local());
    let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);
    loop {
        let next = pace.next().filter(|_| pace.seq() < t.capacity);
        tokio::select! {
            biased;
            p = next_phase(&mut phase) => match p {
                Phase::Run { at } => pace.start(at),
                Phase::Stop => pace.stop(),
                Phase::Close => break,
                Phase::Setup => {}
            },
            text = ws.next_text() => {
                let text = match text {
                    Ok(text) => text,
                    Err(ended) => {
                        t.errors.add("visitor_disconnected", ended);
                        return;
                    }
                };
                match wire.heard(&t.run, lane, &text) {
                    Heard::Answer(stamp) => {
                        a2v.record(t.clock.since_us(stamp.at_us));
                        t.c.a2v.inc();
                        if let Some(l) = &t.ledgers {
                            l.agents.seen(lane, stamp.seq);
                        }
                        if let Some(i) = waiting.iter().position(|(seq, _)| *seq == stamp.seq) {
                            round_trip.record(t.clock.since_us(waiting.swap_remove(i).1));
                            t.c.answered.inc();
                            pace.answered(Instant::now());
                        }
                    }
                    Heard::Ack { seq, id } => {
                        if let Some(l) = &t.ledgers {
                            l.visitors.acked(lane, seq, id);
                        }
                    }
                    Heard::Error(kind, detail) => t.errors.add(kind, detail),
                    Heard::Other => {}
                }
            }
            _ = tokio::time::sleep_until(next.unwrap_or(far).into()), if next.is_some() => {
                let due = next.unwrap_or(far);
                let seq = pace.seq();
                let (from, held) = pace.sent(due, Instant::now());
                let stamp = Stamp { kind: 'v', lane, seq, at_us: t.clock.at_us(from) };
                let text = wire.message(&t.run, lane, conversation, &stamp);
                waiting.push((seq, stamp.at_us));
                if let Some(l) = &t.ledgers {
                    l.visitors.sent(lane, seq);
                }
                t.c.sent.inc();
                if !held.is_zero() {
                    t.c.capped.inc();
                    t.c.held_us.add(u64::try_from(held.as_micros()).unwrap_or(u64::MAX));
                }
                if let Err(e) = ws.send_text(text).await {
                    t.errors.add("visitor_send", e);
                    return;
                }
            }
        }
    }
    drop((a2v, round_trip));
    ws.close().await;
}

/// What the measured phase gave.
pub(super) struct Measured {
    delivered: u64,
    run_time: Duration,
    cpu: (Option<f64>, Option<f64>),
    drained: bool,
}

/// Runs the measured phase for `--duration`, then waits (up to `--drain`)
/// for every message to be answered. `target` names the half in progress.
pub(super) async fn measure(ctx: &Ctx, t: &Arc<Tally>, target: &'static str) -> Measured {
    let s = t.clone();
    ctx.progress.phase(target, move || {
        format!(
            "sent {} | delivered {} | round trip p99 {:.1} ms | errors {}",
            s.c.sent.get(),
            s.delivered(),
            s.round_trip.summary().p99_ms,
            s.errors.total()
        )
    });
    let before = t.delivered();
    let at = ctx.go();
    tokio::time::sleep_until(at.into()).await;
    let cpu = CpuWindow::start(ctx.common.server_pid);
    tokio::time::sleep(ctx.common.duration).await;
    ctx.set_phase(Phase::Stop);
    let cpu = cpu.finish();
    let run_time = at.elapsed();
    let delivered = t.delivered() - before;
    let drained = wait_until(ctx.common.drain, || t.settled()).await;
    if !drained {
        tracing::warn!(target, "still in flight after the drain period");
    }
    Measured {
        delivered,
        run_time,
        cpu,
        drained,
    }
}

/// The half's figures (the switchboard half adds its own).
pub(super) fn report(name: &str, setup: String, t: &Tally, m: &Measured) -> Report {
    let mut report = Report::new(name, setup);
    report.rate(
        "delivered_per_second",
        "delivered messages /s (both ways)",
        per_second(m.delivered, m.run_time),
    );
    report.count("delivered", "delivered during the run", m.delivered);
    report.add(
        "run_seconds",
        "measured for",
        Measure::Seconds(m.run_time.as_secs_f64()),
    );
    report.latency("visitor_to_agent", "visitor -> agent", t.v2a.summary());
    report.latency("agent_to_visitor", "agent -> visitor", t.a2v.summary());
    report.latency(
        "round_trip",
        "visitor message -> its answer",
        t.round_trip.summary(),
    );
    report.count("sent", "visitor messages sent", t.c.sent.get());
    report.count("answered", "visitor messages answered", t.c.answered.get());
    report.count(
        "capped_sends",
        "sends held back by --max-rate",
        t.c.capped.get(),
    );
    // Of the time visitors could have sent, the share they waited for the
    // brake: near 100% when the target answers faster than --max-rate.
    let could_send = t.lanes as f64 * m.run_time.as_secs_f64() * 1e6;
    report.add(
        "capped_percent",
        "share of the time --max-rate held visitors back, %",
        Measure::Number(t.c.held_us.get() as f64 / could_send.max(1.0) * 100.0),
    );
    report.cpu(m.cpu);
    report.add(
        "drained",
        "drained in time",
        Measure::Text(m.drained.to_string()),
    );
    report
}
