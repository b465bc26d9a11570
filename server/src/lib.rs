//! switchboard: a real-time chat hub. Conversations from website widgets and
//! API channels land in inboxes and reach the inbox's collaborators at once.
//! This crate is the server: HTTP API, the live hub and persistence.
//!
//! Its parts, where `a -> b` means "a uses b" and nothing points back up:
//!
//! ```text
//! edge (connections) -> http::router -> api, realtime, whatsapp, files, web
//! api, realtime, whatsapp, files, web -> http (AppState, errors, extractors, Member)
//!                                     -> hub::router::Shards (the one door into a shard)
//!                                     -> views (shapes), input (checks)
//! realtime (implements hub::feed::FeedSink) -> hub (the hub emits, never names realtime)
//! outbox, crm -> hub, views, store;  hub -> assign, store;  views -> hub, store
//! ```
//!
//! `hub`, `store`, `outbox`, `crm` and `assign` know nothing of HTTP or sockets.
#![forbid(unsafe_code)]

pub mod api;
pub mod assign;
pub mod cli;
pub(crate) mod cluster;
pub(crate) mod crm;
pub mod demo;
pub mod edge;
pub(crate) mod files;
pub(crate) mod http;
pub mod hub;
pub(crate) mod input;
pub mod logging;
pub mod metrics;
pub mod outbox;
pub mod realtime;
pub mod secrets;
pub mod store;
pub(crate) mod views;
pub(crate) mod web;
pub mod whatsapp;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::store::Store;

/// How long shutdown waits for WebSockets to write out their queues.
const WEBSOCKETS_CLOSE_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// How a running server is reached, what it serves from and its limits:
/// the server's one configuration, set by the command line (see
/// [`cli`]) and held by every handler as `http::AppState::config`.
#[derive(Clone)]
pub struct Settings {
    /// Base URL browsers use to reach this server, without a trailing slash.
    pub public_url: String,
    /// Frames that may wait for one WebSocket before it is cut as too slow.
    pub ws_outbound_queue: usize,
    /// With `--demo`: the demo inbox's website token, served at `/demo`.
    pub demo_website_token: Option<String>,
    /// How webhooks and other outbound calls are made.
    pub outbox: outbox::OutboxConfig,
    /// The folder attachments are kept in.
    pub files_dir: std::path::PathBuf,
    /// How failed sign-ins are throttled.
    pub sign_in: api::throttle::ThrottleConfig,
    /// How much of each account's recent events is kept for resuming.
    pub replay: realtime::ReplayLimits,
    /// Limits of the network edge: timeouts, connections per address,
    /// trusted proxies.
    pub edge: edge::EdgeConfig,
}

impl Settings {
    pub fn new(public_url: impl Into<String>) -> Settings {
        Settings {
            public_url: public_url.into(),
            ws_outbound_queue: realtime::OUTBOUND_QUEUE,
            demo_website_token: None,
            outbox: outbox::OutboxConfig::default(),
            files_dir: std::path::PathBuf::from("data/files"),
            sign_in: api::throttle::ThrottleConfig::default(),
            replay: realtime::ReplayLimits::default(),
            edge: edge::EdgeConfig::default(),
        }
    }
}

/// Serves the API on `listener` until `shutdown` completes, then finishes the
/// requests in flight (within the edge's shutdown timeout). Tests pass a port-0 listener and a oneshot; `main`
/// passes SIGINT/SIGTERM.
pub async fn launch(
    store: Arc<dyn Store>,
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let metrics = Arc::new(metrics::Metrics::default());
    let realtime = Arc::new(realtime::Realtime::new(
        store.clone(),
        metrics.clone(),
        settings.replay,
    ));
    let (hub, writer) = hub::Hub::start_with(store.clone(), metrics, realtime.clone()).await?;
    let parts = Parts {
        shards: hub::router::Shards::local(hub.clone()),
        hub,
        writer,
        realtime,
        peers: cluster::Peers::default(),
        node: None,
    };
    serve(store, settings, listener, shutdown, parts).await
}

