//! The hub on its own: its state after a restart equals its state before,
//! and stopping it commits everything queued.

use std::sync::Arc;

use switchboard_server::hub::{Hub, NewConversation, NewMessage};
use switchboard_server::store::{ContactFields, ConversationStatus, Sender, Store};

use crate::both_databases;
use crate::common::{new_account, Db, TestDb};

both_databases!(restart_reproduces_the_hub);

async fn restart_reproduces_the_hub(db: Db) {
    let db = TestDb::new(db).await;
    let account = new_account(&db, "Acme", "ana@acme.test").await;
    let store: Arc<dyn Store> = db.store().await;
    let inbox = store
        .create_inbox(
            account.account_id,
            &switchboard_server::store::NewInbox {
                name: "Website".into(),
                channel_type: switchboard_protocol::api::ChannelType::WebWidget,
                enable_auto_assignment: true,
                auto_assignment_config: Default::default(),
                settings: Default::default(),
                website_token: Some("t".into()),
                inbox_identifier: None,
                phone_number: None,
            },
        )
        .await
        .expect("inbox");
    let contact = store
        .create_contact(
            account.account_id,
            &ContactFields {
                name: "V".into(),
                ..Default::default()
            },
        )
        .await
        .expect("contact");

    let (hub, writer) = Hub::start(store.clone()).await.expect("hub");
    let mut created = Vec::new();
    for n in 0..40 {
        let (live, _) = hub
            .create_conversation(NewConversation {
                account_id: account.account_id,
                inbox_id: inbox.id,
                contact_id: contact.id,
                contact_inbox_id: None,
                status: if n % 3 == 0 {
                    ConversationStatus::Pending
                } else {
                    ConversationStatus::Open
                },
                assignee_id: (n % 2 == 0).then_some(account.user_id),
                messages: vec![NewMessage {
                    sender: Some(Sender::Contact(contact.id)),
                    ..NewMessage::activity(format!("hello {n}"))
                }],
                echo_id: None,
            })
            .await
            .expect("create");
        created.push(live.conversation.id);
    }
    // Resolve a few: they leave the open counts.
    for id in created.iter().step_by(5) {
        hub.change(account.account_id, *id, None, |c| {
            c.status = ConversationStatus::Resolved;
            Ok(Vec::new())
        })
        .await
        .expect("resolve");
    }
    let before = hub.snapshot(account.account_id);
    assert_eq!(before.0.len(), 40);
    assert!(!before.1.is_empty());
    hub.stop().await;
    writer.await.expect("writer");

    let (hub, writer) = Hub::start(store).await.expect("hub again");
    assert_eq!(hub.snapshot(account.account_id), before);
    hub.stop().await;
    writer.await.expect("writer");
}
