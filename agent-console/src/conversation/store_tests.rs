use super::*;
use crate::testdata::{conversation, message};

const ME: i64 = 2;

fn filters(tab: Tab) -> Filters {
    Filters {
        tab,
        status: Status::Open,
        inbox: None,
    }
}

fn ids(list: Vec<&Conversation>) -> Vec<i64> {
    list.iter().map(|c| c.id).collect()
}

#[test]
fn tabs_filter_and_sort_newest_first() {
    let mut s = Store::new(ME);
    s.upsert(conversation(1, Some(ME), "open", 100));
    s.upsert(conversation(2, None, "open", 300));
    s.upsert(conversation(3, Some(5), "open", 200));
    s.upsert(conversation(4, Some(ME), "resolved", 400));
    assert_eq!(ids(s.list(&filters(Tab::All))), vec![2, 3, 1]);
    assert_eq!(ids(s.list(&filters(Tab::Mine))), vec![1]);
    assert_eq!(ids(s.list(&filters(Tab::Unassigned))), vec![2]);
    assert_eq!(
        s.counts(Status::Open, None),
        Counts {
            mine: 1,
            unassigned: 1,
            all: 3
        }
    );
    let resolved = Filters {
        status: Status::Resolved,
        ..filters(Tab::Mine)
    };
    assert_eq!(ids(s.list(&resolved)), vec![4]);
    assert_eq!(s.counts(Status::Open, Some(99)), Counts::default());
}

#[test]
fn applying_an_event_twice_changes_nothing() {
    let mut s = Store::new(ME);
    assert_eq!(s.upsert(conversation(1, None, "open", 100)), Applied::New);
    let assigned = conversation(1, Some(ME), "open", 100);
    assert_eq!(
        s.upsert(assigned.clone()),
        Applied::Changed {
            assignee_before: None
        }
    );
    assert_eq!(s.upsert(assigned), Applied::Unchanged);
    assert_eq!(s.counts(Status::Open, None).mine, 1);
}

#[test]
fn status_changes_move_conversations_between_filters() {
    let mut s = Store::new(ME);
    s.upsert(conversation(1, Some(ME), "open", 100));
    s.upsert(conversation(1, Some(ME), "resolved", 100));
    assert_eq!(s.counts(Status::Open, None).all, 0);
    assert_eq!(s.counts(Status::Resolved, None).mine, 1);
    assert!(s.remove(1));
    assert!(!s.remove(1));
    assert_eq!(s.counts(Status::Resolved, None).all, 0);
}

#[test]
fn messages_bump_activity_and_the_last_message() {
    let mut s = Store::new(ME);
    s.upsert(conversation(1, None, "open", 100));
    s.upsert(conversation(2, None, "open", 200));
    let m = message(300, 1, 0, false);
    assert!(s.on_message(&m, true));
    assert_eq!(ids(s.list(&filters(Tab::All))), vec![1, 2]);
    let c = s.get(1).unwrap();
    assert_eq!(
        c.last_non_activity_message.as_ref().map(|m| m.id),
        Some(300)
    );
    // An activity line moves the conversation but is not its last message.
    s.on_message(&message(301, 1, 2, false), true);
    let c = s.get(1).unwrap();
    assert_eq!(c.last_activity_at, 301);
    assert_eq!(
        c.last_non_activity_message.as_ref().map(|m| m.id),
        Some(300)
    );
    // An edit of an older message does not replace a newer last message.
    s.on_message(&message(302, 1, 1, false), true);
    s.on_message(&message(300, 1, 0, false), false);
    let c = s.get(1).unwrap();
    assert_eq!(
        c.last_non_activity_message.as_ref().map(|m| m.id),
        Some(302)
    );
    // A message of an unknown conversation is ignored.
    assert!(!s.on_message(&message(400, 9, 0, false), true));
}

#[test]
fn waiting_starts_with_the_contact_and_stops_with_a_public_reply() {
    let mut s = Store::new(ME);
    s.upsert(conversation(1, None, "open", 100));
    assert_eq!(s.waiting_since(1), Some(100));
    s.on_message(&message(150, 1, 0, false), true);
    assert_eq!(
        s.waiting_since(1),
        Some(100),
        "the first unanswered message counts"
    );
    s.on_message(&message(160, 1, 1, true), true);
    assert_eq!(s.waiting_since(1), Some(100), "a note is no answer");
    s.on_message(&message(170, 1, 1, false), true);
    assert_eq!(s.waiting_since(1), None);
    s.on_message(&message(180, 1, 0, false), true);
    assert_eq!(s.waiting_since(1), Some(180));
    // A snapshot saying the same keeps the older start.
    let mut c = conversation(1, None, "open", 190);
    c.last_non_activity_message = Some(message(185, 1, 0, false));
    s.upsert(c);
    assert_eq!(s.waiting_since(1), Some(180));
    // Resolved conversations wait for nobody.
    s.upsert(conversation(1, None, "resolved", 200));
    assert_eq!(s.waiting_since(1), None);
}

#[test]
fn contact_updates_reach_every_conversation_of_the_contact() {
    let mut s = Store::new(ME);
    s.upsert(conversation(1, None, "open", 100));
    s.upsert(conversation(2, None, "resolved", 100));
    let mut contact = s.get(1).unwrap().meta.sender.clone();
    contact.name = "Joana Souza".into();
    assert!(s.on_contact(&contact));
    assert!(!s.on_contact(&contact));
    assert_eq!(s.get(2).unwrap().meta.sender.name, "Joana Souza");
}

