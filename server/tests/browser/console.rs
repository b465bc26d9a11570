//! The agent console, walking the help article: an administrator adds two
//! agents as collaborators of the website inbox and turns on conversation
//! assignment with a maximum of one; three visitors write in; each agent's
//! Mine shows exactly one and Unassigned shows the third; agent A resolves
//! hers and takes the waiting one; the administrator reassigns it to agent B
//! through Conversation actions (the picker shows each agent's load against
//! the maximum, and that they are there); agent B changes display name and
//! the visitor sees the new name on the next reply; removing a collaborator
//! asks first. Three consoles stay
//! consistent with each other and with the API throughout, without reloads.

use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{ids, sign_in, Db, Env};
use crate::webdriver::Browser;
use crate::ws::Ws;

both_databases!(the_article_walked_in_three_consoles);

const PASSWORD: &str = "password123";

/// Signs in through the login form and waits for the conversation lists.
pub(crate) async fn log_in(browser: &Browser, base: &str, email: &str, password: &str) {
    browser.goto(&format!("{base}/app/login")).await;
    browser
        .wait_for(
            "the login form",
            "return !!document.querySelector('#login-email');",
            json!([]),
        )
        .await;
    browser.type_into("#login-email", email).await;
    browser.type_into("#login-password", password).await;
    browser.click("#login-submit").await;
    browser
        .wait_for(
            "the conversation lists",
            "return !!document.querySelector('#tab-mine');",
            json!([]),
        )
        .await;
}

/// The console's tab counts: (mine, unassigned, all).
async fn counts(browser: &Browser) -> Value {
    browser
        .run(
            "const n = id => { const e = document.querySelector(id + ' .count');
                               return e ? parseInt(e.textContent, 10) : null; };
             return [n('#tab-mine'), n('#tab-unassigned'), n('#tab-all')];",
            json!([]),
        )
        .await
}

