//! The sign-in screen.

use web_sys::Element;

use crate::dom::{self, field, h};
use crate::i18n::T;
use crate::state::Data;

pub(super) fn build(root: &Element, d: &Data) {
    let t = |k| d.lang.t(k);
    let form = h("form").map(|f| {
        f.class("login-card")
            .act("login")
            .attr("novalidate", "")
            .child(h("div").map(|b| b.class("brand").text("switchboard")))
            .child(h("h1").map(|x| x.text(t(T::SignInTitle))))
            .child(field(
                t(T::Email),
                h("input").map(|i| {
                    i.id("login-email")
                        .attr("type", "email")
                        .attr("autocomplete", "username")
                        .attr("autofocus", "")
                }),
            ))
            .child(field(
                t(T::Password),
                h("input").map(|i| {
                    i.id("login-password")
                        .attr("type", "password")
                        .attr("autocomplete", "current-password")
                }),
            ))
            .child(h("p").map(|p| {
                p.id("login-error")
                    .class("form-error")
                    .attr("role", "alert")
            }))
            .child(h("button").map(|b| {
                b.id("login-submit")
                    .class("primary")
                    .attr("type", "submit")
                    .text(t(T::SignIn))
            }))
    });
    dom::append(root, h("main").map(|m| m.class("login").child(form)));
    if let Some(email) = dom::by_id("login-email") {
        dom::focus(&email);
    }
}

/// The error line and the button's state.
pub(super) fn update(d: &Data) {
    if let Some(e) = dom::by_id("login-error") {
        dom::set_text(&e, d.forms.login_error.as_deref().unwrap_or(""));
    }
    if let Some(b) = dom::by_id("login-submit") {
        dom::set_disabled(&b, d.forms.login_busy);
        let label = if d.forms.login_busy {
            T::SigningIn
        } else {
            T::SignIn
        };
        dom::set_text(&b, d.lang.t(label));
    }
}
