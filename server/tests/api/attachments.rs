//! Files on messages: multipart uploads by agents, limits, and downloads by
//! link only.

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{Db, Env};
use crate::ws::Ws;

both_databases!(
    agents_attach_files_within_limits,
    website_visitors_send_files_to_their_own_conversation,
    files_live_and_die_with_their_messages,
    big_bodies_are_refused_before_they_are_read,
);

/// A conversation in a new website inbox; returns its messages path.
async fn conversation(env: &Env) -> String {
    let inbox = env.web_inbox("Site").await;
    let t = env.admin_token.as_str();
    let (_, contact) = env
        .app
        .post(
            &env.path("/contacts"),
            t,
            json!({"name": "Rui", "inbox_id": inbox}),
        )
        .await;
    let (_, c) = env
        .app
        .post(
            &env.path("/conversations"),
            t,
            json!({"inbox_id": inbox, "contact_id": contact["payload"]["contact"]["id"]}),
        )
        .await;
    env.path(&format!("/conversations/{}/messages", c["id"]))
}

async fn send(env: &Env, path: &str, form: Form) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", env.app.base))
        .header("api_access_token", &env.admin_token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON answer"))
}

fn file(bytes: Vec<u8>, name: &str, mime: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str(mime)
        .expect("mime")
}

async fn agents_attach_files_within_limits(db: Db) {
    let env = Env::start(db).await;
    let path = conversation(&env).await;
    let png = b"\x89PNG\r\n\x1a\nfake image".to_vec();
    let form = Form::new()
        .text("content", "Segue o comprovante")
        .text("echo_id", "up-1")
        .part(
            "attachments[]",
            file(png.clone(), "recibo.png", "image/png"),
        )
        .part(
            "attachments[]",
            file(
                b"%PDF-1.4".to_vec(),
                "../../nota fiscal.pdf",
                "application/pdf",
            ),
        );
    let (status, message) = send(&env, &path, form).await;
    assert_eq!(status, 200, "{message}");
    assert_eq!(message["content"], "Segue o comprovante");
    let files = message["attachments"].as_array().expect("attachments");
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["file_type"], "image");
    assert_eq!(files[0]["file_size"], png.len());
    assert_eq!(
        files[1]["file_name"], "nota fiscal.pdf",
        "paths are stripped"
    );
    assert_eq!(files[1]["message_id"], message["id"]);

    // The links download the files; a made-up key does not.
    let local = |url: &Value| {
        url.as_str()
            .expect("data_url")
            .replace("https://switchboard.test", &env.app.base)
    };
    let image = reqwest::get(local(&files[0]["data_url"]))
        .await
        .expect("get");
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.headers()["x-content-type-options"], "nosniff");
    assert_eq!(image.bytes().await.expect("bytes").to_vec(), png);
    let pdf = reqwest::get(local(&files[1]["data_url"]))
        .await
        .expect("get");
    assert!(pdf.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let guessed = format!(
        "{}/files/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/x.png",
        env.app.base
    );
    assert_eq!(reqwest::get(guessed).await.expect("get").status(), 404);

    // History shows them too.
    let (_, history) = env.app.get(&path, &env.admin_token).await;
    let last = history["payload"]
        .as_array()
        .and_then(|p| p.last())
        .cloned()
        .expect("last");
    assert_eq!(last["attachments"].as_array().map(Vec::len), Some(2));

    // Refused: a type browsers would run, too many files, an empty file; nothing stored.
    let before = history["payload"].as_array().map(Vec::len);
    let html = Form::new().part(
        "attachments[]",
        file(b"<script>".to_vec(), "x.html", "text/html"),
    );
    let (status, error) = send(&env, &path, html).await;
    assert_eq!(status, 422);
    assert!(
        error["message"]
            .as_str()
            .unwrap_or("")
            .contains("text/html"),
        "{error}"
    );
    let mut many = Form::new();
    for n in 0..11 {
        many = many.part(
            "attachments[]",
            file(vec![1, 2, 3], &format!("{n}.png"), "image/png"),
        );
    }
    assert_eq!(send(&env, &path, many).await.0, 422);
    let empty = Form::new().part("attachments[]", file(Vec::new(), "e.png", "image/png"));
    assert_eq!(send(&env, &path, empty).await.0, 422);
    let bad_field = Form::new().text("content_attributes", "not json");
    assert_eq!(send(&env, &path, bad_field).await.0, 422);
    let (_, history) = env.app.get(&path, &env.admin_token).await;
    assert_eq!(history["payload"].as_array().map(Vec::len), before);
}

