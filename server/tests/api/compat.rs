//! What Chatwoot clients send that a strict reading of the paths would
//! refuse: trailing slashes (Chatwoot's own OpenAPI file names
//! `.../inboxes/{id}/`, and Rails answers both forms).

use reqwest::Method;
use serde_json::json;

use crate::both_databases;
use crate::common::{Db, Env};

both_databases!(trailing_slashes_are_accepted);

async fn trailing_slashes_are_accepted(db: Db) {
    let env = Env::start(db).await;
    let (app, t) = (&env.app, env.admin_token.as_str());
    let inbox = env.web_inbox("Website").await;
    let shown = env.path(&format!("/inboxes/{inbox}"));
    let (status, plain) = app.get(&shown, t).await;
    assert_eq!(status, 200);
    let (status, slashed) = app.get(&format!("{shown}/"), t).await;
    assert_eq!(status, 200, "{slashed}");
    assert_eq!(slashed, plain);

    let (status, list) = app.get(&env.path("/inboxes/"), t).await;
    assert_eq!(status, 200, "{list}");
    let (status, contact) = app
        .post(&env.path("/contacts/"), t, json!({"name": "Joana"}))
        .await;
    assert_eq!(status, 200, "{contact}");
    let (status, renamed) = app
        .patch(&format!("{shown}/"), t, json!({"name": "Site"}))
        .await;
    assert_eq!((status, renamed["name"].clone()), (200, json!("Site")));
    let (status, _) = app
        .call(Method::GET, "/api/v1/profile/", Some(t), None)
        .await;
    assert_eq!(status, 200);
    // Unknown paths stay unknown, slash or not.
    let (status, _) = app.get(&env.path("/nothing/"), t).await;
    assert_eq!(status, 404);
}
