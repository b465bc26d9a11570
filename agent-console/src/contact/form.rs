//! The contact panel's edit form, pure: the form as its fields read, the
//! `PATCH .../contacts/{id}` body with only what the agent changed, the
//! form following a live change of the contact while the agent types, and
//! the server's refusals in the form's words.
//!
//! What the server answers (`server/src/api/contacts.rs`): a 422 naming
//! `email` ("is not a valid email address") or `phone_number` ("must be in
//! E.164 form"), and a 409 without a field when another contact of the
//! account has the e-mail or identifier. Phone numbers may be shared.

use serde_json::{json, Map, Value};
use switchboard_protocol::chat::Contact;

use crate::forms::{self, Failure, Field, Problem};
use crate::i18n::{Lang, T};

/// The form's fields: API name, DOM id, caption. In [`ContactForm`]'s order.
pub const CONTACT_FIELDS: &[Field] = &[
    ("name", "contact-edit-name", T::Name),
    ("email", "contact-edit-email", T::Email),
    ("phone_number", "contact-edit-phone", T::Phone),
    ("identifier", "contact-edit-identifier", T::Identifier),
];

/// The edit form, as its fields read (or as it was filled in).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactForm {
    pub name: String,
    pub email: String,
    pub phone_number: String,
    pub identifier: String,
}

impl ContactForm {
    /// The form showing a contact's details.
    pub fn of(c: &Contact) -> ContactForm {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        ContactForm {
            name: c.name.clone(),
            email: text(&c.email),
            phone_number: text(&c.phone_number),
            identifier: text(&c.identifier),
        }
    }

    /// The fields in [`CONTACT_FIELDS`]' order.
    pub fn values(&self) -> [&str; 4] {
        [
            &self.name,
            &self.email,
            &self.phone_number,
            &self.identifier,
        ]
    }

    fn slots(&mut self) -> [&mut String; 4] {
        [
            &mut self.name,
            &mut self.email,
            &mut self.phone_number,
            &mut self.identifier,
        ]
    }
}

/// A phone number as it is sent: `+55 (11) 99999-0000` loses its spaces,
/// dashes, dots and brackets; anything else is left for the server to judge.
pub fn phone(text: &str) -> String {
    let t = text.trim();
    let phone_like = t
        .chars()
        .all(|c| c.is_ascii_digit() || "+ -().".contains(c));
    if phone_like {
        t.chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect()
    } else {
        t.to_string()
    }
}

/// What is sent for field `i` of [`CONTACT_FIELDS`] (what the server would
/// store, as far as the console can tell).
fn cleaned(i: usize, text: &str) -> String {
    match CONTACT_FIELDS[i].0 {
        "email" => text.trim().to_lowercase(),
        "phone_number" => phone(text),
        _ => text.trim().to_string(),
    }
}

/// A change to send: the body, and the API names of the fields in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub body: Value,
    pub fields: Vec<&'static str>,
}

/// An edit in progress in the contact panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactEdit {
    pub contact: i64,
    /// What the form's fields were filled with; a field the agent has not
    /// touched follows live changes of the contact.
    pub base: ContactForm,
    /// The save is on its way.
    pub busy: bool,
    /// Why the last save was refused, and the field at fault (DOM id).
    pub error: Option<String>,
    pub invalid: Option<&'static str>,
}

impl ContactEdit {
    pub fn start(c: &Contact) -> ContactEdit {
        ContactEdit {
            contact: c.id,
            base: ContactForm::of(c),
            busy: false,
            error: None,
            invalid: None,
        }
    }

    /// The `PATCH` body with the fields the agent changed; an emptied field
    /// is sent empty (the server clears it). `None`: nothing changed.
    pub fn body(&self, typed: &ContactForm) -> Result<Option<Change>, Problem> {
        // A visitor who never gave a name may stay unnamed ("Visitor #12");
        // a name once given cannot be emptied.
        if typed.name.trim().is_empty() && !self.base.name.trim().is_empty() {
            return Err(Problem::Missing(CONTACT_FIELDS[0].1));
        }
        let mut body = Map::new();
        let mut fields = Vec::new();
        let pairs = typed.values().into_iter().zip(self.base.values());
        for (i, (now, before)) in pairs.enumerate() {
            let now = cleaned(i, now);
            if now != cleaned(i, before) {
                let key = CONTACT_FIELDS[i].0;
                body.insert(key.into(), json!(now));
                fields.push(key);
            }
        }
        if fields.is_empty() {
            return Ok(None);
        }
        Ok(Some(Change {
            body: Value::Object(body),
            fields,
        }))
    }

    /// The contact changed elsewhere while the form is open: the fields the
    /// agent has not touched take the new values, typed ones stay. Returns
    /// the fields to fill in again (DOM id, value).
    pub fn follow(&mut self, typed: &ContactForm, latest: &Contact) -> Vec<(&'static str, String)> {
        let latest = ContactForm::of(latest);
        let mut fills = Vec::new();
        let typed = typed.values();
        let new = latest.values();
        for (i, base) in self.base.slots().into_iter().enumerate() {
            if typed[i] == base.as_str() && new[i] != base.as_str() {
                *base = new[i].to_string();
                fills.push((CONTACT_FIELDS[i].1, new[i].to_string()));
            }
        }
        fills
    }
}

/// A refused save, in the form's words: the field at fault (DOM id) when
/// one is known, and what to say under the form. `None`: the server said
/// nothing about the form's fields (say what it said).
pub fn refusal(f: &Failure, sent: &[&str], lang: Lang) -> Option<(Option<&'static str>, String)> {
    if let Some((id, text)) = forms::explain(f, CONTACT_FIELDS, lang) {
        return Some((Some(id), text));
    }
    if f.status != 409 {
        return None;
    }
    // The server's conflict names no field; the form knows which of the
    // unique ones it sent.
    let unique: Vec<&Field> = CONTACT_FIELDS
        .iter()
        .filter(|(key, _, _)| matches!(*key, "email" | "identifier") && sent.contains(key))
        .collect();
    match unique.as_slice() {
        [(_, id, caption)] => Some((
            Some(*id),
            lang.tf(T::TakenByAnotherContact, &[("field", lang.t(*caption))]),
        )),
        _ => Some((None, lang.t(T::EmailOrIdentifierTaken).to_string())),
    }
}

#[cfg(test)]
#[path = "form_tests.rs"]
mod tests;
