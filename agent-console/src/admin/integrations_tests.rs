use super::*;
use switchboard_protocol::api::Payload;

const APPS: &str = r#"{"payload": [
  {"id": "agendor", "name": "Agendor", "description": "Contacts and deals in Agendor",
   "hook_type": "account", "enabled": true, "allow_multiple_hooks": false,
   "hooks": [{"id": 3, "app_id": "agendor", "account_id": 1, "inbox_id": null,
     "status": true, "hook_type": "account",
     "settings": {"api_token_set": true, "api_token_hint": "…1234",
       "base_url": "https://api.agendor.com.br/v3", "inbox_ids": [2, 5],
       "contact_type": "organization", "create_deal": true,
       "deal_title": "{{contact.name}}", "funnel_id": 12, "deal_stage": 2,
       "add_note": false, "note_text": "Veja {{conversation.url}}"},
     "health": {"last_success_at": 1777638896, "last_error": null, "last_error_at": null}}]}
]}"#;

fn apps() -> Vec<IntegrationApp> {
    serde_json::from_str::<Payload<IntegrationApp>>(APPS)
        .expect("apps")
        .payload
}

fn new_form() -> AgendorForm {
    let mut f = AgendorForm::of(None);
    f.api_token = " tok-5678 ".into();
    f
}

#[test]
fn parses_the_apps_and_the_hook() {
    let apps = apps();
    let app = agendor(&apps).expect("agendor");
    assert_eq!(app.name, "Agendor");
    assert!(app.enabled);
    let hook = agendor_hook(&apps).expect("hook");
    assert_eq!(hook.id, 3);
    assert!(hook.status);
    assert_eq!(hook.inbox_id, None);
    let s = &hook.settings;
    assert!(s.api_token_set);
    assert_eq!(s.api_token_hint.as_deref(), Some("…1234"));
    assert_eq!(s.inbox_ids, vec![2, 5]);
    assert_eq!(s.contact_type, "organization");
    assert_eq!((s.funnel_id, s.deal_stage), (Some(12), Some(2)));
    assert_eq!(hook.health.last_success_at, Some(1_777_638_896));
}

