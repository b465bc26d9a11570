//! The one door into the shards: every call the edge (REST handlers,
//! sockets, Meta's webhook) makes into an account's shard is a [`Command`]
//! in and an [`Answer`] out, through a [`ShardRouter`].
//!
//! Commands are plain data (no closures), so a router may as well send them
//! to the node that owns the account; today the only router is the local
//! [`Hub`], which runs them in process. [`Shards`] is what the edge holds:
//! a typed face over the router, one method per command, so handlers read
//! as before and cannot reach a shard any other way.
//!
//! Below the edge, the workers that run on the shard's owner (the outbox,
//! the CRM sync, the sweeper) use the [`Hub`] directly.
//!
//! A few things are not shard calls but facilities of the node the request
//! arrived at ([`Shards::locks`], [`Shards::writer_depth`]): a cluster must
//! move them to the owner too (see the cluster design).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};
use switchboard_protocol::realtime::Typing;

use super::directory::Directory;
use super::edits::{EarlyReports, Report, Stripes};
use super::presence::Load;
use super::shard::{Counts, ListFilter, LiveConversation};
use super::{Hub, HubError, HubResult, NewConversation, NewMessage};
use crate::outbox::plan::Visit;
use crate::store::{Contact, Conversation, ConversationStatus, Message};

/// What the edge asks of one account's shard.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Command {
    /// The account's agents, inboxes, webhooks and CRM settings.
    Directory,
    /// Whether the account's shard is loaded (so probing ids of unknown
    /// accounts cannot make the hub load them).
    IsLoaded,
    /// One page of a conversation list with its tab counts.
    List(ListFilter),
    Get {
        conversation_id: i64,
    },
    /// The visitor link a conversation was opened through.
    ContactInboxOf {
        conversation_id: i64,
    },
    /// A contact's conversations, newest first.
    ContactConversations {
        contact_id: i64,
    },
    /// An inbox's collaborators' loads and presence.
    Loads {
        inbox_id: i64,
    },
    /// Who is online: per agent, and per inbox whether anyone is.
    Presence,
    CreateConversation(NewConversation),
    PostMessage {
        conversation_id: i64,
        message: NewMessage,
    },
    /// A change of a conversation's status or assignee, by `actor`.
    Change {
        conversation_id: i64,
        actor: Option<i64>,
        change: ConversationEdit,
    },
    EditMessage {
        conversation_id: i64,
        message_id: i64,
        edit: MessageEdit,
    },
    DeleteContact {
        contact_id: i64,
    },
    DeleteInbox {
        inbox_id: i64,
    },
    /// The account's settings changed: read them again.
    ReloadRoster,
    /// An agent's console opened (`delta` 1) or closed (-1).
    AgentPresence {
        user_id: i64,
        delta: i32,
    },
    /// Cluster mode: `node` has `count` consoles of the agent open, as of
    /// its report number `seq` (see [`Hub::node_consoles`]).
    NodeConsoles {
        node: Arc<str>,
        user_id: i64,
        count: u32,
        seq: u64,
    },
    Typing {
        data: Typing,
        on: bool,
    },
    Read {
        conversation_id: i64,
        user_id: i64,
    },
    /// A visitor's link proved its identity.
    LinkVerified {
        link: i64,
    },
    /// A contact was saved (`before`: as it was, absent when new).
    ContactSaved {
        before: Option<Box<Contact>>,
        contact: Box<Contact>,
    },
    /// A widget visit that webhooks hear of.
    WidgetTriggered {
        contact: Box<Contact>,
        visit: Visit,
    },
    QueueCrmSync {
        contact_id: i64,
        conversation_id: Option<i64>,
        inbox_id: Option<i64>,
    },
}

/// A change of a conversation, as data.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum ConversationEdit {
    /// Sets the status (`None`: open <-> resolved) and the snooze time;
    /// `by` names who did it in the activity line.
    Status {
        status: Option<ConversationStatus>,
        snoozed_until: Option<i64>,
        by: String,
    },
    /// Sets or (with `None`) removes the assignee of a conversation of
    /// `inbox_id` (any other inbox: not found), with its activity line.
    Assign {
        inbox_id: i64,
        assignee_id: Option<i64>,
        line: String,
    },
    /// The contact resolves it (a no-op when it already is).
    ResolveByContact { line: String },
}

