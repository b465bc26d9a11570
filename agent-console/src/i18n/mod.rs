//! English and Brazilian Portuguese. The words follow the product's help
//! pages (Caixas de entrada → Colaboradores, Atribuição de conversa, Ações
//! da conversa, Seu nome completo), so what an agent reads in a tutorial is
//! what they find on screen.
//!
//! Strings live in `text.rs` as one `(English, Portuguese)` pair
//! per key: a missing translation is a compile error, not a blank label.
//! The server's error codes in these words are in [`errors`]; times,
//! dates and names as shown in [`format`].

pub mod errors;
pub mod format;
mod text;

pub use text::T;

/// The console's languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    PtBr,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::PtBr];

    /// The BCP 47 tag, as stored and as put on `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::PtBr => "pt-BR",
        }
    }

    /// The language's own name, for the picker.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::PtBr => "Português (Brasil)",
        }
    }

    /// Any English or Portuguese tag (`pt`, `pt-PT`, `en-GB`...).
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "pt" => Some(Lang::PtBr),
            _ => None,
        }
    }

    /// The first of the browser's preferred languages we speak; English
    /// when none is.
    pub fn pick<'a>(stored: Option<&str>, browser: impl IntoIterator<Item = &'a str>) -> Lang {
        stored
            .and_then(Lang::parse)
            .or_else(|| browser.into_iter().find_map(Lang::parse))
            .unwrap_or(Lang::En)
    }

    pub fn t(self, key: T) -> &'static str {
        let (en, pt) = key.pair();
        match self {
            Lang::En => en,
            Lang::PtBr => pt,
        }
    }

    /// `t` with `{name}` placeholders filled in.
    pub fn tf(self, key: T, args: &[(&str, &str)]) -> String {
        fill(self.t(key), args)
    }

    /// An activity line, written by the server in English, in this language.
    /// Lines we do not know are shown as they came.
    pub fn activity(self, line: &str) -> String {
        if self == Lang::En {
            return line.to_string();
        }
        for (en, pt) in ACTIVITY {
            if let Some(values) = match_template(en, line) {
                let args: Vec<(&str, &str)> = ["a", "b", "c"]
                    .into_iter()
                    .zip(values.iter().map(String::as_str))
                    .collect();
                return fill(pt, &args);
            }
        }
        line.to_string()
    }
}

fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The server's activity lines (see the README on automatic assignment).
/// Longer templates first, so a prefix never shadows them.
const ACTIVITY: &[(&str, &str)] = &[
    (
        "Reassigned to {a} automatically: no reply from {b} in {c} seconds",
        "Reatribuída a {a} automaticamente: {b} não respondeu em {c} segundos",
    ),
    (
        "Assigned to {a} automatically: {b} is away",
        "Atribuída a {a} automaticamente: {b} está ausente",
    ),
    (
        "Assigned to {a} automatically",
        "Atribuída a {a} automaticamente",
    ),
    ("Assigned to {a} by {b}", "Atribuída a {a} por {b}"),
    (
        "{a} self-assigned this conversation",
        "{a} assumiu esta conversa",
    ),
    (
        "Conversation unassigned by {a}",
        "Conversa sem responsável, por {a}",
    ),
    (
        "Conversation was marked resolved by {a}",
        "Conversa marcada como resolvida por {a}",
    ),
    (
        "Conversation was resolved by {a}",
        "Conversa resolvida por {a}",
    ),
    (
        "Conversation was reopened by {a}",
        "Conversa reaberta por {a}",
    ),
    (
        "Conversation was marked as pending by {a}",
        "Conversa marcada como pendente por {a}",
    ),
    ("Conversation was snoozed by {a}", "Conversa adiada por {a}"),
    (
        "Returned to the queue: no reply from {a} in {b} seconds",
        "Devolvida para a fila: {a} não respondeu em {b} segundos",
    ),
    (
        "Returned to the queue: {a} is no longer a collaborator",
        "Devolvida para a fila: {a} não é mais colaborador(a)",
    ),
    (
        "Returned to the queue: {a} is away",
        "Devolvida para a fila: {a} está ausente",
    ),
    (
        "Returned to the queue: {a} went offline",
        "Devolvida para a fila: {a} ficou offline",
    ),
];

/// The values of `{x}` placeholders when `line` has the template's shape.
/// Literal pieces must appear in order; the last one must end the line.
fn match_template(template: &str, line: &str) -> Option<Vec<String>> {
    let mut literals = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        literals.push(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        rest = &rest[close + 1..];
    }
    let tail = rest;
    let mut values = Vec::new();
    let mut pos = line.strip_prefix(literals.first().copied().unwrap_or(""))?;
    for literal in literals.iter().skip(1) {
        let at = pos.find(literal)?;
        values.push(pos[..at].to_string());
        pos = &pos[at + literal.len()..];
    }
    let last = pos.strip_suffix(tail)?;
    values.push(last.to_string());
    if values.iter().any(String::is_empty) {
        return None;
    }
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_stored_then_browser_then_english() {
        assert_eq!(Lang::pick(Some("pt-BR"), ["en-US"]), Lang::PtBr);
        assert_eq!(Lang::pick(None, ["de", "pt-PT", "en"]), Lang::PtBr);
        assert_eq!(Lang::pick(Some("xx"), ["en-GB"]), Lang::En);
        assert_eq!(Lang::pick(None, ["fr"]), Lang::En);
    }

    #[test]
    fn fills_placeholders() {
        assert_eq!(
            Lang::PtBr.tf(T::IsTyping, &[("name", "Joana")]),
            "Joana está digitando…"
        );
        assert_eq!(
            Lang::En.tf(T::IsTyping, &[("name", "Joana")]),
            "Joana is typing…"
        );
    }

    #[test]
    fn translates_activity_lines() {
        let pt = Lang::PtBr;
        assert_eq!(
            pt.activity("Assigned to Ana automatically"),
            "Atribuída a Ana automaticamente"
        );
        assert_eq!(
            pt.activity("Assigned to Bruno Lima by Ana"),
            "Atribuída a Bruno Lima por Ana"
        );
        assert_eq!(
            pt.activity("Reassigned to Carla automatically: no reply from Bruno in 30 seconds"),
            "Reatribuída a Carla automaticamente: Bruno não respondeu em 30 segundos"
        );
        assert_eq!(
            pt.activity("Returned to the queue: Bruno is away"),
            "Devolvida para a fila: Bruno está ausente"
        );
        assert_eq!(pt.activity("Something new"), "Something new");
        assert_eq!(
            Lang::En.activity("Assigned to Ana automatically"),
            "Assigned to Ana automatically"
        );
    }

    #[test]
    fn every_key_has_both_languages() {
        for key in T::ALL {
            let (en, pt) = key.pair();
            assert!(!en.is_empty() && !pt.is_empty(), "{key:?}");
        }
    }
}
