use super::*;
use crate::i18n::Lang;

/// A WhatsApp inbox as `GET .../inboxes/{id}` shows it to administrators.
fn inbox(connected: bool) -> Inbox {
    let config = if connected {
        json!({"phone_number_id": "1065", "business_account_id": "1029",
               "webhook_verify_token": "verify-abc"})
    } else {
        Value::Null
    };
    crate::testdata::inbox(json!({
        "id": 4, "name": "WhatsApp", "channel_id": 4, "channel_type": "Channel::Whatsapp",
        "phone_number": "+5511999990000", "provider": "whatsapp_cloud",
        "provider_config": config,
        "callback_webhook_url": "https://chat.acme.test/webhooks/whatsapp/+5511999990000",
        "connected": connected
    }))
}

fn filled(channel: ChannelType) -> NewInbox {
    let mut f = NewInbox::new(channel);
    f.name = " Vendas ".into();
    f.phone_number = "+55 11 99999-0000".into();
    f.phone_number_id = "1065".into();
    f.business_account_id = "1029".into();
    f.api_key = " EAAG ".into();
    f.app_secret = "s3cret".into();
    f
}

#[test]
fn a_whatsapp_inbox_is_sent_as_the_docs_show() {
    let body = filled(ChannelType::Whatsapp).body().unwrap();
    assert_eq!(
        body,
        json!({"name": "Vendas", "channel": {"type": "whatsapp",
            "phone_number": "+55 11 99999-0000", "provider": "whatsapp_cloud",
            "provider_config": {"api_key": "EAAG", "phone_number_id": "1065",
                "business_account_id": "1029", "app_secret": "s3cret"}}})
    );
    let mut f = filled(ChannelType::Whatsapp);
    f.verify_token = "mine".into();
    assert_eq!(
        f.body().unwrap()["channel"]["provider_config"]["webhook_verify_token"],
        "mine"
    );
}

#[test]
fn a_whatsapp_inbox_needs_every_credential() {
    for (field, id) in [
        ("name", "inbox-name"),
        ("phone", "inbox-phone"),
        ("id", "inbox-phone-number-id"),
        ("business", "inbox-business-account-id"),
        ("key", "inbox-api-key"),
        ("secret", "inbox-app-secret"),
    ] {
        let mut f = filled(ChannelType::Whatsapp);
        let slot = match field {
            "name" => &mut f.name,
            "phone" => &mut f.phone_number,
            "id" => &mut f.phone_number_id,
            "business" => &mut f.business_account_id,
            "key" => &mut f.api_key,
            _ => &mut f.app_secret,
        };
        *slot = "  ".into();
        assert_eq!(f.body(), Err(Problem::Missing(id)), "{field}");
    }
}

#[test]
fn api_and_website_inboxes_send_only_their_fields() {
    let mut f = filled(ChannelType::Api);
    assert_eq!(
        f.body().unwrap(),
        json!({"name": "Vendas", "channel": {"type": "api"}})
    );
    f.webhook_url = " http://127.0.0.1:8080/bridge ".into();
    assert_eq!(
        f.body().unwrap()["channel"]["webhook_url"],
        "http://127.0.0.1:8080/bridge"
    );
    f.webhook_url = "bridge.example.com".into();
    assert_eq!(f.body(), Err(Problem::NotWebAddress("inbox-webhook-url")));

    let mut w = filled(ChannelType::WebWidget);
    w.website_url = "https://acme.test".into();
    assert_eq!(
        w.body().unwrap(),
        json!({"name": "Vendas", "channel": {"type": "web_widget", "website_url": "https://acme.test"}})
    );
    w.website_url = "acme.test".into();
    assert_eq!(w.body(), Err(Problem::NotWebAddress("inbox-url")));
}

#[test]
fn reads_a_connected_and_a_disconnected_number() {
    let w = whatsapp(&inbox(true)).unwrap();
    assert!(w.connected);
    assert_eq!(w.phone_number, "+5511999990000");
    assert!(w
        .callback_url
        .ends_with("/webhooks/whatsapp/+5511999990000"));
    assert_eq!(w.verify_token.as_deref(), Some("verify-abc"));
    assert_eq!(w.phone_number_id.as_deref(), Some("1065"));
    let off = whatsapp(&inbox(false)).unwrap();
    assert!(!off.connected);
    assert_eq!(off.verify_token, None);
    assert_eq!(off.phone_number_id, None);
    let mut other = inbox(true);
    other.channel_type = ChannelType::Api;
    assert_eq!(whatsapp(&other), None);
}

#[test]
fn changing_credentials_sends_only_what_was_typed() {
    let w = whatsapp(&inbox(true)).unwrap();
    let mut f = Credentials::of(&w);
    assert_eq!(f.phone_number_id, "1065");
    assert_eq!(f.verify_token, "verify-abc");
    assert_eq!((f.api_key.as_str(), f.app_secret.as_str()), ("", ""));
    assert_eq!(f.body(&w), Ok(None), "nothing changed");
    f.api_key = " EAAG-new ".into();
    assert_eq!(
        f.body(&w),
        Ok(Some(
            json!({"channel": {"provider_config": {"api_key": "EAAG-new"}}})
        ))
    );
    f.phone_number_id = String::new();
    f.business_account_id = "2000".into();
    f.verify_token = "other".into();
    assert_eq!(
        f.body(&w).unwrap().unwrap()["channel"]["provider_config"],
        json!({"api_key": "EAAG-new", "business_account_id": "2000",
               "webhook_verify_token": "other"})
    );
}

#[test]
fn reconnecting_needs_every_credential_again() {
    let w = whatsapp(&inbox(false)).unwrap();
    let mut f = Credentials::of(&w);
    assert_eq!(f, Credentials::default());
    assert_eq!(f.body(&w), Err(Problem::Missing("wa-phone-number-id")));
    f.phone_number_id = "1065".into();
    f.business_account_id = "1029".into();
    f.api_key = "EAAG".into();
    assert_eq!(f.body(&w), Err(Problem::Missing("wa-app-secret")));
    f.app_secret = "s3cret".into();
    assert_eq!(
        f.body(&w).unwrap().unwrap()["channel"]["provider_config"],
        json!({"phone_number_id": "1065", "business_account_id": "1029",
               "api_key": "EAAG", "app_secret": "s3cret"})
    );
}

#[test]
fn the_callback_url_may_be_cleared() {
    assert_eq!(
        api_webhook_body(" "),
        Ok(json!({"channel": {"webhook_url": ""}}))
    );
    assert_eq!(
        api_webhook_body("https://bridge.test/in").unwrap()["channel"]["webhook_url"],
        "https://bridge.test/in"
    );
    assert_eq!(
        api_webhook_body("javascript:alert(1)"),
        Err(Problem::NotWebAddress("api-webhook-url"))
    );
}

#[test]
fn every_field_has_a_caption_in_both_languages() {
    for table in [NEW_INBOX_FIELDS, CREDENTIAL_FIELDS, API_FIELDS] {
        for (_, id, _) in table {
            for lang in Lang::ALL {
                let text = Problem::Missing(id).text(table, lang);
                assert!(!text.starts_with(':'), "{id}: {text}");
            }
        }
    }
}