/// An edit of a message, as data.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum MessageEdit {
    /// Replaced by "This message was deleted"; answers the files it held.
    Delete,
    /// A visitor's answers to an interactive message.
    Submit { values: Value },
    /// A channel's delivery report (sent, delivered, read, failed).
    Report(Report),
}

/// What a deleted message shows instead of its content.
pub const DELETED: &str = "This message was deleted";

/// What a shard answers.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum Answer {
    Done,
    Directory(Arc<Directory>),
    Loaded(bool),
    List(Counts, Vec<LiveConversation>),
    Conversation(LiveConversation),
    ContactInbox(Option<i64>),
    Conversations(Vec<LiveConversation>),
    Loads(Vec<Load>),
    Presence(BTreeMap<i64, String>, HashMap<i64, bool>),
    Created(LiveConversation, Vec<Arc<Message>>),
    Posted(Arc<Message>),
    Changed(Conversation, Vec<Arc<Message>>),
    /// The message after the edit, and the file keys a deletion let go.
    Edited(Message, Vec<String>),
    /// The ids of the conversations removed.
    Removed(Vec<i64>),
}

/// Runs commands on the shard that owns the account.
#[async_trait]
pub trait ShardRouter: Send + Sync + 'static {
    /// # Errors
    /// The shard's own refusals ([`HubError::NotFound`], [`HubError::Busy`],
    /// a write the database refused) and the store's failures.
    async fn call(&self, account_id: i64, command: Command) -> HubResult<Answer>;
}

#[async_trait]
impl ShardRouter for Hub {
    async fn call(&self, account_id: i64, command: Command) -> HubResult<Answer> {
        Ok(match command {
            Command::Directory => Answer::Directory(self.directory(account_id).await?),
            Command::IsLoaded => Answer::Loaded(self.has_account(account_id)),
            Command::List(filter) => {
                let (counts, page) = self.list(account_id, &filter);
                Answer::List(counts, page)
            }
            Command::Get { conversation_id } => {
                Answer::Conversation(self.get(account_id, conversation_id)?)
            }
            Command::ContactInboxOf { conversation_id } => {
                Answer::ContactInbox(self.contact_inbox_of(account_id, conversation_id)?)
            }
            Command::ContactConversations { contact_id } => {
                Answer::Conversations(self.contact_conversations(account_id, contact_id))
            }
            Command::Loads { inbox_id } => Answer::Loads(self.loads(account_id, inbox_id).await?),
            Command::Presence => {
                let (users, inboxes) = self.presence(account_id);
                Answer::Presence(users, inboxes)
            }
            Command::CreateConversation(new) => {
                if new.account_id != account_id {
                    return Err(HubError::NotFound);
                }
                let (live, messages) = self.create_conversation(new).await?;
                Answer::Created(live, messages)
            }
            Command::PostMessage {
                conversation_id,
                message,
            } => Answer::Posted(
                self.post_message(account_id, conversation_id, message)
                    .await?,
            ),
            Command::Change {
                conversation_id,
                actor,
                change,
            } => {
                let (conversation, messages) = self
                    .change(account_id, conversation_id, actor, |c| edit(c, change))
                    .await?;
                Answer::Changed(conversation, messages)
            }
            Command::EditMessage {
                conversation_id,
                message_id,
                edit,
            } => {
                let mut files = Vec::new();
                let message = self
                    .edit_message(account_id, conversation_id, message_id, |m| {
                        edit_message(m, edit, &mut files)
                    })
                    .await?;
                Answer::Edited(message, files)
            }
            Command::DeleteContact { contact_id } => {
                Answer::Removed(self.delete_contact(account_id, contact_id).await?)
            }
            Command::DeleteInbox { inbox_id } => {
                Answer::Removed(self.delete_inbox(account_id, inbox_id).await?)
            }
            Command::ReloadRoster => {
                self.reload_roster(account_id).await?;
                Answer::Done
            }
            Command::AgentPresence { user_id, delta } => {
                self.agent_presence(account_id, user_id, delta).await?;
                Answer::Done
            }
            Command::NodeConsoles {
                node,
                user_id,
                count,
                seq,
            } => {
                self.node_consoles(account_id, node, user_id, count, seq)
                    .await?;
                Answer::Done
            }
            Command::Typing { data, on } => {
                self.typing(account_id, data, on)?;
                Answer::Done
            }
            Command::Read {
                conversation_id,
                user_id,
            } => {
                self.read(account_id, conversation_id, user_id)?;
                Answer::Done
            }
            Command::LinkVerified { link } => {
                self.link_verified(account_id, link);
                Answer::Done
            }
            Command::ContactSaved { before, contact } => {
                if contact.account_id != account_id {
                    return Err(HubError::NotFound);
                }
                self.contact_saved(before.as_deref(), &contact).await?;
                Answer::Done
            }
            Command::WidgetTriggered { contact, visit } => {
                if contact.account_id != account_id {
                    return Err(HubError::NotFound);
                }
                self.widget_triggered(&contact, visit).await?;
                Answer::Done
            }
            Command::QueueCrmSync {
                contact_id,
                conversation_id,
                inbox_id,
            } => {
                self.queue_crm_sync(account_id, contact_id, conversation_id, inbox_id)
                    .await?;
                Answer::Done
            }
        })
    }
}

