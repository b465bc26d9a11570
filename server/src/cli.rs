//! The `switchboard` command line: `serve` (the default) and
//! `account create`. Every subcommand opens the database and applies pending
//! migrations first, so any of them works on a brand-new database file.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;

use crate::edge::EdgeConfig;
use crate::input;
use crate::secrets::{hash_password, new_access_token, token_sha256};
use crate::store::{self, NewUser};
use crate::{demo, launch, Settings};

/// Where the database lives unless told otherwise: a file in `./data`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:data/switchboard.db";

#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about = "Real-time chat hub")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// `sqlite:PATH` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// Options of `serve`, also accepted without the word `serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Manage accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SWITCHBOARD_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: String,
    /// Base URL browsers reach this server at (default: http://LISTEN).
    #[arg(long, env = "SWITCHBOARD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Create a demo account to click through, if the database has none yet.
    #[arg(long, env = "SWITCHBOARD_DEMO")]
    pub demo: bool,
    /// Frames that may wait for one WebSocket before it is cut as too slow
    /// (it then reconnects and resumes from its last cursor).
    #[arg(long, env = "SWITCHBOARD_WS_OUTBOUND_QUEUE", default_value_t = default_outbound_queue())]
    pub ws_outbound_queue: usize,
    /// Let webhooks and callbacks go to loopback and private addresses.
    /// Off by default, so a tenant cannot make the server call its own
    /// network; turn it on for local setups and tests.
    #[arg(long, env = "SWITCHBOARD_OUTBOUND_ALLOW_PRIVATE")]
    pub outbound_allow_private: bool,
    /// Base URL of Meta's Graph API, where WhatsApp replies are sent.
    #[arg(
        long,
        env = "SWITCHBOARD_WHATSAPP_GRAPH_URL",
        default_value = "https://graph.facebook.com"
    )]
    pub whatsapp_graph_url: String,
    /// The folder attachments are kept in.
    #[arg(long, env = "SWITCHBOARD_FILES_DIR", default_value = "data/files")]
    pub files_dir: std::path::PathBuf,
    /// Graph API version of WhatsApp calls.
    #[arg(
        long,
        env = "SWITCHBOARD_WHATSAPP_GRAPH_VERSION",
        default_value = "v22.0"
    )]
    pub whatsapp_graph_version: String,
    /// Failed sign-ins per e-mail before each next attempt must wait (1 s,
    /// then twice as long each time, up to 15 minutes).
    #[arg(long, env = "SWITCHBOARD_SIGN_IN_ATTEMPTS", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub sign_in_attempts: u32,
    /// Failed sign-ins per client address (any e-mail) before attempts from
    /// it must wait the same way.
    #[arg(long, env = "SWITCHBOARD_SIGN_IN_ATTEMPTS_PER_ADDRESS", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub sign_in_attempts_per_address: u32,
    /// Bytes of each account's recent events kept for clients that
    /// reconnect (besides the last 8192 events); older ones resync.
    #[arg(long, env = "SWITCHBOARD_REPLAY_BUFFER_BYTES",
          default_value_t = crate::realtime::BUFFERED_BYTES,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..))]
    pub replay_buffer_bytes: usize,
    /// Run as one node of a cluster: the NATS server(s) the nodes talk
    /// through, e.g. `nats://127.0.0.1:4222`. Needs a Postgres
    /// --database-url shared by every node (see docs/CLUSTER.md).
    #[arg(long, env = "SWITCHBOARD_CLUSTER")]
    pub cluster: Option<String>,
    /// This node's name in the cluster, unique among its nodes (letters,
    /// digits, `-` and `_`). Default: the host's name and the process id.
    #[arg(long, env = "SWITCHBOARD_NODE_NAME", requires = "cluster")]
    pub node_name: Option<String>,
    /// What the cluster's NATS subjects start with: clusters sharing one
    /// NATS server need different prefixes (letters, digits, `-`, `_`).
    #[arg(
        long,
        env = "SWITCHBOARD_CLUSTER_PREFIX",
        default_value = "switchboard",
        requires = "cluster"
    )]
    pub cluster_prefix: String,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The network edge's limits (see `crate::edge`); defaults from
