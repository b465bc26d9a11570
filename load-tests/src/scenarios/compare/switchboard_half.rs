//! The switchboard half of `compare`: `chat`'s setup (agents signed in with
//! their consoles open, a website inbox with automatic assignment, one
//! conversation per visitor, all assigned before measuring) and `chat`'s
//! agents, who answer over REST, under `compare`'s visitors. Every
//! acknowledged message must reach the other side and be in the database.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_protocol::realtime::event;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use super::half::{self, Tally, Wire};
use super::pace::Mode;
use crate::api::{AgentUser, Api};
use crate::cli::{Common, CompareArgs};
use crate::net::{Dialer, Peek, Stamp};
use crate::report::Report;
use crate::scenarios::chat::start_conversation;
use crate::scenarios::{listen, spawn_paced, wait_until, Counter, Ctx, Phase, Stop};
use crate::stats::Latency;

/// Agent replies in flight at once (REST requests), as in `chat`.
const REPLIES_IN_FLIGHT: usize = 256;
/// How long conversations may take to be started and assigned.
const SETUP_WITHIN: Duration = Duration::from_secs(120);

/// What only this half needs.
struct Side {
    t: Arc<Tally>,
    api: Api,
    online: Counter,
    started: Counter,
    assigned: Counter,
    /// Conversation id per visitor (0: not started).
    conversations: Vec<AtomicI64>,
    /// An agent's REST request to its answer (the reply is durable).
    agent_post: Arc<Latency>,
    retries: Counter,
    replies: Semaphore,
}

pub(super) async fn run(
    common: &Common,
    args: &CompareArgs,
    mode: Mode,
    capacity: usize,
) -> anyhow::Result<Report> {
    let (k, a) = (args.conversations, args.agents);
    let ctx = Ctx::new(common, k + a).await?;
    ctx.progress
        .phase("switchboard: setting up", move || format!("{a} agents"));
    let agents = ctx.api.create_agents(&ctx.run, a).await?;
    let ids: Vec<i64> = agents.iter().map(|a| a.id).collect();
    let name = format!("Load {} compare", ctx.run);
    let inbox = ctx.api.create_inbox(&name, &ids).await?;
    let side = Arc::new(Side {
        t: Arc::new(Tally::new(&ctx, mode, k, capacity, true)),
        api: ctx.api.clone(),
        online: Counter::default(),
        started: Counter::default(),
        assigned: Counter::default(),
        conversations: (0..k).map(|_| AtomicI64::new(0)).collect(),
        agent_post: Latency::new(),
        retries: Counter::default(),
        replies: Semaphore::new(REPLIES_IN_FLIGHT),
    });
    let t = side.t.clone();
    let mut tasks = JoinSet::new();

    for (i, agent) in agents.into_iter().enumerate() {
        let dialer = ctx.dialer.clone();
        tasks.spawn(agent_console(dialer, i, agent, side.clone(), ctx.phase()));
    }
    let all = || side.online.get() + t.c.failed.get() >= a as u64;
    anyhow::ensure!(
        wait_until(SETUP_WITHIN, all).await && side.online.get() == a as u64,
        "not every agent console connected: {:?}",
        ctx.errors.snapshot()
    );

    let s = side.clone();
    ctx.progress
        .phase("switchboard: starting conversations", move || {
            let (started, assigned) = (s.started.get(), s.assigned.get());
            format!("{started}/{k} started, {assigned} assigned")
        });
    spawn_paced(&mut tasks, k, 0.0, |lane| {
        let (dialer, handshakes, token) = (
            ctx.dialer.clone(),
            ctx.handshakes.clone(),
            inbox.website_token.clone(),
        );
        let (side, phase) = (side.clone(), ctx.phase());
        async move {
            let opened = {
                let Ok(_permit) = handshakes.acquire().await else {
                    return;
                };
                dialer.visitor(lane, &token).await
            };
            let t = &side.t;
            let mut ws = match opened {
                Ok((ws, _)) => ws,
                Err(e) => return fail(t, format!("visitor_{}", e.kind), e.to_string()),
            };
            let id = match start_conversation(&mut ws, lane).await {
                Ok(id) => id,
                Err(e) => return fail(t, "start_conversation".into(), e),
            };
            side.conversations[lane].store(id, Ordering::Relaxed);
            side.started.inc();
            t.c.ready.inc();
            half::visitor(ws, Wire::Switchboard, lane, id, t.clone(), phase).await;
        }
    })
    .await;
    let ready = wait_until(SETUP_WITHIN, || {
        let started = side.started.get();
        started + t.c.failed.get() >= k as u64 && side.assigned.get() >= started
    })
    .await;
    if !ready {
        let (started, assigned) = (side.started.get(), side.assigned.get());
        let what = format!("{started} of {k} conversations started, {assigned} assigned");
        ctx.errors.add("setup_incomplete", what);
    }

    let measured = half::measure(&ctx, &t, "switchboard: measuring").await;
    ctx.progress.phase("switchboard: closing", String::new);
    ctx.close(&mut tasks).await;

    // Every acknowledged message must be in the database.
    let conversations: Vec<Option<i64>> = side
        .conversations
        .iter()
        .map(|c| Some(c.load(Ordering::Relaxed)).filter(|id| *id > 0))
        .collect();
    let stored = ctx.stored_messages(&conversations).await;
    let in_db = |lane: usize| stored.get(lane).and_then(Option::as_ref);
    let setup = format!("switchboard at {}", common.urls.join(", "));
    let mut report = half::report("switchboard", setup, &t, &measured);
    report.latency(
        "agent_post",
        "agent POST -> answer (durable)",
        side.agent_post.summary(),
    );
    report.count(
        "reply_retries",
        "agent replies retried after 503",
        side.retries.get(),
    );
    if let Some(l) = &t.ledgers {
        report.audit(
            "visitor_messages",
            "visitor messages",
            &l.visitors.audit(in_db),
        );
        report.audit("agent_messages", "agent replies", &l.agents.audit(in_db));
    }
    ctx.finish(&mut report);
    Ok(report)
}

