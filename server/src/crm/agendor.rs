//! Agendor's API v3, as docs/integrations/agendor.md describes: token auth
//! (`Authorization: Token ...`), answers wrapped in `{"data": ...}`.
//!
//! - Origins: `GET /lead_origins`, to give a new record the origin named
//!   like its inbox (when the account has one).
//! - Records: `GET /people/{id}` to check a known one; `GET
//!   /people?email=` then `GET /people?mobile_phone=` to find one (Agendor
//!   ignores filters it does not know and answers with everything, so every
//!   hit is checked here: the same e-mail, or the same phone digits); `POST
//!   /people` to create. Organizations are filtered by CNPJ only, so they
//!   are paged through (`GET /organizations?page=&per_page=100`, ten pages
//!   at most: past that the sync fails rather than risk a duplicate), then
//!   `POST /organizations`.
//! - Deals: `GET /deals/{id}`, `GET /people/{id}/deals` (a deal with our
//!   title that is still open), `POST /people/{id}/deals`.
//! - Notes: `POST /deals/{id}/tasks` (or on the person), text only: Agendor
//!   keeps notes, tasks and comments as one resource.
//!
//! Answers: 401/403 mean the token is wrong (not retried); 404 on a known
//! id means it was deleted in Agendor (found or created again); 408, 429
//! and 5xx are retried (`Retry-After` honoured); other 4xx are refusals.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, Url};
use serde_json::{json, Value};

use super::{Connector, CrmError, Found, RecordType, Subject};

/// Agendor's web app, for records whose answer has no `_webUrl`.
const WEB: &str = "https://web.agendor.com.br/sistema";
/// Agendor's longest name and title.
const MAX_NAME: usize = 150;
/// Hits read per search.
const PER_PAGE: &str = "20";
/// Agendor filters organizations by CNPJ only (any other filter is ignored
/// and the whole list comes back), so finding one by e-mail or phone pages
/// through them: this many pages of [`ORGANIZATIONS_PAGE`], at most.
const ORGANIZATION_PAGES: usize = 10;
const ORGANIZATIONS_PAGE: usize = 100;

/// An account's connection to Agendor.
pub(crate) struct Agendor {
    client: reqwest::Client,
    base: Url,
    token: String,
    deal_title: String,
    funnel_id: Option<i64>,
    deal_stage: Option<i64>,
    note_text: String,
}

