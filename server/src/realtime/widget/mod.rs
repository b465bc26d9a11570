//! `/ws/widget`: a website visitor's live connection.
//!
//! The first frame names the inbox by its `website_token` and the visitor by
//! the `visitor_token` the server issued on their first contact (the contact
//! identifier of the Public API). Without one the visitor is a newcomer:
//! nothing is stored for a page view (crawlers and sockets that never write
//! leave no rows); the contact and its token are created when they first
//! write, and the token is sent then in an `identity` frame. A visitor hears
//! only the public events of their own conversations: never private notes or
//! activity lines, never another conversation, never another visitor. A
//! browser's `Origin` must be this server itself (the widget runs in an
//! iframe served from here) or the inbox's website.

mod handler;
mod history;
mod identity;
mod links;
pub mod upload;

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use switchboard_protocol::realtime::{VisitorFrame, VisitorWelcome, WidgetInbox};
use tokio::sync::mpsc;

use super::connection::{configure, Conn};
use super::{newcomer, Audience, Subscriber};
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::store::{Contact, ContactInbox, Inbox, StoreError};
use crate::views::frames::visitor_conversation;
use handler::{Known, VisitorHandler};

/// Length of a visitor token we issue (the Public API's contact identifier).
const VISITOR_TOKEN_LEN: usize = 32;

pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    slot: crate::edge::WsSlot,
    ws: WebSocketUpgrade,
) -> Response {
    // A page served by this very server (the widget's iframe) passes the
    // origin check whatever the inbox's website is.
    let own_page = |value: &str| {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin_host = value.split_once("://").map(|(_, rest)| rest);
        matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(o))
    };
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !own_page(v))
        .map(str::to_string);
    let tracker = state.connections.clone();
    configure(ws)
        .on_upgrade(move |socket| tracker.track_future(slot.hold(run(state, socket, origin))))
}

/// `scheme://host[:port]` of a URL, lowercased: what a browser sends as `Origin`.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}").to_ascii_lowercase())
}

/// The visitor an `auth` frame names: a contact and their link into the
/// inbox, or, without a token, a newcomer who is nobody yet.
struct Visitor {
    inbox: Inbox,
    known: Option<(Contact, ContactInbox)>,
}

async fn identify(
    state: &AppState,
    origin: Option<&str>,
    website_token: &str,
    visitor_token: Option<String>,
) -> Result<Visitor, ApiError> {
    let inbox = state
        .store
        .inbox_by_website_token(website_token.trim())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("Inbox"),
            other => other.into(),
        })?;
    if let (Some(site), Some(origin)) = (
        inbox.settings.website_url.as_deref().and_then(origin_of),
        origin,
    ) {
        if origin.to_ascii_lowercase() != site {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "origin_not_allowed",
                format!("this widget may only be used on {site}"),
            ));
        }
    }
    // A page view stores nothing: the contact is created when the visitor
    // first writes (see `VisitorHandler::known`).
    let Some(token) = visitor_token else {
        return Ok(Visitor { inbox, known: None });
    };
    let link = state
        .store
        .contact_inbox(inbox.id, token.trim())
        .await?
        .ok_or_else(|| ApiError::not_found("Visitor"))?;
    let contact = state
        .store
        .get_contact(inbox.account_id, link.contact_id)
        .await?;
    Ok(Visitor {
        inbox,
        known: Some((contact, link)),
    })
}

