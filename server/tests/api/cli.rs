//! The `switchboard` binary: `account create` on a brand-new database, and
//! one clear line with a non-zero exit for configuration errors.

use std::process::Command;

use crate::both_databases;
use crate::common::{Db, TestApp, TestDb};

fn switchboard() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    cmd
}

both_databases!(account_create_on_a_new_database);

async fn account_create_on_a_new_database(db: Db) {
    let db = TestDb::new(db).await;
    let output = switchboard()
        .args([
            "account",
            "create",
            "--name",
            "Acme",
            "--admin-name",
            "Ana Admin",
        ])
        .args([
            "--admin-email",
            "ana@acme.test",
            "--admin-password",
            "password123",
        ])
        .args(["--database-url", &db.url])
        .output()
        .expect("run switchboard");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert_eq!(stdout.lines().count(), 1, "exactly one line: {stdout}");
    let created: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    let keys: Vec<&str> = created
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 3, "{created}");
    let token = created["access_token"].as_str().expect("token");
    let account_id = created["account_id"].as_i64().expect("account id");
    assert_eq!(created["user_id"].as_i64(), Some(1));

    // The token works against a server on that database.
    let app = TestApp::spawn(&db).await;
    let (status, me) = app.get("/api/v1/profile", token).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["account_id"], account_id);
    assert_eq!(me["email"], "ana@acme.test");

    // The same e-mail again is refused with one line and a non-zero exit.
    let output = switchboard()
        .args([
            "account",
            "create",
            "--name",
            "Again",
            "--admin-name",
            "Ana",
        ])
        .args([
            "--admin-email",
            "ana@acme.test",
            "--admin-password",
            "password123",
        ])
        .env("DATABASE_URL", &db.url)
        .output()
        .expect("run switchboard");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("already exists"), "{stderr}");
}

fn fails_with_one_line(args: &[&str], expected: &str) {
    let output = switchboard().args(args).output().expect("run switchboard");
    assert!(!output.status.success(), "{args:?} should fail");
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
}

#[test]
fn configuration_errors_are_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let create = [
        "account",
        "create",
        "--name",
        "A",
        "--admin-name",
        "A",
        "--admin-email",
        "a@a.test",
        "--admin-password",
        "password123",
    ];
    let with_db = |url: &str| {
        let mut args: Vec<String> = create.iter().map(|s| s.to_string()).collect();
        args.extend(["--database-url".to_string(), url.to_string()]);
        args
    };
    let args = with_db("mysql://localhost/db");
    fails_with_one_line(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        "unsupported database URL",
    );

    // A database path inside a regular file cannot be created.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").expect("write");
    let args = with_db(&format!("sqlite:{}/db.sqlite", file.display()));
    fails_with_one_line(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        "database",
    );

    // A file that is not a database.
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x42u8; 8192]).expect("write");
    let args = with_db(&format!("sqlite:{}", garbage.display()));
    fails_with_one_line(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        "database",
    );

    fails_with_one_line(
        &[
            "account",
            "create",
            "--name",
            "A",
            "--admin-name",
            "A",
            "--admin-email",
            "nope",
            "--admin-password",
            "password123",
        ],
        "--admin-email",
    );

    // A port already in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let db = format!("sqlite:{}", dir.path().join("serve.db").display());
    fails_with_one_line(
        &["serve", "--listen", &addr, "--database-url", &db],
        "cannot listen",
    );
    fails_with_one_line(
        &["serve", "--listen", "nowhere", "--database-url", &db],
        "--listen",
    );
}
