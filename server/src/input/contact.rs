//! A contact's editable fields, checked: one set of rules for the account
//! API, the Public API and the widget's identity.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Checked, Invalid, MAX_NAME};
use crate::store::ContactFields;

/// Largest `custom_attributes` of a contact, as JSON.
pub(crate) const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;

/// A contact's editable fields, as both the account API and the public
/// client API take them.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ContactFieldsBody {
    pub name: Option<String>,
    /// An empty string clears it, as for phone and identifier.
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub identifier: Option<String>,
    /// Merged into the existing ones, as Chatwoot does.
    pub custom_attributes: Option<Map<String, Value>>,
}

/// Applies the given fields onto `fields`, validating each.
pub(crate) fn apply(body: &ContactFieldsBody, fields: &mut ContactFields) -> Checked<()> {
    if let Some(name) = &body.name {
        fields.name = super::optional_text("name", Some(name), MAX_NAME)?.unwrap_or_default();
    }
    if let Some(email) = &body.email {
        fields.email = match email.trim() {
            "" => None,
            e => Some(super::email(e)?),
        };
    }
    if let Some(phone) = &body.phone_number {
        fields.phone_number = match phone.trim() {
            "" => None,
            p => Some(super::phone(p)?),
        };
    }
    if let Some(identifier) = &body.identifier {
        fields.identifier = super::optional_text("identifier", Some(identifier), MAX_NAME)?;
    }
    if let Some(attributes) = &body.custom_attributes {
        // Chatwoot merges custom attributes into the existing ones.
        let mut merged = fields
            .custom_attributes
            .as_object()
            .cloned()
            .unwrap_or_default();
        merged.extend(attributes.clone());
        let merged = Value::Object(merged);
        if merged.to_string().len() > MAX_ATTRIBUTES_BYTES {
            return Err(Invalid::of(
                "custom_attributes",
                "are too large (16 KiB at most)",
            ));
        }
        fields.custom_attributes = merged;
    }
    Ok(())
}
