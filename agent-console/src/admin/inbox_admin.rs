//! An inbox's Settings block and Delete inbox, browser side: saving the
//! name and, for a website inbox, the chat window, pre-chat form and
//! identity verification (`PATCH .../inboxes/{id}` with what changed), and
//! deleting the inbox (two clicks; the server deletes its conversations
//! and their messages with it). The bodies are built in `inbox_form.rs`.

use serde_json::Value;
use switchboard_protocol::api::Inbox;

use crate::admin::inbox_form::{self, InboxForm, INBOX_SETTINGS_FIELDS};
use crate::app::App;
use crate::dom;
use crate::forms;
use crate::http::Method;
use crate::i18n::T;
use crate::msg::{Action, Msg, Net, Res};
use crate::route::Route;
use crate::state::Notice;

/// How long a first click on Delete inbox waits for the second.
const CONFIRM_MS: f64 = 4_000.0;

impl App {
    pub(crate) fn act_inbox(&mut self, action: Action) {
        match action {
            Action::SaveInboxSettings => self.save_inbox_settings(),
            Action::DeleteInbox => self.delete_inbox(),
            _ => {}
        }
        self.dirty.settings = true;
    }

    pub(crate) fn net_inbox(&mut self, net: Net) {
        match net {
            Net::InboxSettingsSaved(r) => self.inbox_settings_saved(r),
            Net::InboxDeleted(id, r) => self.inbox_deleted(id, r),
            _ => {}
        }
        self.dirty.settings = true;
    }

    /// The Settings block is drawn again from the open inbox as it is now.
    pub(crate) fn redraw_inbox_settings(&mut self) {
        let s = &mut self.data.forms.inbox_settings;
        s.drawn = self.data.forms.inbox.as_ref().map(InboxForm::of);
        s.version += 1;
        s.invalid = None;
    }

    fn save_inbox_settings(&mut self) {
        let lang = self.data.lang;
        let Some(inbox) = self.open_inbox() else {
            return;
        };
        let (id, website) = (inbox.id, inbox_form::website(inbox));
        let s = &mut self.data.forms.inbox_settings;
        let Some(drawn) = &s.drawn else { return };
        if s.busy {
            return;
        }
        let form = InboxForm {
            name: dom::value_of("inbox-edit-name"),
            website_url: dom::value_of("inbox-edit-url"),
            welcome_title: dom::value_of("inbox-edit-title"),
            welcome_tagline: dom::value_of("inbox-edit-tagline"),
            widget_color: dom::value_of("inbox-edit-color"),
            locale: dom::value_of("inbox-edit-locale"),
            pre_chat_enabled: dom::checked_of("inbox-edit-pre-chat"),
            pre_chat_message: dom::value_of("inbox-edit-pre-chat-message"),
            hmac_mandatory: dom::checked_of("inbox-edit-hmac-mandatory"),
        };
        match form.body(drawn, website) {
            Err(problem) => {
                s.notice = Notice::error(&problem.text(INBOX_SETTINGS_FIELDS, lang));
                s.invalid = Some(problem.field());
            }
            Ok(None) => {
                s.notice = Notice::ok(lang.t(T::NothingChanged));
                s.invalid = None;
            }
            Ok(Some(body)) => {
                s.notice = None;
                s.invalid = None;
                s.busy = true;
                self.api(Method::Patch, &format!("/inboxes/{id}"), Some(body), |r| {
                    Msg::Net(Box::new(Net::InboxSettingsSaved(r)))
                });
            }
        }
    }

    fn inbox_settings_saved(&mut self, r: Res<Inbox>) {
        let lang = self.data.lang;
        self.data.forms.inbox_settings.busy = false;
        match r {
            Ok(inbox) => {
                if let Some(slot) = self.data.inboxes.iter_mut().find(|i| i.id == inbox.id) {
                    *slot = inbox.clone();
                }
                // Its name shows in the lists' rows and inbox filter.
                self.dirty.list = true;
                self.dirty.conversation = true;
                if self.open_inbox_id() == Some(inbox.id) {
                    self.data.forms.inbox = Some(inbox);
                    self.redraw_inbox_settings();
                    self.data.forms.inbox_settings.notice = Notice::ok(lang.t(T::Saved));
                }
            }
            Err(f) => {
                let (field, text) = match forms::explain(&f, INBOX_SETTINGS_FIELDS, lang) {
                    Some((field, text)) => (Some(field), text),
                    None => (None, self.failure_text(&f)),
                };
                let s = &mut self.data.forms.inbox_settings;
                s.invalid = field;
                s.notice = Notice::error(&text);
            }
        }
    }

    /// Two clicks, like removing an agent: it deletes the inbox's
    /// conversations too.
    fn delete_inbox(&mut self) {
        let Some(id) = self.open_inbox().map(|i| i.id) else {
            return;
        };
        let s = &mut self.data.forms.inbox_settings;
        if s.busy {
            return;
        }
        if !s.confirm_delete {
            s.confirm_delete = true;
            self.data.forms.confirm_remove_until = Some(dom::now_ms() + CONFIRM_MS);
            return;
        }
        s.confirm_delete = false;
        s.busy = true;
        s.delete_notice = None;
        self.api(Method::Delete, &format!("/inboxes/{id}"), None, move |r| {
            Msg::Net(Box::new(Net::InboxDeleted(id, r)))
        });
    }

    fn inbox_deleted(&mut self, id: i64, r: Res<Value>) {
        self.data.forms.inbox_settings.busy = false;
        if let Err(f) = r {
            let text = self.failure_text(&f);
            self.data.forms.inbox_settings.delete_notice = Notice::error(&text);
            return;
        }
        let d = &mut self.data;
        d.inboxes.retain(|i| i.id != id);
        d.members.remove(&id);
        for conversation in d.store.remove_inbox(id) {
            d.threads.remove(conversation);
        }
        if d.filters.inbox == Some(id) {
            d.filters.inbox = None;
        }
        if d.forms.inbox.as_ref().is_some_and(|i| i.id == id) {
            d.forms.inbox = None;
        }
        self.dirty.list = true;
        self.dirty.conversation = true;
        if self.open_inbox_id() == Some(id) {
            self.navigate(Route::SettingsInboxes, true);
        }
    }
}