impl Agendor {
    /// Fails when the base URL is not allowed (a private address without
    /// `--outbound-allow-private`).
    pub(crate) fn new(
        client: reqwest::Client,
        settings: &super::AgendorSettings,
        allow_private: bool,
    ) -> Result<Agendor, CrmError> {
        let base = crate::outbox::guard::check_url(&settings.base_url, allow_private)
            .map_err(CrmError::Refused)?;
        Ok(Agendor {
            client,
            base,
            token: settings.api_token.clone(),
            deal_title: settings.deal_title.clone(),
            funnel_id: settings.funnel_id,
            deal_stage: settings.deal_stage,
            note_text: settings.note_text.clone(),
        })
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// One call; `Ok(None)` is a 404.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<Option<Value>, CrmError> {
        let mut request = self
            .client
            .request(method.clone(), self.url(path, query))
            .header("Authorization", format!("Token {}", self.token))
            .header("Accept", "application/json");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| CrmError::Unavailable {
            status: None,
            why: format!("Agendor unreachable: {}", e.without_url()),
            retry_after: None,
        })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::outbox::send::parse_retry_after);
        let text = response.text().await.unwrap_or_default();
        let what = format!("{method} {path}");
        match status {
            200..=299 => {
                let v: Value = serde_json::from_str(&text).map_err(|_| CrmError::Unavailable {
                    status: Some(status),
                    why: format!("Agendor answered {what} with something other than JSON"),
                    retry_after: None,
                })?;
                Ok(Some(v["data"].clone()))
            }
            404 => Ok(None),
            401 | 403 => Err(CrmError::Unauthorized(format!(
                "Agendor refused the API token (HTTP {status}); check it in the integration's settings"
            ))),
            408 | 429 | 500..=599 => Err(CrmError::Unavailable {
                status: Some(status),
                why: format!("Agendor answered {what} with HTTP {status}"),
                retry_after: retry_after.map(|d: Duration| d.min(Duration::from_secs(3600))),
            }),
            _ => Err(CrmError::Refused(format!(
                "Agendor refused {what} (HTTP {status}): {}",
                errors_of(&text)
            ))),
        }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Option<Value>, CrmError> {
        self.call(Method::GET, path, query, None).await
    }

    async fn create(&self, path: &str, body: Value) -> Result<Value, CrmError> {
        self.call(Method::POST, path, &[], Some(body))
            .await?
            .ok_or_else(|| CrmError::Refused(format!("Agendor has no {path} (HTTP 404)")))
    }

    /// The lead origin ("origem") named like the inbox, if the account has
    /// one: the inbox becomes the record's origin. An unknown name is never
    /// sent (what Agendor does with one is not documented), and a refused
    /// lookup only leaves the origin out.
    async fn origin(&self, inbox_name: &str) -> Result<Option<i64>, CrmError> {
        let wanted = inbox_name.trim();
        if wanted.is_empty() {
            return Ok(None);
        }
        let listed = match self.get("/lead_origins", &[]).await {
            Ok(listed) => listed,
            Err(CrmError::Refused(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(listed
            .as_ref()
            .and_then(Value::as_array)
            .and_then(|origins| {
                origins.iter().find(|o| {
                    o["name"]
                        .as_str()
                        .is_some_and(|n| n.trim().eq_ignore_ascii_case(wanted))
                })
            })
            .and_then(|o| o["id"].as_i64()))
    }

    /// The organization that `matches`, paging through all of them. More
    /// than [`ORGANIZATION_PAGES`] pages is a refusal: not knowing whether
    /// it exists, creating it could duplicate it.
    async fn find_organization(
        &self,
        matches: impl Fn(&Value) -> bool,
    ) -> Result<Option<Value>, CrmError> {
        let per_page = ORGANIZATIONS_PAGE.to_string();
        // One page past the bound tells "exactly that many" (an empty page)
        // from "more".
        for number in 1..=ORGANIZATION_PAGES + 1 {
            let page = number.to_string();
            let listed = self
                .get(
                    "/organizations",
                    &[("page", page.as_str()), ("per_page", per_page.as_str())],
                )
                .await?
                .unwrap_or(Value::Null);
            let hits = listed.as_array().map(Vec::as_slice).unwrap_or_default();
            if let Some(hit) = hits.iter().find(|hit| matches(hit)) {
                return Ok(Some(hit.clone()));
            }
            if hits.len() < ORGANIZATIONS_PAGE && (number <= ORGANIZATION_PAGES || hits.is_empty())
            {
                return Ok(None);
            }
        }
        Err(CrmError::Refused(format!(
            "Agendor has more than {} organizations and finds them by CNPJ only: \
             switchboard cannot tell whether this one is already there, so it creates \
             none. Link the contact in Agendor, or sync it as a person.",
            ORGANIZATION_PAGES * ORGANIZATIONS_PAGE
        )))
    }

    /// Searches `collection` by one filter; the first hit that `matches`.
    async fn search(
        &self,
        collection: &str,
        filter: &str,
        value: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Result<Option<Value>, CrmError> {
        let found = self
            .get(
                &format!("/{collection}"),
                &[(filter, value), ("per_page", PER_PAGE)],
            )
            .await?
            .unwrap_or(Value::Null);
        Ok(found
            .as_array()
            .and_then(|hits| hits.iter().find(|hit| matches(hit)).cloned()))
    }
}

fn collection(record_type: RecordType) -> &'static str {
    match record_type {
        RecordType::Person => "people",
        RecordType::Organization => "organizations",
    }
}

/// A record or deal from Agendor's answer, with its web link.
fn found(data: &Value, web_page: &str) -> Result<Found, CrmError> {
    let id = data["id"].as_i64().ok_or_else(|| CrmError::Unavailable {
        status: None,
        why: "Agendor's answer has no id".into(),
        retry_after: None,
    })?;
    let url = data["_webUrl"]
        .as_str()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{WEB}/{web_page}/historico.php?id={id}"));
    Ok(Found { id, url })
}

fn web_page(record_type: RecordType) -> &'static str {
    match record_type {
        RecordType::Person => "pessoas",
        RecordType::Organization => "empresas",
    }
}

/// Agendor's error texts (`errors`: strings or objects, or `message`).
fn errors_of(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let listed: Vec<String> = v["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            e.as_str()
                .or(e["detail"].as_str())
                .or(e["message"].as_str())
                .map(str::to_string)
        })
        .collect();
    let text = if !listed.is_empty() {
        listed.join("; ")
    } else if let Some(m) = v["message"].as_str().or(v["error"].as_str()) {
        m.to_string()
    } else {
        body.chars().take(200).collect()
    };
    text.chars().take(300).collect()
}

