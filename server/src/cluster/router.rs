//! The cluster's shard router: a command runs where its account is owned.
//!
//! Here when this node owns the account; otherwise it goes to the owner
//! over NATS request/reply. The owner is found from the lease (cached until
//! it fails); an account nobody holds is taken by the node placement
//! gives it (this one, or the one asked with `take`). Commands are retried
//! while the answer says nothing was applied (not the owner, no node
//! listening, nobody holding the account yet), within [`ROUTE_WITHIN`];
//! after an answer that never came, only [`Command::repeatable`] ones are.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::node::{Node, Route};
use super::placement;
use super::wire::{Reply, Request};
use crate::hub::router::{Answer, Command, ShardRouter};
use crate::hub::{HubError, HubResult};

/// How long a command may look for its account's owner: a dead owner's
/// lease runs out within [`super::leases::LEASE`], and another node takes
/// the account within a second more.
pub(crate) const ROUTE_WITHIN: Duration = Duration::from_secs(8);
/// How long one request to another node may take.
const ASK_WITHIN: Duration = Duration::from_secs(5);

pub(crate) struct ClusterRouter {
    pub(super) node: Arc<Node>,
}

#[async_trait]
impl ShardRouter for ClusterRouter {
    async fn call(&self, account_id: i64, command: Command) -> HubResult<Answer> {
        let command = match command {
            // The edge then checks membership in the database: no hop.
            Command::IsLoaded => return Ok(Answer::Loaded(false)),
            Command::AgentPresence { user_id, delta } => {
                let (count, seq) = self.node.console_change(account_id, user_id, delta);
                Command::NodeConsoles {
                    node: self.node.name.clone(),
                    user_id,
                    count,
                    seq,
                }
            }
            other => other,
        };
        let repeatable = command.repeatable();
        let deadline = Instant::now() + ROUTE_WITHIN;
        let mut pause = Duration::from_millis(20);
        loop {
            match self.once(account_id, command.clone()).await {
                Ok(answer) => return Ok(answer),
                Err(Route::Refused(e)) => return Err(e),
                Err(Route::Unknown) if !repeatable => return Err(HubError::Unanswered),
                Err(Route::Again | Route::Unknown) => {}
            }
            if Instant::now() + pause > deadline {
                tracing::warn!(account_id, "no owner answered in time");
                return Err(HubError::Moved);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }
}

impl ClusterRouter {
    /// One try: here, at the known owner, or where placement puts it.
    async fn once(&self, account_id: i64, command: Command) -> Result<Answer, Route> {
        let node = &self.node;
        if let Some(outcome) = node.local(account_id, command.clone()).await {
            return outcome;
        }
        if let Some(owner) = node.cached_owner(account_id) {
            return self.ask(&owner, account_id, command, false).await;
        }
        let holder = node.leases.holder(account_id).await.map_err(|e| {
            tracing::warn!(account_id, error = %e, "lease not read");
            Route::Again
        })?;
        match holder {
            Some(h) if h.live && *h.node == *node.name => Err(Route::Again),
            Some(h) if h.live => {
                node.remember_owner(account_id, Some(h.node.clone()));
                self.ask(&h.node, account_id, command, false).await
            }
            _ => {
                // Read now, not as of the last tick: a node that joined
                // within the second is where placement puts the account.
                let live = match node.leases.live_nodes().await {
                    Ok(live) => live,
                    Err(_) => node.live(),
                };
                match placement::preferred(account_id, &live) {
                    Some(to) if to != &*node.name => {
                        let to = to.to_string();
                        self.ask(&to, account_id, command, true).await
                    }
                    _ => {
                        node.take(account_id).await?;
                        node.local(account_id, command)
                            .await
                            .unwrap_or(Err(Route::Again))
                    }
                }
            }
        }
    }

    /// Sends the command to `owner`.
    async fn ask(
        &self,
        owner: &str,
        account_id: i64,
        command: Command,
        take: bool,
    ) -> Result<Answer, Route> {
        let request = Request {
            account_id,
            take,
            command: Some(command),
        };
        let payload = serde_json::to_vec(&request)
            .map_err(|e| Route::Refused(HubError::Write(e.to_string().into())))?;
        let ask = async_nats::Request::new()
            .payload(payload.into())
            .timeout(Some(ASK_WITHIN));
        let forget = || self.node.remember_owner(account_id, None);
        let message = match self
            .node
            .nats
            .send_request(self.node.subjects.node(owner), ask)
            .await
        {
            Ok(message) => message,
            Err(e) => {
                forget();
                return Err(match e.kind() {
                    async_nats::RequestErrorKind::NoResponders => Route::Again,
                    _ => {
                        tracing::warn!(account_id, owner, error = %e, "no answer from the owner");
                        Route::Unknown
                    }
                });
            }
        };
        match serde_json::from_slice::<Reply>(&message.payload) {
            Ok(Reply::Answer(answer)) => Ok(*answer),
            Ok(Reply::NotOwner) => {
                forget();
                Err(Route::Again)
            }
            Ok(Reply::Refused(e)) => Err(Route::Refused(e.into())),
            Err(e) => Err(Route::Refused(HubError::Write(
                format!("an unreadable answer from node {owner}: {e}").into(),
            ))),
        }
    }
}

/// Answers the requests other nodes send this node, each on its own task.
/// Ends when the subscription does (the node leaves).
pub(super) async fn serve(node: Arc<Node>, mut requests: async_nats::Subscriber) {
    use futures_util::StreamExt;
    while let Some(message) = requests.next().await {
        let node = node.clone();
        tokio::spawn(async move {
            let Some(reply_to) = message.reply.clone() else {
                return;
            };
            let reply = match serde_json::from_slice::<Request>(&message.payload) {
                Ok(request) => answer(&node, request).await,
                Err(e) => Reply::Refused(super::wire::WireError::Write(format!(
                    "an unreadable request: {e}"
                ))),
            };
            match serde_json::to_vec(&reply) {
                Ok(bytes) => {
                    if let Err(e) = node.nats.publish(reply_to, bytes.into()).await {
                        tracing::warn!(error = %e, "an answer to another node was not sent");
                    }
                }
                Err(e) => tracing::error!(error = %e, "an answer could not be encoded"),
            }
        });
    }
}

async fn answer(node: &Node, request: Request) -> Reply {
    let account_id = request.account_id;
    if request.take && !node.owns(account_id) {
        if let Err(route) = node.take(account_id).await {
            return reply_of(Err(route));
        }
    }
    let Some(command) = request.command else {
        return Reply::Answer(Box::new(Answer::Done));
    };
    match node.local(account_id, command).await {
        Some(outcome) => reply_of(outcome),
        None => Reply::NotOwner,
    }
}

fn reply_of(outcome: Result<Answer, Route>) -> Reply {
    match outcome {
        Ok(answer) => Reply::Answer(Box::new(answer)),
        Err(Route::Refused(e)) => Reply::Refused((&e).into()),
        Err(Route::Again | Route::Unknown) => Reply::NotOwner,
    }
}
