//! The server's errors in the console's words. Every error the server sends
//! has a stable code (`invalid_credentials`, `too_many_attempts`, and per
//! field `blank`, `too_short`, `incorrect`, ...): the console shows its own
//! sentence for the codes it knows, in the agent's language, and the
//! server's English sentence only for codes it does not know yet.

use crate::forms::Failure;
use crate::i18n::{Lang, T};

/// The sentence for an error code, when the console has one.
pub fn error(code: &str) -> Option<T> {
    Some(match code {
        "invalid_credentials" => T::ErrInvalidCredentials,
        "too_many_attempts" => T::ErrTooManyAttempts,
        "unauthorized" => T::ErrUnauthorized,
        "forbidden" => T::ErrForbidden,
        "not_found" => T::ErrNotFound,
        "busy" => T::ErrBusy,
        "unanswered" => T::ErrUnanswered,
        "person_exists" => T::ErrPersonExists,
        "belongs_to_user" => T::ErrBelongsToUser,
        "payload_too_large" => T::ErrTooLarge,
        "internal" => T::ErrInternal,
        _ => return None,
    })
}

/// What is wrong with a field, for a field error code.
pub fn field(code: &str) -> Option<T> {
    Some(match code {
        "blank" => T::FieldBlank,
        "too_long" => T::FieldTooLong,
        "too_short" => T::FieldTooShort,
        "control_characters" => T::FieldControl,
        "invalid_email" => T::FieldEmail,
        "invalid_phone" => T::FieldPhone,
        "invalid_url" => T::FieldUrl,
        "invalid_color" => T::FieldColor,
        "incorrect" => T::FieldIncorrect,
        "required" => T::FieldRequired,
        "mismatch" => T::FieldMismatch,
        _ => return None,
    })
}

/// The field's label in the console's words, for the API's field names
/// that forms without a table of their own show.
fn label(name: &str) -> Option<T> {
    Some(match name {
        "password" => T::NewPassword,
        "current_password" => T::CurrentPassword,
        "email" => T::Email,
        _ => return None,
    })
}

/// What is wrong with field `name` (`code`, the server's `message`):
/// ours when we know the code, the server's words otherwise.
pub fn field_text(code: &str, message: &str, lang: Lang) -> String {
    field(code).map_or_else(|| message.to_string(), |t| lang.t(t).to_string())
}

/// One sentence for a failed request: a field's problem when the server
/// named one, else the error's, in the agent's language when known.
pub fn describe(f: &Failure, lang: Lang) -> String {
    if let Some(p) = f.fields.first() {
        let what = field_text(&p.code, &p.message, lang);
        return match label(&p.field) {
            Some(t) => format!("{}: {what}", lang.t(t)),
            None if field(&p.code).is_some() => format!("{}: {what}", p.field),
            None => f.message.clone().unwrap_or(what),
        };
    }
    match (f.code.as_deref().and_then(error), &f.message, f.status) {
        (Some(t), _, _) => lang.t(t).to_string(),
        (None, Some(m), _) => m.clone(),
        (None, None, 0) => lang.t(T::NetworkError).to_string(),
        (None, None, _) => lang.t(T::UnexpectedAnswer).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: u16, body: &str) -> Failure {
        Failure::from_response(status, body)
    }

    #[test]
    fn known_codes_speak_the_agents_language() {
        let wrong = failure(
            401,
            r#"{"error":"invalid_credentials","message":"Invalid login credentials. Please try again."}"#,
        );
        assert_eq!(
            describe(&wrong, Lang::PtBr),
            "E-mail ou senha incorretos. Tente novamente."
        );
        let short = failure(
            422,
            r#"{"error":"validation_failed","message":"password is too short (minimum is 8 characters)",
                "errors":[{"field":"password","message":"is too short (minimum is 8 characters)","code":"too_short"}]}"#,
        );
        assert_eq!(
            describe(&short, Lang::PtBr),
            "Nova senha: tem poucos caracteres (no mínimo 8)"
        );
        let current = failure(
            422,
            r#"{"error":"validation_failed","message":"current_password is incorrect",
                "errors":[{"field":"current_password","message":"is incorrect","code":"incorrect"}]}"#,
        );
        assert_eq!(
            describe(&current, Lang::PtBr),
            "Senha atual: está incorreta"
        );
    }

    #[test]
    fn unknown_codes_keep_the_servers_words() {
        let odd = failure(
            409,
            r#"{"error":"something_new","message":"The server's own sentence."}"#,
        );
        assert_eq!(describe(&odd, Lang::PtBr), "The server's own sentence.");
        assert_eq!(
            describe(&Failure::network(), Lang::PtBr),
            "Não foi possível falar com o servidor. Verifique sua conexão."
        );
    }
}