fn fail(t: &Tally, kind: String, e: String) {
    t.c.failed.inc();
    t.errors.add(kind, e);
}

/// One agent console, as in `chat`: learns its conversations from
/// `assignee.changed` and answers every visitor message in them.
async fn agent_console(
    dialer: Arc<Dialer>,
    client: usize,
    agent: AgentUser,
    side: Arc<Side>,
    mut phase: watch::Receiver<Phase>,
) {
    let t = side.t.clone();
    let mut ws = match dialer
        .agent(client, &agent.token, side.api.account_id)
        .await
    {
        Ok((ws, _welcome)) => ws,
        Err(e) => return fail(&t, format!("agent_{}", e.kind), e.to_string()),
    };
    side.online.inc();
    let mut mine: HashSet<i64> = HashSet::new();
    let mut v2a = t.v2a.local();
    let token: Arc<str> = agent.token.into();
    loop {
        let text = match listen(&mut ws, &mut phase, &t.errors).await {
            Ok(text) => text,
            Err(Stop::Close) => break,
            Err(Stop::Ended) => return,
        };
        let Ok(peek) = Peek::parse(&text) else {
            t.errors.add("agent_unreadable_frame", &*text);
            continue;
        };
        let d = &peek.data;
        match peek.event.as_ref() {
            event::ASSIGNEE_CHANGED => {
                let Some(id) = d.id else { continue };
                if d.assignee_id == Some(agent.id) {
                    if mine.insert(id) {
                        side.assigned.inc();
                    }
                } else if mine.remove(&id) {
                    side.assigned.dec();
                }
            }
            event::MESSAGE_CREATED => {
                let Some(conversation) = d.conversation_id.filter(|c| mine.contains(c)) else {
                    continue;
                };
                let stamp = d.content.as_deref().and_then(|c| Stamp::parse(c, &t.run));
                let Some(stamp) = stamp.filter(|s| s.kind == 'v') else {
                    continue;
                };
                v2a.record(t.clock.since_us(stamp.at_us));
                t.c.v2a.inc();
                if let Some(l) = &t.ledgers {
                    l.visitors.seen(stamp.lane, stamp.seq);
                }
                reply(&side, client, &token, conversation, stamp);
            }
            event::ERROR => t.errors.add(
                format!("agent_error_{}", d.error.as_deref().unwrap_or("unknown")),
                d.message.as_deref().unwrap_or(""),
            ),
            _ => {}
        }
    }
    drop(v2a);
    ws.close().await;
}

/// The agent answers `stamp`'s message over REST, in its own task.
fn reply(side: &Arc<Side>, client: usize, token: &Arc<str>, conversation: i64, stamp: Stamp) {
    let t = &side.t;
    let answer = Stamp {
        kind: 'a',
        at_us: t.clock.now_us(),
        ..stamp
    };
    if let Some(l) = &t.ledgers {
        l.agents.sent(answer.lane, answer.seq);
    }
    t.c.replies_in_flight.inc();
    let (side, token) = (side.clone(), token.clone());
    tokio::spawn(async move {
        let t = &side.t;
        let content = answer.content(&t.run);
        let echo_id = format!("a{}-{}", answer.lane, answer.seq);
        if let Ok(_permit) = side.replies.acquire().await {
            let began = Instant::now();
            let posted = side
                .api
                .post_message(
                    client,
                    &token,
                    conversation,
                    &content,
                    &echo_id,
                    &mut |_| {},
                )
                .await;
            match posted {
                Ok(posted) => {
                    let (id, retries) = (posted.value, posted.retries);
                    let took = u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX);
                    side.agent_post.record(took);
                    side.retries.add(u64::from(retries));
                    if let Some(l) = &t.ledgers {
                        l.agents.acked(answer.lane, answer.seq, id);
                    }
                }
                Err(e) => t.errors.add(format!("reply_{}", e.kind()), e),
            }
        }
        t.c.replies_in_flight.dec();
    });
}
