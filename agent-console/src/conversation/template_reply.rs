//! The reply box's template form (WhatsApp): opening and closing it,
//! syncing the inbox's templates from WhatsApp, searching, picking one,
//! the values typed, and sending it. What it sends is built in
//! `templates.rs`; the message then goes like any reply (shown at once,
//! matched by its echo id, Retry on failure).

use serde_json::json;
use switchboard_protocol::api::Inbox;

use crate::app::App;
use crate::conversation::templates;
use crate::dom;
use crate::http::Method;
use crate::msg::{Action, Msg, Net, Res};
use crate::ui::offered_templates;

impl App {
    pub(crate) fn act_template(&mut self, action: Action) {
        let Some(id) = self.data.open_id() else {
            return;
        };
        let form = &mut self.data.forms.template;
        match action {
            Action::OpenTemplates => {
                form.reset();
                form.open_for = Some(id);
            }
            Action::CloseTemplates => {
                form.reset();
                if let Some(input) = dom::by_id("reply-input") {
                    dom::focus(&input);
                }
            }
            Action::SyncTemplates => self.sync_templates(id),
            Action::TemplateSearch(query) => form.search = query,
            Action::PickTemplate(key) => {
                form.picked = Some(key);
                form.values.clear();
                form.version += 1;
            }
            Action::UnpickTemplate => {
                form.picked = None;
                form.values.clear();
                form.version += 1;
            }
            Action::TemplateParam(n, value) => {
                form.values.insert(n, value);
            }
            Action::SendTemplate => self.send_template(id),
            _ => return,
        }
        self.dirty.reply = true;
    }

    /// Reads the templates of the conversation's inbox from WhatsApp again.
    fn sync_templates(&mut self, conversation: i64) {
        let Some(inbox) = self.data.store.get(conversation).map(|c| c.inbox_id) else {
            return;
        };
        let form = &mut self.data.forms.template;
        if !form.syncing.insert(inbox) {
            return;
        }
        form.sync_error.remove(&inbox);
        self.api(
            Method::Post,
            &format!("/inboxes/{inbox}/sync_templates"),
            Some(json!({})),
            move |r| Msg::Net(Box::new(Net::TemplatesSynced(inbox, r))),
        );
    }

    pub(crate) fn templates_synced(&mut self, inbox: i64, result: Res<Inbox>) {
        self.data.forms.template.syncing.remove(&inbox);
        match result {
            Ok(synced) => {
                if let Some(shown) = self.data.inboxes.iter_mut().find(|i| i.id == inbox) {
                    *shown = synced;
                }
            }
            Err(f) => {
                let text = self.failure_text(&f);
                self.data.forms.template.sync_error.insert(inbox, text);
            }
        }
        self.dirty.reply = true;
    }

    /// Sends the picked template with the values typed, if each is there.
    fn send_template(&mut self, id: i64) {
        let Some(c) = self.data.store.get(id) else {
            return;
        };
        let form = &self.data.forms.template;
        let offered = offered_templates(&self.data, c);
        let Some(t) = form
            .picked
            .as_deref()
            .and_then(|key| offered.iter().find(|t| t.key() == key))
        else {
            return;
        };
        let echo = format!("c{}-{}", dom::now_ms() as u64, (dom::random() * 1e9) as u64);
        let Ok(body) = templates::request(t, &form.values, &echo) else {
            return;
        };
        let content = body["content"].as_str().unwrap_or_default().to_string();
        self.data
            .threads
            .entry(id)
            .add_pending(echo.clone(), content, false);
        self.template_sends.insert(echo.clone(), body.clone());
        self.post_json(id, echo, body);
        self.data.forms.template.reset();
        self.dirty.thread = true;
    }
}
