//! The bare relay: the physical limit `compare` measures switchboard against.
//!
//! A visitor socket joins a room (`/visitor?room=N&agent=J`), an agent socket
//! serves any number of rooms (`/agent?id=J`), the way one switchboard
//! console holds many conversations. Each text frame from a visitor goes,
//! unread, to the socket of the agent its room names; each text frame from
//! an agent starts with the room's number and a space (`"17 ..."`) and goes,
//! as it is, to that room's visitor. Nothing else: no JSON, no assignment
//! (the client names the agent), no persistence, no acknowledgements.
//!
//! Every socket has a reader task and a writer task fed by a bounded queue;
//! a full queue makes the forwarding reader wait (back pressure, nothing is
//! dropped), and the writer sends whatever is queued with one flush, as
//! switchboard's connections do, so both pay one write per batch.
//!
//! It runs as its own process (`switchboard-load relay`, so it does not share
//! a runtime with the load generator) or, in tests, in-process ([`start`]).

mod child;
mod conn;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

pub use child::RelayChild;

/// How long connections get to close at shutdown.
const CLOSE_WITHIN: Duration = Duration::from_secs(5);

/// A socket's outbound queue.
type Outbox = mpsc::Sender<Message>;

/// Who is connected: each room's visitor, each agent.
#[derive(Default)]
struct Hub {
    visitors: RwLock<HashMap<u64, Outbox>>,
    agents: RwLock<HashMap<u64, Outbox>>,
    /// Frames with nowhere to go (no such room or agent, or not a routable
    /// frame), reported at shutdown.
    dropped: AtomicU64,
}

/// Which side of which room(s) a socket is, from its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Visitor { room: u64, agent: u64 },
    Agent { id: u64 },
}

impl Role {
    /// `/visitor?room=N[&agent=J]` or `/agent[?id=J]`; a missing agent or
    /// id is 0.
    fn parse(path: &str, query: Option<&str>) -> Option<Role> {
        let param = |name: &str| -> Option<Option<u64>> {
            match query
                .unwrap_or("")
                .split('&')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            {
                None => Some(None),
                Some(v) => v.parse().ok().map(Some),
            }
        };
        match path {
            "/visitor" => Some(Role::Visitor {
                room: param("room")??,
                agent: param("agent")?.unwrap_or(0),
            }),
            "/agent" => Some(Role::Agent {
                id: param("id")?.unwrap_or(0),
            }),
            _ => None,
        }
    }
}

fn lock_read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn lock_write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

impl Hub {
    fn map(&self, role: Role) -> (&RwLock<HashMap<u64, Outbox>>, u64) {
        match role {
            Role::Visitor { room, .. } => (&self.visitors, room),
            Role::Agent { id } => (&self.agents, id),
        }
    }

    /// A newer socket for the same room or agent replaces the older one.
    fn join(&self, role: Role, outbox: Outbox) {
        let (map, key) = self.map(role);
        lock_write(map).insert(key, outbox);
    }

    fn leave(&self, role: Role, outbox: &Outbox) {
        let (map, key) = self.map(role);
        let mut map = lock_write(map);
        if map.get(&key).is_some_and(|o| o.same_channel(outbox)) {
            map.remove(&key);
        }
    }

    fn agent(&self, id: u64) -> Option<Outbox> {
        lock_read(&self.agents).get(&id).cloned()
    }

    fn visitor(&self, room: u64) -> Option<Outbox> {
        lock_read(&self.visitors).get(&room).cloned()
    }

    fn drop_frame(&self) {
        if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
            tracing::warn!("relay: a frame had nowhere to go (no such room or agent); counting");
        }
    }
}

/// Binds the relay's listening socket.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Relays until `shutdown` completes, then closes every socket (1001, going
/// away) and returns once they are closed or [`CLOSE_WITHIN`] has passed.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with(listener, Arc::new(Hub::default()), shutdown).await
}

async fn serve_with(
    listener: TcpListener,
    hub: Arc<Hub>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    connections.spawn(conn::run(tcp, hub.clone(), stopped.clone()));
                }
                // Out of descriptors and the like: the connection is lost,
                // the relay is not.
                Err(e) => {
                    tracing::warn!(error = %e, "relay: accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    stop.send_replace(true);
    let open = connections.len();
    let closed = tokio::time::timeout(CLOSE_WITHIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if closed.is_err() {
        tracing::warn!(
            left = connections.len(),
            "relay: sockets did not close in time"
        );
        connections.abort_all();
    }
    tracing::info!(
        open_at_shutdown = open,
        dropped_frames = hub.dropped.load(Ordering::Relaxed),
        "relay stopped"
    );
    Ok(())
}

/// Completes on SIGINT or SIGTERM, or (with `stdin_eof`) when stdin ends.
pub async fn shutdown_signal(stdin_eof: bool) {
    use tokio::io::AsyncReadExt;
    use tokio::signal::unix::{signal, SignalKind};
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    let eof = async {
        if !stdin_eof {
            return std::future::pending::<()>().await;
        }
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 256];
        while let Ok(1..) = stdin.read(&mut buf).await {}
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("relay: SIGINT"),
        () = term => tracing::info!("relay: SIGTERM"),
        () = eof => tracing::info!("relay: stdin closed"),
    }
}

/// A relay running in this process (tests: `current_exe()` there is the
/// test binary, which cannot be started as `switchboard-load relay`).
pub struct Relay {
    pub addr: SocketAddr,
    hub: Arc<Hub>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Relay {
    /// Frames that had nowhere to go so far.
    pub fn dropped_frames(&self) -> u64 {
        self.hub.dropped.load(Ordering::Relaxed)
    }

    /// Stops it and waits until its sockets are closed.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.map_err(std::io::Error::other)?
    }
}

/// Starts a relay on `addr` (port 0: any) in this process's runtime.
pub async fn start(addr: SocketAddr) -> std::io::Result<Relay> {
    let listener = bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let hub = Arc::new(Hub::default());
    let task = tokio::spawn(serve_with(listener, hub.clone(), async {
        let _ = stopped.await;
    }));
    Ok(Relay {
        addr,
        hub,
        stop: Some(stop),
        task,
    })
}

#[cfg(test)]
mod tests;
