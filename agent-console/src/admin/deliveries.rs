//! The outbox's delivery log as the console shows it: an inbox's own
//! calls (API callbacks, WhatsApp sends) and each webhook's. What a row
//! says, when a shown log is fetched again, and which calls may be
//! retried. Pure, so it is tested without a browser.
//!
//! There is no live event for deliveries: a log is fetched when its
//! screen opens, shortly after a live event that may have caused calls
//! (a conversation, a message, a contact), every few seconds while one of
//! its calls is still pending, and on Refresh.

use serde::Deserialize;

use crate::admin::webhooks;
use crate::i18n::format;
use crate::i18n::{Lang, T};

/// Calls per log: the most recent ones.
pub const LIMIT: u32 = 10;
/// How often a log is fetched again while one of its pending calls is
/// due (about to go out, or being tried).
pub const POLL_MS: f64 = 2_500.0;
/// How often while its pending calls wait for a later retry (the outbox
/// backs off up to an hour; this bounds a clock skew's harm).
pub const SLOW_POLL_MS: f64 = 15_000.0;
/// How long after a live event the shown logs are fetched again (the
/// calls it caused are planned in the same commit as the change).
pub const AFTER_EVENT_MS: f64 = 800.0;
/// The least time between two fetches caused by live events, so a busy
/// account does not turn an open settings page into a stream of requests.
pub const EVENT_REFRESH_MS: f64 = 5_000.0;

/// When to fetch the shown logs after a live event at `now_ms`, the last
/// such fetch having been at `last_ms`.
pub fn due_after_event(now_ms: f64, last_ms: f64) -> f64 {
    (now_ms + AFTER_EVENT_MS).max(last_ms + EVENT_REFRESH_MS)
}

/// One outbound call, as `GET .../deliveries` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Delivery {
    pub id: i64,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub event: String,
    /// `pending`, `delivered`, `failed` or `cancelled`.
    pub status: String,
    #[serde(default)]
    pub attempts: i64,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub last_status_code: Option<i64>,
    #[serde(default)]
    pub last_error: Option<String>,
    pub created_at: i64,
    #[serde(default)]
    pub last_attempt_at: Option<i64>,
    #[serde(default)]
    pub next_attempt_at: Option<i64>,
    #[serde(default)]
    pub delivered_at: Option<i64>,
}

impl Delivery {
    /// Failed and cancelled calls can be sent again.
    pub fn can_retry(&self) -> bool {
        matches!(self.status.as_str(), "failed" | "cancelled")
    }

    pub fn pending(&self) -> bool {
        self.status == "pending"
    }

    /// The status as the badge says it.
    pub fn status_label(&self) -> T {
        match self.status.as_str() {
            "delivered" => T::Delivered,
            "failed" => T::Failed,
            "cancelled" => T::Cancelled,
            _ if self.attempts > 0 => T::Retrying,
            _ => T::Queued,
        }
    }

    /// What was sent: the event's caption, or its name.
    pub fn what(&self, lang: Lang) -> String {
        match webhooks::event_label(&self.event) {
            Some(t) => lang.t(t).to_string(),
            None if self.event.is_empty() => self.kind.clone(),
            None => self.event.clone(),
        }
    }

    /// The row's facts: attempts, the last answer's code, when.
    pub fn facts(&self, lang: Lang, now: i64, offset_minutes: i64) -> Vec<String> {
        let when = |t: i64| format::stamp(lang, t, now, offset_minutes);
        let attempts = match self.attempts {
            1 => lang.t(T::OneAttempt).to_string(),
            n => lang.tf(T::Attempts, &[("n", &n.to_string())]),
        };
        let mut facts = vec![attempts];
        if let Some(code) = self.last_status_code {
            facts.push(format!("HTTP {code}"));
        }
        let time = self
            .delivered_at
            .or(self.last_attempt_at)
            .unwrap_or(self.created_at);
        facts.push(when(time));
        if let (true, Some(next)) = (self.pending(), self.next_attempt_at) {
            if self.attempts > 0 {
                facts.push(lang.tf(T::NextTry, &[("time", &when(next))]));
            }
        }
        facts
    }

