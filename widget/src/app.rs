//! The running widget: one [`App`] per frame, reached by every event
//! handler through [`with_app`]. Each handler tells the session what
//! happened, carries out the session's effects, and redraws.

use std::cell::RefCell;

use serde_json::json;
use switchboard_browser::socket::{Socket, SocketEvent};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, Event, File, FormData, Headers, KeyboardEvent, MessageEvent, RequestInit};

use crate::config::{socket_url, storage_key, theme_color, Config};
use crate::dom::{self, now_ms, random, TokenStore};
use crate::host::{embedded, outgoing, Command, Host};
use crate::i18n::Locale;
use crate::session::{Effect, HostOut, Picked, Session, UploadRequest};
use crate::view::View;

pub(crate) struct App {
    pub(crate) session: Session,
    pub(crate) view: View,
    socket: Option<Socket>,
    /// Sockets are numbered; events of a replaced one are ignored.
    generation: u32,
    /// Scheduled connects are numbered too; only the latest runs.
    plan: u32,
    url: String,
    store: TokenStore,
    pub(crate) host: Option<Host>,
    pub(crate) locale: Locale,
    /// The language the host page asked for (its `locale` setting or a
    /// later `setLocale`); it wins over the inbox's and the browser's.
    asked: Option<String>,
    /// The browser's language, read once.
    browser: Option<String>,
    /// The colour last told to the loader (for its bubble).
    told_color: Option<String>,
    /// Whether the pre-chat form was due at the last redraw.
    prechat_was: bool,
    /// This server's origin, where uploads go.
    origin: String,
    /// The files of the upload under this echo id (kept for Retry).
    files: Option<(String, Vec<File>)>,
}

thread_local! {
    static APP: RefCell<Option<App>> = const { RefCell::new(None) };
}

/// Runs `f` on the app without redrawing: for what only concerns the
/// view's scroll position.
pub(crate) fn with_view(f: impl FnOnce(&mut App)) {
    APP.with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            if let Some(app) = slot.as_mut() {
                f(app);
            }
        }
    });
}

/// Runs `f` on the app, then carries out the effects and redraws. An event
/// that arrives while the app is busy (it cannot, as no handler dispatches
/// events synchronously, but a borrow must never panic) is dropped.
pub(crate) fn with_app(f: impl FnOnce(&mut App)) {
    APP.with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            return;
        };
        if let Some(app) = slot.as_mut() {
            f(app);
            app.apply();
        }
    });
}

/// Starts the widget in this frame.
pub(crate) fn boot() {
    let Some(window) = dom::window() else { return };
    let location = window.location();
    let config = Config::from_query(&location.search().unwrap_or_default());
    let browser = window.navigator().language();
    let asked = config.locale.clone();
    // The inbox's language is known only after `welcome`; `settle` applies it.
    let locale = Locale::pick(asked.as_deref(), None, browser.as_deref());
    let origin = location.origin().unwrap_or_default();
    let Some(view) = View::build(origin.clone()) else {
        web_sys::console::error_1(&"switchboard: the frame page has no #app element".into());
        return;
    };
    let url = socket_url(
        &location.protocol().unwrap_or_default(),
        &location.host().unwrap_or_default(),
    );
    let store = TokenStore::new(storage_key(&config.website_token));
    let host = Host::new(&window, config.origin.clone());
    // Opened on its own there is no loader to ask to close the window.
    dom::set_hidden(view.close_button(), host.is_none());
    // Embedded, the window starts closed (the loader opens it); opened on
    // its own, the frame page is the chat.
    let open = !embedded(&window);
    let mut session = Session::new(config.website_token, store.get(), open);
    session.start();
    let app = App {
        session,
        view,
        socket: None,
        generation: 0,
        plan: 0,
        url,
        store,
        host,
        locale,
        asked,
        browser,
        told_color: None,
        prechat_was: false,
        origin,
        files: None,
    };
    APP.with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = Some(app);
        }
    });
    crate::wire::wire();
    with_app(|app| {
        app.set_locale(locale);
        app.view.fit_input();
        app.post("ready", json!({}));
        if app.session.open {
            app.view.focus();
        }
    });
    dom::every(1_000, || {
        with_app(|app| app.session.tick(now_ms(), random()))
    });
}