/// Applies a [`ConversationEdit`]; returns the activity lines it adds.
fn edit(c: &mut Conversation, change: ConversationEdit) -> HubResult<Vec<NewMessage>> {
    Ok(match change {
        ConversationEdit::Status {
            status,
            snoozed_until,
            by,
        } => {
            let next = status.unwrap_or(match c.status {
                ConversationStatus::Open => ConversationStatus::Resolved,
                _ => ConversationStatus::Open,
            });
            let changed = next != c.status || c.snoozed_until != snoozed_until;
            c.status = next;
            c.snoozed_until = snoozed_until;
            if changed {
                vec![NewMessage::activity(status_line(next, &by))]
            } else {
                Vec::new()
            }
        }
        ConversationEdit::Assign {
            inbox_id,
            assignee_id,
            line,
        } => {
            if c.inbox_id != inbox_id {
                return Err(HubError::NotFound);
            }
            let changed = c.assignee_id != assignee_id;
            c.assignee_id = assignee_id;
            if changed {
                vec![NewMessage::activity(line)]
            } else {
                Vec::new()
            }
        }
        ConversationEdit::ResolveByContact { line } => {
            if c.status == ConversationStatus::Resolved {
                return Ok(Vec::new());
            }
            c.status = ConversationStatus::Resolved;
            c.snoozed_until = None;
            vec![NewMessage::activity(line)]
        }
    })
}

/// The activity line for a status change made by `by`.
fn status_line(status: ConversationStatus, by: &str) -> String {
    match status {
        ConversationStatus::Resolved => format!("Conversation was marked resolved by {by}"),
        ConversationStatus::Open => format!("Conversation was reopened by {by}"),
        ConversationStatus::Pending => format!("Conversation was marked as pending by {by}"),
        ConversationStatus::Snoozed => format!("Conversation was snoozed by {by}"),
    }
}

/// Applies a [`MessageEdit`]; returns whether the message changed.
fn edit_message(m: &mut Message, edit: MessageEdit, files: &mut Vec<String>) -> bool {
    match edit {
        MessageEdit::Delete => {
            if m.deleted {
                return false;
            }
            *files = crate::files::keys_of(&m.content_attributes);
            m.content = Some(DELETED.to_string());
            m.content_attributes = json!({"deleted": true});
            m.deleted = true;
            true
        }
        MessageEdit::Submit { values } => {
            if m.deleted {
                return false;
            }
            let mut attributes = m
                .content_attributes
                .as_object()
                .cloned()
                .unwrap_or_default();
            attributes.insert("submitted_values".to_string(), values);
            m.content_attributes = Value::Object(attributes);
            true
        }
        MessageEdit::Report(report) => report.apply(m),
    }
}

impl Command {
    /// Whether running it twice is the same as once: reads, and reports
    /// of a state. A router may retry these after an answer that never
    /// came; any other command only when it knows nothing was applied.
    pub fn repeatable(&self) -> bool {
        matches!(
            self,
            Command::Directory
                | Command::IsLoaded
                | Command::List(_)
                | Command::Get { .. }
                | Command::ContactInboxOf { .. }
                | Command::ContactConversations { .. }
                | Command::Loads { .. }
                | Command::Presence
                | Command::ReloadRoster
                | Command::NodeConsoles { .. }
                | Command::Typing { .. }
                | Command::Read { .. }
                | Command::LinkVerified { .. }
        )
    }
}

