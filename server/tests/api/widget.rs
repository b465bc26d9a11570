//! The website widget's server side: its files (encodings, caching, the
//! chat window's security policy), and what the widget asks over its
//! socket besides chatting: history pages and who the visitor is.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::both_databases;
use crate::common::{Db, Env};
use crate::ws::Ws;

both_databases!(
    the_inbox_language_reaches_the_widget,
    widget_files_are_served_compressed_and_cached,
    history_pages_hold_public_messages_only,
    custom_attributes_merge_into_the_contact,
);

/// A website inbox on https://acme.test; returns (id, website_token, hmac_token).
pub(crate) async fn website(env: &Env) -> (i64, String, String) {
    let body = json!({"name": "Website", "channel": {"type": "web_widget", "website_url": "https://acme.test"}});
    let (status, inbox) = env
        .app
        .post(&env.path("/inboxes"), &env.admin_token, body)
        .await;
    assert_eq!(status, 200, "{inbox}");
    let text = |k: &str| {
        inbox[k]
            .as_str()
            .unwrap_or_else(|| panic!("{k} in {inbox}"))
            .to_string()
    };
    (
        inbox["id"].as_i64().expect("id"),
        text("website_token"),
        text("hmac_token"),
    )
}

/// A raw GET: status, headers and body bytes, without decompression.
async fn fetch(
    env: &Env,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let client = reqwest::Client::new();
    let mut req = client.get(format!("{}{path}", env.app.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The first `"/widget/assets/..."` path after `after` in `text`.
fn asset_path(text: &str, after: &str) -> String {
    let start = text.find(after).expect("marker") + after.len();
    let rest = &text[start..];
    let end = rest.find('"').expect("closing quote");
    rest[..end].to_string()
}

async fn widget_files_are_served_compressed_and_cached(db: Db) {
    let env = Env::start(db).await;
    let (_, website_token, _) = website(&env).await;

    let (status, h, brotli) =
        fetch(&env, "/widget/sdk.js", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&h, "content-encoding"), "br");
    assert_eq!(header(&h, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&h, "cache-control"), "public, max-age=300");
    assert_eq!(header(&h, "vary"), "Accept-Encoding");
    let (_, h, gzip) = fetch(&env, "/widget/sdk.js", &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&h, "content-encoding"), "gzip");
    assert_eq!(&gzip[..2], &[0x1f, 0x8b], "a gzip stream");
    let (_, h, plain) = fetch(&env, "/widget/sdk.js", &[]).await;
    assert!(h.get("content-encoding").is_none());
    assert!(plain.len() > brotli.len() && plain.len() > gzip.len());
    let etag = header(&h, "etag").to_string();
    let (status, _, body) = fetch(&env, "/widget/sdk.js", &[("if-none-match", &etag)]).await;
    assert_eq!(
        (status, body.len()),
        (304, 0),
        "a current copy is not sent again"
    );

    // The chat window's page: framed only by the inbox's site (and us).
    let (status, h, page) = fetch(
        &env,
        &format!("/widget/frame?website_token={website_token}"),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(header(&h, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&h, "cache-control"), "no-cache");
    let csp = header(&h, "content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'self' https://acme.test"),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    let (_, h, _) = fetch(&env, "/widget/frame?website_token=nope", &[]).await;
    assert!(header(&h, "content-security-policy").contains("frame-ancestors *"));

    // Page -> boot module -> bindings and wasm, each named by its hash.
    let page = String::from_utf8(page).expect("utf-8 page");
    let boot = asset_path(&page, "<script type=\"module\" src=\"");
    let (status, h, boot_js) = fetch(&env, &boot, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&h, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let boot_js = String::from_utf8(boot_js).expect("utf-8");
    let wasm = asset_path(&boot_js, "module_or_path: \"");
    let (status, h, bytes) = fetch(&env, &wasm, &[("accept-encoding", "br")]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&h, "content-type"), "application/wasm");
    assert_eq!(header(&h, "content-encoding"), "br");
    assert!(!bytes.is_empty());

    let (status, _, body) = fetch(&env, "/widget/assets/nothing-here.js", &[]).await;
    assert_eq!(status, 404);
    let error: Value = serde_json::from_slice(&body).expect("a JSON error");
    assert_eq!(error["error"], "not_found");
    let (status, _, _) = fetch(&env, "/demo", &[]).await;
    assert_eq!(status, 404, "the demo page exists only with --demo");
}

async fn history_pages_hold_public_messages_only(db: Db) {
    let env = Env::start(db).await;
    let (_, website_token, _) = website(&env).await;
    let (mut visitor, _) = Ws::visitor(&env.app, &website_token, None).await;
    visitor
        .send(json!({"type": "start_conversation", "content": "Oi", "echo_id": "e-1"}))
        .await;
    let id = visitor.event("ack").await["data"]["conversation_id"]
        .as_i64()
        .expect("id");
    let path = env.path(&format!("/conversations/{id}/messages"));
    env.app
        .post(
            &path,
            &env.admin_token,
            json!({"content": "only agents", "private": true}),
        )
        .await;
    for n in 0..55 {
        let (status, _) = env
            .app
            .post(
                &path,
                &env.admin_token,
                json!({"content": format!("reply {n}")}),
            )
            .await;
        assert_eq!(status, 200);
    }

    visitor
        .send(json!({"type": "history", "conversation_id": id}))
        .await;
    let page = visitor.event("history").await["data"].clone();
    let contents = |page: &Value| -> Vec<String> {
        page["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["content"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let newest = contents(&page);
    assert_eq!(newest.len(), 50);
    assert_eq!(
        newest.first().map(String::as_str),
        Some("reply 5"),
        "oldest first"
    );
    assert_eq!(newest.last().map(String::as_str), Some("reply 54"));
    assert_eq!(page["has_more"], true);
    assert_eq!(
        page["messages"][49]["sender"]["available_name"],
        "Ana Admin"
    );

    let before = page["messages"][0]["id"].as_i64().expect("id");
    visitor
        .send(json!({"type": "history", "conversation_id": id, "before": before}))
        .await;
    let older = visitor.event("history").await["data"].clone();
    let older_contents = contents(&older);
    assert_eq!(older_contents[0], "Oi", "the visitor's own first message");
    assert_eq!(older["messages"][0]["echo_id"], "e-1");
    assert_eq!(
        &older_contents[1..],
        ["reply 0", "reply 1", "reply 2", "reply 3", "reply 4"]
    );
    assert_eq!(older["has_more"], false);
    assert!(
        !older_contents
            .iter()
            .chain(&newest)
            .any(|c| c == "only agents"),
        "no private notes"
    );

    // Another visitor's conversation is not theirs to read.
    let (mut other, _) = Ws::visitor(&env.app, &website_token, None).await;
    other
        .send(json!({"type": "history", "conversation_id": id}))
        .await;
    let refused = other.event("error").await;
    assert_eq!(refused["data"]["error"], "not_found");
}

/// The `identifier_hash` a site computes: hex HMAC-SHA256 of the identifier.
pub fn sign(key: &str, identifier: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(identifier.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn custom_attributes_merge_into_the_contact(db: Db) {
    let env = Env::start(db).await;
    let (_, website_token, _) = website(&env).await;
    let (mut v, identity) = Ws::contact(&env.app, &website_token).await;
    let contact = identity["contact"]["id"].as_i64().expect("contact id");
    v.send(json!({"type": "set_custom_attributes", "custom_attributes": {"plan": "pro"}}))
        .await;
    v.event("identity").await;
    v.send(json!({"type": "set_custom_attributes", "custom_attributes": {"seats": 5}}))
        .await;
    let identity = v.event("identity").await["data"].clone();
    assert_eq!(
        identity["contact"]["custom_attributes"],
        json!({"plan": "pro", "seats": 5})
    );
    let (_, seen) = env
        .app
        .get(&env.path(&format!("/contacts/{contact}")), &env.admin_token)
        .await;
    assert_eq!(
        seen["payload"]["custom_attributes"],
        json!({"plan": "pro", "seats": 5})
    );
    v.send(json!({"type": "set_custom_attributes", "custom_attributes": "not an object"}))
        .await;
    assert_eq!(v.event("error").await["data"]["error"], "invalid_frame");

    // The widget's own page may open the socket whatever the inbox's site.
    let host = env.app.base.trim_start_matches("http://").to_string();
    let own = format!("http://{host}");
    let mut ws = Ws::connect_with(&env.app, "/ws/widget", &[("origin", &own)])
        .await
        .expect("upgrade");
    ws.send(json!({"type": "auth", "website_token": website_token}))
        .await;
    ws.event("welcome").await;
}

/// An inbox's `locale` is set, shown, refused when unknown (changing
/// nothing) and handed to its widget in `welcome`; emptied, the widget
/// follows each visitor's browser again.
async fn the_inbox_language_reaches_the_widget(db: Db) {
    let env = Env::start(db).await;
    let (inbox, website_token, _) = website(&env).await;
    let path = env.path(&format!("/inboxes/{inbox}"));
    let t = env.admin_token.clone();
    let (_, shown) = env.app.get(&path, &t).await;
    assert!(shown["locale"].is_null(), "unset: {shown}");
    let (_, welcome) = Ws::visitor(&env.app, &website_token, None).await;
    assert!(
        welcome["data"]["inbox"].get("locale").is_none(),
        "{welcome}"
    );

    let (status, set) = env
        .app
        .patch(&path, &t, json!({"channel": {"locale": "pt-BR"}}))
        .await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["locale"], "pt-BR");
    let (status, refused) = env
        .app
        .patch(
            &path,
            &t,
            json!({"channel": {"locale": "fr", "welcome_title": "Salut"}}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "locale");
    let (_, shown) = env.app.get(&path, &t).await;
    assert_eq!(shown["locale"], "pt-BR");
    assert!(shown["welcome_title"].is_null(), "nothing changed: {shown}");
    let (_, welcome) = Ws::visitor(&env.app, &website_token, None).await;
    assert_eq!(welcome["data"]["inbox"]["locale"], "pt-BR");

    let (_, cleared) = env
        .app
        .patch(&path, &t, json!({"channel": {"locale": ""}}))
        .await;
    assert!(cleared["locale"].is_null(), "{cleared}");
    env.app.stop().await;
}
