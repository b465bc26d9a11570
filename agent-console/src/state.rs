//! What the screens show: everything the views read, in one place, and
//! which parts of the page need redrawing.

use std::collections::{BTreeMap, HashMap, HashSet};

use switchboard_protocol::api::{Agent, ChannelType, Inbox, Profile, Role};

use crate::admin::deliveries::{Log, LogKey};
use crate::admin::inbox_form::InboxForm;
use crate::admin::integrations::IntegrationApp;
use crate::admin::webhooks::Webhook;
use crate::contact::form::ContactEdit;
use crate::conversation::store::{Filters, Store};
use crate::conversation::thread::Threads;
use crate::conversation::typing::TypingBoard;
use crate::i18n::Lang;
use crate::route::Route;

/// The signed-in agent.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub token: String,
    pub account_id: i64,
    pub profile: Profile,
}

impl Session {
    pub(crate) fn me(&self) -> i64 {
        self.profile.id
    }

    /// Administrator of the account in use (settings are theirs).
    pub(crate) fn admin(&self) -> bool {
        self.profile
            .accounts
            .iter()
            .find(|a| a.id == self.account_id)
            .map(|a| a.role)
            .or(self.profile.role)
            == Some(Role::Administrator)
    }
}

/// A message shown next to a form after saving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notice {
    pub text: String,
    pub error: bool,
}

impl Notice {
    pub(crate) fn ok(text: &str) -> Option<Notice> {
        Some(Notice {
            text: text.into(),
            error: false,
        })
    }

    pub(crate) fn error(text: &str) -> Option<Notice> {
        Some(Notice {
            text: text.into(),
            error: true,
        })
    }
}

/// The settings and profile screens' own state.
#[derive(Debug, Default)]
pub(crate) struct Forms {
    /// The inbox open in settings, as last loaded or saved.
    pub inbox: Option<Inbox>,
    /// Bumped whenever `inbox` is (re)loaded: the form is redrawn from it.
    pub inbox_version: u32,
    /// Bumped when an agent was created: the form is emptied.
    pub agent_form_version: u32,
    pub assignment_notice: Option<Notice>,
    pub snippet_notice: Option<Notice>,
    pub agent_error: Option<String>,
    /// An agent whose Remove was clicked once (a second click removes).
    pub confirm_remove: Option<i64>,
    /// A collaborator whose Remove was clicked once: the button says their
    /// open conversations go back to the queue, and a second click removes.
    pub confirm_collaborator: Option<i64>,
    /// When a first click (Remove, Disconnect) stops waiting for the second.
    pub confirm_remove_until: Option<f64>,
    pub profile_notice: Option<Notice>,
    pub password_notice: Option<Notice>,
    /// Bumped to redraw a list whose data did not change (a refused edit).
    pub redraw: u32,
    pub login_error: Option<String>,
    pub login_busy: bool,
    /// Contacts whose CRM Retry is on its way (the button waits).
    pub crm_retrying: HashSet<i64>,
    /// The account's integrations; `None` until loaded.
    pub integrations: Option<Vec<IntegrationApp>>,
    /// Bumped when the Agendor hook is (re)loaded or saved: the form is
    /// redrawn from it.
    pub integrations_version: u32,
    pub agendor_notice: Option<Notice>,
    /// The form field a refused save points at (its `name`).
    pub agendor_invalid: Option<&'static str>,
    pub agendor_busy: bool,
    /// Disconnect was clicked once (a second click disconnects), until
    /// `confirm_remove_until`.
    pub confirm_disconnect: bool,
    /// Inbox channels, webhooks and delivery logs.
    pub channels: ChannelForms,
    /// The contact being edited in the contact panel.
    pub contact: Option<ContactEdit>,
    /// The open inbox's Settings block and Delete inbox.
    pub inbox_settings: InboxSettingsForm,
    /// The reply box's WhatsApp template form.
    pub template: TemplateForm,
}

/// The reply box's template form, for the open conversation. It shows
/// by itself while WhatsApp's 24-hour window is closed (`can_reply`
/// false), and inside the window when the agent opens it.
#[derive(Debug, Default)]
pub(crate) struct TemplateForm {
    /// Opened with "Template" in this conversation (inside the window).
    pub open_for: Option<i64>,
    /// The template picked (`templates::Template::key`).
    pub picked: Option<String>,
    /// What is typed for each `{{n}}`.
    pub values: BTreeMap<u32, String>,
    /// The picker's search box.
    pub search: String,
    /// Bumped when the inputs are to be drawn again, emptied (another
    /// template picked, a template sent).
    pub version: u32,
    /// Inboxes whose templates are being synced.
    pub syncing: HashSet<i64>,
    /// Why the last sync of an inbox failed.
    pub sync_error: HashMap<i64, String>,
}

impl TemplateForm {
    /// Back to the list, nothing typed (another conversation, a send).
    pub(crate) fn reset(&mut self) {
        self.open_for = None;
        self.picked = None;
        self.values.clear();
        self.search.clear();
        self.version += 1;
    }
}

