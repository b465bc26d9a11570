//! Conversations: opening them, the Mine / Unassigned / All lists and their
//! counts, status changes and manual assignment, with activity lines.

use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{ids, Db, Env};

both_databases!(
    lists_and_counts_for_every_filter,
    assignment_and_status_story,
    bad_conversation_input_changes_nothing,
);

/// Creates a contact and returns its id.
pub(crate) async fn contact(env: &Env, name: &str) -> i64 {
    let (status, body) = env
        .app
        .post(
            &env.path("/contacts"),
            &env.admin_token,
            json!({"name": name}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["payload"]["contact"]["id"]
        .as_i64()
        .expect("contact id")
}

/// Opens a conversation and returns its JSON.
pub(crate) async fn open(env: &Env, inbox: i64, contact: i64, extra: Value) -> Value {
    let mut body = json!({"inbox_id": inbox, "contact_id": contact});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let (status, conversation) = env
        .app
        .post(&env.path("/conversations"), &env.admin_token, body)
        .await;
    assert_eq!(status, 200, "{conversation}");
    conversation
}

async fn lists_and_counts_for_every_filter(db: Db) {
    let env = Env::start(db).await;
    let app = &env.app;
    let (bruno, bruno_token) = env.agent("Bruno", "bruno@acme.test", "agent").await;
    let (carla, _) = env.agent("Carla", "carla@acme.test", "agent").await;
    let web = env.web_inbox("Website").await;
    let other = env.web_inbox("Other").await;
    for inbox in [web, other] {
        let body = json!({"inbox_id": inbox, "user_ids": [bruno, carla]});
        app.post(&env.path("/inbox_members"), &env.admin_token, body)
            .await;
    }
    let ana = contact(&env, "Ana").await;

    // (inbox, assignee, final status) of every conversation.
    let plan = [
        (web, Some(bruno), "open"),
        (web, Some(bruno), "resolved"),
        (web, Some(carla), "open"),
        (web, None, "open"),
        (web, None, "pending"),
        (other, Some(bruno), "snoozed"),
        (other, None, "resolved"),
        (other, Some(carla), "pending"),
    ];
    let mut made = Vec::new();
    for (inbox, assignee, status) in plan {
        let c = open(&env, inbox, ana, json!({"assignee_id": assignee})).await;
        let id = c["id"].as_i64().expect("id");
        if status != "open" {
            let mut body = json!({"status": status});
            if status == "snoozed" {
                body["snoozed_until"] = json!(4_000_000_000i64);
            }
            let path = env.path(&format!("/conversations/{id}/toggle_status"));
            let (code, answer) = app.post(&path, &env.admin_token, body).await;
            assert_eq!(code, 200, "{answer}");
            assert_eq!(answer["payload"]["current_status"], status);
        }
        made.push((id, inbox, assignee, status));
    }

    // Bruno's view: every assignee_type x status x inbox combination.
    let statuses = ["open", "pending", "resolved", "snoozed", "all"];
    let types = ["me", "unassigned", "assigned", "all"];
    for inbox in [None, Some(web), Some(other)] {
        for status in statuses {
            let matches = |&&(_, i, _, s): &&(i64, i64, Option<i64>, &str)| {
                (status == "all" || s == status) && inbox.is_none_or(|x| x == i)
            };
            let scope: Vec<_> = made.iter().filter(matches).collect();
            let expected_counts = json!({
                "mine_count": scope.iter().filter(|c| c.2 == Some(bruno)).count(),
                "unassigned_count": scope.iter().filter(|c| c.2.is_none()).count(),
                "assigned_count": scope.iter().filter(|c| c.2.is_some()).count(),
                "all_count": scope.len(),
            });
            for kind in types {
                let mut expected: Vec<i64> = scope
                    .iter()
                    .filter(|c| match kind {
                        "me" => c.2 == Some(bruno),
                        "unassigned" => c.2.is_none(),
                        "assigned" => c.2.is_some(),
                        _ => true,
                    })
                    .map(|c| c.0)
                    .collect();
                expected.sort_unstable_by(|a, b| b.cmp(a));
                let mut query = format!("/conversations?assignee_type={kind}&status={status}");
                if let Some(i) = inbox {
                    query.push_str(&format!("&inbox_id={i}"));
                }
                let (code, list) = app.get(&env.path(&query), &bruno_token).await;
                assert_eq!(code, 200, "{query}: {list}");
                assert_eq!(list["data"]["meta"], expected_counts, "{query}");
                let mut got = ids(&list["data"]["payload"]);
                got.sort_unstable_by(|a, b| b.cmp(a));
                assert_eq!(got, expected, "{query}");
                let meta_query = query.replacen("/conversations?", "/conversations/meta?", 1);
                let (_, meta) = app.get(&env.path(&meta_query), &bruno_token).await;
                assert_eq!(meta["meta"], expected_counts, "{meta_query}");
            }
        }
    }
    // Defaults: every assignee, open conversations only.
    let (_, list) = app.get(&env.path("/conversations"), &bruno_token).await;
    assert_eq!(list["data"]["meta"]["all_count"], 3);
    // Pages of 25.
    for _ in 0..30 {
        open(&env, web, ana, json!({})).await;
    }
    let (_, first) = app
        .get(&env.path("/conversations?status=all"), &bruno_token)
        .await;
    let (_, second) = app
        .get(&env.path("/conversations?status=all&page=2"), &bruno_token)
        .await;
    assert_eq!(first["data"]["payload"].as_array().map(Vec::len), Some(25));
    assert_eq!(second["data"]["payload"].as_array().map(Vec::len), Some(13));
    assert_eq!(second["data"]["meta"]["all_count"], 38);
}

async fn assignment_and_status_story(db: Db) {
    let env = Env::start(db).await;
    let app = &env.app;
    let t = env.admin_token.as_str();
    let (_, me) = app
        .patch("/api/v1/profile", t, json!({"display_name": "Ana"}))
        .await;
    assert_eq!(me["available_name"], "Ana");
    let (bruno, bruno_token) = env.agent("Bruno", "bruno@acme.test", "agent").await;
    let (carla, _) = env.agent("Carla", "carla@acme.test", "agent").await;
    let web = env.web_inbox("Website").await;
    let body = json!({"inbox_id": web, "user_ids": [bruno]});
    app.post(&env.path("/inbox_members"), t, body).await;
    let visitor = contact(&env, "Visitor").await;

    let c = open(
        &env,
        web,
        visitor,
        json!({"message": {"content": "Hello from the team"}}),
    )
    .await;
    let id = c["id"].as_i64().expect("id");
    assert_eq!(c["status"], "open");
    assert_eq!(c["meta"]["sender"]["name"], "Visitor");
    assert_eq!(c["meta"]["channel"], "Channel::WebWidget");
    assert_eq!(
        c["last_non_activity_message"]["content"],
        "Hello from the team"
    );
    assert!(c["meta"]["assignee"].is_null());

    // "Ações da conversa" -> responsável: any collaborator, not others.
    let assign = env.path(&format!("/conversations/{id}/assignments"));
    let (status, body) = app.post(&assign, t, json!({"assignee_id": carla})).await;
    assert_eq!(status, 422, "Carla is not a collaborator: {body}");
    let (status, agent) = app.post(&assign, t, json!({"assignee_id": bruno})).await;
    assert_eq!(status, 200);
    assert_eq!(agent["id"], bruno);
    assert_eq!(agent["available_name"], "Bruno");
    let (_, mine) = app
        .get(&env.path("/conversations?assignee_type=me"), &bruno_token)
        .await;
    assert_eq!(ids(&mine["data"]["payload"]), vec![id]);
    assert_eq!(mine["data"]["payload"][0]["meta"]["assignee"]["id"], bruno);

    // Resolving frees Bruno's open slot at once; reopening takes it back.
    let toggle = env.path(&format!("/conversations/{id}/toggle_status"));
    let (_, resolved) = app.post(&toggle, &bruno_token, json!({})).await;
    assert_eq!(resolved["payload"]["current_status"], "resolved");
    let (_, meta) = app
        .get(&env.path("/conversations/meta"), &bruno_token)
        .await;
    assert_eq!(meta["meta"]["mine_count"], 0);
    let (_, reopened) = app
        .post(&toggle, &bruno_token, json!({"status": "open"}))
        .await;
    assert_eq!(reopened["payload"]["current_status"], "open");

    // Self-assign, then unassign.
    let (_, agent) = app
        .post(&assign, &bruno_token, json!({"assignee_id": bruno}))
        .await;
    assert_eq!(agent["id"], bruno);
    let (status, agent) = app.post(&assign, t, json!({"assignee_id": null})).await;
    assert_eq!(status, 200);
    assert!(agent.is_null());
    let (_, unassigned) = app
        .get(&env.path("/conversations?assignee_type=unassigned"), t)
        .await;
    assert_eq!(ids(&unassigned["data"]["payload"]), vec![id]);

    // PATCH sets assignee and status together.
    let path = env.path(&format!("/conversations/{id}"));
    let (status, patched) = app
        .patch(&path, t, json!({"assignee_id": bruno, "status": "pending"}))
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["status"], "pending");
    assert_eq!(patched["assignee_id"], bruno);

    // Every change left an activity line, named with display names.
    let (_, history) = app
        .get(&env.path(&format!("/conversations/{id}/messages")), t)
        .await;
    let lines: Vec<&str> = history["payload"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["message_type"] == 2)
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(
        lines,
        vec![
            "Assigned to Bruno by Ana",
            "Conversation was marked resolved by Bruno",
            "Conversation was reopened by Bruno",
            "Conversation unassigned by Ana",
            "Assigned to Bruno by Ana",
            "Conversation was marked as pending by Ana",
        ]
    );
    // The contact's conversations.
    let (_, theirs) = app
        .get(&env.path(&format!("/contacts/{visitor}/conversations")), t)
        .await;
    assert_eq!(ids(&theirs["payload"]), vec![id]);
}

async fn bad_conversation_input_changes_nothing(db: Db) {
    let env = Env::start(db).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    let inbox = env.web_inbox("Website").await;
    let visitor = contact(&env, "Visitor").await;
    let id = open(&env, inbox, visitor, json!({})).await["id"]
        .as_i64()
        .expect("id");
    let other = crate::common::new_account(&env.db, "Globex", "gus@globex.test").await;
    let (_, their_contact) = app
        .post(
            &format!("/api/v1/accounts/{}/contacts", other.account_id),
            &other.access_token,
            json!({"name": "Theirs"}),
        )
        .await;
    let their_contact = their_contact["payload"]["contact"]["id"].clone();
    let snapshot = || async {
        let (_, list) = app.get(&env.path("/conversations?status=all"), t).await;
        let (_, history) = app
            .get(&env.path(&format!("/conversations/{id}/messages")), t)
            .await;
        json!([list, history])
    };
    let before = snapshot().await;
    let create = env.path("/conversations");
    let toggle = env.path(&format!("/conversations/{id}/toggle_status"));
    let assign = env.path(&format!("/conversations/{id}/assignments"));
    #[rustfmt::skip]
    let cases = [
        (create.clone(), json!({"contact_id": visitor}), 422),
        (create.clone(), json!({"inbox_id": inbox}), 422),
        (create.clone(), json!({"inbox_id": 999_999, "contact_id": visitor}), 422),
        (create.clone(), json!({"inbox_id": inbox, "contact_id": 999_999}), 422),
        (create.clone(), json!({"inbox_id": inbox, "contact_id": their_contact}), 422),
        (create.clone(), json!({"inbox_id": inbox, "source_id": "nobody"}), 422),
        (create.clone(), json!({"inbox_id": "one", "contact_id": visitor}), 422),
        (create.clone(), json!({"inbox_id": inbox, "contact_id": visitor, "status": "done"}), 422),
        (create.clone(), json!({"inbox_id": inbox, "contact_id": visitor, "assignee_id": 999_999}), 422),
        (create.clone(), json!({"inbox_id": inbox, "contact_id": visitor, "message": {"content": ""}}), 422),
        (toggle.clone(), json!({"status": "closed"}), 422),
        (toggle.clone(), json!({"status": "open", "snoozed_until": 4_000_000_000i64}), 422),
        (toggle.clone(), json!({"status": "snoozed", "snoozed_until": 1}), 422),
        (assign.clone(), json!({}), 422),
        (assign.clone(), json!({"assignee_id": "me"}), 422),
        (assign.clone(), json!({"assignee_id": other.user_id}), 422),
        (env.path("/conversations/999999/toggle_status"), json!({}), 404),
        (env.path("/conversations/999999/assignments"), json!({"assignee_id": null}), 404),
        (format!("/api/v1/accounts/{}/conversations/{id}/toggle_status", other.account_id), json!({}), 404),
    ];
    let theirs = format!("accounts/{}/", other.account_id);
    for (path, body, expected) in cases {
        let token = if path.contains(&theirs) {
            other.access_token.as_str()
        } else {
            t
        };
        let (status, answer) = app.post(&path, token, body.clone()).await;
        assert_eq!(status, expected, "{path} {body} -> {answer}");
    }
    for query in [
        "?status=closed",
        "?assignee_type=everyone",
        "?page=0",
        "?page=x",
        "?inbox_id=x",
    ] {
        let (status, answer) = app
            .get(&env.path(&format!("/conversations{query}")), t)
            .await;
        assert!(
            status == 400 || status == 422,
            "{query} -> {status} {answer}"
        );
    }
    let (status, _) = app.get(&env.path("/conversations/abc"), t).await;
    assert_eq!(status, 400);
    assert_eq!(snapshot().await, before, "bad input changed something");
}
