//! The channel's own block of an inbox's settings: a WhatsApp number's
//! connection (the callback URL and verify token for Meta's dashboard,
//! its credentials, Disconnect) or an API inbox's callback URL and keys.
//! Forms are drawn from the inbox when its channel data changes or was
//! saved, never while the administrator is typing.

use switchboard_protocol::api::{ChannelType, Inbox};
use web_sys::Element;

use super::inbox::notice;
use super::parts::{copy_field, copy_labels, input, mark_invalid, secret};
use super::section::Section;
use crate::admin::channels::{self, Credentials, Whatsapp, API_FIELDS, CREDENTIAL_FIELDS};
use crate::dom::{self, field, h, H};
use crate::i18n::{Lang, T};
use crate::state::Data;

/// The block of one channel; built when the inbox's channel is known.
pub(super) struct ChannelBlock {
    host: Element,
    parts: Option<Parts>,
}

struct Parts {
    channel: ChannelType,
    status: Option<Element>,
    info: Section,
    form: Section,
    actions: Section,
}

const COPY_IDS: [&str; 4] = [
    "whatsapp-callback-url",
    "whatsapp-verify-token",
    "api-secret",
    "api-inbox-identifier",
];

impl ChannelBlock {
    pub(super) fn new(host: Element) -> ChannelBlock {
        ChannelBlock { host, parts: None }
    }

    pub(super) fn update(&mut self, inbox: Option<&Inbox>, d: &Data) {
        let Some(inbox) = inbox else { return };
        let channel = inbox.channel_type;
        if channel == ChannelType::WebWidget {
            return;
        }
        if self.parts.as_ref().map(|p| p.channel) != Some(channel) {
            self.host.set_text_content(None);
            self.parts = Parts::build(&self.host, channel, d.lang);
        }
        let Some(parts) = &mut self.parts else { return };
        match channels::whatsapp(inbox) {
            Some(w) => parts.whatsapp(&w, d),
            None => parts.api(inbox, d),
        }
        copy_labels(COPY_IDS, d);
        let c = &d.forms.channels;
        for id in ["whatsapp-save", "whatsapp-disconnect", "api-webhook-save"] {
            if let Some(b) = dom::by_id(id) {
                dom::set_disabled(&b, c.busy);
            }
        }
    }
}

impl Parts {
    fn build(host: &Element, channel: ChannelType, lang: Lang) -> Option<Parts> {
        let t = |k| lang.t(k);
        let (id, title) = match channel {
            ChannelType::Whatsapp => ("whatsapp", T::WhatsappNumber),
            _ => ("api-channel", T::ApiChannel),
        };
        let heading = h("div")?
            .class("card-title")
            .child(h("h3")?.text(t(title)))
            .el();
        let status = (channel == ChannelType::Whatsapp)
            .then(|| h("span").map(|s| s.id("whatsapp-status").class("badge").el()))
            .flatten();
        if let Some(s) = &status {
            let _ = heading.append_child(s);
        }
        let info = h("div")?.class("channel-info").el();
        let form = h("div")?.class("channel-form").el();
        let actions = h("div")?.class("channel-actions").el();
        let card = h("section")?.id(id).class("card channel-card").el();
        // WhatsApp: what to give Meta first; API: where callbacks go first.
        let order = match channel {
            ChannelType::Whatsapp => [&heading, &info, &form, &actions],
            _ => [&heading, &form, &info, &actions],
        };
        for e in order {
            let _ = card.append_child(e);
        }
        let _ = host.append_child(&card);
        Some(Parts {
            channel,
            status,
            info: Section::new(info),
            form: Section::new(form),
            actions: Section::new(actions),
        })
    }

    fn whatsapp(&mut self, w: &Whatsapp, d: &Data) {
        let lang = d.lang;
        let t = |k| lang.t(k);
        let c = &d.forms.channels;
        if let Some(status) = &self.status {
            let (state, key) = if w.connected {
                ("connected", T::Connected)
            } else {
                ("disconnected", T::NumberDisconnected)
            };
            dom::set_text(status, t(key));
            dom::set_attr(status, "data-status", state);
        }
        self.info.refresh(format!("{w:?}{}", lang.code()), |el| {
            dom::append(
                el,
                h("p").map(|p| p.class("whatsapp-number").text(&w.phone_number)),
            );
            if !w.connected {
                dom::append(
                    el,
                    h("p").map(|p| {
                        p.id("whatsapp-disconnected")
                            .class("warning")
                            .text(t(T::DisconnectedHelp))
                    }),
                );
                return;
            }
            dom::append(
                el,
                copy_field(
                    "whatsapp-callback-url",
                    t(T::CallbackUrl),
                    &w.callback_url,
                    None,
                    lang,
                ),
            );
            dom::append(
                el,
                copy_field(
                    "whatsapp-verify-token",
                    t(T::VerifyToken),
                    w.verify_token.as_deref().unwrap_or(""),
                    None,
                    lang,
                ),
            );
            dom::append(
                el,
                h("p").map(|p| p.id("meta-hint").class("help").text(t(T::MetaHint))),
            );
        });
        let sig = format!("{w:?}|{}|{}", c.version, lang.code());
        self.form
            .refresh(sig, |el| dom::append(el, credentials(w, lang)));
        if let Some(n) = dom::by_id("whatsapp-notice") {
            notice(&n, c.whatsapp_notice.as_ref());
        }
        mark_invalid(CREDENTIAL_FIELDS, c.invalid);
        let sig = format!("{}|{}|{}", w.connected, c.confirm_disconnect, lang.code());
        self.actions.refresh(sig, |el| {
            if !w.connected {
                return;
            }
            let label = if c.confirm_disconnect {
                T::ConfirmDisconnect
            } else {
                T::DisconnectNumber
            };
            dom::append(
                el,
                h("p").map(|p| p.class("help").text(t(T::DisconnectNumberHelp))),
            );
            dom::append(
                el,
                h("button").map(|b| {
                    b.id("whatsapp-disconnect")
                        .class("ghost danger")
                        .class_if("confirming", c.confirm_disconnect)
                        .attr("type", "button")
                        .act("disconnect-whatsapp")
                        .text(t(label))
                }),
            );
        });
    }

