//! Organizations in Agendor, which filters them by CNPJ only: switchboard
//! pages through them to find a contact's, and refuses to create one when
//! there are too many to be sure it is not already there.

use serde_json::json;

use crate::agendor_fake::FakeAgendor;
use crate::both_databases;
use crate::common::{Db, Env};
use crate::crm::{api_inbox, connect, customer, settings, wait_crm, TOKEN};

both_databases!(
    an_existing_organization_past_the_first_page_is_linked,
    too_many_organizations_to_be_sure_creates_none
);

async fn an_existing_organization_past_the_first_page_is_linked(db: Db) {
    let fake = FakeAgendor::start(TOKEN).await;
    for n in 0..150 {
        fake.add_organization(&format!("Empresa {n}"), &format!("contato{n}@empresa.test"));
    }
    let theirs = fake.add_organization("Padaria Central", "compras@padaria.test");
    let env = Env::start_with(db, settings()).await;
    let (_, base) = api_inbox(&env).await;
    connect(&env, &fake, TOKEN, json!({"contact_type": "organization"})).await;
    let (contact, _, _) = customer(
        &env,
        &base,
        json!({"name": "Padaria", "email": "compras@padaria.test"}),
    )
    .await;
    let shown = wait_crm(&env, contact, "synced").await;
    assert_eq!(shown["crm"]["record_id"], theirs, "{shown}");
    assert_eq!(fake.organizations().len(), 151, "nothing duplicated");
}

async fn too_many_organizations_to_be_sure_creates_none(db: Db) {
    let fake = FakeAgendor::start(TOKEN).await;
    for n in 0..1001 {
        fake.add_organization(&format!("Empresa {n}"), &format!("contato{n}@empresa.test"));
    }
    let env = Env::start_with(db, settings()).await;
    let (_, base) = api_inbox(&env).await;
    connect(&env, &fake, TOKEN, json!({"contact_type": "organization"})).await;
    let (contact, _, _) = customer(
        &env,
        &base,
        json!({"name": "Nova Loja", "email": "oi@novaloja.test"}),
    )
    .await;
    let shown = wait_crm(&env, contact, "failed").await;
    assert!(
        shown["crm"]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("CNPJ"),
        "{shown}"
    );
    assert_eq!(fake.organizations().len(), 1001, "none created");
}
