//! Messages durably persisted per second through the hub and its
//! group-commit writer, with 1, 100 and 1000 concurrent writers, on SQLite
//! and Postgres, and the time from request to durable acknowledgement.
//!
//! cargo bench -p switchboard-server --bench persist            # full run
//! cargo bench -p switchboard-server --bench persist -- --smoke # seconds, for CI
//! ... -- --writers 1000 --sqlite-only                          # one case
//!
//! Postgres runs when SWITCHBOARD_BENCH_POSTGRES_URL (or the tests'
//! SWITCHBOARD_TEST_POSTGRES_URL) is set; it uses a schema of its own.
#![allow(clippy::print_stdout)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::json;
use switchboard_protocol::api::ChannelType;
use switchboard_server::hub::{Hub, NewConversation, NewMessage};
use switchboard_server::secrets::random_token;
use switchboard_server::store::{
    self, ContactFields, ConversationStatus, MessageType, NewInbox, NewUser, Sender, Store,
};

const CONVERSATIONS: usize = 1000;

struct Run {
    writers: usize,
    messages: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
}

async fn setup(
    url: &str,
) -> (
    Arc<dyn Store>,
    i64,
    Vec<i64>,
    Arc<Hub>,
    tokio::task::JoinHandle<()>,
) {
    let store = store::connect(url).await.expect("open store");
    let admin = NewUser {
        email: format!("bench-{}@example.test", random_token(8).to_lowercase()),
        name: "Bench".into(),
        display_name: None,
        password_hash: None,
    };
    let account = store
        .create_account("Bench", &admin, &random_token(32))
        .await
        .expect("account");
    let inbox = store
        .create_inbox(
            account.account_id,
            &NewInbox {
                name: "Bench".into(),
                channel_type: ChannelType::Api,
                enable_auto_assignment: false,
                auto_assignment_config: Default::default(),
                settings: Default::default(),
                website_token: None,
                inbox_identifier: Some(random_token(24)),
                phone_number: None,
            },
        )
        .await
        .expect("inbox");
    let contact = store
        .create_contact(
            account.account_id,
            &ContactFields {
                name: "V".into(),
                custom_attributes: json!({}),
                ..Default::default()
            },
        )
        .await
        .expect("contact");
    // With the realtime layer subscribed, as in a server: each commit goes
    // through its account's dispatcher (which renders nothing while nobody
    // is connected).
    let metrics = std::sync::Arc::new(switchboard_server::metrics::Metrics::default());
    let realtime = switchboard_server::realtime::Realtime::new(
        store.clone(),
        metrics.clone(),
        switchboard_server::realtime::ReplayLimits::default(),
    );
    let (hub, writer) = Hub::start_with(store.clone(), metrics, std::sync::Arc::new(realtime))
        .await
        .expect("hub");
    let mut conversations = Vec::with_capacity(CONVERSATIONS);
    for _ in 0..CONVERSATIONS {
        let (live, _) = hub
            .create_conversation(NewConversation {
                account_id: account.account_id,
                inbox_id: inbox.id,
                contact_id: contact.id,
                contact_inbox_id: None,
                status: ConversationStatus::Open,
                assignee_id: None,
                messages: Vec::new(),
                echo_id: None,
            })
            .await
            .expect("conversation");
        conversations.push(live.conversation.id);
    }
    (store, account.account_id, conversations, hub, writer)
}

async fn run(
    hub: &Arc<Hub>,
    account_id: i64,
    conversations: &[i64],
    writers: usize,
    duration: Duration,
) -> Run {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(writers);
    let started = Instant::now();
    for w in 0..writers {
        let (hub, stop) = (hub.clone(), stop.clone());
        let conversation = conversations[w % conversations.len()];
        tasks.push(tokio::spawn(async move {
            let mut latency = Histogram::<u64>::new(3).expect("histogram");
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                hub.post_message(
                    account_id,
                    conversation,
                    NewMessage {
                        message_type: MessageType::Incoming,
                        content: Some(format!("message {n} from writer {w}")),
                        private: false,
                        sender: None::<Sender>,
                        echo_id: Some(format!("{w}-{n}")),
                        content_attributes: json!({}),
                        source_id: None,
                        sent_at: None,
                    },
                )
                .await
                .expect("post");
                latency
                    .record(sent.elapsed().as_micros() as u64)
                    .expect("record");
                n += 1;
            }
            (n, latency)
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    let mut latency = Histogram::<u64>::new(3).expect("histogram");
    for task in tasks {
        let (n, h) = task.await.expect("writer");
        total += n;
        latency.add(h).expect("merge");
    }
    Run {
        writers,
        messages: total,
        elapsed: started.elapsed(),
        latency,
    }
}

async fn backend(name: &str, url: &str, writer_counts: &[usize], duration: Duration) {
    let (store, account_id, conversations, hub, writer) = setup(url).await;
    println!(
        "\n{name}: {CONVERSATIONS} conversations, {}s per run",
        duration.as_secs_f64()
    );
    println!(
        "{:>8} {:>12} {:>14} {:>10} {:>10} {:>10}",
        "writers", "messages", "messages/s", "p50 ms", "p99 ms", "p99.9 ms"
    );
    for &writers in writer_counts {
        let r = run(&hub, account_id, &conversations, writers, duration).await;
        let ms = |q: f64| r.latency.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "{:>8} {:>12} {:>14.0} {:>10.2} {:>10.2} {:>10.2}",
            r.writers,
            r.messages,
            r.messages as f64 / r.elapsed.as_secs_f64(),
            ms(0.5),
            ms(0.99),
            ms(0.999)
        );
    }
    hub.stop().await;
    writer.await.expect("writer");
    // Everything acknowledged is in the database.
    let stored: usize = {
        let mut n = 0;
        for id in conversations.iter().take(3) {
            n += store
                .list_messages(*id, None, i64::MAX, false)
                .await
                .expect("messages")
                .len();
        }
        n
    };
    println!("(check: first 3 conversations hold {stored} messages in the database)");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let (mut writer_counts, duration) = if smoke {
        (vec![1, 100], Duration::from_millis(500))
    } else {
        (vec![1, 100, 1000], Duration::from_secs(5))
    };
    // `--writers 1000` (or `10,1000`) runs those counts only.
    if let Some(list) = args
        .iter()
        .position(|a| a == "--writers")
        .and_then(|i| args.get(i + 1))
    {
        writer_counts = list.split(',').filter_map(|n| n.parse().ok()).collect();
    }
    let sqlite_only = args.iter().any(|a| a == "--sqlite-only");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("bench.db").display());
        backend(
            "SQLite (WAL, synchronous=FULL)",
            &url,
            &writer_counts,
            duration,
        )
        .await;

        let pg = std::env::var("SWITCHBOARD_BENCH_POSTGRES_URL")
            .or_else(|_| std::env::var("SWITCHBOARD_TEST_POSTGRES_URL"))
            .ok()
            .filter(|_| !sqlite_only)
            .ok_or(());
        match pg {
            Ok(base) => {
                let schema = format!("bench_{}", random_token(12).to_lowercase());
                let admin = sqlx::PgPool::connect(&base).await.expect("postgres");
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&admin)
                    .await
                    .expect("schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
                backend("Postgres", &url, &writer_counts, duration).await;
                sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&admin)
                    .await
                    .expect("drop");
            }
            Err(_) => println!("\nPostgres: skipped (set SWITCHBOARD_BENCH_POSTGRES_URL)"),
        }
    });
}
