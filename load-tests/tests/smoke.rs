//! Every scenario, tiny and short, against a real server started in this
//! process on a fresh SQLite database: nothing acknowledged may be lost and
//! something must have been delivered.

use std::time::Duration;

use clap::Parser;
use switchboard_load::cli::{AssignArgs, ChatArgs, CompareArgs, ConnectArgs, FanoutArgs, SoakArgs};
use switchboard_load::{relay, run, Cli, Common, Report, Scenario};
use switchboard_server::{launch, Settings};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A server on port 0 with one account.
struct Server {
    common: Common,
    stop: Option<oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("switchboard.db").display());
        let created = switchboard_server::cli::create_account(
            &url,
            "Load",
            "Ana Admin",
            "ana@load.switchboard.test",
            "password123".to_string(),
        )
        .await
        .expect("account");
        let store = switchboard_server::store::connect(&url)
            .await
            .expect("store");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(launch(
            store,
            Settings::new(base.clone()),
            listener,
            async {
                let _ = rx.await;
            },
        ));
        let mut common = Common::new(base, created.access_token, created.account_id);
        common.duration = Duration::from_secs(2);
        common.drain = Duration::from_secs(10);
        Server {
            common,
            stop: Some(tx),
            handle,
            _dir: dir,
        }
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.handle
            .await
            .expect("server task")
            .expect("server stopped cleanly");
    }
}

fn assert_clean(report: &Report) {
    let table = report.table();
    assert_eq!(report.lost, 0, "{table}");
    assert_eq!(report.errors, 0, "{table}");
    let json = report.to_json();
    assert_eq!(json["lost"], 0, "{json}");
}