    fn api(&mut self, inbox: &Inbox, d: &Data) {
        let lang = d.lang;
        let t = |k| lang.t(k);
        let c = &d.forms.channels;
        let url = inbox.webhook_url.as_deref().unwrap_or("");
        let sig = format!("{url}|{}|{}", c.version, lang.code());
        self.form.refresh(sig, |el| {
            dom::append(
                el,
                h("form").map(|f| {
                    f.id("api-webhook-form")
                        .act("save-api-webhook")
                        .attr("novalidate", "")
                        .attr("autocomplete", "off")
                        .child(field(
                            t(T::WebhookUrl),
                            input("api-webhook-url", "url", url)
                                .map(|i| i.attr("placeholder", "https://")),
                        ))
                        .child(h("p").map(|p| p.class("help").text(t(T::ApiWebhookHelp))))
                        .child(actions(
                            "api-webhook-save",
                            t(T::Save),
                            "api-webhook-notice",
                        ))
                }),
            );
        });
        if let Some(n) = dom::by_id("api-webhook-notice") {
            notice(&n, c.api_notice.as_ref());
        }
        mark_invalid(API_FIELDS, c.invalid);
        let secret = inbox.secret.as_deref().unwrap_or("");
        let identifier = inbox.inbox_identifier.as_deref().unwrap_or("");
        let sig = format!("{secret}|{identifier}|{}", lang.code());
        self.info.refresh(sig, |el| {
            if !secret.is_empty() {
                dom::append(
                    el,
                    copy_field(
                        "api-secret",
                        t(T::InboxSecret),
                        secret,
                        Some(t(T::InboxSecretHelp)),
                        lang,
                    ),
                );
            }
            dom::append(
                el,
                copy_field(
                    "api-inbox-identifier",
                    t(T::InboxIdentifier),
                    identifier,
                    Some(t(T::InboxIdentifierHelp)),
                    lang,
                ),
            );
        });
    }
}

/// A form's Save button and its notice.
pub(super) fn actions(button: &str, label: &str, notice: &str) -> Option<H> {
    Some(
        h("div")?
            .class("form-actions")
            .child(
                h("button")?
                    .id(button)
                    .class("primary")
                    .attr("type", "submit")
                    .text(label),
            )
            .child(h("span")?.id(notice).class("notice").attr("role", "status")),
    )
}

/// The credentials form: replace what changed, or everything again to
/// reconnect a disconnected number.
fn credentials(w: &Whatsapp, lang: Lang) -> Option<H> {
    let t = |k| lang.t(k);
    let f = Credentials::of(w);
    let (title, help, save) = if w.connected {
        (T::Credentials, T::CredentialsHelp, T::SaveCredentials)
    } else {
        (T::ReconnectTitle, T::DisconnectedHelp, T::Reconnect)
    };
    let kept = if w.connected {
        "••••••••"
    } else {
        ""
    };
    // A connected number's verify token is shown above, to copy; a new
    // one may be chosen when reconnecting (or left to the server).
    let verify = (!w.connected)
        .then(|| {
            Some(
                h("div")?
                    .child(field(
                        t(T::VerifyToken),
                        input("wa-verify-token-input", "text", &f.verify_token),
                    ))
                    .child(h("p")?.class("help").text(t(T::VerifyTokenHelp))),
            )
        })
        .flatten();
    let secret_help = w
        .connected
        .then(|| h("p").map(|p| p.class("help").text(t(T::SecretKept))))
        .flatten();
    Some(
        h("form")?
            .id("whatsapp-credentials")
            .act("save-whatsapp")
            .attr("novalidate", "")
            .attr("autocomplete", "off")
            .child(h("h4")?.text(t(title)))
            .child(
                w.connected
                    .then(|| h("p").map(|p| p.class("help").text(t(help))))
                    .flatten(),
            )
            .child(
                h("div")?
                    .class("field-row even")
                    .child(field(
                        t(T::PhoneNumberId),
                        input("wa-phone-number-id", "text", &f.phone_number_id),
                    ))
                    .child(field(
                        t(T::BusinessAccountId),
                        input("wa-business-account-id", "text", &f.business_account_id),
                    )),
            )
            .child(field(t(T::AccessToken), secret("wa-api-key", kept)))
            .child(field(t(T::AppSecret), secret("wa-app-secret", kept)))
            .child(secret_help)
            .child(verify)
            .child(actions("whatsapp-save", t(save), "whatsapp-notice")),
    )
}
