//! The answers hyper writes itself leave as the API's JSON errors.

use crate::both_databases;
use crate::common::{Db, TestApp, TestDb};

both_databases!(huge_heads_and_garbage_get_json_errors);

async fn huge_heads_and_garbage_get_json_errors(db: Db) {
    let db = TestDb::new(db).await;
    let app = TestApp::spawn(&db).await;
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nHost: switchboard.test\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let (status, body) = app.raw_http(&huge).await;
    assert_eq!(status, 431, "{body}");
    assert_eq!(body["error"], "request_header_fields_too_large", "{body}");
    // The limit is 64 KiB of head, however it arrives.
    let head = |size: usize| {
        format!(
            "GET /healthz HTTP/1.1\r\nHost: switchboard.test\r\nX-Big: {}\r\n\r\n",
            "a".repeat(size)
        )
    };
    assert_eq!(app.raw_http(&head(65 * 1024)).await.0, 431);
    assert_eq!(app.raw_http(&head(32 * 1024)).await.0, 200);
    let (status, body) = app.raw_http("NOT HTTP AT ALL\r\n\r\n").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("bad_request")),
        "{body}"
    );
    // Still serving.
    let (status, _) = app.call(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(status, 200);
    app.stop().await;
}
