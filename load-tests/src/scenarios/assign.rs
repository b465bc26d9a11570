//! `assign`: a storm of new conversations into inboxes whose agents are
//! online. Measures conversations assigned per second and the latency from
//! a visitor's `start_conversation` to `assignee.changed` on the assignee's
//! console (and on the visitor's socket).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use switchboard_protocol::realtime::{event, VisitorFrame};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{listen, next_phase, per_second, spawn_paced, wait_until, Counter, Ctx, Phase, Stop};
use crate::api::WebInbox;
use crate::cli::{AssignArgs, Common};
use crate::net::{Dialer, Peek};
use crate::report::{Measure, Report};
use crate::stats::{Clock, CpuWindow, Errors, Latency};

const SETUP_WITHIN: Duration = Duration::from_secs(300);

struct Shared {
    clock: Clock,
    errors: Arc<Errors>,
    /// Which visitor a contact is.
    lanes: Mutex<HashMap<i64, usize>>,
    /// When each visitor sent `start_conversation` (run clock; 0: not yet).
    created_at: Vec<AtomicU64>,
    /// Whether the assignee's console heard of each assignment.
    assigned: Vec<AtomicBool>,
    conversations: Vec<AtomicI64>,
    rate: f64,
    to_agent: Arc<Latency>,
    to_visitor: Arc<Latency>,
    ack: Arc<Latency>,
    agents_online: Counter,
    visitors_open: Counter,
    failed: Counter,
    /// Storm requests answered with an error (or that could not be sent).
    start_failed: Counter,
    sent: Counter,
    acked: Counter,
    assigned_count: Counter,
    visitor_assigned: Counter,
    first_sent_us: AtomicU64,
    last_assigned_us: AtomicU64,
    last_acked_us: AtomicU64,
}

impl Shared {
    fn lane_of(&self, contact_id: i64) -> Option<usize> {
        self.lanes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&contact_id)
            .copied()
    }
}

