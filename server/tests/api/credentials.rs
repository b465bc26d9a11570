//! A person's credentials are theirs: an administrator of one account can
//! add anyone's e-mail, but never set the name or password of a person who
//! belongs to another account or has signed in, and a new password signs
//! out every other session.

use reqwest::Method;
use serde_json::json;

use crate::both_databases;
use crate::common::{new_account, sign_in, Db, Env, TestApp};
use crate::ws::{Closed, Ws};
use switchboard_server::api::throttle::ThrottleConfig;
use switchboard_server::Settings;

both_databases!(
    an_administrator_cannot_take_over_another_tenants_admin,
    an_added_agent_is_the_administrators_until_they_sign_in,
    a_new_password_signs_out_the_other_sessions,
    wrong_passwords_are_throttled
);

/// The status of a sign-in attempt.
async fn sign_in_status(app: &TestApp, email: &str, password: &str) -> u16 {
    app.call(
        Method::POST,
        "/auth/sign_in",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
    .0
}

async fn an_administrator_cannot_take_over_another_tenants_admin(db: Db) {
    let env = Env::start(db).await;
    let app = &env.app;
    let victim = new_account(&env.db, "Globex", "gus@globex.test").await;
    let theirs = |rest: &str| format!("/api/v1/accounts/{}{rest}", victim.account_id);

    // Account A names B's administrator, with a password of its choosing:
    // refused, nothing joins, the password is not theirs.
    let (status, refused) = app
        .post(
            &env.path("/agents"),
            &env.admin_token,
            json!({"name": "Mallory's alias", "email": "gus@globex.test",
                   "role": "agent", "password": "attacker-pass-1"}),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"], "person_exists");
    let (_, agents) = app.get(&env.path("/agents"), &env.admin_token).await;
    assert!(!agents.to_string().contains("gus@globex.test"), "{agents}");
    assert_eq!(
        sign_in_status(app, "gus@globex.test", "attacker-pass-1").await,
        401
    );
    let (_, me) = app.get("/api/v1/profile", &victim.access_token).await;
    assert_eq!(me["name"], "Ana Admin");

    // The other way round: A sets up a person with an e-mail B will use,
    // and signs in as them; B cannot take that person in.
    let (status, _) = app
        .post(
            &env.path("/agents"),
            &env.admin_token,
            json!({"name": "Carla", "email": "carla@globex.test",
                   "role": "agent", "password": "attacker-pass-1"}),
        )
        .await;
    assert_eq!(status, 200);
    sign_in(app, "carla@globex.test", "attacker-pass-1").await;
    let (status, refused) = app
        .post(
            &theirs("/agents"),
            &victim.access_token,
            json!({"name": "Carla", "email": "carla@globex.test", "role": "administrator"}),
        )
        .await;
    assert_eq!(
        (status, refused["error"].clone()),
        (409, json!("person_exists"))
    );

    // Someone nobody ever used (added, never signed in, removed) is free.
    let (_, dora) = app
        .post(
            &env.path("/agents"),
            &env.admin_token,
            json!({"name": "Dora", "email": "dora@globex.test", "role": "agent",
                   "password": "attacker-pass-1"}),
        )
        .await;
    let (status, _) = app
        .delete(
            &env.path(&format!("/agents/{}", dora["id"])),
            &env.admin_token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, taken) = app
        .post(
            &theirs("/agents"),
            &victim.access_token,
            json!({"name": "Dora Dias", "email": "dora@globex.test", "role": "agent",
                   "password": "dora-chose-1"}),
        )
        .await;
    assert_eq!(status, 200, "{taken}");
    assert_eq!(taken["name"], "Dora Dias", "set up afresh");
    assert_eq!(
        sign_in_status(app, "dora@globex.test", "attacker-pass-1").await,
        401,
        "the old password is gone"
    );
    sign_in(app, "dora@globex.test", "dora-chose-1").await;
}

async fn an_added_agent_is_the_administrators_until_they_sign_in(db: Db) {
    let env = Env::start(db).await;
    let app = &env.app;
    let (_, added) = app
        .post(
            &env.path("/agents"),
            &env.admin_token,
            json!({"name": "Bruno", "email": "bruno@acme.test", "role": "agent"}),
        )
        .await;
    let agent = env.path(&format!("/agents/{}", added["id"]));

    // Never signed in, in this account only: the administrator sets them up.
    let (status, named) = app
        .patch(
            &agent,
            &env.admin_token,
            json!({"name": "Bruno Lima", "password": "first-pass-1"}),
        )
        .await;
    assert_eq!(status, 200, "{named}");
    assert_eq!(named["name"], "Bruno Lima");
    let session = sign_in(app, "bruno@acme.test", "first-pass-1").await;

    // Once they have signed in, their password is theirs alone.
    let (status, refused) = app
        .patch(
            &agent,
            &env.admin_token,
            json!({"password": "second-pass-2"}),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        sign_in_status(app, "bruno@acme.test", "second-pass-2").await,
        401
    );
    let (status, _) = app.get("/api/v1/profile", &session).await;
    assert_eq!(status, 200, "the refused change signed nobody out");
}

async fn a_new_password_signs_out_the_other_sessions(db: Db) {
    let env = Env::start(db).await;
    let app = &env.app;
    let laptop = sign_in(app, "ana@acme.test", "password123").await;
    let phone = sign_in(app, "ana@acme.test", "password123").await;
    let (mut phone_console, _) = Ws::agent(app, &phone, env.account_id, None).await;
    let (mut laptop_console, _) = Ws::agent(app, &laptop, env.account_id, None).await;
    let (status, _) = app
        .patch(
            "/api/v1/profile",
            &laptop,
            json!({"password": "new-password-1", "current_password": "password123"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app.get("/api/v1/profile", &phone).await;
    assert_eq!(status, 401, "the other session is revoked");
    assert_eq!(
        phone_console.closed().await,
        Closed::Code(4003),
        "its console is closed"
    );
    let (status, _) = app.get("/api/v1/profile", &laptop).await;
    assert_eq!(status, 200, "the session that made the change stays");
    let (status, _) = app.get("/api/v1/profile", &env.admin_token).await;
    assert_eq!(status, 200, "API tokens are not sessions");
    laptop_console.send(json!({"type": "ping"})).await;
    laptop_console.event("pong").await;

    // Signing out closes that session's console too.
    let (status, _) = app
        .call(Method::DELETE, "/auth/sign_out", Some(&laptop), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(laptop_console.closed().await, Closed::Code(4003));

    // So does leaving the account: a removed agent hears nothing more.
    let (bruno, bruno_token) = env.agent("Bruno", "bruno@acme.test", "agent").await;
    let (mut bruno_console, _) = Ws::agent(app, &bruno_token, env.account_id, None).await;
    let (status, _) = app
        .delete(
            &env.path(&format!("/agents/{bruno}")),
            &env.admin_token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(bruno_console.closed().await, Closed::Code(4003));
}

async fn wrong_passwords_are_throttled(db: Db) {
    let mut settings = Settings::new("https://switchboard.test");
    settings.sign_in = ThrottleConfig {
        free_per_email: 3,
        free_per_address: 5,
        ..ThrottleConfig::default()
    };
    let env = Env::start_with(db, settings).await;
    let app = &env.app;
    let attempt = |email: &'static str, password: &'static str| async move {
        app.call(
            Method::POST,
            "/auth/sign_in",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    };
    // Three free guesses per e-mail, then a wait, before any password is
    // looked at (the right one too).
    for _ in 0..3 {
        assert_eq!(attempt("ana@acme.test", "wrong-password").await.0, 401);
    }
    let (status, held) = attempt("ana@acme.test", "password123").await;
    assert_eq!(status, 429, "{held}");
    assert_eq!(held["error"], "too_many_attempts");
    // Five per address, whatever the e-mails, known or not.
    for _ in 0..2 {
        assert_eq!(attempt("nobody@acme.test", "wrong-password").await.0, 401);
    }
    let (status, held) = attempt("carla@acme.test", "wrong-password").await;
    assert_eq!(status, 429, "the address is held back: {held}");
    let raw = reqwest::Client::new()
        .post(format!("{}/auth/sign_in", app.base))
        .json(&json!({"email": "ana@acme.test", "password": "password123"}))
        .send()
        .await
        .expect("request");
    assert_eq!(raw.status(), 429);
    assert_eq!(
        raw.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    // Once the wait is over the right password works, and clears the
    // e-mail's count.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    sign_in(app, "ana@acme.test", "password123").await;

    // The profile's current password is guessed no faster.
    for _ in 0..3 {
        let (status, _) = app
            .patch(
                "/api/v1/profile",
                &env.admin_token,
                json!({"password": "new-password-1", "current_password": "guess-guess"}),
            )
            .await;
        assert!(status == 422 || status == 429, "{status}");
    }
    let (status, held) = app
        .patch(
            "/api/v1/profile",
            &env.admin_token,
            json!({"password": "new-password-1", "current_password": "password123"}),
        )
        .await;
    assert_eq!(status, 429, "{held}");
}
