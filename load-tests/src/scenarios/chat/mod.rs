//! `chat` and `soak`: visitors write, the agent each conversation is
//! assigned to answers every message over REST.
//!
//! Each visitor message carries its intended send time; latency is measured
//! from that moment (not from when the socket write happened), so a load
//! generator that falls behind shows up as latency instead of hiding it.
//!
//! - visitor -> agent: the scheduled send time to `message.created` on the
//!   assigned agent's console;
//! - agent -> visitor: the moment the agent decides to answer (before the
//!   REST request goes out) to `message.created` on the visitor's socket.
//!
//! Every acknowledged message (visitor `ack`, agent 2xx) must reach the other
//! side and be in the database when read back over REST at the end.

mod agent;
mod recovery;
mod soak;
mod visitor;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{per_second, spawn_paced, wait_until, Counter, Ctx, Phase};
use crate::api::check_rate;
use crate::cli::KillArgs;
use crate::cli::{ChatArgs, Common};
use crate::ledger::Ledger;
use crate::report::{Measure, Report};
use crate::scenarios::failover;
use crate::stats::{Clock, CpuWindow, Errors, Latency};
use agent::agent_task;
pub(crate) use recovery::Recovery;
use visitor::visitor_task;
pub(crate) use visitor::{echo_seq, start_conversation};

/// Agent replies in flight at once (REST requests).
const REPLIES_IN_FLIGHT: usize = 256;
/// How long conversations may take to be started and assigned.
const SETUP_WITHIN: Duration = Duration::from_secs(120);

/// What the run's tasks share.
struct Shared {
    run: Arc<str>,
    clock: Clock,
    errors: Arc<Errors>,
    /// Visitor messages, one lane per conversation; due at its agent.
    from_visitors: Ledger,
    /// Agent replies, one lane per conversation; due at its visitor.
    from_agents: Ledger,
    visitor_to_agent: Arc<Latency>,
    agent_to_visitor: Arc<Latency>,
    /// Visitor send to `ack` (the message is durable).
    visitor_ack: Arc<Latency>,
    /// Agent REST request to its answer (durable).
    agent_ack: Arc<Latency>,
    /// Visitor send to their own `message.created` (the same dispatch path
    /// as to agents, to a socket that receives little).
    visitor_echo: Arc<Latency>,
    period: Duration,
    conversation_count: usize,
    /// Conversation id per visitor (0: not started).
    conversations: Vec<AtomicI64>,
    /// Visitors (by lane), then agents: when each failed and wrote again.
    recovery: Recovery,
    /// Failed attempts of writes that were retried, by kind.
    retried: Arc<Errors>,
    c: Counters,
}

#[derive(Default)]
struct Counters {
    agents_online: Counter,
    visitors_open: Counter,
    started: Counter,
    assigned: Counter,
    sent: Counter,
    acked: Counter,
    /// `message.created` frames received on any socket.
    deliveries: Counter,
    visitor_to_agent: Counter,
    agent_to_visitor: Counter,
    replies: Counter,
    replies_in_flight: Counter,
    reply_retries: Counter,
    /// Writes acknowledged after at least one failed attempt.
    retried_writes: Counter,
    /// Visitor messages sent again (after an error or a reconnection).
    resent: Counter,
    reconnects: Counter,
    resyncs: Counter,
    /// Messages a socket missed and the receiver found by reloading.
    reloaded: Counter,
    failed: Counter,
}

impl Shared {
    /// When visitor `lane` sends message `seq`, from the start `at`.
    fn send_time(&self, at: Instant, lane: usize, seq: usize) -> Instant {
        at + self.offset(lane) + self.period.mul_f64(seq as f64)
    }

    /// Visitors start spread over one period, so sends are even in time.
    fn offset(&self, lane: usize) -> Duration {
        self.period
            .mul_f64(lane as f64 / self.conversation_count.max(1) as f64)
    }
}

pub(crate) async fn run(common: &Common, args: &ChatArgs) -> anyhow::Result<Report> {
    run_with(common, args, Mode::Chat).await
}

pub(crate) async fn soak(
    common: &Common,
    args: &ChatArgs,
    interval: Duration,
) -> anyhow::Result<Report> {
    anyhow::ensure!(!interval.is_zero(), "--interval must be above 0");
    run_with(common, args, Mode::Soak(interval)).await
}

/// What runs with the chat load.
pub(crate) enum Mode<'a> {
    Chat,
    /// Reports every interval this long.
    Soak(Duration),
    /// Kills a node while measuring.
    Failover(&'a KillArgs),
}