    /// Why it has not gone through, for calls that have not.
    pub fn problem(&self) -> Option<&str> {
        if self.status == "delivered" {
            return None;
        }
        self.last_error.as_deref().filter(|e| !e.trim().is_empty())
    }
}

/// Whose calls a log lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogKey {
    Inbox(i64),
    Webhook(i64),
}

impl LogKey {
    /// How a row names its log (`data-log`): `inbox:3`, `webhook:2`.
    pub fn tag(self) -> String {
        match self {
            LogKey::Inbox(id) => format!("inbox:{id}"),
            LogKey::Webhook(id) => format!("webhook:{id}"),
        }
    }

    pub fn parse(tag: &str) -> Option<LogKey> {
        let (kind, id) = tag.split_once(':')?;
        let id = id.parse().ok().filter(|id: &i64| *id > 0)?;
        match kind {
            "inbox" => Some(LogKey::Inbox(id)),
            "webhook" => Some(LogKey::Webhook(id)),
            _ => None,
        }
    }

    /// The account path of its newest calls.
    pub fn path(self) -> String {
        match self {
            LogKey::Inbox(id) => format!("/inboxes/{id}/deliveries?limit={LIMIT}"),
            LogKey::Webhook(id) => format!("/webhooks/{id}/deliveries?limit={LIMIT}"),
        }
    }
}

/// One log as shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Log {
    /// `None` until first loaded.
    pub items: Option<Vec<Delivery>>,
    pub in_flight: bool,
    /// When it was last asked for (ms).
    pub asked_at: f64,
}

impl Log {
    /// Whether to fetch it again now: it shows a pending call, and was not
    /// asked for in the last [`POLL_MS`] (when a pending call is due by
    /// its `next_attempt_at`) or [`SLOW_POLL_MS`] (when they all wait).
    pub fn needs_poll(&self, now_ms: f64) -> bool {
        let Some(items) = self.items.as_deref() else {
            return false;
        };
        let now_s = (now_ms / 1000.0) as i64;
        let pending = items.iter().filter(|d| d.pending());
        let wait = match pending.map(|d| d.next_attempt_at).min() {
            None => return false,
            Some(next) if next.is_none_or(|t| t <= now_s + 2) => POLL_MS,
            Some(_) => SLOW_POLL_MS,
        };
        !self.in_flight && now_ms - self.asked_at >= wait
    }

    /// A retried call, now pending, in place of the failed one.
    pub fn replace(&mut self, delivery: Delivery) {
        if let Some(slot) = self
            .items
            .as_mut()
            .and_then(|items| items.iter_mut().find(|d| d.id == delivery.id))
        {
            *slot = delivery;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::api::Payload;

    const LOG: &str = r#"{"payload": [
      {"id": 51, "delivery_id": "6f1c", "kind": "webhook", "event": "message_created",
       "webhook_id": 2, "inbox_id": 3, "status": "pending", "attempts": 3,
       "url": "https://crm.example.com/hooks/switchboard", "last_status_code": 503,
       "last_error": "HTTP 503: {\"error\":\"maintenance\"}", "created_at": 1777638896,
       "last_attempt_at": 1777638900, "next_attempt_at": 1777638960, "delivered_at": null,
       "retried_at": null},
      {"id": 50, "kind": "api_inbox", "event": "conversation_created", "status": "delivered",
       "attempts": 1, "last_status_code": 200, "last_error": null, "created_at": 1777638800,
       "last_attempt_at": 1777638801, "delivered_at": 1777638801},
      {"id": 49, "kind": "webhook", "event": "contact_created", "status": "failed",
       "attempts": 1, "last_status_code": 410, "last_error": "HTTP 410: gone",
       "created_at": 1777638700}
    ]}"#;

    fn log() -> Vec<Delivery> {
        serde_json::from_str::<Payload<Delivery>>(LOG)
            .expect("log")
            .payload
    }

