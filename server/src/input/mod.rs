//! Checks on input fields, each returning the cleaned value or an
//! [`Invalid`] that names the field and says why with a stable code.
//!
//! Domain code (inbox settings, CRM settings, WhatsApp templates) checks its
//! input here and knows nothing of HTTP; the edge turns an [`Invalid`] into
//! a 422 (`crate::http::error::ApiError`) or a socket's error frame.

use serde::{Deserialize, Deserializer};

mod contact;
mod message;

pub(crate) use contact::{apply as apply_contact, ContactFieldsBody};
pub(crate) use message::{content, echo_id, outgoing};

/// A field that is not acceptable: which, why (a stable code clients
/// translate: `blank`, `too_long`, `invalid_email`, ...) and a sentence for
/// people, in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    /// `field` refused with `code` and `message`.
    pub fn new(field: &str, code: &'static str, message: impl Into<String>) -> Invalid {
        Invalid {
            field: field.to_string(),
            code,
            message: message.into(),
        }
    }

    /// Refused with the generic code `invalid`.
    pub fn of(field: &str, message: impl Into<String>) -> Invalid {
        Invalid::new(field, "invalid", message)
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

impl std::error::Error for Invalid {}

/// A checked value, or the field at fault.
pub(crate) type Checked<T> = Result<T, Invalid>;

/// Longest name, title or short text field, in characters.
pub(crate) const MAX_NAME: usize = 255;
/// Longest free text field (greeting, out-of-office message), in characters.
pub(crate) const MAX_TEXT: usize = 10_000;

/// A required human name: trimmed, 1..=255 characters, no control characters.
pub(crate) fn name(field: &str, value: &str) -> Checked<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Invalid::new(field, "blank", "can't be blank"));
    }
    text(field, value, MAX_NAME)
}

/// Free text up to `max` characters; line breaks allowed, other control
/// characters not.
pub(crate) fn text(field: &str, value: &str, max: usize) -> Checked<String> {
    if value.chars().count() > max {
        return Err(Invalid::new(
            field,
            "too_long",
            format!("is too long (maximum is {max} characters)"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(Invalid::new(
            field,
            "control_characters",
            "contains control characters",
        ));
    }
    Ok(value.to_string())
}

/// Optional free text: empty or blank becomes `None`.
pub(crate) fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Checked<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

/// An e-mail address, lower-cased. Deliberately loose (one `@`, a dot in the
/// domain, no spaces): the only real check is that mail arrives.
pub(crate) fn email(value: &str) -> Checked<String> {
    let value = value.trim().to_lowercase();
    let valid = value.len() <= 254
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid {
        Ok(value)
    } else {
        Err(Invalid::new(
            "email",
            "invalid_email",
            "is not a valid email address",
        ))
    }
}

/// A phone number in E.164 form: `+` and 2 to 15 digits, the first not 0.
pub(crate) fn phone(value: &str) -> Checked<String> {
    let digits = value.strip_prefix('+').unwrap_or("");
    if (2..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
    {
        Ok(value.to_string())
    } else {
        Err(Invalid::new(
            "phone_number",
            "invalid_phone",
            "must be in E.164 form, like +5511999998888",
        ))
    }
}

/// Length only (8..=128 characters): long passphrases beat composition rules.
pub(crate) fn password(value: &str) -> Checked<String> {
    let len = value.chars().count();
    if len < 8 {
        return Err(Invalid::new(
            "password",
            "too_short",
            "is too short (minimum is 8 characters)",
        ));
    }
    if len > 128 {
        return Err(Invalid::new(
            "password",
            "too_long",
            "is too long (maximum is 128 characters)",
        ));
    }
    Ok(value.to_string())
}

/// An absolute http(s) URL.
pub(crate) fn url(field: &str, value: Option<&str>) -> Checked<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.len() > 2048 => Err(Invalid::new(field, "too_long", "is too long")),
        Some(v)
            if (v.starts_with("https://") || v.starts_with("http://"))
                && v.len() > "https://".len()
                && !v.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(Some(v.to_string()))
        }
        Some(_) => Err(Invalid::new(
            field,
            "invalid_url",
            "must be an http:// or https:// URL",
        )),
    }
}

/// A CSS hex colour: `#rgb` or `#rrggbb`.
pub(crate) fn color(value: Option<&str>) -> Checked<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v)
            if (v.len() == 4 || v.len() == 7)
                && v.starts_with('#')
                && v[1..].chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            Ok(Some(v.to_lowercase()))
        }
        Some(_) => Err(Invalid::new(
            "widget_color",
            "invalid_color",
            "must be a hex colour like #1f93ff",
        )),
    }
}

/// For fields where `null` means "clear" and absence means "leave alone":
/// use with `#[serde(default, deserialize_with = "present")]` on an
/// `Option<Option<T>>`.
pub(crate) fn present<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// An id sent as a number or as a numeric string (Chatwoot's clients do both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlexId(pub i64);

impl<'de> Deserialize<'de> for FlexId {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        match Raw::deserialize(de) {
            Ok(Raw::Number(n)) => Ok(FlexId(n)),
            Ok(Raw::Text(s)) => s
                .trim()
                .parse()
                .map(FlexId)
                .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a valid id"))),
            Err(_) => Err(serde::de::Error::custom("expected an id (a number)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            email(" Ana@Example.COM ").ok(),
            Some("ana@example.com".into())
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.io",
            "ana@localhost",
            "a b@x.io",
            "a@b@x.io",
            "a@x.",
        ] {
            assert!(email(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  Ana ").ok(), Some("Ana".into()));
        assert!(name("name", "   ").is_err());
        assert!(name("name", &"x".repeat(256)).is_err());
        assert!(name("name", "a\u{0}b").is_err());
    }

    #[test]
    fn colours_and_urls() {
        assert_eq!(color(Some("#1F93FF")).ok(), Some(Some("#1f93ff".into())));
        assert!(color(Some("red")).is_err());
        assert_eq!(
            url("u", Some("https://acme.io")).ok(),
            Some(Some("https://acme.io".into()))
        );
        assert!(url("u", Some("javascript:alert(1)")).is_err());
    }
}
