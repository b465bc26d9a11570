//! The switchboard website widget: the chat window that runs in an iframe
//! on the host page (see `widget/README.md`).
//!
//! The protocol logic (`session`, `state`, `policy`) is plain
//! Rust, unit tested on the host; the DOM side (`app`, `view`, `render`,
//! `host`, with the socket and DOM helpers it shares with the agent
//! console in `switchboard-browser`) only carries out what the session
//! decides.

mod app;
pub mod config;
mod dom;
mod host;
pub mod i18n;
pub mod policy;
mod render;
pub mod session;
pub mod state;
pub mod text;
mod view;
mod wire;

use wasm_bindgen::prelude::*;

/// Runs when the frame's boot module has loaded the wasm.
#[wasm_bindgen(start)]
pub fn start() {
    app::boot();
}