pub(crate) async fn run_with(
    common: &Common,
    args: &ChatArgs,
    mode: Mode<'_>,
) -> anyhow::Result<Report> {
    check_rate(args.rate)?;
    anyhow::ensure!(args.conversations > 0, "--conversations must be at least 1");
    anyhow::ensure!(args.agents > 0, "--agents must be at least 1 (they answer)");
    let k = args.conversations;
    let ctx = Ctx::new(common, k + args.agents).await?;
    let rss_start = ctx.server_rss();

    // Agents, an inbox they collaborate on, and their consoles.
    let a = args.agents;
    ctx.progress
        .phase("setting up", move || format!("creating {a} agents"));
    let agents = ctx.api.create_agents(&ctx.run, args.agents).await?;
    let ids: Vec<i64> = agents.iter().map(|a| a.id).collect();
    let inbox = ctx
        .api
        .create_inbox(&format!("Load {} chat", ctx.run), &ids)
        .await?;

    let per_lane = (common.duration.as_secs_f64() * args.rate).ceil() as usize + 1;
    let shared = Arc::new(Shared {
        run: ctx.run.clone(),
        clock: ctx.clock,
        errors: ctx.errors.clone(),
        from_visitors: Ledger::new(k, per_lane, 1),
        from_agents: Ledger::new(k, per_lane, 1),
        visitor_to_agent: Latency::new(),
        agent_to_visitor: Latency::new(),
        visitor_ack: Latency::new(),
        agent_ack: Latency::new(),
        visitor_echo: Latency::new(),
        period: Duration::from_secs_f64(1.0 / args.rate),
        conversation_count: k,
        conversations: (0..k).map(|_| AtomicI64::new(0)).collect(),
        recovery: Recovery::new(ctx.clock, k + args.agents),
        retried: Errors::new(),
        c: Counters::default(),
    });
    let replies = Arc::new(Semaphore::new(REPLIES_IN_FLIGHT));
    let mut tasks = JoinSet::new();

    let s = shared.clone();
    ctx.progress.phase("connecting agents", move || {
        format!("{}/{a} online", s.c.agents_online.get())
    });
    for (i, agent) in agents.into_iter().enumerate() {
        tasks.spawn(agent_task(
            ctx.dialer.clone(),
            i,
            ctx.api.clone(),
            agent,
            shared.clone(),
            replies.clone(),
            ctx.phase(),
        ));
    }
    let online = wait_until(SETUP_WITHIN, || {
        shared.c.agents_online.get() + shared.c.failed.get() >= a as u64
    })
    .await;
    anyhow::ensure!(
        online && shared.c.agents_online.get() == a as u64,
        "not every agent console connected: {:?}",
        ctx.errors.snapshot()
    );

    // Visitors, each starting a conversation.
    let s = shared.clone();
    ctx.progress.phase("starting conversations", move || {
        format!(
            "{} visitors connected, {}/{k} conversations started, {} assigned, {} failed",
            s.c.visitors_open.get(),
            s.c.started.get(),
            s.c.assigned.get(),
            s.c.failed.get()
        )
    });
    spawn_paced(&mut tasks, k, 0.0, |lane| {
        visitor_task(
            ctx.dialer.clone(),
            ctx.handshakes.clone(),
            inbox.website_token.clone(),
            lane,
            shared.clone(),
            ctx.phase(),
        )
    })
    .await;
    let ready = wait_until(SETUP_WITHIN, || {
        let started = shared.c.started.get();
        let failed = shared.c.failed.get();
        started + failed >= k as u64 && shared.c.assigned.get() >= started
    })
    .await;
    if !ready {
        ctx.errors.add(
            "setup_incomplete",
            format!(
                "{} of {k} conversations started and {} assigned after {SETUP_WITHIN:?}",
                shared.c.started.get(),
                shared.c.assigned.get()
            ),
        );
    }
    let rss_setup = ctx.server_rss();

    // The measured phase.
    let s = shared.clone();
    let d = common.duration.as_secs();
    ctx.progress.phase("chatting", move || {
        let v = s.visitor_to_agent.summary();
        format!(
            "{d}s: sent {} acked {} | v->a {} a->v {} | replies {} | p99 v->a {:.1} ms | errors {}",
            s.c.sent.get(),
            s.c.acked.get(),
            s.c.visitor_to_agent.get(),
            s.c.agent_to_visitor.get(),
            s.c.replies.get(),
            v.p99_ms,
            s.errors.total()
        )
    });
    shared.visitor_to_agent.take_interval();
    shared.agent_to_visitor.take_interval();
    let deliveries_before = shared.c.deliveries.get();
    let acked_before = shared.c.acked.get();
    let at = ctx.go();
    tokio::time::sleep_until(at.into()).await;
    let cpu = CpuWindow::start(common.server_pid);
    let mut intervals = Vec::new();
    let mut killed = None;
    match mode {
        Mode::Chat => tokio::time::sleep(common.duration).await,
        Mode::Soak(every) => intervals = soak::measure(&ctx, &shared, at, every).await,
        Mode::Failover(kill) => {
            killed = Some(failover::kill_during(kill, at, common.duration, ctx.clock).await);
        }
    }
    ctx.set_phase(Phase::Stop);
    let cpu = cpu.finish();
    let run_time = at.elapsed();
    let deliveries = shared.c.deliveries.get() - deliveries_before;
    let acked = shared.c.acked.get() - acked_before;

    // Drain: what was sent arrives, replies to the last messages go out.
    let s = shared.clone();
    ctx.progress.phase("draining", move || {
        format!(
            "in flight: {} visitor messages, {} replies",
            s.from_visitors.in_flight(),
            s.from_agents.in_flight()
        )
    });
    let drained = wait_until(common.drain, || {
        shared.c.replies_in_flight.get() == 0
            && shared.from_visitors.in_flight() == 0
            && shared.from_agents.in_flight() == 0
    })
    .await;
    if !drained {
        tracing::warn!("still in flight after the drain period");
    }
    let rss_end = ctx.server_rss();
    ctx.progress.phase("closing", String::new);
    ctx.close(&mut tasks).await;

    // Every acknowledged message must be in the database.
    let conversations: Vec<Option<i64>> = shared
        .conversations
        .iter()
        .map(|c| Some(c.load(Ordering::Relaxed)).filter(|id| *id > 0))
        .collect();
    let stored = ctx.stored_messages(&conversations).await;
    let in_db = |lane: usize| stored.get(lane).and_then(Option::as_ref);
    let visitor_audit = shared.from_visitors.audit(in_db);
    let agent_audit = shared.from_agents.audit(in_db);

    let name = match mode {
        Mode::Chat => "chat",
        Mode::Soak(_) => "soak",
        Mode::Failover(_) => "failover",
    };
    let mut report = Report::new(
        name,
        format!(
            "{k} conversations, {} msg/s each, {} agents, {:.1} s",
            args.rate,
            args.agents,
            run_time.as_secs_f64()
        ),
    );
    report.latency(
        "visitor_to_agent",
        "visitor -> agent latency",
        shared.visitor_to_agent.summary(),
    );
    report.latency(
        "agent_to_visitor",
        "agent -> visitor latency",
        shared.agent_to_visitor.summary(),
    );
    report.latency(
        "visitor_ack",
        "visitor message -> ack (durable)",
        shared.visitor_ack.summary(),
    );
    report.latency(
        "visitor_echo",
        "visitor message -> its own message.created",
        shared.visitor_echo.summary(),
    );
    report.latency(
        "agent_post",
        "agent POST -> answer (durable)",
        shared.agent_ack.summary(),
    );
    report.rate(
        "messages_per_second",
        "visitor messages acknowledged",
        per_second(acked, run_time),
    );
    report.rate(
        "deliveries_per_second",
        "message.created deliveries (all sockets)",
        per_second(deliveries, run_time),
    );
    report.count("deliveries", "deliveries during the run", deliveries);
    report.count(
        "conversations_started",
        "conversations started",
        shared.c.started.get(),
    );
    report.count(
        "conversations_assigned",
        "conversations assigned",
        shared.c.assigned.get(),
    );
    report.count(
        "reply_retries",
        "agent reply attempts retried (503, no answer, ...)",
        shared.c.reply_retries.get(),
    );
    report.audit("visitor_messages", "visitor messages", &visitor_audit);
    report.audit("agent_messages", "agent replies", &agent_audit);
    report.cpu(cpu);
    add_rss(&mut report, rss_start, rss_setup, rss_end);
    add_clients(&mut report, &shared.c);
    if matches!(mode, Mode::Soak(_)) {
        soak::add_drift(&mut report, &intervals);
    }
    if let Some(killed) = killed {
        failover::report(
            &mut report,
            &killed,
            &shared.recovery,
            &shared.retried,
            &shared.errors,
        );
    }
    report.add(
        "drained",
        "drained in time",
        Measure::Text(drained.to_string()),
    );
    ctx.finish(&mut report);
    Ok(report)
}

/// How clients got through failures: reconnections, resent messages, ...
fn add_clients(report: &mut Report, c: &Counters) {
    report.count("reconnects", "sockets reconnected", c.reconnects.get());
    report.count("resyncs", "resync frames received", c.resyncs.get());
    report.count(
        "reloaded",
        "messages missed by a socket, found by reloading",
        c.reloaded.get(),
    );
    report.count("resent", "visitor messages sent again", c.resent.get());
    report.count(
        "retried_writes",
        "writes acknowledged after a failed attempt (same echo_id)",
        c.retried_writes.get(),
    );
}

fn add_rss(report: &mut Report, start: Option<u64>, setup: Option<u64>, end: Option<u64>) {
    for (key, label, v) in [
        ("server_rss_start", "server RSS before setup", start),
        ("server_rss_setup", "server RSS once connected", setup),
        ("server_rss_end", "server RSS at the end", end),
    ] {
        if let Some(v) = v {
            report.add(key, label, Measure::Bytes(v));
        }
    }
}
