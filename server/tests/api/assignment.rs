//! Automatic assignment over the API: the help article's promise (new
//! conversations go straight to a collaborator, up to the maximum, then wait
//! in Unassigned), the policies, queue pull, and exact caps under a storm of
//! concurrent creations.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{Db, Env};
use crate::conversations::contact;

both_databases!(
    article_promise_policies_and_queue,
    ten_thousand_at_once,
    time_rules_move_conversations,
    no_reply_clock_survives_restart,
);

/// Adds an agent who counts as present without a console.
async fn present_agent(env: &Env, name: &str) -> i64 {
    let email = format!("{}@acme.test", name.to_lowercase());
    let body = json!({"name": name, "email": email, "role": "agent", "auto_offline": false});
    let (status, agent) = env
        .app
        .post(&env.path("/agents"), &env.admin_token, body)
        .await;
    assert_eq!(status, 200, "{agent}");
    agent["id"].as_i64().expect("id")
}

async fn configure(env: &Env, inbox: i64, settings: Value) {
    let path = env.path(&format!("/inboxes/{inbox}"));
    let (status, body) = env.app.patch(&path, &env.admin_token, settings).await;
    assert_eq!(status, 200, "{body}");
}

async fn new_conversation(env: &Env, inbox: i64, contact: i64) -> Value {
    crate::conversations::open(env, inbox, contact, json!({})).await
}

async fn show(env: &Env, id: &Value) -> Value {
    let path = env.path(&format!("/conversations/{id}"));
    env.app.get(&path, &env.admin_token).await.1
}

