//! What the settings and profile forms send, built from the fields' text,
//! and the server's errors made readable. Pure, so the bodies are tested
//! against the server's field names without a browser.

use serde_json::{json, Value};
use switchboard_protocol::api::{
    AssignmentPolicy, AutoAssignmentConfig, ErrorBody, Inbox, OnAgentOffline,
};

use crate::i18n::{Lang, T};

/// The "Conversation assignment" form, as its fields read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentForm {
    pub enabled: bool,
    /// Empty: no limit.
    pub max: String,
    pub policy: String,
    pub from_queue: bool,
    pub offline: String,
    pub grace: String,
    pub reassign: String,
}

/// A field the server would refuse, named by its DOM id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub &'static str);

fn positive(id: &'static str, text: &str) -> Result<Option<u32>, Invalid> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(Invalid(id)),
    }
}

impl AssignmentForm {
    /// The form showing an inbox's current settings.
    pub fn of(inbox: &Inbox) -> AssignmentForm {
        let c = &inbox.auto_assignment_config;
        let text = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        AssignmentForm {
            enabled: inbox.enable_auto_assignment,
            max: text(c.max_assignment_limit),
            policy: policy_str(c.policy).into(),
            from_queue: c.assign_from_queue,
            offline: offline_str(c.on_agent_offline).into(),
            grace: text(c.offline_grace_seconds),
            reassign: text(c.reassign_after_seconds),
        }
    }

    /// The `PATCH .../inboxes/{id}` body. The config is replaced as a
    /// whole by the server, so every field is sent.
    pub fn body(&self) -> Result<Value, Invalid> {
        let config = AutoAssignmentConfig {
            max_assignment_limit: positive("assignment-max", &self.max)?,
            policy: match self.policy.as_str() {
                "balanced" => AssignmentPolicy::Balanced,
                _ => AssignmentPolicy::RoundRobin,
            },
            assign_from_queue: self.from_queue,
            on_agent_offline: match self.offline.as_str() {
                "requeue" => OnAgentOffline::Requeue,
                _ => OnAgentOffline::Keep,
            },
            offline_grace_seconds: positive("assignment-grace", &self.grace)?,
            reassign_after_seconds: positive("assignment-reassign", &self.reassign)?,
        };
        Ok(json!({
            "enable_auto_assignment": self.enabled,
            "auto_assignment_config": config,
        }))
    }
}

pub fn policy_str(p: AssignmentPolicy) -> &'static str {
    match p {
        AssignmentPolicy::RoundRobin => "round_robin",
        AssignmentPolicy::Balanced => "balanced",
    }
}

pub fn offline_str(o: OnAgentOffline) -> &'static str {
    match o {
        OnAgentOffline::Keep => "keep",
        OnAgentOffline::Requeue => "requeue",
    }
}

/// `POST .../inboxes` for a website inbox. Empty optional fields are left out.
pub fn website_inbox(name: &str, url: &str, title: &str, tagline: &str, color: &str) -> Value {
    let mut channel = json!({"type": "web_widget"});
    for (key, value) in [
        ("website_url", url),
        ("welcome_title", title),
        ("welcome_tagline", tagline),
        ("widget_color", color),
    ] {
        if !value.trim().is_empty() {
            channel[key] = json!(value.trim());
        }
    }
    json!({"name": name.trim(), "channel": channel})
}

/// `POST .../agents`: without a password the agent cannot sign in yet.
pub fn new_agent(name: &str, email: &str, role: &str, password: &str) -> Value {
    let mut body = json!({"name": name.trim(), "email": email.trim(), "role": role});
    if !password.is_empty() {
        body["password"] = json!(password);
    }
    body
}

/// `PATCH /api/v1/profile` with the names; an empty display name clears it.
pub fn profile_names(name: &str, display_name: &str) -> Value {
    let display = display_name.trim();
    json!({
        "name": name.trim(),
        "display_name": if display.is_empty() { Value::Null } else { json!(display) },
    })
}

/// Why a form was not sent, naming the field by its DOM id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Required, and left empty.
    Missing(&'static str),
    /// Not an `http://` or `https://` address.
    NotWebAddress(&'static str),
    /// No event ticked.
    NoEvent(&'static str),
}

impl Problem {
    /// The DOM id of the field at fault.
    pub fn field(self) -> &'static str {
        match self {
            Problem::Missing(f) | Problem::NotWebAddress(f) | Problem::NoEvent(f) => f,
        }
    }

    /// The sentence shown next to the form.
    pub fn text(self, table: &[Field], lang: Lang) -> String {
        let caption = caption(table, self.field(), lang);
        match self {
            Problem::Missing(_) => lang.tf(T::Required, &[("field", caption)]),
            Problem::NotWebAddress(_) => lang.tf(T::MustBeWebAddress, &[("field", caption)]),
            Problem::NoEvent(_) => lang.t(T::PickAnEvent).to_string(),
        }
    }
}

/// A form's field: its name in the API's errors, its DOM id, its caption.
pub type Field = (&'static str, &'static str, T);

fn caption(table: &[Field], id: &str, lang: Lang) -> &'static str {
    table
        .iter()
        .find(|(_, dom, _)| *dom == id)
        .map(|(_, _, t)| lang.t(*t))
        .unwrap_or_default()
}

/// A refusal of the server about one of the form's fields: that field's
/// DOM id and "Caption: what is wrong". `None` when it named none of them.
pub fn explain(f: &Failure, table: &[Field], lang: Lang) -> Option<(&'static str, String)> {
    f.fields.iter().find_map(|p| {
        let (_, id, t) = table.iter().find(|(api, _, _)| *api == p.field)?;
        let what = crate::i18n::errors::field_text(&p.code, &p.message, lang);
        Some((*id, format!("{}: {what}", lang.t(*t))))
    })
}

