//! Inboxes of every channel and their outbound calls, run from the
//! console by an administrator: a WhatsApp inbox (a number the server
//! refuses first, the refusal shown next to the form) whose page shows
//! the callback URL and verify token for Meta's dashboard; an account
//! webhook added in Settings → Integrations → Webhooks; an API inbox whose
//! callback URL points at a local receiver. A conversation then makes
//! calls: the inbox's page lists its callback as delivered, and the
//! webhook's page shows why its call failed (a 410) and delivers it on
//! Retry. Last, the WhatsApp number is disconnected and connected again.

use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{quick_outbox, Db, Env, OWN_URL};
use crate::console::log_in;
use crate::standin::{Reply, StandIn};
use crate::webdriver::Browser;

both_databases!(channels_and_their_deliveries_in_the_console);

const PHONE: &str = "+5511999990000";

/// The value of an input, once it is on the page and not empty.
async fn shown_value(browser: &Browser, what: &str, css: &str) -> String {
    browser
        .wait_for(
            what,
            "const e = document.querySelector(arguments[0]); return e && e.value ? e.value : null;",
            json!([css]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Waits for a row of a delivery log with this status and text; a
/// timeout leaves a screenshot and says what the log and the API showed.
async fn wait_for_row(
    browser: &Browser,
    env: &Env,
    list: &str,
    status: &str,
    text: &str,
    api: &str,
) {
    for _ in 0..250 {
        let found = browser
            .run(
                "return Array.from(document.querySelectorAll(arguments[0] + ' .delivery'))
                    .some(r => r.getAttribute('data-status') === arguments[1]
                               && r.textContent.includes(arguments[2]));",
                json!([list, status, text]),
            )
            .await;
        if found == Value::Bool(true) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let shot = browser.screenshot("console-channels-stuck").await;
    let html = browser
        .run(
            "return document.querySelector(arguments[0])?.outerHTML;",
            json!([list]),
        )
        .await;
    let (_, log) = env.app.get(&env.path(api), &env.admin_token).await;
    panic!(
        "no {status} row with {text:?} in {list} ({}): {html}; the API says {log}",
        shot.display()
    );
}

async fn the_inbox(env: &Env, name: &str) -> Value {
    let (_, list) = env.app.get(&env.path("/inboxes"), &env.admin_token).await;
    list["payload"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["name"] == name).cloned())
        .unwrap_or_else(|| panic!("no inbox {name}: {list}"))
}

async fn channels_and_their_deliveries_in_the_console(db: Db) {
    let Some(browser) = crate::browser(1280, 900).await else {
        return;
    };
    let bridge = StandIn::start().await;
    let receiver = StandIn::start().await;
    // 410 Gone is final at once: the webhook's first call fails.
    receiver.then(Reply::status(410));
    let env = Env::start_with(db, quick_outbox(OWN_URL)).await;
    let t = env.admin_token.clone();
    let base = env.app.base.clone();
    log_in(&browser, &base, "ana@acme.test", "password123").await;

    // A WhatsApp inbox: the server refuses the number first, and says so
    // next to the form, on the field at fault.
    browser.goto(&format!("{base}/app/settings/inboxes")).await;
    browser
        .wait_for(
            "the new inbox form",
            "return !!document.querySelector('#inbox-channel-whatsapp');",
            json!([]),
        )
        .await;
    browser.click("#inbox-channel-whatsapp").await;
    browser
        .wait_for(
            "the WhatsApp fields",
            "return !document.querySelector('.channel-fields[data-channel=whatsapp]').hidden
                 && document.querySelector('.channel-fields[data-channel=web_widget]').hidden;",
            json!([]),
        )
        .await;
    browser.type_into("#inbox-name", "WhatsApp Vendas").await;
    browser.type_into("#inbox-phone", "12").await;
    browser
        .type_into("#inbox-phone-number-id", "106540352242922")
        .await;
    browser
        .type_into("#inbox-business-account-id", "102290129340398")
        .await;
    browser.type_into("#inbox-api-key", "EAAG-test-token").await;
    browser.type_into("#inbox-app-secret", "app-secret-1").await;
    browser.click("#inbox-create").await;
    let refused = browser
        .wait_for(
            "the refusal next to the form",
            "const e = document.querySelector('#inbox-error');
             return e && e.textContent.includes('Phone number')
                 && document.querySelector('#inbox-phone').classList.contains('invalid')
                 ? e.textContent : null;",
            json!([]),
        )
        .await;
    assert!(
        refused.as_str().unwrap_or("").contains("international"),
        "{refused}"
    );
    browser.shot("console-channels-new-inbox", db).await;
    browser.fill("#inbox-phone", "+55 11 99999-0000").await;
    browser.click("#inbox-create").await;
    let callback = shown_value(&browser, "the callback URL", "#whatsapp-callback-url").await;
    let verify = shown_value(&browser, "the verify token", "#whatsapp-verify-token").await;
    let whatsapp = the_inbox(&env, "WhatsApp Vendas").await;
    let wa_id = whatsapp["id"].as_i64().expect("inbox id");
    assert_eq!(callback, format!("{base}/webhooks/whatsapp/{PHONE}"));
    assert_eq!(whatsapp["callback_webhook_url"], callback.as_str());
    assert_eq!(
        whatsapp["provider_config"]["webhook_verify_token"],
        verify.as_str()
    );
    assert_eq!(whatsapp["connected"], true);
    let status = browser
        .run(
            "return document.querySelector('#whatsapp-status').getAttribute('data-status');",
            json!([]),
        )
        .await;
    assert_eq!(status, "connected");
    browser.shot("console-channels-whatsapp", db).await;

    // An account webhook for new conversations, added in Settings →
    // Integrations → Webhooks.
    browser
        .goto(&format!("{base}/app/settings/integrations"))
        .await;
    browser
        .wait_for(
            "the webhooks card",
            "return !!document.querySelector('#webhooks-link');",
            json!([]),
        )
        .await;
    browser.click("#webhooks-link").await;
    browser
        .wait_for(
            "the webhook form",
            "return !!document.querySelector('#webhook-form #webhook-save');",
            json!([]),
        )
        .await;
    let hook_url = format!("{}/hooks/switchboard", receiver.url);
    browser.type_into("#webhook-url", &hook_url).await;
    browser.type_into("#webhook-name", "CRM").await;
    browser
        .run(
            "document.querySelectorAll('#webhook-events input[type=checkbox]').forEach(c => {
                 if (c.checked !== (c.id === 'webhook-event-conversation_created')) c.click();
             });",
            json!([]),
        )
        .await;
    browser.click("#webhook-save").await;
    browser
        .wait_for(
            "the webhook's card",
            "const c = document.querySelector('#webhooks .webhook');
             return c && c.textContent.includes('CRM') && c.querySelector('.delivery-list');",
            json!([]),
        )
        .await;
    let (_, hooks) = env.app.get(&env.path("/webhooks"), &t).await;
    let hook = hooks["payload"]["webhooks"][0].clone();
    let hook_id = hook["id"].as_i64().expect("webhook id");
    assert_eq!(hook["url"], hook_url.as_str(), "{hooks}");
    assert_eq!(hook["subscriptions"], json!(["conversation_created"]));
    let secret = shown_value(
        &browser,
        "the signing secret",
        &format!("#webhook-{hook_id}-secret"),
    )
    .await;
    assert_eq!(hook["secret"], secret.as_str());

    // An API inbox whose callbacks go to the bridge.
    browser.goto(&format!("{base}/app/settings/inboxes")).await;
    browser
        .wait_for(
            "the new inbox form",
            "return !!document.querySelector('#inbox-channel-api');",
            json!([]),
        )
        .await;
    browser.click("#inbox-channel-api").await;
    let bridge_url = format!("{}/switchboard", bridge.url);
    browser.type_into("#inbox-name", "Bridge").await;
    browser.type_into("#inbox-webhook-url", &bridge_url).await;
    browser.click("#inbox-create").await;
    let shown_url = shown_value(&browser, "the callback URL", "#api-webhook-url").await;
    let api_secret = shown_value(&browser, "the inbox secret", "#api-secret").await;
    let identifier = shown_value(&browser, "the identifier", "#api-inbox-identifier").await;
    let api = the_inbox(&env, "Bridge").await;
    let api_id = api["id"].as_i64().expect("inbox id");
    assert_eq!(shown_url, bridge_url);
    assert_eq!(api["webhook_url"], bridge_url.as_str());
    assert_eq!(api["secret"], api_secret.as_str());
    assert_eq!(api["inbox_identifier"], identifier.as_str());

    // A conversation in it: the bridge gets the callback, and the page,
    // left open, lists it as delivered without a reload.
    let (status, contact) = env
        .app
        .post(&env.path("/contacts"), &t, json!({"name": "Joana Lima"}))
        .await;
    assert_eq!(status, 200, "{contact}");
    let contact_id = contact["payload"]["contact"]["id"]
        .as_i64()
        .expect("contact id");
    let (status, conversation) = env
        .app
        .post(
            &env.path("/conversations"),
            &t,
            json!({"inbox_id": api_id, "contact_id": contact_id, "message": {"content": "Oi"}}),
        )
        .await;
    assert_eq!(status, 200, "{conversation}");
    bridge
        .wait_until("the conversation_created callback", |seen| {
            seen.iter()
                .any(|r| r.header("X-Chatwoot-Event") == "conversation_created")
        })
        .await;
    wait_for_row(
        &browser,
        &env,
        &format!("#deliveries-inbox-{api_id}"),
        "delivered",
        "Conversation created",
        &format!("/inboxes/{api_id}/deliveries"),
    )
    .await;
    browser
        .run(
            "document.querySelector('#api-channel').scrollIntoView();",
            json!([]),
        )
        .await;
    browser.shot("console-channels-api", db).await;

    // The webhook's call got a 410: its page says so, and Retry
    // delivers it.
    receiver
        .wait_until("the webhook's first call", |seen| !seen.is_empty())
        .await;
    browser
        .goto(&format!("{base}/app/settings/integrations/webhooks"))
        .await;
    let list = format!("#deliveries-webhook-{hook_id}");
    let api_log = format!("/webhooks/{hook_id}/deliveries");
    wait_for_row(&browser, &env, &list, "failed", "HTTP 410", &api_log).await;
    browser.shot("console-channels-webhook-failed", db).await;
    browser
        .click(&format!(
            "{list} .delivery[data-status=failed] .delivery-retry"
        ))
        .await;
    wait_for_row(&browser, &env, &list, "delivered", "HTTP 200", &api_log).await;
    let calls = receiver.requests();
    assert_eq!(calls.len(), 2, "the failed call and its retry");
    assert_eq!(
        calls[0].header("X-Chatwoot-Delivery"),
        calls[1].header("X-Chatwoot-Delivery"),
        "a retry is the same delivery"
    );
    browser.shot("console-channels-webhooks", db).await;

    // Disconnect the number (two clicks); the page shows it disconnected,
    // and its credentials connect it again with a new verify token.
    browser
        .goto(&format!("{base}/app/settings/inboxes/{wa_id}"))
        .await;
    browser
        .wait_for(
            "Disconnect number",
            "return !!document.querySelector('#whatsapp-disconnect');",
            json!([]),
        )
        .await;
    browser.click("#whatsapp-disconnect").await;
    browser
        .wait_for(
            "the confirmation",
            "return document.querySelector('#whatsapp-disconnect').classList.contains('confirming');",
            json!([]),
        )
        .await;
    browser.click("#whatsapp-disconnect").await;
    browser
        .wait_for(
            "the disconnected number",
            "const s = document.querySelector('#whatsapp-status');
             return s.getAttribute('data-status') === 'disconnected'
                 && !!document.querySelector('#whatsapp-disconnected')
                 && !document.querySelector('#whatsapp-verify-token')
                 && !document.querySelector('#whatsapp-disconnect');",
            json!([]),
        )
        .await;
    let (_, off) = env
        .app
        .get(&env.path(&format!("/inboxes/{wa_id}")), &t)
        .await;
    assert_eq!(off["connected"], false, "{off}");
    assert_eq!(off["provider_config"], Value::Null, "{off}");
    // A fresh load of the page, from GET /inboxes/{id}, says the same.
    browser.refresh().await;
    browser
        .wait_for(
            "the disconnected number after a reload",
            "const s = document.querySelector('#whatsapp-status');
             return !!s && s.getAttribute('data-status') === 'disconnected'
                 && !!document.querySelector('#wa-api-key');",
            json!([]),
        )
        .await;
    browser
        .shot("console-channels-whatsapp-disconnected", db)
        .await;
    browser
        .type_into("#wa-phone-number-id", "106540352242922")
        .await;
    browser
        .type_into("#wa-business-account-id", "102290129340398")
        .await;
    browser.type_into("#wa-api-key", "EAAG-new-token").await;
    browser.type_into("#wa-app-secret", "app-secret-2").await;
    browser.click("#whatsapp-save").await;
    let again = browser
        .wait_for(
            "the number connected again",
            "const s = document.querySelector('#whatsapp-status');
             const v = document.querySelector('#whatsapp-verify-token');
             return s.getAttribute('data-status') === 'connected' && v && v.value ? v.value : null;",
            json!([]),
        )
        .await;
    assert_ne!(again.as_str(), Some(verify.as_str()), "a new verify token");
    let (_, on) = env
        .app
        .get(&env.path(&format!("/inboxes/{wa_id}")), &t)
        .await;
    assert_eq!(on["connected"], true, "{on}");
    assert_eq!(on["provider_config"]["webhook_verify_token"], again);
    browser.quit().await;
}