async fn resolve(env: &Env, id: &Value) {
    let path = env.path(&format!("/conversations/{id}/toggle_status"));
    let (status, body) = env
        .app
        .post(&path, &env.admin_token, json!({"status": "resolved"}))
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn article_promise_policies_and_queue(db: Db) {
    let env = Env::start(db).await;
    let t = env.admin_token.clone();
    let bruno = present_agent(&env, "Bruno").await;
    let carla = present_agent(&env, "Carla").await;
    let davi = present_agent(&env, "Davi").await;
    let inbox = env.web_inbox("WhatsApp").await;
    let members = json!({"inbox_id": inbox, "user_ids": [bruno, carla, davi]});
    env.app.post(&env.path("/inbox_members"), &t, members).await;
    configure(
        &env,
        inbox,
        json!({"enable_auto_assignment": true,
        "auto_assignment_config": {"max_assignment_limit": 2}}),
    )
    .await;
    let davi_busy = json!({"availability_status": "busy"});
    env.app
        .patch(&env.path(&format!("/agents/{davi}")), &t, davi_busy)
        .await;
    let visitor = contact(&env, "Visitor").await;

    // Round robin over the available collaborators, up to 2 each; Davi is busy.
    let mut made = Vec::new();
    for _ in 0..6 {
        made.push(new_conversation(&env, inbox, visitor).await);
    }
    let assignees: Vec<Value> = made.iter().map(|c| c["assignee_id"].clone()).collect();
    assert_eq!(
        assignees,
        vec![
            json!(bruno),
            json!(carla),
            json!(bruno),
            json!(carla),
            Value::Null,
            Value::Null
        ]
    );
    assert_eq!(made[0]["meta"]["assignee"]["name"], "Bruno");
    // The collaborators list tells an assignee picker how loaded each one is.
    let (_, listed) = env
        .app
        .get(&env.path(&format!("/inbox_members/{inbox}")), &t)
        .await;
    let load = |id: i64| {
        let one = listed["payload"]
            .as_array()
            .expect("payload")
            .iter()
            .find(|a| a["id"] == id)
            .expect("listed")
            .clone();
        (
            one["open_conversations"].clone(),
            one["open_conversations_total"].clone(),
            one["present"].clone(),
        )
    };
    assert_eq!(load(bruno), (json!(2), json!(2), json!(false)));
    assert_eq!(load(davi), (json!(0), json!(0), json!(false)));
    assert_eq!(made[4]["queue_position"], 1);
    assert_eq!(made[5]["queue_position"], 2);
    assert!(made[0]["queue_position"].is_null());
    let history = env.path(&format!("/conversations/{}/messages", made[0]["id"]));
    let (_, history) = env.app.get(&history, &t).await;
    assert_eq!(
        history["payload"][0]["content"],
        "Assigned to Bruno automatically"
    );

    // Without queue pull, a freed slot waits for the next new conversation.
    resolve(&env, &made[0]["id"]).await;
    assert!(show(&env, &made[4]["id"]).await["assignee_id"].is_null());

    // Turning queue pull on hands the oldest waiting one to Bruno at once...
    configure(
        &env,
        inbox,
        json!({"auto_assignment_config":
        {"max_assignment_limit": 2, "assign_from_queue": true}}),
    )
    .await;
    assert_eq!(show(&env, &made[4]["id"]).await["assignee_id"], bruno);
    assert_eq!(show(&env, &made[5]["id"]).await["queue_position"], 1);
    // ...and a resolve frees a slot for the next one within the same request.
    resolve(&env, &made[1]["id"]).await;
    assert_eq!(show(&env, &made[5]["id"]).await["assignee_id"], carla);

    // Davi comes back: nothing waits, so nothing moves; the next goes to him
    // as the only one with room.
    let available = json!({"availability_status": "available"});
    env.app
        .patch(&env.path(&format!("/agents/{davi}")), &t, available)
        .await;
    assert_eq!(
        new_conversation(&env, inbox, visitor).await["assignee_id"],
        davi
    );

    // Balanced: the freest first.
    configure(
        &env,
        inbox,
        json!({"auto_assignment_config":
        {"max_assignment_limit": 3, "policy": "balanced", "assign_from_queue": true}}),
    )
    .await;
    assert_eq!(
        new_conversation(&env, inbox, visitor).await["assignee_id"],
        davi
    );

    // Carla leaves the inbox: her conversations go back to the queue and on
    // to whoever has room.
    let members = json!({"inbox_id": inbox, "user_ids": [carla]});
    env.app
        .delete(&env.path("/inbox_members"), &t, Some(members))
        .await;
    let moved = show(&env, &made[3]["id"]).await;
    assert_ne!(moved["assignee_id"], carla);
    assert!(!moved["assignee_id"].is_null(), "someone had room: {moved}");

    // Off means off; manual assignment still works and may pass the cap.
    configure(&env, inbox, json!({"enable_auto_assignment": false})).await;
    let manual = new_conversation(&env, inbox, visitor).await;
    assert!(manual["assignee_id"].is_null());
    let assign = env.path(&format!("/conversations/{}/assignments", manual["id"]));
    let (status, _) = env
        .app
        .post(&assign, &t, json!({"assignee_id": bruno}))
        .await;
    assert_eq!(status, 200);
}

/// Assignee of every unresolved conversation (None: unassigned), by id.
async fn holders(env: &Env) -> BTreeMap<i64, Option<i64>> {
    let mut all = BTreeMap::new();
    for page in 1.. {
        let path = env.path(&format!("/conversations?status=open&page={page}"));
        let (_, list) = env.app.get(&path, &env.admin_token).await;
        let payload = list["data"]["payload"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if payload.is_empty() {
            break;
        }
        for c in payload {
            all.insert(c["id"].as_i64().expect("id"), c["assignee_id"].as_i64());
        }
    }
    all
}

async fn ten_thousand_at_once(db: Db) {
    let env = Env::start(db).await;
    let t = env.admin_token.clone();
    let mut agents = Vec::new();
    for n in 0..50 {
        agents.push(present_agent(&env, &format!("Agent{n}")).await);
    }
    let inbox = env.web_inbox("Storm").await;
    let members = json!({"inbox_id": inbox, "user_ids": agents});
    env.app.post(&env.path("/inbox_members"), &t, members).await;
    configure(
        &env,
        inbox,
        json!({"auto_assignment_config": {"max_assignment_limit": 5}}),
    )
    .await;
    let visitor = contact(&env, "Visitor").await;
    let (_, first) = env
        .app
        .post(
            &env.path("/conversations"),
            &t,
            json!({"inbox_id": inbox, "contact_id": visitor, "source_id": "storm"}),
        )
        .await;
    assert!(first["assignee_id"].as_i64().is_some());

    // 9,999 more, 64 at a time, over HTTP.
    let env = Arc::new(env);
    let body = json!({"inbox_id": inbox, "source_id": "storm"});
    let mut tasks = Vec::new();
    for worker in 0..64 {
        let (env, body) = (env.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = worker;
            while n < 9_999 {
                let (status, c) = env
                    .app
                    .post(&env.path("/conversations"), &env.admin_token, body.clone())
                    .await;
                assert_eq!(status, 200, "{c}");
                n += 64;
            }
        }));
    }
    for task in tasks {
        task.await.expect("creator");
    }
    let env = Arc::try_unwrap(env).unwrap_or_else(|_| panic!("env still shared"));
    let held = holders(&env).await;
    assert_eq!(held.len(), 10_000);
    let mut per_agent: BTreeMap<i64, usize> = BTreeMap::new();
    for agent in held.values().flatten() {
        *per_agent.entry(*agent).or_default() += 1;
    }
    assert_eq!(per_agent.len(), 50, "every agent got conversations");
    assert!(per_agent.values().all(|&n| n == 5), "{per_agent:?}");
    assert_eq!(held.values().filter(|a| a.is_none()).count(), 9_750);

    // A restart changes nothing in who holds what.
    let env = env.restart().await;
    assert_eq!(holders(&env).await, held);

    // Queue pull on, then 100 resolves: exactly the 100 oldest waiting move.
    configure(
        &env,
        inbox,
        json!({"auto_assignment_config":
        {"max_assignment_limit": 5, "assign_from_queue": true}}),
    )
    .await;
    let assigned: Vec<i64> = held
        .iter()
        .filter(|(_, a)| a.is_some())
        .map(|(id, _)| *id)
        .collect();
    for id in assigned.iter().take(100) {
        resolve(&env, &json!(id)).await;
    }
    let after = holders(&env).await;
    let waiting_before: Vec<i64> = held
        .iter()
        .filter(|(_, a)| a.is_none())
        .map(|(id, _)| *id)
        .collect();
    let pulled: Vec<i64> = waiting_before
        .iter()
        .copied()
        .filter(|id| after[id].is_some())
        .collect();
    assert_eq!(pulled, waiting_before[..100].to_vec(), "oldest first");
    let mut per_agent: BTreeMap<i64, usize> = BTreeMap::new();
    for agent in after.values().flatten() {
        *per_agent.entry(*agent).or_default() += 1;
    }
    assert!(per_agent.values().all(|&n| n == 5), "{per_agent:?}");
}

