//! `fanout`: one account, many agent consoles, many visitors writing.
//!
//! Every agent console receives every event of the account, so each visitor
//! message becomes one delivery per console. Measures deliveries per second
//! across all consoles and the latency from a visitor's scheduled send to
//! each console's `message.created`. Every acknowledged message must reach
//! every console and be in the database.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_protocol::realtime::{event, VisitorFrame};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::chat::{echo_seq, start_conversation};
use super::{listen, next_phase, per_second, spawn_paced, wait_until, Counter, Ctx, Phase, Stop};
use crate::api::check_rate;
use crate::cli::{Common, FanoutArgs};
use crate::ledger::Ledger;
use crate::net::{Dialer, Peek, Stamp};
use crate::report::{Measure, Report};
use crate::stats::{Clock, CpuWindow, Errors, Latency};

const SETUP_WITHIN: Duration = Duration::from_secs(300);
/// Once set up, consoles are given this long with no new frame before the
/// run starts, so the setup's events are not measured.
const QUIET: Duration = Duration::from_secs(1);

struct Shared {
    run: Arc<str>,
    clock: Clock,
    errors: Arc<Errors>,
    /// One lane per visitor; every message is due at every console.
    messages: Ledger,
    latency: Arc<Latency>,
    ack: Arc<Latency>,
    period: Duration,
    visitors: usize,
    conversations: Vec<AtomicI64>,
    agents_online: Counter,
    visitors_open: Counter,
    started: Counter,
    failed: Counter,
    sent: Counter,
    acked: Counter,
    /// `message.created` frames received by consoles.
    agent_deliveries: Counter,
    /// Every frame received by consoles.
    agent_frames: Counter,
}

