//! The console's only DOM listeners, on the document. An element says
//! what it does with `data-act` (and `data-*` for its arguments); these
//! listeners find the nearest such element and dispatch the matching
//! [`Action`]. One listener per event type, for the page's whole life, so
//! redrawing rows never adds or leaks closures.

use wasm_bindgen::JsCast;
use web_sys::{Element, Event, KeyboardEvent, MouseEvent, Window};

use crate::admin::deliveries::LogKey;
use crate::alert;
use crate::app::dispatch;
use crate::conversation::store::Tab;
use crate::dom;
use crate::msg::{Action, Msg};
use crate::route::Route;

/// Remembered so the notification prompt is shown once, ever.
const ASKED_KEY: &str = "switchboard.console.notifications-asked";

pub(crate) fn install(window: &Window) {
    let Some(doc) = window.document() else { return };
    dom::listen(&doc, "click", on_click);
    dom::listen(&doc, "change", on_change);
    dom::listen(&doc, "input", on_input);
    dom::listen(&doc, "keydown", on_keydown);
    dom::listen(&doc, "submit", on_submit);
    dom::listen(window, "popstate", |_| dispatch(Msg::PopState));
    // Sound and the notification prompt need a user gesture.
    for kind in ["pointerdown", "keydown"] {
        dom::listen(&doc, kind, |_| gesture());
    }
}

fn gesture() {
    let first = dom::stored(ASKED_KEY).is_none();
    if first {
        dom::store(ASKED_KEY, Some("1"));
    }
    alert::unlock(first);
}

/// The element that names the action, and the action's name.
fn acting(e: &Event) -> Option<(Element, String)> {
    let target: Element = e.target()?.dyn_into().ok()?;
    let el = target.closest("[data-act]").ok()??;
    let act = el.get_attribute("data-act")?;
    Some((el, act))
}

fn id_of(el: &Element, key: &str) -> Option<i64> {
    el.get_attribute(&format!("data-{key}"))?.parse().ok()
}

fn act(a: Action) {
    dispatch(Msg::Act(a));
}

fn on_click(e: Event) {
    let Some((el, name)) = acting(&e) else { return };
    let action = match name.as_str() {
        "nav" => {
            // Let the browser open links in a new tab when asked to.
            if let Some(m) = e.dyn_ref::<MouseEvent>() {
                if m.ctrl_key() || m.meta_key() || m.shift_key() || m.button() != 0 {
                    return;
                }
            }
            e.prevent_default();
            let href = el.get_attribute("href").unwrap_or_default();
            dispatch(Msg::Navigate(Route::parse(&href)));
            return;
        }
        "tab" => match el.get_attribute("data-tab").as_deref() {
            Some("mine") => Action::Tab(Tab::Mine),
            Some("unassigned") => Action::Tab(Tab::Unassigned),
            _ => Action::Tab(Tab::All),
        },
        "logout" => Action::Logout,
        "load-more" => Action::LoadMore,
        "load-older" => Action::LoadOlder,
        "send" => Action::ReplySend,
        "retry" => Action::Retry(el.get_attribute("data-echo").unwrap_or_default()),
        "assign-me" => Action::AssignMe,
        "take" => Action::Take,
        "resolve" => Action::Resolve,
        "reopen" => Action::Reopen,
        "snooze" => Action::Snooze,
        "add-collaborator" => Action::AddCollaborator,
        "remove-collaborator" => match id_of(&el, "user-id") {
            Some(id) => Action::RemoveCollaborator(id),
            None => return,
        },
        "copy-snippet" => Action::CopySnippet,
        "remove-agent" => match id_of(&el, "user-id") {
            Some(id) => Action::RemoveAgent(id),
            None => return,
        },
        "dismiss-toast" => Action::DismissToast,
        "crm-retry" => match id_of(&el, "contact-id") {
            Some(id) => Action::CrmRetry(id),
            None => return,
        },
        "disconnect-agendor" => Action::DisconnectAgendor,
        "copy" => match el.get_attribute("data-target") {
            Some(target) => Action::Copy(target),
            None => return,
        },
        "disconnect-whatsapp" => Action::DisconnectWhatsapp,
        "edit-contact" => match id_of(&el, "contact-id") {
            Some(id) => Action::EditContact(id),
            None => return,
        },
        "cancel-contact-edit" => Action::CancelContactEdit,
        "delete-inbox" => Action::DeleteInbox,
        "open-templates" => Action::OpenTemplates,
        "close-templates" => Action::CloseTemplates,
        "sync-templates" => Action::SyncTemplates,
        "pick-template" => match el.get_attribute("data-template") {
            Some(key) => Action::PickTemplate(key),
            None => return,
        },
        "unpick-template" => Action::UnpickTemplate,
        "refresh-deliveries" => Action::RefreshDeliveries,
        "retry-delivery" => {
            let key = el.get_attribute("data-log").and_then(|t| LogKey::parse(&t));
            match (key, id_of(&el, "delivery-id")) {
                (Some(key), Some(id)) => Action::RetryDelivery(key, id),
                _ => return,
            }
        }
        "edit-webhook" => match id_of(&el, "webhook-id") {
            Some(id) => Action::EditWebhook(id),
            None => return,
        },
        "cancel-webhook" => Action::CancelWebhook,
        "delete-webhook" => match id_of(&el, "webhook-id") {
            Some(id) => Action::DeleteWebhook(id),
            None => return,
        },
        _ => return,
    };
    e.prevent_default();
    act(action);
}

