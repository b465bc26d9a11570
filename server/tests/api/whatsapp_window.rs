//! The 24-hour window as agents meet it: `can_reply` on WhatsApp
//! conversations (free text goes only within 24 hours of the contact's last
//! message, and the conversation says so before an agent types, across
//! restarts), and the number's templates read from Meta to send instead.

use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{Db, Env};
use crate::meta::{connect_number, deliver, notification, settings, APP_SECRET, CUSTOMER};
use crate::standin::{Reply, StandIn};

both_databases!(
    can_reply_follows_the_customer_window,
    templates_are_read_from_meta_page_by_page
);

async fn conversation(env: &Env, id: &Value) -> Value {
    let (status, c) = env
        .app
        .get(&env.path(&format!("/conversations/{id}")), &env.admin_token)
        .await;
    assert_eq!(status, 200, "{c}");
    c
}

async fn can_reply_follows_the_customer_window(db: Db) {
    let graph = StandIn::start().await;
    let env = Env::start_with(db, settings(&graph)).await;
    let inbox_id = whatsapp_inbox_id(&env).await;
    let t = env.admin_token.as_str();

    // An agent starts a conversation with a contact who never wrote: only
    // a template may go, and the conversation says so.
    let (_, contact) = env
        .app
        .post(
            &env.path("/contacts"),
            t,
            json!({"name": "Joana", "phone_number": format!("+{CUSTOMER}"),
                   "inbox_id": inbox_id, "source_id": CUSTOMER}),
        )
        .await;
    let (status, started) = env
        .app
        .post(
            &env.path("/conversations"),
            t,
            json!({"inbox_id": inbox_id, "contact_id": contact["payload"]["contact"]["id"]}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let id = started["id"].clone();
    assert_eq!(started["can_reply"], false, "{started}");
    assert_eq!(conversation(&env, &id).await["can_reply"], false);

    // Webhooks tell receivers the same.
    let receiver = StandIn::start().await;
    let (status, hook) = env
        .app
        .post(
            &env.path("/webhooks"),
            t,
            json!({"url": format!("{}/hook", receiver.url), "subscriptions": ["message_created"]}),
        )
        .await;
    assert_eq!(status, 200, "{hook}");

    // The customer writes: the window opens.
    let message = json!([{"from": CUSTOMER, "id": "wamid.W1", "type": "text",
                          "text": {"body": "Oi"}}]);
    assert_eq!(
        deliver(&env, notification(message, json!([])), Some(APP_SECRET)).await,
        200
    );
    let mut shown = Value::Null;
    for _ in 0..250 {
        shown = conversation(&env, &id).await;
        if shown["can_reply"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(shown["can_reply"], true, "{shown}");
    let seen = receiver.wait_until("the message", |r| !r.is_empty()).await;
    let event = seen[0].json();
    assert_eq!(event["conversation"]["can_reply"], true, "{event}");
    let (status, list) = env.app.get(&env.path("/conversations?status=all"), t).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"]["payload"][0]["can_reply"], true, "{list}");

    // A restart remembers when the customer last wrote.
    let env = env.restart_with(settings(&graph)).await;
    assert_eq!(conversation(&env, &id).await["can_reply"], true);

    // Website conversations can always be answered.
    let site = env.web_inbox("Site").await;
    let (_, visitor) = env
        .app
        .post(
            &env.path("/contacts"),
            &env.admin_token,
            json!({"name": "Rui", "inbox_id": site}),
        )
        .await;
    let (_, web) = env
        .app
        .post(
            &env.path("/conversations"),
            &env.admin_token,
            json!({"inbox_id": site, "contact_id": visitor["payload"]["contact"]["id"]}),
        )
        .await;
    assert_eq!(web["can_reply"], true, "{web}");
}

/// The WhatsApp inbox's id.
async fn whatsapp_inbox_id(env: &Env) -> Value {
    connect_number(env, "WhatsApp").await["id"].clone()
}

fn template(name: &str, status: &str, body: &str) -> Value {
    json!({"id": format!("t-{name}"), "name": name, "language": "pt_BR", "status": status,
           "category": "UTILITY", "components": [{"type": "BODY", "text": body}]})
}

async fn templates_are_read_from_meta_page_by_page(db: Db) {
    let graph = StandIn::start().await;
    let env = Env::start_with(db, settings(&graph)).await;
    let inbox = whatsapp_inbox_id(&env).await;
    let (_, agent) = env.agent("Bia", "bia@acme.test", "agent").await;
    let sync = env.path(&format!("/inboxes/{inbox}/sync_templates"));
    let listing = "/v22.0/102/message_templates";
    let shown = env
        .app
        .get(&env.path(&format!("/inboxes/{inbox}")), &agent)
        .await
        .1;
    assert_eq!(shown["message_templates"], json!([]), "{shown}");
    assert_eq!(shown["message_templates_last_updated"], Value::Null);

    // Two pages; the second names a next page on another host, which is
    // not followed (the token would go with it).
    graph.then(Reply::json(
        200,
        json!({
        "data": [template("order_update", "APPROVED", "Olá {{1}}, o pedido {{2}} saiu"),
                 template("promo", "REJECTED", "Oferta"), {"name": "nameless"}],
        "paging": {"next": format!("{}{listing}?after=A", graph.url)}}),
    ));
    graph.then(Reply::json(
        200,
        json!({
        "data": [template("follow_up", "APPROVED", "Oi {{1}}!")],
        "paging": {"next": "https://elsewhere.test/v22.0/102/message_templates?after=B"}}),
    ));
    let (status, synced) = env.app.post(&sync, &agent, json!({})).await;
    assert_eq!(status, 200, "{synced}");
    let names: Vec<&str> = synced["message_templates"]
        .as_array()
        .map(|l| l.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["order_update", "promo", "follow_up"]);
    assert_eq!(synced["message_templates"][0]["status"], "APPROVED");
    assert_eq!(
        synced["message_templates"][0]["components"][0]["text"],
        "Olá {{1}}, o pedido {{2}} saiu"
    );
    assert!(
        synced["message_templates_last_updated"].is_i64(),
        "{synced}"
    );
    assert!(
        synced.get("provider_config").is_none(),
        "agents never see the credentials: {synced}"
    );
    let calls = graph.requests();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    for call in &calls {
        assert_eq!((call.method.as_str(), call.path.as_str()), ("GET", listing));
        assert_eq!(call.header("authorization"), "Bearer EAAG-test");
    }
    assert!(calls[0]
        .query
        .contains("fields=name,language,status,category,components"));
    assert_eq!(calls[1].query, "after=A");

    // Meta refuses the token: a clear 422, and the templates stay.
    graph.then(Reply::json(
        400,
        json!({"error": {"message": "Error validating access token", "code": 190}}),
    ));
    let (status, refused) = env.app.post(&sync, &agent, json!({})).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused.to_string().contains("provider_config.api_key")
            && refused.to_string().contains("validating access token"),
        "{refused}"
    );
    // Meta down: a 502 saying so.
    graph.then(Reply::status(503));
    let (status, down) = env.app.post(&sync, &agent, json!({})).await;
    assert_eq!(status, 502, "{down}");
    assert!(down.to_string().contains("503"), "{down}");

    // One sync per inbox at a time; and one that outlives the number's
    // business account keeps nothing of the old account.
    graph.hold();
    graph.then(Reply::json(
        200,
        json!({"data": [template("late", "APPROVED", "Tarde")]}),
    ));
    let asked = graph.requests().len();
    let admin = env.admin_token.clone();
    let inbox_path = env.path(&format!("/inboxes/{inbox}"));
    let (first, ()) = tokio::join!(env.app.post(&sync, &agent, json!({})), async {
        graph.wait_until("the held sync", |r| r.len() > asked).await;
        let (status, again) = env.app.post(&sync, &agent, json!({})).await;
        assert_eq!(status, 409, "{again}");
        let moved = json!({"channel": {"provider_config": {"business_account_id": "555"}}});
        let (status, _) = env.app.patch(&inbox_path, &admin, moved).await;
        assert_eq!(status, 200);
        graph.release();
    });
    assert_eq!(first.0, 409, "{}", first.1);
    assert_eq!(
        graph.requests().len(),
        asked + 1,
        "the second sync asked nothing"
    );
    let back = json!({"channel": {"provider_config": {"business_account_id": "102"}}});
    env.app.patch(&inbox_path, &admin, back).await;
    graph.then(Reply::json(
        200,
        json!({"data": [
        template("order_update", "APPROVED", "Olá {{1}}"),
        template("promo", "REJECTED", "Oferta"),
        template("follow_up", "APPROVED", "Oi {{1}}!")]}),
    ));
    let (status, synced) = env.app.post(&sync, &agent, json!({})).await;
    assert_eq!(status, 200, "{synced}");
    assert_eq!(synced["message_templates"][0]["name"], "order_update");

    // The templates are kept across a restart.
    let env = env.restart_with(settings(&graph)).await;
    let (_, shown) = env
        .app
        .get(&env.path(&format!("/inboxes/{inbox}")), &env.admin_token)
        .await;
    assert_eq!(shown["message_templates"].as_array().map(Vec::len), Some(3));
    // New credentials of the same business account keep them; another
    // business account's number starts without.
    let patch = |config: Value| json!({"channel": {"provider_config": config}});
    let path = env.path(&format!("/inboxes/{inbox}"));
    let t = env.admin_token.as_str();
    let (status, same) = env
        .app
        .patch(&path, t, patch(json!({"api_key": "EAAG-new"})))
        .await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(same["message_templates"].as_array().map(Vec::len), Some(3));
    let (_, other) = env
        .app
        .patch(&path, t, patch(json!({"business_account_id": "777"})))
        .await;
    assert_eq!(other["message_templates"], json!([]), "{other}");
    assert_eq!(other["message_templates_last_updated"], Value::Null);

    // Only WhatsApp numbers, connected ones, have templates to read.
    let site = env.web_inbox("Site").await;
    let (status, _) = env
        .app
        .post(
            &env.path(&format!("/inboxes/{site}/sync_templates")),
            &env.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(status, 422);
    env.app
        .post(
            &env.path(&format!("/inboxes/{inbox}/disconnect")),
            &env.admin_token,
            json!({}),
        )
        .await;
    let before = graph.requests().len();
    let (status, off) = env
        .app
        .post(
            &env.path(&format!("/inboxes/{inbox}/sync_templates")),
            &env.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(status, 422, "{off}");
    assert_eq!(graph.requests().len(), before, "nothing asked of Meta");
}