/// [`launch`] as one node of a cluster (see [`cluster`] and
/// docs/CLUSTER.md): on Postgres, with the other nodes over NATS. On
/// `shutdown` the node first hands its accounts to the others.
pub(crate) async fn launch_cluster(
    store: store::sql::SqlStore<sqlx::Postgres>,
    config: cluster::ClusterConfig,
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    store.shared_with_other_nodes();
    let pool = store.pool().clone();
    let store: Arc<dyn Store> = Arc::new(store);
    let nats = cluster::connect(&config).await?;
    let metrics = Arc::new(metrics::Metrics::default());
    let relay = cluster::NatsRelay::new(
        config.node_name.as_str().into(),
        cluster::Subjects::new(&config.prefix),
        nats.clone(),
    );
    let realtime = Arc::new(
        realtime::Realtime::new(store.clone(), metrics.clone(), settings.replay)
            .with_relay(relay.clone()),
    );
    let joined = cluster::join(
        &config,
        nats,
        pool,
        store.clone(),
        metrics,
        &realtime,
        &relay,
    )
    .await?;
    let parts = Parts {
        shards: hub::router::Shards::new(joined.router, joined.hub.clone()),
        hub: joined.hub,
        writer: joined.writer,
        realtime,
        peers: joined.peers,
        node: Some(joined.node),
    };
    serve(store, settings, listener, shutdown, parts).await
}

/// What a single server and a cluster node serve with alike.
struct Parts {
    hub: Arc<hub::Hub>,
    writer: tokio::task::JoinHandle<()>,
    shards: hub::router::Shards,
    realtime: Arc<realtime::Realtime>,
    peers: cluster::Peers,
    /// Cluster mode: this node, which hands its accounts over on shutdown.
    node: Option<Arc<cluster::Node>>,
}

async fn serve(
    store: Arc<dyn Store>,
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    parts: Parts,
) -> anyhow::Result<()> {
    let Parts {
        hub,
        writer,
        shards,
        realtime,
        peers,
        node,
    } = parts;
    let cancel = tokio_util::sync::CancellationToken::new();
    let files: Arc<dyn files::FileStore> =
        Arc::new(files::LocalFiles::new(settings.files_dir.clone()));
    let connections = tokio_util::task::TaskTracker::new();
    let mut settings = settings;
    settings.public_url = settings.public_url.trim_end_matches('/').into();
    settings.ws_outbound_queue = settings.ws_outbound_queue.max(1);
    // Everything that can fail to start is done before the outbox worker.
    let _addr = listener.local_addr().context("listener has no address")?;
    let outbound = outbox::send::client(
        settings.outbox.allow_private,
        std::time::Duration::from_secs(15),
    )?;
    let state = http::AppState {
        store: store.clone(),
        shards,
        realtime,
        tokens: Default::default(),
        shutdown: cancel.clone(),
        connections: connections.clone(),
        files: files.clone(),
        outbound,
        template_syncs: Default::default(),
        sign_ins: Arc::new(api::throttle::SignInThrottle::new(settings.sign_in)),
        peers: peers.clone(),
        config: Arc::new(settings),
    };
    let heard = state.clone();
    peers
        .listen(move |notice| {
            let state = heard.clone();
            async move { state.heard(notice).await }
        })
        .await?;
    let outbox = outbox::spawn(
        hub.clone(),
        store,
        files,
        state.config.public_url.as_str().into(),
        state.config.outbox.clone(),
        cancel.clone(),
    )?;
    web::assets::log_sizes();
    let edge = edge::Edge::new(state.config.edge.clone(), hub.metrics().clone());
    let app = http::router(state);
    let addr = listener.local_addr().context("listener has no address")?;
    tracing::info!(%addr, "switchboard listening");
    let signal = cancel.clone();
    edge::serve(edge, listener, app, async move {
        shutdown.await;
        // A cluster node hands its accounts over while it still answers:
        // requests arriving meanwhile are sent on to the new owners.
        if let Some(node) = node {
            node.leave().await;
        }
        signal.cancel();
    })
    .await;
    // WebSockets write out what is queued for them and close.
    cancel.cancel();
    connections.close();
    if tokio::time::timeout(WEBSOCKETS_CLOSE_WITHIN, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = connections.len(),
            "WebSockets still open at shutdown"
        );
    }
    // Calls in flight finish (or time out); the rest stay queued for the
    // next start.
    if outbox.await.is_err() {
        tracing::warn!("the outbox worker failed");
    }
    // Requests have finished; commit whatever they queued before exiting.
    hub.stop().await;
    writer.await.context("the writer task failed")?;
    tracing::info!("switchboard stopped");
    Ok(())
}
