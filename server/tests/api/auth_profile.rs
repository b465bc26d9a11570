//! Signing in and out, and the profile: full name, display name, password,
//! availability.

use reqwest::Method;
use serde_json::json;

use crate::both_databases;
use crate::common::{sign_in, Db, Env};

both_databases!(sign_in_and_out, profile_changes);

async fn sign_in_and_out(db: Db) {
    let env = Env::start(db).await;
    let app = &env.app;
    let session = sign_in(app, "ANA@acme.test", "password123").await;
    assert_ne!(session, env.admin_token);
    let (status, me) = app.get("/api/v1/profile", &session).await;
    assert_eq!(status, 200);
    assert_eq!(me["access_token"], session.as_str());
    assert_eq!(me["account_id"], env.account_id);
    assert_eq!(me["role"], "administrator");
    assert_eq!(me["accounts"][0]["id"], env.account_id);

    // A wrong password and an unknown e-mail get the same answer.
    for (email, password) in [
        ("ana@acme.test", "wrong-password"),
        ("nobody@acme.test", "password123"),
    ] {
        let (status, body) = app
            .call(
                Method::POST,
                "/auth/sign_in",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(status, 401);
        assert_eq!(body["error"], "invalid_credentials");
    }
    // An agent created without a password cannot sign in until one is set.
    let (_, agent) = app
        .post(
            &env.path("/agents"),
            &env.admin_token,
            json!({"name": "Bruno", "email": "bruno@acme.test", "role": "agent"}),
        )
        .await;
    let (status, _) = app
        .call(
            Method::POST,
            "/auth/sign_in",
            None,
            Some(json!({"email": "bruno@acme.test", "password": ""})),
        )
        .await;
    assert_eq!(status, 401);
    let bruno = agent["id"].as_i64().expect("id");
    app.patch(
        &env.path(&format!("/agents/{bruno}")),
        &env.admin_token,
        json!({"password": "bruno-secret"}),
    )
    .await;
    sign_in(app, "bruno@acme.test", "bruno-secret").await;

    // Signing out revokes that session only.
    let (status, _) = app
        .call(Method::DELETE, "/auth/sign_out", Some(&session), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = app.get("/api/v1/profile", &session).await;
    assert_eq!(status, 401);
    let (status, _) = app
        .call(
            Method::DELETE,
            "/auth/sign_out",
            Some(&env.admin_token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app.get("/api/v1/profile", &env.admin_token).await;
    assert_eq!(
        status, 200,
        "the API token is not a session and stays valid"
    );
}

async fn profile_changes(db: Db) {
    let env = Env::start(db).await;
    let app = &env.app;
    let t = env.admin_token.as_str();

    // Chatwoot's dashboard wraps fields in "profile"; bare fields work too.
    let (status, me) = app
        .call(
            Method::PUT,
            "/api/v1/profile",
            Some(t),
            Some(json!({"profile": {"name": "Ana Souza", "display_name": "Ana"}})),
        )
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], "Ana Souza");
    assert_eq!(me["display_name"], "Ana");
    assert_eq!(me["available_name"], "Ana");
    let (_, agents) = app.get(&env.path("/agents"), t).await;
    assert_eq!(
        agents[0]["available_name"], "Ana",
        "agents show the display name"
    );

    let (_, me) = app
        .patch("/api/v1/profile", t, json!({"display_name": null}))
        .await;
    assert_eq!(
        me["available_name"], "Ana Souza",
        "no display name: the full name shows"
    );

    // Availability is per account.
    let (_, me) = app
        .patch("/api/v1/profile", t, json!({"availability": "busy"}))
        .await;
    assert_eq!(me["accounts"][0]["availability_status"], "busy");
    let (_, me) = app
        .patch("/api/v1/profile", t, json!({"availability": "online"}))
        .await;
    assert_eq!(me["accounts"][0]["availability_status"], "available");

    // Changing the password needs the current one.
    let (status, _) = app
        .patch("/api/v1/profile", t, json!({"password": "new-password-1"}))
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .patch(
            "/api/v1/profile",
            t,
            json!({"password": "new-password-1", "current_password": "nope-nope"}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .patch(
            "/api/v1/profile",
            t,
            json!({"password": "new-password-1", "current_password": "password123"}),
        )
        .await;
    assert_eq!(status, 200);
    sign_in(app, "ana@acme.test", "new-password-1").await;

    // An e-mail another user has is a conflict; bad values are 422.
    env.agent("Bruno", "bruno@acme.test", "agent").await;
    let (status, _) = app
        .patch("/api/v1/profile", t, json!({"email": "bruno@acme.test"}))
        .await;
    assert_eq!(status, 409);
    let (status, _) = app.patch("/api/v1/profile", t, json!({"name": ""})).await;
    assert_eq!(status, 422);
    let (status, _) = app
        .patch("/api/v1/profile", t, json!({"availability": "asleep"}))
        .await;
    assert_eq!(status, 422);
    let (_, me) = app.get("/api/v1/profile", t).await;
    assert_eq!(me["email"], "ana@acme.test");
    assert_eq!(me["name"], "Ana Souza");
}
