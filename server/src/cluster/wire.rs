//! What nodes send each other over NATS: a command for an account's owner
//! and its answer, as JSON. The answer is the owner's own data (never a
//! rendered view), so the edge that asked renders it exactly as a single
//! node would.

use std::sync::Arc;

use crate::hub::router::{Answer, Command};
use crate::hub::HubError;
use crate::store::StoreError;

/// The NATS subjects of one cluster, all under its prefix, so clusters
/// sharing a NATS server never hear each other.
#[derive(Debug, Clone)]
pub(crate) struct Subjects(Arc<str>);

impl Subjects {
    pub(crate) fn new(prefix: &str) -> Subjects {
        Subjects(prefix.into())
    }

    /// A node's requests.
    pub(crate) fn node(&self, node: &str) -> String {
        format!("{}.node.{node}", self.0)
    }

    /// An account's channel operations.
    pub(crate) fn events(&self, account_id: i64) -> String {
        format!("{}.events.{account_id}", self.0)
    }

    /// The notices every node hears (see [`super::notices`]).
    pub(crate) fn notices(&self) -> String {
        format!("{}.notices", self.0)
    }
}

/// A command for the node that owns `account_id`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Request {
    pub(crate) account_id: i64,
    /// The asking node found nobody holding the account, and this node is
    /// where placement puts it: take it if it is still free. Without a
    /// command, that is all the request asks (a hand-over).
    pub(crate) take: bool,
    pub(crate) command: Option<Command>,
}

/// The owner's answer.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) enum Reply {
    Answer(Box<Answer>),
    /// This node does not own the account (any more): nothing was applied.
    NotOwner,
    /// The owner refused the command.
    Refused(WireError),
}

/// A [`HubError`] as it crosses between nodes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum WireError {
    NotFound,
    Busy,
    Write(String),
    Conflict(String),
    Invalid(String),
    PersonExists,
    NotYours,
    Database(String),
}

impl From<&HubError> for WireError {
    fn from(err: &HubError) -> Self {
        match err {
            HubError::NotFound | HubError::Store(StoreError::NotFound) => WireError::NotFound,
            HubError::Busy | HubError::Moved | HubError::Store(StoreError::Fenced(_)) => {
                WireError::Busy
            }
            HubError::Unanswered => WireError::Write(err.to_string()),
            HubError::Write(e) => WireError::Write(e.to_string()),
            HubError::Store(StoreError::Conflict(m)) => WireError::Conflict(m.clone()),
            HubError::Store(StoreError::Invalid(m)) => WireError::Invalid(m.clone()),
            HubError::Store(StoreError::PersonExists) => WireError::PersonExists,
            HubError::Store(StoreError::NotYours) => WireError::NotYours,
            HubError::Store(e @ (StoreError::Database(_) | StoreError::Corrupt(_))) => {
                WireError::Database(e.to_string())
            }
        }
    }
}

impl From<WireError> for HubError {
    fn from(err: WireError) -> Self {
        match err {
            WireError::NotFound => HubError::NotFound,
            WireError::Busy => HubError::Busy,
            WireError::Write(e) | WireError::Database(e) => HubError::Write(e.into()),
            WireError::Conflict(m) => HubError::Store(StoreError::Conflict(m)),
            WireError::Invalid(m) => HubError::Store(StoreError::Invalid(m)),
            WireError::PersonExists => HubError::Store(StoreError::PersonExists),
            WireError::NotYours => HubError::Store(StoreError::NotYours),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::{HubError, NewMessage};

    #[test]
    fn a_command_and_a_refusal_cross_intact() {
        let request = Request {
            account_id: 7,
            take: true,
            command: Some(Command::PostMessage {
                conversation_id: 3,
                message: NewMessage::activity("Assigned to Ana".into()),
            }),
        };
        let bytes = serde_json::to_vec(&request).unwrap();
        let back: Request = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back.account_id, 7);
        let Some(Command::PostMessage { message, .. }) = back.command else {
            panic!("another command came back");
        };
        assert_eq!(message.content.as_deref(), Some("Assigned to Ana"));

        let refused = WireError::from(&HubError::Store(StoreError::Conflict("taken".into())));
        let again: WireError =
            serde_json::from_slice(&serde_json::to_vec(&refused).unwrap()).unwrap();
        assert!(
            matches!(HubError::from(again), HubError::Store(StoreError::Conflict(m)) if m == "taken")
        );
    }
}
