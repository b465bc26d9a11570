//! Role checks: agents read the settings, administrators change them, and an
//! account always keeps one administrator.

use serde_json::json;

use crate::both_databases;
use crate::common::{ids, Db, Env};

both_databases!(agents_read_administrators_write, last_administrator_stays);

async fn agents_read_administrators_write(db: Db) {
    let env = Env::start(db).await;
    let app = &env.app;
    let (bruno, bruno_token) = env.agent("Bruno", "bruno@acme.test", "agent").await;
    let (carla, _) = env.agent("Carla", "carla@acme.test", "agent").await;
    let inbox = env.web_inbox("Website").await;
    let t = bruno_token.as_str();

    for path in [
        env.path("/agents"),
        env.path("/inboxes"),
        env.path(&format!("/inboxes/{inbox}")),
        env.path(&format!("/inbox_members/{inbox}")),
    ] {
        let (status, body) = app.get(&path, t).await;
        assert_eq!(status, 200, "GET {path}: {body}");
    }

    let forbidden = [
        app.post(
            &env.path("/agents"),
            t,
            json!({"name": "X", "email": "x@acme.test", "role": "agent"}),
        )
        .await,
        app.patch(
            &env.path(&format!("/agents/{carla}")),
            t,
            json!({"role": "administrator"}),
        )
        .await,
        app.patch(
            &env.path(&format!("/agents/{bruno}")),
            t,
            json!({"role": "administrator"}),
        )
        .await,
        app.delete(&env.path(&format!("/agents/{carla}")), t, None)
            .await,
        app.post(
            &env.path("/inboxes"),
            t,
            json!({"name": "X", "channel": {"type": "api"}}),
        )
        .await,
        app.patch(
            &env.path(&format!("/inboxes/{inbox}")),
            t,
            json!({"name": "X"}),
        )
        .await,
        app.delete(&env.path(&format!("/inboxes/{inbox}")), t, None)
            .await,
        app.post(
            &env.path("/inbox_members"),
            t,
            json!({"inbox_id": inbox, "user_ids": [bruno]}),
        )
        .await,
        app.patch(
            &env.path("/inbox_members"),
            t,
            json!({"inbox_id": inbox, "user_ids": [bruno]}),
        )
        .await,
        app.delete(
            &env.path("/inbox_members"),
            t,
            Some(json!({"inbox_id": inbox, "user_ids": [bruno]})),
        )
        .await,
    ];
    for (i, (status, body)) in forbidden.iter().enumerate() {
        assert_eq!(*status, 403, "case {i}: {body}");
    }
    let (_, agents) = app.get(&env.path("/agents"), t).await;
    assert_eq!(ids(&agents), vec![env.admin_id, bruno, carla]);
    assert_eq!(agents[1]["role"], "agent");

    // An agent sets their own availability.
    let (status, me) = app
        .patch(
            &env.path(&format!("/agents/{bruno}")),
            t,
            json!({"availability_status": "busy"}),
        )
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["availability_status"], "busy");

    // An administrator promotes an agent, who may then manage the account.
    let (status, promoted) = app
        .patch(
            &env.path(&format!("/agents/{carla}")),
            &env.admin_token,
            json!({"role": "administrator"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(promoted["role"], "administrator");
}

async fn last_administrator_stays(db: Db) {
    let env = Env::start(db).await;
    let app = &env.app;
    let me = env.admin_id;
    let (status, body) = app
        .patch(
            &env.path(&format!("/agents/{me}")),
            &env.admin_token,
            json!({"role": "agent"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = app
        .delete(&env.path(&format!("/agents/{me}")), &env.admin_token, None)
        .await;
    assert_eq!(status, 409);
    let (_, agents) = app.get(&env.path("/agents"), &env.admin_token).await;
    assert_eq!(agents[0]["role"], "administrator");

    // With a second administrator the first may step down.
    let (carla, _) = env.agent("Carla", "carla@acme.test", "administrator").await;
    let (status, _) = app
        .patch(
            &env.path(&format!("/agents/{me}")),
            &env.admin_token,
            json!({"role": "agent"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, agents) = app.get(&env.path("/agents"), &env.admin_token).await;
    assert_eq!(ids(&agents), vec![me, carla]);
    assert_eq!(agents[0]["role"], "agent");
}
