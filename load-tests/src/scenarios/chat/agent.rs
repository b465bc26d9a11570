//! `chat`'s agent consoles: each learns its conversations from
//! `assignee.changed` and answers every visitor message in them over REST.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use switchboard_protocol::realtime::event;
use tokio::sync::Semaphore;

use super::Shared;
use crate::api::{AgentUser, Api};
use crate::net::{Peek, Stamp};
use crate::scenarios::{listen, Phase, Stop};

/// One agent console: learns which conversations are its own from
/// `assignee.changed`, measures visitor messages in them and answers each.
pub(super) async fn agent_task(
    dialer: Arc<crate::net::Dialer>,
    client: usize,
    api: Api,
    agent: AgentUser,
    shared: Arc<Shared>,
    replies: Arc<Semaphore>,
    mut phase: tokio::sync::watch::Receiver<Phase>,
) {
    let (mut ws, _welcome) = match dialer.agent(client, &agent.token, api.account_id).await {
        Ok(opened) => opened,
        Err(e) => {
            shared.c.failed.inc();
            shared.errors.add(format!("agent_{}", e.kind), e);
            return;
        }
    };
    shared.c.agents_online.inc();
    let mut mine: HashSet<i64> = HashSet::new();
    let mut v2a = shared.visitor_to_agent.local();
    let token: Arc<str> = agent.token.into();
    loop {
        let text = match listen(&mut ws, &mut phase, &shared.errors).await {
            Ok(text) => text,
            Err(Stop::Close) => break,
            Err(Stop::Ended) => return,
        };
        let peek = match Peek::parse(&text) {
            Ok(p) => p,
            Err(e) => {
                shared.errors.add("agent_unreadable_frame", e);
                continue;
            }
        };
        let d = &peek.data;
        match peek.event.as_ref() {
            event::ASSIGNEE_CHANGED => {
                if let Some(id) = d.id {
                    if d.assignee_id == Some(agent.id) {
                        if mine.insert(id) {
                            shared.c.assigned.inc();
                        }
                    } else if mine.remove(&id) {
                        shared.c.assigned.dec();
                    }
                }
            }
            event::MESSAGE_CREATED => {
                shared.c.deliveries.inc();
                let Some(conversation_id) = d.conversation_id else {
                    continue;
                };
                if d.sender_type.as_deref() != Some("Contact") || !mine.contains(&conversation_id) {
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
                reply(
                    &api,
                    client,
                    &token,
                    conversation_id,
                    stamp,
                    &shared,
                    &replies,
                );
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

/// The agent answers `stamp`'s message over REST, in its own task.
fn reply(
    api: &Api,
    client: usize,
    token: &Arc<str>,
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
    let (api, token, shared, replies) =
        (api.clone(), token.clone(), shared.clone(), replies.clone());
    tokio::spawn(async move {
        let content = answer.content(&shared.run);
        let echo_id = format!("a{}-{}", answer.lane, answer.seq);
        if let Ok(_permit) = replies.acquire().await {
            let began = Instant::now();
            match api
                .post_message(
                    client,
                    &token,
                    conversation_id,
                    &content,
                    &echo_id,
                    &mut |_| {},
                )
                .await
            {
                Ok(posted) => {
                    let (id, retries) = (posted.value, posted.retries);
                    shared
                        .agent_ack
                        .record(u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX));
                    shared.c.reply_retries.add(u64::from(retries));
                    shared.c.replies.inc();
                    shared.from_agents.acked(answer.lane, answer.seq, id);
                }
                Err(e) => shared.errors.add(format!("reply_{}", e.kind()), e),
            }
        }
        shared.c.replies_in_flight.dec();
    });
}
