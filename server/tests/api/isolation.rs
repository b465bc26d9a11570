//! Tenant isolation: a second account's token sees and touches none of the
//! first account's objects, by list or by id, and gets 404s, not 403s.

use serde_json::json;

use crate::both_databases;
use crate::common::{ids, new_account, Db, Env};

both_databases!(second_account_sees_nothing_of_the_first);

async fn second_account_sees_nothing_of_the_first(db: Db) {
    let env = Env::start(db).await;
    let app = &env.app;
    let (bruno, _) = env.agent("Bruno", "bruno@acme.test", "agent").await;
    let inbox = env.web_inbox("Website").await;
    app.post(
        &env.path("/inbox_members"),
        &env.admin_token,
        json!({"inbox_id": inbox, "user_ids": [bruno]}),
    )
    .await;

    let other = new_account(&env.db, "Globex", "gus@globex.test").await;
    let theirs = |rest: &str| format!("/api/v1/accounts/{}{rest}", other.account_id);
    let t = other.access_token.as_str();

    // Lists show only their own objects.
    let (_, agents) = app.get(&theirs("/agents"), t).await;
    assert_eq!(ids(&agents), vec![other.user_id]);
    let (_, inboxes) = app.get(&theirs("/inboxes"), t).await;
    assert!(ids(&inboxes).is_empty());

    // The first account's paths are 404 for them, reads and writes alike.
    let first = env.account_id;
    for path in [
        format!("/api/v1/accounts/{first}/agents"),
        format!("/api/v1/accounts/{first}/inboxes"),
        format!("/api/v1/accounts/{first}/inboxes/{inbox}"),
        format!("/api/v1/accounts/{first}/inbox_members/{inbox}"),
    ] {
        let (status, body) = app.get(&path, t).await;
        assert_eq!(status, 404, "GET {path}: {body}");
    }
    let (status, _) = app
        .patch(
            &format!("/api/v1/accounts/{first}/agents/{bruno}"),
            t,
            json!({"role": "administrator"}),
        )
        .await;
    assert_eq!(status, 404);

    // Ids of the first account used inside their own account are 404 / 422.
    let (status, _) = app.get(&theirs(&format!("/inboxes/{inbox}")), t).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get(&theirs(&format!("/inbox_members/{inbox}")), t)
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .patch(
            &theirs(&format!("/inboxes/{inbox}")),
            t,
            json!({"name": "Mine now"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .delete(&theirs(&format!("/inboxes/{inbox}")), t, None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .patch(
            &theirs(&format!("/agents/{bruno}")),
            t,
            json!({"role": "administrator"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .delete(&theirs(&format!("/agents/{bruno}")), t, None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .post(
            &theirs("/inbox_members"),
            t,
            json!({"inbox_id": inbox, "user_ids": [other.user_id]}),
        )
        .await;
    assert_eq!(status, 404);
    // Their own inbox cannot take the first account's agent as collaborator.
    let (_, own_inbox) = app
        .post(
            &theirs("/inboxes"),
            t,
            json!({"name": "G", "channel": {"type": "api"}}),
        )
        .await;
    let own_inbox = own_inbox["id"].as_i64().expect("id");
    let (status, body) = app
        .post(
            &theirs("/inbox_members"),
            t,
            json!({"inbox_id": own_inbox, "user_ids": [bruno]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");

    // Nothing of the first account changed.
    let (_, members) = app
        .get(
            &env.path(&format!("/inbox_members/{inbox}")),
            &env.admin_token,
        )
        .await;
    assert_eq!(ids(&members), vec![bruno]);
    let (_, shown) = app
        .get(&env.path(&format!("/inboxes/{inbox}")), &env.admin_token)
        .await;
    assert_eq!(shown["name"], "Website");
    let (_, agent) = app.get(&env.path("/agents"), &env.admin_token).await;
    assert_eq!(agent[1]["role"], "agent");
}
