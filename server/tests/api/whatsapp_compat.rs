//! WhatsApp as Meta really behaves: templates reach contacts who never
//! wrote, a notification delivered late does not reopen the 24-hour window,
//! and notifications up to Meta's 3 MB are taken.

use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{Db, Env};
use crate::meta::{
    connect_number, deliver, notification, sends, settings, text, text_at, APP_SECRET, CUSTOMER,
};
use crate::standin::{Reply, StandIn};

both_databases!(
    a_template_reaches_a_contact_who_never_wrote,
    the_window_counts_from_when_the_customer_wrote,
    notifications_up_to_three_megabytes_are_taken
);

async fn conversation(env: &Env, id: &Value) -> Value {
    env.app
        .get(&env.path(&format!("/conversations/{id}")), &env.admin_token)
        .await
        .1
}

async fn a_template_reaches_a_contact_who_never_wrote(db: Db) {
    let graph = StandIn::start().await;
    graph.always(Reply::json(200, json!({"messages": [{"id": "wamid.T1"}]})));
    let env = Env::start_with(db, settings(&graph)).await;
    let t = env.admin_token.as_str();
    let inbox = connect_number(&env, "WhatsApp").await;

    // A contact known by their phone number only; an agent opens the
    // conversation in the WhatsApp inbox.
    let (_, contact) = env
        .app
        .post(
            &env.path("/contacts"),
            t,
            json!({"name": "Joana", "phone_number": format!("+{CUSTOMER}")}),
        )
        .await;
    let contact_id = contact["payload"]["contact"]["id"].clone();
    let (status, opened) = env
        .app
        .post(
            &env.path("/conversations"),
            t,
            json!({"inbox_id": inbox["id"], "contact_id": contact_id}),
        )
        .await;
    assert_eq!(status, 200, "{opened}");
    let (status, sent) = env
        .app
        .post(
            &env.path(&format!("/conversations/{}/messages", opened["id"])),
            t,
            json!({"template_params": {"name": "hello_world", "language": "en_US"}}),
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    let out = sends(
        &graph
            .wait_until("the template", |r| !sends(r).is_empty())
            .await,
    );
    assert_eq!(out[0].json()["to"], CUSTOMER, "to the number, in digits");

    // Her answer lands in the same conversation.
    assert_eq!(
        deliver(
            &env,
            notification(json!([text("wamid.A1", "Oi!")]), json!([])),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    let (_, meta) = env.app.get(&env.path("/conversations/meta"), t).await;
    assert_eq!(meta["meta"]["all_count"], 1, "one conversation: {meta}");
    let mut thread = Value::Null;
    for _ in 0..100 {
        thread = env
            .app
            .get(
                &env.path(&format!("/conversations/{}/messages", opened["id"])),
                t,
            )
            .await
            .1;
        if thread.to_string().contains("Oi!") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(thread.to_string().contains("Oi!"), "{thread}");

    // A contact without a number cannot have a WhatsApp conversation.
    let (_, nameless) = env
        .app
        .post(&env.path("/contacts"), t, json!({"name": "Rui"}))
        .await;
    let (status, refused) = env
        .app
        .post(
            &env.path("/conversations"),
            t,
            json!({"inbox_id": inbox["id"], "contact_id": nameless["payload"]["contact"]["id"]}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
}

async fn the_window_counts_from_when_the_customer_wrote(db: Db) {
    let graph = StandIn::start().await;
    let env = Env::start_with(db, settings(&graph)).await;
    connect_number(&env, "WhatsApp").await;
    let now = switchboard_server::store::now();

    // Meta delivers, late, a message written 25 hours ago.
    let late = text_at("wamid.OLD", "Ainda tem?", now - 25 * 3600);
    assert_eq!(
        deliver(
            &env,
            notification(json!([late]), json!([])),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    let (_, list) = env
        .app
        .get(&env.path("/conversations?status=all"), &env.admin_token)
        .await;
    let id = list["data"]["payload"][0]["id"].clone();
    assert_eq!(
        conversation(&env, &id).await["can_reply"],
        false,
        "the window closed an hour ago"
    );

    // A message written now opens it; an older one delivered after it does
    // not move it back.
    let fresh = text_at("wamid.NEW", "Oi", now);
    deliver(
        &env,
        notification(json!([fresh]), json!([])),
        Some(APP_SECRET),
    )
    .await;
    let older = text_at("wamid.OLDER", "...", now - 30 * 3600);
    deliver(
        &env,
        notification(json!([older]), json!([])),
        Some(APP_SECRET),
    )
    .await;
    assert_eq!(conversation(&env, &id).await["can_reply"], true);
    // And so it stays after a restart.
    let env = env.restart_with(settings(&graph)).await;
    assert_eq!(conversation(&env, &id).await["can_reply"], true);
}

async fn notifications_up_to_three_megabytes_are_taken(db: Db) {
    let graph = StandIn::start().await;
    let env = Env::start_with(db, settings(&graph)).await;
    connect_number(&env, "WhatsApp").await;
    // A batch of 300 long messages: about 2.5 MB.
    let long = "x".repeat(8000);
    let batch: Vec<Value> = (0..300)
        .map(|i| text(&format!("wamid.B{i}"), &format!("{i} {long}")))
        .collect();
    let body = notification(json!(batch), json!([]));
    assert!(body.len() > 2 * 1024 * 1024);
    assert_eq!(deliver(&env, body, Some(APP_SECRET)).await, 200);
    let (_, list) = env
        .app
        .get(&env.path("/conversations?status=all"), &env.admin_token)
        .await;
    let id = list["data"]["payload"][0]["id"].clone();
    let (_, first_page) = env
        .app
        .get(
            &env.path(&format!("/conversations/{id}/messages")),
            &env.admin_token,
        )
        .await;
    assert!(first_page["payload"].to_string().contains("299 x"));

    // Over Meta's limit: refused before it is read, in the API's shape.
    let (status, error) = env
        .app
        .raw_http(&format!(
            "POST /webhooks/whatsapp/{} HTTP/1.1\r\nHost: x\r\n\
             Content-Type: application/json\r\nContent-Length: 3200000\r\n\r\n",
            crate::meta::NUMBER
        ))
        .await;
    assert_eq!(status, 413);
    assert_eq!(error["error"], "payload_too_large");
}
