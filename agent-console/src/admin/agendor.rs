//! The Agendor CRM integration, browser side: Settings → Integrations
//! (load the apps, save or disconnect the hook) and the contact panel's
//! Retry. What the requests carry is built in `integrations.rs`; what the
//! CRM block shows, in `contact/crm.rs`.

use serde_json::json;
use switchboard_protocol::api::Payload;
use switchboard_protocol::chat::Contact;

use crate::admin::integrations::{self, AgendorForm, Hook, IntegrationApp};
use crate::app::App;
use crate::dom;
use crate::forms::Invalid;
use crate::http::Method;
use crate::i18n::T;
use crate::msg::{Msg, Net, One, Res};
use crate::state::Notice;

/// How long a first click on Disconnect waits for the second.
const CONFIRM_MS: f64 = 4_000.0;

impl App {
    pub(crate) fn load_integrations(&mut self) {
        self.data.forms.agendor_notice = None;
        self.data.forms.agendor_invalid = None;
        self.data.forms.confirm_disconnect = false;
        self.api(Method::Get, "/integrations/apps", None, |r| {
            Msg::Net(Box::new(Net::Integrations(r)))
        });
    }

    pub(crate) fn integrations_loaded(&mut self, r: Res<Payload<IntegrationApp>>) {
        match r {
            Ok(apps) => {
                self.data.forms.integrations = Some(apps.payload);
                self.data.forms.integrations_version += 1;
            }
            Err(f) => {
                // An empty list rather than "Loading…" forever.
                self.data.forms.integrations.get_or_insert_with(Vec::new);
                self.fail(&f);
            }
        }
    }

    fn agendor_hook_id(&self) -> Option<i64> {
        let apps = self.data.forms.integrations.as_deref()?;
        integrations::agendor_hook(apps).map(|h| h.id)
    }

    pub(crate) fn save_agendor(&mut self) {
        if self.data.forms.agendor_busy {
            return;
        }
        let lang = self.data.lang;
        let hook = self.agendor_hook_id();
        let form = AgendorForm {
            enabled: dom::checked_of("agendor-enabled"),
            api_token: dom::value_of("agendor-token"),
            base_url: dom::value_of("agendor-base-url"),
            inbox_ids: self
                .data
                .inboxes
                .iter()
                .map(|i| i.id)
                .filter(|id| dom::checked_of(&format!("agendor-inbox-{id}")))
                .collect(),
            contact_type: if dom::checked_of("agendor-type-organization") {
                "organization".into()
            } else {
                "person".into()
            },
            create_deal: dom::checked_of("agendor-create-deal"),
            deal_title: dom::value_of("agendor-deal-title"),
            funnel_id: dom::value_of("agendor-funnel"),
            deal_stage: dom::value_of("agendor-stage"),
            add_note: dom::checked_of("agendor-add-note"),
            note_text: dom::value_of("agendor-note-text"),
        };
        self.dirty.settings = true;
        let body = match form.body(hook.is_none()) {
            Ok(body) => body,
            Err(Invalid(field)) => {
                let text = match field {
                    "api_token" => lang.t(T::TokenRequired).to_string(),
                    "base_url" => lang.tf(T::MustBeUrl, &[("field", lang.t(T::BaseUrl))]),
                    "funnel_id" => lang.tf(T::MustBePositive, &[("field", lang.t(T::FunnelId))]),
                    _ => lang.tf(T::MustBePositive, &[("field", lang.t(T::DealStage))]),
                };
                self.data.forms.agendor_notice = Notice::error(&text);
                self.data.forms.agendor_invalid = Some(field);
                return;
            }
        };
        self.data.forms.agendor_notice = None;
        self.data.forms.agendor_invalid = None;
        self.data.forms.agendor_busy = true;
        let wrap = |r| Msg::Net(Box::new(Net::HookSaved(r)));
        match hook {
            Some(id) => self.api(
                Method::Patch,
                &format!("/integrations/hooks/{id}"),
                Some(body),
                wrap,
            ),
            None => self.api(Method::Post, "/integrations/hooks", Some(body), wrap),
        }
    }

    pub(crate) fn hook_saved(&mut self, r: Res<Hook>) {
        self.data.forms.agendor_busy = false;
        match r {
            Ok(hook) => {
                if let Some(apps) = &mut self.data.forms.integrations {
                    integrations::replace_hook(apps, Some(hook));
                }
                // Redrawn from the saved hook: the token field empties and
                // the saved token's hint shows.
                self.data.forms.integrations_version += 1;
                self.data.forms.agendor_notice = Notice::ok(self.data.lang.t(T::Saved));
            }
            Err(f) => {
                self.data.forms.agendor_notice = Notice::error(&self.failure_text(&f));
                self.fail(&f);
            }
        }
    }

    /// Two clicks, like removing an agent: disconnecting forgets the token.
    pub(crate) fn disconnect_agendor(&mut self) {
        let Some(id) = self.agendor_hook_id() else {
            return;
        };
        self.dirty.settings = true;
        if !self.data.forms.confirm_disconnect {
            self.data.forms.confirm_disconnect = true;
            self.data.forms.confirm_remove_until = Some(dom::now_ms() + CONFIRM_MS);
            return;
        }
        self.data.forms.confirm_disconnect = false;
        self.data.forms.agendor_busy = true;
        self.api(
            Method::Delete,
            &format!("/integrations/hooks/{id}"),
            None,
            |r| Msg::Net(Box::new(Net::HookRemoved(r))),
        );
    }

    pub(crate) fn hook_removed(&mut self, r: Res<serde_json::Value>) {
        self.data.forms.agendor_busy = false;
        match r {
            Ok(_) => {
                if let Some(apps) = &mut self.data.forms.integrations {
                    integrations::replace_hook(apps, None);
                }
                self.data.forms.integrations_version += 1;
                self.data.forms.agendor_notice = Notice::ok(self.data.lang.t(T::Disconnected));
            }
            Err(f) => {
                self.data.forms.agendor_notice = Notice::error(&self.failure_text(&f));
                self.fail(&f);
            }
        }
    }

    /// The contact panel's Retry: the server queues a new sync and answers
    /// with the contact, now `pending`.
    pub(crate) fn crm_retry(&mut self, contact: i64) {
        if !self.data.forms.crm_retrying.insert(contact) {
            return;
        }
        self.api(
            Method::Post,
            &format!("/contacts/{contact}/crm_sync"),
            Some(json!({})),
            move |r| Msg::Net(Box::new(Net::CrmSync(contact, r))),
        );
        self.dirty.conversation = true;
    }

    pub(crate) fn crm_synced(&mut self, contact: i64, r: Res<One<Contact>>) {
        self.data.forms.crm_retrying.remove(&contact);
        match r {
            Ok(One { payload }) => {
                if self.data.store.on_retried_contact(&payload) {
                    self.dirty.list = true;
                }
            }
            Err(f) => self.fail(&f),
        }
        self.dirty.conversation = true;
    }
}