/// Turns an answer of the wrong kind into an error: a router bug, never
/// the caller's.
fn unexpected(answer: Answer) -> HubError {
    // The kind only: answers carry secrets (a directory's credentials)
    // and content, which never reach a log.
    HubError::Write(
        format!(
            "the shard router answered {} to another command",
            answer.kind()
        )
        .into(),
    )
}

impl Answer {
    /// The variant's name, for errors.
    fn kind(&self) -> &'static str {
        match self {
            Answer::Done => "Done",
            Answer::Directory(_) => "Directory",
            Answer::Loaded(_) => "Loaded",
            Answer::List(..) => "List",
            Answer::Conversation(_) => "Conversation",
            Answer::ContactInbox(_) => "ContactInbox",
            Answer::Conversations(_) => "Conversations",
            Answer::Loads(_) => "Loads",
            Answer::Presence(..) => "Presence",
            Answer::Created(..) => "Created",
            Answer::Posted(_) => "Posted",
            Answer::Changed(..) => "Changed",
            Answer::Edited(..) => "Edited",
            Answer::Removed(_) => "Removed",
        }
    }
}

/// Node-local coordination the edge shares with the workers below it.
pub struct Locks<'a> {
    /// Receiving is serialised per WhatsApp contact, so a burst opens one
    /// conversation.
    pub customers: &'a Stripes,
    /// One CRM sync per contact at a time.
    pub crm: &'a Stripes,
    /// Status reports that arrived before the send's answer.
    pub early_reports: &'a EarlyReports,
}

/// The edge's door into the shards: a typed face over a [`ShardRouter`].
#[derive(Clone)]
pub struct Shards {
    router: Arc<dyn ShardRouter>,
    /// This node's hub, for the node-local facilities only.
    local: Arc<Hub>,
}

/// One typed method: builds the command, unpacks the answer.
macro_rules! call {
    ($self:ident, $account:expr, $command:expr, $answer:pat => $value:expr) => {
        match $self.router.call($account, $command).await? {
            $answer => Ok($value),
            other => Err(unexpected(other)),
        }
    };
}

impl Shards {
    /// Commands go to `router`; node-local facilities come from `local`.
    pub fn new(router: Arc<dyn ShardRouter>, local: Arc<Hub>) -> Shards {
        Shards { router, local }
    }

    /// Every command through the local hub.
    pub fn local(hub: Arc<Hub>) -> Shards {
        Shards::new(hub.clone(), hub)
    }

    pub async fn directory(&self, account_id: i64) -> HubResult<Arc<Directory>> {
        call!(self, account_id, Command::Directory, Answer::Directory(d) => d)
    }

    pub async fn is_loaded(&self, account_id: i64) -> HubResult<bool> {
        call!(self, account_id, Command::IsLoaded, Answer::Loaded(b) => b)
    }

    pub async fn list(
        &self,
        account_id: i64,
        filter: ListFilter,
    ) -> HubResult<(Counts, Vec<LiveConversation>)> {
        call!(self, account_id, Command::List(filter), Answer::List(c, p) => (c, p))
    }

    pub async fn get(&self, account_id: i64, conversation_id: i64) -> HubResult<LiveConversation> {
        call!(self, account_id, Command::Get { conversation_id },
            Answer::Conversation(l) => l)
    }

    pub async fn contact_inbox_of(
        &self,
        account_id: i64,
        conversation_id: i64,
    ) -> HubResult<Option<i64>> {
        call!(self, account_id, Command::ContactInboxOf { conversation_id },
            Answer::ContactInbox(l) => l)
    }

    pub async fn contact_conversations(
        &self,
        account_id: i64,
        contact_id: i64,
    ) -> HubResult<Vec<LiveConversation>> {
        call!(self, account_id, Command::ContactConversations { contact_id },
            Answer::Conversations(l) => l)
    }

    pub async fn loads(&self, account_id: i64, inbox_id: i64) -> HubResult<Vec<Load>> {
        call!(self, account_id, Command::Loads { inbox_id }, Answer::Loads(l) => l)
    }

    pub async fn presence(
        &self,
        account_id: i64,
    ) -> HubResult<(BTreeMap<i64, String>, HashMap<i64, bool>)> {
        call!(self, account_id, Command::Presence, Answer::Presence(u, i) => (u, i))
    }

