//! The Agendor CRM integration, against a stand-in of Agendor's API with
//! memory (`agendor_fake`): records, deals and notes are created once, found
//! instead of duplicated, survive failures and restarts, and a wrong token
//! fails clearly.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use switchboard_server::Settings;

use crate::agendor_fake::FakeAgendor;
use crate::both_databases;
use crate::common::{settled_log, wait_for_delivery, Db, Env};
use crate::standin::StandIn;

both_databases!(
    a_new_contact_becomes_a_person_with_a_deal_and_a_note,
    an_existing_person_with_the_same_phone_is_linked_not_duplicated,
    a_crm_that_fails_then_recovers_still_gets_one_of_each,
    a_restart_midway_changes_nothing,
    a_wrong_token_fails_clearly_and_stops,
    contacts_can_become_organizations,
    anonymous_visitors_are_sent_once_they_leave_a_way_back,
    disabling_the_integration_ends_pending_syncs,
    a_sync_tells_webhooks_when_its_state_changes,
);

pub(crate) const TOKEN: &str = "agendor-token-1234";

/// Outbound calls to loopback allowed (the stand-in), and quick retries.
pub(crate) fn settings() -> Settings {
    crate::common::quick_outbox("https://switchboard.test")
}

/// An API inbox; returns its id and its public API base path.
pub(crate) async fn api_inbox(env: &Env) -> (i64, String) {
    let (status, inbox) = env
        .app
        .post(
            &env.path("/inboxes"),
            &env.admin_token,
            json!({"name": "Bridge", "channel": {"type": "api"}}),
        )
        .await;
    assert_eq!(status, 200, "{inbox}");
    let base = format!(
        "/public/api/v1/inboxes/{}",
        inbox["inbox_identifier"].as_str().expect("identifier")
    );
    (inbox["id"].as_i64().expect("id"), base)
}

/// Connects Agendor; returns the hook.
pub(crate) async fn connect(env: &Env, fake: &FakeAgendor, token: &str, extra: Value) -> Value {
    let mut settings = json!({"api_token": token, "base_url": fake.base_url,
        "create_deal": true, "funnel_id": 7, "deal_stage": 2});
    if let (Value::Object(s), Value::Object(e)) = (&mut settings, extra) {
        s.extend(e);
    }
    let (status, hook) = env
        .app
        .post(
            &env.path("/integrations/hooks"),
            &env.admin_token,
            json!({"app_id": "agendor", "status": 1, "settings": settings}),
        )
        .await;
    assert_eq!(status, 200, "{hook}");
    hook
}

/// A customer arrives through the public API: a contact and a conversation.
pub(crate) async fn customer(env: &Env, base: &str, contact: Value) -> (i64, i64, String) {
    let (status, me) = env
        .app
        .call(
            Method::POST,
            &format!("{base}/contacts"),
            None,
            Some(contact),
        )
        .await;
    assert_eq!(status, 200, "{me}");
    let source = me["source_id"].as_str().expect("source").to_string();
    let conversation = open_conversation(env, base, &source).await;
    let (_, shown) = env
        .app
        .get(
            &env.path(&format!("/conversations/{conversation}")),
            &env.admin_token,
        )
        .await;
    let contact = shown["meta"]["sender"]["id"].as_i64().expect("contact");
    (contact, conversation, source)
}