/// [`EdgeConfig::default`].
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Seconds a client has to send a request's headers (also how long an
    /// idle keep-alive connection stays open).
    #[arg(long, env = "SWITCHBOARD_HEADER_READ_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout: u64,
    /// Seconds a request body may stall before the request is answered 408.
    #[arg(long, env = "SWITCHBOARD_BODY_READ_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_read_timeout: u64,
    /// TCP connections one address (IPv6: one /64) may hold open; more are
    /// closed at once. Trusted proxies are exempt.
    #[arg(long, env = "SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections_per_address: u64,
    /// WebSockets one client address may hold open; more get 429.
    #[arg(long, env = "SWITCHBOARD_MAX_WEBSOCKETS_PER_ADDRESS", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_websockets_per_address: u64,
    /// Open files kept for everything but WebSockets: WebSockets get 503
    /// once they reach the open files limit minus this.
    #[arg(long, env = "SWITCHBOARD_DESCRIPTOR_RESERVE", default_value_t = 256)]
    pub descriptor_reserve: u64,
    /// Seconds shutdown lets HTTP requests in flight finish before their
    /// connections are dropped.
    #[arg(long, env = "SWITCHBOARD_SHUTDOWN_TIMEOUT", default_value_t = 5)]
    pub shutdown_timeout: u64,
    /// A proxy (address or network, e.g. 10.0.0.0/8) whose X-Forwarded-For
    /// names the client; repeat the flag, or separate with commas in the
    /// variable. None by default: the header is ignored.
    #[arg(long = "trusted-proxy", env = "SWITCHBOARD_TRUSTED_PROXIES", value_delimiter = ',', value_parser = crate::edge::client::parse_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl LimitArgs {
    pub fn config(&self) -> EdgeConfig {
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        EdgeConfig {
            header_read_timeout: Duration::from_secs(self.header_read_timeout),
            body_read_timeout: Duration::from_secs(self.body_read_timeout),
            connections_per_address: count(self.max_connections_per_address),
            websockets_per_address: count(self.max_websockets_per_address),
            descriptor_reserve: self.descriptor_reserve,
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout),
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }
}

fn default_outbound_queue() -> usize {
    crate::realtime::OUTBOUND_QUEUE
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account and its administrator; prints one JSON object with
    /// the ids and the administrator's API access token.
    Create {
        /// Name of the company or team.
        #[arg(long)]
        name: String,
        /// The administrator's full name.
        #[arg(long)]
        admin_name: String,
        #[arg(long)]
        admin_email: String,
        /// At least 8 characters.
        #[arg(long, env = "SWITCHBOARD_ADMIN_PASSWORD")]
        admin_password: String,
    },
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(&cli.database_url, cli.serve).await,
        Some(Command::Serve(args)) => serve(&cli.database_url, args).await,
        Some(Command::Account {
            command:
                AccountCommand::Create {
                    name,
                    admin_name,
                    admin_email,
                    admin_password,
                },
        }) => {
            let created = create_account(
                &cli.database_url,
                &name,
                &admin_name,
                &admin_email,
                admin_password,
            )
            .await?;
            #[allow(clippy::print_stdout)]
            {
                println!("{}", serde_json::to_string(&created)?);
            }
            Ok(())
        }
    }
}

/// Every WebSocket is an open file: asks for Linux's usual ceiling
/// (raising the hard limit needs privileges), else as much as the hard
/// limit allows.
fn raise_open_files() {
    const WANTED: u64 = 1 << 20;
    let raised = rlimit::setrlimit(rlimit::Resource::NOFILE, WANTED, WANTED)
        .map(|()| WANTED)
        .or_else(|_| rlimit::increase_nofile_limit(WANTED));
    match raised {
        Ok(limit) => tracing::info!(limit, "open files allowed"),
        Err(err) => tracing::warn!(%err, "the open files limit could not be raised"),
    }
}

