//! A WhatsApp Cloud inbox against a stand-in of Meta's Graph API: the
//! webhook handshake, signed notifications of every message type, duplicates,
//! replies through the outbox, delivery statuses, the 24-hour window with
//! templates, and disconnecting the number.

use std::time::Duration;

use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{Db, Env};
use crate::meta::{
    connect_number, deliver, notification, sends, settings, text, APP_SECRET, CUSTOMER, NUMBER,
};
use crate::standin::{Reply, StandIn};

both_databases!(
    a_whatsapp_number_receives_answers_and_disconnects,
    media_is_downloaded_on_arrival_and_files_are_uploaded_to_send,
    races_with_whatsapp_end_in_one_conversation_and_the_latest_status,
);

async fn messages_of(env: &Env, id: i64) -> Vec<Value> {
    let (_, page) = env
        .app
        .get(
            &env.path(&format!("/conversations/{id}/messages")),
            &env.admin_token,
        )
        .await;
    page["payload"].as_array().cloned().unwrap_or_default()
}

/// Polls the conversation until one of its messages satisfies `pred`.
async fn wait_message(env: &Env, id: i64, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..500 {
        if let Some(m) = messages_of(env, id).await.into_iter().find(|m| pred(m)) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "no message became {what}: {:#?}",
        messages_of(env, id).await
    );
}

