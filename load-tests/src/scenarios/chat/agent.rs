//! `chat`'s agent consoles: each learns its conversations from
//! `assignee.changed` and answers every visitor message in them over REST.
//!
//! A console whose socket drops reconnects to the next URL and resumes
//! after its last cursor. After a `resync` the agent reads its
//! conversations back over REST: visitor messages it had missed count as
//! delivered (reloaded) and are answered. Replies go to the URL the
//! console last reached, and are retried on the next URLs with their
//! `echo_id` (see [`Api::post_message`]).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use switchboard_protocol::realtime::event;
use tokio::sync::Semaphore;

use super::recovery::{pause, RECONNECT_ATTEMPTS};
use super::Shared;
use crate::api::{AgentUser, Api};
use crate::net::{Dialer, Peek, Stamp, Ws};
use crate::scenarios::{listen, Phase, Stop};

/// One agent of the run and what its replies need.
struct Agent {
    /// Its index among the agents: URL `client mod N` first.
    client: usize,
    /// Its index among all clients (visitors first), for [`super::Recovery`].
    recovery_id: usize,
    user: AgentUser,
    token: Arc<str>,
    /// The URL (mod their number) the console and replies use now.
    at: Arc<AtomicUsize>,
    cursor: Option<u64>,
    mine: HashSet<i64>,
}

/// One agent console: learns which conversations are its own from
/// `assignee.changed`, measures visitor messages in them and answers each.
pub(super) async fn agent_task(
    dialer: Arc<Dialer>,
    client: usize,
    api: Api,
    user: AgentUser,
    shared: Arc<Shared>,
    replies: Arc<Semaphore>,
    mut phase: tokio::sync::watch::Receiver<Phase>,
) {
    let opened = dialer
        .returning_agent(client, &user.token, api.account_id, None)
        .await;
    let (mut ws, _welcome, cursor) = match opened {
        Ok(opened) => opened,
        Err(e) => {
            shared.c.failed.inc();
            shared.errors.add(format!("agent_{}", e.kind), e);
            return;
        }
    };
    shared.c.agents_online.inc();
    let mut agent = Agent {
        client,
        recovery_id: shared.conversation_count + client,
        token: user.token.as_str().into(),
        user,
        at: Arc::new(AtomicUsize::new(client)),
        cursor,
        mine: HashSet::new(),
    };
    let mut v2a = shared.visitor_to_agent.local();
    loop {
        let text = match listen(&mut ws, &mut phase, &shared.errors).await {
            Ok(text) => text,
            Err(Stop::Close) => break,
            Err(Stop::Ended) => {
                shared.recovery.failed(agent.recovery_id);
                match reconnect(&dialer, &api, &mut agent, &shared).await {
                    Some(new) => {
                        ws = new;
                        continue;
                    }
                    None => return,
                }
            }
        };
        let peek = match Peek::parse(&text) {
            Ok(p) => p,
            Err(e) => {
                shared.errors.add("agent_unreadable_frame", e);
                continue;
            }
        };
        agent.cursor = agent.cursor.max(peek.cursor);
        let d = &peek.data;
        match peek.event.as_ref() {
            event::RESYNC => {
                shared.c.resyncs.inc();
                agent.cursor = peek.cursor;
                reload(&api, &agent, &shared, &replies).await;
            }
            event::ASSIGNEE_CHANGED => {
                if let Some(id) = d.id {
                    if d.assignee_id == Some(agent.user.id) {
                        if agent.mine.insert(id) {
                            shared.c.assigned.inc();
                        }
                    } else if agent.mine.remove(&id) {
                        shared.c.assigned.dec();
                    }
                }
            }
            event::MESSAGE_CREATED => {
                shared.c.deliveries.inc();
                let Some(conversation_id) = d.conversation_id else {
                    continue;
                };
                if d.sender_type.as_deref() != Some("Contact")
                    || !agent.mine.contains(&conversation_id)
                {
                    continue;
                }
                let Some(stamp) = d
                    .content
                    .as_deref()
                    .and_then(|c| Stamp::parse(c, &shared.run))
                    .filter(|s| s.kind == 'v')
                else {
                    continue;
                };
                v2a.record(shared.clock.since_us(stamp.at_us));
                shared.c.visitor_to_agent.inc();
                if !shared.from_visitors.seen(stamp.lane, stamp.seq) {
                    shared.errors.add("unknown_message", format!("{stamp:?}"));
                    continue;
                }
                reply(&api, &agent, conversation_id, stamp, &shared, &replies);
            }
            event::ERROR => {
                shared.errors.add(
                    format!("agent_error_{}", d.error.as_deref().unwrap_or("unknown")),
                    d.message.as_deref().unwrap_or(""),
                );
            }
            _ => {}
        }
    }
    drop(v2a);
    ws.close().await;
}