    #[test]
    fn rows_say_what_happened() {
        let items = log();
        let t = 1_777_638_896; // 2026-05-01 12:34 UTC
        let retrying = &items[0];
        assert_eq!(retrying.status_label(), T::Retrying);
        assert_eq!(retrying.what(Lang::En), "Message created");
        assert_eq!(
            retrying.facts(Lang::En, t, 0),
            ["3 attempts", "HTTP 503", "12:35", "next try 12:36"]
        );
        assert_eq!(
            retrying.problem(),
            Some("HTTP 503: {\"error\":\"maintenance\"}")
        );
        assert!(!retrying.can_retry());
        let delivered = &items[1];
        assert_eq!(delivered.status_label(), T::Delivered);
        assert_eq!(delivered.problem(), None);
        assert_eq!(
            delivered.facts(Lang::PtBr, t, 0),
            ["1 tentativa", "HTTP 200", "12:33"]
        );
        let failed = &items[2];
        assert!(failed.can_retry());
        assert_eq!(failed.status_label(), T::Failed);
        assert_eq!(failed.problem(), Some("HTTP 410: gone"));
    }

    #[test]
    fn unknown_events_show_their_name() {
        let mut d = log()[1].clone();
        d.event = "media_download".into();
        assert_eq!(d.what(Lang::En), "media_download");
        d.event = String::new();
        assert_eq!(d.what(Lang::En), "api_inbox");
        d.status = "pending".into();
        d.attempts = 0;
        assert_eq!(d.status_label(), T::Queued);
    }

    #[test]
    fn logs_with_pending_calls_are_polled() {
        // The pending call's next try is at 1777638960 (server time, s).
        let due = 1_777_638_960_000.0;
        let mut l = Log::default();
        assert!(!l.needs_poll(due), "not loaded yet");
        l.items = Some(log());
        l.asked_at = due - 1_000.0;
        assert!(!l.needs_poll(due));
        assert!(l.needs_poll(due - 1_000.0 + POLL_MS));
        l.in_flight = true;
        assert!(!l.needs_poll(due + 60_000.0));
        l.in_flight = false;
        l.items = Some(log()[1..].to_vec());
        assert!(!l.needs_poll(due + 60_000.0), "nothing pending");
    }

    #[test]
    fn calls_waiting_for_a_later_retry_are_polled_slowly() {
        let early = 1_777_638_900_000.0; // a minute before the next try
        let mut l = Log {
            items: Some(log()),
            asked_at: early,
            ..Log::default()
        };
        assert!(!l.needs_poll(early + POLL_MS));
        assert!(l.needs_poll(early + SLOW_POLL_MS));
        // A call queued but not tried yet has no wait.
        let mut queued = log()[0].clone();
        queued.attempts = 0;
        queued.next_attempt_at = None;
        l.items = Some(vec![queued]);
        assert!(l.needs_poll(early + POLL_MS));
    }

    #[test]
    fn live_events_refresh_soon_but_not_too_often() {
        assert_eq!(due_after_event(100_000.0, 0.0), 100_000.0 + AFTER_EVENT_MS);
        assert_eq!(
            due_after_event(100_000.0, 99_000.0),
            99_000.0 + EVENT_REFRESH_MS
        );
    }

    #[test]
    fn a_retried_call_replaces_the_failed_one() {
        let mut l = Log {
            items: Some(log()),
            ..Log::default()
        };
        let mut again = log()[2].clone();
        again.status = "pending".into();
        again.attempts = 0;
        l.replace(again.clone());
        assert_eq!(l.items.as_ref().unwrap()[2], again);
        for key in [LogKey::Inbox(3), LogKey::Webhook(2)] {
            assert_eq!(LogKey::parse(&key.tag()), Some(key));
        }
        assert_eq!(LogKey::parse("inbox:0"), None);
        assert_eq!(LogKey::parse("crm:1"), None);
        assert!(LogKey::Webhook(2)
            .path()
            .starts_with("/webhooks/2/deliveries?limit="));
        assert!(LogKey::Inbox(3)
            .path()
            .starts_with("/inboxes/3/deliveries?"));
    }
}
