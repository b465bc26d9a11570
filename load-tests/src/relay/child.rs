//! The relay as a child process of `compare`: its own process (its own
//! runtime and threads, like the switchboard server it stands beside), on a
//! port the kernel picks, stopped when `compare` is done with it.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// How long the child may take to print its address.
const START_WITHIN: Duration = Duration::from_secs(10);
/// How long it may take to close its sockets and exit once told to.
const STOP_WITHIN: Duration = Duration::from_secs(10);

/// A `switchboard-load relay` started by this process.
pub struct RelayChild {
    pub addr: SocketAddr,
    child: Child,
    /// Closing it tells the relay to stop (`--stop-on-stdin-eof`).
    stdin: Option<ChildStdin>,
}

impl RelayChild {
    /// Starts this executable as `relay --listen 127.0.0.1:0` and reads the
    /// address it bound from the first line of its stdout. Its logs go to
    /// this process's stderr.
    pub async fn spawn() -> anyhow::Result<RelayChild> {
        let exe = std::env::current_exe().context("cannot find this executable")?;
        let mut child = Command::new(&exe)
            .args(["relay", "--listen", "127.0.0.1:0", "--stop-on-stdin-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            // Never outlive this process, whatever happens to it.
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {} relay", exe.display()))?;
        let stdout = child.stdout.take().context("the relay's stdout")?;
        let line = tokio::time::timeout(START_WITHIN, BufReader::new(stdout).lines().next_line())
            .await
            .context("the relay did not print its address in time")?
            .context("cannot read the relay's stdout")?
            .context("the relay exited before printing its address")?;
        let addr = line
            .trim()
            .parse()
            .with_context(|| format!("the relay printed {line:?}, not an address"))?;
        tracing::info!(%addr, pid = child.id(), "relay started");
        Ok(RelayChild {
            addr,
            stdin: child.stdin.take(),
            child,
        })
    }

    /// The child's process id (for its CPU time), while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Tells the relay to stop, waits for it, and kills it if it takes too long.
    pub async fn stop(mut self) {
        drop(self.stdin.take());
        match tokio::time::timeout(STOP_WITHIN, self.child.wait()).await {
            Ok(Ok(status)) if status.success() => tracing::debug!("relay stopped"),
            Ok(Ok(status)) => tracing::warn!(%status, "relay exited"),
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot wait for the relay"),
            Err(_) => {
                tracing::warn!("relay did not stop in time; killing it");
                let _ = self.child.kill().await;
            }
        }
    }
}
