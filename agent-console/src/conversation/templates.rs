//! WhatsApp message templates as the reply box offers them: which of an
//! inbox's templates can be sent (approved, and with only body
//! parameters, which is what the server fills), the `{{1}}` placeholders
//! of a body, the body with the agent's values filled in, and the
//! `POST .../messages` body that sends one. Pure, so tested natively.
//!
//! Templates come as the server keeps them from Meta (`message_templates`
//! of a WhatsApp inbox): `{id, name, language, status, category,
//! components}`, with Meta's components (`HEADER`, `BODY`, `FOOTER`,
//! `BUTTONS`).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::forms::Failure;

/// A search box is shown above the list from this many templates on.
pub const SEARCH_FROM: usize = 6;
/// The server's limit on one parameter's length.
pub const MAX_VALUE_CHARS: usize = 1024;

/// Why an approved template cannot be sent from the console: the server
/// fills body parameters only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    /// A header with an image, video, document or location.
    MediaHeader,
    /// A text header with a `{{1}}` of its own.
    HeaderParameter,
    /// A button whose URL or code takes a parameter.
    ButtonParameter,
    /// Named placeholders (`{{first_name}}`) instead of numbered ones.
    NamedParameter,
}

/// One approved template, as the picker shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub name: String,
    pub language: String,
    pub category: String,
    /// A text header, shown above the body in the preview.
    pub header: Option<String>,
    pub body: String,
    pub footer: Option<String>,
    /// `None`: it can be sent from here.
    pub unsupported: Option<Unsupported>,
}

impl Template {
    /// What the picker and the form know it by: name and language (Meta
    /// keeps one template per name and language).
    pub fn key(&self) -> String {
        format!("{}|{}", self.name, self.language)
    }

    /// The numbers of the body's placeholders, each once, in order.
    pub fn slots(&self) -> Vec<u32> {
        placeholders(&self.body)
    }

    /// Every slot has a value (spaces alone are no value).
    pub fn complete(&self, values: &BTreeMap<u32, String>) -> bool {
        self.unsupported.is_none() && self.slots().iter().all(|n| filled(values, *n).is_some())
    }
}

/// A part of a template's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    /// `{{n}}`.
    Slot(u32),
    /// `{{name}}`: Meta's named parameters.
    Named(&'a str),
}

/// Splits a text at its `{{...}}` placeholders. Braces that do not make
/// a placeholder stay text.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut plain = 0;
    while let Some(open) = rest[plain..].find("{{").map(|i| plain + i) {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            break;
        };
        let inner = after[..close].trim();
        let piece = if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
            inner
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .map(Piece::Slot)
        } else if !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            Some(Piece::Named(inner))
        } else {
            None
        };
        match piece {
            Some(p) => {
                if open > 0 {
                    out.push(Piece::Text(&rest[..open]));
                }
                out.push(p);
                rest = &after[close + 2..];
                plain = 0;
            }
            // Not a placeholder: look again from the next brace.
            None => plain = open + 1,
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// The numbers of a text's `{{n}}` placeholders, each once, ascending:
/// one input per number, however often and in whatever order the text
/// uses them.
pub fn placeholders(text: &str) -> Vec<u32> {
    let mut slots: Vec<u32> = pieces(text)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Slot(n) => Some(n),
            _ => None,
        })
        .collect();
    slots.sort_unstable();
    slots.dedup();
    slots
}

fn named(text: &str) -> bool {
    pieces(text).iter().any(|p| matches!(p, Piece::Named(_)))
}

/// The value typed for slot `n`, trimmed; `None` when empty.
fn filled(values: &BTreeMap<u32, String>, n: u32) -> Option<&str> {
    values.get(&n).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// The text with the values filled in; a placeholder without a value
/// stays as it is (`{{2}}`), so the preview shows what is still missing.
pub fn fill(text: &str, values: &BTreeMap<u32, String>) -> String {
    pieces(text)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => t.to_string(),
            Piece::Slot(n) => filled(values, n)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{{{{{n}}}}}")),
            Piece::Named(name) => format!("{{{{{name}}}}}"),
        })
        .collect()
}