pub(crate) async fn run(common: &Common, args: &FanoutArgs) -> anyhow::Result<Report> {
    check_rate(args.rate)?;
    anyhow::ensure!(args.agents > 0, "--agents must be at least 1");
    anyhow::ensure!(args.visitors > 0, "--visitors must be at least 1");
    let users = args
        .agent_users
        .unwrap_or(args.agents)
        .clamp(1, args.agents);
    let (a, v) = (args.agents, args.visitors);
    let ctx = Ctx::new(common, a + v).await?;
    let rss_start = ctx.server_rss();

    ctx.progress
        .phase("setting up", move || format!("creating {users} agents"));
    let agents = ctx.api.create_agents(&ctx.run, users).await?;
    let ids: Vec<i64> = agents.iter().map(|a| a.id).collect();
    let inbox = ctx
        .api
        .create_inbox(&format!("Load {} fanout", ctx.run), &ids)
        .await?;

    let per_lane = (common.duration.as_secs_f64() * args.rate).ceil() as usize + 1;
    let shared = Arc::new(Shared {
        run: ctx.run.clone(),
        clock: ctx.clock,
        errors: ctx.errors.clone(),
        messages: Ledger::new(v, per_lane, u32::try_from(a).unwrap_or(u32::MAX)),
        latency: Latency::new(),
        ack: Latency::new(),
        period: Duration::from_secs_f64(1.0 / args.rate),
        visitors: v,
        conversations: (0..v).map(|_| AtomicI64::new(0)).collect(),
        agents_online: Counter::default(),
        visitors_open: Counter::default(),
        started: Counter::default(),
        failed: Counter::default(),
        sent: Counter::default(),
        acked: Counter::default(),
        agent_deliveries: Counter::default(),
        agent_frames: Counter::default(),
    });
    let mut tasks = JoinSet::new();

    let s = shared.clone();
    ctx.progress.phase("connecting consoles", move || {
        format!(
            "{}/{a} online, {} failed",
            s.agents_online.get(),
            s.failed.get()
        )
    });
    spawn_paced(&mut tasks, a, 0.0, |i| {
        agent_task(
            ctx.dialer.clone(),
            i,
            ctx.handshakes.clone(),
            agents[i % agents.len()].token.clone(),
            ctx.api.account_id,
            shared.clone(),
            ctx.phase(),
        )
    })
    .await;
    let online = wait_until(SETUP_WITHIN, || {
        shared.agents_online.get() + shared.failed.get() >= a as u64
    })
    .await;
    anyhow::ensure!(
        online && shared.agents_online.get() == a as u64,
        "not every console connected: {:?}",
        ctx.errors.snapshot()
    );

    let s = shared.clone();
    ctx.progress.phase("starting conversations", move || {
        format!(
            "{} visitors connected, {}/{v} conversations, {} failed, {} frames to consoles",
            s.visitors_open.get(),
            s.started.get(),
            s.failed.get(),
            s.agent_frames.get()
        )
    });
    spawn_paced(&mut tasks, v, 0.0, |lane| {
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
    let started = wait_until(SETUP_WITHIN, || {
        shared.started.get() + shared.failed.get() >= v as u64
    })
    .await;
    if !started {
        ctx.errors.add(
            "setup_incomplete",
            format!("{} of {v} conversations started", shared.started.get()),
        );
    }
    // Let the consoles read the setup's events before measuring.
    let mut frames = shared.agent_frames.get();
    let quiet_by = Instant::now() + SETUP_WITHIN;
    loop {
        tokio::time::sleep(QUIET).await;
        let now = shared.agent_frames.get();
        if now == frames || Instant::now() > quiet_by {
            break;
        }
        frames = now;
    }
    let rss_setup = ctx.server_rss();

    let s = shared.clone();
    let d = common.duration.as_secs();
    ctx.progress.phase("fanning out", move || {
        format!(
            "{d}s: sent {} acked {} | console deliveries {} | p99 {:.1} ms | errors {}",
            s.sent.get(),
            s.acked.get(),
            s.agent_deliveries.get(),
            s.latency.summary().p99_ms,
            s.errors.total()
        )
    });
    let deliveries_before = shared.agent_deliveries.get();
    let frames_before = shared.agent_frames.get();
    let acked_before = shared.acked.get();
    let at = ctx.go();
    tokio::time::sleep_until(at.into()).await;
    let cpu = CpuWindow::start(common.server_pid);
    tokio::time::sleep_until((at + common.duration).into()).await;
    ctx.set_phase(Phase::Stop);
    let cpu = cpu.finish();
    let run_time = at.elapsed();
    let deliveries = shared.agent_deliveries.get() - deliveries_before;
    let frames = shared.agent_frames.get() - frames_before;
    let acked = shared.acked.get() - acked_before;

    let s = shared.clone();
    ctx.progress.phase("draining", move || {
        format!("{} messages not yet everywhere", s.messages.in_flight())
    });
    let drained = wait_until(common.drain, || shared.messages.in_flight() == 0).await;
    let rss_end = ctx.server_rss();
    ctx.progress.phase("closing", String::new);
    ctx.close(&mut tasks).await;

    let conversations: Vec<Option<i64>> = shared
        .conversations
        .iter()
        .map(|c| Some(c.load(Ordering::Relaxed)).filter(|id| *id > 0))
        .collect();
    let stored = ctx.stored_messages(&conversations).await;
    let audit = shared
        .messages
        .audit(|lane| stored.get(lane).and_then(Option::as_ref));

    let mut report = Report::new(
        "fanout",
        format!(
            "{a} agent consoles ({users} agents), {v} visitors at {} msg/s each, {:.1} s",
            args.rate,
            run_time.as_secs_f64()
        ),
    );
    report.rate(
        "deliveries_per_second",
        "message.created deliveries to consoles",
        per_second(deliveries, run_time),
    );
    report.rate(
        "console_frames_per_second",
        "frames to consoles (all events)",
        per_second(frames, run_time),
    );
    report.rate(
        "messages_per_second",
        "visitor messages acknowledged",
        per_second(acked, run_time),
    );
    report.rate(
        "expected_deliveries_per_second",
        "deliveries due (acknowledged x consoles)",
        per_second(acked * a as u64, run_time),
    );
    report.latency(
        "latency",
        "visitor send -> console message.created",
        shared.latency.summary(),
    );
    report.latency(
        "visitor_ack",
        "visitor message -> ack (durable)",
        shared.ack.summary(),
    );
    report.count(
        "deliveries",
        "console deliveries during the run",
        deliveries,
    );
    report.cpu(cpu);
    report.audit("visitor_messages", "visitor messages", &audit);
    for (key, label, value) in [
        ("server_rss_start", "server RSS before setup", rss_start),
        ("server_rss_setup", "server RSS once connected", rss_setup),
        ("server_rss_end", "server RSS at the end", rss_end),
    ] {
        if let Some(value) = value {
            report.add(key, label, Measure::Bytes(value));
        }
    }
    report.add(
        "drained",
        "drained in time",
        Measure::Text(drained.to_string()),
    );
    ctx.finish(&mut report);
    Ok(report)
}

/// A console: counts and times every visitor message of this run.
async fn agent_task(
    dialer: Arc<Dialer>,
    client: usize,
    handshakes: Arc<Semaphore>,
    token: String,
    account_id: i64,
    shared: Arc<Shared>,
    mut phase: tokio::sync::watch::Receiver<Phase>,
) {
    let opened = {
        let Ok(_permit) = handshakes.acquire().await else {
            return;
        };
        dialer.agent(client, &token, account_id).await
    };
    let mut ws = match opened {
        Ok((ws, _)) => ws,
        Err(e) => {
            shared.failed.inc();
            shared.errors.add(format!("agent_{}", e.kind), e);
            return;
        }
    };
    shared.agents_online.inc();
    let mut latency = shared.latency.local();
    loop {
        let text = match listen(&mut ws, &mut phase, &shared.errors).await {
            Ok(text) => text,
            Err(Stop::Close) => break,
            Err(Stop::Ended) => return,
        };
        shared.agent_frames.inc();
        let Ok(peek) = Peek::parse(&text) else {
            shared.errors.add("agent_unreadable_frame", &*text);
            continue;
        };
        match peek.event.as_ref() {
            event::MESSAGE_CREATED => {
                shared.agent_deliveries.inc();
                let Some(stamp) = peek
                    .data
                    .content
                    .as_deref()
                    .and_then(|c| Stamp::parse(c, &shared.run))
                else {
                    continue;
                };
                latency.record(shared.clock.since_us(stamp.at_us));
                shared.messages.seen(stamp.lane, stamp.seq);
            }
            event::ERROR => shared.errors.add(
                format!(
                    "agent_error_{}",
                    peek.data.error.as_deref().unwrap_or("unknown")
                ),
                peek.data.message.as_deref().unwrap_or(""),
            ),
            _ => {}
        }
    }
    drop(latency);
    ws.close().await;
}

/// A visitor: one conversation, then messages at the scheduled rate.
async fn visitor_task(
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
            shared.failed.inc();
            shared.errors.add(format!("visitor_{}", e.kind), e);
            return;
        }
    };
    shared.visitors_open.inc();
    let conversation_id = match start_conversation(&mut ws, lane).await {
        Ok(id) => id,
        Err(e) => {
            shared.failed.inc();
            shared.errors.add("start_conversation", e);
            return;
        }
    };
    shared.conversations[lane].store(conversation_id, Ordering::Relaxed);
    shared.started.inc();

    let offset = shared
        .period
        .mul_f64(lane as f64 / shared.visitors.max(1) as f64);
    let send_time = |at: Instant, seq: usize| at + offset + shared.period.mul_f64(seq as f64);
    let mut ack = shared.ack.local();
    let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);
    let mut start: Option<Instant> = None;
    let mut sending = false;
    let mut seq = 0usize;
    let capacity = shared.messages.capacity();
    loop {
        let next = match start {
            Some(at) if sending && seq < capacity => send_time(at, seq),
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
                    continue;
                };
                match peek.event.as_ref() {
                    event::ACK => {
                        let seq = peek.data.echo_id.as_deref().and_then(|e| echo_seq(e, 'v', lane));
                        if let (Some(seq), Some(id), Some(at)) = (seq, peek.data.message_id, start) {
                            if shared.messages.acked(lane, seq, id) {
                                shared.acked.inc();
                                ack.record(shared.clock.since_us(shared.clock.at_us(send_time(at, seq))));
                            }
                        }
                    }
                    event::ERROR => shared.errors.add(
                        format!("visitor_error_{}", peek.data.error.as_deref().unwrap_or("unknown")),
                        peek.data.message.as_deref().unwrap_or(""),
                    ),
                    _ => {}
                }
            }
            _ = tokio::time::sleep_until(next.into()), if next != far => {
                let stamp = Stamp { kind: 'v', lane, seq, at_us: shared.clock.at_us(next) };
                let frame = VisitorFrame::Message {
                    conversation_id,
                    content: stamp.content(&shared.run),
                    echo_id: Some(format!("v{lane}-{seq}")),
                };
                shared.messages.sent(lane, seq);
                seq += 1;
                shared.sent.inc();
                if let Err(e) = ws.send(&frame).await {
                    shared.errors.add("visitor_send", e);
                    return;
                }
            }
        }
    }
    drop(ack);
    ws.close().await;
}
