//! The screens. Each is built once when entered and then updated in
//! place from [`Data`], part by part, as [`Dirty`] says: a live event
//! changes a row's text or moves it, never rebuilds the page, so nothing
//! the agent is typing or looking at jumps.

mod channel;
mod contact;
mod convo;
mod deliveries;
mod inbox;
mod inbox_settings;
mod integrations;
mod lists;
mod login;
mod messages;
mod new_inbox;
mod parts;
mod profile;
mod section;
mod settings;
mod shell;
mod sidebar;
mod template;
mod webhooks;

pub(crate) use template::offered as offered_templates;

use web_sys::Element;

use crate::dom::{self, h};
use crate::i18n::T;
use crate::route::Area;
use crate::state::{Data, Dirty};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Screen {
    Login,
    /// Checking a stored session.
    Loading,
    Conversations,
    Settings,
    Profile,
}

fn screen_of(d: &Data) -> Screen {
    match (&d.session, d.route.area()) {
        (None, Area::Login) => Screen::Login,
        (None, _) => Screen::Loading,
        (Some(_), Area::Login | Area::Conversations) => Screen::Conversations,
        (Some(_), Area::Settings) => Screen::Settings,
        (Some(_), Area::Profile) => Screen::Profile,
    }
}

pub(crate) struct Ui {
    root: Element,
    screen: Option<Screen>,
    shell: Option<shell::Shell>,
    lists: Option<lists::Lists>,
    convo: Option<convo::Convo>,
    settings: Option<settings::Settings>,
    profile: Option<profile::ProfileView>,
}

impl Ui {
    pub(crate) fn new(root: Element) -> Ui {
        Ui {
            root,
            screen: None,
            shell: None,
            lists: None,
            convo: None,
            settings: None,
            profile: None,
        }
    }

    pub(crate) fn render(&mut self, d: &Data, mut dirty: Dirty) {
        let screen = screen_of(d);
        if dirty.screen || self.screen != Some(screen) {
            self.build(screen, d);
            dirty = Dirty::all();
        }
        if screen == Screen::Login {
            login::update(d);
            return;
        }
        if dirty.topbar {
            if let Some(shell) = &self.shell {
                shell.update(d);
            }
        }
        if let Some(lists) = &mut self.lists {
            lists.update(d, dirty);
        }
        if let Some(convo) = &mut self.convo {
            convo.update(d, dirty);
        }
        if let (Some(settings), true) = (&mut self.settings, dirty.settings) {
            settings.update(d);
        }
        if let (Some(profile), true) = (&self.profile, dirty.settings) {
            profile.update(d);
        }
    }

    fn build(&mut self, screen: Screen, d: &Data) {
        if let Some(html) = dom::document().and_then(|doc| doc.document_element()) {
            dom::set_attr(&html, "lang", d.lang.code());
        }
        self.root.set_text_content(None);
        self.screen = Some(screen);
        self.shell = None;
        self.lists = None;
        self.convo = None;
        self.settings = None;
        self.profile = None;
        match screen {
            Screen::Login => login::build(&self.root, d),
            Screen::Loading => dom::append(
                &self.root,
                h("p").map(|p| p.class("loading-screen").text(d.lang.t(T::Loading))),
            ),
            _ => {
                let Some(shell) = shell::Shell::build(&self.root, d) else {
                    return;
                };
                let content = shell.content.clone();
                match screen {
                    Screen::Conversations => {
                        self.lists = lists::Lists::build(&content, d);
                        self.convo = convo::Convo::build(&content, d);
                    }
                    Screen::Settings => self.settings = settings::Settings::build(&content, d),
                    _ => self.profile = profile::ProfileView::build(&content, d),
                }
                self.shell = Some(shell);
            }
        }
    }
}
