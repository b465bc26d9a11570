//! `switchboard serve --demo`: a ready-made account to click through, the help
//! article's example in data: two salespeople as collaborators of a website
//! inbox with conversation assignment on and at most 5 conversations each.

use switchboard_protocol::api::{AutoAssignmentConfig, Availability, ChannelType, Role};

use crate::secrets::{hash_password, new_access_token, random_token, token_sha256};
use crate::store::{InboxSettings, MemberChange, NewAgent, NewInbox, NewUser, Store};

/// The demo administrator's e-mail; the demo is created once, when no user has it.
pub const ADMIN_EMAIL: &str = "admin@demo.switchboard.test";
/// Password of every demo user. Public by design: never use `--demo` in production.
pub const PASSWORD: &str = "switchboard-demo";

/// Creates the demo account unless it exists; returns the website token of
/// its "Website" inbox, for the `/demo` page.
pub async fn seed(store: &dyn Store, public_url: &str) -> anyhow::Result<String> {
    if let Some((admin, _)) = store.credentials(ADMIN_EMAIL).await? {
        tracing::info!(
            email = ADMIN_EMAIL,
            password = PASSWORD,
            "demo account already present"
        );
        for membership in store.memberships(admin.id).await? {
            let inboxes = store.list_inboxes(membership.account_id).await?;
            if let Some(token) = inboxes.into_iter().find_map(|i| i.website_token) {
                return Ok(token);
            }
        }
        anyhow::bail!(
            "the demo account has no website inbox left: delete the database to start over"
        );
    }
    let hash = hash_password(PASSWORD.to_string()).await?;
    let admin = NewUser {
        email: ADMIN_EMAIL.to_string(),
        name: "Ana Souza".to_string(),
        display_name: Some("Ana".to_string()),
        password_hash: Some(hash.clone()),
    };
    // The API token is not shown: sign in to get a session token instead.
    let created = store
        .create_account("Demo Company", &admin, &token_sha256(&new_access_token()))
        .await?;
    let account_id = created.account_id;
    let mut sellers = Vec::new();
    for (name, email) in [
        ("Bruno Lima", "bruno@demo.switchboard.test"),
        ("Carla Dias", "carla@demo.switchboard.test"),
    ] {
        let agent = store
            .add_agent(
                account_id,
                &NewAgent {
                    user: NewUser {
                        email: email.to_string(),
                        name: name.to_string(),
                        display_name: None,
                        password_hash: Some(hash.clone()),
                    },
                    role: Role::Agent,
                    availability: Availability::Available,
                    // Present without a console open, so the demo assigns
                    // conversations before anyone connects.
                    auto_offline: false,
                    max_concurrent_conversations: None,
                },
            )
            .await?;
        sellers.push(agent.user.id);
    }
    let website_token = random_token(24);
    let inbox = store
        .create_inbox(
            account_id,
            &NewInbox {
                name: "Website".to_string(),
                channel_type: ChannelType::WebWidget,
                enable_auto_assignment: true,
                auto_assignment_config: AutoAssignmentConfig {
                    max_assignment_limit: Some(5),
                    ..AutoAssignmentConfig::default()
                },
                settings: InboxSettings {
                    website_url: Some(public_url.to_string()),
                    // No welcome texts of its own: the widget's defaults,
                    // which speak each visitor's language.
                    widget_color: Some("#1f93ff".to_string()),
                    hmac_token: Some(random_token(32)),
                    ..InboxSettings::default()
                },
                website_token: Some(website_token.clone()),
                inbox_identifier: None,
                phone_number: None,
            },
        )
        .await?;
    store
        .change_members(account_id, inbox.id, MemberChange::Add, &sellers)
        .await?;
    tracing::info!(
        account_id,
        email = ADMIN_EMAIL,
        password = PASSWORD,
        "demo account created: sign in with POST /auth/sign_in"
    );
    Ok(website_token)
}
