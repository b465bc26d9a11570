//! The widget as a visitor meets it: on the example host page, chatting
//! with an agent who answers over the API, across a reload and a network
//! cut; and the polite states when things go wrong.

use serde_json::{json, Value};
use switchboard_server::{demo, Settings};

use crate::both_databases;
use crate::common::{sign_in, Db, TestApp, TestDb};
use crate::proxy::Proxy;
use crate::webdriver::{Browser, ENTER};

both_databases!(
    a_visitor_chats_reloads_and_survives_a_network_cut,
    bad_input_gets_polite_states
);

/// The demo server: its account, agents and website inbox, with `/demo`.
async fn demo_server(db: Db) -> (TestDb, TestApp) {
    let tdb = TestDb::new(db).await;
    let token = demo::seed(tdb.store().await.as_ref(), "http://127.0.0.1")
        .await
        .expect("demo seeded");
    let mut settings = Settings::new("http://127.0.0.1");
    settings.demo_website_token = Some(token);
    let app = TestApp::spawn_with(&tdb, settings).await;
    (tdb, app)
}

const SHADOW: &str = "document.getElementById('switchboard-widget')";

/// Opens the widget from the host page and enters its frame.
pub(crate) async fn open_widget(browser: &Browser) {
    browser
        .wait_for(
            "the bubble",
            &format!("const h = {SHADOW}; return !!(h && h.shadowRoot && h.shadowRoot.getElementById('sb-bubble'));"),
            json!([]),
        )
        .await;
    browser
        .run(
            &format!("{SHADOW}.shadowRoot.getElementById('sb-bubble').click();"),
            json!([]),
        )
        .await;
    browser
        .enter_frame(&format!(
            "return {SHADOW}.shadowRoot.getElementById('sb-frame');"
        ))
        .await;
    browser
        .wait_for(
            "the chat window",
            "return !!document.querySelector('#sb-input');",
            json!([]),
        )
        .await;
}

/// Every message shown: `[{id, content, sender, state, kind}]`.
async fn shown(browser: &Browser) -> Vec<Value> {
    let list = browser
        .run(
            "return Array.from(document.querySelectorAll('#sb-messages .sb-message')).map(m => ({
                id: m.getAttribute('data-message-id'),
                state: m.getAttribute('data-state'),
                kind: m.classList.contains('sb-outgoing') ? 'team' : 'visitor',
                content: (m.querySelector('.sb-content') || {}).textContent,
                sender: (m.querySelector('.sb-sender') || {}).textContent || null,
            }));",
            json!([]),
        )
        .await;
    list.as_array().cloned().unwrap_or_default()
}