async fn serve(database_url: &str, args: ServeArgs) -> anyhow::Result<()> {
    let cluster = cluster_config(database_url, &args)?;
    raise_open_files();
    let addr: SocketAddr = args.listen.parse().with_context(|| {
        format!(
            "--listen {} is not an address like 127.0.0.1:3000",
            args.listen
        )
    })?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let (store, postgres) = match &cluster {
        Some(_) => {
            let postgres = store::sql::SqlStore::open_postgres(database_url).await?;
            let store: std::sync::Arc<dyn store::Store> = std::sync::Arc::new(postgres.clone());
            (store, Some(postgres))
        }
        None => (store::connect(database_url).await?, None),
    };
    let demo_website_token = match args.demo {
        true => Some(demo::seed(store.as_ref(), &format!("http://{addr}")).await?),
        false => None,
    };
    let public_url = args.public_url.unwrap_or_else(|| format!("http://{addr}"));
    if demo_website_token.is_some() {
        tracing::info!("demo: open {public_url}/demo to chat through the widget");
    }
    let settings = Settings {
        public_url,
        ws_outbound_queue: args.ws_outbound_queue,
        demo_website_token,
        files_dir: args.files_dir,
        edge: args.limits.config(),
        outbox: crate::outbox::OutboxConfig {
            allow_private: args.outbound_allow_private,
            graph: crate::whatsapp::send::Graph {
                url: args.whatsapp_graph_url,
                version: args.whatsapp_graph_version,
            },
            ..Default::default()
        },
        replay: crate::realtime::ReplayLimits {
            bytes: args.replay_buffer_bytes,
            ..Default::default()
        },
        sign_in: crate::api::throttle::ThrottleConfig {
            free_per_email: args.sign_in_attempts,
            free_per_address: args.sign_in_attempts_per_address,
            ..Default::default()
        },
    };
    match (cluster, postgres) {
        (Some(cluster), Some(postgres)) => {
            crate::launch_cluster(postgres, cluster, settings, listener, shutdown_signal()).await
        }
        _ => launch(store, settings, listener, shutdown_signal()).await,
    }
}

/// `--cluster`'s settings, checked before anything starts: a cluster
/// shares one Postgres database, and a node's name goes into NATS subjects.
fn cluster_config(
    database_url: &str,
    args: &ServeArgs,
) -> anyhow::Result<Option<crate::cluster::ClusterConfig>> {
    let Some(nats_url) = args.cluster.clone() else {
        return Ok(None);
    };
    if store::Backend::from_url(database_url) != Some(store::Backend::Postgres) {
        anyhow::bail!(
            "--cluster needs a Postgres --database-url shared by every node \
             (postgres://...); SQLite is for a single server"
        );
    }
    let node_name = args
        .node_name
        .clone()
        .unwrap_or_else(crate::cluster::default_node_name);
    if !crate::cluster::valid_node_name(&node_name) {
        anyhow::bail!("--node-name {node_name:?}: use 1 to 64 letters, digits, `-` or `_`");
    }
    if !crate::cluster::valid_node_name(&args.cluster_prefix) {
        anyhow::bail!(
            "--cluster-prefix {:?}: use 1 to 64 letters, digits, `-` or `_`",
            args.cluster_prefix
        );
    }
    Ok(Some(crate::cluster::ClusterConfig {
        nats_url,
        node_name,
        prefix: args.cluster_prefix.clone(),
    }))
}

/// What `account create` prints: the ids and the administrator's API token
/// (shown this once; only its hash is stored).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct CreatedAccountOutput {
    pub account_id: i64,
    pub user_id: i64,
    pub access_token: String,
}

/// Creates an account with its administrator and returns
/// `{"account_id":..,"user_id":..,"access_token":".."}`.
pub async fn create_account(
    database_url: &str,
    name: &str,
    admin_name: &str,
    admin_email: &str,
    admin_password: String,
) -> anyhow::Result<CreatedAccountOutput> {
    let name = input::name("--name", name).map_err(|e| anyhow::anyhow!(e.to_string()))?;
    let admin_name =
        input::name("--admin-name", admin_name).map_err(|e| anyhow::anyhow!(e.to_string()))?;
    let email = input::email(admin_email).map_err(|_| {
        anyhow::anyhow!("--admin-email {admin_email:?} is not a valid email address")
    })?;
    let password = input::password(&admin_password)
        .map_err(|_| anyhow::anyhow!("--admin-password must be 8 to 128 characters"))?;
    let store = store::connect(database_url).await?;
    let admin = NewUser {
        email,
        name: admin_name,
        display_name: None,
        password_hash: Some(hash_password(password).await?),
    };
    let token = new_access_token();
    let created = store
        .create_account(&name, &admin, &token_sha256(&token))
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the account: {e}"))?;
    Ok(CreatedAccountOutput {
        account_id: created.account_id,
        user_id: created.user_id,
        access_token: token,
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}