/// The state of an inbox's Settings block and of Delete inbox.
#[derive(Debug, Default)]
pub(crate) struct InboxSettingsForm {
    /// Bumped when the block is to be drawn again from the inbox (loaded,
    /// saved); other saves of the page leave what is typed here alone.
    pub version: u32,
    /// What the block was last drawn with: a save sends what differs.
    pub drawn: Option<InboxForm>,
    pub notice: Option<Notice>,
    /// The field a refused save points at (DOM id).
    pub invalid: Option<&'static str>,
    pub busy: bool,
    /// Delete inbox was clicked once, until `confirm_remove_until`.
    pub confirm_delete: bool,
    pub delete_notice: Option<Notice>,
}

/// The state of the new inbox form, the channel blocks of an inbox's
/// settings, the webhooks screen and the delivery logs.
#[derive(Debug, Default)]
pub(crate) struct ChannelForms {
    /// The channel picked in the new inbox form (`None`: Website).
    pub new_channel: Option<ChannelType>,
    /// Why the new inbox was not created, and the field at fault (DOM id).
    pub inbox_error: Option<String>,
    pub inbox_invalid: Option<&'static str>,
    pub inbox_busy: bool,
    /// Bumped when the open inbox's channel was saved: its forms are
    /// redrawn from it (other forms of the page are left alone).
    pub version: u32,
    pub whatsapp_notice: Option<Notice>,
    pub api_notice: Option<Notice>,
    /// The channel field a refused save points at (DOM id).
    pub invalid: Option<&'static str>,
    pub busy: bool,
    /// Disconnect number was clicked once, until `confirm_remove_until`.
    pub confirm_disconnect: bool,
    /// The copy field whose button says "Copied", and until when (ms).
    pub copied: Option<(String, f64)>,
    /// The delivery logs shown, by whose calls they are.
    pub logs: BTreeMap<LogKey, Log>,
    /// When the shown logs are due to be fetched again (after a live event).
    pub logs_due: Option<f64>,
    /// When a live event last had them fetched (ms).
    pub logs_refreshed_at: f64,
    /// Deliveries whose Retry is on its way.
    pub retrying: HashSet<i64>,
    /// The account's webhooks; `None` until loaded.
    pub webhooks: Option<Vec<Webhook>>,
    /// The webhook being edited (`None`: the form adds one).
    pub editing: Option<i64>,
    /// Bumped when the webhook form is to be drawn again (saved, edit,
    /// cancel).
    pub webhook_form_version: u32,
    pub webhook_notice: Option<Notice>,
    pub webhook_invalid: Option<&'static str>,
    pub webhook_busy: bool,
    /// A webhook whose Delete was clicked once, until `confirm_remove_until`.
    pub confirm_delete: Option<i64>,
}

#[derive(Debug)]
pub(crate) struct Data {
    pub lang: Lang,
    pub route: Route,
    pub session: Option<Session>,
    pub filters: Filters,
    pub store: Store,
    pub threads: Threads,
    pub typing: TypingBoard,
    pub inboxes: Vec<Inbox>,
    /// Every agent of the account (the settings and names).
    pub agents: Vec<Agent>,
    /// Collaborators by inbox id.
    pub members: HashMap<i64, Vec<Agent>>,
    /// `online` / `busy` / `offline` by agent id.
    pub presence: BTreeMap<i64, String>,
    /// The socket is authenticated: events are arriving.
    pub live: bool,
    /// The agent's own availability, as the top bar shows it.
    pub availability: String,
    /// Pages of the lists being fetched.
    pub pages_in_flight: u32,
    /// Conversations the server said do not exist.
    pub missing: HashSet<i64>,
    pub forms: Forms,
}

impl Data {
    pub(crate) fn new(lang: Lang, route: Route) -> Data {
        Data {
            lang,
            route,
            session: None,
            filters: Filters::default(),
            store: Store::default(),
            threads: Threads::default(),
            typing: TypingBoard::default(),
            inboxes: Vec::new(),
            agents: Vec::new(),
            members: HashMap::new(),
            presence: BTreeMap::new(),
            live: false,
            availability: "available".into(),
            pages_in_flight: 0,
            missing: HashSet::new(),
            forms: Forms::default(),
        }
    }

    pub(crate) fn me(&self) -> i64 {
        self.session.as_ref().map(Session::me).unwrap_or_default()
    }

    pub(crate) fn admin(&self) -> bool {
        self.session.as_ref().is_some_and(Session::admin)
    }

    /// The open conversation, if the route names one.
    pub(crate) fn open_id(&self) -> Option<i64> {
        match self.route {
            Route::Conversations(id) => id,
            _ => None,
        }
    }

    pub(crate) fn inbox(&self, id: i64) -> Option<&Inbox> {
        self.inboxes.iter().find(|i| i.id == id)
    }

    pub(crate) fn agent(&self, id: i64) -> Option<&Agent> {
        self.agents.iter().find(|a| a.id == id)
    }
}

/// Parts of the page to redraw after a batch of messages.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Dirty {
    /// Rebuild the whole screen (route area, language or session changed).
    pub screen: bool,
    pub topbar: bool,
    pub list: bool,
    /// Only the waiting clocks of the rows.
    pub clocks: bool,
    /// The open conversation's header, actions and contact.
    pub conversation: bool,
    pub thread: bool,
    pub typing: bool,
    pub settings: bool,
    /// The reply box: the window notice and the template form.
    pub reply: bool,
}

impl Dirty {
    pub(crate) fn all() -> Dirty {
        Dirty {
            screen: true,
            topbar: true,
            list: true,
            clocks: true,
            conversation: true,
            thread: true,
            typing: true,
            settings: true,
            reply: true,
        }
    }
}