fn number(report: &Report, key: &str) -> f64 {
    report
        .number(key)
        .unwrap_or_else(|| panic!("no {key} in\n{}", report.table()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_opens_and_holds_visitors() {
    let server = Server::start().await;
    let mut common = server.common.clone();
    common.duration = Duration::from_secs(1);
    // The server runs in this process: its memory is ours.
    common.server_pid = Some(std::process::id());
    let scenario = Scenario::Connect(ConnectArgs {
        connections: 20,
        ramp: 0.0,
    });
    let report = run(&common, &scenario).await.expect("connect runs");
    assert_clean(&report);
    assert_eq!(number(&report, "opened"), 20.0, "{}", report.table());
    assert_eq!(number(&report, "open_at_end"), 20.0, "{}", report.table());
    assert!(number(&report, "connects_per_second") > 0.0);
    assert!(report.get("bytes_per_connection").is_some());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_delivers_both_ways_and_loses_nothing() {
    let server = Server::start().await;
    let common = &server.common;
    let account = common.account_id.expect("account").to_string();
    let token = common.token.clone().expect("token");
    // Through the command line, as an operator would write it.
    let cli = Cli::try_parse_from([
        "switchboard-load",
        "chat",
        "--url",
        common.url(),
        "--token",
        &token,
        "--account-id",
        &account,
        "--conversations",
        "6",
        "--rate",
        "2",
        "--agents",
        "2",
        "--duration",
        "3s",
        "--no-progress",
        "--json",
    ])
    .expect("arguments parse");
    let report = run(&cli.common, &cli.scenario).await.expect("chat runs");
    assert_clean(&report);
    let v2a = report.latency_of("visitor_to_agent").expect("v2a");
    let a2v = report.latency_of("agent_to_visitor").expect("a2v");
    assert!(v2a.count >= 6, "{}", report.table());
    assert_eq!(
        v2a.count,
        a2v.count,
        "every message answered: {}",
        report.table()
    );
    assert!(number(&report, "visitor_messages_acked") >= 6.0);
    assert_eq!(
        number(&report, "visitor_messages_acked"),
        number(&report, "agent_messages_acked"),
        "{}",
        report.table()
    );
    assert!(number(&report, "deliveries_per_second") > 0.0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_spread_over_every_url() {
    let server = Server::start().await;
    let common = &server.common;
    let account = common.account_id.expect("account").to_string();
    let token = common.token.clone().expect("token");
    // One server named twice: two URLs as far as the load generator knows.
    let cli = Cli::try_parse_from([
        "switchboard-load",
        "chat",
        "--url",
        common.url(),
        "--url",
        common.url(),
        "--token",
        &token,
        "--account-id",
        &account,
        "--conversations",
        "4",
        "--agents",
        "2",
        "--duration",
        "2s",
        "--no-progress",
    ])
    .expect("arguments parse");
    assert_eq!(cli.common.urls.len(), 2);
    let report = run(&cli.common, &cli.scenario).await.expect("chat runs");
    assert_clean(&report);
    let json = report.to_json();
    let per_url = json["per_url"].as_array().expect("per_url");
    assert_eq!(per_url.len(), 2, "{json}");
    for url in per_url {
        // Visitors 0..4 and agents 0..2, each on URL (its index mod 2).
        assert_eq!(url["sockets_opened"], 3, "{json}");
        assert!(
            url["rest_requests"].as_u64().is_some_and(|n| n > 0),
            "{json}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_kills_the_process_and_keeps_its_books() {
    let server = Server::start().await;
    let common = &server.common;
    // A harmless stand-in for a node: the scenario's bookkeeping around the
    // kill is what is tested, against one server that stays up.
    let mut node = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .expect("sleep starts");
    let pid = node.id().to_string();
    let account = common.account_id.expect("account").to_string();
    let token = common.token.clone().expect("token");
    let cli = Cli::try_parse_from([
        "switchboard-load",
        "failover",
        "--url",
        common.url(),
        "--token",
        &token,
        "--account-id",
        &account,
        "--conversations",
        "4",
        "--rate",
        "2",
        "--agents",
        "2",
        "--duration",
        "2s",
        "--kill-pid",
        &pid,
        "--kill-after",
        "1s",
        "--no-progress",
    ])
    .expect("arguments parse");
    let report = run(&cli.common, &cli.scenario)
        .await
        .expect("failover runs");
    let status = node.wait().expect("the stand-in is reaped");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "killed with SIGKILL");
    assert_clean(&report);
    let json = report.to_json();
    assert_eq!(json["scenario"], "failover");
    assert_eq!(json["affected_clients"], 0, "{json}");
    assert_eq!(json["recovery_s"], 0.0, "nothing to recover from: {json}");
    assert!(
        json["kill_at_s"].as_f64().is_some_and(|s| s >= 1.0),
        "{json}"
    );
    assert_eq!(
        json["cap_violations"]
            .as_str()
            .map(|s| s.starts_with("not measured")),
        Some(true)
    );
    assert!(
        number(&report, "visitor_messages_acked") >= 8.0,
        "{}",
        report.table()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_reaches_every_console() {
    let server = Server::start().await;
    let scenario = Scenario::Fanout(FanoutArgs {
        agents: 4,
        agent_users: Some(2),
        visitors: 10,
        rate: 1.0,
    });
    let report = run(&server.common, &scenario).await.expect("fanout runs");
    assert_clean(&report);
    let acked = number(&report, "visitor_messages_acked");
    assert!(acked >= 10.0, "{}", report.table());
    assert_eq!(number(&report, "visitor_messages_missing_deliveries"), 0.0);
    assert!(number(&report, "deliveries") > 0.0, "{}", report.table());
    assert!(report.latency_of("latency").expect("latency").count >= acked as u64 * 4);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assign_storm_assigns_everything() {
    let server = Server::start().await;
    let scenario = Scenario::Assign(AssignArgs {
        conversations: 24,
        agents: 3,
        inboxes: 2,
        rate: 0.0,
    });
    let report = run(&server.common, &scenario).await.expect("assign runs");
    assert_clean(&report);
    assert_eq!(number(&report, "assigned"), 24.0, "{}", report.table());
    assert_eq!(number(&report, "unassigned"), 0.0, "{}", report.table());
    assert_eq!(
        report.latency_of("to_agent").expect("latency").count,
        24,
        "{}",
        report.table()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_reports_each_interval() {
    let server = Server::start().await;
    let mut common = server.common.clone();
    common.duration = Duration::from_secs(3);
    common.server_pid = Some(std::process::id());
    let scenario = Scenario::Soak(SoakArgs {
        chat: ChatArgs {
            conversations: 3,
            rate: 2.0,
            agents: 1,
        },
        interval: Duration::from_secs(1),
    });
    let report = run(&common, &scenario).await.expect("soak runs");
    assert_clean(&report);
    let json = report.to_json();
    let intervals = json["intervals"].as_array().expect("intervals");
    assert!(intervals.len() >= 3, "{json}");
    assert!(json["drift_server_rss_bytes"].is_number(), "{json}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_runs_the_same_load_against_the_relay_and_the_server() {
    let server = Server::start().await;
    // In-process: this test binary cannot be started as `switchboard-load relay`.
    let relay = relay::start("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("relay starts");
    let scenario = Scenario::Compare(CompareArgs {
        conversations: 4,
        agents: 2,
        window: 2,
        rate: None,
        max_rate: 15.0,
        relay: Some(relay.addr.to_string()),
    });
    let report = run(&server.common, &scenario).await.expect("compare runs");
    let table = report.table();
    assert_clean(&report);
    let json = report.to_json();
    assert!(json["ratio"].as_f64().is_some_and(|r| r > 0.0), "{table}");
    for half in ["relay", "switchboard"] {
        let h = &json[half];
        let sent = h["sent"].as_u64().expect("sent");
        assert!(sent >= 8, "{half}: {table}");
        assert_eq!(
            h["answered"], sent,
            "{half}: every message answered: {table}"
        );
        // Both ways, during the measured phase (the drain's arrivals are
        // measured for latency but not counted).
        let delivered = h["delivered"].as_u64().expect("delivered");
        let arrived = h["visitor_to_agent"]["count"].as_u64().expect("v2a")
            + h["agent_to_visitor"]["count"].as_u64().expect("a2v");
        assert_eq!(arrived, 2 * sent, "{half}: {table}");
        assert!(delivered > sent && delivered <= arrived, "{half}: {table}");
        assert!(
            h["round_trip"]["p99_ms"].as_f64().is_some_and(|p| p > 0.0),
            "{table}"
        );
    }
    assert_eq!(
        json["switchboard"]["visitor_messages_acked"], json["switchboard"]["sent"],
        "{table}"
    );
    assert!(table.contains("RATIO switchboard / relay"), "{table}");
    relay.stop().await.expect("relay stops cleanly");
    server.stop().await;
}
