//! The console in Portuguese: the server's refusals in the agent's words,
//! each said once, and anonymous visitors named in the agent's language.

use serde_json::json;

use crate::common::{Db, Env};
use crate::console::log_in;
use crate::ws::Ws;

crate::both_databases!(refusals_and_visitors_in_portuguese);

const PASSWORD: &str = "password123";

async fn refusals_and_visitors_in_portuguese(db: Db) {
    let Some(browser) = crate::browser(1280, 800).await else {
        return;
    };
    let env = Env::start(db).await;
    let base = env.app.base.clone();
    browser.goto(&format!("{base}/app/login")).await;
    browser
        .run(
            "localStorage.setItem('switchboard.console.lang', 'pt-BR');",
            json!([]),
        )
        .await;
    browser.refresh().await;
    browser
        .wait_for(
            "the login form in Portuguese",
            "const b = document.querySelector('#login-submit');
             return !!b && b.textContent.includes('Entrar');",
            json!([]),
        )
        .await;

    // A wrong password: the agent's words, not the server's English.
    browser.type_into("#login-email", "ana@acme.test").await;
    browser
        .type_into("#login-password", "not-the-password")
        .await;
    browser.click("#login-submit").await;
    let said = browser
        .wait_for(
            "the refusal",
            "const e = document.querySelector('#login-error');
             return e && e.textContent.trim() ? e.textContent : null;",
            json!([]),
        )
        .await;
    assert_eq!(said, "E-mail ou senha incorretos. Tente novamente.");

    // A visitor who gave no name writes in.
    let inbox = env.web_inbox("Site").await;
    let (_, site) = env
        .app
        .get(&env.path(&format!("/inboxes/{inbox}")), &env.admin_token)
        .await;
    let website_token = site["website_token"].as_str().expect("token");
    let (mut visitor, _) = Ws::visitor(&env.app, website_token, None).await;
    visitor
        .send(json!({"type": "start_conversation", "content": "Olá"}))
        .await;
    let contact = visitor.event("identity").await["data"]["contact"]["id"]
        .as_i64()
        .expect("contact id");
    visitor.event("ack").await;

    log_in(&browser, &base, "ana@acme.test", PASSWORD).await;
    crate::editing::all_conversations(&browser).await;
    let name = format!("Visitante #{contact}");
    browser
        .wait_for(
            "the visitor, named in Portuguese",
            "return document.body.textContent.includes(arguments[0]);",
            json!([name]),
        )
        .await;

    // A wrong current password: said under the form, once (no toast too).
    browser.goto(&format!("{base}/app/profile")).await;
    browser
        .wait_for(
            "the password form",
            "return !!document.querySelector('#password-save');",
            json!([]),
        )
        .await;
    browser
        .type_into("#password-current", "not-the-password")
        .await;
    browser.type_into("#password-new", "a-new-password-1").await;
    browser.click("#password-save").await;
    let notice = browser
        .wait_for(
            "the refusal under the form",
            "const e = document.querySelector('#password-notice');
             return e && e.textContent.trim() ? e.textContent : null;",
            json!([]),
        )
        .await;
    assert_eq!(notice, "Senha atual: está incorreta");
    let toasts = browser
        .run(
            "const t = document.querySelector('#toast');
             return !!t && !t.hidden && t.textContent.includes('incorreta');",
            json!([]),
        )
        .await;
    assert_eq!(toasts, false, "said once, not in a toast as well");
    browser.shot("console-errors-pt-br", db).await;
    browser.quit().await;
}