/// The digits of a phone number.
fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// Whether two phones are the same number in different formats: the last
/// 11 digits (area code and number, Brazil's longest) or, when one is
/// shorter, the last 10, must agree.
pub(crate) fn same_phone(a: &str, b: &str) -> bool {
    let (a, b) = (digits(a), digits(b));
    let n = a.len().min(b.len()).min(11);
    n >= 8 && a[a.len() - n..] == b[b.len() - n..]
}

/// Whether a hit is this contact: the same e-mail, or the same phone in any
/// of its phone fields.
fn is_contact(hit: &Value, email: Option<&str>, phone: Option<&str>) -> bool {
    let contact = &hit["contact"];
    let same_email = email.is_some_and(|e| {
        contact["email"]
            .as_str()
            .is_some_and(|h| h.trim().eq_ignore_ascii_case(e))
    });
    let same_phone = phone.is_some_and(|p| {
        ["mobile", "whatsapp", "work"]
            .iter()
            .filter_map(|k| contact[*k].as_str())
            .any(|h| same_phone(h, p))
    });
    same_email || same_phone
}

fn cut(text: &str, most: usize) -> String {
    text.chars().take(most).collect()
}

#[async_trait]
impl Connector for Agendor {
    async fn record(
        &self,
        subject: &Subject,
        record_type: RecordType,
        known: Option<i64>,
    ) -> Result<Found, CrmError> {
        let path = collection(record_type);
        let page = web_page(record_type);
        if let Some(id) = known {
            if let Some(data) = self.get(&format!("/{path}/{id}"), &[]).await? {
                return found(&data, page);
            }
        }
        let c = &subject.contact;
        let email = c.email.as_deref().filter(|e| !e.is_empty());
        let phone = c.phone_number.as_deref().filter(|p| digits(p).len() >= 8);
        let is_theirs = |hit: &Value| is_contact(hit, email, phone);
        if record_type == RecordType::Organization {
            if email.is_some() || phone.is_some() {
                if let Some(hit) = self.find_organization(is_theirs).await? {
                    return found(&hit, page);
                }
            }
        } else if let Some(email) = email {
            if let Some(hit) = self.search(path, "email", email, is_theirs).await? {
                return found(&hit, page);
            }
        }
        if let (Some(phone), RecordType::Person) = (phone, record_type) {
            let wanted = digits(phone);
            if let Some(hit) = self
                .search(path, "mobile_phone", &wanted, is_theirs)
                .await?
            {
                return found(&hit, page);
            }
        }
        let name = if c.name.trim().is_empty() {
            phone
                .or(email)
                .unwrap_or("Contato do switchboard")
                .to_string()
        } else {
            c.name.clone()
        };
        let mut contact = json!({});
        if let Some(email) = email {
            contact["email"] = json!(email);
        }
        if let Some(phone) = phone {
            contact["mobile"] = json!(phone);
            if subject.whatsapp {
                contact["whatsapp"] = json!(phone);
            }
        }
        let mut body = json!({
            "name": cut(&name, MAX_NAME),
            "contact": contact,
            "description": cut(
                &format!("Criado pelo switchboard (caixa de entrada: {})", subject.inbox_name),
                700,
            ),
        });
        if let Some(origin) = self.origin(&subject.inbox_name).await? {
            body["leadOrigin"] = json!(origin);
        }
        let data = self.create(&format!("/{path}"), body).await?;
        found(&data, page)
    }