    pub async fn create_conversation(
        &self,
        new: NewConversation,
    ) -> HubResult<(LiveConversation, Vec<Arc<Message>>)> {
        call!(self, new.account_id, Command::CreateConversation(new),
            Answer::Created(l, m) => (l, m))
    }

    pub async fn post_message(
        &self,
        account_id: i64,
        conversation_id: i64,
        message: NewMessage,
    ) -> HubResult<Arc<Message>> {
        call!(self, account_id, Command::PostMessage { conversation_id, message },
            Answer::Posted(m) => m)
    }

    pub async fn change(
        &self,
        account_id: i64,
        conversation_id: i64,
        actor: Option<i64>,
        change: ConversationEdit,
    ) -> HubResult<(Conversation, Vec<Arc<Message>>)> {
        call!(self, account_id, Command::Change { conversation_id, actor, change },
            Answer::Changed(c, m) => (c, m))
    }

    /// The message after the edit, and the file keys a deletion let go.
    pub async fn edit_message(
        &self,
        account_id: i64,
        conversation_id: i64,
        message_id: i64,
        edit: MessageEdit,
    ) -> HubResult<(Message, Vec<String>)> {
        call!(self, account_id, Command::EditMessage { conversation_id, message_id, edit },
            Answer::Edited(m, f) => (m, f))
    }

    pub async fn delete_contact(&self, account_id: i64, contact_id: i64) -> HubResult<Vec<i64>> {
        call!(self, account_id, Command::DeleteContact { contact_id }, Answer::Removed(r) => r)
    }

    pub async fn delete_inbox(&self, account_id: i64, inbox_id: i64) -> HubResult<Vec<i64>> {
        call!(self, account_id, Command::DeleteInbox { inbox_id }, Answer::Removed(r) => r)
    }

    pub async fn reload_roster(&self, account_id: i64) -> HubResult<()> {
        call!(self, account_id, Command::ReloadRoster, Answer::Done => ())
    }

    pub async fn agent_presence(&self, account_id: i64, user_id: i64, delta: i32) -> HubResult<()> {
        call!(self, account_id, Command::AgentPresence { user_id, delta }, Answer::Done => ())
    }

    pub async fn typing(&self, account_id: i64, data: Typing, on: bool) -> HubResult<()> {
        call!(self, account_id, Command::Typing { data, on }, Answer::Done => ())
    }

    pub async fn read(&self, account_id: i64, conversation_id: i64, user_id: i64) -> HubResult<()> {
        call!(self, account_id, Command::Read { conversation_id, user_id }, Answer::Done => ())
    }

    pub async fn link_verified(&self, account_id: i64, link: i64) -> HubResult<()> {
        call!(self, account_id, Command::LinkVerified { link }, Answer::Done => ())
    }

    pub async fn contact_saved(
        &self,
        before: Option<&Contact>,
        contact: &Contact,
    ) -> HubResult<()> {
        let command = Command::ContactSaved {
            before: before.cloned().map(Box::new),
            contact: Box::new(contact.clone()),
        };
        call!(self, contact.account_id, command, Answer::Done => ())
    }

    pub async fn widget_triggered(&self, contact: &Contact, visit: Visit) -> HubResult<()> {
        let command = Command::WidgetTriggered {
            contact: Box::new(contact.clone()),
            visit,
        };
        call!(self, contact.account_id, command, Answer::Done => ())
    }

    pub async fn queue_crm_sync(
        &self,
        account_id: i64,
        contact_id: i64,
        conversation_id: Option<i64>,
        inbox_id: Option<i64>,
    ) -> HubResult<()> {
        let command = Command::QueueCrmSync {
            contact_id,
            conversation_id,
            inbox_id,
        };
        call!(self, account_id, command, Answer::Done => ())
    }

    /// (writes queued, queue capacity) of this node's writer, for `/metrics`.
    pub fn writer_depth(&self) -> (usize, usize) {
        self.local.writer_depth()
    }

