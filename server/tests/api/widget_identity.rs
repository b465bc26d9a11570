//! Who a website visitor is: a page view stores nothing; an unsigned
//! identifier only labels its own visitor; a signed one never becomes, nor
//! inherits the token or sockets of, anything an unsigned session held.

use serde_json::{json, Value};

use crate::both_databases;
use crate::common::{Db, Env};
use crate::widget::{sign, website};
use crate::ws::{Closed, Ws};

both_databases!(
    a_page_view_stores_no_contact,
    an_unsigned_claim_never_reaches_the_signed_owner,
    proving_an_identity_replaces_the_token,
    a_signed_identity_moves_between_devices,
);

async fn contact_count(env: &Env) -> i64 {
    let (_, list) = env.app.get(&env.path("/contacts"), &env.admin_token).await;
    list["meta"]["count"].as_i64().expect("count")
}

fn text(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .to_string()
}

async fn a_page_view_stores_no_contact(db: Db) {
    let env = Env::start(db).await;
    let (_, website_token, _) = website(&env).await;
    let mut views = Vec::new();
    for _ in 0..5 {
        let (ws, welcome) = Ws::visitor(&env.app, &website_token, None).await;
        assert!(
            welcome["data"].get("visitor_token").is_none()
                && welcome["data"].get("contact").is_none(),
            "{welcome}"
        );
        views.push(ws);
    }
    assert_eq!(contact_count(&env).await, 0, "sockets alone store nothing");

    // A newcomer has no conversation to write into or read.
    let mut v = views.pop().expect("a visitor");
    v.send(json!({"type": "message", "conversation_id": 1, "content": "hi"}))
        .await;
    assert_eq!(v.event("error").await["data"]["error"], "not_found");
    // A refused first message stores nothing either.
    v.send(json!({"type": "start_conversation", "content": ""}))
        .await;
    assert_eq!(v.event("error").await["data"]["error"], "validation_failed");
    assert_eq!(contact_count(&env).await, 0);

    // The first write makes one contact, told to the visitor with its token.
    v.send(json!({"type": "start_conversation", "content": "Oi", "echo_id": "s1"}))
        .await;
    let identity = v.event("identity").await["data"].clone();
    let token = text(&identity, "visitor_token");
    v.event("ack").await;
    assert_eq!(contact_count(&env).await, 1);
    let (_, again) = Ws::visitor(&env.app, &website_token, Some(&token)).await;
    assert_eq!(again["data"]["contact_id"], identity["contact"]["id"]);
    assert_eq!(
        again["data"]["conversations"].as_array().map(Vec::len),
        Some(1)
    );
}

/// Whether `ws` was sent anything containing `needle` before the answer to
/// a ping (frames queued before the ping arrives are written first).
async fn heard(ws: &mut Ws, needle: &str) -> bool {
    ws.send(json!({"type": "ping"})).await;
    let frames = ws.until(|f| f["event"] == "pong").await;
    frames.iter().any(|f| f.to_string().contains(needle))
}

