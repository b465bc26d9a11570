//! Webhooks and delivery logs, browser side: Settings → Integrations →
//! Webhooks (list, add, edit, delete) and the delivery logs of that
//! screen and of an inbox's settings (load, refresh, Retry). What the
//! requests carry is built in `webhooks.rs`; when a log is fetched again,
//! in `deliveries.rs`.

use serde_json::{json, Value};
use switchboard_protocol::api::Payload;

use crate::admin::deliveries::{self, Delivery, LogKey, AFTER_EVENT_MS};
use crate::admin::webhooks::{
    self, WebhookForm, WebhookList, WebhookSaved, EVENTS, WEBHOOK_FIELDS,
};
use crate::app::App;
use crate::dom;
use crate::forms;
use crate::http::Method;
use crate::i18n::T;
use crate::msg::{Action, Msg, Net, Res};
use crate::route::Route;
use crate::state::Notice;

/// How long a first click on a webhook's Delete waits for the second.
const CONFIRM_MS: f64 = 4_000.0;

impl App {
    pub(crate) fn act_webhooks(&mut self, action: Action) {
        let c = &mut self.data.forms.channels;
        match action {
            Action::RefreshDeliveries => self.refresh_logs(),
            Action::RetryDelivery(key, id) => self.retry_delivery(key, id),
            Action::SaveWebhook => self.save_webhook(),
            Action::EditWebhook(id) => {
                c.editing = Some(id);
                c.webhook_form_version += 1;
                c.webhook_notice = None;
                c.webhook_invalid = None;
            }
            Action::CancelWebhook => {
                c.editing = None;
                c.webhook_form_version += 1;
                c.webhook_notice = None;
                c.webhook_invalid = None;
            }
            Action::DeleteWebhook(id) => self.delete_webhook(id),
            _ => {}
        }
    }

    pub(crate) fn net_webhooks(&mut self, net: Net) {
        match net {
            Net::Deliveries(key, r) => self.log_loaded(key, r),
            Net::DeliveryRetried(key, id, r) => self.delivery_retried(key, id, r),
            Net::Webhooks(r) => self.webhooks_loaded(r),
            Net::WebhookSaved(r) => self.webhook_saved(r),
            Net::WebhookDeleted(id, r) => self.webhook_deleted(id, r),
            _ => {}
        }
    }

    pub(crate) fn load_webhooks(&mut self) {
        let c = &mut self.data.forms.channels;
        c.editing = None;
        c.webhook_form_version += 1;
        c.webhook_notice = None;
        c.webhook_invalid = None;
        c.confirm_delete = None;
        c.logs.clear();
        self.api(Method::Get, "/webhooks", None, |r| {
            Msg::Net(Box::new(Net::Webhooks(r)))
        });
    }

    fn webhooks_loaded(&mut self, r: Res<WebhookList>) {
        match r {
            Ok(list) => {
                self.data.forms.channels.webhooks = Some(list.payload.webhooks);
                self.refresh_logs();
            }
            Err(f) => {
                // An empty list rather than "Loading…" forever.
                self.data
                    .forms
                    .channels
                    .webhooks
                    .get_or_insert_with(Vec::new);
                self.fail(&f);
            }
        }
    }

    fn save_webhook(&mut self) {
        let c = &mut self.data.forms.channels;
        if c.webhook_busy {
            return;
        }
        let form = WebhookForm {
            name: dom::value_of("webhook-name"),
            url: dom::value_of("webhook-url"),
            events: EVENTS
                .iter()
                .map(|(e, _)| *e)
                .filter(|e| dom::checked_of(&format!("webhook-event-{e}")))
                .map(str::to_string)
                .collect(),
            inbox: dom::value_of("webhook-inbox"),
        };
        let body = match form.body() {
            Ok(body) => body,
            Err(problem) => {
                c.webhook_notice = Notice::error(&problem.text(WEBHOOK_FIELDS, self.data.lang));
                c.webhook_invalid = Some(problem.field());
                return;
            }
        };
        c.webhook_notice = None;
        c.webhook_invalid = None;
        c.webhook_busy = true;
        let wrap = |r| Msg::Net(Box::new(Net::WebhookSaved(r)));
        let editing = c.editing;
        match editing {
            Some(id) => self.api(Method::Patch, &format!("/webhooks/{id}"), Some(body), wrap),
            None => self.api(Method::Post, "/webhooks", Some(body), wrap),
        }
    }

    fn webhook_saved(&mut self, r: Res<WebhookSaved>) {
        let lang = self.data.lang;
        self.data.forms.channels.webhook_busy = false;
        match r {
            Ok(saved) => {
                let hook = saved.payload.webhook;
                let id = hook.id;
                let c = &mut self.data.forms.channels;
                webhooks::upsert(c.webhooks.get_or_insert_with(Vec::new), hook);
                c.editing = None;
                c.webhook_form_version += 1;
                c.webhook_invalid = None;
                c.webhook_notice = Notice::ok(lang.t(T::Saved));
                self.load_log(LogKey::Webhook(id));
            }
            Err(f) => {
                let (field, text) = match forms::explain(&f, WEBHOOK_FIELDS, lang) {
                    Some((field, text)) => (Some(field), text),
                    None => (None, self.failure_text(&f)),
                };
                let c = &mut self.data.forms.channels;
                c.webhook_invalid = field;
                c.webhook_notice = Notice::error(&text);
            }
        }
    }

