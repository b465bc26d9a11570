//! The command line: `switchboard-load <scenario> [options]`.
//!
//! Options shared by every scenario ([`Common`]) may be written before or
//! after the scenario's name.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// The server allows this many frames a second per connection (bursts of 40);
/// a visitor sending faster is refused with `rate_limited`.
pub const SERVER_FRAMES_PER_SECOND: f64 = 20.0;

#[derive(Debug, Parser)]
#[command(
    name = "switchboard-load",
    version,
    about = "Load generator for a running switchboard server",
    long_about = "Load generator for a running switchboard server.\n\n\
        It sets up what it needs (agents, inboxes) through the REST API of an \
        existing account, given an administrator's --token and --account-id as \
        printed by `switchboard account create`, runs one scenario for a bounded \
        time and prints a summary (or one JSON object with --json)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub scenario: Scenario,
    #[command(flatten)]
    pub common: Common,
}

/// Options of every scenario.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Base URL of the server. Repeat it (or separate URLs with commas) for
    /// the nodes of a cluster: client i uses URL i mod N for its sockets
    /// and REST calls, and moves to the next URL when one fails. Write all
    /// of them on the same side of the scenario's name (those after it
    /// replace those before).
    #[arg(
        long = "url",
        global = true,
        env = "SWITCHBOARD_LOAD_URL",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:3000"
    )]
    pub urls: Vec<String>,
    /// API access token of an administrator of the account (printed by
    /// `switchboard account create`).
    #[arg(
        long,
        global = true,
        env = "SWITCHBOARD_LOAD_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// The account to load (printed by `switchboard account create`).
    #[arg(long, global = true, env = "SWITCHBOARD_LOAD_ACCOUNT_ID")]
    pub account_id: Option<i64>,
    /// How long the measured phase lasts (connect: how long connections are
    /// held; assign: the longest the storm may take). `10s`, `500ms`, `2m`, `1h`.
    #[arg(long, global = true, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Once sending stops, how long to wait for what is still on its way.
    #[arg(long, global = true, default_value = "15s", value_parser = parse_duration)]
    pub drain: Duration,
    /// Print the results as one JSON object on stdout instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// PID of the server process, to read its memory (VmRSS) from /proc.
    #[arg(long, global = true)]
    pub server_pid: Option<u32>,
    /// Source addresses to spread WebSockets over (127.0.0.2, 127.0.0.3, ...;
    /// each gives about 28,000 ports). Default: enough for the connections
    /// the scenario opens. 0 connects without choosing a source address.
    #[arg(long, global = true)]
    pub source_addresses: Option<u8>,
    /// Most WebSocket handshakes in flight at once.
    #[arg(long, global = true, default_value_t = 128)]
    pub concurrency: usize,
    /// No live progress line on stderr.
    #[arg(long, global = true)]
    pub no_progress: bool,
}

impl Common {
    /// The first URL: where setup that needs one node goes.
    pub fn url(&self) -> &str {
        self.urls.first().map_or("", String::as_str)
    }

