//! The fence itself: a commit goes through only while its node holds the
//! lease of every account it touches, at the epoch it carries.

use std::sync::Arc;

use switchboard_server::store::{
    sql::SqlStore, ContactFields, Conversation, ConversationStatus, Fence, NewInbox, Store,
    StoreError, WriteOp,
};

use super::harness::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_needs_the_lease_at_its_epoch() {
    let Some(cluster) = Cluster::start("fence-store", &[]).await else {
        return;
    };
    let account = cluster.account_id;
    let store: Arc<dyn Store> = Arc::new(
        SqlStore::open_postgres(&cluster.db_url)
            .await
            .expect("store"),
    );
    let inbox = store
        .create_inbox(
            account,
            &NewInbox {
                name: "API".into(),
                channel_type: switchboard_protocol::api::ChannelType::Api,
                enable_auto_assignment: false,
                auto_assignment_config: Default::default(),
                settings: Default::default(),
                website_token: None,
                inbox_identifier: Some("fence".into()),
                phone_number: None,
            },
        )
        .await
        .expect("inbox");
    let fields = ContactFields {
        name: "Rui".into(),
        ..Default::default()
    };
    let contact = store
        .create_contact(account, &fields)
        .await
        .expect("contact");
    let pool = cluster.pool().await;
    sqlx::query(
        "INSERT INTO shard_leases (account_id, node, epoch, expires_at) \
         VALUES ($1, 'x', 2, now() + interval '1 minute')",
    )
    .bind(account)
    .execute(&pool)
    .await
    .expect("lease");
    let write = |id: i64| {
        vec![WriteOp::InsertConversation(Conversation {
            id,
            account_id: account,
            inbox_id: inbox.id,
            contact_id: contact.id,
            contact_inbox_id: None,
            status: ConversationStatus::Open,
            assignee_id: None,
            snoozed_until: None,
            created_at: 1,
            last_activity_at: 1,
            auto_assigned_at: None,
        })]
    };
    let fence = |node: &str, epoch: i64| Fence {
        node: node.into(),
        leases: vec![(account, epoch)],
    };
    let stored = || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
            .fetch_one(&pool)
            .await
            .expect("count");
        n
    };

    // An older epoch (the node before the lease moved) and another node.
    for (node, epoch) in [("x", 1), ("y", 2)] {
        let refused = store
            .apply_batch(&write(10), Some(&fence(node, epoch)))
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Fenced(lost)) if *lost == vec![account]),
            "{node}@{epoch}: {refused:?}"
        );
        assert_eq!(stored().await, 0, "nothing written");
    }
    // The holder, at its epoch.
    store
        .apply_batch(&write(11), Some(&fence("x", 2)))
        .await
        .expect("the holder writes");
    assert_eq!(stored().await, 1);
    // Past its expiry, not even the holder.
    sqlx::query("UPDATE shard_leases SET expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .expect("expire");
    let late = store.apply_batch(&write(12), Some(&fence("x", 2))).await;
    assert!(matches!(late, Err(StoreError::Fenced(_))), "{late:?}");
    assert_eq!(stored().await, 1);
}