    async fn deal(
        &self,
        subject: &Subject,
        record_type: RecordType,
        record: &Found,
        known: Option<i64>,
    ) -> Result<Found, CrmError> {
        if let Some(id) = known {
            if let Some(data) = self.get(&format!("/deals/{id}"), &[]).await? {
                return found(&data, "negocios");
            }
        }
        let title = cut(&subject.render(&self.deal_title), MAX_NAME);
        let deals = format!("/{}/{}/deals", collection(record_type), record.id);
        let listed = self.get(&deals, &[("per_page", PER_PAGE)]).await?;
        let open_with_title = listed.as_ref().and_then(Value::as_array).and_then(|list| {
            list.iter()
                .find(|d| {
                    d["title"].as_str() == Some(title.as_str())
                        && d["dealStatus"]["id"].as_i64().is_none_or(|s| s == 1)
                })
                .cloned()
        });
        if let Some(deal) = open_with_title {
            return found(&deal, "negocios");
        }
        let mut body = json!({
            "title": title,
            "dealStatusText": "ongoing",
            "description": cut(subject.conversation_url.as_deref().unwrap_or(""), 2000),
        });
        if let Some(funnel) = self.funnel_id {
            body["funnel"] = json!(funnel);
        }
        if let Some(stage) = self.deal_stage {
            body["dealStage"] = json!(stage);
        }
        let data = self.create(&deals, body).await?;
        found(&data, "negocios")
    }

    async fn note(
        &self,
        subject: &Subject,
        record_type: RecordType,
        record: &Found,
        deal: Option<&Found>,
    ) -> Result<(), CrmError> {
        let path = match deal {
            Some(deal) => format!("/deals/{}/tasks", deal.id),
            None => format!("/{}/{}/tasks", collection(record_type), record.id),
        };
        let text = subject.render(&self.note_text);
        self.create(&path, json!({ "text": cut(&text, 5000) }))
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_match_across_formats() {
        assert!(same_phone("+5511988887777", "(11) 98888-7777"));
        assert!(same_phone("+55 11 98888-7777", "5511988887777"));
        assert!(!same_phone("+5511988887777", "+5511988887778"));
        assert!(!same_phone("123", "123"), "too short to mean anything");
    }

    #[test]
    fn hits_are_checked_not_trusted() {
        let hit = json!({"contact": {"email": "Ana@Acme.test", "mobile": "(11) 98888-7777"}});
        assert!(is_contact(&hit, Some("ana@acme.test"), None));
        assert!(is_contact(&hit, None, Some("+5511988887777")));
        assert!(!is_contact(
            &hit,
            Some("bia@acme.test"),
            Some("+5511900000000")
        ));
        assert!(!is_contact(&json!({}), Some("ana@acme.test"), None));
    }

    #[test]
    fn errors_and_links_are_read() {
        assert_eq!(
            errors_of(r#"{"errors":["Nome é obrigatório"]}"#),
            "Nome é obrigatório"
        );
        assert_eq!(errors_of(r#"{"errors":[{"detail":"x"}]}"#), "x");
        assert_eq!(errors_of(r#"{"message":"m"}"#), "m");
        let f = found(&json!({"id": 5}), "pessoas").expect("id");
        assert_eq!(f.url, format!("{WEB}/pessoas/historico.php?id=5"));
        let f = found(
            &json!({"id": 5, "_webUrl": "javascript:alert(1)"}),
            "pessoas",
        )
        .expect("id");
        assert!(f.url.starts_with("https://"), "only web links are kept");
    }
}