    /// This node's counters, for `/metrics` and the edge's own.
    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        self.local.metrics()
    }

    /// Tells this node's outbox worker to look for due calls now (after a
    /// delivery was retried by hand).
    pub fn wake_outbox(&self) {
        self.local.outbox_wake().notify_one();
    }

    /// Node-local coordination shared with the workers below the edge.
    pub fn locks(&self) -> Locks<'_> {
        Locks {
            customers: self.local.customer_locks(),
            crm: self.local.crm_locks(),
            early_reports: self.local.early_reports(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MessageStatus, MessageType, Sender};

    fn conversation(status: ConversationStatus, assignee_id: Option<i64>) -> Conversation {
        Conversation {
            id: 1,
            account_id: 1,
            inbox_id: 7,
            contact_id: 3,
            contact_inbox_id: None,
            status,
            assignee_id,
            snoozed_until: None,
            created_at: 1,
            last_activity_at: 1,
            auto_assigned_at: None,
        }
    }

    fn message() -> Message {
        Message {
            id: 5,
            account_id: 1,
            conversation_id: 1,
            message_type: MessageType::Outgoing,
            content: Some("hi".into()),
            private: false,
            sender: Some(Sender::User(2)),
            echo_id: None,
            content_attributes: json!({"attachments": [{"data_url": "http://x/files/k1/a.png"}]}),
            deleted: false,
            created_at: 1,
            updated_at: 1,
            source_id: None,
            status: MessageStatus::Sent,
        }
    }

    #[test]
    fn a_status_edit_toggles_and_says_who_once() {
        let mut c = conversation(ConversationStatus::Open, None);
        let by = || "Ana".to_string();
        let toggle = || ConversationEdit::Status {
            status: None,
            snoozed_until: None,
            by: by(),
        };
        let lines = edit(&mut c, toggle()).unwrap();
        assert_eq!(c.status, ConversationStatus::Resolved);
        assert_eq!(
            lines[0].content.as_deref(),
            Some("Conversation was marked resolved by Ana")
        );
        edit(&mut c, toggle()).unwrap();
        assert_eq!(c.status, ConversationStatus::Open);
        // Setting the status it already has adds no line.
        let same = ConversationEdit::Status {
            status: Some(ConversationStatus::Open),
            snoozed_until: None,
            by: by(),
        };
        assert!(edit(&mut c, same).unwrap().is_empty());
    }

    #[test]
    fn an_assignment_holds_to_its_inbox() {
        let mut c = conversation(ConversationStatus::Open, None);
        let elsewhere = ConversationEdit::Assign {
            inbox_id: 8,
            assignee_id: Some(2),
            line: "x".into(),
        };
        assert!(matches!(edit(&mut c, elsewhere), Err(HubError::NotFound)));
        assert_eq!(c.assignee_id, None);
        let here = ConversationEdit::Assign {
            inbox_id: 7,
            assignee_id: Some(2),
            line: "Assigned to Bia by Ana".into(),
        };
        assert_eq!(edit(&mut c, here.clone()).unwrap().len(), 1);
        assert_eq!(c.assignee_id, Some(2));
        assert!(edit(&mut c, here).unwrap().is_empty(), "no change, no line");
    }

    #[test]
    fn a_contact_resolves_once() {
        let mut c = conversation(ConversationStatus::Snoozed, Some(2));
        c.snoozed_until = Some(99);
        let resolve = || ConversationEdit::ResolveByContact {
            line: "by Rui".into(),
        };
        assert_eq!(edit(&mut c, resolve()).unwrap().len(), 1);
        assert_eq!(
            (c.status, c.snoozed_until),
            (ConversationStatus::Resolved, None)
        );
        assert!(edit(&mut c, resolve()).unwrap().is_empty());
    }

    #[test]
    fn a_deletion_lets_go_of_files_once() {
        let mut m = message();
        let mut files = Vec::new();
        assert!(edit_message(&mut m, MessageEdit::Delete, &mut files));
        assert_eq!(files, vec!["k1".to_string()]);
        assert_eq!(m.content.as_deref(), Some(DELETED));
        assert!(m.deleted);
        let mut again = Vec::new();
        assert!(!edit_message(&mut m, MessageEdit::Delete, &mut again));
        assert!(again.is_empty());
        // A deleted message takes no answers either.
        let submit = MessageEdit::Submit { values: json!([1]) };
        assert!(!edit_message(&mut m, submit, &mut again));
    }

    #[test]
    fn submitted_values_keep_the_other_attributes() {
        let mut m = message();
        let submit = MessageEdit::Submit {
            values: json!([{"value": "yes"}]),
        };
        assert!(edit_message(&mut m, submit, &mut Vec::new()));
        assert_eq!(m.content_attributes["submitted_values"][0]["value"], "yes");
        assert!(m.content_attributes["attachments"].is_array());
    }
}
