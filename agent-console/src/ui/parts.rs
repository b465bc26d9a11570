//! Small pieces the settings screens share: a read-only value with a Copy
//! button (callback URLs, tokens, secrets), and marking the field a
//! refused form points at.

use crate::dom::{self, h, H};
use crate::forms::Field;
use crate::i18n::{Lang, T};
use crate::state::Data;

/// A caption, the value in a read-only input `#id`, a Copy button
/// `#id-copy`, and an optional help line.
pub(super) fn copy_field(
    id: &str,
    caption: &str,
    value: &str,
    help: Option<&str>,
    lang: Lang,
) -> Option<H> {
    Some(
        h("div")?
            .class("field copy-field")
            .child(h("span")?.class("caption").text(caption))
            .child(
                h("div")?
                    .class("copy-row")
                    .child(
                        h("input")?
                            .id(id)
                            .class("mono")
                            .attr("type", "text")
                            .attr("readonly", "")
                            .attr("spellcheck", "false")
                            .attr("aria-label", caption)
                            .value(value),
                    )
                    .child(
                        h("button")?
                            .id(&format!("{id}-copy"))
                            .class("ghost")
                            .attr("type", "button")
                            .act("copy")
                            .data("target", id)
                            .text(lang.t(T::Copy)),
                    ),
            )
            .child(help.and_then(|text| h("p").map(|p| p.class("help").text(text)))),
    )
}

/// The Copy buttons of these fields: "Copied" on the one just used.
pub(super) fn copy_labels<'a>(ids: impl IntoIterator<Item = &'a str>, d: &Data) {
    let copied = d.forms.channels.copied.as_ref().map(|(id, _)| id.as_str());
    for id in ids {
        if let Some(button) = dom::by_id(&format!("{id}-copy")) {
            let key = if copied == Some(id) {
                T::Copied
            } else {
                T::Copy
            };
            dom::set_text(&button, d.lang.t(key));
        }
    }
}

/// Marks the field a refusal points at (`invalid`, a DOM id) and clears
/// the others of the form.
pub(super) fn mark_invalid(table: &[Field], invalid: Option<&str>) {
    for (_, id, _) in table {
        if let Some(e) = dom::by_id(id) {
            let on = invalid == Some(*id);
            dom::toggle_class(&e, "invalid", on);
            dom::set_attr(&e, "aria-invalid", if on { "true" } else { "false" });
        }
    }
}

/// A text input with a name, for the settings forms.
pub(super) fn input(id: &str, kind: &str, value: &str) -> Option<H> {
    Some(
        h("input")?
            .id(id)
            .attr("type", kind)
            .attr("spellcheck", "false")
            .value(value),
    )
}

/// A write-only input (tokens, secrets): never filled in, never saved by
/// the browser.
pub(super) fn secret(id: &str, placeholder: &str) -> Option<H> {
    Some(
        input(id, "password", "")?
            .attr("autocomplete", "new-password")
            .attr("placeholder", placeholder),
    )
}
