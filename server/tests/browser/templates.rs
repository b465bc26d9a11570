//! A WhatsApp template from the console, outside the 24-hour window. An
//! agent opens a conversation with a contact who never wrote: the reply
//! box says free text cannot go and offers a template instead. She syncs
//! the number's templates (Meta's stand-in lists two approved ones and a
//! rejected one, which is not offered), picks the one with two variables,
//! fills them while the preview follows, and sends it: WhatsApp gets a
//! template message with those values in order, and the conversation shows
//! the filled text. Then the customer writes, and the free-text reply box
//! comes back without a reload; the template form still opens from
//! Template next to Attach files.

use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{Db, Env, OWN_URL};
use crate::console::log_in;
use crate::meta::{
    connect_number, deliver, notification, sends, settings_at, APP_SECRET, CUSTOMER,
};
use crate::standin::{Reply, StandIn};
use crate::webdriver::Browser;

both_databases!(a_template_outside_the_whatsapp_window);

const ORDER_TEXT: &str = "Olá Joana, seu pedido #123 saiu para entrega.";

fn template(name: &str, status: &str, components: Value) -> Value {
    json!({"id": format!("t-{name}"), "name": name, "language": "pt_BR",
           "status": status, "category": "UTILITY", "components": components})
}

/// Meta's answer to the templates listing: two approved, one rejected.
fn listing() -> Value {
    json!({"data": [
        template("order_update", "APPROVED", json!([
            {"type": "HEADER", "format": "TEXT", "text": "Seu pedido"},
            {"type": "BODY", "text": "Olá {{1}}, seu pedido {{2}} saiu para entrega."},
            {"type": "FOOTER", "text": "Loja Acme"}])),
        template("promo_black_friday", "REJECTED", json!([
            {"type": "BODY", "text": "Oferta para {{1}}!"}])),
        template("follow_up", "APPROVED", json!([
            {"type": "BODY", "text": "Oi {{1}}, podemos ajudar em algo mais?"}])),
    ], "paging": {"cursors": {"before": "A", "after": "B"}}})
}

/// Whether the element is on the page and shown.
async fn shown(browser: &Browser, css: &str) -> bool {
    browser
        .run(
            "const e = document.querySelector(arguments[0]);
             return !!e && e.offsetParent !== null;",
            json!([css]),
        )
        .await
        == Value::Bool(true)
}

