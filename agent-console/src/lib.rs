//! The switchboard agent console: Rust compiled to wasm, served at `/app`.
//!
//! The logic that decides what the console shows (the conversation store
//! and its lists, threads, typing, the socket's resume rules, forms, the
//! CRM block and the integration settings, inbox channels, webhooks and
//! their delivery logs, i18n, routes, times) is plain Rust with native unit tests. The browser side
//! (`app`, `session`, `live`, `update`, `conversation`, `admin`, `ui`,
//! `dom`, `http`, `alert`, `actions`, with the socket and DOM helpers it
//! shares with the widget in `switchboard-browser`) only carries it out.
//! See `agent-console/README.md`.

mod actions;
mod admin;
mod agendor;
mod alert;
mod app;
mod channel_admin;
pub mod channels;
mod contact_edit;
pub mod contact_form;
mod conversation;
pub mod crm;
pub mod deliveries;
mod dom;
pub mod errors;
pub mod events;
pub mod format;
pub mod forms;
mod http;
pub mod i18n;
mod i18n_text;
mod inbox_admin;
pub mod inbox_form;
pub mod integrations;
pub mod link;
mod live;
mod msg;
pub mod route;
mod session;
mod state;
pub mod store;
mod template_reply;
pub mod templates;
#[cfg(test)]
mod testdata;
pub mod thread;
pub mod typing;
mod ui;
mod update;
pub mod upload;
mod webhook_admin;
pub mod webhooks;

use wasm_bindgen::prelude::*;

/// Runs once the page's boot module has loaded the wasm.
#[wasm_bindgen(start)]
pub fn start() {
    app::boot();
}
