//! A restart keeps everything: what the API showed before, it shows after.

use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{sign_in, Db, Env, TestApp};

both_databases!(restart_keeps_everything);

async fn everything(app: &TestApp, env: &Env, token: &str, inbox: i64) -> Value {
    let (_, agents) = app.get(&env.path("/agents"), token).await;
    let (_, inboxes) = app.get(&env.path("/inboxes"), token).await;
    let (_, members) = app
        .get(&env.path(&format!("/inbox_members/{inbox}")), token)
        .await;
    let (_, mut profile) = app.get("/api/v1/profile", token).await;
    profile["access_token"] = Value::Null;
    json!({"agents": agents, "inboxes": inboxes, "members": members, "profile": profile})
}

async fn restart_keeps_everything(db: Db) {
    let env = Env::start(db).await;
    let t = env.admin_token.clone();
    let (bruno, _) = env.agent("Bruno", "bruno@acme.test", "agent").await;
    let (carla, carla_token) = env.agent("Carla", "carla@acme.test", "administrator").await;
    let inbox = env.web_inbox("Website").await;
    env.app
        .post(
            &env.path("/inbox_members"),
            &t,
            json!({"inbox_id": inbox, "user_ids": [bruno, carla]}),
        )
        .await;
    env.app
        .patch(
            &env.path(&format!("/inboxes/{inbox}")),
            &t,
            json!({"auto_assignment_config": {"max_assignment_limit": 5}, "greeting_message": "Oi"}),
        )
        .await;
    env.app
        .patch(
            &env.path(&format!("/agents/{bruno}")),
            &t,
            json!({"availability_status": "busy", "auto_offline": false}),
        )
        .await;
    let before = everything(&env.app, &env, &t, inbox).await;

    let env = env.restart().await;

    let after = everything(&env.app, &env, &t, inbox).await;
    assert_eq!(after, before);
    // Tokens and passwords survive too.
    let (status, _) = env.app.get("/api/v1/profile", &carla_token).await;
    assert_eq!(status, 200);
    sign_in(&env.app, "bruno@acme.test", "password123").await;
}

both_databases!(conversations_survive_restart);

/// Everything an agent's lists and histories show, for every filter.
async fn lists(env: &Env, token: &str, conversations: &[i64]) -> Value {
    let mut all = Vec::new();
    for kind in ["me", "unassigned", "assigned", "all"] {
        for status in ["open", "pending", "resolved", "snoozed", "all"] {
            let path = env.path(&format!(
                "/conversations?assignee_type={kind}&status={status}"
            ));
            all.push(env.app.get(&path, token).await.1);
        }
    }
    for id in conversations {
        let path = env.path(&format!("/conversations/{id}/messages"));
        all.push(env.app.get(&path, token).await.1);
    }
    Value::Array(all)
}

async fn conversations_survive_restart(db: Db) {
    let env = Env::start(db).await;
    let t = env.admin_token.clone();
    let (bruno, bruno_token) = env.agent("Bruno", "bruno@acme.test", "agent").await;
    let inbox = env.web_inbox("Website").await;
    let body = json!({"inbox_id": inbox, "user_ids": [bruno]});
    env.app.post(&env.path("/inbox_members"), &t, body).await;
    let visitor = crate::conversations::contact(&env, "Visitor").await;
    let mut ids = Vec::new();
    for (n, (assignee, status)) in [
        (Some(bruno), "open"),
        (None, "pending"),
        (Some(bruno), "resolved"),
    ]
    .into_iter()
    .enumerate()
    {
        let c = crate::conversations::open(&env, inbox, visitor, json!({"assignee_id": assignee}))
            .await;
        let id = c["id"].as_i64().expect("id");
        let toggle = env.path(&format!("/conversations/{id}/toggle_status"));
        env.app.post(&toggle, &t, json!({"status": status})).await;
        let messages = env.path(&format!("/conversations/{id}/messages"));
        let body = json!({"content": format!("message {n}"), "echo_id": format!("echo-{n}")});
        env.app.post(&messages, &bruno_token, body).await;
        ids.push(id);
    }
    let before = lists(&env, &bruno_token, &ids).await;

    let env = env.restart().await;
    assert_eq!(lists(&env, &bruno_token, &ids).await, before);

    // A retry after the restart is still recognised by its echo id.
    let messages = env.path(&format!("/conversations/{}/messages", ids[0]));
    let (status, retry) = env
        .app
        .post(
            &messages,
            &bruno_token,
            json!({"content": "again", "echo_id": "echo-0"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(retry["content"], "message 0");
    assert_eq!(lists(&env, &bruno_token, &ids).await, before);
    // New ids continue after the stored ones.
    let (_, fresh) = env
        .app
        .post(&messages, &bruno_token, json!({"content": "new"}))
        .await;
    let newest = before[20]["payload"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["id"].as_i64())
        .expect("message id");
    assert!(fresh["id"].as_i64().expect("id") > newest);
}
