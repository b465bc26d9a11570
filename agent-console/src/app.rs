//! The running console: one [`App`], reached only through [`dispatch`].
//!
//! Every browser event, server answer and socket frame becomes a
//! [`Msg`]; `dispatch` queues it and, unless a batch is already running,
//! applies the queue in order and then redraws what changed, once. A
//! message that a DOM change raises synchronously (a focus or blur while
//! redrawing) is queued rather than re-entering the app, so no `RefCell`
//! borrow can ever fail.

use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};

use serde::de::DeserializeOwned;
use serde_json::Value;
use switchboard_browser::socket::Socket;

use crate::conversation::typing::Outgoing;
use crate::dom;
use crate::http::{self, Method};
use crate::i18n::Lang;
use crate::msg::{Msg, Net, Res};
use crate::route::Route;
use crate::session::events::Incoming;
use crate::session::link::Link;
use crate::state::{Data, Dirty};
use crate::ui::Ui;

/// Where the session survives reloads.
pub(crate) const SESSION_KEY: &str = "switchboard.console.session";
/// The language picked in the profile.
pub(crate) const LANG_KEY: &str = "switchboard.console.lang";

pub(crate) struct App {
    pub data: Data,
    pub ui: Ui,
    pub dirty: Dirty,
    pub link: Link,
    pub socket: Option<Socket>,
    /// Sockets are numbered; events of a replaced one are ignored.
    pub generation: u32,
    /// List reloads are numbered; pages of an abandoned one are ignored.
    pub list_generation: u32,
    /// Change events held back while list pages are in flight.
    pub buffered: Vec<Incoming>,
    pub typing_out: Outgoing,
    /// When the socket last received a frame, and we last pinged.
    pub last_rx: f64,
    pub last_ping: f64,
    /// Conversations we just assigned to ourselves: no alert for those.
    pub self_assigning: HashSet<i64>,
    /// The last (conversation, message) we sent a `read` for.
    pub read_sent: Option<(i64, i64)>,
    /// A token being checked at start-up (before a session exists).
    pub checking_token: Option<(String, i64)>,
    /// Where a signed-out visitor was going: shown once they sign in.
    pub after_login: Option<Route>,
    /// Replies with files, by echo id, kept until the server has them so
    /// a retry sends the same files again.
    pub uploads: std::collections::HashMap<String, web_sys::FormData>,
    /// Template messages by echo id, kept until the server has them so a
    /// retry sends the same template again.
    pub template_sends: std::collections::HashMap<String, Value>,
    /// The inbox whose collaborators' loads changed (an assignment, a
    /// status, presence) while one of its conversations is open: fetched
    /// again on the next tick, at most once a second.
    pub members_due: Option<i64>,
}

thread_local! {
    static APP: RefCell<Option<App>> = const { RefCell::new(None) };
    static QUEUE: RefCell<VecDeque<Msg>> = const { RefCell::new(VecDeque::new()) };
    static RUNNING: Cell<bool> = const { Cell::new(false) };
}

/// Hands a message to the app. Safe to call from anywhere, including
/// from inside a batch (it then runs in the same batch, after the others).
pub(crate) fn dispatch(msg: Msg) {
    QUEUE.with(|q| {
        if let Ok(mut q) = q.try_borrow_mut() {
            q.push_back(msg);
        }
    });
    if RUNNING.with(Cell::get) {
        return;
    }
    RUNNING.with(|r| r.set(true));
    loop {
        let mut ran = false;
        while let Some(msg) =
            QUEUE.with(|q| q.try_borrow_mut().ok().and_then(|mut q| q.pop_front()))
        {
            ran = true;
            with_app(|app| app.update(msg));
        }
        if !ran {
            break;
        }
        with_app(App::render);
    }
    RUNNING.with(|r| r.set(false));
}

fn with_app(f: impl FnOnce(&mut App)) {
    APP.with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            if let Some(app) = slot.as_mut() {
                f(app);
            }
        }
    });
}

