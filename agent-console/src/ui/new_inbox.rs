//! Settings → Inboxes → New inbox: pick the channel (Website, WhatsApp,
//! API) and fill in its fields. Every channel's fields are drawn once and
//! only the chosen one's are shown, so switching channels never loses
//! what was typed.

use switchboard_protocol::api::ChannelType;
use web_sys::Element;

use super::parts::{input, mark_invalid, secret};
use crate::admin::channels::{self, CHANNELS, NEW_INBOX_FIELDS};
use crate::dom::{self, field, h, H};
use crate::i18n::{Lang, T};
use crate::state::Data;

pub(super) struct NewInboxForm {
    groups: Vec<(ChannelType, Element)>,
    error: Element,
}

impl NewInboxForm {
    pub(super) fn build(main: &Element, d: &Data) -> Option<NewInboxForm> {
        let lang = d.lang;
        let t = |k| lang.t(k);
        let chosen = d
            .forms
            .channels
            .new_channel
            .unwrap_or(ChannelType::WebWidget);
        let choices = CHANNELS.iter().map(|c| choice(*c, *c == chosen, lang));
        let form = h("form")?
            .id("new-inbox")
            .class("card")
            .act("create-inbox")
            .attr("novalidate", "")
            .attr("autocomplete", "off")
            .child(h("h3")?.text(t(T::NewInbox)))
            .child(
                h("fieldset")?
                    .id("inbox-channel")
                    .class("channel-choices")
                    .child(h("legend")?.text(t(T::Channel)))
                    .children(choices),
            )
            .child(field(t(T::InboxName), input("inbox-name", "text", "")))
            .el();
        let mut groups = Vec::new();
        for channel in CHANNELS {
            let group = h("div")?
                .class("channel-fields")
                .data("channel", channel.as_str())
                .children(fields(channel, lang))
                .el();
            let _ = form.append_child(&group);
            groups.push((channel, group));
        }
        let error = h("p")?
            .id("inbox-error")
            .class("form-error")
            .attr("role", "alert")
            .el();
        let _ = form.append_child(&error);
        dom::append(
            &form,
            h("div").map(|a| {
                a.class("form-actions").child(h("button").map(|b| {
                    b.id("inbox-create")
                        .class("primary")
                        .attr("type", "submit")
                        .text(t(T::Create))
                }))
            }),
        );
        let _ = main.append_child(&form);
        let page = NewInboxForm { groups, error };
        page.update(d);
        Some(page)
    }

    pub(super) fn update(&self, d: &Data) {
        let c = &d.forms.channels;
        let chosen = c.new_channel.unwrap_or(ChannelType::WebWidget);
        for (channel, group) in &self.groups {
            dom::set_hidden(group, *channel != chosen);
        }
        dom::set_text(&self.error, c.inbox_error.as_deref().unwrap_or(""));
        if let Some(b) = dom::by_id("inbox-create") {
            dom::set_disabled(&b, c.inbox_busy);
        }
        mark_invalid(NEW_INBOX_FIELDS, c.inbox_invalid);
    }
}

fn choice(channel: ChannelType, on: bool, lang: Lang) -> Option<H> {
    let value = channel.as_str();
    Some(
        h("label")?
            .class("check channel-choice")
            .child(
                h("input")?
                    .id(&format!("inbox-channel-{value}"))
                    .attr("type", "radio")
                    .attr("name", "channel")
                    .attr("value", value)
                    .act("inbox-channel")
                    .flag("checked", on),
            )
            .child(
                h("span")?
                    .child(h("strong")?.text(lang.t(channels::channel_label(channel))))
                    .child(
                        h("span")?
                            .class("muted")
                            .text(lang.t(channels::channel_help(channel))),
                    ),
            ),
    )
}

fn help(key: T, lang: Lang) -> Option<H> {
    h("p").map(|p| p.class("help").text(lang.t(key)))
}

/// The fields of one channel.
fn fields(channel: ChannelType, lang: Lang) -> Vec<Option<H>> {
    let t = |k| lang.t(k);
    match channel {
        ChannelType::WebWidget => vec![
            field(
                t(T::WebsiteUrl),
                input("inbox-url", "url", "").map(|i| i.attr("placeholder", "https://")),
            ),
            field(t(T::WelcomeTitle), input("inbox-title", "text", "")),
            field(t(T::WelcomeTagline), input("inbox-tagline", "text", "")),
            field(t(T::WidgetColor), input("inbox-color", "color", "#1f93ff")),
        ],
        ChannelType::Whatsapp => vec![
            field(
                t(T::PhoneNumber),
                input("inbox-phone", "tel", "").map(|i| i.attr("placeholder", "+55 11 99999-0000")),
            ),
            help(T::PhoneNumberHelp, lang),
            h("div").map(|row| {
                row.class("field-row even")
                    .child(field(
                        t(T::PhoneNumberId),
                        input("inbox-phone-number-id", "text", ""),
                    ))
                    .child(field(
                        t(T::BusinessAccountId),
                        input("inbox-business-account-id", "text", ""),
                    ))
            }),
            field(t(T::AccessToken), secret("inbox-api-key", "")),
            help(T::AccessTokenHelp, lang),
            field(t(T::AppSecret), secret("inbox-app-secret", "")),
            field(t(T::VerifyToken), input("inbox-verify-token", "text", "")),
            help(T::VerifyTokenHelp, lang),
        ],
        ChannelType::Api => vec![
            field(
                t(T::WebhookUrl),
                input("inbox-webhook-url", "url", "").map(|i| i.attr("placeholder", "https://")),
            ),
            help(T::ApiWebhookHelp, lang),
        ],
    }
}
