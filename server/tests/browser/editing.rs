//! Editing from the console. An agent opens a website visitor's
//! conversation and edits the contact in its panel: while the form is
//! open another change of the contact arrives live and fills only the
//! field the agent has not touched; a bad e-mail gets the server's refusal
//! under the form and changes nothing; the fixed e-mail and a phone are
//! saved and shown, and the visitor, no longer anonymous, is synced to
//! Agendor. Then an administrator renames an inbox in its Settings block
//! (the new name shows in the inbox list and the conversation lists) and
//! deletes another one with its conversation (two clicks).

use serde_json::{json, Value};

use crate::agendor_fake::FakeAgendor;
use crate::both_databases;
use crate::common::{quick_outbox, Db, Env, OWN_URL};
use crate::console::log_in;
use crate::ws::Ws;

both_databases!(editing_contacts_and_inboxes_in_the_console);

const PASSWORD: &str = "password123";

/// A website inbox; returns its id and widget token.
async fn website(env: &Env, name: &str) -> (i64, String) {
    let (status, inbox) = env
        .app
        .post(
            &env.path("/inboxes"),
            &env.admin_token,
            json!({"name": name, "channel": {"type": "web_widget", "website_url": "https://acme.test"}}),
        )
        .await;
    assert_eq!(status, 200, "{inbox}");
    let token = inbox["website_token"].as_str().expect("token").to_string();
    (inbox["id"].as_i64().expect("inbox id"), token)
}

/// An anonymous visitor writes in; returns the socket, the contact and
/// the conversation.
async fn visitor(env: &Env, token: &str, text: &str) -> (Ws, i64, i64) {
    let (mut ws, _) = Ws::visitor(&env.app, token, None).await;
    ws.send(json!({"type": "start_conversation", "content": text}))
        .await;
    // The first write makes the visitor a contact.
    let identity = ws.event("identity").await;
    let contact = identity["data"]["contact"]["id"].as_i64().expect("contact");
    let ack = ws.event("ack").await;
    let conversation = ack["data"]["conversation_id"].as_i64().expect("id");
    (ws, contact, conversation)
}

async fn contact(env: &Env, id: i64) -> Value {
    let (status, c) = env
        .app
        .get(&env.path(&format!("/contacts/{id}")), &env.admin_token)
        .await;
    assert_eq!(status, 200, "{c}");
    c["payload"].clone()
}