/// Starts the console on the page's `#app` element.
pub(crate) fn boot() {
    let Some(window) = dom::window() else { return };
    let Some(root) = dom::by_id("app") else {
        return;
    };
    let browser: Vec<String> = window
        .navigator()
        .languages()
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    let lang = Lang::pick(
        dom::stored(LANG_KEY).as_deref(),
        browser.iter().map(String::as_str),
    );
    let route = Route::parse(&window.location().pathname().unwrap_or_default());
    let stored = dom::stored(SESSION_KEY).and_then(|s| parse_session(&s));
    let mut app = App {
        data: Data::new(lang, route),
        ui: Ui::new(root),
        dirty: Dirty::all(),
        link: Link::default(),
        socket: None,
        generation: 0,
        list_generation: 0,
        buffered: Vec::new(),
        typing_out: Outgoing::default(),
        last_rx: 0.0,
        last_ping: 0.0,
        self_assigning: HashSet::new(),
        read_sent: None,
        checking_token: None,
        after_login: None,
        uploads: std::collections::HashMap::new(),
        template_sends: std::collections::HashMap::new(),
        members_due: None,
    };
    match stored {
        Some((token, account_id)) => {
            if route == Route::Login {
                app.data.route = Route::Conversations(None);
            }
            app.checking_token = Some((token.clone(), account_id));
            spawn(
                Method::Get,
                "/api/v1/profile".into(),
                Some(token),
                None,
                |r| Msg::Net(Box::new(Net::Profile(r))),
            );
        }
        None => {
            if route != Route::Login {
                app.after_login = Some(route);
            }
            app.data.route = Route::Login;
        }
    }
    app.replace_url();
    APP.with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = Some(app);
        }
    });
    crate::actions::install(&window);
    dom::every(1000, || dispatch(Msg::Tick));
    dispatch(Msg::Tick);
}

/// `{"token": ..., "account_id": ...}` as stored.
fn parse_session(text: &str) -> Option<(String, i64)> {
    let v: Value = serde_json::from_str(text).ok()?;
    let token = v.get("token")?.as_str()?.to_string();
    let account = v.get("account_id")?.as_i64()?;
    Some((token, account))
}

/// Sends a request; its answer comes back as the message `wrap` makes.
/// A 401 on a request made with a token means the session is over.
pub(crate) fn spawn<T: DeserializeOwned + 'static>(
    method: Method,
    path: String,
    token: Option<String>,
    body: Option<Value>,
    wrap: impl FnOnce(Res<T>) -> Msg + 'static,
) {
    spawn_body(method, path, token, body.map(http::Body::Json), wrap);
}

/// [`spawn`] with any body (a form with files).
pub(crate) fn spawn_body<T: DeserializeOwned + 'static>(
    method: Method,
    path: String,
    token: Option<String>,
    body: Option<http::Body>,
    wrap: impl FnOnce(Res<T>) -> Msg + 'static,
) {
    wasm_bindgen_futures::spawn_local(async move {
        let result = http::request::<T>(method, path, token.clone(), body).await;
        match (&result, token) {
            (Err(f), Some(token)) if f.status == 401 => {
                dispatch(Msg::Net(Box::new(Net::Unauthorized(token))))
            }
            _ => dispatch(wrap(result)),
        }
    });
}

