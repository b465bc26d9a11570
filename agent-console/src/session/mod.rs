//! Signing in and out, the socket's life, and loading the lists over
//! REST: the initial load and every reload a `resync` (or a reconnect
//! that could not resume) asks for.
//!
//! Beside it: the link's rules (`link.rs`: auth, resuming, backoff), the
//! frames decoded (`events.rs`) and their effect on what is shown
//! (`live.rs`).

pub mod events;
pub mod link;
mod live;

use serde_json::json;
use switchboard_browser::socket::{same_host_url, Socket, SocketEvent};
use switchboard_protocol::api::Profile;
use switchboard_protocol::realtime::AgentFrame;

use crate::alert;
use crate::app::{dispatch, spawn, App, SESSION_KEY};
use crate::conversation::store::{Status, Store};
use crate::dom;
use crate::forms::Failure;
use crate::http::Method;
use crate::i18n::T;
use crate::msg::{Envelope, Msg, Net, Res};
use crate::route::Route;
use crate::session::events::{decode, encode, Event, Incoming};
use crate::session::link::{AfterClose, Resume};
use crate::state::{Data, Dirty, Session};

/// Conversations per page of `GET .../conversations`.
pub const LIST_PAGE: usize = 25;
/// Pages fetched in one go; beyond, "Load more" fetches the next batch.
const PAGES_PER_LOAD: usize = 20;

/// Where the console's socket goes, on the host that served the page.
const SOCKET_PATH: &str = "/ws/agent";

fn report(generation: u32, event: SocketEvent) {
    dispatch(Msg::Sock(generation, event));
}

impl App {
    /// Shows a failed request's reason in the toast.
    pub(crate) fn fail(&self, f: &Failure) {
        alert::toast(&self.failure_text(f));
    }

    /// One sentence for a failure, in the agent's language (see
    /// [`crate::i18n::errors`]).
    pub(crate) fn failure_text(&self, f: &Failure) -> String {
        crate::i18n::errors::describe(f, self.data.lang)
    }

    pub(crate) fn signed_in(&mut self, result: Res<Envelope<Profile>>) {
        self.data.forms.login_busy = false;
        self.dirty.settings = true;
        match result {
            Ok(Envelope { data: profile }) => {
                let token = profile.access_token.clone();
                self.begin(profile, token);
            }
            Err(f) => self.data.forms.login_error = Some(self.failure_text(&f)),
        }
    }

    /// `GET /api/v1/profile`: at start-up it checks a stored token.
    pub(crate) fn profile_loaded(&mut self, result: Res<Profile>) {
        match (result, self.checking_token.take()) {
            (Ok(profile), Some((token, _))) => self.begin(profile, token),
            (Ok(profile), None) => {
                if let Some(s) = &mut self.data.session {
                    s.profile = profile;
                    self.dirty.topbar = true;
                }
            }
            (Err(f), Some((token, account))) if f.status == 0 || f.status >= 500 => {
                // The server is restarting or unreachable: try again soon.
                self.fail(&f);
                self.checking_token = Some((token.clone(), account));
                dom::later(3000, move || {
                    spawn(
                        Method::Get,
                        "/api/v1/profile".into(),
                        Some(token),
                        None,
                        |r| Msg::Net(Box::new(Net::Profile(r))),
                    )
                });
            }
            (Err(_), Some(_)) => self.sign_out(false),
            (Err(f), None) => self.fail(&f),
        }
    }

    /// A session starts: remember it, connect, load what every screen needs.
    pub(crate) fn begin(&mut self, profile: Profile, token: String) {
        let account_id = profile
            .account_id
            .or_else(|| profile.accounts.first().map(|a| a.id));
        let Some(account_id) = account_id else {
            self.data.forms.login_error = Some(self.data.lang.t(T::NoAccount).into());
            self.data.route = Route::Login;
            self.dirty = Dirty::all();
            return;
        };
        let availability = profile
            .accounts
            .iter()
            .find(|a| a.id == account_id)
            .map(|a| a.availability_status.as_str())
            .unwrap_or("available");
        self.data.availability = availability.to_string();
        dom::store(
            SESSION_KEY,
            Some(&json!({"token": token, "account_id": account_id}).to_string()),
        );
        self.data.store = Store::new(profile.id);
        self.data.session = Some(Session {
            token,
            account_id,
            profile,
        });
        self.data.forms.login_error = None;
        let route = self.after_login.take().unwrap_or(self.data.route);
        self.data.route = Route::Login;
        self.navigate(route, false);
        self.dirty = Dirty::all();
        self.load_directory();
        self.connect();
    }