async fn run(state: AppState, socket: WebSocket, origin: Option<String>) {
    let mut conn = Conn::new(socket);
    let Some(text) = conn.first_text().await else {
        return;
    };
    let (visitor, cursor) = match serde_json::from_str::<VisitorFrame>(&text) {
        Ok(VisitorFrame::Auth {
            website_token,
            visitor_token,
            cursor,
        }) => match Box::pin(identify(
            &state,
            origin.as_deref(),
            &website_token,
            visitor_token,
        ))
        .await
        {
            Ok(v) => (v, cursor),
            Err(err) => return conn.refuse(err.code(), err.describe()).await,
        },
        Ok(_) => {
            return conn
                .refuse("unauthorized", "the first frame must be `auth`")
                .await
        }
        Err(err) => return conn.refuse("invalid_frame", err.to_string()).await,
    };
    // What an idle connection holds on to is what it costs: let go of the
    // first frame and the origin now.
    drop(text);
    drop(origin);
    let account_id = visitor.inbox.account_id;
    let channel = state.realtime.channel(account_id);
    let (tx, rx) = mpsc::channel(state.config.ws_outbound_queue);
    let id = channel.subscriber_id();
    let link = visitor
        .known
        .as_ref()
        .map_or_else(|| newcomer(id), |(_, l)| l.id);
    let start = channel.subscribe(
        Audience::Visitor(link),
        cursor,
        Subscriber {
            id,
            tx,
            inbox_id: Some(visitor.inbox.id),
            session: None,
        },
    );
    // A token replaced between identifying and subscribing could not close
    // this socket: check again now that it would.
    if let Some((_, known)) = &visitor.known {
        let current = state
            .store
            .contact_inbox(visitor.inbox.id, &known.source_id)
            .await;
        if !matches!(current, Ok(Some(l)) if l.id == known.id) {
            channel.unsubscribe(Audience::Visitor(link), id);
            return conn.refuse("not_found", "Visitor not found").await;
        }
    }
    let welcome = match Box::pin(welcome(&state, &visitor)).await {
        Ok(w) => w,
        Err(err) => {
            channel.unsubscribe(Audience::Visitor(link), id);
            return conn.refuse(err.code(), err.describe()).await;
        }
    };
    let _open =
        crate::metrics::Connected::new(state.shards.metrics(), crate::metrics::Kind::Visitor);
    let ok = conn.greet(start, welcome).await;
    let mut handler = VisitorHandler {
        state: state.clone(),
        account_id,
        inbox_id: visitor.inbox.id,
        visitor: visitor.known.map(|(contact, link)| Known {
            contact_id: contact.id,
            link_id: link.id,
            token: link.source_id,
            verified: link.hmac_verified,
        }),
        subscriber_id: id,
        contacts_made: 0,
    };
    if ok {
        conn.run(rx, state.shutdown.clone(), &mut handler).await;
    }
    // The link may have changed meanwhile: a newcomer became a contact.
    channel.unsubscribe(Audience::Visitor(handler.link_id()), id);
}

/// The visitor's `welcome`, given whether it resumes.
async fn welcome(
    state: &AppState,
    v: &Visitor,
) -> Result<impl Fn(bool) -> VisitorWelcome, ApiError> {
    let account_id = v.inbox.account_id;
    let directory = state.shards.directory(account_id).await?;
    let conversations: Vec<_> = match &v.known {
        Some((contact, link)) => state
            .shards
            .contact_conversations(account_id, contact.id)
            .await?
            .into_iter()
            .filter(|l| l.conversation.contact_inbox_id == Some(link.id))
            .map(|l| visitor_conversation(&directory, &l.conversation, l.queue_position))
            .collect(),
        None => Vec::new(),
    };
    let agents_online = state
        .shards
        .presence(account_id)
        .await?
        .1
        .get(&v.inbox.id)
        .copied()
        .unwrap_or(false);
    let s = &v.inbox.settings;
    let inbox = WidgetInbox {
        id: v.inbox.id,
        name: v.inbox.name.clone(),
        welcome_title: s.welcome_title.clone(),
        locale: s.locale.clone(),
        welcome_tagline: s.welcome_tagline.clone(),
        widget_color: s.widget_color.clone(),
        pre_chat_form_enabled: s.pre_chat_form_enabled,
        pre_chat_message: s.pre_chat_message.clone(),
    };
    let token = v.known.as_ref().map(|(_, l)| l.source_id.clone());
    let contact = v.known.as_ref().map(|(c, _)| identity::visitor_contact(c));
    Ok(move |resumed| VisitorWelcome {
        visitor_token: token.clone(),
        contact_id: contact.as_ref().map(|c| c.id),
        contact: contact.clone(),
        inbox: inbox.clone(),
        resumed,
        agents_online,
        conversations: conversations.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins_are_scheme_and_host() {
        assert_eq!(
            origin_of("https://Shop.example.com/contact?x=1").as_deref(),
            Some("https://shop.example.com")
        );
        assert_eq!(
            origin_of("http://localhost:8080").as_deref(),
            Some("http://localhost:8080")
        );
        assert_eq!(origin_of("shop.example.com"), None);
    }
}
