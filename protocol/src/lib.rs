//! Wire types shared by the switchboard server and its clients.
//!
//! Only `serde` lives here, so the crate compiles to `wasm32-unknown-unknown`
//! and the widget, the agent console and the load tests speak exactly the
//! server's shapes. The REST shapes mirror Chatwoot's Application API.
#![forbid(unsafe_code)]

pub mod api;
pub mod chat;
pub mod realtime;
