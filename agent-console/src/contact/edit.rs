//! Editing a contact from the conversation's contact panel, browser side:
//! Edit, Cancel, Save (`PATCH .../contacts/{id}` with what changed), the
//! answer, and the open form following live changes of the contact. Every
//! agent may edit any contact. What is sent, and how the server's refusals
//! read, is in `form.rs`.

use switchboard_protocol::chat::Contact;

use crate::app::App;
use crate::contact::form::{self, ContactEdit, ContactForm, CONTACT_FIELDS};
use crate::dom;
use crate::http::Method;
use crate::msg::{Action, Msg, Net, One, Res};

/// The edit form as its fields read; `None` when it is not on the page.
fn read_form() -> Option<ContactForm> {
    dom::by_id("contact-edit-form")?;
    let [name, email, phone_number, identifier] = [0, 1, 2, 3].map(|i| {
        let (_, id, _) = CONTACT_FIELDS[i];
        dom::value_of(id)
    });
    Some(ContactForm {
        name,
        email,
        phone_number,
        identifier,
    })
}

impl App {
    pub(crate) fn act_contact(&mut self, action: Action) {
        match action {
            Action::EditContact(id) => {
                let shown = self
                    .data
                    .open_id()
                    .and_then(|c| self.data.store.get(c))
                    .map(|c| &c.meta.sender)
                    .filter(|s| s.id == id);
                if let Some(contact) = shown {
                    self.data.forms.contact = Some(ContactEdit::start(contact));
                }
            }
            Action::CancelContactEdit => self.data.forms.contact = None,
            Action::SaveContact => self.save_contact(),
            _ => {}
        }
        self.dirty.conversation = true;
    }

    fn save_contact(&mut self) {
        let lang = self.data.lang;
        let Some(edit) = self.data.forms.contact.as_mut() else {
            return;
        };
        if edit.busy {
            return;
        }
        let Some(typed) = read_form() else { return };
        let change = match edit.body(&typed) {
            Err(problem) => {
                edit.error = Some(problem.text(CONTACT_FIELDS, lang));
                edit.invalid = Some(problem.field());
                return;
            }
            // Nothing changed: Save just closes the form.
            Ok(None) => {
                self.data.forms.contact = None;
                return;
            }
            Ok(Some(change)) => change,
        };
        edit.busy = true;
        edit.error = None;
        edit.invalid = None;
        let id = edit.contact;
        let fields = change.fields;
        self.api(
            Method::Patch,
            &format!("/contacts/{id}"),
            Some(change.body),
            move |r| Msg::Net(Box::new(Net::ContactSaved(id, fields, r))),
        );
    }

    pub(crate) fn contact_saved(&mut self, id: i64, sent: &[&str], r: Res<One<Contact>>) {
        self.dirty.conversation = true;
        match r {
            Ok(One { payload }) => {
                if self.data.store.on_saved_contact(&payload) {
                    self.dirty.list = true;
                }
                if self.data.forms.contact.as_ref().map(|e| e.contact) == Some(id) {
                    self.data.forms.contact = None;
                }
            }
            Err(f) => {
                let (field, text) = match form::refusal(&f, sent, self.data.lang) {
                    Some(said) => said,
                    None => (None, self.failure_text(&f)),
                };
                match self.data.forms.contact.as_mut().filter(|e| e.contact == id) {
                    Some(edit) => {
                        edit.busy = false;
                        edit.error = Some(text);
                        edit.invalid = field;
                    }
                    None => self.fail(&f),
                }
            }
        }
    }

    /// The contact changed elsewhere: an open form takes the new values in
    /// the fields the agent has not touched, and keeps what is typed.
    pub(crate) fn contact_followed(&mut self, contact: &Contact) {
        let Some(edit) = self
            .data
            .forms
            .contact
            .as_mut()
            .filter(|e| e.contact == contact.id)
        else {
            return;
        };
        // Not drawn yet: it will be drawn from the new values.
        let typed = read_form().unwrap_or_else(|| edit.base.clone());
        for (id, value) in edit.follow(&typed, contact) {
            if let Some(input) = dom::by_id(id) {
                dom::set_value(&input, &value);
            }
        }
    }
}