impl App {
    /// A request with the session's token, to an account path
    /// (`/conversations/...`) or an absolute one (`/api/v1/profile`).
    pub(crate) fn api<T: DeserializeOwned + 'static>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        wrap: impl FnOnce(Res<T>) -> Msg + 'static,
    ) {
        let Some(s) = &self.data.session else { return };
        let path = if path.starts_with("/api/") || path.starts_with("/auth/") {
            path.to_string()
        } else {
            format!("/api/v1/accounts/{}{path}", s.account_id)
        };
        spawn(method, path, Some(s.token.clone()), body, wrap);
    }

    /// [`App::api`] with a form (files) as the body.
    pub(crate) fn api_form<T: DeserializeOwned + 'static>(
        &self,
        path: &str,
        form: web_sys::FormData,
        wrap: impl FnOnce(Res<T>) -> Msg + 'static,
    ) {
        let Some(s) = &self.data.session else { return };
        let path = format!("/api/v1/accounts/{}{path}", s.account_id);
        spawn_body(
            Method::Post,
            path,
            Some(s.token.clone()),
            Some(http::Body::Form(form)),
            wrap,
        );
    }

    fn update(&mut self, msg: Msg) {
        match msg {
            Msg::Navigate(route) => self.navigate(route, true),
            Msg::PopState => {
                let path = dom::window()
                    .and_then(|w| w.location().pathname().ok())
                    .unwrap_or_default();
                self.navigate(Route::parse(&path), false);
            }
            Msg::Act(action) => self.act(action),
            Msg::Net(net) => self.net(*net),
            Msg::Sock(generation, event) => self.sock(generation, event),
            Msg::Reconnect(generation) => {
                if generation == self.generation && self.data.session.is_some() {
                    self.connect();
                }
            }
            Msg::Tick => self.tick(),
        }
    }

    /// Moves to `route`; `push` adds a history entry (not for back/forward).
    pub(crate) fn navigate(&mut self, route: Route, push: bool) {
        let route = self.allowed(route);
        if route == self.data.route {
            return;
        }
        let before = self.data.route;
        if let Some(frame) = self.typing_out.stop() {
            self.send(&frame);
        }
        self.data.route = route;
        // A contact being edited, and a template being filled in, belong
        // to the conversation left.
        self.data.forms.contact = None;
        self.data.forms.template.reset();
        self.dirty.reply = true;
        if push {
            if let Some(history) = dom::window().and_then(|w| w.history().ok()) {
                let _ = history.push_state_with_url(
                    &wasm_bindgen::JsValue::NULL,
                    "",
                    Some(&route.path()),
                );
            }
        } else {
            self.replace_url();
        }
        if before.area() != route.area() {
            self.dirty.screen = true;
        }
        self.dirty.conversation = true;
        self.dirty.thread = true;
        self.dirty.typing = true;
        self.dirty.list = true;
        self.dirty.settings = true;
        self.entered(route);
    }

    /// Agents never see settings; nobody signed in sees only the login.
    fn allowed(&self, route: Route) -> Route {
        match (&self.data.session, route) {
            (None, _) if self.checking_token.is_none() => Route::Login,
            (Some(_), Route::Login) => Route::Conversations(None),
            (Some(_), r) if r.is_settings() && !self.data.admin() => Route::Conversations(None),
            (_, r) => r,
        }
    }

    /// Loads what a screen needs when it is entered.
    pub(crate) fn entered(&mut self, route: Route) {
        if self.data.session.is_none() {
            return;
        }
        match route {
            Route::Conversations(Some(id)) => self.open_conversation(id),
            Route::SettingsInbox(id) => self.open_inbox_settings(id),
            Route::SettingsInboxes | Route::SettingsAgents => self.load_directory(),
            Route::SettingsIntegrations => {
                // The inboxes too: the form offers them as checkboxes.
                self.load_directory();
                self.load_integrations();
                self.load_webhooks();
            }
            Route::SettingsWebhooks => {
                // The inboxes too: a webhook may be for one inbox only.
                self.load_directory();
                self.load_webhooks();
            }
            _ => {}
        }
    }

    pub(crate) fn replace_url(&self) {
        if let Some(w) = dom::window() {
            let current = w.location().pathname().unwrap_or_default();
            let path = self.data.route.path();
            if current != path {
                if let Ok(history) = w.history() {
                    let _ = history.replace_state_with_url(
                        &wasm_bindgen::JsValue::NULL,
                        "",
                        Some(&path),
                    );
                }
            }
        }
    }

    fn render(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        self.ui.render(&self.data, dirty);
        self.after_render();
    }
}
