//! Inboxes of every channel, browser side: creating one (Website,
//! WhatsApp, API), a WhatsApp number's credentials and Disconnect, an API
//! inbox's callback URL, and the copy buttons of their keys. What the
//! requests carry is built in `channels.rs`.

use serde_json::json;
use switchboard_protocol::api::{ChannelType, Inbox};

use crate::admin::channels::{
    self, Credentials, NewInbox, API_FIELDS, CREDENTIAL_FIELDS, NEW_INBOX_FIELDS,
};
use crate::app::App;
use crate::dom;
use crate::forms::{self, Failure, Field};
use crate::http::Method;
use crate::i18n::T;
use crate::msg::{Action, ChannelChange, Msg, Net, Res};
use crate::route::Route;
use crate::state::Notice;

/// How long a first click on Disconnect number waits for the second.
const CONFIRM_MS: f64 = 4_000.0;
/// How long a Copy button says "Copied".
const COPIED_MS: f64 = 2_000.0;

impl App {
    pub(crate) fn act_channels(&mut self, action: Action) {
        match action {
            Action::CreateInbox => self.create_inbox(),
            Action::InboxChannel(value) => {
                let c = &mut self.data.forms.channels;
                c.new_channel = ChannelType::parse(&value);
                c.inbox_error = None;
                c.inbox_invalid = None;
            }
            Action::SaveWhatsapp => self.save_whatsapp(),
            Action::DisconnectWhatsapp => self.disconnect_whatsapp(),
            Action::SaveApiWebhook => self.save_api_webhook(),
            Action::Copy(target) => self.copy(target),
            other => self.act_webhooks(other),
        }
        self.dirty.settings = true;
    }

    pub(crate) fn net_channels(&mut self, net: Net) {
        match net {
            Net::InboxCreated(r) => self.inbox_created(r),
            Net::ChannelSaved(change, r) => self.channel_saved(change, r),
            other => self.net_webhooks(other),
        }
    }

    fn create_inbox(&mut self) {
        let c = &mut self.data.forms.channels;
        if c.inbox_busy {
            return;
        }
        let mut form = NewInbox::new(c.new_channel.unwrap_or(ChannelType::WebWidget));
        for (slot, id) in [
            (&mut form.name, "inbox-name"),
            (&mut form.website_url, "inbox-url"),
            (&mut form.welcome_title, "inbox-title"),
            (&mut form.welcome_tagline, "inbox-tagline"),
            (&mut form.widget_color, "inbox-color"),
            (&mut form.phone_number, "inbox-phone"),
            (&mut form.phone_number_id, "inbox-phone-number-id"),
            (&mut form.business_account_id, "inbox-business-account-id"),
            (&mut form.api_key, "inbox-api-key"),
            (&mut form.app_secret, "inbox-app-secret"),
            (&mut form.verify_token, "inbox-verify-token"),
            (&mut form.webhook_url, "inbox-webhook-url"),
        ] {
            *slot = dom::value_of(id);
        }
        match form.body() {
            Err(problem) => {
                c.inbox_error = Some(problem.text(NEW_INBOX_FIELDS, self.data.lang));
                c.inbox_invalid = Some(problem.field());
            }
            Ok(body) => {
                c.inbox_error = None;
                c.inbox_invalid = None;
                c.inbox_busy = true;
                self.api(Method::Post, "/inboxes", Some(body), |r| {
                    Msg::Net(Box::new(Net::InboxCreated(r)))
                });
            }
        }
    }

    fn inbox_created(&mut self, r: Res<Inbox>) {
        self.data.forms.channels.inbox_busy = false;
        match r {
            Ok(inbox) => {
                let id = inbox.id;
                self.data.inboxes.push(inbox);
                self.navigate(Route::SettingsInbox(id), true);
            }
            Err(f) => {
                let (field, text) = self.refusal(&f, NEW_INBOX_FIELDS);
                let c = &mut self.data.forms.channels;
                c.inbox_invalid = field;
                c.inbox_error = Some(text);
            }
        }
    }

    /// The field a refusal names (DOM id) and what to say next to the form.
    fn refusal(&self, f: &Failure, table: &[Field]) -> (Option<&'static str>, String) {
        match forms::explain(f, table, self.data.lang) {
            Some((field, text)) => (Some(field), text),
            None => (None, self.failure_text(f)),
        }
    }

    /// The open inbox, as last loaded or saved.
    pub(crate) fn open_inbox(&self) -> Option<&Inbox> {
        let id = self.open_inbox_id()?;
        self.data.forms.inbox.as_ref().filter(|i| i.id == id)
    }

