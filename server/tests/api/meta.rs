//! Meta's side of a WhatsApp Cloud number in tests: the number, its app
//! secret and customer, settings pointing the Graph API at a stand-in, and
//! signed webhook notifications as Meta sends them. Shared by the API and
//! browser tests.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use switchboard_server::whatsapp::send::Graph;
use switchboard_server::Settings;

use crate::common::Env;
use crate::standin::{Recorded, StandIn};

pub(crate) const NUMBER: &str = "+5511999990000";
pub(crate) const APP_SECRET: &str = "meta-app-secret";
pub(crate) const CUSTOMER: &str = "5511988887777";

/// Quick retries, loopback allowed, and the Graph API at `graph`.
pub(crate) fn settings(graph: &StandIn) -> Settings {
    settings_at(graph, "https://switchboard.test")
}

/// [`settings`] for a server whose public URL is `public_url`.
pub(crate) fn settings_at(graph: &StandIn, public_url: &str) -> Settings {
    let mut settings = crate::common::quick_outbox(public_url);
    settings.outbox.graph = Graph {
        url: graph.url.clone(),
        version: "v22.0".into(),
    };
    settings
}

fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

pub(crate) fn notification(messages: Value, statuses: Value) -> Vec<u8> {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102", "changes": [{
    "field": "messages",
    "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5511999990000", "phone_number_id": "106"},
        "contacts": [{"profile": {"name": "Joana"}, "wa_id": CUSTOMER}],
        "messages": messages,
        "statuses": statuses
    }}]}]})
    .to_string()
    .into_bytes()
}

/// POSTs a notification to the number's webhook, signed with `secret`
/// (`None`: unsigned).
pub(crate) async fn deliver(env: &Env, body: Vec<u8>, secret: Option<&str>) -> u16 {
    let mut req = reqwest::Client::new()
        .post(format!("{}/webhooks/whatsapp/{NUMBER}", env.app.base))
        .header("content-type", "application/json")
        .body(body.clone());
    if let Some(secret) = secret {
        req = req.header("x-hub-signature-256", signature(secret, &body));
    }
    req.send().await.expect("webhook").status().as_u16()
}

/// A text the customer wrote just now, as a notification's `messages` entry.
pub(crate) fn text(id: &str, body: &str) -> Value {
    text_at(id, body, switchboard_server::store::now())
}

/// A text the customer wrote at `at` (Unix seconds).
pub(crate) fn text_at(id: &str, body: &str, at: i64) -> Value {
    json!({"from": CUSTOMER, "id": id, "timestamp": at.to_string(), "type": "text",
           "text": {"body": body}})
}

/// Connects [`NUMBER`] as a WhatsApp inbox named `name`, with the Graph
/// stand-in's ids; returns the inbox as the API answers it.
pub(crate) async fn connect_number(env: &Env, name: &str) -> Value {
    let config = json!({"api_key": "EAAG-test", "phone_number_id": "106",
        "business_account_id": "102", "app_secret": APP_SECRET});
    let (status, inbox) = env
        .app
        .post(
            &env.path("/inboxes"),
            &env.admin_token,
            json!({"name": name, "channel": {"type": "whatsapp", "phone_number": NUMBER,
                   "provider_config": config}}),
        )
        .await;
    assert_eq!(status, 200, "{inbox}");
    inbox
}

/// The messages sent to WhatsApp among the stand-in's requests (not media
/// uploads or template listings).
pub(crate) fn sends(seen: &[Recorded]) -> Vec<Recorded> {
    seen.iter()
        .filter(|r| r.method == "POST" && r.path == "/v22.0/106/messages")
        .cloned()
        .collect()
}