async fn an_unsigned_claim_never_reaches_the_signed_owner(db: Db) {
    let env = Env::start(db).await;
    let (_, website_token, hmac_token) = website(&env).await;
    let (mut agent, _) = Ws::agent(&env.app, &env.admin_token, env.account_id, None).await;

    // The attacker names Alice's identifier first, unsigned: it labels them.
    let (mut attacker, _) = Ws::visitor(&env.app, &website_token, None).await;
    attacker
        .send(json!({"type": "set_user", "identifier": "alice-77", "name": "Alice?"}))
        .await;
    let claimed = attacker.event("identity").await["data"].clone();
    assert_eq!(claimed["hmac_verified"], false);
    assert_eq!(claimed["contact"]["identifier"], "alice-77");
    let attacker_token = text(&claimed, "visitor_token");

    // Alice arrives signed: she gets a contact of her own, and the
    // identifier is taken from the claimant.
    let (mut alice, _) = Ws::visitor(&env.app, &website_token, None).await;
    let hash = sign(&hmac_token, "alice-77");
    alice
        .send(json!({"type": "set_user", "identifier": "alice-77", "identifier_hash": hash, "email": "alice@example.com"}))
        .await;
    let proved = alice.event("identity").await["data"].clone();
    assert_eq!(proved["hmac_verified"], true);
    assert_eq!(proved["contact"]["identifier"], "alice-77");
    assert_ne!(proved["contact"]["id"], claimed["contact"]["id"]);
    assert_ne!(proved["visitor_token"], claimed["visitor_token"]);
    let (_, claimant) = env
        .app
        .get(
            &env.path(&format!("/contacts/{}", claimed["contact"]["id"])),
            &env.admin_token,
        )
        .await;
    assert_eq!(claimant["payload"]["identifier"], Value::Null);

    // What Alice writes never reaches the attacker's socket or token.
    alice
        .send(json!({"type": "start_conversation", "content": "my card ends in 4242"}))
        .await;
    let ours = alice.event("ack").await["data"]["conversation_id"].clone();
    agent
        .until(|f| f["event"] == "message.created" && f["data"]["conversation_id"] == ours)
        .await;
    assert!(!heard(&mut attacker, "4242").await);
    let (_, replay) = Ws::visitor(&env.app, &website_token, Some(&attacker_token)).await;
    assert_eq!(replay["data"]["conversations"], json!([]));
    let (status, conversation) = env
        .app
        .get(
            &env.path(&format!("/conversations/{ours}")),
            &env.admin_token,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(conversation["meta"]["hmac_verified"], true);
    assert_eq!(
        conversation["meta"]["sender"]["id"],
        proved["contact"]["id"]
    );

    // Contacts are account-wide: a claim made on an inbox without
    // `hmac_mandatory` does not reach the owner signing on one with it.
    let (strict_inbox, strict_token, strict_key) = website(&env).await;
    env.app
        .patch(
            &env.path(&format!("/inboxes/{strict_inbox}")),
            &env.admin_token,
            json!({"channel": {"hmac_mandatory": true}}),
        )
        .await;
    attacker
        .send(json!({"type": "set_user", "identifier": "bob-1", "name": "Bob?"}))
        .await;
    let bob_claim = attacker.event("identity").await["data"].clone();
    assert_eq!(bob_claim["contact"]["identifier"], "bob-1");
    let (mut bob, _) = Ws::visitor(&env.app, &strict_token, None).await;
    bob.send(json!({"type": "set_user", "identifier": "bob-1", "identifier_hash": sign(&strict_key, "bob-1")}))
        .await;
    let bob_proved = bob.event("identity").await["data"].clone();
    assert_eq!(bob_proved["hmac_verified"], true);
    assert_ne!(bob_proved["contact"]["id"], bob_claim["contact"]["id"]);

    // Once the identifier is signed for, an unsigned claim is refused.
    let (mut late, _) = Ws::visitor(&env.app, &website_token, None).await;
    late.send(json!({"type": "set_user", "identifier": "alice-77"}))
        .await;
    assert_eq!(
        late.event("error").await["data"]["error"],
        "identity_unverified"
    );
}

async fn proving_an_identity_replaces_the_token(db: Db) {
    let env = Env::start(db).await;
    let (_, website_token, hmac_token) = website(&env).await;
    let (mut visitor, _) = Ws::visitor(&env.app, &website_token, None).await;
    visitor
        .send(json!({"type": "start_conversation", "content": "Oi", "echo_id": "s1"}))
        .await;
    let old_token = text(&visitor.event("identity").await["data"], "visitor_token");
    let conversation = visitor.event("ack").await["data"]["conversation_id"].clone();
    // Someone else holds the same anonymous token (planted or copied).
    let (mut other, _) = Ws::visitor(&env.app, &website_token, Some(&old_token)).await;

    visitor
        .send(json!({"type": "set_user", "identifier": "user-9", "identifier_hash": sign(&hmac_token, "user-9")}))
        .await;
    let proved = visitor.event("identity").await["data"].clone();
    assert_eq!(proved["hmac_verified"], true);
    assert_eq!(
        proved["switched"], false,
        "same contact, same conversations"
    );
    let new_token = text(&proved, "visitor_token");
    assert_ne!(new_token, old_token);
    assert_eq!(other.closed().await, Closed::Code(4003));

    let mut stale = Ws::connect(&env.app, "/ws/widget").await;
    stale
        .send(json!({"type": "auth", "website_token": website_token, "visitor_token": old_token}))
        .await;
    assert_eq!(stale.event("error").await["data"]["error"], "not_found");
    let (_, fresh) = Ws::visitor(&env.app, &website_token, Some(&new_token)).await;
    assert_eq!(fresh["data"]["conversations"][0]["id"], conversation);

    // The socket that proved it goes on with its conversation.
    visitor
        .send(json!({"type": "message", "conversation_id": conversation, "content": "still me"}))
        .await;
    visitor.event("ack").await;
}

async fn a_signed_identity_moves_between_devices(db: Db) {
    let env = Env::start(db).await;
    let (inbox, website_token, hmac_token) = website(&env).await;
    let hash = sign(&hmac_token, "user-7");

    // The laptop: the pre-chat form, then the site says who it is, signed.
    let (mut laptop, _) = Ws::visitor(&env.app, &website_token, None).await;
    laptop
        .send(json!({"type": "set_user", "name": "Joana", "email": "joana@example.com"}))
        .await;
    let labelled = laptop.event("identity").await["data"].clone();
    assert_eq!(labelled["contact"]["email"], "joana@example.com");
    laptop
        .send(json!({"type": "set_user", "identifier": "user-7", "identifier_hash": hash}))
        .await;
    let joana = laptop.event("identity").await["data"].clone();
    assert_eq!(joana["hmac_verified"], true);
    assert_eq!(joana["contact"]["id"], labelled["contact"]["id"]);
    laptop
        .send(json!({"type": "start_conversation", "content": "From my laptop"}))
        .await;
    let conversation = laptop.event("ack").await["data"]["conversation_id"].clone();

    // The phone: unsigned or wrongly signed claims are refused and change
    // nothing; signed, it moves onto Joana's link and sees her conversation.
    let (mut phone, _) = Ws::visitor(&env.app, &website_token, None).await;
    phone
        .send(json!({"type": "set_user", "identifier": "user-7", "name": "Impostor"}))
        .await;
    assert_eq!(
        phone.event("error").await["data"]["error"],
        "identity_unverified"
    );
    phone
        .send(json!({"type": "set_user", "identifier": "user-7", "identifier_hash": sign("guess", "user-7")}))
        .await;
    assert_eq!(
        phone.event("error").await["data"]["error"],
        "identity_unverified"
    );
    let contact = env.path(&format!("/contacts/{}", joana["contact"]["id"]));
    let (_, seen) = env.app.get(&contact, &env.admin_token).await;
    assert_eq!(seen["payload"]["name"], "Joana");
    phone
        .send(json!({"type": "set_user", "identifier": "user-7", "identifier_hash": hash}))
        .await;
    let moved = phone.event("identity").await["data"].clone();
    assert_eq!(moved["switched"], true);
    assert_eq!(moved["contact"]["id"], joana["contact"]["id"]);
    assert_eq!(moved["visitor_token"], joana["visitor_token"]);
    let token = text(&moved, "visitor_token");
    let (_, again) = Ws::visitor(&env.app, &website_token, Some(&token)).await;
    assert_eq!(again["data"]["conversations"][0]["id"], conversation);

    // A contact the account's agents named: a signed visitor becomes it,
    // through a link of their own, never the anonymous holder's token.
    let (mut agent, _) = Ws::agent(&env.app, &env.admin_token, env.account_id, None).await;
    let (mut anonymous, held) = Ws::contact(&env.app, &website_token).await;
    let named = env.path(&format!("/contacts/{}", held["contact"]["id"]));
    let (status, _) = env
        .app
        .patch(&named, &env.admin_token, json!({"identifier": "user-8"}))
        .await;
    assert_eq!(status, 200);
    let (mut owner, _) = Ws::visitor(&env.app, &website_token, None).await;
    owner
        .send(json!({"type": "set_user", "identifier": "user-8", "identifier_hash": sign(&hmac_token, "user-8")}))
        .await;
    let owned = owner.event("identity").await["data"].clone();
    assert_eq!(owned["switched"], true);
    assert_eq!(owned["contact"]["id"], held["contact"]["id"]);
    assert_ne!(owned["visitor_token"], held["visitor_token"]);
    // The anonymous holder of the contact's old link is cut off: its socket
    // closes and its token opens nothing.
    assert_eq!(anonymous.closed().await, Closed::Code(4003));
    let mut stale = Ws::connect(&env.app, "/ws/widget").await;
    stale
        .send(json!({"type": "auth", "website_token": website_token, "visitor_token": held["visitor_token"]}))
        .await;
    assert_eq!(stale.event("error").await["data"]["error"], "not_found");
    // The owner's socket moved onto their link: it writes there at once.
    owner
        .send(json!({"type": "start_conversation", "content": "a private matter"}))
        .await;
    let theirs = owner.event("ack").await["data"]["conversation_id"].clone();
    agent
        .until(|f| f["event"] == "message.created" && f["data"]["conversation_id"] == theirs)
        .await;
    let (_, shown) = env
        .app
        .get(
            &env.path(&format!("/conversations/{theirs}")),
            &env.admin_token,
        )
        .await;
    assert_eq!(shown["meta"]["hmac_verified"], true);
    assert_eq!(shown["meta"]["sender"]["id"], held["contact"]["id"]);

    // When the inbox demands signatures, unsigned identifiers are refused
    // even as a new label, and agents never see the key.
    let (status, _) = env
        .app
        .patch(
            &env.path(&format!("/inboxes/{inbox}")),
            &env.admin_token,
            json!({"channel": {"hmac_mandatory": true}}),
        )
        .await;
    assert_eq!(status, 200);
    let (mut strict, _) = Ws::visitor(&env.app, &website_token, None).await;
    strict
        .send(json!({"type": "set_user", "identifier": "user-9"}))
        .await;
    let refused = strict.event("error").await["data"].clone();
    assert_eq!(refused["error"], "identity_unverified");
    assert!(refused["message"]
        .as_str()
        .unwrap_or_default()
        .contains("identifier_hash"));
    let (_, agent_token) = env.agent("Bruno", "bruno@acme.test", "agent").await;
    let (_, seen) = env
        .app
        .get(&env.path(&format!("/inboxes/{inbox}")), &agent_token)
        .await;
    assert!(seen.get("hmac_token").is_none(), "{seen}");
}
