//! Where each [`Action`] and [`Net`] answer goes. The lists' filters and
//! the top bar are handled here; conversations in `conversation/`,
//! settings and profile in `admin/`.

use serde_json::json;
use switchboard_protocol::api::Availability;
use switchboard_protocol::realtime::AgentFrame;

use crate::alert;
use crate::app::{spawn, App, LANG_KEY};
use crate::conversation::store::Status;
use crate::dom;
use crate::http::Method;
use crate::i18n::Lang;
use crate::msg::{Action, Msg, Net};
use crate::state::Dirty;

impl App {
    pub(crate) fn act(&mut self, action: Action) {
        match action {
            Action::Login => self.login(),
            Action::Logout => self.sign_out(true),
            Action::Availability(value) => self.set_availability(&value),
            Action::Tab(tab) => {
                self.data.filters.tab = tab;
                self.dirty.list = true;
            }
            Action::FilterStatus(value) => {
                if let Some(status) = Status::parse(&value) {
                    self.data.filters.status = status;
                    if self.data.store.loaded(status).is_none() && self.data.live {
                        self.load_status(status, 1);
                    }
                    self.dirty.list = true;
                }
            }
            Action::FilterInbox(value) => {
                self.data.filters.inbox = value.parse().ok();
                self.dirty.list = true;
            }
            Action::LoadMore => {
                let status = self.data.filters.status;
                if let Some(loaded) = self.data.store.loaded(status) {
                    if !loaded.complete && self.data.pages_in_flight == 0 {
                        self.load_status(status, loaded.next_page);
                    }
                }
            }
            Action::Language(code) => {
                if let Some(lang) = Lang::parse(&code) {
                    self.data.lang = lang;
                    dom::store(LANG_KEY, Some(lang.code()));
                    self.dirty = Dirty::all();
                }
            }
            Action::DismissToast => alert::dismiss_toast(),
            other => self.act_more(other),
        }
    }

    fn act_more(&mut self, action: Action) {
        match action {
            Action::LoadOlder => self.load_older(),
            Action::ReplyInput => self.reply_input(),
            Action::ReplySend => self.reply_send(),
            Action::PrivateToggle => {
                self.reply_input();
                self.dirty.thread = true;
                self.dirty.reply = true;
            }
            Action::Retry(echo) => self.retry(&echo),
            Action::Attach => self.attach(),
            Action::Assignee(value) => self.assign(value.parse().ok()),
            Action::AssignMe | Action::Take => {
                let me = self.data.me();
                self.assign(Some(me));
            }
            Action::Resolve => self.set_status("resolved"),
            Action::Reopen => self.set_status("open"),
            Action::Snooze => self.set_status("snoozed"),
            Action::CrmRetry(contact) => self.crm_retry(contact),
            Action::EditContact(_) | Action::CancelContactEdit | Action::SaveContact => {
                self.act_contact(action)
            }
            Action::OpenTemplates
            | Action::CloseTemplates
            | Action::SyncTemplates
            | Action::TemplateSearch(_)
            | Action::PickTemplate(_)
            | Action::UnpickTemplate
            | Action::TemplateParam(..)
            | Action::SendTemplate => self.act_template(action),
            other => self.act_admin(other),
        }
    }

    fn login(&mut self) {
        if self.data.forms.login_busy {
            return;
        }
        let email = dom::value_of("login-email");
        let password = dom::value_of("login-password");
        self.data.forms.login_busy = true;
        self.data.forms.login_error = None;
        self.dirty.settings = true;
        spawn(
            Method::Post,
            "/auth/sign_in".into(),
            None,
            Some(json!({"email": email.trim(), "password": password})),
            |r| Msg::Net(Box::new(Net::SignedIn(r))),
        );
    }

    /// The top bar's switch: a socket frame when connected (the server
    /// treats it as the profile change), the profile API otherwise.
    fn set_availability(&mut self, value: &str) {
        let Some(availability) = Availability::parse(value) else {
            return;
        };
        self.data.availability = availability.as_str().into();
        self.dirty.topbar = true;
        let frame = AgentFrame::Availability { availability };
        if self.data.live && self.send(&frame) {
            return;
        }
        let account_id = self.data.session.as_ref().map(|s| s.account_id);
        self.api(
            Method::Patch,
            "/api/v1/profile",
            Some(json!({"availability": availability.as_str(), "account_id": account_id})),
            |r| Msg::Net(Box::new(Net::Done(r))),
        );
    }

    pub(crate) fn net(&mut self, net: Net) {
        match net {
            Net::Unauthorized(token) => {
                let current = self.data.session.as_ref().map(|s| s.token.as_str());
                let checking = self.checking_token.as_ref().map(|(t, _)| t.as_str());
                if current == Some(token.as_str()) || checking == Some(token.as_str()) {
                    self.sign_out(false);
                }
            }
            Net::SignedIn(r) => self.signed_in(r),
            Net::Profile(r) => self.profile_loaded(r),
            Net::Inboxes(r) => match r {
                Ok(list) => {
                    self.data.inboxes = list.payload;
                    self.dirty.list = true;
                    self.dirty.conversation = true;
                    self.dirty.settings = true;
                }
                Err(f) => self.fail(&f),
            },
            Net::Agents(r) => match r {
                Ok(list) => {
                    self.data.agents = list;
                    self.dirty.conversation = true;
                    self.dirty.settings = true;
                }
                Err(f) => self.fail(&f),
            },
            Net::Members(inbox, r) | Net::MembersChanged(inbox, r) => match r {
                Ok(list) => {
                    self.data.members.insert(inbox, list.payload);
                    self.dirty.conversation = true;
                    self.dirty.settings = true;
                }
                Err(f) => {
                    self.fail(&f);
                    self.dirty.settings = true;
                }
            },
            Net::Page {
                generation,
                status,
                page,
                result,
            } => self.page(generation, status, page, result),
            Net::Done(r) => {
                if let Err(f) = r {
                    self.fail(&f);
                    // Controls showing a change that did not happen go back,
                    // and a refused self-assignment expects no event.
                    self.self_assigning.clear();
                    self.dirty.conversation = true;
                    self.dirty.topbar = true;
                }
            }
            other => self.net_more(other),
        }
    }

    fn net_more(&mut self, net: Net) {
        match net {
            Net::Conversation(id, r) => self.conversation_loaded(id, r),
            Net::Messages {
                conversation,
                older,
                result,
            } => self.messages_loaded(conversation, older, result),
            Net::Sent {
                conversation,
                echo,
                result,
            } => self.sent(conversation, &echo, result),
            Net::CrmSync(contact, r) => self.crm_synced(contact, r),
            Net::ContactSaved(contact, sent, r) => self.contact_saved(contact, &sent, r),
            Net::TemplatesSynced(inbox, r) => self.templates_synced(inbox, r),
            other => self.net_admin(other),
        }
    }
}
