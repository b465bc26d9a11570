//! A write the database refuses leaves memory as the database is: the hub
//! changes a shard before its rows commit, so on a refusal it reads the
//! account again from the store.

use serde_json::json;

use crate::both_databases;
use crate::common::{Db, Env};

both_databases!(a_refused_commit_is_undone_in_memory);

/// Makes the database refuse the "marked resolved" activity line (and so
/// the whole commit that resolves a conversation); `false` takes it away.
async fn refuse_resolving(env: &Env, db: Db, refuse: bool) {
    let statements: &[&str] = match (db, refuse) {
        (Db::Sqlite, true) => &["CREATE TRIGGER refuse_resolve BEFORE INSERT ON messages \
             WHEN NEW.content LIKE '%marked resolved%' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"],
        (Db::Sqlite, false) => &["DROP TRIGGER refuse_resolve"],
        (Db::Postgres, true) => &[
            "CREATE FUNCTION refuse_resolve() RETURNS trigger AS $$ BEGIN \
             IF NEW.content LIKE '%marked resolved%' THEN \
             RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ \
             LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_resolve BEFORE INSERT ON messages \
             FOR EACH ROW EXECUTE FUNCTION refuse_resolve()",
        ],
        (Db::Postgres, false) => &["DROP TRIGGER refuse_resolve ON messages"],
    };
    match db {
        Db::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&env.db.url)
                .await
                .expect("sqlite");
            for sql in statements {
                sqlx::query(sql).execute(&pool).await.expect("trigger");
            }
            pool.close().await;
        }
        Db::Postgres => {
            let pool = sqlx::PgPool::connect(&env.db.url).await.expect("postgres");
            for sql in statements {
                sqlx::query(sql).execute(&pool).await.expect("trigger");
            }
            pool.close().await;
        }
    }
}

async fn a_refused_commit_is_undone_in_memory(db: Db) {
    let env = Env::start(db).await;
    let inbox = env.web_inbox("Website").await;
    let contact = crate::conversations::contact(&env, "Joana").await;
    let opened = crate::conversations::open(&env, inbox, contact, json!({})).await;
    let id = opened["id"].clone();
    let shown = env.path(&format!("/conversations/{id}"));
    let toggle = env.path(&format!("/conversations/{id}/toggle_status"));

    refuse_resolving(&env, db, true).await;
    let (status, refused) = env
        .app
        .post(&toggle, &env.admin_token, json!({"status": "resolved"}))
        .await;
    assert_eq!(status, 500, "{refused}");
    // A write right after (a client retrying) works on what the database
    // holds, not on the refused change: reopening an open conversation
    // changes nothing.
    let (status, reopened) = env
        .app
        .post(&toggle, &env.admin_token, json!({"status": "open"}))
        .await;
    assert_eq!(status, 200, "{reopened}");
    let (_, lines) = env
        .app
        .get(
            &env.path(&format!("/conversations/{id}/messages")),
            &env.admin_token,
        )
        .await;
    assert!(
        !lines.to_string().contains("reopened"),
        "nothing was reopened: {lines}"
    );
    // The shard held the change before the commit: it is read again.
    let mut seen = json!(null);
    for _ in 0..250 {
        seen = env.app.get(&shown, &env.admin_token).await.1;
        if seen["status"] == "open" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(seen["status"], "open", "memory went back to the database");
    let (_, meta) = env
        .app
        .get(&env.path("/conversations/meta"), &env.admin_token)
        .await;
    assert_eq!(meta["meta"]["all_count"], 1, "{meta}");

    // Once the database takes it, the same change goes through.
    refuse_resolving(&env, db, false).await;
    let (status, resolved) = env
        .app
        .post(&toggle, &env.admin_token, json!({"status": "resolved"}))
        .await;
    assert_eq!(status, 200, "{resolved}");
    let env = env.restart().await;
    let (_, seen) = env
        .app
        .get(&env.path(&format!("/conversations/{id}")), &env.admin_token)
        .await;
    assert_eq!(seen["status"], "resolved");
}
