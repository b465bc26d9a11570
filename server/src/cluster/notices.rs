//! What every node must hear at once: a change that makes its remembered
//! tokens or open sockets wrong. The node where the change was made acts
//! on it itself, then tells the others ([`Peers::tell`]).

use std::sync::Arc;

use futures_util::StreamExt;

use super::wire::Subjects;

/// A change the other nodes act on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Notice {
    /// Users, agents or tokens changed: forget remembered tokens.
    TokensChanged,
    /// Some of the user's tokens were revoked: close the consoles opened
    /// with them.
    TokensRevoked { user_id: i64 },
    /// The agent left the account: close their consoles of it.
    AgentRemoved { account_id: i64, user_id: i64 },
    /// A visitor link was handed a new token: close its other sockets
    /// (all of them but subscriber `keep` of node `on`).
    VisitorRevoked {
        account_id: i64,
        link: i64,
        on: String,
        keep: u64,
    },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    origin: String,
    notice: Notice,
}

/// The other nodes, if any: a single server has none and tells nobody.
#[derive(Clone, Default)]
pub(crate) struct Peers {
    nats: Option<(async_nats::Client, Arc<str>, Subjects)>,
}

impl Peers {
    pub(crate) fn new(nats: async_nats::Client, node: Arc<str>, subjects: Subjects) -> Peers {
        Peers {
            nats: Some((nats, node, subjects)),
        }
    }

    /// This node's name ("" for a single server).
    pub(crate) fn node(&self) -> &str {
        self.nats.as_ref().map_or("", |(_, node, _)| node)
    }

    /// Tells the other nodes (a single server: nobody).
    pub(crate) async fn tell(&self, notice: Notice) {
        let Some((nats, node, subjects)) = &self.nats else {
            return;
        };
        let envelope = Envelope {
            origin: node.to_string(),
            notice,
        };
        let Ok(bytes) = serde_json::to_vec(&envelope) else {
            return;
        };
        if let Err(e) = nats.publish(subjects.notices(), bytes.into()).await {
            tracing::warn!(error = %e, "a notice did not reach the other nodes");
        }
    }

    /// Hands every notice from another node to `heard` until the
    /// connection closes.
    ///
    /// # Errors
    /// The subscription could not be made.
    pub(crate) async fn listen<F, Fut>(&self, heard: F) -> anyhow::Result<()>
    where
        F: Fn(Notice) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let Some((nats, node, subjects)) = self.nats.clone() else {
            return Ok(());
        };
        let mut notices = nats.subscribe(subjects.notices()).await?;
        tokio::spawn(async move {
            while let Some(message) = notices.next().await {
                match serde_json::from_slice::<Envelope>(&message.payload) {
                    Ok(envelope) if *envelope.origin != *node => heard(envelope.notice).await,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "an unreadable notice"),
                }
            }
        });
        Ok(())
    }
}