async fn text(browser: &Browser, css: &str) -> String {
    browser
        .run(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
            json!([css]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn a_template_outside_the_whatsapp_window(db: Db) {
    let Some(browser) = crate::browser(1280, 900).await else {
        return;
    };
    let graph = StandIn::start().await;
    graph.always(Reply::json(
        200,
        json!({"messages": [{"id": "wamid.OUT1"}]}),
    ));
    let env = Env::start_with(db, settings_at(&graph, OWN_URL)).await;
    let t = env.admin_token.clone();
    let base = env.app.base.clone();
    let inbox = connect_number(&env, "WhatsApp Vendas").await;
    let inbox_id = inbox["id"].as_i64().expect("inbox id");
    assert_eq!(inbox["message_templates"], json!([]), "{inbox}");
    let (bia, _) = env.agent("Bia Souza", "bia@acme.test", "agent").await;
    env.app
        .post(
            &env.path("/inbox_members"),
            &t,
            json!({"inbox_id": inbox_id, "user_ids": [bia]}),
        )
        .await;

    // A contact who never wrote, and a conversation with her.
    let (status, contact) = env
        .app
        .post(
            &env.path("/contacts"),
            &t,
            json!({"name": "Joana", "phone_number": format!("+{CUSTOMER}"),
                   "inbox_id": inbox_id, "source_id": CUSTOMER}),
        )
        .await;
    assert_eq!(status, 200, "{contact}");
    let (status, started) = env
        .app
        .post(
            &env.path("/conversations"),
            &t,
            json!({"inbox_id": inbox_id, "contact_id": contact["payload"]["contact"]["id"],
                   "assignee_id": bia}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["can_reply"], false, "{started}");
    let id = started["id"].as_i64().expect("conversation id");

    // The agent opens it: the window notice, and a template form instead
    // of free text. No templates yet.
    log_in(&browser, &base, "bia@acme.test", "password123").await;
    browser
        .goto(&format!("{base}/app/conversations/{id}"))
        .await;
    browser
        .wait_for(
            "the window notice and the template form",
            "const n = document.querySelector('#reply-window-notice');
             const f = document.querySelector('#template-form');
             return !!n && !n.hidden && !!f && !f.hidden
                 && !!document.querySelector('#template-empty');",
            json!([]),
        )
        .await;
    assert!(text(&browser, "#reply-window-notice")
        .await
        .contains("24 hours"));
    assert!(!shown(&browser, "#reply-input").await, "no free text");
    assert!(!shown(&browser, "#reply-send").await);
    assert!(
        shown(&browser, "#reply-private").await,
        "notes stay possible"
    );
    assert!(text(&browser, "#template-empty")
        .await
        .contains("No approved templates"));

    // Sync templates: only the approved ones are offered.
    graph.then(Reply::json(200, listing()));
    browser.click("#template-sync").await;
    let offered = browser
        .wait_for(
            "the synced templates",
            "const items = Array.from(document.querySelectorAll('#template-list .template-item'));
             return items.length ? items.map(i => i.getAttribute('data-template')) : null;",
            json!([]),
        )
        .await;
    assert_eq!(offered, json!(["follow_up|pt_BR", "order_update|pt_BR"]));
    let path = browser
        .screenshot(&format!("console-whatsapp-template-list-{db:?}"))
        .await;
    eprintln!("screenshot: {}", path.display());
    let listed = graph.requests();
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(
        (listed[0].method.as_str(), listed[0].path.as_str()),
        ("GET", "/v22.0/102/message_templates")
    );
    assert_eq!(listed[0].header("authorization"), "Bearer EAAG-test");
    assert!(!text(&browser, "#template-synced")
        .await
        .contains("Not synced"));

    // The one with two variables: Send waits until both are filled, and
    // the preview follows the typing.
    browser
        .click("#template-list .template-item[data-template='order_update|pt_BR']")
        .await;
    browser
        .wait_for(
            "an input per variable",
            "return !!document.querySelector('#template-param-1')
                 && !!document.querySelector('#template-param-2')
                 && !document.querySelector('#template-param-3')
                 && document.querySelector('#template-send').disabled;",
            json!([]),
        )
        .await;
    browser.type_into("#template-param-1", "Joana").await;
    browser
        .wait_for(
            "the preview with the first value",
            "return document.querySelector('#template-preview').textContent
                 === 'Olá Joana, seu pedido {{2}} saiu para entrega.';",
            json!([]),
        )
        .await;
    assert_eq!(
        browser
            .run(
                "return document.querySelector('#template-send').disabled;",
                json!([])
            )
            .await,
        true,
        "a variable is still empty"
    );
    browser.type_into("#template-param-2", "#123").await;
    browser
        .wait_for(
            "the filled preview and Send",
            "return document.querySelector('#template-preview').textContent === arguments[0]
                 && !document.querySelector('#template-send').disabled;",
            json!([ORDER_TEXT]),
        )
        .await;
    assert_eq!(
        text(&browser, ".template-preview .preview-header").await,
        "Seu pedido"
    );
    let path = browser
        .screenshot(&format!("console-whatsapp-template-{db:?}"))
        .await;
    eprintln!("screenshot: {}", path.display());

    // Sent: WhatsApp gets the template with the values in order, and the
    // conversation shows the filled text.
    browser.click("#template-send").await;
    let sent = sends(
        &graph
            .wait_until("the template send", |r| !sends(r).is_empty())
            .await,
    );
    let body = sent[0].json();
    assert_eq!(body["to"], CUSTOMER, "{body}");
    assert_eq!(body["type"], "template", "{body}");
    assert_eq!(body["template"]["name"], "order_update", "{body}");
    assert_eq!(body["template"]["language"]["code"], "pt_BR", "{body}");
    let values: Vec<&str> = body["template"]["components"][0]["parameters"]
        .as_array()
        .map(|p| p.iter().filter_map(|v| v["text"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(values, ["Joana", "#123"], "{body}");
    browser
        .wait_for(
            "the template message in the conversation",
            "return Array.from(document.querySelectorAll('#messages .message.outgoing[data-message-id] .content'))
                .some(c => c.textContent === arguments[0]);",
            json!([ORDER_TEXT]),
        )
        .await;
    let (_, page) = env
        .app
        .get(&env.path(&format!("/conversations/{id}/messages")), &t)
        .await;
    let stored = page["payload"]
        .as_array()
        .and_then(|l| l.iter().find(|m| m["content"] == ORDER_TEXT).cloned())
        .unwrap_or_else(|| panic!("no template message: {page}"));
    assert_eq!(stored["private"], false);
    assert_eq!(
        stored["content_attributes"]["template_params"]["parameters"],
        json!(["Joana", "#123"])
    );
    // Still outside the window: the form is back at the list.
    assert!(shown(&browser, "#template-list").await);

    // The customer writes: the window opens, and free text comes back
    // without a reload, with Template next to Attach files.
    let wrote = notification(
        json!([crate::meta::text("wamid.IN1", "Oba, obrigada!")]),
        json!([]),
    );
    assert_eq!(deliver(&env, wrote, Some(APP_SECRET)).await, 200);
    browser
        .wait_for(
            "the free-text reply box",
            "const n = document.querySelector('#reply-window-notice');
             const f = document.querySelector('#template-form');
             const i = document.querySelector('#reply-input');
             return n.hidden && f.hidden && !i.hidden
                 && !document.querySelector('#template-open').hidden
                 && Array.from(document.querySelectorAll('#messages .message.incoming .content'))
                        .some(c => c.textContent === 'Oba, obrigada!');",
            json!([]),
        )
        .await;
    browser.type_into("#reply-input", "De nada, Joana!").await;
    browser.click("#reply-send").await;
    let sent = sends(
        &graph
            .wait_until("the free-text reply", |r| sends(r).len() >= 2)
            .await,
    );
    let reply = sent[1].json();
    assert_eq!(reply["type"], "text", "{reply}");
    assert_eq!(reply["text"]["body"], "De nada, Joana!", "{reply}");

    // Inside the window the same form opens from Template, for a
    // follow-up, and closes back to free text.
    browser.click("#template-open").await;
    browser
        .wait_for(
            "the template form inside the window",
            "const f = document.querySelector('#template-form');
             return !f.hidden && document.querySelector('#reply-input').hidden
                 && document.querySelector('#reply-window-notice').hidden
                 && document.querySelectorAll('#template-list .template-item').length === 2;",
            json!([]),
        )
        .await;
    browser.click("#template-close").await;
    browser
        .wait_for(
            "free text again",
            "return document.querySelector('#template-form').hidden
                 && !document.querySelector('#reply-input').hidden;",
            json!([]),
        )
        .await;
    browser.quit().await;
}
