//! The help article's settings walk-through over the documented API: agents,
//! a website inbox, its collaborators and conversation assignment.

use serde_json::json;

use crate::both_databases;
use crate::common::{ids, Db, Env};

both_databases!(
    article_walkthrough,
    agent_email_rules,
    removing_an_agent_removes_collaborations
);

async fn article_walkthrough(db: Db) {
    let env = Env::start(db).await;
    let (app, token) = (&env.app, env.admin_token.as_str());

    let (bruno, _) = env.agent("Bruno Lima", "bruno@acme.test", "agent").await;
    let (carla, _) = env.agent("Carla Dias", "carla@acme.test", "agent").await;

    let (status, inbox) = app
        .post(
            &env.path("/inboxes"),
            token,
            json!({
                "name": "Website",
                "channel": {"type": "web_widget", "website_url": "https://acme.test",
                            "welcome_title": "Hi!", "widget_color": "#FF5733"},
                "greeting_enabled": true,
                "greeting_message": "Olá!"
            }),
        )
        .await;
    assert_eq!(status, 200, "{inbox}");
    let inbox_id = inbox["id"].as_i64().expect("id");
    assert_eq!(inbox["channel_type"], "Channel::WebWidget");
    assert_eq!(inbox["widget_color"], "#ff5733");
    assert_eq!(inbox["greeting_message"], "Olá!");
    let website_token = inbox["website_token"].as_str().expect("website_token");
    assert!(website_token.len() >= 20);
    assert!(inbox["web_widget_script"]
        .as_str()
        .expect("script")
        .contains(website_token));
    assert!(inbox.get("inbox_identifier").is_none());

    // Colaboradores: add both sellers.
    let (status, members) = app
        .post(
            &env.path("/inbox_members"),
            token,
            json!({"inbox_id": inbox_id, "user_ids": [bruno, carla]}),
        )
        .await;
    assert_eq!(status, 200, "{members}");
    assert_eq!(ids(&members), vec![bruno, carla]);

    // Atribuição de conversa: on, at most 5 per agent.
    let (status, updated) = app
        .patch(
            &env.path(&format!("/inboxes/{inbox_id}")),
            token,
            json!({"enable_auto_assignment": true, "auto_assignment_config": {"max_assignment_limit": 5}}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["auto_assignment_config"]["max_assignment_limit"], 5);
    assert_eq!(
        updated["greeting_message"], "Olá!",
        "PATCH keeps untouched fields"
    );

    // Everything reads back in Chatwoot's shapes.
    let (_, shown) = app
        .get(&env.path(&format!("/inboxes/{inbox_id}")), token)
        .await;
    assert_eq!(shown, updated);
    let (_, listed) = app.get(&env.path("/inboxes"), token).await;
    assert_eq!(listed["payload"][0], updated);
    let (_, agents) = app.get(&env.path("/agents"), token).await;
    assert_eq!(ids(&agents), vec![env.admin_id, bruno, carla]);
    let carla_json = &agents[2];
    assert_eq!(carla_json["name"], "Carla Dias");
    assert_eq!(carla_json["available_name"], "Carla Dias");
    assert_eq!(carla_json["role"], "agent");
    assert_eq!(carla_json["availability_status"], "available");
    assert_eq!(carla_json["account_id"], env.account_id);
    let (_, members) = app
        .get(&env.path(&format!("/inbox_members/{inbox_id}")), token)
        .await;
    assert_eq!(ids(&members), vec![bruno, carla]);

    // Remove one collaborator.
    let (status, remaining) = app
        .delete(
            &env.path("/inbox_members"),
            token,
            Some(json!({"inbox_id": inbox_id.to_string(), "user_ids": [carla]})),
        )
        .await;
    assert_eq!(status, 200, "{remaining}");
    assert_eq!(ids(&remaining), vec![bruno]);
    let (_, members) = app
        .get(&env.path(&format!("/inbox_members/{inbox_id}")), token)
        .await;
    assert_eq!(ids(&members), vec![bruno]);

    // PATCH replaces the whole list; an empty list empties it.
    let (_, replaced) = app
        .patch(
            &env.path("/inbox_members"),
            token,
            json!({"inbox_id": inbox_id, "user_ids": [carla]}),
        )
        .await;
    assert_eq!(ids(&replaced), vec![carla]);

    // Clearing the maximum means no limit.
    let (_, unlimited) = app
        .patch(
            &env.path(&format!("/inboxes/{inbox_id}")),
            token,
            json!({"auto_assignment_config": {}}),
        )
        .await;
    assert!(unlimited["auto_assignment_config"]
        .get("max_assignment_limit")
        .is_none());

    // An API inbox gets an identifier instead of a website token.
    let (status, api_inbox) = app
        .post(
            &env.path("/inboxes"),
            token,
            json!({"name": "Bridge", "channel": {"type": "api", "webhook_url": "https://hooks.acme.test/in"}}),
        )
        .await;
    assert_eq!(status, 200, "{api_inbox}");
    assert_eq!(api_inbox["channel_type"], "Channel::Api");
    assert!(api_inbox["inbox_identifier"].as_str().is_some());
    assert!(api_inbox.get("website_token").is_none());
    assert_eq!(api_inbox["webhook_url"], "https://hooks.acme.test/in");

    // Deleting an inbox removes it from the account.
    let api_id = api_inbox["id"].as_i64().expect("id");
    let (status, _) = app
        .delete(&env.path(&format!("/inboxes/{api_id}")), token, None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .get(&env.path(&format!("/inboxes/{api_id}")), token)
        .await;
    assert_eq!(status, 404);
}

async fn agent_email_rules(db: Db) {
    let env = Env::start(db).await;
    let (app, token) = (&env.app, env.admin_token.as_str());
    let (_, first) = app
        .post(
            &env.path("/agents"),
            token,
            json!({"name": "Bruno", "email": "Bruno@Acme.test", "role": "agent"}),
        )
        .await;
    assert_eq!(
        first["email"], "bruno@acme.test",
        "e-mails are stored lower-case"
    );
    let (status, dup) = app
        .post(
            &env.path("/agents"),
            token,
            json!({"name": "Other", "email": "bruno@acme.test", "role": "agent"}),
        )
        .await;
    assert_eq!(status, 409, "{dup}");

    // Another account cannot add a person someone already set up: e-mails
    // are not verified, so whoever set them up may know their password.
    let other = crate::common::new_account(&env.db, "Globex", "gus@globex.test").await;
    let (status, refused) = app
        .post(
            &format!("/api/v1/accounts/{}/agents", other.account_id),
            &other.access_token,
            json!({"name": "Someone Else", "email": "bruno@acme.test", "role": "administrator"}),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"], "person_exists");
    let (_, theirs) = app
        .get(
            &format!("/api/v1/accounts/{}/agents", other.account_id),
            &other.access_token,
        )
        .await;
    assert_eq!(crate::common::ids(&theirs), vec![other.user_id]);
    let _ = first;
}

async fn removing_an_agent_removes_collaborations(db: Db) {
    let env = Env::start(db).await;
    let (app, token) = (&env.app, env.admin_token.as_str());
    let (bruno, bruno_token) = env.agent("Bruno", "bruno@acme.test", "agent").await;
    let inbox = env.web_inbox("Website").await;
    app.post(
        &env.path("/inbox_members"),
        token,
        json!({"inbox_id": inbox, "user_ids": [bruno]}),
    )
    .await;
    let (status, _) = app
        .delete(&env.path(&format!("/agents/{bruno}")), token, None)
        .await;
    assert_eq!(status, 200);
    let (_, members) = app
        .get(&env.path(&format!("/inbox_members/{inbox}")), token)
        .await;
    assert!(ids(&members).is_empty());
    let (_, agents) = app.get(&env.path("/agents"), token).await;
    assert_eq!(ids(&agents), vec![env.admin_id]);
    // The removed agent's token no longer opens the account.
    let (status, _) = app.get(&env.path("/inboxes"), &bruno_token).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .delete(&env.path(&format!("/agents/{bruno}")), token, None)
        .await;
    assert_eq!(status, 404);
}
