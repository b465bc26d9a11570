//! A local stand-in for Agendor's API v3 with memory: people,
//! organizations, deals and tasks it was asked to create, searchable as the
//! real one is (filters it does not know are ignored). It checks the token,
//! the paths and the bodies, and can be told to fail: refuse a call, or
//! carry it out and then answer with an error (a lost answer).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub method: String,
    pub path: String,
}

/// A failure to inject into the next matching calls.
#[derive(Debug, Clone)]
struct Failure {
    method: Method,
    path_prefix: String,
    status: u16,
    times: usize,
    /// Carry the call out, then answer with `status` (the answer is lost).
    after: bool,
}

#[derive(Default)]
struct State {
    token: String,
    next_id: i64,
    people: Vec<Value>,
    organizations: Vec<Value>,
    deals: Vec<Value>,
    tasks: Vec<Value>,
    origins: Vec<Value>,
    seen: Vec<Seen>,
    failures: Vec<Failure>,
}

#[derive(Clone)]
pub(crate) struct FakeAgendor {
    /// The API's base URL, as the integration's `base_url`.
    pub base_url: String,
    state: Arc<Mutex<State>>,
}

impl FakeAgendor {
    pub(crate) async fn start(token: &str) -> FakeAgendor {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}/v3", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State {
            token: token.to_string(),
            next_id: 1000,
            ..State::default()
        }));
        let shared = state.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let shared = shared.clone();
                async move { handle(&shared, method, uri, headers, body) }
            },
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeAgendor { base_url, state }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A person already in the CRM (made by a salesperson).
    pub(crate) fn add_person(&self, name: &str, mobile: &str) -> i64 {
        let mut s = self.lock();
        s.next_id += 1;
        let id = s.next_id;
        s.people.push(json!({"id": id, "name": name,
            "contact": {"email": null, "mobile": mobile, "whatsapp": null, "work": null},
            "_webUrl": format!("https://web.agendor.com.br/sistema/pessoas/historico.php?id={id}")}));
        id
    }

    /// An organization already in the CRM, with its e-mail.
    pub(crate) fn add_organization(&self, name: &str, email: &str) -> i64 {
        let mut s = self.lock();
        s.next_id += 1;
        let id = s.next_id;
        s.organizations.push(json!({"id": id, "name": name,
            "contact": {"email": email, "mobile": null, "whatsapp": null, "work": null},
            "_webUrl": format!("https://web.agendor.com.br/sistema/empresas/historico.php?id={id}")}));
        id
    }

    /// A lead origin ("origem") of the account.
    pub(crate) fn add_origin(&self, name: &str) -> i64 {
        let mut s = self.lock();
        s.next_id += 1;
        let id = s.next_id;
        s.origins.push(json!({"id": id, "name": name}));
        id
    }

    /// The next `times` calls of `method` on paths starting with `prefix`
    /// (after `/v3`) are answered with `status`; with `after`, the call is
    /// carried out first.
    pub(crate) fn fail(
        &self,
        method: Method,
        prefix: &str,
        status: u16,
        times: usize,
        after: bool,
    ) {
        self.lock().failures.push(Failure {
            method,
            path_prefix: prefix.to_string(),
            status,
            times,
            after,
        });
    }

    /// Every call of `method` on paths starting with `prefix` fails.
    pub(crate) fn down(&self, method: Method, prefix: &str, status: u16) {
        self.fail(method, prefix, status, usize::MAX, false);
    }

    pub(crate) fn recover(&self) {
        self.lock().failures.clear();
    }

    pub(crate) fn people(&self) -> Vec<Value> {
        self.lock().people.clone()
    }
    pub(crate) fn organizations(&self) -> Vec<Value> {
        self.lock().organizations.clone()
    }
    pub(crate) fn deals(&self) -> Vec<Value> {
        self.lock().deals.clone()
    }
    pub(crate) fn tasks(&self) -> Vec<Value> {
        self.lock().tasks.clone()
    }
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }
}

fn answer(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn handle(
    state: &Mutex<State>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    let path = uri.path().strip_prefix("/v3").unwrap_or("").to_string();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.seen.push(Seen {
        method: method.to_string(),
        path: path.clone(),
    });
    let expected = format!("Token {}", s.token);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return answer(401, json!({"errors": ["Token inválido"]}));
    }
    let mut after = None;
    if let Some(f) = s
        .failures
        .iter_mut()
        .find(|f| f.method == method && path.starts_with(&f.path_prefix) && f.times > 0)
    {
        f.times = f.times.saturating_sub(1);
        if !f.after {
            return answer(f.status, json!({"errors": ["indisponível"]}));
        }
        after = Some(f.status);
    }
    let (status, data) = route(&mut s, &method, &path, &query, &body);
    match after {
        Some(failed) => answer(failed, json!({"errors": ["indisponível"]})),
        None => answer(status, data),
    }
}

