use super::*;
use crate::forms::{explain, Failure};
use crate::i18n::Lang;

/// A website inbox as `GET .../inboxes/{id}` shows it to administrators.
fn website_inbox() -> Inbox {
    crate::testdata::inbox(json!({
        "name": "Website",
        "website_url": "https://acme.test", "website_token": "tok",
        "web_widget_script": "<script></script>", "welcome_title": "Hi there!",
        "widget_color": "#1f93ff", "hmac_token": "hmac-key", "hmac_mandatory": false,
        "pre_chat_form_enabled": false, "pre_chat_form_options": {"pre_chat_message": null}
    }))
}

#[test]
fn reads_a_website_inbox() {
    let f = InboxForm::of(&website_inbox());
    assert_eq!(f.name, "Website");
    assert_eq!(f.website_url, "https://acme.test");
    assert_eq!(f.welcome_title, "Hi there!");
    assert_eq!(f.welcome_tagline, "");
    assert_eq!(f.widget_color, "#1f93ff");
    assert!(!f.pre_chat_enabled && !f.hmac_mandatory);
    assert_eq!(f.pre_chat_message, "");
    let mut bare = website_inbox();
    bare.widget_color = None;
    assert_eq!(InboxForm::of(&bare).widget_color, "#1f93ff");
}

#[test]
fn a_change_made_elsewhere_is_not_undone() {
    // The block was drawn; another administrator then renamed the inbox.
    let inbox = website_inbox();
    let drawn = InboxForm::of(&inbox);
    let mut typed = drawn.clone();
    typed.welcome_title = "Olá!".into();
    assert_eq!(
        typed.body(&drawn, true),
        Ok(Some(json!({"channel": {"welcome_title": "Olá!"}}))),
        "the name, left alone, is not sent"
    );
    let mut renamed = inbox.clone();
    renamed.name = "Vendas".into();
    assert_eq!(
        typed.body(&InboxForm::of(&renamed), true).unwrap().unwrap()["name"],
        "Website",
        "which comparing with the inbox as it is now would send back"
    );
}

#[test]
fn only_what_changed_is_sent() {
    let inbox = website_inbox();
    let mut f = InboxForm::of(&inbox);
    assert_eq!(f.body(&InboxForm::of(&inbox), website(&inbox)), Ok(None));
    f.name = " Site da Acme ".into();
    assert_eq!(
        f.body(&InboxForm::of(&inbox), website(&inbox)),
        Ok(Some(json!({"name": "Site da Acme"})))
    );
    f.name = "Website".into();
    f.widget_color = "#1F93FF".into();
    assert_eq!(
        f.body(&InboxForm::of(&inbox), website(&inbox)),
        Ok(None),
        "the server lower-cases colours"
    );
    f.welcome_tagline = "We reply in minutes".into();
    f.pre_chat_enabled = true;
    f.pre_chat_message = "Tell us who you are".into();
    f.hmac_mandatory = true;
    f.welcome_title = " ".into();
    assert_eq!(
        f.body(&InboxForm::of(&inbox), website(&inbox)),
        Ok(Some(json!({"channel": {
            "welcome_title": "", "welcome_tagline": "We reply in minutes",
            "pre_chat_form_enabled": true,
            "pre_chat_form_options": {"pre_chat_message": "Tell us who you are"},
            "hmac_mandatory": true}})))
    );
}

#[test]
fn checks_what_the_server_would_refuse_first() {
    let inbox = website_inbox();
    let mut f = InboxForm::of(&inbox);
    f.name = "  ".into();
    assert_eq!(
        f.body(&InboxForm::of(&inbox), website(&inbox)),
        Err(Problem::Missing("inbox-edit-name"))
    );
    f.name = "Website".into();
    f.website_url = "acme.test".into();
    assert_eq!(
        f.body(&InboxForm::of(&inbox), website(&inbox)),
        Err(Problem::NotWebAddress("inbox-edit-url"))
    );
    f.website_url = String::new();
    assert_eq!(
        f.body(&InboxForm::of(&inbox), website(&inbox)),
        Ok(Some(json!({"channel": {"website_url": ""}}))),
        "an empty URL clears it"
    );
}

#[test]
fn other_channels_have_only_a_name() {
    let mut inbox = website_inbox();
    inbox.channel_type = ChannelType::Api;
    let mut f = InboxForm::of(&inbox);
    f.website_url = "https://elsewhere.test".into();
    f.hmac_mandatory = true;
    assert_eq!(f.body(&InboxForm::of(&inbox), website(&inbox)), Ok(None));
    f.name = "Bridge".into();
    assert_eq!(
        f.body(&InboxForm::of(&inbox), website(&inbox)),
        Ok(Some(json!({"name": "Bridge"})))
    );
}

#[test]
fn the_servers_refusals_point_at_the_field() {
    let f = Failure::from_response(
        422,
        r#"{"error":"validation_failed","message":"widget_color must be a hex colour like #1f93ff","errors":[{"field":"widget_color","message":"must be a hex colour like #1f93ff","code":"invalid"}]}"#,
    );
    assert_eq!(
        explain(&f, INBOX_SETTINGS_FIELDS, Lang::PtBr),
        Some((
            "inbox-edit-color",
            "Cor: must be a hex colour like #1f93ff".into()
        ))
    );
    for (_, id, _) in INBOX_SETTINGS_FIELDS {
        for lang in Lang::ALL {
            let text = Problem::Missing(id).text(INBOX_SETTINGS_FIELDS, lang);
            assert!(!text.starts_with(':'), "{id}: {text}");
        }
    }
}

#[test]
fn the_widget_language_is_sent_when_changed_and_emptied_to_follow_the_browser() {
    let inbox = website_inbox();
    let drawn = InboxForm::of(&inbox);
    assert_eq!(drawn.locale, "", "unset: each visitor's browser");
    let mut typed = drawn.clone();
    typed.locale = "pt-BR".into();
    assert_eq!(
        typed.body(&drawn, true),
        Ok(Some(json!({"channel": {"locale": "pt-BR"}})))
    );
    let mut set = website_inbox();
    set.locale = Some(Some("pt-BR".into()));
    let drawn = InboxForm::of(&set);
    assert_eq!(drawn.locale, "pt-BR");
    let mut typed = drawn.clone();
    typed.locale = String::new();
    assert_eq!(
        typed.body(&drawn, true),
        Ok(Some(json!({"channel": {"locale": ""}})))
    );
}
