//! The switchboard agent console: Rust compiled to wasm, served at `/app`.
//!
//! Grouped by feature: `session/` (signing in, the socket's life and its
//! resume rules, applying live events), `conversation/` (the lists, the
//! open conversation, its messages, typing, files and WhatsApp templates),
//! `contact/` (the contact panel's edit form and CRM block), `admin/`
//! (settings: inboxes and their channels, webhooks and delivery logs, the
//! Agendor integration), `i18n/` (words, error codes, times) and `ui/` (the
//! screens). At the top: the app's loop (`app`, `msg`, `update`, `state`,
//! `actions`, `route`), the forms' bodies and errors (`forms`) and the
//! browser calls (`dom`, `http`, `alert`; the socket and the DOM helpers
//! shared with the widget are in `switchboard-browser`).
//!
//! What the console shows is decided by plain Rust with native unit tests
//! (larger test sets in a `*_tests.rs` beside their module); the browser
//! side only carries it out. See `agent-console/README.md`.

mod actions;
pub mod admin;
mod alert;
mod app;
pub mod contact;
pub mod conversation;
mod dom;
pub mod forms;
mod http;
pub mod i18n;
mod msg;
pub mod route;
pub mod session;
mod state;
#[cfg(test)]
mod testdata;
mod ui;
mod update;

use wasm_bindgen::prelude::*;

/// Runs once the page's boot module has loaded the wasm.
#[wasm_bindgen(start)]
pub fn start() {
    app::boot();
}
