//! The contact beside a conversation: editing it (`edit.rs`, the browser
//! side; `form.rs`, what the form sends, pure and tested) and its CRM block
//! (`crm.rs`).

pub mod crm;
mod edit;
pub mod form;
