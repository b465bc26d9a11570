//! Files on messages: multipart uploads by agents, limits, and downloads by
//! link only.

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{Db, Env};

both_databases!(agents_attach_files_within_limits);

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
