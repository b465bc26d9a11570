//! The relay half of `compare`: the same visitors against the bare relay,
//! whose agents answer on their own socket.
//!
//! Conversation `k` is room `k`, served by agent `k mod agents`; the load
//! generator decides that, since the relay assigns nothing.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::half::{self, Tally, Wire};
use super::pace::Mode;
use crate::api::Api;
use crate::cli::{Common, CompareArgs};
use crate::net::{Dialer, Stamp, Ws, OPEN_WITHIN};
use crate::report::Report;
use crate::scenarios::{listen, spawn_paced, wait_until, Counter, Ctx, Phase, Stop};
use crate::stats::LocalLatency;

/// How long connecting may take.
const SETUP_WITHIN: Duration = Duration::from_secs(120);
/// Frames an agent answers before writing its answers out.
const ANSWER_BATCH: usize = 64;

/// Runs the load against the relay at `url` (`http://host:port`); `pid`:
/// the relay's process, for its CPU time.
pub(super) async fn run(
    common: &Common,
    args: &CompareArgs,
    api: Api,
    url: &str,
    pid: Option<u32>,
    mode: Mode,
    capacity: usize,
) -> anyhow::Result<Report> {
    let (k, a) = (args.conversations, args.agents);
    let mut common = common.clone();
    common.server_pid = pid;
    let ctx = Ctx::with_sockets_to(&common, api, &[url], k + a).await?;
    let t = Arc::new(Tally::new(&ctx, mode, k, capacity, false));
    let mut tasks = JoinSet::new();

    let online = Arc::new(Counter::default());
    let o = online.clone();
    ctx.progress.phase("relay: connecting agents", move || {
        format!("{}/{a}", o.get())
    });
    for id in 0..a {
        let dialer = ctx.dialer.clone();
        tasks.spawn(agent(dialer, id, t.clone(), online.clone(), ctx.phase()));
    }
    let all = || online.get() + t.c.failed.get() >= a as u64;
    anyhow::ensure!(
        wait_until(SETUP_WITHIN, all).await && online.get() == a as u64,
        "not every relay agent connected: {:?}",
        ctx.errors.snapshot()
    );

    let s = t.clone();
    ctx.progress.phase("relay: connecting visitors", move || {
        format!("{}/{k}, {} failed", s.c.ready.get(), s.c.failed.get())
    });
    spawn_paced(&mut tasks, k, 0.0, |lane| {
        let path = format!("/visitor?room={lane}&agent={}", lane % a);
        let (dialer, handshakes, t, phase) = (
            ctx.dialer.clone(),
            ctx.handshakes.clone(),
            t.clone(),
            ctx.phase(),
        );
        async move {
            let opened = {
                let Ok(_permit) = handshakes.acquire().await else {
                    return;
                };
                open(&dialer, &path).await
            };
            match opened {
                Ok(ws) => {
                    t.c.ready.inc();
                    half::visitor(ws, Wire::Relay, lane, lane as i64, t, phase).await;
                }
                Err(e) => {
                    t.c.failed.inc();
                    t.errors.add("visitor_open", e);
                }
            }
        }
    })
    .await;
    let all = || t.c.ready.get() + t.c.failed.get() >= k as u64;
    if !wait_until(SETUP_WITHIN, all).await {
        ctx.errors.add(
            "setup_incomplete",
            format!("{} of {k} visitors connected", t.c.ready.get()),
        );
    }

    let measured = half::measure(&ctx, &t, "relay: measuring").await;
    ctx.progress.phase("relay: closing", String::new);
    ctx.close(&mut tasks).await;
    let mut report = half::report("relay", format!("bare relay at {url}"), &t, &measured);
    ctx.finish(&mut report);
    Ok(report)
}

async fn open(dialer: &Dialer, path: &str) -> Result<Ws, String> {
    match tokio::time::timeout(OPEN_WITHIN, dialer.open(0, path, false)).await {
        Ok(Ok(ws)) => Ok(ws),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("not open within {OPEN_WITHIN:?}")),
    }
}

/// One agent socket: answers every visitor message on the same socket,
/// writing out the answers to whatever arrived together at once.
async fn agent(
    dialer: Arc<Dialer>,
    id: usize,
    t: Arc<Tally>,
    online: Arc<Counter>,
    mut phase: watch::Receiver<Phase>,
) {
    let path = format!("/agent?id={id}");
    let mut ws = match tokio::time::timeout(OPEN_WITHIN, dialer.open(0, &path, true)).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => return fail(&t, e.to_string()),
        Err(_) => return fail(&t, format!("not open within {OPEN_WITHIN:?}")),
    };
    online.inc();
    let mut v2a = t.v2a.local();
    loop {
        let mut frame = match listen(&mut ws, &mut phase, &t.errors).await {
            Ok(frame) => frame,
            Err(Stop::Close) => break,
            Err(Stop::Ended) => return,
        };
        // Answer what is already read, a batch at most, then flush once.
        let mut answered = 0;
        loop {
            if let Err(e) = answer(&mut ws, &frame, &t, &mut v2a).await {
                return t.errors.add("agent_send", e);
            }
            answered += 1;
            if answered == ANSWER_BATCH {
                break;
            }
            match ws.ready_text() {
                Some(Ok(next)) => frame = next,
                Some(Err(ended)) => return t.errors.add("agent_disconnected", ended),
                None => break,
            }
        }
        if let Err(e) = ws.flush().await {
            return t.errors.add("agent_send", e);
        }
    }
    drop(v2a);
    ws.close().await;
}

fn fail(t: &Tally, e: String) {
    t.c.failed.inc();
    t.errors.add("agent_open", e);
}

/// Measures a visitor's message and queues its answer: `"<room> <stamp>"`.
async fn answer(ws: &mut Ws, frame: &str, t: &Tally, v2a: &mut LocalLatency) -> Result<(), String> {
    let stamp = frame
        .split_once(' ')
        .and_then(|(room, content)| Some((room, Stamp::parse(content, &t.run)?)))
        .filter(|(_, s)| s.kind == 'v');
    let Some((room, stamp)) = stamp else {
        t.errors.add("agent_unexpected_frame", frame);
        return Ok(());
    };
    v2a.record(t.clock.since_us(stamp.at_us));
    t.c.v2a.inc();
    let reply = Stamp {
        kind: 'a',
        at_us: t.clock.now_us(),
        ..stamp
    };
    ws.feed_text(format!("{room} {}", reply.content(&t.run)))
        .await
}
