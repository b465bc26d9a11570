//! The Agendor integration in the console: a contact synced to the CRM shows
//! its Agendor links in the conversation's contact panel; a contact whose
//! sync failed shows the reason and a Retry that syncs it.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::agendor_fake::FakeAgendor;
use crate::both_databases;
use crate::common::{Db, Env, OWN_URL};

both_databases!(the_contact_panel_links_to_agendor);

async fn the_contact_panel_links_to_agendor(db: Db) {
    let Some(browser) = crate::browser(1280, 800).await else {
        return;
    };
    let fake = FakeAgendor::start("agendor-token").await;
    let env = Env::start_with(db, crate::common::quick_outbox(OWN_URL)).await;
    let t = env.admin_token.as_str();
    let (_, inbox) = env
        .app
        .post(
            &env.path("/inboxes"),
            t,
            json!({"name": "Bridge", "channel": {"type": "api"}}),
        )
        .await;
    // The administrator connects Agendor in Settings → Integrations, with
    // a wrong token first: the sync fails and the panel says why.
    crate::console::log_in(&browser, &env.app.base, "ana@acme.test", "password123").await;
    browser
        .goto(&format!("{}/app/settings/integrations", env.app.base))
        .await;
    browser
        .wait_for(
            "the Agendor form",
            "return !!document.querySelector('#agendor-form #agendor-save');",
            json!([]),
        )
        .await;
    browser
        .run(
            "const i = document.querySelector('#agendor-base-url');
             i.value = ''; i.dispatchEvent(new Event('input', {bubbles: true}));",
            json!([]),
        )
        .await;
    browser.type_into("#agendor-base-url", &fake.base_url).await;
    browser.type_into("#agendor-token", "wrong-token").await;
    browser
        .run(
            "const c = document.querySelector('#agendor-create-deal');
             if (!c.checked) { c.click(); }",
            json!([]),
        )
        .await;
    browser.click("#agendor-save").await;
    browser
        .wait_for(
            "the connected integration",
            "const h = document.querySelector('#agendor-status');
             return h && h.textContent.includes('Connected') ? h.textContent : null;",
            json!([]),
        )
        .await;
    let path = browser
        .screenshot(&format!("console-agendor-settings-{db:?}"))
        .await;
    eprintln!("screenshot: {}", path.display());
    let (_, apps) = env.app.get(&env.path("/integrations/apps"), t).await;
    let hook = apps["payload"][0]["hooks"][0].clone();
    assert_eq!(
        hook["settings"]["base_url"],
        fake.base_url.as_str(),
        "{apps}"
    );
    assert_eq!(hook["settings"]["create_deal"], true, "{apps}");
    assert_eq!(hook["settings"]["api_token_set"], true, "{apps}");
    assert_eq!(hook["settings"]["add_note"], true, "{apps}");

    let base = format!(
        "/public/api/v1/inboxes/{}",
        inbox["inbox_identifier"].as_str().expect("identifier")
    );
    let (_, me) = env
        .app
        .call(
            Method::POST,
            &format!("{base}/contacts"),
            None,
            Some(json!({"name": "Joana Lima", "phone_number": "+5511988887777"})),
        )
        .await;
    let source = me["source_id"].as_str().expect("source");
    let (_, c) = env
        .app
        .call(
            Method::POST,
            &format!("{base}/contacts/{source}/conversations"),
            None,
            None,
        )
        .await;
    let id = c["id"].as_i64().expect("conversation");

    browser
        .goto(&format!("{}/app/conversations/{id}", env.app.base))
        .await;
    let failed = browser
        .wait_for(
            "the failed sync",
            "const s = document.querySelector('#crm-link .crm-status');
             const r = document.querySelector('#crm-retry');
             return s && r && document.querySelector('#crm-link').textContent.includes('401')
                 ? document.querySelector('#crm-link').textContent : null;",
            json!([]),
        )
        .await;
    assert!(failed.as_str().unwrap_or("").contains("token"), "{failed}");
    let path = browser
        .screenshot(&format!("console-crm-failed-{db:?}"))
        .await;
    eprintln!("screenshot: {}", path.display());

    // The administrator fixes the token; the agent presses Retry.
    let (status, _) = env
        .app
        .call(
            Method::PATCH,
            &env.path(&format!("/integrations/hooks/{}", hook["id"])),
            Some(t),
            Some(json!({"settings": {"api_token": "agendor-token"}})),
        )
        .await;
    assert_eq!(status, 200);
    browser.click("#crm-retry").await;
    // Polled here rather than with `wait_for`, so a timeout leaves a
    // screenshot and says what the panel and the server showed.
    let mut links = serde_json::Value::Null;
    for _ in 0..200 {
        links = browser
            .run(
                "const a = document.querySelector('#crm-record-link');
                 const d = document.querySelector('#crm-deal-link');
                 return a && d ? [a.href, d.href, a.target] : null;",
                json!([]),
            )
            .await;
        if !links.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if links.is_null() {
        let shot = browser
            .screenshot(&format!("console-crm-stuck-{db:?}"))
            .await;
        let panel = browser
            .run(
                "return document.querySelector('#crm-link')?.outerHTML;",
                json!([]),
            )
            .await;
        let (_, contact) = env.app.get(&env.path("/contacts?page=1"), t).await;
        panic!(
            "the Agendor links never showed ({}); panel: {panel}; contacts: {contact}; agendor saw: {:?}",
            shot.display(),
            fake.seen()
        );
    }
    let people = fake.people();
    assert_eq!(people.len(), 1);
    assert_eq!(links[0], people[0]["_webUrl"], "{links}");
    assert_eq!(links[1], fake.deals()[0]["_webUrl"], "{links}");
    assert_eq!(links[2], "_blank");
    assert_eq!(fake.tasks().len(), 1, "the note, on by default");
    let path = browser.screenshot(&format!("console-crm-{db:?}")).await;
    eprintln!("screenshot: {}", path.display());
    browser.quit().await;
}