    /// Ends the session (`tell_server`: revoke the token too).
    pub(crate) fn sign_out(&mut self, tell_server: bool) {
        if let (true, Some(s)) = (tell_server, &self.data.session) {
            // Sent with the token but without the 401 rule of `spawn`:
            // whatever the answer, this console is signing out.
            let token = s.token.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = crate::http::request::<serde_json::Value>(
                    Method::Delete,
                    "/auth/sign_out".into(),
                    Some(token),
                    None,
                )
                .await;
            });
        }
        if let Some(socket) = self.socket.take() {
            socket.close();
        }
        self.generation = self.generation.wrapping_add(1);
        self.list_generation = self.list_generation.wrapping_add(1);
        self.link.reset();
        self.buffered.clear();
        self.typing_out = Default::default();
        self.self_assigning.clear();
        self.read_sent = None;
        self.checking_token = None;
        dom::store(SESSION_KEY, None);
        let lang = self.data.lang;
        self.data = Data::new(lang, Route::Login);
        self.replace_url();
        self.dirty = Dirty::all();
    }

    /// (Re)opens the socket; the `auth` frame goes when it opens.
    pub(crate) fn connect(&mut self) {
        if let Some(socket) = self.socket.take() {
            socket.close();
        }
        self.generation = self.generation.wrapping_add(1);
        self.data.live = false;
        self.dirty.topbar = true;
        self.socket =
            same_host_url(SOCKET_PATH).and_then(|url| Socket::open(&url, self.generation, report));
        if self.socket.is_none() {
            self.closed(1006);
        }
    }

    pub(crate) fn sock(&mut self, generation: u32, event: SocketEvent) {
        if generation != self.generation {
            return;
        }
        self.last_rx = dom::now_ms();
        match event {
            SocketEvent::Open => {
                if let Some(s) = &self.data.session {
                    let auth = self.link.auth(&s.token, s.account_id);
                    self.send(&auth);
                }
            }
            SocketEvent::Text(text) => {
                if let Ok(incoming) = decode(&text) {
                    self.incoming(incoming);
                }
            }
            SocketEvent::Closed(code) => {
                self.socket = None;
                self.closed(code);
            }
        }
    }

    fn closed(&mut self, code: u16) {
        self.data.live = false;
        self.dirty.topbar = true;
        match self.link.closed(code, dom::random()) {
            AfterClose::SignOut => self.sign_out(false),
            AfterClose::Retry(ms) => {
                let generation = self.generation;
                dom::later(ms, move || dispatch(Msg::Reconnect(generation)));
            }
        }
    }

    fn incoming(&mut self, incoming: Incoming) {
        let Incoming { cursor, event } = incoming;
        match event {
            Event::Welcome(w) => {
                self.data.live = true;
                self.data.presence = w.presence;
                self.own_presence();
                self.dirty.topbar = true;
                if self.link.welcome(cursor, w.resumed) == Resume::Reload {
                    self.reload();
                }
            }
            Event::Resync => {
                self.link.resync(cursor);
                self.reload();
            }
            Event::Pong | Event::Error(_) | Event::Other(_) => {}
            event => {
                if !self.link.accept(cursor, event.is_change()) {
                    return;
                }
                if event.is_change() && self.data.pages_in_flight > 0 {
                    self.buffered.push(Incoming { cursor, event });
                } else {
                    self.apply(event);
                }
            }
        }
    }

    /// Sends a frame if the socket is open.
    pub(crate) fn send(&self, frame: &AgentFrame) -> bool {
        self.socket.as_ref().is_some_and(|s| s.send(&encode(frame)))
    }

    /// Starts over from REST: the lists of the current status, the open
    /// conversation and its messages.
    pub(crate) fn reload(&mut self) {
        self.data.store.clear();
        self.data.threads.invalidate();
        self.data.typing.clear();
        self.data.missing.clear();
        self.list_generation = self.list_generation.wrapping_add(1);
        self.data.pages_in_flight = 0;
        let status = self.data.filters.status;
        self.load_status(status, 1);
        if let Some(id) = self.data.open_id() {
            self.open_conversation(id);
        }
        self.dirty.list = true;
        self.dirty.conversation = true;
        self.dirty.thread = true;
    }

    pub(crate) fn load_status(&mut self, status: Status, page: usize) {
        self.data.pages_in_flight += 1;
        let generation = self.list_generation;
        let path = format!(
            "/conversations?assignee_type=all&status={}&page={page}",
            status.as_str()
        );
        self.api(Method::Get, &path, None, move |result| {
            Msg::Net(Box::new(Net::Page {
                generation,
                status,
                page,
                result,
            }))
        });
    }

    pub(crate) fn page(
        &mut self,
        generation: u32,
        status: Status,
        page: usize,
        result: Res<switchboard_protocol::chat::ConversationList>,
    ) {
        if generation != self.list_generation {
            return;
        }
        self.data.pages_in_flight = self.data.pages_in_flight.saturating_sub(1);
        match result {
            Ok(list) => {
                let got = list.data.payload.len();
                for c in list.data.payload {
                    self.data.store.upsert(c);
                }
                self.data.store.page_loaded(status, page, got, LIST_PAGE);
                // The next page belongs to the same batch of PAGES_PER_LOAD.
                let same_batch = page / PAGES_PER_LOAD == (page - 1) / PAGES_PER_LOAD;
                if got >= LIST_PAGE && same_batch {
                    self.load_status(status, page + 1);
                }
            }
            Err(f) => self.fail(&f),
        }
        if self.data.pages_in_flight == 0 {
            for held in std::mem::take(&mut self.buffered) {
                self.apply(held.event);
            }
        }
        self.dirty.list = true;
        self.dirty.conversation = true;
    }

    /// Inboxes and agents: names in the lists, filters, settings.
    pub(crate) fn load_directory(&mut self) {
        self.api(Method::Get, "/inboxes", None, |r| {
            Msg::Net(Box::new(Net::Inboxes(r)))
        });
        self.api(Method::Get, "/agents", None, |r| {
            Msg::Net(Box::new(Net::Agents(r)))
        });
    }
}
