use super::*;
use crate::testdata::contact_json;

/// An anonymous website visitor, as the server shows one.
fn visitor() -> Contact {
    serde_json::from_str(&contact_json(17, "Visitor f9Qe4a")).expect("contact")
}

fn typed(name: &str, email: &str, phone: &str, identifier: &str) -> ContactForm {
    ContactForm {
        name: name.into(),
        email: email.into(),
        phone_number: phone.into(),
        identifier: identifier.into(),
    }
}

#[test]
fn only_the_changed_fields_are_sent() {
    let edit = ContactEdit::start(&visitor());
    assert_eq!(edit.base, typed("Visitor f9Qe4a", "", "", ""));
    assert_eq!(edit.body(&edit.base.clone()), Ok(None), "nothing changed");
    let change = edit
        .body(&typed(
            "Visitor f9Qe4a ",
            " Joana@Example.com ",
            "+55 (11) 99999-0000",
            "",
        ))
        .unwrap()
        .unwrap();
    assert_eq!(
        change.body,
        json!({"email": "joana@example.com", "phone_number": "+5511999990000"})
    );
    assert_eq!(change.fields, vec!["email", "phone_number"]);
}

#[test]
fn emptied_fields_are_cleared_and_a_name_is_required() {
    let mut c = visitor();
    c.email = Some("joana@example.com".into());
    c.identifier = Some("user-7".into());
    let edit = ContactEdit::start(&c);
    let change = edit
        .body(&typed("Joana Lima", " ", "", "user-7"))
        .unwrap()
        .unwrap();
    assert_eq!(change.body, json!({"name": "Joana Lima", "email": ""}));
    // The same e-mail in other letters is no change (the server lower-cases it).
    assert_eq!(
        edit.body(&typed("Visitor f9Qe4a", "JOANA@example.com", "", "user-7")),
        Ok(None)
    );
    assert_eq!(
        edit.body(&typed("  ", "", "", "")),
        Err(Problem::Missing("contact-edit-name"))
    );
}

#[test]
fn an_unnamed_visitor_may_stay_unnamed() {
    let mut unnamed = visitor();
    unnamed.name = String::new();
    let edit = ContactEdit::start(&unnamed);
    let change = edit
        .body(&typed("", "joana@example.com", "", ""))
        .unwrap()
        .unwrap();
    assert_eq!(change.fields, vec!["email"]);
}

#[test]
fn phone_numbers_lose_their_separators_only() {
    assert_eq!(phone(" +55 11 99999-0000 "), "+5511999990000");
    assert_eq!(phone("+1 (415) 555.0100"), "+14155550100");
    assert_eq!(phone("11 9999"), "119999", "the server refuses it, not us");
    assert_eq!(phone("call me"), "call me");
    assert_eq!(phone(""), "");
}

#[test]
fn a_live_change_fills_untouched_fields_and_keeps_typed_ones() {
    let mut edit = ContactEdit::start(&visitor());
    // The agent is typing a phone number; meanwhile another agent sets the
    // e-mail and the phone.
    let now = typed("Visitor f9Qe4a", "", "+5511", "");
    let mut latest = visitor();
    latest.email = Some("joana@example.com".into());
    latest.phone_number = Some("+5521988887777".into());
    let fills = edit.follow(&now, &latest);
    assert_eq!(
        fills,
        vec![("contact-edit-email", "joana@example.com".to_string())]
    );
    assert_eq!(edit.base.email, "joana@example.com");
    assert_eq!(edit.base.phone_number, "", "the typed field keeps its base");
    // Saving then sends only what the agent typed: the other agent's
    // e-mail is not sent back.
    let after = typed("Visitor f9Qe4a", "joana@example.com", "+5511988880000", "");
    let change = edit.body(&after).unwrap().unwrap();
    assert_eq!(change.body, json!({"phone_number": "+5511988880000"}));
    // The same event again fills nothing.
    assert!(edit.follow(&after, &latest).is_empty());
}

fn failure(status: u16, body: &str) -> Failure {
    Failure::from_response(status, body)
}

#[test]
fn refusals_name_the_field() {
    let bad_email = failure(
        422,
        r#"{"error":"validation_failed","message":"email is not a valid email address","errors":[{"field":"email","message":"is not a valid email address","code":"invalid"}]}"#,
    );
    assert_eq!(
        refusal(&bad_email, &["email"], Lang::En),
        Some((
            Some("contact-edit-email"),
            "E-mail: is not a valid email address".into()
        ))
    );
    let bad_phone = failure(
        422,
        r#"{"error":"validation_failed","message":"phone_number must be in E.164 form, like +5511999998888","errors":[{"field":"phone_number","message":"must be in E.164 form, like +5511999998888","code":"invalid"}]}"#,
    );
    let (field, text) = refusal(&bad_phone, &["phone_number"], Lang::PtBr).unwrap();
    assert_eq!(field, Some("contact-edit-phone"));
    assert!(text.starts_with("Telefone: must be in E.164"), "{text}");
}

#[test]
fn a_conflict_names_the_unique_field_that_was_sent() {
    let taken = failure(
        409,
        r#"{"error":"conflict","message":"a contact with this email or identifier already exists"}"#,
    );
    assert_eq!(
        refusal(&taken, &["name", "email", "phone_number"], Lang::En),
        Some((
            Some("contact-edit-email"),
            "E-mail: already used by another contact".into()
        ))
    );
    assert_eq!(
        refusal(&taken, &["identifier"], Lang::PtBr),
        Some((
            Some("contact-edit-identifier"),
            "Identificador: já usado por outro contato".into()
        ))
    );
    let (field, _) = refusal(&taken, &["email", "identifier"], Lang::En).unwrap();
    assert_eq!(field, None, "either of them");
    assert_eq!(refusal(&Failure::network(), &["email"], Lang::En), None);
    assert_eq!(refusal(&failure(500, "{}"), &["email"], Lang::En), None);
}
