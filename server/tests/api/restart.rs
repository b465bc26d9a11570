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