impl App {
    /// Carries out the session's effects, then redraws.
    fn apply(&mut self) {
        for effect in self.session.drain() {
            match effect {
                Effect::Send(frame) => {
                    if let Some(socket) = &self.socket {
                        socket.send(&frame);
                    }
                }
                Effect::Connect { delay_ms } => self.schedule(delay_ms),
                Effect::SaveToken(token) => self.store.set(token),
                Effect::Host(HostOut::Unread(count)) => {
                    self.post("unread", json!({ "count": count }))
                }
                Effect::Host(HostOut::Message(m)) => self.post("message", json!({ "message": m })),
                Effect::Upload(request) => self.upload(request),
                Effect::Restore(words) => {
                    if self.view.input.value().trim().is_empty() {
                        self.view.input.set_value(&words);
                        self.view.fit_input();
                    }
                }
            }
        }
        // Files the session no longer holds (sent, refused, cancelled,
        // reset) are let go.
        let held = self.session.upload.as_ref().map(|u| u.echo_id.as_str());
        if self.files.as_ref().map(|(echo, _)| echo.as_str()) != held {
            self.files = None;
        }
        let color = self
            .session
            .inbox
            .as_ref()
            .map(|i| theme_color(i.widget_color.as_deref()));
        let locale = self.pick_locale();
        if locale != self.locale {
            self.set_locale(locale);
        }
        if color.is_some() && color != self.told_color {
            let text = color.as_deref().map(crate::config::text_on);
            self.post("theme", json!({ "color": color, "text": text }));
            self.told_color = color;
        }
        self.view.render(&self.session, self.locale);
        // The form appeared or went: the focus follows to where to type.
        let prechat = self.session.prechat_due();
        if prechat != self.prechat_was {
            self.prechat_was = prechat;
            if self.session.open {
                self.view.focus();
            }
        }
    }

    /// Drops the current socket and opens a new one after `delay_ms`.
    fn schedule(&mut self, delay_ms: u32) {
        if let Some(old) = self.socket.take() {
            old.close();
        }
        self.plan = self.plan.wrapping_add(1);
        let plan = self.plan;
        dom::later(delay_ms, move || {
            with_app(|app| {
                if app.plan == plan {
                    app.connect();
                }
            })
        });
    }

    fn connect(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        match Socket::open(&self.url, self.generation, on_socket) {
            Some(socket) => {
                self.socket = Some(socket);
                self.session.connecting(now_ms());
            }
            None => self.session.closed(1006, random()),
        }
    }

    pub(crate) fn post(&self, kind: &str, fields: serde_json::Value) {
        if let Some(host) = &self.host {
            host.post(&outgoing(kind, fields));
        }
    }

    /// The language to speak now: the host page's, the inbox's, the browser's.
    fn pick_locale(&self) -> Locale {
        let inbox = self
            .session
            .inbox
            .as_ref()
            .and_then(|i| i.locale.as_deref());
        Locale::pick(self.asked.as_deref(), inbox, self.browser.as_deref())
    }

    pub(crate) fn set_locale(&mut self, locale: Locale) {
        self.locale = locale;
        if let Some(root) = dom::document().and_then(|d| d.document_element()) {
            dom::set_attr(&root, "lang", locale.tag());
        }
    }

    /// The loader (or the window's own controls) opened or closed it.
    pub(crate) fn set_open(&mut self, open: bool) {
        self.session.set_open(open);
        if open {
            self.view.render(&self.session, self.locale);
            self.view.scroll_to_bottom();
            self.view.focus();
        }
    }

    /// A command from the host page.
    pub(crate) fn command(&mut self, command: Command) {
        match command {
            Command::Open => self.set_open(true),
            Command::Close => self.set_open(false),
            Command::Identify(frame) => self.session.identify(frame),
            Command::Reset => self.session.reset(),
            Command::SetLocale(tag) => {
                self.asked = Some(tag);
                let locale = self.pick_locale();
                self.set_locale(locale);
                self.view.render(&self.session, self.locale);
            }
        }
    }

    /// Send pressed (button or Enter).
    pub(crate) fn submit(&mut self) {
        let value = self.view.input.value();
        let echo_id = crate::text::echo_id(now_ms(), random(), random());
        if self.session.send_message(&value, echo_id, now_ms()) {
            self.view.input.set_value("");
            self.view.fit_input();
            self.view.render(&self.session, self.locale);
            self.view.scroll_to_bottom();
        }
    }

    /// Files picked: the session decides; taken ones are kept here, the
    /// box is emptied (its words went with them).
    pub(crate) fn attach(&mut self) {
        if !self.session.can_attach() {
            self.view.file.set_value("");
            return;
        }
        let list = self.view.file.files();
        let files: Vec<File> = list
            .map(|l| (0..l.length()).filter_map(|i| l.item(i)).collect())
            .unwrap_or_default();
        // So that picking the same file again is a change too.
        self.view.file.set_value("");
        let picked: Vec<Picked> = files
            .iter()
            .map(|f| Picked {
                name: f.name(),
                size: f.size() as u64,
            })
            .collect();
        let value = self.view.input.value();
        let echo_id = crate::text::echo_id(now_ms(), random(), random());
        self.files = Some((echo_id.clone(), files));
        if self.session.attach(&picked, &value, echo_id, now_ms()) {
            self.view.input.set_value("");
            self.view.fit_input();
        }
    }

