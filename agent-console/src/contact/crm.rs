//! What the contact panel's CRM block shows for a contact's `crm` link:
//! one status line (a link to the record once synced), a link to the deal,
//! the error and a Retry button when the sync failed. Pure, so every case
//! is tested without a browser; `ui/sidebar.rs` only draws it.
//!
//! The addresses come from an outside system (the CRM's answers, stored
//! by the server), so only `http://` and `https://` ones become links: a
//! `javascript:` address in an `href` would run in the console's origin.

use switchboard_protocol::chat::{CrmLink, CrmStatus};

use crate::i18n::{Lang, T};

/// A label and, when the address is a web one, where it leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub text: String,
    /// `None`: shown as plain text.
    pub href: Option<String>,
}

/// The CRM block of one contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmView {
    /// `pending`, `synced` or `failed`, as the block's `data-status`.
    pub status: &'static str,
    /// "Agendor: open person" (a link when synced), "Agendor: syncing…",
    /// "Agendor: sync failed".
    pub line: Anchor,
    pub deal: Option<Anchor>,
    /// Why the sync failed, as the server wrote it.
    pub error: Option<String>,
    /// Whether the Retry button is offered.
    pub retry: bool,
}

/// The CRM's name as people know it (`agendor` → `Agendor`).
pub fn app_name(app_id: &str) -> String {
    match app_id {
        "agendor" => "Agendor".into(),
        other => other.to_string(),
    }
}

/// `url` when it is a web address, the only kind made a link.
pub fn web_url(url: Option<&str>) -> Option<String> {
    let url = url?.trim();
    let lower = url.to_ascii_lowercase();
    let web = (lower.starts_with("https://") && url.len() > 8)
        || (lower.starts_with("http://") && url.len() > 7);
    web.then(|| url.to_string())
}

pub fn view(link: &CrmLink, lang: Lang) -> CrmView {
    let app = app_name(&link.app_id);
    let line = |key: T| format!("{app}: {}", lang.t(key));
    match link.status {
        CrmStatus::Synced => {
            let record = match link.record_type.as_deref() {
                Some("organization") => T::CrmOpenOrganization,
                _ => T::CrmOpenPerson,
            };
            CrmView {
                status: "synced",
                line: Anchor {
                    text: line(record),
                    href: web_url(link.url.as_deref()),
                },
                // A deal exists when the server has its address.
                deal: link.deal_url.as_deref().map(|url| Anchor {
                    text: lang.t(T::CrmOpenDeal).to_string(),
                    href: web_url(Some(url)),
                }),
                error: None,
                retry: false,
            }
        }
        CrmStatus::Pending => CrmView {
            status: "pending",
            line: Anchor {
                text: line(T::CrmSyncing),
                href: None,
            },
            deal: None,
            error: None,
            retry: false,
        },
        CrmStatus::Failed => CrmView {
            status: "failed",
            line: Anchor {
                text: line(T::CrmSyncFailed),
                href: None,
            },
            deal: None,
            error: link.error.clone().filter(|e| !e.trim().is_empty()),
            retry: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(status: &str, extra: &str) -> CrmLink {
        let json =
            format!(r#"{{"app_id":"agendor","status":"{status}","updated_at":1700000000{extra}}}"#);
        serde_json::from_str(&json).expect("crm link")
    }

    #[test]
    fn synced_links_the_record_and_the_deal() {
        let l = link(
            "synced",
            r#","record_type":"person","record_id":7,"url":"https://web.agendor.com.br/pessoas/7",
            "deal_id":9,"deal_url":"https://web.agendor.com.br/negocios/9""#,
        );
        let v = view(&l, Lang::En);
        assert_eq!(v.status, "synced");
        assert_eq!(v.line.text, "Agendor: open person");
        assert_eq!(
            v.line.href.as_deref(),
            Some("https://web.agendor.com.br/pessoas/7")
        );
        let deal = v.deal.expect("deal");
        assert_eq!(deal.text, "open deal");
        assert_eq!(
            deal.href.as_deref(),
            Some("https://web.agendor.com.br/negocios/9")
        );
        assert!(!v.retry);
        assert_eq!(v.error, None);
    }

    #[test]
    fn organizations_and_portuguese() {
        let l = link(
            "synced",
            r#","record_type":"organization","url":"http://crm.test/e/1""#,
        );
        let v = view(&l, Lang::PtBr);
        assert_eq!(v.line.text, "Agendor: abrir empresa");
        assert_eq!(v.line.href.as_deref(), Some("http://crm.test/e/1"));
        assert_eq!(v.deal, None, "no deal without its address");
    }

    #[test]
    fn only_web_addresses_become_links() {
        let l = link(
            "synced",
            r#","url":"javascript:alert(1)","deal_url":"data:text/html,x""#,
        );
        let v = view(&l, Lang::En);
        assert_eq!(v.line.text, "Agendor: open person");
        assert_eq!(v.line.href, None);
        assert_eq!(v.deal.expect("deal shown as text").href, None);
        assert_eq!(
            web_url(Some(" HTTPS://x.test/a ")).as_deref(),
            Some("HTTPS://x.test/a")
        );
        assert_eq!(web_url(Some("https://")), None);
        assert_eq!(web_url(Some("//evil.test")), None);
        assert_eq!(web_url(Some("ftp://x.test")), None);
        assert_eq!(web_url(None), None);
    }

    #[test]
    fn pending_is_a_muted_line_only() {
        let v = view(&link("pending", ""), Lang::En);
        assert_eq!(v.status, "pending");
        assert_eq!(v.line.text, "Agendor: syncing…");
        assert_eq!(v.line.href, None);
        assert!(v.deal.is_none() && v.error.is_none() && !v.retry);
    }

    #[test]
    fn failed_shows_the_error_and_offers_retry() {
        let v = view(
            &link("failed", r#","error":"401 Unauthorized: invalid token""#),
            Lang::En,
        );
        assert_eq!(v.status, "failed");
        assert_eq!(v.line.text, "Agendor: sync failed");
        assert_eq!(v.error.as_deref(), Some("401 Unauthorized: invalid token"));
        assert!(v.retry);
        let v = view(&link("failed", r#","error":" ""#), Lang::PtBr);
        assert_eq!(v.line.text, "Agendor: falha na sincronização");
        assert_eq!(v.error, None);
        assert_eq!(app_name("hubspot"), "hubspot");
    }
}
