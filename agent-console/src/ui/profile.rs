//! The agent's own profile: "Seu nome completo" and the display name the
//! customers see, the password, and the console's language.

use web_sys::Element;

use crate::dom::{self, field, h, option};
use crate::i18n::{Lang, T};
use crate::state::{Data, Notice};

pub(super) struct ProfileView {
    profile_notice: Element,
    password_notice: Element,
}

impl ProfileView {
    pub(super) fn build(content: &Element, d: &Data) -> Option<ProfileView> {
        let t = |k| d.lang.t(k);
        let profile = &d.session.as_ref()?.profile;
        let profile_notice = h("span")?
            .id("profile-notice")
            .class("notice")
            .attr("role", "status")
            .el();
        let password_notice = h("span")?
            .id("password-notice")
            .class("notice")
            .attr("role", "status")
            .el();
        let names = h("form")?
            .class("card")
            .act("save-profile")
            .attr("novalidate", "")
            .child(h("p")?.class("profile-email").text(&profile.email))
            .child(field(
                t(T::FullName),
                h("input").map(|i| {
                    i.id("profile-name")
                        .attr("type", "text")
                        .attr("autocomplete", "name")
                        .value(&profile.name)
                }),
            ))
            .child(field(
                t(T::DisplayName),
                h("input").map(|i| {
                    i.id("profile-display-name")
                        .attr("type", "text")
                        .value(profile.display_name.as_deref().unwrap_or(""))
                }),
            ))
            .child(h("p")?.class("help").text(t(T::DisplayNameHelp)))
            .el();
        let actions = h("div")?
            .class("form-actions")
            .child(
                h("button")?
                    .id("profile-save")
                    .class("primary")
                    .attr("type", "submit")
                    .text(t(T::UpdateProfile)),
            )
            .el();
        let _ = actions.append_child(&profile_notice);
        let _ = names.append_child(&actions);
        let password = h("form")?
            .class("card")
            .act("save-password")
            .attr("novalidate", "")
            .child(h("h3")?.text(t(T::ChangePassword)))
            .child(field(
                t(T::CurrentPassword),
                h("input").map(|i| {
                    i.id("password-current")
                        .attr("type", "password")
                        .attr("autocomplete", "current-password")
                }),
            ))
            .child(field(
                t(T::NewPassword),
                h("input").map(|i| {
                    i.id("password-new")
                        .attr("type", "password")
                        .attr("autocomplete", "new-password")
                        .attr("minlength", "8")
                }),
            ))
            .el();
        let actions = h("div")?
            .class("form-actions")
            .child(
                h("button")?
                    .id("password-save")
                    .class("primary")
                    .attr("type", "submit")
                    .text(t(T::ChangePassword)),
            )
            .el();
        let _ = actions.append_child(&password_notice);
        let _ = password.append_child(&actions);
        let language = h("section")?
            .class("card")
            .child(h("h3")?.text(t(T::Language)))
            .child(
                h("select")?
                    .id("language")
                    .act("language")
                    .attr("aria-label", t(T::Language))
                    .children(
                        Lang::ALL
                            .into_iter()
                            .map(|l| option(l.code(), l.native_name(), l == d.lang)),
                    ),
            );
        let page = h("div")?
            .class("page profile-page")
            .child(h("h2")?.text(t(T::Profile)))
            .el();
        let _ = page.append_child(&names);
        let _ = page.append_child(&password);
        dom::append(&page, Some(language));
        let _ = content.append_child(&page);
        Some(ProfileView {
            profile_notice,
            password_notice,
        })
    }

    pub(super) fn update(&self, d: &Data) {
        show(&self.profile_notice, d.forms.profile_notice.as_ref());
        show(&self.password_notice, d.forms.password_notice.as_ref());
    }
}

fn show(el: &Element, n: Option<&Notice>) {
    dom::set_text(el, n.map(|n| n.text.as_str()).unwrap_or(""));
    dom::toggle_class(el, "error", n.is_some_and(|n| n.error));
}
