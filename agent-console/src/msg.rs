//! Everything that can happen to the console, as values: what the agent
//! did ([`Action`]), what the server answered ([`Net`]), what the socket
//! said. Handlers only turn browser events into these and hand them to
//! [`crate::app::dispatch`], which applies them one at a time.

use serde_json::Value;
use switchboard_browser::socket::SocketEvent;
use switchboard_protocol::api::{Agent, Inbox, Payload, Profile};
use switchboard_protocol::chat::{Contact, Conversation, ConversationList, Message};

use crate::admin::deliveries::{Delivery, LogKey};
use crate::admin::integrations::{Hook, IntegrationApp};
use crate::admin::webhooks::{WebhookList, WebhookSaved};
use crate::conversation::store::{Status, Tab};
use crate::forms::Failure;
use crate::route::Route;

pub(crate) type Res<T> = Result<T, Failure>;

/// `{"data": ...}`, the sign-in answer's envelope (devise_token_auth's).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Envelope<T> {
    pub data: T,
}

/// `{"payload": ...}` around one object (the CRM sync's answer).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct One<T> {
    pub payload: T,
}

#[derive(Debug)]
pub(crate) enum Msg {
    /// Go to a route (pushes a history entry).
    Navigate(Route),
    /// The browser's back or forward buttons.
    PopState,
    Act(Action),
    /// Boxed: answers are large and the queue holds few of them.
    Net(Box<Net>),
    Sock(u32, SocketEvent),
    /// Time to reconnect socket generation `n`.
    Reconnect(u32),
    /// Every second: clocks, typing pauses, the socket watchdog.
    Tick,
}

/// What the agent did.
#[derive(Debug)]
pub(crate) enum Action {
    Login,
    Logout,
    Availability(String),
    Tab(Tab),
    FilterStatus(String),
    FilterInbox(String),
    LoadMore,
    LoadOlder,
    ReplyInput,
    ReplySend,
    PrivateToggle,
    Retry(String),
    /// Files were chosen in the reply box.
    Attach,
    /// The reply box's template form (WhatsApp): open it inside the
    /// window, close it, sync the inbox's templates, search, pick one (by
    /// `Template::key`), go back to the list, type a value, send.
    OpenTemplates,
    CloseTemplates,
    SyncTemplates,
    TemplateSearch(String),
    PickTemplate(String),
    UnpickTemplate,
    TemplateParam(u32, String),
    SendTemplate,
    Assignee(String),
    AssignMe,
    Take,
    Resolve,
    Reopen,
    Snooze,
    AddCollaborator,
    RemoveCollaborator(i64),
    SaveAssignment,
    CopySnippet,
    CreateInbox,
    CreateAgent,
    AgentRole(i64, String),
    RemoveAgent(i64),
    SaveProfile,
    SavePassword,
    Language(String),
    DismissToast,
    /// Send this contact to the CRM again (after a failed sync).
    CrmRetry(i64),
    /// The contact panel's Edit, Cancel and Save.
    EditContact(i64),
    CancelContactEdit,
    SaveContact,
    /// The open inbox's Settings block, and Delete inbox (two clicks).
    SaveInboxSettings,
    DeleteInbox,
    SaveAgendor,
    DisconnectAgendor,
    /// The new inbox form's channel (`web_widget`, `whatsapp`, `api`).
    InboxChannel(String),
    SaveWhatsapp,
    DisconnectWhatsapp,
    SaveApiWebhook,
    /// Copy the value of the field with this id.
    Copy(String),
    RefreshDeliveries,
    RetryDelivery(LogKey, i64),
    SaveWebhook,
    EditWebhook(i64),
    CancelWebhook,
    DeleteWebhook(i64),
}

/// Which part of an inbox's channel block a save came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelChange {
    Whatsapp,
    Disconnect,
    ApiWebhook,
}

/// A server's answer. Its variants differ widely in size; it lives boxed
/// and briefly, in the dispatch queue only.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Net {
    /// A request made with this token was refused: the session is over.
    Unauthorized(String),
    SignedIn(Res<Envelope<Profile>>),
    Profile(Res<Profile>),
    Inboxes(Res<Payload<Inbox>>),
    Agents(Res<Vec<Agent>>),
    Members(i64, Res<Payload<Agent>>),
    Page {
        generation: u32,
        status: Status,
        page: usize,
        result: Res<ConversationList>,
    },
    Conversation(i64, Res<Conversation>),
    Messages {
        conversation: i64,
        older: bool,
        result: Res<Payload<Message>>,
    },
    Sent {
        conversation: i64,
        echo: String,
        result: Res<Message>,
    },
    /// An action whose effect arrives as events; only failures matter.
    Done(Res<Value>),
    Inbox(Res<Inbox>),
    InboxSaved(Res<Inbox>),
    InboxCreated(Res<Inbox>),
    MembersChanged(i64, Res<Payload<Agent>>),
    AgentCreated(Res<Agent>),
    AgentChanged(Res<Agent>),
    AgentRemoved(i64, Res<Value>),
    ProfileSaved(Res<Profile>),
    PasswordSaved(Res<Profile>),
    /// `POST .../contacts/{id}/crm_sync` for this contact.
    CrmSync(i64, Res<One<Contact>>),
    /// `PATCH .../contacts/{id}` with these fields (API names).
    ContactSaved(i64, Vec<&'static str>, Res<One<Contact>>),
    InboxSettingsSaved(Res<Inbox>),
    /// `POST .../inboxes/{id}/sync_templates` for this inbox.
    TemplatesSynced(i64, Res<Inbox>),
    InboxDeleted(i64, Res<Value>),
    Integrations(Res<Payload<IntegrationApp>>),
    HookSaved(Res<Hook>),
    HookRemoved(Res<Value>),
    ChannelSaved(ChannelChange, Res<Inbox>),
    Deliveries(LogKey, Res<Payload<Delivery>>),
    DeliveryRetried(LogKey, i64, Res<Delivery>),
    Webhooks(Res<WebhookList>),
    WebhookSaved(Res<WebhookSaved>),
    WebhookDeleted(i64, Res<Value>),
}