async fn a_whatsapp_number_receives_answers_and_disconnects(db: Db) {
    let graph = StandIn::start().await;
    graph.always(Reply::json(
        200,
        json!({"messages": [{"id": "wamid.OUT1"}]}),
    ));
    let env = Env::start_with(db, settings(&graph)).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    let inboxes = env.path("/inboxes");

    // Creating the inbox: bad input is refused, nothing is stored.
    let config = json!({"api_key": "EAAG-test", "phone_number_id": "106",
        "business_account_id": "102", "app_secret": APP_SECRET});
    for (body, field) in [
        (
            json!({"name": "WA", "channel": {"type": "whatsapp", "provider_config": config}}),
            "phone_number",
        ),
        (
            json!({"name": "WA", "channel": {"type": "whatsapp", "phone_number": "12", "provider_config": config}}),
            "phone_number",
        ),
        (
            json!({"name": "WA", "channel": {"type": "whatsapp", "phone_number": NUMBER}}),
            "provider_config",
        ),
        (
            json!({"name": "WA", "channel": {"type": "whatsapp", "phone_number": NUMBER, "provider": "twilio", "provider_config": config}}),
            "provider",
        ),
        (
            json!({"name": "WA", "channel": {"type": "whatsapp", "phone_number": NUMBER, "provider_config": {"api_key": "k"}}}),
            "provider_config.phone_number_id",
        ),
        (
            json!({"name": "Site", "channel": {"type": "api", "provider_config": config}}),
            "provider_config",
        ),
    ] {
        let (status, error) = app.post(&inboxes, t, body.clone()).await;
        assert_eq!(status, 422, "{body} -> {error}");
        assert!(
            error["message"].as_str().unwrap_or("").contains(field),
            "{error}"
        );
    }
    let (status, inbox) = app
        .post(
            &inboxes,
            t,
            json!({"name": "WhatsApp", "channel": {"type": "whatsapp",
                "phone_number": "+55 (11) 99999-0000", "provider_config": config}}),
        )
        .await;
    assert_eq!(status, 200, "{inbox}");
    assert_eq!(inbox["channel_type"], "Channel::Whatsapp");
    assert_eq!(inbox["phone_number"], NUMBER);
    assert_eq!(inbox["provider"], "whatsapp_cloud");
    assert_eq!(inbox["connected"], true);
    assert_eq!(
        inbox["callback_webhook_url"],
        format!("https://switchboard.test/webhooks/whatsapp/{NUMBER}")
    );
    let verify_token = inbox["provider_config"]["webhook_verify_token"]
        .as_str()
        .expect("a generated verify token")
        .to_string();
    assert!(
        inbox["provider_config"].get("api_key").is_none(),
        "the key is never shown again"
    );
    assert!(inbox["provider_config"].get("app_secret").is_none());
    let inbox_id = inbox["id"].as_i64().expect("id");
    let (status, _) = app
        .post(
            &inboxes,
            t,
            json!({"name": "Again", "channel": {"type": "whatsapp", "phone_number": NUMBER, "provider_config": config}}),
        )
        .await;
    assert_eq!(status, 409, "one inbox per number");
    let (_, agent) = env.agent("Bia", "bia@acme.test", "agent").await;
    let (_, seen) = app
        .get(&env.path(&format!("/inboxes/{inbox_id}")), &agent)
        .await;
    assert!(
        seen.get("provider_config").is_none(),
        "agents never see the credentials"
    );

    // Meta's verification handshake.
    let verify = |token: &str| {
        format!("/webhooks/whatsapp/{NUMBER}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444")
    };
    let answer = reqwest::get(format!("{}{}", app.base, verify(&verify_token)))
        .await
        .expect("verify");
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.expect("body"), "1158201444");
    assert_eq!(app.get(&verify("wrong"), "").await.0, 401);
    assert_eq!(
        app.get(
            "/webhooks/whatsapp/+15550000000?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1",
            ""
        )
        .await
        .0,
        404
    );

    // Notifications: unsigned or wrongly signed ones are refused.
    let first = notification(
        json!([text("wamid.IN1", "Oi, preciso de ajuda")]),
        json!([]),
    );
    assert_eq!(deliver(&env, first.clone(), None).await, 401);
    assert_eq!(
        deliver(&env, first.clone(), Some("not-the-secret")).await,
        401
    );
    assert_eq!(
        deliver(&env, b"{not json".to_vec(), Some(APP_SECRET)).await,
        400
    );
    let (_, all) = app.get(&env.path("/conversations?status=all"), t).await;
    assert_eq!(
        all["data"]["meta"]["all_count"], 0,
        "nothing stored from refused calls"
    );

    // Every type, then the first one again (Meta retries): stored once.
    let more = notification(
        json!([
            text("wamid.IN1", "Oi, preciso de ajuda"),
            {"from": CUSTOMER, "id": "wamid.IN2", "type": "image", "image": {"id": "media1", "mime_type": "image/jpeg", "caption": "a foto"}},
            {"from": CUSTOMER, "id": "wamid.IN3", "type": "location", "location": {"latitude": -23.56, "longitude": -46.65, "name": "Loja", "address": "Av. Paulista"}},
            {"from": CUSTOMER, "id": "wamid.IN4", "type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Falar com atendente"}}},
            {"from": CUSTOMER, "id": "wamid.IN5", "type": "contacts", "contacts": [{"name": {"formatted_name": "Bob"}, "phones": [{"phone": "+1 555"}]}]},
            {"from": CUSTOMER, "id": "wamid.IN6", "type": "audio", "audio": {"id": "media2", "mime_type": "audio/ogg"}},
            {"from": CUSTOMER, "id": "wamid.IN7", "type": "button", "button": {"payload": "YES", "text": "Sim"}},
        ]),
        json!([]),
    );
    assert_eq!(deliver(&env, first.clone(), Some(APP_SECRET)).await, 200);
    assert_eq!(deliver(&env, more.clone(), Some(APP_SECRET)).await, 200);
    assert_eq!(deliver(&env, more, Some(APP_SECRET)).await, 200);
    let (_, list) = app.get(&env.path("/conversations?status=all"), t).await;
    let conversations = list["data"]["payload"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(conversations.len(), 1, "{list}");
    let id = conversations[0]["id"].as_i64().expect("id");
    assert_eq!(conversations[0]["inbox_id"], inbox_id);
    let sender = &conversations[0]["meta"]["sender"];
    assert_eq!(sender["name"], "Joana");
    assert_eq!(sender["phone_number"], format!("+{CUSTOMER}"));
    let stored: Vec<Value> = messages_of(&env, id)
        .await
        .into_iter()
        .filter(|m| m["message_type"] == 0)
        .collect();
    let contents: Vec<&str> = stored
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(
        contents,
        vec![
            "Oi, preciso de ajuda",
            "a foto",
            "Loja, Av. Paulista",
            "Falar com atendente",
            "Bob +1 555",
            "(audio)",
            "Sim"
        ]
    );
    assert_eq!(stored[0]["source_id"], "wamid.IN1");
    assert_eq!(
        stored[1]["content_attributes"]["whatsapp_media"]["id"],
        "media1"
    );
    assert_eq!(
        stored[2]["content_attributes"]["location"]["latitude"],
        -23.56
    );

    // The agent answers: the reply reaches the Graph API and learns its id.
    let post = env.path(&format!("/conversations/{id}/messages"));
    let (status, reply) = app.post(&post, t, json!({"content": "Olá Joana!"})).await;
    assert_eq!(status, 200, "{reply}");
    app.post(&post, t, json!({"content": "cliente VIP", "private": true}))
        .await;
    let sent = sends(
        &graph
            .wait_until("the reply", |r| !sends(r).is_empty())
            .await,
    );
    let call = &sent[0];
    assert_eq!(call.path, "/v22.0/106/messages");
    assert_eq!(call.header("authorization"), "Bearer EAAG-test");
    let body = call.json();
    assert_eq!(body["to"], CUSTOMER);
    assert_eq!(body["type"], "text");
    assert_eq!(body["text"]["body"], "Olá Joana!");
    let reply_id = reply["id"].as_i64().expect("id");
    wait_message(&env, id, "sent with its WhatsApp id", |m| {
        m["id"] == reply_id && m["source_id"] == "wamid.OUT1"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        sends(&graph.requests()).len(),
        1,
        "private notes are never sent to WhatsApp"
    );

    // Statuses move it forward, never back.
    let status_of = |state: &str| json!({"id": "wamid.OUT1", "status": state, "timestamp": "2", "recipient_id": CUSTOMER});
    for state in ["delivered", "read", "delivered"] {
        let body = notification(json!([]), json!([status_of(state)]));
        assert_eq!(deliver(&env, body, Some(APP_SECRET)).await, 200);
    }
    let m = wait_message(&env, id, "read", |m| m["id"] == reply_id).await;
    assert_eq!(m["status"], "read");

    // WhatsApp refuses a reply: the message is failed with the reason, at once.
    graph.then(Reply::json(
        400,
        json!({"error": {"message": "(#131026) Message undeliverable", "code": 131026}}),
    ));
    let (_, refused) = app.post(&post, t, json!({"content": "Está aí?"})).await;
    let refused_id = refused["id"].as_i64().expect("id");
    let m = wait_message(&env, id, "failed", |m| {
        m["id"] == refused_id && m["status"] == "failed"
    })
    .await;
    assert!(
        m["content_attributes"]["external_error"]
            .as_str()
            .unwrap_or("")
            .contains("131026"),
        "{m}"
    );
    assert_eq!(
        sends(&graph.requests()).len(),
        2,
        "a 4xx from WhatsApp is not retried"
    );

    // Outside the 24-hour window (this conversation has no customer message):
    // free text is refused, a template goes.
    let (_, contact) = app
        .post(&env.path("/contacts"), t, json!({"name": "Rui", "phone_number": "+5511977776666", "inbox_id": inbox_id, "source_id": "5511977776666"}))
        .await;
    let (status, quiet) = app
        .post(
            &env.path("/conversations"),
            t,
            json!({"inbox_id": inbox_id, "contact_id": contact["payload"]["contact"]["id"]}),
        )
        .await;
    assert_eq!(status, 200, "{quiet}");
    let quiet_post = env.path(&format!("/conversations/{}/messages", quiet["id"]));
    let (status, error) = app.post(&quiet_post, t, json!({"content": "Oi Rui"})).await;
    assert_eq!(status, 422);
    assert!(
        error["message"].as_str().unwrap_or("").contains("24-hour"),
        "{error}"
    );
    let (status, _) = app
        .post(
            &quiet_post,
            t,
            json!({"template_params": {"name": "bad name"}}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, template) = app
        .post(
            &quiet_post,
            t,
            json!({"template_params": {"name": "order_update", "language": "pt_BR", "processed_params": {"1": "Rui", "2": "#123"}}}),
        )
        .await;
    assert_eq!(status, 200, "{template}");
    assert_eq!(template["content"], "[template order_update]");
    let sent = sends(
        &graph
            .wait_until("the template", |r| sends(r).len() >= 3)
            .await,
    );
    let body = sent[2].json();
    assert_eq!(body["to"], "5511977776666");
    assert_eq!(body["type"], "template");
    assert_eq!(body["template"]["name"], "order_update");
    assert_eq!(
        body["template"]["components"][0]["parameters"][1]["text"],
        "#123"
    );
    let (status, _) = app
        .post(
            &env.path(&format!("/conversations/{id}/messages")),
            t,
            json!({"content": "x", "private": true, "template_params": {"name": "a"}}),
        )
        .await;
    assert_eq!(status, 422, "templates are replies, not notes");

    // Disconnecting: nothing in, nothing out, history kept.
    let (status, off) = app
        .post(
            &env.path(&format!("/inboxes/{inbox_id}/disconnect")),
            t,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{off}");
    assert_eq!(off["connected"], false);
    assert!(off.get("provider_config").is_none());
    assert_eq!(app.get(&verify(&verify_token), "").await.0, 404);
    let late = notification(json!([text("wamid.IN9", "ainda aí?")]), json!([]));
    assert_eq!(deliver(&env, late, Some(APP_SECRET)).await, 404);
    assert_eq!(
        messages_of(&env, id)
            .await
            .iter()
            .filter(|m| m["message_type"] == 0)
            .count(),
        7
    );
    let (_, after) = app.post(&post, t, json!({"content": "Tchau"})).await;
    let after_id = after["id"].as_i64().expect("id");
    let m = wait_message(&env, id, "failed", |m| {
        m["id"] == after_id && m["status"] == "failed"
    })
    .await;
    assert!(
        m["content_attributes"]["external_error"]
            .as_str()
            .unwrap_or("")
            .contains("disconnected"),
        "{m}"
    );
    assert_eq!(
        sends(&graph.requests()).len(),
        3,
        "a disconnected number sends nothing"
    );
    let (_, agent_view) = app
        .get(&env.path(&format!("/inboxes/{inbox_id}/deliveries")), t)
        .await;
    assert!(agent_view["payload"]
        .as_array()
        .is_some_and(|d| d.iter().any(|d| d["status"] == "cancelled")));
}

async fn media_is_downloaded_on_arrival_and_files_are_uploaded_to_send(db: Db) {
    let graph = StandIn::start().await;
    let env = Env::start_with(db, settings(&graph)).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    connect_number(&env, "WhatsApp").await;

    // Graph answers the media lookup, then the bytes.
    graph.then(Reply::json(200, json!({"url": format!("{}/lookaside/media1", graph.url), "mime_type": "image/jpeg", "file_size": "9"})));
    graph.then(Reply {
        status: 200,
        headers: vec![("content-type".into(), "image/jpeg".into())],
        body: "JPEG-DATA".into(),
    });
    graph.always(Reply::json(
        200,
        json!({"messages": [{"id": "wamid.OUT9"}]}),
    ));
    let photo = notification(
        json!([{"from": CUSTOMER, "id": "wamid.PIC", "type": "image",
                "image": {"id": "media1", "mime_type": "image/jpeg", "caption": "o produto"}}]),
        json!([]),
    );
    assert_eq!(deliver(&env, photo, Some(APP_SECRET)).await, 200);
    let (_, list) = app.get(&env.path("/conversations?status=all"), t).await;
    let id = list["data"]["payload"][0]["id"]
        .as_i64()
        .expect("conversation");
    let m = wait_message(&env, id, "with its file", |m| {
        m["source_id"] == "wamid.PIC" && m["attachments"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_eq!(m["content"], "o produto");
    let file = &m["attachments"][0];
    assert_eq!(file["file_type"], "image");
    let seen = graph.requests();
    assert_eq!(seen[0].path, "/v22.0/media1");
    assert_eq!(seen[1].path, "/lookaside/media1");
    assert!(seen[..2]
        .iter()
        .all(|r| r.method == "GET" && r.header("authorization") == "Bearer EAAG-test"));
    let url = file["data_url"]
        .as_str()
        .expect("data_url")
        .replace("https://switchboard.test", &app.base);
    let downloaded = reqwest::get(url).await.expect("file");
    assert_eq!(downloaded.headers()["content-type"], "image/jpeg");
    assert_eq!(downloaded.text().await.expect("body"), "JPEG-DATA");

    // An agent's file is uploaded to the number's media, then sent by the
    // media id WhatsApp answered with.
    graph.then(Reply::json(200, json!({"id": "4490709327384033"})));
    let form = reqwest::multipart::Form::new()
        .text("content", "a nota")
        .part(
            "attachments[]",
            reqwest::multipart::Part::bytes(b"%PDF-1.4".to_vec())
                .file_name("nota.pdf")
                .mime_str("application/pdf")
                .expect("mime"),
        );
    let res = reqwest::Client::new()
        .post(format!(
            "{}{}",
            app.base,
            env.path(&format!("/conversations/{id}/messages"))
        ))
        .header("api_access_token", t)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), 200);
    let sent = graph.wait_until("the file reply", |r| r.len() >= 4).await;
    let upload = &sent[2];
    assert_eq!(upload.path, "/v22.0/106/media");
    assert_eq!(upload.header("authorization"), "Bearer EAAG-test");
    assert!(upload
        .header("content-type")
        .starts_with("multipart/form-data"));
    let form = String::from_utf8_lossy(&upload.body);
    for part in [
        "name=\"messaging_product\"",
        "whatsapp",
        "name=\"type\"",
        "application/pdf",
        "filename=\"nota.pdf\"",
        "%PDF-1.4",
    ] {
        assert!(form.contains(part), "{part} missing from {form}");
    }
    assert_eq!(sent[3].path, "/v22.0/106/messages");
    let body = sent[3].json();
    assert_eq!(body["type"], "document");
    assert_eq!(body["document"]["id"], "4490709327384033");
    assert_eq!(body["document"]["filename"], "nota.pdf");
    assert_eq!(body["document"]["caption"], "a nota");
    assert!(body["document"].get("link").is_none(), "{body}");
}

/// Races Meta creates: a new customer's messages arriving at once, and a
/// delivery report that overtakes the send's answer. Also a media file of a
/// refused type, which fails once instead of being fetched again and again.
async fn races_with_whatsapp_end_in_one_conversation_and_the_latest_status(db: Db) {
    let graph = StandIn::start().await;
    let env = Env::start_with(db, settings(&graph)).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    connect_number(&env, "WhatsApp").await;

    // Five first messages of a new customer at once: one contact, one
    // conversation holding all five.
    let sends = (0..5).map(|i| {
        let body = notification(
            json!([{"from": CUSTOMER, "id": format!("wamid.IN{i}"), "type": "text",
                    "text": {"body": format!("mensagem {i}")}}]),
            json!([]),
        );
        let env = &env;
        async move { deliver(env, body, Some(APP_SECRET)).await }
    });
    for status in futures_util::future::join_all(sends).await {
        assert_eq!(status, 200);
    }
    let (_, list) = app.get(&env.path("/conversations?status=all"), t).await;
    let conversations = list["data"]["payload"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(conversations.len(), 1, "{list}");
    let id = conversations[0]["id"].as_i64().expect("id");
    let incoming = messages_of(&env, id)
        .await
        .into_iter()
        .filter(|m| m["message_type"] == 0)
        .count();
    assert_eq!(incoming, 5);
    let (_, contacts) = app.get(&env.path("/contacts"), t).await;
    assert_eq!(contacts["meta"]["count"], 1, "{contacts}");

    // The report of a reply arrives while WhatsApp's answer to the send is
    // still on its way; the reply still ends up delivered.
    graph.hold();
    graph.always(Reply::json(
        200,
        json!({"messages": [{"id": "wamid.EARLY"}]}),
    ));
    let post = env.path(&format!("/conversations/{id}/messages"));
    let (status, reply) = app.post(&post, t, json!({"content": "Já vai!"})).await;
    assert_eq!(status, 200, "{reply}");
    graph.wait_until("the send", |r| !r.is_empty()).await;
    let report = notification(
        json!([]),
        json!([{"id": "wamid.EARLY", "status": "delivered", "timestamp": "2", "recipient_id": CUSTOMER}]),
    );
    assert_eq!(deliver(&env, report, Some(APP_SECRET)).await, 200);
    graph.release();
    let reply_id = reply["id"].clone();
    let m = wait_message(&env, id, "delivered", |m| {
        m["id"] == reply_id && m["status"] == "delivered"
    })
    .await;
    assert_eq!(m["source_id"], "wamid.EARLY");

    // A file of a type switchboard refuses fails at once, with the reason.
    graph.then(Reply::json(
        200,
        json!({"url": format!("{}/lookaside/page", graph.url), "mime_type": "text/html"}),
    ));
    graph.then(Reply {
        status: 200,
        headers: vec![("content-type".into(), "text/html".into())],
        body: "<script>alert(1)</script>".into(),
    });
    let before = graph.requests().len();
    let page = notification(
        json!([{"from": CUSTOMER, "id": "wamid.DOC", "type": "document",
                "document": {"id": "media2", "mime_type": "text/html", "filename": "page.html"}}]),
        json!([]),
    );
    assert_eq!(deliver(&env, page, Some(APP_SECRET)).await, 200);
    let mut failed = Value::Null;
    for _ in 0..500 {
        let (_, log) = app
            .get(&env.path("/deliveries?kind=whatsapp&status=failed"), t)
            .await;
        if let Some(d) = log["payload"].as_array().and_then(|l| l.first()) {
            failed = d.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(failed["event"], "download_media", "{failed}");
    assert_eq!(failed["attempts"], 1, "{failed}");
    assert!(
        failed["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("text/html"),
        "{failed}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        graph.requests().len() - before,
        2,
        "fetched once, not retried"
    );
    let doc = wait_message(&env, id, "stored", |m| m["source_id"] == "wamid.DOC").await;
    assert!(
        doc["attachments"].as_array().is_none_or(|a| a.is_empty()),
        "{doc}"
    );
}