pub(crate) async fn run(common: &Common, args: &AssignArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(args.conversations > 0, "--conversations must be at least 1");
    anyhow::ensure!(args.agents > 0, "--agents must be at least 1");
    anyhow::ensure!(args.inboxes > 0, "--inboxes must be at least 1");
    let (n, a) = (args.conversations, args.agents);
    let ctx = Ctx::new(common, n + a).await?;
    let rss_start = ctx.server_rss();

    ctx.progress
        .phase("setting up", move || format!("creating {a} agents"));
    let agents = ctx.api.create_agents(&ctx.run, a).await?;
    let ids: Vec<i64> = agents.iter().map(|a| a.id).collect();
    let mut inboxes: Vec<WebInbox> = Vec::new();
    for i in 0..args.inboxes {
        inboxes.push(
            ctx.api
                .create_inbox(&format!("Load {} assign {i}", ctx.run), &ids)
                .await?,
        );
    }

    let shared = Arc::new(Shared {
        clock: ctx.clock,
        errors: ctx.errors.clone(),
        lanes: Mutex::new(HashMap::new()),
        created_at: (0..n).map(|_| AtomicU64::new(0)).collect(),
        assigned: (0..n).map(|_| AtomicBool::new(false)).collect(),
        conversations: (0..n).map(|_| AtomicI64::new(0)).collect(),
        rate: args.rate,
        to_agent: Latency::new(),
        to_visitor: Latency::new(),
        ack: Latency::new(),
        agents_online: Counter::default(),
        visitors_open: Counter::default(),
        failed: Counter::default(),
        start_failed: Counter::default(),
        sent: Counter::default(),
        acked: Counter::default(),
        assigned_count: Counter::default(),
        visitor_assigned: Counter::default(),
        first_sent_us: AtomicU64::new(u64::MAX),
        last_assigned_us: AtomicU64::new(0),
        last_acked_us: AtomicU64::new(0),
    });
    let mut tasks = JoinSet::new();

    let s = shared.clone();
    ctx.progress.phase("connecting agents", move || {
        format!("{}/{a} online", s.agents_online.get())
    });
    for (i, agent) in agents.iter().enumerate() {
        tasks.spawn(agent_task(
            ctx.dialer.clone(),
            i,
            agent.token.clone(),
            agent.id,
            ctx.api.account_id,
            shared.clone(),
            ctx.phase(),
        ));
    }
    let online = wait_until(SETUP_WITHIN, || {
        shared.agents_online.get() + shared.failed.get() >= a as u64
    })
    .await;
    anyhow::ensure!(
        online && shared.agents_online.get() == a as u64,
        "not every agent console connected: {:?}",
        ctx.errors.snapshot()
    );

    let s = shared.clone();
    ctx.progress.phase("connecting visitors", move || {
        format!(
            "{}/{n} connected, {} failed",
            s.visitors_open.get(),
            s.failed.get()
        )
    });
    spawn_paced(&mut tasks, n, 0.0, |lane| {
        visitor_task(
            ctx.dialer.clone(),
            ctx.handshakes.clone(),
            inboxes[lane % inboxes.len()].website_token.clone(),
            lane,
            shared.clone(),
            ctx.phase(),
        )
    })
    .await;
    let connected = wait_until(SETUP_WITHIN, || {
        shared.visitors_open.get() + shared.failed.get() >= n as u64
    })
    .await;
    if !connected {
        ctx.errors.add(
            "setup_incomplete",
            format!("{} of {n} visitors connected", shared.visitors_open.get()),
        );
    }
    let visitors = shared.visitors_open.get();
    let rss_setup = ctx.server_rss();

    let s = shared.clone();
    ctx.progress.phase("storm", move || {
        format!(
            "sent {} created {} assigned {} | p99 {:.1} ms | errors {}",
            s.sent.get(),
            s.acked.get(),
            s.assigned_count.get(),
            s.to_agent.summary().p99_ms,
            s.errors.total()
        )
    });
    let at = ctx.go();
    let cpu = CpuWindow::start(common.server_pid);
    let storm_over = wait_until(common.duration + (at - Instant::now()), || {
        shared.assigned_count.get() >= visitors
    })
    .await;
    ctx.set_phase(Phase::Stop);
    let cpu = cpu.finish();
    let s = shared.clone();
    ctx.progress.phase("draining", move || {
        format!(
            "{} created, {} assigned",
            s.acked.get(),
            s.assigned_count.get()
        )
    });
    wait_until(common.drain, || {
        shared.sent.get() <= shared.acked.get() + shared.start_failed.get()
            && shared.assigned_count.get() >= shared.acked.get()
            && shared.visitor_assigned.get() >= shared.acked.get()
    })
    .await;
    let rss_end = ctx.server_rss();
    ctx.progress.phase("closing", String::new);
    ctx.close(&mut tasks).await;

    // What the database says about each conversation.
    let done = Arc::new(Counter::default());
    let d = done.clone();
    let acked = shared.acked.get();
    ctx.progress.phase("checking the database", move || {
        format!("{}/{acked} conversations read", d.get())
    });
    let checks: Vec<(usize, Option<bool>)> = stream::iter(0..n)
        .filter_map(|lane| {
            let id = shared.conversations[lane].load(Ordering::Relaxed);
            async move { (id > 0).then_some((lane, id)) }
        })
        .map(|(lane, id)| {
            let api = ctx.api.clone();
            let errors = ctx.errors.clone();
            let done = done.clone();
            async move {
                let read = api.conversation(id).await;
                done.inc();
                match read {
                    Ok(c) => (lane, Some(c.assignee_id.is_some())),
                    Err(crate::api::CallError::Status(404, _)) => (lane, None),
                    Err(e) => {
                        errors.add(format!("verify_{}", e.kind()), e);
                        (lane, Some(true))
                    }
                }
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut lost = 0;
    let mut not_in_database = 0;
    let mut unassigned = 0;
    let mut unheard = 0;
    for (lane, stored) in checks {
        let heard = shared.assigned[lane].load(Ordering::Relaxed);
        match stored {
            None => {
                not_in_database += 1;
                lost += 1;
            }
            Some(false) => {
                unassigned += 1;
                ctx.errors.add(
                    "unassigned",
                    format!(
                        "conversation {}",
                        shared.conversations[lane].load(Ordering::Relaxed)
                    ),
                );
            }
            Some(true) if !heard => {
                unheard += 1;
                lost += 1;
            }
            Some(true) => {}
        }
    }

    let first = shared.first_sent_us.load(Ordering::Relaxed);
    let span = |last: u64| Duration::from_micros(last.saturating_sub(first));
    let assign_span = span(shared.last_assigned_us.load(Ordering::Relaxed));
    let create_span = span(shared.last_acked_us.load(Ordering::Relaxed));
    let mut report = Report::new(
        "assign",
        format!(
            "{n} new conversations{} into {} inbox(es), {a} agents online",
            if args.rate > 0.0 {
                format!(" at {} /s", args.rate)
            } else {
                " at once".to_string()
            },
            args.inboxes
        ),
    );
    report.rate(
        "assigned_per_second",
        "conversations assigned",
        per_second(shared.assigned_count.get(), assign_span),
    );
    report.rate(
        "created_per_second",
        "conversations created (acked)",
        per_second(shared.acked.get(), create_span),
    );
    report.latency(
        "to_agent",
        "start_conversation -> assignee.changed (agent)",
        shared.to_agent.summary(),
    );
    report.latency(
        "to_visitor",
        "start_conversation -> assignee.changed (visitor)",
        shared.to_visitor.summary(),
    );
    report.latency(
        "ack",
        "start_conversation -> ack (durable)",
        shared.ack.summary(),
    );
    report.count("sent", "conversations asked for", shared.sent.get());
    report.count(
        "created",
        "conversations created (acked)",
        shared.acked.get(),
    );
    report.count(
        "assigned",
        "assignments heard by the assignee",
        shared.assigned_count.get(),
    );
    report.count(
        "unassigned",
        "created, unassigned in the database",
        unassigned,
    );
    report.count(
        "not_in_database",
        "acked, not in the database",
        not_in_database,
    );
    report.count("unheard", "assigned, never heard by the assignee", unheard);
    report.add(
        "storm_seconds",
        "first start to last assignment",
        Measure::Seconds(assign_span.as_secs_f64()),
    );
    report.cpu(cpu);
    report.add(
        "completed",
        "all assigned within --duration",
        Measure::Text(storm_over.to_string()),
    );
    for (key, label, value) in [
        ("server_rss_start", "server RSS before setup", rss_start),
        ("server_rss_setup", "server RSS once connected", rss_setup),
        ("server_rss_end", "server RSS at the end", rss_end),
    ] {
        if let Some(value) = value {
            report.add(key, label, Measure::Bytes(value));
        }
    }
    report.lost = lost;
    ctx.finish(&mut report);
    Ok(report)
}

/// A console: times each assignment to this agent.
async fn agent_task(
    dialer: Arc<Dialer>,
    client: usize,
    token: String,
    user_id: i64,
    account_id: i64,
    shared: Arc<Shared>,
    mut phase: tokio::sync::watch::Receiver<Phase>,
) {
    let mut ws = match dialer.agent(client, &token, account_id).await {
        Ok((ws, _)) => ws,
        Err(e) => {
            shared.failed.inc();
            shared.errors.add(format!("agent_{}", e.kind), e);
            return;
        }
    };
    shared.agents_online.inc();
    let mut latency = shared.to_agent.local();
    loop {
        let text = match listen(&mut ws, &mut phase, &shared.errors).await {
            Ok(text) => text,
            Err(Stop::Close) => break,
            Err(Stop::Ended) => return,
        };
        let Ok(peek) = Peek::parse(&text) else {
            shared.errors.add("agent_unreadable_frame", &*text);
            continue;
        };
        if peek.event != event::ASSIGNEE_CHANGED || peek.data.assignee_id != Some(user_id) {
            if peek.event == event::ERROR {
                shared.errors.add(
                    format!(
                        "agent_error_{}",
                        peek.data.error.as_deref().unwrap_or("unknown")
                    ),
                    peek.data.message.as_deref().unwrap_or(""),
                );
            }
            continue;
        }
        let Some(lane) = peek.data.contact_id.and_then(|c| shared.lane_of(c)) else {
            continue;
        };
        let created = shared.created_at[lane].load(Ordering::Relaxed);
        if created == 0 || shared.assigned[lane].swap(true, Ordering::Relaxed) {
            continue;
        }
        let now = shared.clock.now_us();
        latency.record(now.saturating_sub(created));
        shared.assigned_count.inc();
        shared.last_assigned_us.fetch_max(now, Ordering::Relaxed);
    }
    drop(latency);
    ws.close().await;
}

/// A visitor: connects, then starts one conversation when the storm begins.
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
    // The lane is found from the contact the agents see: become one first.
    let contact = match opened {
        Ok((mut ws, _)) => ws.become_contact().await.map(|id| (ws, id)),
        Err(e) => Err(e),
    };
    let (mut ws, contact_id) = match contact {
        Ok(opened) => opened,
        Err(e) => {
            shared.failed.inc();
            shared.errors.add(format!("visitor_{}", e.kind), e);
            return;
        }
    };
    shared
        .lanes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(contact_id, lane);
    shared.visitors_open.inc();
    let echo = format!("s{lane}");
    let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);
    let mut send_at = far;
    let mut heard_assignment = false;
    let mut ack = shared.ack.local();
    let mut to_visitor = shared.to_visitor.local();
    loop {
        tokio::select! {
            biased;
            p = next_phase(&mut phase) => match p {
                Phase::Run { at } => {
                    if shared.created_at[lane].load(Ordering::Relaxed) == 0 {
                        send_at = if shared.rate > 0.0 {
                            at + Duration::from_secs_f64(lane as f64 / shared.rate)
                        } else {
                            at
                        };
                    }
                }
                Phase::Stop => send_at = far,
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
                let created = shared.created_at[lane].load(Ordering::Relaxed);
                match peek.event.as_ref() {
                    event::ACK if peek.data.echo_id.as_deref() == Some(echo.as_str()) => {
                        if let Some(id) = peek.data.conversation_id {
                            shared.conversations[lane].store(id, Ordering::Relaxed);
                            shared.acked.inc();
                            let now = shared.clock.now_us();
                            ack.record(now.saturating_sub(created));
                            shared.last_acked_us.fetch_max(now, Ordering::Relaxed);
                        }
                    }
                    event::ASSIGNEE_CHANGED if !heard_assignment && peek.data.assignee.is_some() => {
                        heard_assignment = true;
                        shared.visitor_assigned.inc();
                        to_visitor.record(shared.clock.since_us(created));
                    }
                    event::ERROR => {
                        shared.start_failed.inc();
                        shared.errors.add(
                            format!("visitor_error_{}", peek.data.error.as_deref().unwrap_or("unknown")),
                            peek.data.message.as_deref().unwrap_or(""),
                        );
                    }
                    _ => {}
                }
            }
            _ = tokio::time::sleep_until(send_at.into()), if send_at != far => {
                send_at = far;
                let now = shared.clock.now_us();
                shared.created_at[lane].store(now, Ordering::Relaxed);
                shared.first_sent_us.fetch_min(now, Ordering::Relaxed);
                shared.sent.inc();
                let frame = VisitorFrame::StartConversation { content: None, echo_id: Some(echo.clone()) };
                if let Err(e) = ws.send(&frame).await {
                    shared.start_failed.inc();
                    shared.errors.add("visitor_send", e);
                    return;
                }
            }
        }
    }
    drop((ack, to_visitor));
    ws.close().await;
}
