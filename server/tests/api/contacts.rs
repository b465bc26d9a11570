//! Contacts: create with an inbox, read, search, update (custom attributes
//! merge), delete with their conversations, and bad input.

use serde_json::json;

use crate::both_databases;
use crate::common::{ids, Db, Env};

both_databases!(contact_lifecycle);

async fn contact_lifecycle(db: Db) {
    let env = Env::start(db).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    let inbox = env.web_inbox("Website").await;
    let (status, created) = app
        .post(
            &env.path("/contacts"),
            t,
            json!({"name": "Maria Silva", "email": "Maria@Cliente.com.br", "phone_number": "+5511999998888",
                   "identifier": "crm-42", "custom_attributes": {"plan": "pro"}, "inbox_id": inbox}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let contact = &created["payload"]["contact"];
    let id = contact["id"].as_i64().expect("id");
    assert_eq!(contact["email"], "maria@cliente.com.br");
    assert_eq!(created["payload"]["contact_inbox"]["inbox"]["id"], inbox);
    assert!(created["payload"]["contact_inbox"]["source_id"]
        .as_str()
        .is_some());

    // Same e-mail or identifier again: conflict.
    for body in [
        json!({"email": "maria@cliente.com.br"}),
        json!({"identifier": "crm-42"}),
    ] {
        let (status, _) = app.post(&env.path("/contacts"), t, body).await;
        assert_eq!(status, 409);
    }
    for body in [
        json!({"email": "nope"}),
        json!({"phone_number": "11 9999"}),
        json!({"custom_attributes": [1]}),
        json!({"inbox_id": 999_999}),
        json!({"name": "x".repeat(300)}),
    ] {
        let (status, answer) = app.post(&env.path("/contacts"), t, body.clone()).await;
        assert_eq!(status, 422, "{body} -> {answer}");
    }

    let (_, shown) = app.get(&env.path(&format!("/contacts/{id}")), t).await;
    assert_eq!(shown["payload"]["name"], "Maria Silva");
    let (status, updated) = app
        .call(
            reqwest::Method::PUT,
            &env.path(&format!("/contacts/{id}")),
            Some(t),
            Some(json!({"name": "Maria S.", "custom_attributes": {"city": "Recife"}})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["payload"]["name"], "Maria S.");
    assert_eq!(
        updated["payload"]["custom_attributes"],
        json!({"plan": "pro", "city": "Recife"})
    );

    let (_, bob) = app
        .post(&env.path("/contacts"), t, json!({"name": "Bob"}))
        .await;
    let bob = bob["payload"]["contact"]["id"].as_i64().expect("id");
    let (_, all) = app.get(&env.path("/contacts"), t).await;
    assert_eq!(all["meta"]["count"], 2);
    assert_eq!(ids(&all["payload"]), vec![bob, id]);
    for q in ["maria", "CLIENTE", "99999", "crm-4"] {
        let (_, found) = app
            .get(&env.path(&format!("/contacts/search?q={q}")), t)
            .await;
        assert_eq!(ids(&found["payload"]), vec![id], "q={q}");
    }
    let (_, none) = app.get(&env.path("/contacts/search?q=%25"), t).await;
    assert!(
        ids(&none["payload"]).is_empty(),
        "% is searched for literally"
    );
    let (status, _) = app.get(&env.path("/contacts/search"), t).await;
    assert_eq!(status, 422);

    // Deleting a contact removes their conversations from every list.
    let c = crate::conversations::open(&env, inbox, id, json!({})).await;
    let conversation = c["id"].as_i64().expect("id");
    let (status, _) = app
        .delete(&env.path(&format!("/contacts/{id}")), t, None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = app.get(&env.path(&format!("/contacts/{id}")), t).await;
    assert_eq!(status, 404);
    let again = json!({"inbox_id": inbox, "contact_id": id});
    let (status, _) = app.post(&env.path("/conversations"), t, again).await;
    assert_eq!(status, 422, "a deleted contact is not remembered anywhere");
    let (status, _) = app
        .get(&env.path(&format!("/conversations/{conversation}")), t)
        .await;
    assert_eq!(status, 404);
    let (_, list) = app.get(&env.path("/conversations?status=all"), t).await;
    assert_eq!(list["data"]["meta"]["all_count"], 0);

    // Another account sees none of it.
    let other = crate::common::new_account(&env.db, "Globex", "gus@globex.test").await;
    let theirs = format!("/api/v1/accounts/{}/contacts/{bob}", other.account_id);
    let (status, _) = app.get(&theirs, &other.access_token).await;
    assert_eq!(status, 404);
    let (_, list) = app
        .get(
            &format!("/api/v1/accounts/{}/contacts", other.account_id),
            &other.access_token,
        )
        .await;
    assert_eq!(list["meta"]["count"], 0);
}
