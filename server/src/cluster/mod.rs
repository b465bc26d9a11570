//! Cluster mode (`switchboard serve --cluster nats://...`): several nodes
//! on one Postgres and one NATS, each account's shard owned by one node at
//! a time. docs/CLUSTER.md tells the whole design; in short:
//!
//! - [`leases`]: ownership is a lease row in Postgres with an epoch, renewed
//!   for all of a node's accounts in one statement a second; the writer
//!   commits only while the lease holds (the fence, see `crate::store::Fence`).
//! - [`placement`]: rendezvous hashing over the live nodes says which node
//!   should own an account; nodes take orphaned accounts and hand accounts
//!   over to that node ([`node`]).
//! - [`router`]: the edge's shard router sends a command to the owner over
//!   NATS request/reply, retrying while nothing was applied.
//! - [`events`]: the owner's channel operations go out on the account's
//!   subject to the nodes holding its sockets.
//! - [`notices`]: token and socket revocations reach every node.
//!
//! Without `--cluster` none of this runs.

mod events;
mod leases;
mod node;
pub(crate) mod notices;
mod placement;
mod router;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinHandle;

pub(crate) use events::NatsRelay;
pub(crate) use node::Node;
pub(crate) use notices::{Notice, Peers};
pub(crate) use router::ClusterRouter;
pub(crate) use wire::Subjects;

use crate::hub::router::{Command, ShardRouter};
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::realtime::Realtime;
use crate::store::Store;

/// How a node joins its cluster.
#[derive(Debug, Clone)]
pub(crate) struct ClusterConfig {
    /// `nats://host:port` of the NATS server (or several, comma-separated).
    pub(crate) nats_url: String,
    /// This node's name, unique in the cluster.
    pub(crate) node_name: String,
    /// What every NATS subject of the cluster starts with: clusters that
    /// share a NATS server need different ones.
    pub(crate) prefix: String,
}

/// A name for a node started without `--node-name`: the host's name and
/// the process id, so a restarted process is a new node.
pub(crate) fn default_node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    format!("{host}-{}", std::process::id())
}

/// Whether `name` can name a node (it is part of NATS subjects).
pub(crate) fn valid_node_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Connects to NATS as `node`.
///
/// # Errors
/// NATS cannot be reached within a few seconds.
pub(crate) async fn connect(config: &ClusterConfig) -> anyhow::Result<async_nats::Client> {
    // One URL, or several separated by commas (the servers of a NATS cluster).
    let servers: Vec<&str> = config.nats_url.split(',').map(str::trim).collect();
    async_nats::ConnectOptions::new()
        .name(format!("switchboard {}", config.node_name))
        .connection_timeout(Duration::from_secs(5))
        .connect(servers)
        .await
        .with_context(|| format!("cannot connect to NATS at {}", config.nats_url))
}

/// A node that has joined: its hub, the writer's handle, and the router
/// and peers the edge uses.
pub(crate) struct Joined {
    pub(crate) hub: Arc<Hub>,
    pub(crate) writer: JoinHandle<()>,
    pub(crate) router: Arc<ClusterRouter>,
    pub(crate) node: Arc<Node>,
    pub(crate) peers: Peers,
}

/// Starts this node's hub and joins the cluster: answers other nodes'
/// requests, then says it is alive, then starts the lease loop.
///
/// # Errors
/// The database or NATS failed while joining.
pub(crate) async fn join(
    config: &ClusterConfig,
    nats: async_nats::Client,
    pool: sqlx::PgPool,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    realtime: &Arc<Realtime>,
    relay: &Arc<NatsRelay>,
) -> anyhow::Result<Joined> {
    let name: Arc<str> = config.node_name.as_str().into();
    let (max_conversation, max_message) = store.max_ids().await?;
    let leases = leases::Leases::new(pool, name.clone(), max_conversation.max(max_message));
    let (hub, writer) = Hub::start_cluster(
        store,
        metrics,
        realtime.clone(),
        name.clone(),
        Arc::new(leases.clone()),
    )
    .await?;
    let node = Arc::new(Node::new(
        name.clone(),
        nats.clone(),
        leases.clone(),
        hub.clone(),
        Subjects::new(&config.prefix),
    ));
    let router = Arc::new(ClusterRouter { node: node.clone() });
    let requests = nats
        .subscribe(node.subjects.node(&name))
        .await
        .context("cannot subscribe to this node's requests")?;
    tokio::spawn(router::serve(node.clone(), requests));
    let reporter = Arc::downgrade(&router);
    relay.connect(
        Arc::downgrade(realtime),
        Box::new(move |account_id| {
            let Some(router) = reporter.upgrade() else {
                return;
            };
            tokio::spawn(async move { report_consoles(&router, account_id).await });
        }),
    );
    leases
        .heartbeat()
        .await
        .context("cannot register this node in the database")?;
    tokio::spawn(node.clone().run());
    tracing::info!(node = %name, "joined the cluster");
    Ok(Joined {
        hub,
        writer,
        router,
        node,
        peers: Peers::new(nats, name, Subjects::new(&config.prefix)),
    })
}

/// Tells the account's (new) owner how many consoles of each agent are
/// open on this node.
async fn report_consoles(router: &ClusterRouter, account_id: i64) {
    for (user_id, count, seq) in router.node.consoles_of(account_id) {
        let command = Command::NodeConsoles {
            node: router.node.name.clone(),
            user_id,
            count,
            seq,
        };
        if let Err(e) = router.call(account_id, command).await {
            tracing::warn!(account_id, error = %e, "consoles not reported to the new owner");
        }
    }
}
