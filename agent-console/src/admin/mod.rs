//! Settings (inboxes, collaborators, conversation assignment, agents) and
//! the agent's own profile. Settings are for administrators; the server
//! refuses agents anyway, and the console does not show them the screens.
//!
//! The folder holds the settings screens' logic, each feature's browser
//! side (`*_admin.rs`, `agendor.rs`) beside its pure, tested part: inboxes
//! (`inbox_form.rs`) and their channels (`channels.rs`), webhooks
//! (`webhooks.rs`) and delivery logs (`deliveries.rs`), the Agendor
//! integration (`integrations.rs`).

mod agendor;
mod channel_admin;
pub mod channels;
pub mod deliveries;
mod inbox_admin;
pub mod inbox_form;
pub mod integrations;
mod webhook_admin;
pub mod webhooks;

use serde_json::json;

use crate::admin::deliveries::LogKey;
use crate::app::App;
use crate::dom;
use crate::forms::{self, AssignmentForm, Invalid};
use crate::http::Method;
use crate::i18n::T;
use crate::msg::{Action, Msg, Net};
use crate::route::Route;
use crate::state::Notice;

/// How long a first click on an agent's Remove waits for the second.
const CONFIRM_MS: f64 = 4_000.0;

impl App {
    pub(crate) fn open_inbox_settings(&mut self, id: i64) {
        self.data.forms.inbox = self.data.inbox(id).cloned();
        self.data.forms.assignment_notice = None;
        self.data.forms.snippet_notice = None;
        self.data.forms.inbox_version += 1;
        let c = &mut self.data.forms.channels;
        c.whatsapp_notice = None;
        c.api_notice = None;
        c.invalid = None;
        c.confirm_disconnect = false;
        c.logs.clear();
        self.data.forms.inbox_settings = Default::default();
        self.redraw_inbox_settings();
        self.api(Method::Get, &format!("/inboxes/{id}"), None, |r| {
            Msg::Net(Box::new(Net::Inbox(r)))
        });
        self.load_members(id);
        self.load_directory();
        self.load_log(LogKey::Inbox(id));
    }

    pub(crate) fn open_inbox_id(&self) -> Option<i64> {
        match self.data.route {
            Route::SettingsInbox(id) => Some(id),
            _ => None,
        }
    }

    pub(crate) fn act_admin(&mut self, action: Action) {
        let inbox = self.open_inbox_id();
        match action {
            Action::AddCollaborator => {
                let user = dom::value_of("collaborator-add").parse::<i64>().ok();
                if let (Some(inbox), Some(user)) = (inbox, user) {
                    self.members_change(Method::Post, inbox, user);
                }
            }
            Action::RemoveCollaborator(user) => {
                if self.data.forms.confirm_collaborator != Some(user) {
                    // Their open conversations would go back to the queue:
                    // say so first.
                    self.data.forms.confirm_collaborator = Some(user);
                    self.data.forms.confirm_remove_until = Some(dom::now_ms() + CONFIRM_MS);
                } else if let Some(inbox) = inbox {
                    self.data.forms.confirm_collaborator = None;
                    self.members_change(Method::Delete, inbox, user);
                }
                self.dirty.settings = true;
            }
            Action::SaveAssignment => self.save_assignment(),
            Action::SaveInboxSettings | Action::DeleteInbox => self.act_inbox(action),
            Action::SaveAgendor => self.save_agendor(),
            Action::DisconnectAgendor => self.disconnect_agendor(),
            Action::CopySnippet => self.copy_snippet(),
            Action::CreateAgent => {
                let body = forms::new_agent(
                    &dom::value_of("agent-name"),
                    &dom::value_of("agent-email"),
                    &dom::value_of("agent-role"),
                    &dom::value_of("agent-password"),
                );
                self.api(Method::Post, "/agents", Some(body), |r| {
                    Msg::Net(Box::new(Net::AgentCreated(r)))
                });
            }
            Action::AgentRole(id, role) => {
                self.api(
                    Method::Patch,
                    &format!("/agents/{id}"),
                    Some(json!({ "role": role })),
                    |r| Msg::Net(Box::new(Net::AgentChanged(r))),
                );
            }
            Action::RemoveAgent(id) => {
                if self.data.forms.confirm_remove == Some(id) {
                    self.data.forms.confirm_remove = None;
                    self.api(Method::Delete, &format!("/agents/{id}"), None, move |r| {
                        Msg::Net(Box::new(Net::AgentRemoved(id, r)))
                    });
                } else {
                    self.data.forms.confirm_remove = Some(id);
                    self.data.forms.confirm_remove_until = Some(dom::now_ms() + CONFIRM_MS);
                }
                self.dirty.settings = true;
            }
            Action::SaveProfile => {
                let body = forms::profile_names(
                    &dom::value_of("profile-name"),
                    &dom::value_of("profile-display-name"),
                );
                self.api(Method::Patch, "/api/v1/profile", Some(body), |r| {
                    Msg::Net(Box::new(Net::ProfileSaved(r)))
                });
            }
            Action::SavePassword => {
                let body = json!({
                    "current_password": dom::value_of("password-current"),
                    "password": dom::value_of("password-new"),
                });
                self.api(Method::Patch, "/api/v1/profile", Some(body), |r| {
                    Msg::Net(Box::new(Net::PasswordSaved(r)))
                });
            }
            other => self.act_channels(other),
        }
    }