    /// Options with defaults for `url`, `token` and `account_id`, as tests use them.
    pub fn new(url: impl Into<String>, token: impl Into<String>, account_id: i64) -> Common {
        Common {
            urls: vec![url.into()],
            token: Some(token.into()),
            account_id: Some(account_id),
            duration: Duration::from_secs(10),
            drain: Duration::from_secs(15),
            json: false,
            server_pid: None,
            source_addresses: None,
            concurrency: 128,
            no_progress: true,
        }
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum Scenario {
    /// Open many visitor WebSockets, hold them, measure connects/s and the
    /// server's memory per connection.
    Connect(ConnectArgs),
    /// Visitors chat with agents: latency both ways, deliveries, lost messages.
    Chat(ChatArgs),
    /// Many agent consoles receive every event of one busy account.
    Fanout(FanoutArgs),
    /// A storm of new conversations: assignments per second and latency.
    Assign(AssignArgs),
    /// Chat for a long time, reporting latency and server memory per interval.
    Soak(SoakArgs),
    /// Chat across every --url while one node is killed: time to recover,
    /// retries, lost messages.
    Failover(FailoverArgs),
    /// The same chat against a bare relay and against switchboard, one after
    /// the other: delivered messages/s side by side and their ratio.
    Compare(CompareArgs),
    /// Run the bare relay (frames between visitor and agent sockets, nothing
    /// else) until SIGINT or SIGTERM; not a scenario: see `compare`.
    Relay(RelayArgs),
}

impl Scenario {
    pub fn name(&self) -> &'static str {
        match self {
            Scenario::Connect(_) => "connect",
            Scenario::Chat(_) => "chat",
            Scenario::Fanout(_) => "fanout",
            Scenario::Assign(_) => "assign",
            Scenario::Soak(_) => "soak",
            Scenario::Failover(_) => "failover",
            Scenario::Compare(_) => "compare",
            Scenario::Relay(_) => "relay",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Visitor WebSockets to open.
    #[arg(long, default_value_t = 1000)]
    pub connections: usize,
    /// New connections per second (0: as fast as --concurrency allows).
    #[arg(long, default_value_t = 0.0)]
    pub ramp: f64,
}

#[derive(Debug, Clone, Args)]
pub struct ChatArgs {
    /// Visitors, each with one conversation.
    #[arg(long, default_value_t = 100)]
    pub conversations: usize,
    /// Messages per second each visitor sends.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Agents online in the inbox (one console each); they answer every
    /// visitor message over REST.
    #[arg(long, default_value_t = 10)]
    pub agents: usize,
}

#[derive(Debug, Clone, Args)]
pub struct FanoutArgs {
    /// Agent consoles (each receives every event of the account).
    #[arg(long, default_value_t = 200)]
    pub agents: usize,
    /// Distinct agent users the consoles belong to (default: one per console).
    #[arg(long)]
    pub agent_users: Option<usize>,
    /// Visitors, each with one conversation, sending messages.
    #[arg(long, default_value_t = 5000)]
    pub visitors: usize,
    /// Messages per second each visitor sends.
    #[arg(long, default_value_t = 0.1)]
    pub rate: f64,
}

#[derive(Debug, Clone, Args)]
pub struct AssignArgs {
    /// New conversations (one visitor each).
    #[arg(long, default_value_t = 1000)]
    pub conversations: usize,
    /// Agents online, collaborators of every inbox.
    #[arg(long, default_value_t = 10)]
    pub agents: usize,
    /// Inboxes the conversations are spread over.
    #[arg(long, default_value_t = 1)]
    pub inboxes: usize,
    /// New conversations per second (0: all at once).
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
}

#[derive(Debug, Clone, Args)]
pub struct SoakArgs {
    #[command(flatten)]
    pub chat: ChatArgs,
    /// Length of each reported interval.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub interval: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct FailoverArgs {
    #[command(flatten)]
    pub chat: ChatArgs,
    #[command(flatten)]
    pub kill: KillArgs,
}

/// Which process `failover` kills, when and how.
#[derive(Debug, Clone, Args)]
pub struct KillArgs {
    /// PID of the node to kill (a `switchboard serve` of the cluster).
    #[arg(long)]
    pub kill_pid: u32,
    /// When to kill it, from the start of the measured phase (before the
    /// end of --duration).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub kill_after: Duration,
    /// `kill`: SIGKILL, the node dies at once; `term`: SIGTERM, it shuts
    /// down gracefully.
    #[arg(long, value_enum, default_value_t = Signal::Kill)]
    pub signal: Signal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Signal {
    Kill,
    Term,
}

impl Signal {
    /// The name `kill -s` takes.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Kill => "KILL",
            Signal::Term => "TERM",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Conversations: a visitor socket each, answered by an agent.
    #[arg(long, default_value_t = 2000)]
    pub conversations: usize,
    /// Agents on the other side (one socket, or console, each). On
    /// switchboard every console receives every message of the account, so
    /// each agent beyond the first adds a copy of every message there and
    /// not on the relay.
    #[arg(long, default_value_t = 1)]
    pub agents: usize,
    /// Closed loop: messages each conversation keeps in flight (1: the
    /// visitor sends the next when the answer to the last arrives).
    #[arg(long, default_value_t = 1, conflicts_with = "rate")]
    pub window: usize,
    /// Open loop instead: every visitor sends this many messages a second
    /// on both targets, answered or not (the same offered load: compare
    /// latencies).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Closed loop: the most messages a second one visitor sends, on both
    /// targets (switchboard refuses more than 20 frames a second per
    /// connection). The table warns when this, not the target, set the pace.
    #[arg(long, default_value_t = 15.0)]
    pub max_rate: f64,
    /// A relay already running at this address (`host:port`) instead of
    /// starting `switchboard-load relay` as a child process.
    #[arg(long)]
    pub relay: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RelayArgs {
    /// Address to listen on (port 0: any free port). The address bound is
    /// the first line on stdout.
    #[arg(long, default_value = "127.0.0.1:3901")]
    pub listen: SocketAddr,
    /// Also stop when stdin reaches its end: `compare` stops the relay it
    /// started by closing the pipe, which also happens if `compare` dies.
    #[arg(long, hide = true)]
    pub stop_on_stdin_eof: bool,
}

/// Parses `250ms`, `10s`, `1.5s`, `2m`, `1h`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 10s, 500ms, 2m or 1h"))?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" => value,
        "ms" => value / 1000.0,
        "m" | "min" | "mins" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown unit `{other}` (ms, s, m or h)")),
    };
    if !(0.0..=7.0 * 24.0 * 3600.0).contains(&seconds) {
        return Err(format!("`{text}` is out of range (0 to 7 days)"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn options_go_before_or_after_the_scenario() {
        let cli = Cli::try_parse_from([
            "switchboard-load",
            "--url",
            "http://127.0.0.1:3900",
            "chat",
            "--conversations",
            "5",
            "--duration",
            "3s",
            "--json",
        ])
        .expect("parses");
        assert_eq!(cli.common.urls, ["http://127.0.0.1:3900"]);
        assert_eq!(cli.common.duration, Duration::from_secs(3));
        assert!(cli.common.json);
        match cli.scenario {
            Scenario::Chat(args) => assert_eq!(args.conversations, 5),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn urls_repeat_or_come_comma_separated() {
        let three = [
            "http://127.0.0.1:3101",
            "http://127.0.0.1:3102",
            "http://127.0.0.1:3103",
        ];
        let urls = [
            "--url",
            three[0],
            "--url",
            "http://127.0.0.1:3102,http://127.0.0.1:3103",
        ];
        let after = ["switchboard-load", "chat"].into_iter().chain(urls);
        let cli = Cli::try_parse_from(after).expect("parses");
        assert_eq!(cli.common.urls, three);
        assert_eq!(cli.common.url(), three[0]);
        let before = ["switchboard-load"].into_iter().chain(urls).chain(["chat"]);
        let cli = Cli::try_parse_from(before).expect("parses");
        assert_eq!(cli.common.urls, three);
    }

    #[test]
    fn failover_kills_with_sigkill_unless_told_otherwise() {
        let args = ["switchboard-load", "failover", "--kill-pid", "42"];
        let cli = Cli::try_parse_from(args).expect("parses");
        match cli.scenario {
            Scenario::Failover(f) => {
                assert_eq!(f.kill.kill_pid, 42);
                assert_eq!(f.kill.kill_after, Duration::from_secs(5));
                assert_eq!(f.kill.signal, Signal::Kill);
            }
            other => panic!("parsed as {other:?}"),
        }
        let term = [
            "switchboard-load",
            "failover",
            "--kill-pid",
            "42",
            "--signal",
            "term",
        ];
        match Cli::try_parse_from(term).expect("parses").scenario {
            Scenario::Failover(f) => assert_eq!(f.kill.signal, Signal::Term),
            other => panic!("parsed as {other:?}"),
        }
        let without = ["switchboard-load", "failover"];
        assert!(
            Cli::try_parse_from(without).is_err(),
            "--kill-pid is required"
        );
    }

    #[test]
    fn compare_is_closed_loop_unless_given_a_rate() {
        let cli =
            Cli::try_parse_from(["switchboard-load", "compare", "--window", "4"]).expect("parses");
        match cli.scenario {
            Scenario::Compare(args) => {
                assert_eq!((args.window, args.rate, args.agents), (4, None, 1));
            }
            other => panic!("parsed as {other:?}"),
        }
        let both = [
            "switchboard-load",
            "compare",
            "--window",
            "4",
            "--rate",
            "2",
        ];
        assert!(Cli::try_parse_from(both).is_err(), "a window or a rate");
    }
}