async fn website_visitors_send_files_to_their_own_conversation(db: Db) {
    let env = Env::start(db).await;
    let (status, inbox) = env
        .app
        .post(
            &env.path("/inboxes"),
            &env.admin_token,
            json!({"name": "Site", "channel": {"type": "web_widget", "website_url": "https://acme.test"}}),
        )
        .await;
    assert_eq!(status, 200);
    let website_token = inbox["website_token"].as_str().expect("token").to_string();
    let (mut visitor, identity) = Ws::contact(&env.app, &website_token).await;
    let visitor_token = identity["visitor_token"]
        .as_str()
        .expect("visitor")
        .to_string();
    let upload = |token: Option<String>, conversation: Option<i64>, form: Form| {
        let mut url = format!(
            "{}/widget/messages?website_token={website_token}",
            env.app.base
        );
        if let Some(id) = conversation {
            url.push_str(&format!("&conversation_id={id}"));
        }
        let mut req = reqwest::Client::new().post(url).multipart(form);
        if let Some(token) = token {
            req = req.header("x-visitor-token", token);
        }
        async move {
            let res = req.send().await.expect("upload");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.expect("JSON"))
        }
    };
    let photo = || {
        Form::new().text("content", "meu pedido").part(
            "attachments[]",
            file(b"GIF89a".to_vec(), "pedido.gif", "image/gif"),
        )
    };

    // No token, or someone else's conversation: refused.
    assert_eq!(upload(None, None, photo()).await.0, 401);
    let (status, first) = upload(Some(visitor_token.clone()), None, photo()).await;
    assert_eq!(status, 200, "{first}");
    let id = first["conversation_id"].as_i64().expect("conversation");
    assert_eq!(first["message"]["content"], "meu pedido");
    assert_eq!(first["message"]["attachments"][0]["file_type"], "image");
    let event = visitor.event("message.created").await;
    assert_eq!(event["data"]["attachments"][0]["file_name"], "pedido.gif");
    let (status, again) = upload(Some(visitor_token.clone()), Some(id), photo()).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["conversation_id"], id);

    let (_, other) = Ws::contact(&env.app, &website_token).await;
    let other_token = other["visitor_token"]
        .as_str()
        .expect("visitor")
        .to_string();
    assert_eq!(upload(Some(other_token), Some(id), photo()).await.0, 404);
    let text_only = Form::new().text("content", "só texto");
    assert_eq!(
        upload(Some(visitor_token), Some(id), text_only).await.0,
        422
    );
}

/// Files in the file store's folder (finished ones, not `.partial`).
fn stored_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                stored_files(&path)
            } else {
                usize::from(path.extension().is_none())
            }
        })
        .sum()
}

async fn files_live_and_die_with_their_messages(db: Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = switchboard_server::Settings::new("https://switchboard.test");
    settings.files_dir = dir.path().to_path_buf();
    let env = Env::start_with(db, settings).await;
    let path = conversation(&env).await;
    let t = env.admin_token.as_str();
    let pdf = || file(b"%PDF-1.4".to_vec(), "nota.pdf", "application/pdf");

    // Refused after the files were read: nothing is kept.
    let incoming = Form::new()
        .text("message_type", "incoming")
        .part("attachments[]", pdf());
    let (status, error) = send(&env, &path, incoming).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(
        stored_files(dir.path()),
        0,
        "a refused message keeps no file"
    );

    // Kept with its message; gone with it.
    let (status, message) = send(&env, &path, Form::new().part("attachments[]", pdf())).await;
    assert_eq!(status, 200, "{message}");
    assert_eq!(stored_files(dir.path()), 1);
    let link = message["attachments"][0]["data_url"]
        .as_str()
        .expect("link")
        .replace("https://switchboard.test", &env.app.base);
    assert_eq!(reqwest::get(&link).await.expect("get").status(), 200);
    let (status, deleted) = env
        .app
        .delete(&format!("{path}/{}", message["id"]), t, None)
        .await;
    assert_eq!(status, 200, "{deleted}");
    assert!(deleted["attachments"]
        .as_array()
        .is_none_or(|a| a.is_empty()));
    assert_eq!(reqwest::get(&link).await.expect("get").status(), 404);
    assert_eq!(stored_files(dir.path()), 0);

    // Deleting the contact deletes its conversations' files.
    let (status, message) = send(&env, &path, Form::new().part("attachments[]", pdf())).await;
    assert_eq!(status, 200, "{message}");
    let link = message["attachments"][0]["data_url"]
        .as_str()
        .expect("link")
        .replace("https://switchboard.test", &env.app.base);
    let conversation_id = message["conversation_id"].as_i64().expect("conversation");
    let (_, c) = env
        .app
        .get(&env.path(&format!("/conversations/{conversation_id}")), t)
        .await;
    let contact = c["meta"]["sender"]["id"].as_i64().expect("contact");
    let (status, _) = env
        .app
        .delete(&env.path(&format!("/contacts/{contact}")), t, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(reqwest::get(&link).await.expect("get").status(), 404);
    assert_eq!(stored_files(dir.path()), 0);
}

/// Sends only a request's head, declaring a large body, and returns the
/// status line that comes back without the body ever being sent.
async fn head_only(base: &str, path: &str, headers: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}\
         Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 40000000\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 512];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), socket.read(&mut answer))
        .await
        .expect("answered before the body was sent")
        .expect("read");
    String::from_utf8_lossy(&answer[..read])
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

async fn big_bodies_are_refused_before_they_are_read(db: Db) {
    let env = Env::start(db).await;
    let path = conversation(&env).await;
    let inbox = env.web_inbox("Shop").await;
    let (_, site) = env
        .app
        .get(&env.path(&format!("/inboxes/{inbox}")), &env.admin_token)
        .await;
    let website_token = site["website_token"].as_str().expect("token");

    // Strangers are turned away on the head of the request.
    let agent = head_only(&env.app.base, &path, "api_access_token: wrong\r\n").await;
    assert!(agent.contains(" 401 "), "{agent}");
    let widget_path = format!("/widget/messages?website_token={website_token}");
    let visitor = head_only(&env.app.base, &widget_path, "X-Visitor-Token: wrong\r\n").await;
    assert!(
        visitor.contains(" 401 ") || visitor.contains(" 404 "),
        "{visitor}"
    );

    // JSON does not get the files' allowance.
    let (status, error) = env
        .app
        .post(
            &path,
            &env.admin_token,
            json!({"content": "x".repeat(1_100_000)}),
        )
        .await;
    assert_eq!(status, 413, "{error}");
}