/// Polls the conversation until `done` holds (the hub's sweeper runs every
/// second), for at most ten seconds.
async fn eventually(env: &Env, id: &Value, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..50 {
        let c = show(env, id).await;
        if done(&c) {
            return c;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!(
        "conversation {id} never reached the expected state: {}",
        show(env, id).await
    );
}

async fn time_rules_move_conversations(db: Db) {
    let env = Env::start(db).await;
    let t = env.admin_token.clone();
    let (bruno, bruno_token) = env.agent("Bruno", "bruno@acme.test", "agent").await;
    let (carla, _) = env.agent("Carla", "carla@acme.test", "agent").await;
    for agent in [bruno, carla] {
        let path = env.path(&format!("/agents/{agent}"));
        env.app
            .patch(&path, &t, json!({"auto_offline": false}))
            .await;
    }
    let inbox = env.web_inbox("Website").await;
    let members = json!({"inbox_id": inbox, "user_ids": [bruno, carla]});
    env.app.post(&env.path("/inbox_members"), &t, members).await;
    configure(
        &env,
        inbox,
        json!({"auto_assignment_config": {
        "reassign_after_seconds": 2, "on_agent_offline": "requeue", "offline_grace_seconds": 1}}),
    )
    .await;
    let (_, shown) = env
        .app
        .get(&env.path(&format!("/inboxes/{inbox}")), &t)
        .await;
    assert_eq!(
        shown["auto_assignment_config"]["on_agent_offline"],
        "requeue"
    );
    let visitor = contact(&env, "Visitor").await;

    // Nobody answers: the conversation moves on to the other collaborator.
    let first = new_conversation(&env, inbox, visitor).await;
    let holder = first["assignee_id"].as_i64().expect("assigned");
    let other = if holder == bruno { carla } else { bruno };
    eventually(&env, &first["id"], |c| c["assignee_id"] == other).await;
    let history = env.path(&format!("/conversations/{}/messages", first["id"]));
    let (_, history) = env.app.get(&history, &t).await;
    let last = history["payload"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    assert!(
        last["content"]
            .as_str()
            .is_some_and(|l| l.contains("automatically: no reply from")),
        "{last}"
    );

    // Bruno answers his: it stays his.
    let mut mine = new_conversation(&env, inbox, visitor).await;
    while mine["assignee_id"] != bruno {
        mine = new_conversation(&env, inbox, visitor).await;
    }
    let reply = env.path(&format!("/conversations/{}/messages", mine["id"]));
    let (status, _) = env
        .app
        .post(&reply, &bruno_token, json!({"content": "Olá!"}))
        .await;
    assert_eq!(status, 200);
    // Clocks count whole seconds: 2 s leaves at least one full second
    // between the automatic assignment and the earliest reassignment, so
    // the reply above always lands first.
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    assert_eq!(show(&env, &mine["id"]).await["assignee_id"], bruno);

    // Bruno goes offline: after the grace period his open conversations
    // return to the queue (Carla is the only one left, and queue pull is off).
    let away = json!({"availability": "offline"});
    env.app.patch("/api/v1/profile", &bruno_token, away).await;
    let back = eventually(&env, &mine["id"], |c| c["assignee_id"].is_null()).await;
    assert_eq!(back["queue_position"].as_i64().map(|p| p >= 1), Some(true));
}

async fn no_reply_clock_survives_restart(db: Db) {
    let env = Env::start(db).await;
    let t = env.admin_token.clone();
    let bruno = present_agent(&env, "Bruno").await;
    let carla = present_agent(&env, "Carla").await;
    let inbox = env.web_inbox("Website").await;
    let members = json!({"inbox_id": inbox, "user_ids": [bruno, carla]});
    env.app.post(&env.path("/inbox_members"), &t, members).await;
    configure(
        &env,
        inbox,
        json!({"enable_auto_assignment": true,
        "auto_assignment_config": {"reassign_after_seconds": 2}}),
    )
    .await;
    let visitor = contact(&env, "Visitor").await;
    let unanswered = new_conversation(&env, inbox, visitor).await;
    let holder = unanswered["assignee_id"].as_i64().expect("assigned");
    let other = if holder == bruno { carla } else { bruno };

    // The server restarts before the clock runs out: it still runs out.
    let env = env.restart().await;
    let moved = eventually(&env, &unanswered["id"], |c| c["assignee_id"] == other).await;
    assert_eq!(moved["status"], "open");
}