fn route(
    s: &mut State,
    method: &Method,
    path: &str,
    query: &[(String, String)],
    body: &Value,
) -> (u16, Value) {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let id = |raw: &str| raw.parse::<i64>().ok();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["lead_origins"]) => (200, json!({"data": s.origins})),
        ("GET", [kind @ ("people" | "organizations")]) => {
            let list = if *kind == "people" {
                &s.people
            } else {
                &s.organizations
            };
            // Organizations are filtered by CNPJ only: everything else is
            // ignored there, as the real Agendor does.
            let people = *kind == "people";
            let hits: Vec<Value> = list
                .iter()
                .filter(|p| {
                    query.iter().all(|(k, v)| match k.as_str() {
                        "cnpj" if !people => p["cnpj"].as_str() == Some(v.as_str()),
                        "email" if people => p["contact"]["email"]
                            .as_str()
                            .is_some_and(|e| e.eq_ignore_ascii_case(v)),
                        "mobile_phone" if people => {
                            let wanted = digits(v);
                            let tail = &wanted[wanted.len().saturating_sub(11)..];
                            ["mobile", "whatsapp"].iter().any(|f| {
                                p["contact"][*f]
                                    .as_str()
                                    .is_some_and(|m| !tail.is_empty() && digits(m).ends_with(tail))
                            })
                        }
                        _ => true, // unknown filters are ignored, as Agendor does
                    })
                })
                .cloned()
                .collect();
            let number = |key: &str, default: usize| {
                query
                    .iter()
                    .find(|(k, _)| k == key)
                    .and_then(|(_, v)| v.parse::<usize>().ok())
                    .unwrap_or(default)
            };
            let (page, per_page) = (number("page", 1).max(1), number("per_page", 20).min(100));
            let shown: Vec<Value> = hits
                .iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .cloned()
                .collect();
            (
                200,
                json!({"data": shown, "meta": {"totalCount": hits.len()}}),
            )
        }
        ("GET", [kind @ ("people" | "organizations" | "deals"), raw]) => {
            let list = match *kind {
                "people" => &s.people,
                "organizations" => &s.organizations,
                _ => &s.deals,
            };
            match list
                .iter()
                .find(|p| Some(p["id"].as_i64().unwrap_or(0)) == id(raw))
            {
                Some(p) => (200, json!({"data": p})),
                None => (404, json!({"errors": ["não encontrado"]})),
            }
        }
        ("POST", [kind @ ("people" | "organizations")]) => {
            let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
                return (422, json!({"errors": ["Nome é obrigatório"]}));
            };
            s.next_id += 1;
            let new_id = s.next_id;
            let page = if *kind == "people" {
                "pessoas"
            } else {
                "empresas"
            };
            let record = json!({"id": new_id, "name": name, "contact": body["contact"],
                "description": body["description"], "leadOrigin": body["leadOrigin"],
                "_webUrl": format!("https://web.agendor.com.br/sistema/{page}/historico.php?id={new_id}")});
            if *kind == "people" {
                s.people.push(record.clone());
            } else {
                s.organizations.push(record.clone());
            }
            (201, json!({"data": record}))
        }
        ("GET", [kind @ ("people" | "organizations"), raw, "deals"]) => {
            let owner = if *kind == "people" {
                "person"
            } else {
                "organization"
            };
            let deals: Vec<Value> = s
                .deals
                .iter()
                .filter(|d| d[owner]["id"].as_i64() == id(raw))
                .cloned()
                .collect();
            (200, json!({"data": deals}))
        }
        ("POST", [kind @ ("people" | "organizations"), raw, "deals"]) => {
            let list = if *kind == "people" {
                &s.people
            } else {
                &s.organizations
            };
            if !list.iter().any(|p| p["id"].as_i64() == id(raw)) {
                return (404, json!({"errors": ["não encontrado"]}));
            }
            let Some(title) = body["title"].as_str().filter(|t| !t.is_empty()) else {
                return (422, json!({"errors": ["Título é obrigatório"]}));
            };
            s.next_id += 1;
            let owner = if *kind == "people" {
                "person"
            } else {
                "organization"
            };
            let deal = json!({"id": s.next_id, "title": title, "dealStatus": {"id": 1, "name": "Em andamento"},
                "description": body["description"], "funnel": body["funnel"], "dealStage": body["dealStage"],
                owner: {"id": id(raw)},
                "_webUrl": format!("https://web.agendor.com.br/sistema/negocios/historico.php?id={}", s.next_id)});
            s.deals.push(deal.clone());
            (201, json!({"data": deal}))
        }
        ("POST", [kind @ ("people" | "organizations" | "deals"), raw, "tasks"]) => {
            let Some(text) = body["text"].as_str().filter(|t| !t.is_empty()) else {
                return (422, json!({"errors": ["Texto é obrigatório"]}));
            };
            s.next_id += 1;
            let task = json!({"id": s.next_id, "text": text, "on": kind, "of": id(raw)});
            s.tasks.push(task.clone());
            (201, json!({"data": task}))
        }
        _ => (404, json!({"errors": ["rota desconhecida"]})),
    }
}
