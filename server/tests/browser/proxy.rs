//! A TCP proxy between the browser and the server that a test can cut: it
//! drops every open connection and refuses new ones until restored, as a
//! visitor's network would.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub(crate) struct Proxy {
    pub addr: SocketAddr,
    down: Arc<AtomicBool>,
    /// Bumped on each cut; every forwarding task ends when it changes.
    cuts: watch::Sender<u64>,
}

impl Proxy {
    pub(crate) async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let down = Arc::new(AtomicBool::new(false));
        let (cuts, _) = watch::channel(0u64);
        let (accept_down, accept_cuts) = (down.clone(), cuts.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if accept_down.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = accept_cuts.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let mut client = client;
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Proxy { addr, down, cuts }
    }

    /// Drops every connection and refuses new ones.
    pub(crate) fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    pub(crate) fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}