/// Opens the console again on the next URL, resuming after the last
/// cursor; `None` (an error) after [`RECONNECT_ATTEMPTS`].
async fn reconnect(dialer: &Dialer, api: &Api, agent: &mut Agent, shared: &Shared) -> Option<Ws> {
    for attempt in 1..=RECONNECT_ATTEMPTS {
        tokio::time::sleep(pause(attempt)).await;
        let at = agent.at.fetch_add(1, Ordering::Relaxed) + 1;
        match dialer
            .returning_agent(at, &agent.token, api.account_id, agent.cursor)
            .await
        {
            Ok((ws, welcome, cursor)) => {
                shared.c.reconnects.inc();
                if !welcome.resumed {
                    agent.cursor = agent.cursor.max(cursor);
                }
                return Some(ws);
            }
            Err(e) => {
                shared.recovery.failed(agent.recovery_id);
                shared.errors.add(format!("agent_reconnect_{}", e.kind), e);
            }
        }
    }
    shared.errors.add(
        "agent_gave_up",
        format!("agent {} could not reconnect", agent.client),
    );
    None
}

/// After a `resync`: reads the agent's conversations over REST, counts
/// the visitor messages it had missed as delivered and answers them.
/// (Assignments are not reloaded: `chat` makes them all before measuring.)
async fn reload(api: &Api, agent: &Agent, shared: &Arc<Shared>, replies: &Arc<Semaphore>) {
    for &conversation_id in &agent.mine {
        let at = agent.at.load(Ordering::Relaxed);
        let messages = match api.messages(at, Some(&agent.token), conversation_id).await {
            Ok(messages) => messages,
            Err(e) => {
                shared.errors.add(format!("agent_reload_{}", e.kind()), e);
                continue;
            }
        };
        for m in messages {
            let stamp = m
                .content
                .as_deref()
                .and_then(|c| Stamp::parse(c, &shared.run));
            let Some(stamp) = stamp.filter(|s| s.kind == 'v') else {
                continue;
            };
            if shared.from_visitors.reloaded(stamp.lane, stamp.seq) {
                shared.c.reloaded.inc();
            }
            if !shared.from_agents.was_sent(stamp.lane, stamp.seq) {
                reply(api, agent, conversation_id, stamp, shared, replies);
            }
        }
    }
}

/// The agent answers `stamp`'s message over REST, in its own task.
fn reply(
    api: &Api,
    agent: &Agent,
    conversation_id: i64,
    stamp: Stamp,
    shared: &Arc<Shared>,
    replies: &Arc<Semaphore>,
) {
    let answer = Stamp {
        kind: 'a',
        lane: stamp.lane,
        seq: stamp.seq,
        at_us: shared.clock.now_us(),
    };
    shared.from_agents.sent(answer.lane, answer.seq);
    shared.c.replies_in_flight.inc();
    let (api, token, at, shared, replies) = (
        api.clone(),
        agent.token.clone(),
        agent.at.clone(),
        shared.clone(),
        replies.clone(),
    );
    let client = agent.recovery_id;
    tokio::spawn(async move {
        let content = answer.content(&shared.run);
        let echo_id = format!("a{}-{}", answer.lane, answer.seq);
        if let Ok(_permit) = replies.acquire().await {
            let began = Instant::now();
            let first = at.load(Ordering::Relaxed);
            let mut failed = |e: &crate::api::CallError| {
                shared.recovery.failed(client);
                shared.retried.add(format!("reply_{}", e.kind()), e);
            };
            let posted = api
                .post_message(
                    first,
                    &token,
                    conversation_id,
                    &content,
                    &echo_id,
                    &mut failed,
                )
                .await;
            match posted {
                Ok(posted) => {
                    shared.recovery.succeeded(client);
                    shared
                        .agent_ack
                        .record(u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX));
                    if posted.retries > 0 {
                        shared.c.retried_writes.inc();
                        // Where it worked: the next replies start there.
                        at.store(first + posted.retries as usize, Ordering::Relaxed);
                    }
                    shared.c.reply_retries.add(u64::from(posted.retries));
                    shared.c.replies.inc();
                    shared
                        .from_agents
                        .acked(answer.lane, answer.seq, posted.value);
                }
                Err(e) => {
                    shared.recovery.failed(client);
                    shared.errors.add(format!("reply_{}", e.kind()), e);
                }
            }
        }
        shared.c.replies_in_flight.dec();
    });
}