/// Waits until the console shows the same counts as the API gives `token`.
async fn consistent(env: &Env, browser: &Browser, token: &str, who: &str) -> Value {
    let deadline = tokio::time::Instant::now() + crate::webdriver::WAIT;
    loop {
        let (_, meta) = env.app.get(&env.path("/conversations/meta"), token).await;
        let api = json!([
            meta["meta"]["mine_count"],
            meta["meta"]["unassigned_count"],
            meta["meta"]["all_count"]
        ]);
        let shown = counts(browser).await;
        if shown == api {
            return shown;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{who}'s console shows {shown} but the API says {api}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Every console shows the counts the API gives its user.
async fn all_consistent(env: &Env, consoles: &[(&Browser, &str, &str)]) {
    for (browser, token, who) in consoles {
        consistent(env, browser, token, who).await;
    }
}

/// Waits until the API says `conversation` is assigned to `agent`.
async fn assigned_to(env: &Env, conversation: i64, agent: i64, what: &str) {
    let deadline = tokio::time::Instant::now() + crate::webdriver::WAIT;
    loop {
        let path = env.path(&format!("/conversations/{conversation}"));
        let (_, c) = env.app.get(&path, &env.admin_token).await;
        if c["meta"]["assignee"]["id"] == agent {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not assign {conversation} to {agent}: {c}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Ids of the rows the current list shows.
async fn rows(browser: &Browser) -> Vec<i64> {
    let ids = browser
        .run(
            "return Array.from(document.querySelectorAll('#conversation-list .conversation-row'))
                .map(r => parseInt(r.getAttribute('data-conversation-id'), 10));",
            json!([]),
        )
        .await;
    ids.as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

async fn tab(browser: &Browser, name: &str) -> Vec<i64> {
    browser.click(&format!("#tab-{name}")).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    rows(browser).await
}

/// Opens a conversation from the current list.
async fn open(browser: &Browser, id: i64) {
    browser
        .click(&format!(
            "#conversation-list .conversation-row[data-conversation-id='{id}']"
        ))
        .await;
    browser
        .wait_for(
            "the conversation view",
            &format!("const c = document.querySelector('#conversation'); return !!c && c.getAttribute('data-conversation-id') === '{id}';"),
            json!([]),
        )
        .await;
}

async fn set_value(browser: &Browser, css: &str, value: &str) {
    browser
        .run(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1];
             e.dispatchEvent(new Event('input', {bubbles: true}));
             e.dispatchEvent(new Event('change', {bubbles: true}));",
            json!([css, value]),
        )
        .await;
}

async fn the_article_walked_in_three_consoles(db: Db) {
    let Some(admin) = crate::browser(1280, 800).await else {
        return;
    };
    let env = Env::start(db).await;
    let base = env.app.base.clone();
    let (status, inbox) = env
        .app
        .post(&env.path("/inboxes"), &env.admin_token,
            json!({"name": "Website", "channel": {"type": "web_widget", "website_url": "https://acme.test"}}))
        .await;
    assert_eq!(status, 200, "{inbox}");
    let inbox_id = inbox["id"].as_i64().expect("inbox id");
    let website_token = inbox["website_token"].as_str().expect("token").to_string();

    // The administrator signs in and creates the two agents.
    log_in(&admin, &base, "ana@acme.test", PASSWORD).await;
    admin.shot("console-conversations-empty", db).await;
    admin.goto(&format!("{base}/app/settings/agents")).await;
    for (name, email) in [
        ("Bruna Costa", "bruna@acme.test"),
        ("Caio Reis", "caio@acme.test"),
    ] {
        admin
            .wait_for(
                "the agent form",
                "return !!document.querySelector('#agent-create');",
                json!([]),
            )
            .await;
        set_value(&admin, "#agent-name", name).await;
        set_value(&admin, "#agent-email", email).await;
        set_value(&admin, "#agent-role", "agent").await;
        set_value(&admin, "#agent-password", PASSWORD).await;
        admin.click("#agent-create").await;
        admin
            .wait_for(
                "the new agent's row",
                "return Array.from(document.querySelectorAll('.agent-row')).some(r => r.textContent.includes(arguments[0]));",
                json!([name]),
            )
            .await;
    }
    admin.shot("console-agents", db).await;
    let (_, agents) = env.app.get(&env.path("/agents"), &env.admin_token).await;
    let id_of = |email: &str| {
        agents
            .as_array()
            .expect("agents")
            .iter()
            .find(|a| a["email"] == email)
            .and_then(|a| a["id"].as_i64())
            .expect("agent id")
    };
    let (bruna, caio) = (id_of("bruna@acme.test"), id_of("caio@acme.test"));

    // Inboxes -> Website -> Collaborators, then Conversation assignment.
    admin
        .goto(&format!("{base}/app/settings/inboxes/{inbox_id}"))
        .await;
    for agent in [bruna, caio] {
        admin
            .wait_for(
                "the collaborator picker",
                "return !!document.querySelector('#collaborator-add');",
                json!([]),
            )
            .await;
        set_value(&admin, "#collaborator-add", &agent.to_string()).await;
        admin.click("#collaborator-add-button").await;
        admin
            .wait_for(
                "the collaborator listed",
                "return !!document.querySelector(`#collaborators .collaborator[data-user-id='${arguments[0]}']`);",
                json!([agent]),
            )
            .await;
    }
    admin
        .run(
            "const c = document.querySelector('#assignment-enabled'); if (!c.checked) c.click();",
            json!([]),
        )
        .await;
    set_value(&admin, "#assignment-max", "1").await;
    admin.click("#assignment-save").await;
    admin.wait_for("the saved notice", "const n = document.querySelector('#assignment-notice'); return !!n && n.textContent.trim().length > 0;", json!([])).await;
    admin.shot("console-inbox-settings", db).await;
    let (_, saved) = env
        .app
        .get(&env.path(&format!("/inboxes/{inbox_id}")), &env.admin_token)
        .await;
    assert_eq!(saved["enable_auto_assignment"], true);
    assert_eq!(saved["auto_assignment_config"]["max_assignment_limit"], 1);
    let (_, members) = env
        .app
        .get(
            &env.path(&format!("/inbox_members/{inbox_id}")),
            &env.admin_token,
        )
        .await;
    let mut member_ids: Vec<i64> = members["payload"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["id"].as_i64())
        .collect();
    member_ids.sort_unstable();
    assert_eq!(member_ids, [bruna, caio]);

    // Both agents open their consoles (which makes them present).
    let a = crate::browser(1280, 800).await.expect("a second browser");
    let b = crate::browser(1280, 800).await.expect("a third browser");
    log_in(&a, &base, "bruna@acme.test", PASSWORD).await;
    log_in(&b, &base, "caio@acme.test", PASSWORD).await;
    admin.goto(&format!("{base}/app/conversations")).await;
    admin
        .wait_for(
            "the lists",
            "return !!document.querySelector('#tab-all');",
            json!([]),
        )
        .await;
    let token_a = sign_in(&env.app, "bruna@acme.test", PASSWORD).await;
    let token_b = sign_in(&env.app, "caio@acme.test", PASSWORD).await;

    // Three visitors write in.
    let mut visitors = Vec::new();
    for text in [
        "Quero um orçamento",
        "Meu pedido atrasou",
        "Vocês entregam em Recife?",
    ] {
        let (mut v, _) = Ws::visitor(&env.app, &website_token, None).await;
        v.send(json!({"type": "start_conversation", "content": text}))
            .await;
        let id = v.event("ack").await["data"]["conversation_id"]
            .as_i64()
            .expect("id");
        visitors.push((v, id));
    }
    let consoles = [
        (&a, token_a.as_str(), "Bruna"),
        (&b, token_b.as_str(), "Caio"),
        (&admin, env.admin_token.as_str(), "Ana"),
    ];
    all_consistent(&env, &consoles).await;
    let mine_a = tab(&a, "mine").await;
    let mine_b = tab(&b, "mine").await;
    let waiting = tab(&a, "unassigned").await;
    assert_eq!(
        (mine_a.len(), mine_b.len(), waiting.len()),
        (1, 1, 1),
        "one each, one waiting"
    );
    assert_eq!(counts(&admin).await, json!([0, 1, 3]));
    a.shot("console-mine-agent-a", db).await;
    admin.shot("console-all-admin", db).await;

    // Agent A resolves hers, then takes the waiting one by hand.
    tab(&a, "mine").await;
    open(&a, mine_a[0]).await;
    a.click("#resolve").await;
    a.wait_for("resolved", "const s = document.querySelector('#conversation-status'); return !!s && /resol/i.test(s.textContent);", json!([])).await;
    a.shot("console-resolved", db).await;
    let taken = waiting[0];
    tab(&a, "unassigned").await;
    open(&a, taken).await;
    a.click("#take").await;
    assigned_to(&env, taken, bruna, "Take").await;
    all_consistent(&env, &consoles).await;

    // The administrator reassigns it to agent B through Conversation actions.
    tab(&admin, "all").await;
    open(&admin, taken).await;
    set_value(&admin, "#assignee-select", &caio.to_string()).await;
    admin.shot("console-conversation-actions", db).await;
    assigned_to(&env, taken, caio, "the reassignment").await;
    all_consistent(&env, &consoles).await;
    assert_eq!(tab(&b, "mine").await.len(), 2);
    // The picker shows the load the reassignment made: Caio past the
    // maximum of 1, both really present (their consoles are open).
    let option =
        "const o = document.querySelector(`#assignee-select option[value='${arguments[0]}']`); \
                  return o && o.textContent.includes(arguments[1]) ? o.textContent : null;";
    admin
        .wait_for(
            "Caio's load in the picker",
            option,
            json!([caio, "Caio Reis · 2 open of 1 · online"]),
        )
        .await;
    admin
        .wait_for(
            "Bruna's load in the picker",
            option,
            json!([bruna, "Bruna Costa · 0 open of 1 · online"]),
        )
        .await;

    // Agent B changes display name; the visitor sees it on the next reply.
    b.goto(&format!("{base}/app/profile")).await;
    b.wait_for(
        "the profile form",
        "return !!document.querySelector('#profile-display-name');",
        json!([]),
    )
    .await;
    set_value(&b, "#profile-display-name", "Caio do Suporte").await;
    b.click("#profile-save").await;
    b.wait_for("the saved profile", "const n = document.querySelector('#profile-notice'); return !!n && n.textContent.trim().length > 0;", json!([])).await;
    b.shot("console-profile", db).await;
    b.goto(&format!("{base}/app/conversations/{taken}")).await;
    b.wait_for(
        "the reply box",
        "return !!document.querySelector('#reply-input');",
        json!([]),
    )
    .await;
    b.type_into("#reply-input", "Olá! Eu assumo daqui.").await;
    b.click("#reply-send").await;
    let visitor = &mut visitors
        .iter_mut()
        .find(|(_, id)| *id == taken)
        .expect("the taken visitor")
        .0;
    let reply = loop {
        let frame = visitor.event("message.created").await;
        if frame["data"]["content"] == "Olá! Eu assumo daqui." {
            break frame;
        }
    };
    assert_eq!(reply["data"]["sender"]["available_name"], "Caio do Suporte");
    b.wait_for(
        "the reply in B's thread",
        "return Array.from(document.querySelectorAll('#messages .message.outgoing .content')).some(c => c.textContent.includes('Eu assumo daqui'));",
        json!([]),
    )
    .await;
    b.shot("console-conversation", db).await;
    // The administrator's open view of the same conversation got it live.
    admin
        .wait_for(
            "the reply in the admin's view",
            "return Array.from(document.querySelectorAll('#messages .message .content')).some(c => c.textContent.includes('Eu assumo daqui'));",
            json!([]),
        )
        .await;

    // Removing a collaborator takes a second click that says what happens.
    admin
        .goto(&format!("{base}/app/settings/inboxes/{inbox_id}"))
        .await;
    let remove = format!(".collaborator[data-user-id='{bruna}'] .remove-collaborator");
    admin
        .wait_for(
            "Bruna among the collaborators",
            "return !!document.querySelector(arguments[0]);",
            json!([remove]),
        )
        .await;
    admin.click(&remove).await;
    let asked = admin
        .wait_for(
            "the confirmation",
            "const b = document.querySelector(arguments[0]); \
             return b && b.classList.contains('confirming') ? b.textContent : null;",
            json!([remove]),
        )
        .await;
    assert!(
        asked.as_str().is_some_and(|t| t.contains("queue")),
        "{asked}"
    );
    let members = env.path(&format!("/inbox_members/{inbox_id}"));
    let (_, still) = env.app.get(&members, &env.admin_token).await;
    assert_eq!(
        still["payload"].as_array().map(Vec::len),
        Some(2),
        "one click removes nobody"
    );
    admin.click(&remove).await;
    admin
        .wait_for(
            "Bruna removed",
            "return !document.querySelector(arguments[0]);",
            json!([remove]),
        )
        .await;
    let (_, left) = env.app.get(&members, &env.admin_token).await;
    assert_eq!(ids(&left), vec![caio]);
    for browser in [admin, a, b] {
        browser.quit().await;
    }
    env.app.stop().await;
}
