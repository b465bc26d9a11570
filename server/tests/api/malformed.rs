//! Bad input: every malformed header, body or id gets a JSON 4xx with a
//! message (the harness checks the shape) and changes nothing.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{Db, Env};

both_databases!(
    bad_requests_get_json_4xx_and_change_nothing,
    invalid_utf8_in_a_path_is_a_400
);

async fn snapshot(env: &Env, inbox: i64) -> Value {
    let t = env.admin_token.as_str();
    let (_, agents) = env.app.get(&env.path("/agents"), t).await;
    let (_, inboxes) = env.app.get(&env.path("/inboxes"), t).await;
    let members = env.path(&format!("/inbox_members/{inbox}"));
    let (_, members) = env.app.get(&members, t).await;
    json!([agents, inboxes, members])
}

/// A request with a raw body: (method, path, token, content type, body, status).
type RawCase<'a> = (
    Method,
    String,
    Option<&'a str>,
    Option<&'a str>,
    Vec<u8>,
    u16,
);

async fn bad_requests_get_json_4xx_and_change_nothing(db: Db) {
    let env = Env::start(db).await;
    let app = &env.app;
    let t = env.admin_token.as_str();
    let (bruno, _) = env.agent("Bruno", "bruno@acme.test", "agent").await;
    let inbox = env.web_inbox("Website").await;
    let body = json!({"inbox_id": inbox, "user_ids": [bruno]});
    app.post(&env.path("/inbox_members"), t, body).await;
    let before = snapshot(&env, inbox).await;

    let agents = env.path("/agents");
    let bruno_path = env.path(&format!("/agents/{bruno}"));
    let inboxes = env.path("/inboxes");
    let the_inbox = env.path(&format!("/inboxes/{inbox}"));
    let members = env.path("/inbox_members");
    let (post, patch) = (Method::POST, Method::PATCH);
    #[rustfmt::skip]
    let json_cases: Vec<(Method, String, Value, u16)> = vec![
        // Wrong types, missing or unknown values: 422.
        (post.clone(), agents.clone(), json!({"name": "X", "email": "x@acme.test"}), 422),
        (post.clone(), agents.clone(), json!({"name": "X", "email": "x@acme.test", "role": "boss"}), 422),
        (post.clone(), agents.clone(), json!({"name": "X", "email": "not-an-email", "role": "agent"}), 422),
        (post.clone(), agents.clone(), json!({"name": "  ", "email": "x@acme.test", "role": "agent"}), 422),
        (post.clone(), agents.clone(), json!({"name": 5, "email": "x@acme.test", "role": "agent"}), 422),
        (post.clone(), agents.clone(), json!({"name": "X", "email": "x@acme.test", "role": "agent", "password": "short"}), 422),
        (post.clone(), agents.clone(), json!({"name": "x".repeat(300), "email": "x@acme.test", "role": "agent"}), 422),
        (post.clone(), agents.clone(), json!([1, 2, 3]), 422),
        (patch.clone(), bruno_path.clone(), json!({"availability_status": "sleeping"}), 422),
        (patch.clone(), bruno_path.clone(), json!({"auto_offline": "yes"}), 422),
        (post.clone(), inboxes.clone(), json!({"name": "X"}), 422),
        (post.clone(), inboxes.clone(), json!({"name": "X", "channel": {"type": "fax"}}), 422),
        (post.clone(), inboxes.clone(), json!({"channel": {"type": "api"}}), 422),
        (post.clone(), inboxes.clone(), json!({"name": "X", "channel": {"type": "web_widget", "widget_color": "red"}}), 422),
        (post.clone(), inboxes.clone(), json!({"name": "X", "channel": {"type": "web_widget", "website_url": "javascript:alert(1)"}}), 422),
        (patch.clone(), the_inbox.clone(), json!({"auto_assignment_config": {"max_assignment_limit": 0}}), 422),
        (patch.clone(), the_inbox.clone(), json!({"auto_assignment_config": {"max_assignment_limit": -1}}), 422),
        (patch.clone(), the_inbox.clone(), json!({"auto_assignment_config": {"max_assignment_limit": "five"}}), 422),
        (patch.clone(), the_inbox.clone(), json!({"auto_assignment_config": {"max_assignment_limt": 5}}), 422),
        (patch.clone(), the_inbox.clone(), json!({"enable_auto_assignment": "on"}), 422),
        (patch.clone(), the_inbox.clone(), json!({"channel": {"type": "api"}}), 422),
        (patch.clone(), the_inbox.clone(), json!({"timezone": "Mars/Olympus Mons"}), 422),
        (post.clone(), members.clone(), json!({"inbox_id": inbox}), 422),
        (post.clone(), members.clone(), json!({"inbox_id": inbox, "user_ids": "all"}), 422),
        (post.clone(), members.clone(), json!({"inbox_id": "abc", "user_ids": [bruno]}), 422),
        (post.clone(), members.clone(), json!({"inbox_id": inbox, "user_ids": [bruno, 999_999]}), 422),
        (patch.clone(), members.clone(), json!({"inbox_id": inbox, "user_ids": [999_999]}), 422),
        // Unknown ids: 404.
        (post.clone(), members.clone(), json!({"inbox_id": 999_999, "user_ids": [bruno]}), 404),
        (patch.clone(), env.path("/agents/999999"), json!({"role": "agent"}), 404),
        (patch.clone(), env.path("/inboxes/999999"), json!({"name": "X"}), 404),
        // Ids that are not numbers: 400.
        (patch.clone(), env.path("/agents/abc"), json!({"role": "agent"}), 400),
        (patch.clone(), env.path("/inboxes/1.5"), json!({"name": "X"}), 400),
        (patch.clone(), "/api/v1/accounts/x/inboxes/1".into(), json!({"name": "X"}), 400),
    ];
    for (method, path, body, expected) in json_cases {
        let (status, answer) = app
            .call(method.clone(), &path, Some(t), Some(body.clone()))
            .await;
        assert_eq!(status, expected, "{method} {path} {body} -> {answer}");
    }

    // Broken bodies and headers.
    let huge_token = "x".repeat(5000);
    let json_type = Some("application/json");
    #[rustfmt::skip]
    let raw_cases: Vec<RawCase> = vec![
        (post.clone(), agents.clone(), Some(t), json_type, b"{\"name\": ".to_vec(), 400),
        (post.clone(), agents.clone(), Some(t), json_type, b"\xff\xfe{}".to_vec(), 400),
        (post.clone(), agents.clone(), Some(t), json_type,
         b"{\"name\": \"\xc3\x28\", \"email\": \"x@acme.test\", \"role\": \"agent\"}".to_vec(), 400),
        (post.clone(), agents.clone(), Some(t), Some("text/plain"), b"{}".to_vec(), 415),
        (post.clone(), agents.clone(), Some(t), None, b"{}".to_vec(), 415),
        (post.clone(), agents.clone(), None, json_type, b"{}".to_vec(), 401),
        (post.clone(), agents.clone(), Some("not-a-token"), json_type, b"{}".to_vec(), 401),
        (Method::GET, agents.clone(), Some(""), None, vec![], 401),
        (Method::GET, "/api/v1/profile".to_string(), Some(&huge_token), None, vec![], 401),
        (Method::PUT, agents.clone(), Some(t), None, vec![], 405),
        (Method::GET, env.path("/no_such_thing"), Some(t), None, vec![], 404),
        (Method::GET, "/nope".to_string(), None, None, vec![], 404),
    ];
    for (method, path, token, content_type, body, expected) in raw_cases {
        let (status, answer) = app
            .raw(method.clone(), &path, token, content_type, body)
            .await;
        assert_eq!(status, expected, "{method} {path} -> {answer}");
    }

    // A body declared over the 1 MiB limit is refused before it is read.
    let request = format!(
        "POST {agents} HTTP/1.1\r\nhost: x\r\napi_access_token: {t}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{{}}",
        2 * 1024 * 1024
    );
    let (status, answer) = app.raw_http(&request).await;
    assert_eq!(status, 413, "{answer}");

    let after = snapshot(&env, inbox).await;
    assert_eq!(after, before, "bad requests changed something");
}

/// A percent-encoded byte that is not UTF-8, anywhere in a path, is the
/// caller's mistake: a JSON 400, never a 500.
async fn invalid_utf8_in_a_path_is_a_400(db: Db) {
    let env = Env::start(db).await;
    let t = env.admin_token.as_str();
    let cases = [
        (Method::GET, "/api/v1/accounts/%ff/contacts".to_string()),
        (Method::GET, env.path("/contacts/%ff")),
        (Method::GET, env.path("/conversations/%ff/messages")),
        (Method::PATCH, env.path("/inboxes/%c3%28")),
        (
            Method::POST,
            "/public/api/v1/inboxes/%ff/contacts".to_string(),
        ),
        (
            Method::GET,
            "/public/api/v1/inboxes/x/contacts/%ff".to_string(),
        ),
        (Method::GET, "/files/%ff/name.txt".to_string()),
        (Method::POST, "/webhooks/whatsapp/%ff".to_string()),
    ];
    for (method, path) in cases {
        let (status, body) = env
            .app
            .call(method.clone(), &path, Some(t), Some(json!({})))
            .await;
        assert_eq!(status, 400, "{method} {path}: {body}");
        assert_eq!(body["error"], "bad_request", "{method} {path}: {body}");
    }
}