#[test]
fn a_bare_app_and_a_sparse_hook_parse_with_defaults() {
    let apps: Payload<IntegrationApp> =
        serde_json::from_str(r#"{"payload": [{"id": "agendor", "name": "Agendor"}]}"#).unwrap();
    assert_eq!(agendor_hook(&apps.payload), None);
    let hook: Hook =
        serde_json::from_str(r#"{"id": 4, "app_id": "agendor", "status": 0, "settings": {}}"#)
            .unwrap();
    assert!(!hook.status);
    assert_eq!(hook.settings, AgendorSettings::default());
    assert_eq!(hook.health, Health::default());
    let on: Hook = serde_json::from_str(r#"{"id": 4, "app_id": "agendor", "status": 1}"#).unwrap();
    assert!(on.status);
}

#[test]
fn creating_needs_a_token_and_sends_every_setting() {
    let mut f = AgendorForm::of(None);
    assert!(f.enabled, "a new connection starts enabled");
    assert_eq!(f.body(true), Err(Invalid("api_token")));
    f.api_token = " tok-5678 ".into();
    assert_eq!(
        f.body(true).unwrap(),
        json!({"app_id": "agendor", "status": 1, "settings": {
            "api_token": "tok-5678", "base_url": DEFAULT_BASE_URL, "inbox_ids": [],
            "contact_type": "person", "create_deal": false, "deal_title": DEFAULT_DEAL_TITLE,
            "funnel_id": null, "deal_stage": null, "add_note": true,
            "note_text": DEFAULT_NOTE_TEXT}})
    );
}

#[test]
fn updating_leaves_out_a_blank_token() {
    let apps = apps();
    let mut f = AgendorForm::of(agendor_hook(&apps));
    assert_eq!(f.api_token, "", "the stored token is never shown");
    assert_eq!(f.funnel_id, "12");
    f.enabled = false;
    let body = f.body(false).unwrap();
    assert_eq!(body["status"], 0);
    assert_eq!(body.get("app_id"), None);
    assert_eq!(body["settings"].get("api_token"), None);
    assert_eq!(body["settings"]["inbox_ids"], json!([2, 5]));
    assert_eq!(body["settings"]["contact_type"], "organization");
    assert_eq!(body["settings"]["deal_stage"], 2);
    f.api_token = "new-token".into();
    assert_eq!(f.body(false).unwrap()["settings"]["api_token"], "new-token");
}

#[test]
fn no_inbox_ticked_means_every_inbox() {
    let mut f = new_form();
    assert_eq!(f.body(true).unwrap()["settings"]["inbox_ids"], json!([]));
    f.inbox_ids = vec![7, 3, 7];
    assert_eq!(
        f.body(true).unwrap()["settings"]["inbox_ids"],
        json!([3, 7])
    );
}

#[test]
fn numbers_must_be_positive_and_addresses_web_ones() {
    let mut f = new_form();
    f.funnel_id = "0".into();
    assert_eq!(f.body(true), Err(Invalid("funnel_id")));
    f.funnel_id = " 42 ".into();
    f.deal_stage = "first".into();
    assert_eq!(f.body(true), Err(Invalid("deal_stage")));
    f.deal_stage = "1".into();
    let s = f.body(true).unwrap()["settings"].clone();
    assert_eq!(
        (s["funnel_id"].clone(), s["deal_stage"].clone()),
        (json!(42), json!(1))
    );
    f.base_url = "javascript:alert(1)".into();
    assert_eq!(f.body(true), Err(Invalid("base_url")));
    f.base_url = " ".into();
    assert_eq!(
        f.body(true).unwrap()["settings"]["base_url"],
        DEFAULT_BASE_URL
    );
}

#[test]
fn empty_templates_fall_back_to_the_defaults() {
    let mut f = new_form();
    f.create_deal = true;
    f.deal_title = "  ".into();
    f.add_note = true;
    f.note_text = String::new();
    f.contact_type = "organization".into();
    let s = f.body(true).unwrap()["settings"].clone();
    assert_eq!(s["deal_title"], DEFAULT_DEAL_TITLE);
    assert_eq!(s["note_text"], DEFAULT_NOTE_TEXT);
    assert_eq!(s["contact_type"], "organization");
    assert_eq!(
        (s["create_deal"].clone(), s["add_note"].clone()),
        (json!(true), json!(true))
    );
}

#[test]
fn saved_and_removed_hooks_replace_the_listed_one() {
    let mut apps = apps();
    let mut hook = agendor_hook(&apps).unwrap().clone();
    hook.status = false;
    replace_hook(&mut apps, Some(hook));
    assert!(!agendor(&apps).unwrap().enabled);
    assert!(!agendor_hook(&apps).unwrap().status);
    replace_hook(&mut apps, None);
    assert_eq!(agendor_hook(&apps), None);
}

#[test]
fn health_tells_the_last_success_and_error() {
    let t = 1_777_638_896; // 2026-05-01 12:34 UTC
    let h = Health {
        last_success_at: Some(t),
        last_error: Some("401: invalid token".into()),
        last_error_at: Some(t + 86_400),
    };
    assert_eq!(
        health_lines(&h, Lang::En, t + 86_400, 0),
        vec![
            "Last success: 05/01 12:34".to_string(),
            "Last error: 12:34 — 401: invalid token".to_string(),
        ]
    );
    assert_eq!(
        health_lines(&Health::default(), Lang::PtBr, t, 0),
        vec![Lang::PtBr.t(T::NoSyncYet).to_string()]
    );
    let undated = Health {
        last_error: Some("boom".into()),
        ..Health::default()
    };
    assert_eq!(
        health_lines(&undated, Lang::En, t, 0),
        vec!["Last error: boom"]
    );
}
