//! API and store tests: one binary, every test on SQLite and on Postgres.

mod common;
mod compat;

pub mod agendor_fake;
mod crm;
mod crm_organizations;

mod assignment;
mod attachments;
mod auth_profile;
mod cli;
mod contacts;
pub mod conversations;
mod credentials;
mod durability;
mod edge;
mod hub;
mod isolation;
mod logs;
mod malformed;
mod messages;
mod meta;
mod metrics;
mod public_api;
mod realtime;
mod refused_writes;
mod restart;
mod roles;
mod settings_story;
pub mod standin;
mod webhooks;
mod whatsapp;
mod whatsapp_compat;
mod whatsapp_window;
pub mod widget;
mod widget_identity;
pub mod ws;
