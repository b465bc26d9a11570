//! Files in the agent console: an agent attaches a picture and a PDF to a
//! reply in a visitor's conversation; the picture shows inline (loaded
//! through the page's CSP from the server's file link), the PDF as a link,
//! and the visitor's socket receives both.

use base64::Engine;
use serde_json::json;
use switchboard_server::Settings;

use crate::both_databases;
use crate::common::{Db, Env, TestApp, TestDb, OWN_URL};
use crate::ws::Ws;

both_databases!(
    an_agent_sends_files_from_the_console,
    a_visitor_sends_a_file_from_the_widget
);

/// A 1×1 PNG.
const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

async fn an_agent_sends_files_from_the_console(db: Db) {
    let Some(browser) = crate::browser(1280, 800).await else {
        return;
    };
    let env = Env::start_with(db, Settings::new(OWN_URL)).await;
    let inbox = env.web_inbox("Site").await;
    let (_, site) = env
        .app
        .get(&env.path(&format!("/inboxes/{inbox}")), &env.admin_token)
        .await;
    let website_token = site["website_token"].as_str().expect("token").to_string();
    let (mut visitor, _) = Ws::visitor(&env.app, &website_token, None).await;
    visitor
        .send(json!({"type": "start_conversation", "content": "Oi, preciso da nota", "echo_id": "v1"}))
        .await;
    let created = visitor.event("message.created").await;
    let id = created["data"]["conversation_id"]
        .as_i64()
        .expect("conversation");

    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("foto.png");
    std::fs::write(
        &png,
        base64::engine::general_purpose::STANDARD
            .decode(PNG)
            .unwrap(),
    )
    .unwrap();
    let pdf = dir.path().join("nota.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n%fake\n").unwrap();

    crate::console::log_in(&browser, &env.app.base, "ana@acme.test", "password123").await;
    browser
        .goto(&format!("{}/app/conversations/{id}", env.app.base))
        .await;
    browser
        .wait_for(
            "the conversation",
            "return !!document.querySelector('#reply-files');",
            json!([]),
        )
        .await;
    browser.type_into("#reply-input", "Segue a nota").await;
    // One path per line selects several files.
    browser
        .type_into(
            "#reply-files",
            &format!("{}\n{}", png.display(), pdf.display()),
        )
        .await;
    let shown = browser
        .wait_for(
            "the files in the thread",
            "const img = document.querySelector('.message a.attachment img');
             const link = Array.from(document.querySelectorAll('.message a.attachment'))
                 .find(a => a.textContent.includes('nota.pdf'));
             return img && img.complete && img.naturalWidth === 1 && link
                 ? [img.naturalWidth, link.textContent] : null;",
            json!([]),
        )
        .await;
    assert!(
        shown[1].as_str().unwrap_or("").contains("nota.pdf"),
        "{shown}"
    );
    let path = browser.screenshot(&format!("console-files-{db:?}")).await;
    eprintln!("screenshot: {}", path.display());

    // The visitor receives the reply with both files, and can download them.
    let reply = visitor.event("message.created").await;
    assert_eq!(reply["data"]["content"], "Segue a nota");
    let files = reply["data"]["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(files.len(), 2, "{reply}");
    let url = files[1]["data_url"].as_str().expect("url");
    let body = reqwest::get(url)
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    assert!(body.starts_with(b"%PDF"));
    browser.quit().await;
}

/// The demo page's widget: the visitor picks a PDF with the paperclip; it
/// shows in the chat window and reaches the agents with the file.
async fn a_visitor_sends_a_file_from_the_widget(db: Db) {
    let Some(browser) = crate::browser(400, 700).await else {
        return;
    };
    let tdb = TestDb::new(db).await;
    let store = tdb.store().await;
    let token = switchboard_server::demo::seed(store.as_ref(), "http://127.0.0.1")
        .await
        .expect("demo seeded");
    let mut settings = Settings::new(OWN_URL);
    settings.demo_website_token = Some(token);
    let app = TestApp::spawn_with(&tdb, settings).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let pdf = dir.path().join("pedido.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n%pedido\n").unwrap();

    browser.goto(&format!("{}/demo", app.base)).await;
    crate::widget::open_widget(&browser).await;
    browser.type_into("#sb-input", "Meu pedido").await;
    browser
        .type_into("#sb-file", &pdf.display().to_string())
        .await;
    let link = browser
        .wait_for(
            "the file in the chat window",
            "const n = document.querySelector('.sb-files .sb-file-name');
             const box = document.querySelector('#sb-input');
             return n && box.value === '' ? n.textContent : null;",
            json!([]),
        )
        .await;
    assert_eq!(link, "pedido.pdf");
    let path = browser.screenshot(&format!("widget-file-{db:?}")).await;
    eprintln!("screenshot: {}", path.display());

    // The agents have it: the message carries the text and the file.
    let found = stored_file(store.as_ref()).await;
    assert_eq!(found.0.as_deref(), Some("Meu pedido"));
    assert_eq!(found.1, "pedido.pdf");
    browser.quit().await;
    app.stop().await;
}

/// The newest message with a file: (its text, the file's name).
async fn stored_file(store: &dyn switchboard_server::store::Store) -> (Option<String>, String) {
    let deadline = tokio::time::Instant::now() + crate::webdriver::WAIT;
    loop {
        let (conversations, _) = store
            .load_conversations(None)
            .await
            .map(|c| (c, ()))
            .expect("load");
        for c in conversations.iter().rev() {
            let messages = store
                .list_messages(c.id, None, 50, true)
                .await
                .expect("messages");
            if let Some(m) = messages
                .iter()
                .rev()
                .find(|m| m.content_attributes.get("attachments").is_some())
            {
                let name = m.content_attributes["attachments"][0]["file_name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                return (m.content.clone(), name);
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no message with a file was stored"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