/// A website contact with a conversation, made by an agent (no e-mail, no
/// phone); returns the contact's id.
async fn website_customer(env: &Env, inbox: i64, name: &str) -> i64 {
    let t = env.admin_token.as_str();
    let (_, c) = env
        .app
        .post(
            &env.path("/contacts"),
            t,
            json!({"name": name, "inbox_id": inbox}),
        )
        .await;
    let contact = c["payload"]["contact"]["id"].as_i64().expect("id");
    let (status, c) = env
        .app
        .post(
            &env.path("/conversations"),
            t,
            json!({"inbox_id": inbox, "contact_id": contact}),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    contact
}

/// The customer opens a conversation through the public API.
async fn open_conversation(env: &Env, base: &str, source: &str) -> i64 {
    let (status, c) = env
        .app
        .call(
            Method::POST,
            &format!("{base}/contacts/{source}/conversations"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{c}");
    c["id"].as_i64().expect("conversation")
}

/// Waits until the contact's CRM link has `status`; returns the contact.
pub(crate) async fn wait_crm(env: &Env, contact: i64, status: &str) -> Value {
    let path = env.path(&format!("/contacts/{contact}"));
    for _ in 0..500 {
        let (_, shown) = env.app.get(&path, &env.admin_token).await;
        if shown["payload"]["crm"]["status"] == status {
            return shown["payload"].clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, shown) = env.app.get(&path, &env.admin_token).await;
    panic!("the contact's CRM link never became {status}: {shown}");
}

async fn a_new_contact_becomes_a_person_with_a_deal_and_a_note(db: Db) {
    let fake = FakeAgendor::start(TOKEN).await;
    fake.add_origin("Site");
    let origin = fake.add_origin("bridge");
    let env = Env::start_with(db, settings()).await;
    let (inbox, base) = api_inbox(&env).await;
    let hooks = env.path("/integrations/hooks");
    let t = env.admin_token.as_str();

    // Bad settings are refused, naming the field; agents cannot connect.
    for (body, field) in [
        (json!({"app_id": "agendor", "settings": {}}), "api_token"),
        (
            json!({"app_id": "slack", "settings": {"api_token": "x"}}),
            "app_id",
        ),
        (
            json!({"app_id": "agendor", "settings": {"api_token": "x", "inbox_ids": [99999]}}),
            "inbox_ids",
        ),
        (
            json!({"app_id": "agendor", "settings": {"api_token": "x", "contact_type": "lead"}}),
            "contact_type",
        ),
    ] {
        let (status, error) = env.app.post(&hooks, t, body.clone()).await;
        assert_eq!(status, 422, "{body} -> {error}");
        assert!(error.to_string().contains(field), "{body} -> {error}");
    }
    let (_, agent_token) = env.agent("Bia", "bia@acme.test", "agent").await;
    let (status, _) = env
        .app
        .post(
            &hooks,
            &agent_token,
            json!({"app_id": "agendor", "settings": {"api_token": "x"}}),
        )
        .await;
    assert_eq!(status, 403);

    let hook = connect(&env, &fake, TOKEN, json!({"inbox_ids": [inbox]})).await;
    assert_eq!(hook["settings"]["api_token_hint"], "…1234");
    let (_, apps) = env.app.get(&env.path("/integrations/apps"), t).await;
    assert_eq!(apps["payload"][0]["id"], "agendor");
    assert_eq!(apps["payload"][0]["enabled"], true);
    assert!(
        !apps.to_string().contains(TOKEN),
        "the token is never shown: {apps}"
    );
    let (status, again) = env
        .app
        .post(
            &hooks,
            t,
            json!({"app_id": "agendor", "settings": {"api_token": "y"}}),
        )
        .await;
    assert_eq!(status, 409, "one Agendor per account: {again}");

    let (contact, conversation, source) = customer(
        &env,
        &base,
        json!({"name": "Joana Lima", "email": "joana@acme.test", "phone_number": "+5511988887777"}),
    )
    .await;
    let shown = wait_crm(&env, contact, "synced").await;

    let people = fake.people();
    assert_eq!(people.len(), 1, "{people:?}");
    let person = &people[0];
    assert_eq!(person["name"], "Joana Lima");
    assert_eq!(person["contact"]["email"], "joana@acme.test");
    assert_eq!(person["contact"]["mobile"], "+5511988887777");
    assert_eq!(person["leadOrigin"], origin, "the inbox is the origin");
    let deals = fake.deals();
    assert_eq!(deals.len(), 1, "{deals:?}");
    assert_eq!(deals[0]["title"], "Joana Lima – Bridge");
    assert_eq!(deals[0]["funnel"], 7);
    assert_eq!(deals[0]["dealStage"], 2);
    assert_eq!(deals[0]["person"]["id"], person["id"]);
    let tasks = fake.tasks();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let link = format!("https://switchboard.test/app/conversations/{conversation}");
    assert!(
        tasks[0]["text"].as_str().unwrap_or("").contains(&link),
        "{tasks:?}"
    );
    assert_eq!(tasks[0]["on"], "deals", "the note goes on the deal");

    let crm = &shown["crm"];
    assert_eq!(crm["app_id"], "agendor");
    assert_eq!(crm["record_type"], "person");
    assert_eq!(crm["record_id"], person["id"]);
    assert_eq!(crm["url"], person["_webUrl"]);
    assert_eq!(crm["deal_url"], deals[0]["_webUrl"]);
    assert_eq!(crm["error"], Value::Null);
    // The link is on the contact wherever it shows: the conversation too.
    let (_, c) = env
        .app
        .get(&env.path(&format!("/conversations/{conversation}")), t)
        .await;
    assert_eq!(c["meta"]["sender"]["crm"]["url"], person["_webUrl"]);
    let (_, apps) = env.app.get(&env.path("/integrations/apps"), t).await;
    assert!(
        apps["payload"][0]["hooks"][0]["health"]["last_success_at"].is_i64(),
        "{apps}"
    );

    // Every call carried the token and went where Agendor's API is.
    assert!(fake
        .seen()
        .iter()
        .all(|s| ["/people", "/deals", "/lead_origins"]
            .iter()
            .any(|p| s.path.starts_with(p))));

    // The contact writes again, then opens a second conversation: still one
    // person and one deal; the new conversation gets its own note.
    env.app
        .call(
            Method::POST,
            &format!("{base}/contacts/{source}/conversations/{conversation}/messages"),
            None,
            Some(json!({"content": "Oi de novo"})),
        )
        .await;
    let second = open_conversation(&env, &base, &source).await;
    for _ in 0..500 {
        if fake.tasks().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fake.people().len(), 1);
    assert_eq!(fake.deals().len(), 1);
    let tasks = fake.tasks();
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert!(tasks[1]["text"]
        .as_str()
        .unwrap_or("")
        .ends_with(&format!("/app/conversations/{second}")));

    // Contacts of other inboxes are not sent.
    let other = env.web_inbox("Site").await;
    let rui = website_customer(&env, other, "Rui").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.people().len(), 1);
    let (_, rui) = env.app.get(&env.path(&format!("/contacts/{rui}")), t).await;
    assert_eq!(rui["payload"].get("crm"), None, "{rui}");
}

async fn an_existing_person_with_the_same_phone_is_linked_not_duplicated(db: Db) {
    let fake = FakeAgendor::start(TOKEN).await;
    let existing = fake.add_person("Joana (loja)", "(11) 98888-7777");
    fake.add_person("Outra pessoa", "(21) 97777-6666");
    let env = Env::start_with(db, settings()).await;
    let (_, base) = api_inbox(&env).await;
    connect(&env, &fake, TOKEN, json!({"create_deal": false})).await;
    let (contact, _, _) = customer(
        &env,
        &base,
        json!({"name": "Joana", "phone_number": "+5511988887777"}),
    )
    .await;
    let shown = wait_crm(&env, contact, "synced").await;
    assert_eq!(shown["crm"]["record_id"], existing);
    assert_eq!(fake.people().len(), 2, "nobody new");
    assert!(
        !fake
            .seen()
            .iter()
            .any(|s| s.method == "POST" && s.path == "/people"),
        "no person created"
    );
    assert!(fake.deals().is_empty(), "deals are off");
    assert!(
        !fake.seen().iter().any(|s| s.path == "/lead_origins"),
        "origins are looked up only to create"
    );
    assert_eq!(
        fake.tasks()[0]["on"],
        "people",
        "the note goes on the person"
    );
}

async fn a_crm_that_fails_then_recovers_still_gets_one_of_each(db: Db) {
    let fake = FakeAgendor::start(TOKEN).await;
    // The person is created but the answer is lost; the deal is refused
    // twice (Agendor down); a 429 slows the note.
    fake.fail(Method::POST, "/people", 500, 1, true);
    fake.fail(Method::POST, "/people/", 503, 2, false);
    fake.fail(Method::POST, "/deals/", 429, 1, false);
    let env = Env::start_with(db, settings()).await;
    let (_, base) = api_inbox(&env).await;
    connect(&env, &fake, TOKEN, json!({})).await;
    let (contact, _, _) = customer(
        &env,
        &base,
        json!({"name": "Joana", "email": "joana@acme.test"}),
    )
    .await;
    let shown = wait_crm(&env, contact, "synced").await;
    assert_eq!(
        fake.people().len(),
        1,
        "the lost create was found, not repeated"
    );
    assert_eq!(fake.deals().len(), 1);
    assert_eq!(fake.tasks().len(), 1);
    assert_eq!(shown["crm"]["record_id"], fake.people()[0]["id"]);
    // The contact is saved as synced just before the outbox records the
    // attempt: the log follows a moment later.
    let d = wait_for_delivery(&env, &env.path("/deliveries?kind=crm"), "delivered").await;
    assert_eq!(
        d["attempts"], 5,
        "the lost create, 2 deal and 1 note refusals, then done: {d}"
    );
}

async fn a_restart_midway_changes_nothing(db: Db) {
    let fake = FakeAgendor::start(TOKEN).await;
    // The person goes in; the deal cannot, until after the restart.
    fake.down(Method::POST, "/people/", 503);
    let env = Env::start_with(db, settings()).await;
    let (_, base) = api_inbox(&env).await;
    connect(&env, &fake, TOKEN, json!({})).await;
    let (contact, _, _) = customer(
        &env,
        &base,
        json!({"name": "Joana", "phone_number": "+5511988887777"}),
    )
    .await;
    let path = env.path(&format!("/contacts/{contact}"));
    let mut pending = Value::Null;
    for _ in 0..500 {
        let (_, shown) = env.app.get(&path, &env.admin_token).await;
        if shown["payload"]["crm"]["record_id"].is_i64()
            && shown["payload"]["crm"]["error"].is_string()
        {
            pending = shown["payload"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(pending["crm"]["status"], "pending", "{pending}");
    assert!(
        pending["crm"]["error"]
            .as_str()
            .unwrap_or("")
            .contains("503"),
        "the last try's error shows while retrying: {pending}"
    );
    let env = env.restart_with(settings()).await;
    fake.recover();
    wait_crm(&env, contact, "synced").await;
    assert_eq!(fake.people().len(), 1);
    assert_eq!(fake.deals().len(), 1);
    assert_eq!(fake.tasks().len(), 1);
}

async fn a_wrong_token_fails_clearly_and_stops(db: Db) {
    let fake = FakeAgendor::start(TOKEN).await;
    let env = Env::start_with(db, settings()).await;
    let (_, base) = api_inbox(&env).await;
    let hook = connect(&env, &fake, "not-the-token", json!({})).await;
    let (contact, _, _) = customer(
        &env,
        &base,
        json!({"name": "Joana", "email": "joana@acme.test"}),
    )
    .await;
    let shown = wait_crm(&env, contact, "failed").await;
    let error = shown["crm"]["error"].as_str().unwrap_or("");
    assert!(error.contains("token") && error.contains("401"), "{error}");
    let calls = fake.seen().len();
    assert_eq!(calls, 1, "a refused token is not tried again");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.seen().len(), calls, "no retries");
    let (_, apps) = env
        .app
        .get(&env.path("/integrations/apps"), &env.admin_token)
        .await;
    let health = &apps["payload"][0]["hooks"][0]["health"];
    assert!(
        health["last_error"].as_str().unwrap_or("").contains("401"),
        "{apps}"
    );
    assert_eq!(health["last_success_at"], Value::Null);

    // The administrator fixes the token (nothing else changes); an agent retries.
    let (status, fixed) = env
        .app
        .call(
            Method::PATCH,
            &env.path(&format!("/integrations/hooks/{}", hook["id"])),
            Some(&env.admin_token),
            Some(json!({"settings": {"api_token": TOKEN}})),
        )
        .await;
    assert_eq!(status, 200, "{fixed}");
    assert_eq!(
        fixed["settings"]["create_deal"], true,
        "other settings kept"
    );
    let (_, agent_token) = env.agent("Bia", "bia@acme.test", "agent").await;
    let (status, retried) = env
        .app
        .post(
            &env.path(&format!("/contacts/{contact}/crm_sync")),
            &agent_token,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["payload"]["crm"]["status"], "pending");
    wait_crm(&env, contact, "synced").await;
    assert_eq!(fake.people().len(), 1);
    assert_eq!(fake.deals().len(), 1);
}

async fn contacts_can_become_organizations(db: Db) {
    let fake = FakeAgendor::start(TOKEN).await;
    let env = Env::start_with(db, settings()).await;
    let (_, base) = api_inbox(&env).await;
    connect(
        &env,
        &fake,
        TOKEN,
        json!({"contact_type": "organization", "deal_title": "Pedido de {{contact.name}}"}),
    )
    .await;
    let (contact, _, _) = customer(
        &env,
        &base,
        json!({"name": "Padaria Central", "email": "compras@padaria.test"}),
    )
    .await;
    let shown = wait_crm(&env, contact, "synced").await;
    assert!(fake.people().is_empty());
    let orgs = fake.organizations();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["name"], "Padaria Central");
    assert_eq!(shown["crm"]["record_type"], "organization");
    assert!(shown["crm"]["url"]
        .as_str()
        .unwrap_or("")
        .contains("/empresas/"));
    let deals = fake.deals();
    assert_eq!(deals[0]["title"], "Pedido de Padaria Central");
    assert_eq!(deals[0]["organization"]["id"], orgs[0]["id"]);
}

async fn anonymous_visitors_are_sent_once_they_leave_a_way_back(db: Db) {
    let fake = FakeAgendor::start(TOKEN).await;
    let env = Env::start_with(db, settings()).await;
    let t = env.admin_token.as_str();
    connect(&env, &fake, TOKEN, json!({"create_deal": false})).await;
    let site = env.web_inbox("Site").await;
    let contact = website_customer(&env, site, "Visitor 42").await;
    let d = wait_for_delivery(&env, &env.path("/deliveries?kind=crm"), "cancelled").await;
    assert!(
        d["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("no e-mail or phone"),
        "{d}"
    );
    assert!(fake.seen().is_empty(), "nobody to register yet");

    // The visitor leaves an e-mail: now they are sent.
    let (status, _) = env
        .app
        .call(
            Method::PUT,
            &env.path(&format!("/contacts/{contact}")),
            Some(t),
            Some(json!({"name": "Carla", "email": "carla@acme.test"})),
        )
        .await;
    assert_eq!(status, 200);
    let shown = wait_crm(&env, contact, "synced").await;
    assert_eq!(fake.people().len(), 1);
    assert_eq!(fake.people()[0]["contact"]["email"], "carla@acme.test");
    assert_eq!(shown["crm"]["record_id"], fake.people()[0]["id"]);
}

async fn disabling_the_integration_ends_pending_syncs(db: Db) {
    let fake = FakeAgendor::start(TOKEN).await;
    fake.down(Method::POST, "/people", 503);
    let env = Env::start_with(db, settings()).await;
    let (_, base) = api_inbox(&env).await;
    let hook = connect(&env, &fake, TOKEN, json!({})).await;
    let (contact, _, _) = customer(
        &env,
        &base,
        json!({"name": "Joana", "email": "joana@acme.test"}),
    )
    .await;
    let path = env.path(&format!("/contacts/{contact}"));
    for _ in 0..500 {
        let (_, shown) = env.app.get(&path, &env.admin_token).await;
        if shown["payload"]["crm"]["error"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, off) = env
        .app
        .call(
            Method::PATCH,
            &env.path(&format!("/integrations/hooks/{}", hook["id"])),
            Some(&env.admin_token),
            Some(json!({"status": 0})),
        )
        .await;
    assert_eq!(status, 200, "{off}");
    assert_eq!(off["status"], false);
    let shown = wait_crm(&env, contact, "failed").await;
    assert!(
        shown["crm"]["error"]
            .as_str()
            .unwrap_or("")
            .contains("disabled"),
        "{shown}"
    );
    fake.recover();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(fake.people().is_empty(), "nothing is sent while disabled");
}

/// A sync stores each step's result as it goes, but webhooks hear of the
/// contact's CRM state only when people would see it change: syncing, then
/// synced with its links; not once per step.
async fn a_sync_tells_webhooks_when_its_state_changes(db: Db) {
    let fake = FakeAgendor::start(TOKEN).await;
    let receiver = StandIn::start().await;
    let env = Env::start_with(db, settings()).await;
    let (inbox, base) = api_inbox(&env).await;
    let (status, webhook) = env
        .app
        .post(
            &env.path("/webhooks"),
            &env.admin_token,
            json!({"url": format!("{}/hook", receiver.url), "subscriptions": ["contact_updated"]}),
        )
        .await;
    assert_eq!(status, 200, "{webhook}");
    connect(&env, &fake, TOKEN, json!({"inbox_ids": [inbox]})).await;
    let (contact, _, _) = customer(
        &env,
        &base,
        json!({"name": "Joana Lima", "phone_number": "+5511988887777"}),
    )
    .await;
    let shown = wait_crm(&env, contact, "synced").await;
    assert_eq!(
        fake.deals().len(),
        1,
        "the record and the deal were both made"
    );

    // The synced contact can show before its webhook is queued: wait for
    // the calls, then count them in the settled log.
    let seen = receiver.wait_until("both calls", |r| r.len() >= 2).await;
    let log = settled_log(&env, &env.path("/deliveries?kind=webhook")).await;
    assert_eq!(log.len(), 2, "one call per state, not per step: {log:?}");
    assert_eq!(receiver.requests().len(), 2);
    // Calls of one webhook may overlap, so their order is not asserted.
    let bodies: Vec<Value> = seen.iter().map(|r| r.json()).collect();
    let mut states: Vec<String> = bodies
        .iter()
        .inspect(|b| assert_eq!(b["event"], "contact_updated", "{b}"))
        .map(|b| b["crm"]["status"].as_str().unwrap_or("").to_string())
        .collect();
    states.sort();
    assert_eq!(states, ["pending", "synced"]);
    let synced = bodies
        .iter()
        .find(|b| b["crm"]["status"] == "synced")
        .expect("the synced call");
    let change = &synced["changed_attributes"][0]["crm"];
    assert_eq!(change["previous_value"]["status"], "pending", "{synced}");
    assert_eq!(change["previous_value"]["url"], Value::Null, "{synced}");
    assert_eq!(
        change["current_value"]["url"], shown["crm"]["url"],
        "{synced}"
    );
    assert_eq!(
        change["current_value"]["deal_url"], shown["crm"]["deal_url"],
        "{synced}"
    );
}