    fn members_change(&self, method: Method, inbox: i64, user: i64) {
        self.api(
            method,
            "/inbox_members",
            Some(json!({"inbox_id": inbox, "user_ids": [user]})),
            move |r| Msg::Net(Box::new(Net::MembersChanged(inbox, r))),
        );
    }

    fn save_assignment(&mut self) {
        let Some(inbox) = self.open_inbox_id() else {
            return;
        };
        let form = AssignmentForm {
            enabled: dom::checked_of("assignment-enabled"),
            max: dom::value_of("assignment-max"),
            policy: dom::value_of("assignment-policy"),
            from_queue: dom::checked_of("assignment-from-queue"),
            offline: dom::value_of("assignment-offline"),
            grace: dom::value_of("assignment-grace"),
            reassign: dom::value_of("assignment-reassign"),
        };
        let lang = self.data.lang;
        match form.body() {
            Ok(body) => {
                self.data.forms.assignment_notice = None;
                self.api(
                    Method::Patch,
                    &format!("/inboxes/{inbox}"),
                    Some(body),
                    |r| Msg::Net(Box::new(Net::InboxSaved(r))),
                );
            }
            Err(Invalid(field)) => {
                let caption = match field {
                    "assignment-max" => T::MaxPerAgent,
                    "assignment-grace" => T::Grace,
                    _ => T::Reassign,
                };
                let text = lang.tf(T::MustBePositive, &[("field", lang.t(caption))]);
                self.data.forms.assignment_notice = Notice::error(&text);
            }
        }
        self.dirty.settings = true;
    }

    fn copy_snippet(&mut self) {
        let Some(snippet) = dom::by_id("widget-snippet") else {
            return;
        };
        dom::copy_to_clipboard(&dom::value(&snippet));
        dom::select(&snippet);
        self.data.forms.snippet_notice = Notice::ok(self.data.lang.t(T::Copied));
        self.dirty.settings = true;
    }

    pub(crate) fn net_admin(&mut self, net: Net) {
        let lang = self.data.lang;
        match net {
            Net::Inbox(r) => match r {
                Ok(inbox) if self.open_inbox_id() == Some(inbox.id) => {
                    self.data.forms.inbox = Some(inbox);
                    self.data.forms.inbox_version += 1;
                    self.redraw_inbox_settings();
                }
                Ok(_) => {}
                Err(f) => self.fail(&f),
            },
            Net::InboxSaved(r) => match r {
                Ok(inbox) => {
                    if let Some(slot) = self.data.inboxes.iter_mut().find(|i| i.id == inbox.id) {
                        *slot = inbox.clone();
                    }
                    self.data.forms.inbox = Some(inbox);
                    self.data.forms.inbox_version += 1;
                    self.data.forms.assignment_notice = Notice::ok(lang.t(T::Saved));
                }
                Err(f) => {
                    // Said under the form, not in a toast as well.
                    let text = self.failure_text(&f);
                    self.data.forms.assignment_notice = Notice::error(&text);
                }
            },
            Net::InboxSettingsSaved(_) | Net::InboxDeleted(..) => self.net_inbox(net),
            Net::AgentCreated(r) => match r {
                Ok(agent) => {
                    self.data.agents.push(agent);
                    self.data.forms.agent_error = None;
                    self.data.forms.agent_form_version += 1;
                }
                Err(f) => {
                    self.data.forms.agent_error = Some(self.failure_text(&f));
                }
            },
            Net::AgentChanged(r) => match r {
                Ok(agent) => {
                    if let Some(slot) = self.data.agents.iter_mut().find(|a| a.id == agent.id) {
                        *slot = agent;
                    }
                }
                Err(f) => {
                    // The role picker shows a change that did not happen.
                    self.data.forms.redraw += 1;
                    self.fail(&f);
                }
            },
            Net::AgentRemoved(id, r) => match r {
                Ok(_) => self.data.agents.retain(|a| a.id != id),
                Err(f) => self.fail(&f),
            },
            Net::Integrations(r) => self.integrations_loaded(r),
            Net::HookSaved(r) => self.hook_saved(r),
            Net::HookRemoved(r) => self.hook_removed(r),
            Net::ProfileSaved(r) => self.profile_saved(r, false),
            Net::PasswordSaved(r) => self.profile_saved(r, true),
            other => self.net_channels(other),
        }
        self.dirty.settings = true;
    }

    fn profile_saved(
        &mut self,
        r: crate::msg::Res<switchboard_protocol::api::Profile>,
        password: bool,
    ) {
        let lang = self.data.lang;
        let notice = match r {
            Ok(profile) => {
                if let Some(s) = &mut self.data.session {
                    s.profile.name = profile.name;
                    s.profile.display_name = profile.display_name;
                    s.profile.available_name = profile.available_name;
                }
                if password {
                    for id in ["password-current", "password-new"] {
                        if let Some(e) = dom::by_id(id) {
                            dom::set_value(&e, "");
                        }
                    }
                }
                self.dirty.topbar = true;
                let ok = if password {
                    T::PasswordChanged
                } else {
                    T::Saved
                };
                Notice::ok(lang.t(ok))
            }
            Err(f) => Notice::error(&self.failure_text(&f)),
        };
        if password {
            self.data.forms.password_notice = notice;
        } else {
            self.data.forms.profile_notice = notice;
        }
    }
}
