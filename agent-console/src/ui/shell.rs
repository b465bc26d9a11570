//! The top bar every signed-in screen shares: navigation, the connection
//! state, the availability switch (always in reach, as it decides who gets
//! new conversations), and signing out.

use web_sys::Element;

use crate::dom::{self, h, option};
use crate::i18n::T;
use crate::route::{Area, Route};
use crate::state::Data;

pub(super) struct Shell {
    /// Where the screen's own content goes.
    pub content: Element,
    availability: Element,
    dot: Element,
    live: Element,
    me: Element,
    nav: Vec<(Area, Element)>,
}

fn link(id: &str, route: Route, label: &str) -> Option<crate::dom::H> {
    Some(
        h("a")?
            .id(id)
            .class("nav-link")
            .attr("href", &route.path())
            .act("nav")
            .text(label),
    )
}

impl Shell {
    pub(super) fn build(root: &Element, d: &Data) -> Option<Shell> {
        let t = |k| d.lang.t(k);
        let mut nav_items = vec![(
            Area::Conversations,
            link(
                "nav-conversations",
                Route::Conversations(None),
                t(T::Conversations),
            )?
            .el(),
        )];
        if d.admin() {
            nav_items.push((
                Area::Settings,
                link("nav-settings", Route::SettingsInboxes, t(T::Settings))?.el(),
            ));
        }
        nav_items.push((
            Area::Profile,
            link("nav-profile", Route::Profile, t(T::Profile))?.el(),
        ));
        let nav = h("nav")?.class("nav");
        for (_, e) in &nav_items {
            let _ = nav.el_ref().append_child(e);
        }
        let select = h("select")?
            .id("availability")
            .act("availability")
            .attr("aria-label", t(T::Availability))
            .children([
                option("available", t(T::Available), false),
                option("busy", t(T::Busy), false),
                option("offline", t(T::Offline), false),
            ])
            .el();
        let dot = h("span")?.class("dot").attr("aria-hidden", "true").el();
        let live = h("span")?.class("live-status").attr("role", "status").el();
        let me = h("span")?.class("me").el();
        let content = h("div")?.class("main-area").el();
        let bar = h("header")?
            .class("topbar")
            .child(
                h("a")?
                    .class("brand")
                    .attr("href", &Route::Conversations(None).path())
                    .act("nav")
                    .text("switchboard"),
            )
            .child(nav)
            .child(h("span")?.class("spacer"))
            .el();
        let _ = bar.append_child(&live);
        let availability = h("label")?.class("availability-field").el();
        let _ = availability.append_child(&dot);
        let _ = availability.append_child(&select);
        let _ = bar.append_child(&availability);
        let _ = bar.append_child(&me);
        dom::append(
            &bar,
            h("button").map(|b| {
                b.id("logout")
                    .class("ghost")
                    .attr("type", "button")
                    .act("logout")
                    .text(t(T::SignOut))
            }),
        );
        let shell = h("div")?.class("shell").el();
        let _ = shell.append_child(&bar);
        let _ = shell.append_child(&content);
        let _ = root.append_child(&shell);
        Some(Shell {
            content,
            availability: select,
            dot,
            live,
            me,
            nav: nav_items,
        })
    }

    pub(super) fn update(&self, d: &Data) {
        let area = d.route.area();
        for (a, e) in &self.nav {
            dom::toggle_class(e, "active", *a == area);
        }
        dom::set_value(&self.availability, &d.availability);
        for v in ["available", "busy", "offline"] {
            dom::toggle_class(&self.dot, v, d.availability == v);
        }
        let (class_on, label) = if d.live {
            (true, T::Live)
        } else {
            (false, T::Reconnecting)
        };
        dom::toggle_class(&self.live, "is-live", class_on);
        dom::set_text(&self.live, d.lang.t(label));
        let name = d
            .session
            .as_ref()
            .map(|s| s.profile.available_name.as_str())
            .unwrap_or_default();
        dom::set_text(&self.me, name);
    }
}