    /// Posts the held files as the session asks; the answer goes back to
    /// the session under the same echo id.
    fn upload(&self, request: UploadRequest) {
        let Some((_, files)) = self.files.as_ref().filter(|(e, _)| *e == request.echo_id) else {
            self.session_lost(request.echo_id);
            return;
        };
        let Some(form) = FormData::new().ok() else {
            self.session_lost(request.echo_id);
            return;
        };
        let mut ok = form.append_with_str("echo_id", &request.echo_id).is_ok();
        if let Some(content) = &request.content {
            ok &= form.append_with_str("content", content).is_ok();
        }
        for f in files {
            ok &= form
                .append_with_blob_and_filename("attachments[]", f, &f.name())
                .is_ok();
        }
        let headers = Headers::new().ok();
        ok &= headers
            .as_ref()
            .is_some_and(|h| h.set("X-Visitor-Token", &request.visitor_token).is_ok());
        let Some(window) = dom::window().filter(|_| ok) else {
            self.session_lost(request.echo_id);
            return;
        };
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(&form);
        if let Some(h) = &headers {
            init.set_headers(h);
        }
        let url = format!("{}{}", self.origin, request.path);
        let answer = JsFuture::from(window.fetch_with_str_and_init(&url, &init));
        let echo = request.echo_id;
        wasm_bindgen_futures::spawn_local(async move {
            let response = answer
                .await
                .ok()
                .and_then(|r| r.dyn_into::<web_sys::Response>().ok());
            let Some(response) = response else {
                with_app(|a| a.session.upload_lost(&echo));
                return;
            };
            let body = match response.text() {
                Ok(p) => JsFuture::from(p).await.ok().and_then(|b| b.as_string()),
                Err(_) => None,
            };
            let status = response.status();
            with_app(|a| {
                a.session
                    .upload_answered(&echo, status, body.as_deref().unwrap_or(""))
            });
        });
    }

    /// An upload that could not even be started counts as lost (Retry).
    fn session_lost(&self, echo_id: String) {
        dom::later(0, move || with_app(|a| a.session.upload_lost(&echo_id)));
    }

    pub(crate) fn ask_close(&self) {
        self.post("close-request", json!({}));
    }
}

/// Socket events, from [`Socket::open`].
fn on_socket(generation: u32, event: SocketEvent) {
    with_app(|app| {
        if generation != app.generation {
            return;
        }
        match event {
            SocketEvent::Open => app.session.opened(now_ms()),
            SocketEvent::Text(text) => app.session.received(&text, now_ms()),
            SocketEvent::Closed(code) => {
                if let Some(old) = app.socket.take() {
                    old.close();
                }
                app.session.closed(code, random());
            }
        }
    });
}

/// A message event from the host page.
pub(crate) fn on_host_message(event: Event) {
    let Ok(event) = event.dyn_into::<MessageEvent>() else {
        return;
    };
    with_app(|app| {
        if let Some(command) = app.host.as_ref().and_then(|h| h.accept(&event)) {
            app.command(command);
        }
    });
}

/// Escape anywhere in the frame asks the loader to close the window.
pub(crate) fn on_key(event: Event) {
    let Ok(key) = event.dyn_into::<KeyboardEvent>() else {
        return;
    };
    if key.key() == "Escape" {
        with_app(|app| app.ask_close());
    }
}

/// An avatar that fails to load becomes the initials circle; a player the
/// browser cannot use (format, or the page's policy) a download link.
pub(crate) fn on_image_error(event: Event) {
    let Some(img) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
        return;
    };
    if img.class_list().contains("sb-media") {
        let get = |name: &str| img.get_attribute(name).unwrap_or_default();
        let (name, url, size) = (get("aria-label"), get("src"), get("data-size"));
        if let Some(link) = crate::render::file_link(&name, Some(&url), Some(&size)) {
            let _ = img.replace_with_with_node_1(&link);
        }
        return;
    }
    if !img.class_list().contains("sb-avatar-img") {
        return;
    }
    let initials = img.get_attribute("data-initials").unwrap_or_default();
    if let Some(span) = dom::el("span", "sb-initials") {
        span.set_text_content(Some(&initials));
        let _ = img.replace_with_with_node_1(&span);
    }
}
