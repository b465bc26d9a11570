//! `can_reply` on WhatsApp conversations: free text goes only within 24
//! hours of the contact's last message, and the conversation says so before
//! an agent types, across restarts; other channels can always reply.

use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{Db, Env};
use crate::standin::StandIn;
use crate::whatsapp::{
    deliver, notification, settings, whatsapp_inbox, APP_SECRET, CUSTOMER, NUMBER,
};

both_databases!(can_reply_follows_the_customer_window);

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
    whatsapp_inbox(&env).await;
    let t = env.admin_token.as_str();
    let (_, inboxes) = env.app.get(&env.path("/inboxes"), t).await;
    let inbox_id = inboxes["payload"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["phone_number"] == NUMBER))
        .map(|i| i["id"].clone())
        .expect("the WhatsApp inbox");

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
