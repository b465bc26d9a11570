//! The browser code the website widget and the agent console share.
//!
//! Both apps are plain `web-sys` compiled to wasm with `panic = "abort"`,
//! and both talk to the server over one WebSocket they reopen after a drop.
//! What is the same in the two lives here once: the socket wrapper
//! ([`socket`]), the DOM helpers both call ([`dom`]), the reconnect delay
//! ([`backoff`]) and the few text rules both show ([`text`]). What differs
//! stays in the app: the socket's path and protocol, each app's timing
//! numbers, the console's element builder, the widget's token store.
//!
//! `backoff` and `text` are pure and tested on the host; the rest only
//! carries out browser calls.

pub mod backoff;
pub mod dom;
pub mod socket;
pub mod text;