/// What the server accepts as a web address (`http://` or `https://`,
/// something after it, no spaces).
pub fn web_address(text: &str) -> bool {
    let t = text.trim();
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty())
        && t.len() <= 2048
        && !t.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A failed request, told the way the server told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// HTTP status; 0 when the server could not be reached.
    pub status: u16,
    /// The server's stable error code (`error`), shown in the agent's
    /// words (see [`crate::i18n::errors`]).
    pub code: Option<String>,
    /// The server's own sentence when it sent one.
    pub message: Option<String>,
    /// The fields it named, with what is wrong with each (`errors`).
    pub fields: Vec<FieldProblem>,
}

/// One field the server refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    /// Why, as a stable code (`blank`, `too_short`, ...; `invalid` when
    /// the server has no finer one).
    pub code: String,
    pub message: String,
}

impl Failure {
    /// From a response's status and body (`{"error", "message", "errors"}`).
    pub fn from_response(status: u16, body: &str) -> Failure {
        let Ok(body) = serde_json::from_str::<ErrorBody>(body) else {
            return Failure::status(status);
        };
        let message = Some(body.message).filter(|m| !m.trim().is_empty());
        let fields = body
            .errors
            .into_iter()
            .map(|e| FieldProblem {
                field: e.field,
                code: e.code,
                message: e.message,
            })
            .collect();
        Failure {
            status,
            code: Some(body.error).filter(|c| !c.is_empty()),
            message,
            fields,
        }
    }

    /// A status without the server's words (an answer we could not read).
    pub fn status(status: u16) -> Failure {
        Failure {
            status,
            code: None,
            message: None,
            fields: Vec::new(),
        }
    }

    pub fn network() -> Failure {
        Failure::status(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> AssignmentForm {
        AssignmentForm {
            enabled: true,
            max: "5".into(),
            policy: "balanced".into(),
            from_queue: true,
            offline: "requeue".into(),
            grace: " 90 ".into(),
            reassign: String::new(),
        }
    }

    #[test]
    fn assignment_body_uses_the_servers_names() {
        let body = form().body().unwrap();
        assert_eq!(
            body,
            json!({"enable_auto_assignment": true, "auto_assignment_config": {
                "max_assignment_limit": 5, "policy": "balanced", "assign_from_queue": true,
                "on_agent_offline": "requeue", "offline_grace_seconds": 90}})
        );
        // What it sends parses as the server's type (which refuses unknown keys).
        let config: AutoAssignmentConfig =
            serde_json::from_value(body["auto_assignment_config"].clone()).unwrap();
        assert_eq!(config.reassign_after_seconds, None);
    }

    #[test]
    fn empty_means_no_limit_and_zero_is_refused() {
        let mut f = form();
        f.max = String::new();
        assert_eq!(
            f.body().unwrap()["auto_assignment_config"].get("max_assignment_limit"),
            None
        );
        f.max = "0".into();
        assert_eq!(f.body(), Err(Invalid("assignment-max")));
        f.max = "3".into();
        f.reassign = "soon".into();
        assert_eq!(f.body(), Err(Invalid("assignment-reassign")));
    }

    #[test]
    fn bodies_leave_out_empty_fields() {
        assert_eq!(
            website_inbox(" Site ", "", "Hi", "", "#ff0000"),
            json!({"name": "Site", "channel": {"type": "web_widget", "welcome_title": "Hi", "widget_color": "#ff0000"}})
        );
        assert_eq!(
            new_agent("Ana", "ana@x.test", "agent", ""),
            json!({"name": "Ana", "email": "ana@x.test", "role": "agent"})
        );
        assert_eq!(profile_names("Ana Souza", " ")["display_name"], Value::Null);
    }

    #[test]
    fn refusals_name_the_field_in_the_forms_words() {
        let table: &[Field] = &[("phone_number", "inbox-phone", T::PhoneNumber)];
        let f = Failure::from_response(
            422,
            r#"{"error":"validation_failed","message":"phone_number must be a number","errors":[{"field":"phone_number","message":"must be a number","code":"invalid"}]}"#,
        );
        assert_eq!(
            explain(&f, table, Lang::En),
            Some(("inbox-phone", "Phone number: must be a number".into()))
        );
        assert_eq!(explain(&Failure::network(), table, Lang::En), None);
        assert_eq!(
            Problem::Missing("inbox-phone").text(table, Lang::PtBr),
            "Número de telefone: obrigatório"
        );
        assert!(web_address(" https://x.test/hook "));
        assert!(web_address("http://127.0.0.1:9/a"));
        for bad in ["", "https://", "ftp://x", "https://a b", "x.test"] {
            assert!(!web_address(bad), "{bad}");
        }
    }

    #[test]
    fn failures_keep_the_servers_sentence() {
        let f = Failure::from_response(
            422,
            r#"{"error":"validation_failed","message":"name can't be blank","errors":[{"field":"name","message":"can't be blank","code":"invalid"}]}"#,
        );
        assert_eq!(f.message.as_deref(), Some("name can't be blank"));
        assert_eq!(f.code.as_deref(), Some("validation_failed"));
        assert_eq!(
            f.fields,
            vec![FieldProblem {
                field: "name".into(),
                code: "invalid".into(),
                message: "can't be blank".into()
            }]
        );
        assert_eq!(Failure::from_response(502, "<html>").message, None);
    }
}