#[test]
fn a_crm_retry_answer_turns_the_block_to_pending() {
    use crate::contact::crm;
    use crate::i18n::Lang;
    use switchboard_protocol::chat::CrmStatus;
    let mut s = Store::new(ME);
    s.upsert(conversation(1, None, "open", 100));
    let mut contact = s.get(1).unwrap().meta.sender.clone();
    contact.crm = Some(
        serde_json::from_str(
            r#"{"app_id":"agendor","status":"failed","error":"invalid token","updated_at":5}"#,
        )
        .unwrap(),
    );
    assert!(s.on_contact(&contact));
    let shown = |s: &Store| {
        let link = s.get(1).unwrap().meta.sender.crm.clone().unwrap();
        crm::view(&link, Lang::En)
    };
    assert!(shown(&s).retry);
    // `POST .../crm_sync` answers `{"payload": <contact>}`, now pending.
    let mut answer: serde_json::Value = serde_json::to_value(&contact).unwrap();
    answer["crm"]["status"] = "pending".into();
    answer["crm"]["error"] = serde_json::Value::Null;
    let one: crate::msg::One<Contact> =
        serde_json::from_value(serde_json::json!({ "payload": answer })).unwrap();
    assert_eq!(one.payload.crm.as_ref().unwrap().status, CrmStatus::Pending);
    assert!(s.on_retried_contact(&one.payload));
    assert_eq!(shown(&s).status, "pending");
    assert!(!shown(&s).retry);

    // The sync's live events can overtake the answer: a late "pending"
    // answer does not undo "synced".
    let mut synced = one.payload.clone();
    if let Some(link) = synced.crm.as_mut() {
        link.status = CrmStatus::Synced;
        link.url = Some("https://web.agendor.com.br/sistema/pessoas/historico.php?id=5".into());
    }
    assert!(s.on_contact(&synced));
    assert!(
        !s.on_retried_contact(&one.payload),
        "the late answer is ignored"
    );
    assert_eq!(shown(&s).status, "synced");
}

#[test]
fn a_saved_contact_shows_its_details_but_not_an_older_crm_state() {
    use switchboard_protocol::chat::CrmStatus;
    let mut s = Store::new(ME);
    s.upsert(conversation(1, None, "open", 100));
    let before = s.get(1).unwrap().meta.sender.clone();
    // The edit's answer: an e-mail, and no CRM link yet.
    let mut answer = before.clone();
    answer.email = Some("joana@example.com".into());
    answer.phone_number = Some("+5511999990000".into());
    // The sync it started overtook the answer: the contact is synced.
    let mut synced = answer.clone();
    synced.crm = Some(
        serde_json::from_str(r#"{"app_id":"agendor","status":"synced","updated_at":5}"#).unwrap(),
    );
    assert!(s.on_contact(&synced));
    assert!(!s.on_saved_contact(&answer), "nothing new in it");
    let shown = &s.get(1).unwrap().meta.sender;
    assert_eq!(
        shown.crm.as_ref().map(|l| l.status),
        Some(CrmStatus::Synced)
    );
    // Without the event first, the answer shows the new details at once.
    let mut s = Store::new(ME);
    s.upsert(conversation(1, None, "open", 100));
    assert!(s.on_saved_contact(&answer));
    let shown = &s.get(1).unwrap().meta.sender;
    assert_eq!(shown.email.as_deref(), Some("joana@example.com"));
    assert_eq!(shown.phone_number.as_deref(), Some("+5511999990000"));
}

#[test]
fn deleting_an_inbox_takes_its_conversations() {
    let mut s = Store::new(ME);
    s.upsert(conversation(1, None, "open", 100));
    let mut other = conversation(2, None, "open", 200);
    other.inbox_id = 9;
    s.upsert(other);
    assert_eq!(s.remove_inbox(3), vec![1]);
    assert_eq!(ids(s.list(&filters(Tab::All))), vec![2]);
    assert!(s.remove_inbox(3).is_empty());
}

#[test]
fn pages_record_completeness() {
    let mut s = Store::new(ME);
    s.page_loaded(Status::Open, 1, 25, 25);
    assert_eq!(
        s.loaded(Status::Open),
        Some(Loaded {
            next_page: 2,
            complete: false
        })
    );
    s.page_loaded(Status::Open, 2, 3, 25);
    assert!(s.loaded(Status::Open).unwrap().complete);
    s.clear();
    assert_eq!(s.loaded(Status::Open), None);
}

#[test]
fn the_contact_writing_opens_the_whatsapp_window_again() {
    let mut s = Store::new(ME);
    let mut quiet = conversation(1, Some(ME), "open", 100);
    quiet.can_reply = false;
    s.upsert(quiet);
    // Our own replies and notes leave it closed.
    s.on_message(&message(101, 1, 1, false), true);
    s.on_message(&message(102, 1, 1, true), true);
    assert!(!s.get(1).unwrap().can_reply);
    // An edit of an old incoming message is no new message.
    s.on_message(&message(50, 1, 0, false), false);
    assert!(!s.get(1).unwrap().can_reply);
    s.on_message(&message(103, 1, 0, false), true);
    assert!(s.get(1).unwrap().can_reply);
    // A refused reply closes it again; once is news.
    assert!(s.window_closed(1));
    assert!(!s.window_closed(1));
    assert!(!s.get(1).unwrap().can_reply);
    assert!(!s.window_closed(99));
}