async fn editing_contacts_and_inboxes_in_the_console(db: Db) {
    let Some(browser) = crate::browser(1280, 900).await else {
        return;
    };
    let fake = FakeAgendor::start("agendor-token").await;
    let env = Env::start_with(db, quick_outbox(OWN_URL)).await;
    let t = env.admin_token.clone();
    let base = env.app.base.clone();
    let (site, site_token) = website(&env, "Website").await;
    let (old, old_token) = website(&env, "Loja antiga").await;
    let (status, hook) = env
        .app
        .post(
            &env.path("/integrations/hooks"),
            &t,
            json!({"app_id": "agendor", "status": 1,
                   "settings": {"api_token": "agendor-token", "base_url": fake.base_url}}),
        )
        .await;
    assert_eq!(status, 200, "{hook}");
    env.agent("Bruna Costa", "bruna@acme.test", "agent").await;
    let (_joana, joana, chat) = visitor(&env, &site_token, "Oi, quero um orçamento").await;
    let (_other, _, doomed) = visitor(&env, &old_token, "Ainda vendem?").await;

    // An agent (not an administrator) opens the visitor's conversation
    // and edits the contact: she starts typing a phone number.
    log_in(&browser, &base, "bruna@acme.test", PASSWORD).await;
    browser
        .goto(&format!("{base}/app/conversations/{chat}"))
        .await;
    browser
        .wait_for(
            "the contact panel's Edit",
            "const b = document.querySelector('#contact-panel #contact-edit');
             return !!b && !b.hidden;",
            json!([]),
        )
        .await;
    browser.click("#contact-edit").await;
    browser
        .wait_for(
            "the edit form",
            "return !!document.querySelector('#contact-edit-form #contact-edit-save')
                 && document.querySelector('#contact-edit').hidden;",
            json!([]),
        )
        .await;
    assert_eq!(
        browser.value("#contact-edit-name").await,
        contact(&env, joana).await["name"]
    );
    browser
        .fill("#contact-edit-phone", "+55 11 98888-7777")
        .await;

    // Meanwhile the contact's identifier is set elsewhere: the form takes
    // it, and keeps the phone being typed.
    let (status, _) = env
        .app
        .patch(
            &env.path(&format!("/contacts/{joana}")),
            &t,
            json!({"identifier": "visitor-42"}),
        )
        .await;
    assert_eq!(status, 200);
    browser
        .wait_for(
            "the identifier, live, in the open form",
            "return document.querySelector('#contact-edit-identifier').value === 'visitor-42';",
            json!([]),
        )
        .await;
    assert_eq!(
        browser.value("#contact-edit-phone").await,
        "+55 11 98888-7777"
    );

    // A bad e-mail: the server's refusal under the form, on the field.
    browser
        .fill("#contact-edit-email", "joana.example.com")
        .await;
    browser.click("#contact-edit-save").await;
    let refused = browser
        .wait_for(
            "the refusal under the form",
            "const e = document.querySelector('#contact-edit-error');
             const f = document.querySelector('#contact-edit-email');
             return e && e.textContent.startsWith('E-mail:') && f.classList.contains('invalid')
                 && f.getAttribute('aria-invalid') === 'true' ? e.textContent : null;",
            json!([]),
        )
        .await;
    assert!(
        refused
            .as_str()
            .unwrap_or("")
            .contains("is not a valid e-mail address"),
        "{refused}"
    );
    browser.shot("console-edit-contact", db).await;
    let unchanged = contact(&env, joana).await;
    assert_eq!(unchanged["email"], Value::Null, "{unchanged}");
    assert_eq!(unchanged["phone_number"], Value::Null, "{unchanged}");
    assert_eq!(unchanged["identifier"], "visitor-42");

    // Fixed, and saved: the panel shows the e-mail and the phone.
    browser
        .fill("#contact-edit-email", "Joana@Example.com")
        .await;
    browser.click("#contact-edit-save").await;
    let shown = browser
        .wait_for(
            "the saved contact in the panel",
            "if (document.querySelector('#contact-edit-form')) return null;
             const text = c => document.querySelector('#contact-panel ' + c).textContent;
             return [text('.contact-email'), text('.contact-phone'), text('.contact-identifier')];",
            json!([]),
        )
        .await;
    assert_eq!(
        shown,
        json!(["joana@example.com", "+5511988887777", "visitor-42"])
    );
    let saved = contact(&env, joana).await;
    assert_eq!(saved["email"], "joana@example.com", "{saved}");
    assert_eq!(saved["phone_number"], "+5511988887777", "{saved}");

    // No longer anonymous, the visitor is sent to Agendor, and the
    // panel's CRM block links the record.
    let record = browser
        .wait_for(
            "the contact synced to Agendor",
            "const b = document.querySelector('#crm-link[data-status=synced]');
             const a = document.querySelector('#crm-record-link');
             return b && a ? a.href : null;",
            json!([]),
        )
        .await;
    let people = fake.people();
    assert_eq!(people.len(), 1, "{people:?}");
    assert_eq!(record, people[0]["_webUrl"]);
    browser.shot("console-edit-contact-saved", db).await;

    // An administrator renames the website inbox in its Settings block.
    browser.click("#logout").await;
    log_in(&browser, &base, "ana@acme.test", PASSWORD).await;
    browser
        .goto(&format!("{base}/app/settings/inboxes/{site}"))
        .await;
    browser
        .wait_for(
            "the Settings block",
            "const n = document.querySelector('#inbox-settings #inbox-edit-name');
             return !!n && n.value === 'Website' && !!document.querySelector('#inbox-hmac-token');",
            json!([]),
        )
        .await;
    let (_, before) = env
        .app
        .get(&env.path(&format!("/inboxes/{site}")), &t)
        .await;
    assert_eq!(
        browser.value("#inbox-hmac-token").await,
        before["hmac_token"]
    );
    browser.fill("#inbox-edit-name", "Site da Acme").await;
    browser
        .fill("#inbox-edit-tagline", "Respondemos em minutos")
        .await;
    browser.click("#inbox-edit-pre-chat").await;
    browser
        .fill("#inbox-edit-pre-chat-message", "Conte quem você é")
        .await;
    browser.click("#inbox-edit-save").await;
    browser
        .wait_for(
            "the saved settings",
            "const n = document.querySelector('#inbox-edit-notice');
             return n && n.textContent === 'Saved.'
                 && document.querySelector('.inbox-title').textContent === 'Site da Acme';",
            json!([]),
        )
        .await;
    browser.shot("console-inbox-edit", db).await;
    let (_, after) = env
        .app
        .get(&env.path(&format!("/inboxes/{site}")), &t)
        .await;
    assert_eq!(after["name"], "Site da Acme", "{after}");
    assert_eq!(after["welcome_tagline"], "Respondemos em minutos");
    assert_eq!(after["pre_chat_form_enabled"], true);
    assert_eq!(
        after["pre_chat_form_options"]["pre_chat_message"],
        "Conte quem você é"
    );
    assert_eq!(after["website_url"], "https://acme.test", "left alone");
    assert_eq!(after["hmac_mandatory"], false);

    // The new name, in the inbox list and the conversation lists.
    browser.click(".settings-main a.back").await;
    browser
        .wait_for(
            "the renamed inbox in the list",
            "const i = document.querySelector(`.inbox-item[data-inbox-id='${arguments[0]}'] .inbox-name`);
             return !!i && i.textContent === 'Site da Acme';",
            json!([site]),
        )
        .await;
    all_conversations(&browser).await;
    browser
        .wait_for(
            "the new name in the conversation's row and the inbox filter",
            "const r = document.querySelector(`.conversation-row[data-conversation-id='${arguments[0]}'] .row-inbox`);
             const o = document.querySelector(`#filter-inbox option[value='${arguments[1]}']`);
             return !!r && r.textContent === 'Site da Acme' && !!o && o.textContent === 'Site da Acme';",
            json!([chat, site]),
        )
        .await;

    // The administrator deletes the other inbox: two clicks, then back to
    // the inbox list, without it.
    browser
        .goto(&format!("{base}/app/settings/inboxes/{old}"))
        .await;
    browser
        .wait_for(
            "Delete inbox",
            "const b = document.querySelector('#inbox-danger #inbox-delete');
             return !!b && document.querySelector('#inbox-danger .help').textContent.includes('conversations');",
            json!([]),
        )
        .await;
    browser.click("#inbox-delete").await;
    browser
        .wait_for(
            "the confirmation",
            "return document.querySelector('#inbox-delete').classList.contains('confirming');",
            json!([]),
        )
        .await;
    browser.click("#inbox-delete").await;
    browser
        .wait_for(
            "the inbox list without it",
            "return location.pathname === '/app/settings/inboxes'
                 && document.querySelectorAll('.inbox-item').length === 1
                 && !document.querySelector(`.inbox-item[data-inbox-id='${arguments[0]}']`);",
            json!([old]),
        )
        .await;
    let (status, _) = env.app.get(&env.path(&format!("/inboxes/{old}")), &t).await;
    assert_eq!(status, 404, "the inbox is gone");
    let (status, _) = env
        .app
        .get(&env.path(&format!("/conversations/{doomed}")), &t)
        .await;
    assert_eq!(status, 404, "and its conversation");
    let (_, all) = env
        .app
        .get(&env.path("/conversations?status=all"), &t)
        .await;
    assert_eq!(all["data"]["meta"]["all_count"], 1, "{all}");

    // Nor do the conversation lists show it or its conversation.
    all_conversations(&browser).await;
    browser
        .wait_for(
            "the lists without the deleted inbox",
            "return !document.querySelector(`#filter-inbox option[value='${arguments[0]}']`)
                 && !document.querySelector(`.conversation-row[data-conversation-id='${arguments[1]}']`)
                 && !!document.querySelector(`.conversation-row[data-conversation-id='${arguments[2]}']`);",
            json!([old, doomed, chat]),
        )
        .await;
    browser.quit().await;
    env.app.stop().await;
}

/// Goes from anywhere in the console to the All tab of the lists.
pub(crate) async fn all_conversations(browser: &crate::webdriver::Browser) {
    browser.click("#nav-conversations").await;
    browser
        .wait_for(
            "the lists",
            "return !!document.querySelector('#tab-all');",
            json!([]),
        )
        .await;
    browser.click("#tab-all").await;
}