    fn save_whatsapp(&mut self) {
        let Some(inbox) = self.open_inbox() else {
            return;
        };
        let Some(number) = channels::whatsapp(inbox) else {
            return;
        };
        let id = inbox.id;
        if self.data.forms.channels.busy {
            return;
        }
        let form = Credentials {
            phone_number_id: dom::value_of("wa-phone-number-id"),
            business_account_id: dom::value_of("wa-business-account-id"),
            api_key: dom::value_of("wa-api-key"),
            app_secret: dom::value_of("wa-app-secret"),
            verify_token: dom::value_of("wa-verify-token-input"),
        };
        let lang = self.data.lang;
        let c = &mut self.data.forms.channels;
        match form.body(&number) {
            Err(problem) => {
                c.whatsapp_notice = Notice::error(&problem.text(CREDENTIAL_FIELDS, lang));
                c.invalid = Some(problem.field());
            }
            Ok(None) => {
                c.whatsapp_notice = Notice::ok(lang.t(T::NothingChanged));
                c.invalid = None;
            }
            Ok(Some(body)) => {
                c.whatsapp_notice = None;
                c.invalid = None;
                c.busy = true;
                self.api(Method::Patch, &format!("/inboxes/{id}"), Some(body), |r| {
                    Msg::Net(Box::new(Net::ChannelSaved(ChannelChange::Whatsapp, r)))
                });
            }
        }
    }

    /// Two clicks, like removing an agent: it erases the credentials.
    fn disconnect_whatsapp(&mut self) {
        let Some(id) = self.open_inbox().map(|i| i.id) else {
            return;
        };
        let c = &mut self.data.forms.channels;
        if c.busy {
            return;
        }
        if !c.confirm_disconnect {
            c.confirm_disconnect = true;
            self.data.forms.confirm_remove_until = Some(dom::now_ms() + CONFIRM_MS);
            return;
        }
        c.confirm_disconnect = false;
        c.busy = true;
        c.whatsapp_notice = None;
        self.api(
            Method::Post,
            &format!("/inboxes/{id}/disconnect"),
            Some(json!({})),
            |r| Msg::Net(Box::new(Net::ChannelSaved(ChannelChange::Disconnect, r))),
        );
    }

    fn save_api_webhook(&mut self) {
        let Some(id) = self.open_inbox().map(|i| i.id) else {
            return;
        };
        let lang = self.data.lang;
        let c = &mut self.data.forms.channels;
        if c.busy {
            return;
        }
        match channels::api_webhook_body(&dom::value_of("api-webhook-url")) {
            Err(problem) => {
                c.api_notice = Notice::error(&problem.text(API_FIELDS, lang));
                c.invalid = Some(problem.field());
            }
            Ok(body) => {
                c.api_notice = None;
                c.invalid = None;
                c.busy = true;
                self.api(Method::Patch, &format!("/inboxes/{id}"), Some(body), |r| {
                    Msg::Net(Box::new(Net::ChannelSaved(ChannelChange::ApiWebhook, r)))
                });
            }
        }
    }

    fn channel_saved(&mut self, change: ChannelChange, r: Res<Inbox>) {
        let lang = self.data.lang;
        self.data.forms.channels.busy = false;
        let table = match change {
            ChannelChange::ApiWebhook => API_FIELDS,
            _ => CREDENTIAL_FIELDS,
        };
        let notice = match r {
            Ok(inbox) => {
                if let Some(slot) = self.data.inboxes.iter_mut().find(|i| i.id == inbox.id) {
                    *slot = inbox.clone();
                }
                if self.open_inbox_id() == Some(inbox.id) {
                    self.data.forms.inbox = Some(inbox);
                }
                // The channel's forms are drawn again from what was saved
                // (secrets emptied); the assignment form is left alone.
                self.data.forms.channels.version += 1;
                self.data.forms.channels.invalid = None;
                let done = match change {
                    ChannelChange::Disconnect => T::Disconnected,
                    _ => T::Saved,
                };
                Notice::ok(lang.t(done))
            }
            Err(f) => {
                let (field, text) = self.refusal(&f, table);
                self.data.forms.channels.invalid = field;
                Notice::error(&text)
            }
        };
        let c = &mut self.data.forms.channels;
        match change {
            ChannelChange::ApiWebhook => c.api_notice = notice,
            _ => c.whatsapp_notice = notice,
        }
    }

    /// A copy field's value to the clipboard; its button says "Copied"
    /// for a moment.
    fn copy(&mut self, target: String) {
        let Some(field) = dom::by_id(&target) else {
            return;
        };
        dom::copy_to_clipboard(&dom::value(&field));
        dom::select(&field);
        self.data.forms.channels.copied = Some((target, dom::now_ms() + COPIED_MS));
    }
}