/// One of Meta's templates, if it is approved and has a name, a language
/// and a body.
pub fn parse(t: &Value) -> Option<Template> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    if !text(t, "status")?.eq_ignore_ascii_case("APPROVED") {
        return None;
    }
    let name = text(t, "name").filter(|n| !n.is_empty())?;
    let language = text(t, "language").filter(|l| !l.is_empty())?;
    let components = t.get("components").and_then(Value::as_array);
    let of = |kind: &str| {
        components
            .into_iter()
            .flatten()
            .find(|c| text(c, "type").is_some_and(|k| k.eq_ignore_ascii_case(kind)))
    };
    let body = of("BODY").and_then(|c| text(c, "text"))?;
    let mut unsupported = None;
    let mut header = None;
    if let Some(h) = of("HEADER") {
        match text(h, "format").map(|f| f.to_ascii_uppercase()).as_deref() {
            Some("TEXT") | None => {
                let t = text(h, "text").unwrap_or_default();
                if !pieces(&t).iter().all(|p| matches!(p, Piece::Text(_))) {
                    unsupported = Some(Unsupported::HeaderParameter);
                }
                header = Some(t).filter(|t| !t.is_empty());
            }
            Some(_) => unsupported = Some(Unsupported::MediaHeader),
        }
    }
    let buttons = of("BUTTONS")
        .and_then(|b| b.get("buttons"))
        .and_then(Value::as_array);
    let button_parameter = buttons.into_iter().flatten().any(|b| {
        let kind = text(b, "type").unwrap_or_default().to_ascii_uppercase();
        matches!(kind.as_str(), "COPY_CODE" | "OTP")
            || text(b, "url").is_some_and(|u| !placeholders(&u).is_empty() || named(&u))
    });
    if button_parameter {
        unsupported = unsupported.or(Some(Unsupported::ButtonParameter));
    }
    if named(&body) {
        unsupported = unsupported.or(Some(Unsupported::NamedParameter));
    }
    Some(Template {
        name,
        language,
        category: text(t, "category").unwrap_or_default(),
        header,
        body,
        footer: of("FOOTER")
            .and_then(|c| text(c, "text"))
            .filter(|f| !f.is_empty()),
        unsupported,
    })
}

/// The approved templates of an inbox, by name then language; others
/// (pending, rejected, paused...) are left out.
pub fn approved(list: &[Value]) -> Vec<Template> {
    let mut out: Vec<Template> = list.iter().filter_map(parse).collect();
    out.sort_by(|a, b| (&a.name, &a.language).cmp(&(&b.name, &b.language)));
    out.dedup_by(|a, b| a.key() == b.key());
    out
}

/// The templates whose name, language, category or text hold every word
/// of `query` (any case; `_` and spaces are alike in names).
pub fn search<'a>(list: &'a [Template], query: &str) -> Vec<&'a Template> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(|w| w.to_lowercase().replace('_', " "))
        .collect();
    list.iter()
        .filter(|t| {
            let haystack = format!(
                "{} {} {} {} {}",
                t.name.replace('_', " "),
                t.language,
                t.category,
                t.header.as_deref().unwrap_or(""),
                t.body
            )
            .to_lowercase()
            .replace('_', " ");
            words.iter().all(|w| haystack.contains(w.as_str()))
        })
        .collect()
}

/// Why a template cannot be sent yet: the first slot without a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    Missing(u32),
    Unsupported(Unsupported),
}

/// The `POST .../conversations/{id}/messages` body that sends `t` with
/// `values`: the filled body as the conversation's text, the values by
/// number. Never a private note.
pub fn request(
    t: &Template,
    values: &BTreeMap<u32, String>,
    echo_id: &str,
) -> Result<Value, NotReady> {
    if let Some(why) = t.unsupported {
        return Err(NotReady::Unsupported(why));
    }
    let mut params = Map::new();
    for n in t.slots() {
        let value = filled(values, n).ok_or(NotReady::Missing(n))?;
        params.insert(n.to_string(), json!(value));
    }
    Ok(json!({
        "content": fill(&t.body, values),
        "private": false,
        "echo_id": echo_id,
        "template_params": {
            "name": t.name,
            "language": t.language,
            "processed_params": params,
        },
    }))
}

/// The server refused free text because WhatsApp's 24-hour window is
/// closed (the window can close while the page is open).
pub fn window_refusal(f: &Failure) -> bool {
    f.status == 422 && f.fields.iter().any(|p| p.code == "outside_window")
}

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;