async fn wait_shown(browser: &Browser, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + crate::webdriver::WAIT;
    loop {
        let list = shown(browser).await;
        if done(&list) {
            return list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {list:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn count(list: &[Value], content: &str) -> usize {
    list.iter().filter(|m| m["content"] == content).count()
}

fn sent(list: &[Value], content: &str) -> bool {
    list.iter()
        .any(|m| m["content"] == content && m["state"] == "sent")
}

/// The team's message with this content, shown under `sender`.
fn from_team(list: &[Value], content: &str, sender: &str) -> bool {
    list.iter()
        .any(|m| m["content"] == content && m["kind"] == "team" && m["sender"] == sender)
}

async fn a_visitor_chats_reloads_and_survives_a_network_cut(db: Db) {
    let Some(browser) = crate::browser(1280, 800).await else {
        return;
    };
    let (_db, app) = demo_server(db).await;
    let server = app
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("server address");
    let proxy = Proxy::start(server).await;
    let site = format!("http://{}", proxy.addr);
    browser.goto(&format!("{site}/demo")).await;
    open_widget(&browser).await;
    browser
        .type_into("#sb-input", &format!("Oi, preciso de ajuda{ENTER}"))
        .await;
    wait_shown(&browser, "the durable ack", |l| {
        sent(l, "Oi, preciso de ajuda")
    })
    .await;

    // The conversation went to a collaborator, who answers under a display name.
    let admin = sign_in(&app, demo::ADMIN_EMAIL, demo::PASSWORD).await;
    let (_, list) = app
        .get("/api/v1/accounts/1/conversations?assignee_type=all", &admin)
        .await;
    let conversation = &list["data"]["payload"][0];
    let id = conversation["id"].as_i64().expect("conversation id");
    let email = conversation["meta"]["assignee"]["email"]
        .as_str()
        .expect("assigned")
        .to_string();
    let agent = sign_in(&app, &email, demo::PASSWORD).await;
    let (status, _) = app
        .patch(
            "/api/v1/profile",
            &agent,
            json!({"display_name": "Bia do Suporte"}),
        )
        .await;
    assert_eq!(status, 200);
    let messages = format!("/api/v1/accounts/1/conversations/{id}/messages");
    let (status, _) = app
        .post(
            &messages,
            &agent,
            json!({"content": "Olá! Como posso ajudar?"}),
        )
        .await;
    assert_eq!(status, 200);
    app.post(
        &messages,
        &agent,
        json!({"content": "internal only", "private": true}),
    )
    .await;
    wait_shown(&browser, "the agent's reply", |l| {
        from_team(l, "Olá! Como posso ajudar?", "Bia do Suporte")
    })
    .await;
    let path = browser
        .screenshot(&format!("widget-conversation-{db:?}"))
        .await;
    eprintln!("screenshot: {}", path.display());

    // A reload keeps the conversation.
    browser.leave_frame().await;
    browser.refresh().await;
    open_widget(&browser).await;
    let after_reload = wait_shown(&browser, "the history after a reload", |l| {
        count(l, "Oi, preciso de ajuda") == 1 && count(l, "Olá! Como posso ajudar?") == 1
    })
    .await;
    assert_eq!(
        after_reload.len(),
        2,
        "the private note never reaches the visitor: {after_reload:?}"
    );

    // The network drops: the visitor writes meanwhile, the agent answers twice.
    proxy.cut();
    browser
        .wait_for(
            "the reconnecting notice",
            "const s = document.querySelector('#sb-status'); return !!s && /reconnect/i.test(s.textContent);",
            json!([]),
        )
        .await;
    browser
        .type_into("#sb-input", &format!("Ainda está aí?{ENTER}"))
        .await;
    wait_shown(&browser, "the pending message", |l| {
        l.iter()
            .any(|m| m["content"] == "Ainda está aí?" && m["state"] == "sending")
    })
    .await;
    for text in ["Sim, estou aqui.", "Vou verificar o seu pedido."] {
        let (status, _) = app.post(&messages, &agent, json!({"content": text})).await;
        assert_eq!(status, 200);
    }
    proxy.restore();
    let resumed = wait_shown(&browser, "everything after the reconnect", |l| {
        sent(l, "Ainda está aí?")
            && from_team(l, "Sim, estou aqui.", "Bia do Suporte")
            && from_team(l, "Vou verificar o seu pedido.", "Bia do Suporte")
    })
    .await;
    // Exactly once each, on screen and in the database.
    for text in [
        "Oi, preciso de ajuda",
        "Olá! Como posso ajudar?",
        "Ainda está aí?",
        "Sim, estou aqui.",
        "Vou verificar o seu pedido.",
    ] {
        assert_eq!(count(&resumed, text), 1, "{text} shown once: {resumed:?}");
    }
    let mut ids: Vec<&str> = resumed.iter().filter_map(|m| m["id"].as_str()).collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        (all, ids.len()),
        (5, 5),
        "every message has its own server id: {resumed:?}"
    );
    let (_, stored) = app.get(&messages, &admin).await;
    let stored: Vec<&str> = stored["payload"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["message_type"] == 0)
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(
        stored,
        ["Oi, preciso de ajuda", "Ainda está aí?"],
        "stored once each"
    );
    let path = browser
        .screenshot(&format!("widget-after-reconnect-{db:?}"))
        .await;
    eprintln!("screenshot: {}", path.display());

    // The agent resolves the conversation: the visitor is told.
    let toggle = format!("/api/v1/accounts/1/conversations/{id}/toggle_status");
    let (status, _) = app
        .post(&toggle, &agent, json!({"status": "resolved"}))
        .await;
    assert_eq!(status, 200);
    let notice = browser
        .wait_for(
            "the resolved notice",
            "const n = document.querySelector('#sb-messages .sb-resolved'); return n ? n.textContent : null;",
            json!([]),
        )
        .await;
    assert!(
        notice.as_str().is_some_and(|t| t.contains("resolved")),
        "{notice}"
    );
    browser.quit().await;
    app.stop().await;
}

async fn bad_input_gets_polite_states(db: Db) {
    let Some(browser) = crate::browser(390, 740).await else {
        return;
    };
    let (_db, app) = demo_server(db).await;
    // An unknown website token: a clear notice, not a blank box.
    browser
        .goto(&format!(
            "{}/widget/frame?website_token=not-a-token&locale=pt-BR",
            app.base
        ))
        .await;
    let notice = browser
        .wait_for(
            "the unavailable notice",
            "const s = document.querySelector('#sb-status'); return s && s.textContent.trim() ? s.textContent : null;",
            json!([]),
        )
        .await;
    assert!(
        notice.as_str().is_some_and(|t| t.contains("disponível")),
        "{notice}"
    );
    browser
        .screenshot(&format!("widget-unknown-token-{db:?}"))
        .await;

    // An oversize message is held back with a notice; nothing is sent.
    browser.goto(&format!("{}/demo", app.base)).await;
    open_widget(&browser).await;
    let disabled = browser
        .run(
            "const i = document.querySelector('#sb-input');
             i.value = 'x'.repeat(10001);
             i.dispatchEvent(new Event('input', {bubbles: true}));
             return document.querySelector('#sb-send').disabled;",
            json!([]),
        )
        .await;
    assert_eq!(
        disabled,
        json!(true),
        "send is disabled for an oversize message"
    );
    browser.screenshot(&format!("widget-too-long-{db:?}")).await;
    let admin = sign_in(&app, demo::ADMIN_EMAIL, demo::PASSWORD).await;
    let title = "return document.querySelector('.sb-title').textContent;";
    assert_eq!(
        browser.run(title, json!([])).await,
        "Chat with us",
        "no welcome title: the widget's own, in the browser's English"
    );

    // The inbox speaks Portuguese: the demo page and the widget follow it,
    // whatever the browser's language.
    let (_, inboxes) = app.get("/api/v1/accounts/1/inboxes", &admin).await;
    let inbox = inboxes["payload"][0]["id"].as_i64().expect("inbox");
    let (status, _) = app
        .patch(
            &format!("/api/v1/accounts/1/inboxes/{inbox}"),
            &admin,
            json!({"channel": {"locale": "pt-BR"}}),
        )
        .await;
    assert_eq!(status, 200);
    browser.leave_frame().await;
    browser.goto(&format!("{}/demo", app.base)).await;
    let page = browser
        .run(
            "return [document.documentElement.lang, document.querySelector('h1').textContent];",
            json!([]),
        )
        .await;
    assert_eq!(page, json!(["pt-BR", "Empresa Demo"]));
    open_widget(&browser).await;
    browser
        .wait_for(
            "the widget in Portuguese",
            "return document.querySelector('.sb-title').textContent === 'Fale conosco';",
            json!([]),
        )
        .await;
    let (_, list) = app
        .get("/api/v1/accounts/1/conversations?assignee_type=all", &admin)
        .await;
    assert_eq!(
        list["data"]["meta"]["all_count"], 0,
        "nothing was sent: {list}"
    );
    browser.quit().await;
    app.stop().await;
}