    /// Two clicks: its pending deliveries are cancelled with it.
    fn delete_webhook(&mut self, id: i64) {
        let c = &mut self.data.forms.channels;
        if c.confirm_delete != Some(id) {
            c.confirm_delete = Some(id);
            self.data.forms.confirm_remove_until = Some(dom::now_ms() + CONFIRM_MS);
            return;
        }
        c.confirm_delete = None;
        self.api(Method::Delete, &format!("/webhooks/{id}"), None, move |r| {
            Msg::Net(Box::new(Net::WebhookDeleted(id, r)))
        });
    }

    fn webhook_deleted(&mut self, id: i64, r: Res<Value>) {
        match r {
            Ok(_) => {
                let c = &mut self.data.forms.channels;
                if let Some(list) = &mut c.webhooks {
                    list.retain(|w| w.id != id);
                }
                c.logs.remove(&LogKey::Webhook(id));
                if c.editing == Some(id) {
                    c.editing = None;
                    c.webhook_form_version += 1;
                }
                c.webhook_notice = Notice::ok(self.data.lang.t(T::Deleted));
            }
            Err(f) => self.fail(&f),
        }
    }

    /// The logs the current screen shows.
    fn shown_logs(&self) -> Vec<LogKey> {
        match self.data.route {
            Route::SettingsInbox(id) => vec![LogKey::Inbox(id)],
            Route::SettingsWebhooks => self
                .data
                .forms
                .channels
                .webhooks
                .iter()
                .flatten()
                .map(|w| LogKey::Webhook(w.id))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Fetches a log's newest calls, unless a fetch is on its way.
    pub(crate) fn load_log(&mut self, key: LogKey) {
        let log = self.data.forms.channels.logs.entry(key).or_default();
        if log.in_flight {
            return;
        }
        log.in_flight = true;
        log.asked_at = dom::now_ms();
        self.api(Method::Get, &key.path(), None, move |r| {
            Msg::Net(Box::new(Net::Deliveries(key, r)))
        });
    }

    fn refresh_logs(&mut self) {
        for key in self.shown_logs() {
            self.load_log(key);
        }
    }

    fn log_loaded(&mut self, key: LogKey, r: Res<Payload<Delivery>>) {
        let log = self.data.forms.channels.logs.entry(key).or_default();
        log.in_flight = false;
        match r {
            Ok(page) => log.items = Some(page.payload),
            Err(f) => {
                log.items.get_or_insert_with(Vec::new);
                self.fail(&f);
            }
        }
    }

    fn retry_delivery(&mut self, key: LogKey, id: i64) {
        if !self.data.forms.channels.retrying.insert(id) {
            return;
        }
        self.api(
            Method::Post,
            &format!("/deliveries/{id}/retry"),
            Some(json!({})),
            move |r| Msg::Net(Box::new(Net::DeliveryRetried(key, id, r))),
        );
    }

    /// The retried call shows as pending at once; the log's polling then
    /// follows it until it is delivered or fails again.
    fn delivery_retried(&mut self, key: LogKey, id: i64, r: Res<Delivery>) {
        let c = &mut self.data.forms.channels;
        c.retrying.remove(&id);
        match r {
            Ok(delivery) => {
                if let Some(log) = c.logs.get_mut(&key) {
                    log.replace(delivery);
                    log.asked_at = dom::now_ms();
                }
            }
            Err(f) => self.fail(&f),
        }
    }

    /// A live event may have caused calls (they are planned in the same
    /// commit): the shown logs are fetched again shortly.
    pub(crate) fn logs_soon(&mut self) {
        let c = &self.data.forms.channels;
        if c.logs_due.is_none() && !self.shown_logs().is_empty() {
            let due = deliveries::due_after_event(dom::now_ms(), c.logs_refreshed_at);
            self.data.forms.channels.logs_due = Some(due);
        }
    }

    /// Every second: logs due after an event, logs with pending calls,
    /// and Copy buttons whose "Copied" is over.
    pub(crate) fn logs_tick(&mut self, now: f64) {
        let c = &mut self.data.forms.channels;
        if c.copied.as_ref().is_some_and(|(_, until)| now > *until) {
            c.copied = None;
            self.dirty.settings = true;
        }
        let shown = self.shown_logs();
        let c = &mut self.data.forms.channels;
        if c.logs_due.is_some_and(|due| now >= due) {
            if shown
                .iter()
                .any(|k| c.logs.get(k).is_some_and(|l| l.in_flight))
            {
                // A fetch asked before the event may miss its calls.
                c.logs_due = Some(now + AFTER_EVENT_MS);
            } else {
                c.logs_due = None;
                c.logs_refreshed_at = now;
                self.refresh_logs();
            }
            return;
        }
        let due: Vec<LogKey> = shown
            .into_iter()
            .filter(|k| c.logs.get(k).is_some_and(|l| l.needs_poll(now)))
            .collect();
        for key in due {
            self.load_log(key);
        }
    }
}