fn on_change(e: Event) {
    let Some((el, name)) = acting(&e) else { return };
    let value = dom::value(&el);
    let action = match name.as_str() {
        "availability" => Action::Availability(value),
        "filter-status" => Action::FilterStatus(value),
        "filter-inbox" => Action::FilterInbox(value),
        "assignee" => Action::Assignee(value),
        "private-toggle" => Action::PrivateToggle,
        "attach" => Action::Attach,
        "language" => Action::Language(value),
        "inbox-channel" => Action::InboxChannel(value),
        "agent-role" => match id_of(&el, "user-id") {
            Some(id) => Action::AgentRole(id, value),
            None => return,
        },
        _ => return,
    };
    act(action);
}

fn on_input(e: Event) {
    let Some((el, name)) = acting(&e) else { return };
    match name.as_str() {
        "reply" => act(Action::ReplyInput),
        "template-search" => act(Action::TemplateSearch(dom::value(&el))),
        "template-param" => {
            let n = el.get_attribute("data-n").and_then(|n| n.parse().ok());
            if let Some(n) = n {
                act(Action::TemplateParam(n, dom::value(&el)));
            }
        }
        _ => {}
    }
}

fn on_keydown(e: Event) {
    let Some((_, name)) = acting(&e) else { return };
    let Some(k) = e.dyn_ref::<KeyboardEvent>() else {
        return;
    };
    // Enter sends; Shift+Enter is a new line; an IME composing text keeps
    // its Enter.
    if name == "reply" && k.key() == "Enter" && !k.shift_key() && !k.is_composing() {
        e.prevent_default();
        act(Action::ReplySend);
    }
    // Escape leaves the contact's edit form without saving.
    if name == "save-contact" && k.key() == "Escape" {
        act(Action::CancelContactEdit);
    }
}

fn on_submit(e: Event) {
    // The page's CSP forbids form submission anyway: every form is ours.
    e.prevent_default();
    let Some((_, name)) = acting(&e) else { return };
    let action = match name.as_str() {
        "login" => Action::Login,
        "create-inbox" => Action::CreateInbox,
        "create-agent" => Action::CreateAgent,
        "save-assignment" => Action::SaveAssignment,
        "save-profile" => Action::SaveProfile,
        "save-password" => Action::SavePassword,
        "save-agendor" => Action::SaveAgendor,
        "save-whatsapp" => Action::SaveWhatsapp,
        "save-api-webhook" => Action::SaveApiWebhook,
        "save-webhook" => Action::SaveWebhook,
        "save-contact" => Action::SaveContact,
        "save-inbox-settings" => Action::SaveInboxSettings,
        "send-template" => Action::SendTemplate,
        _ => return,
    };
    act(action);
}
