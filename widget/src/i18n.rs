//! The widget's words in English and Brazilian Portuguese.
//!
//! Strings are static tables rather than a message-format engine: two
//! languages and a handful of placeholders do not justify the bytes.

/// A language the widget speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    En,
    PtBr,
}

impl Locale {
    /// The host page's choice when we speak it, else the inbox's language
    /// (set in its settings), else the browser's language when it is
    /// Portuguese, else English.
    pub fn pick(requested: Option<&str>, inbox: Option<&str>, browser: Option<&str>) -> Locale {
        requested
            .and_then(Locale::parse)
            .or_else(|| inbox.and_then(Locale::parse))
            .or_else(|| browser.filter(|b| is_pt(b)).map(|_| Locale::PtBr))
            .unwrap_or(Locale::En)
    }

    /// `en`, `en-US`, `pt`, `pt-BR`, `pt_br`…; `None` for other languages.
    pub fn parse(tag: &str) -> Option<Locale> {
        let tag = tag.trim().to_ascii_lowercase();
        if is_pt(&tag) {
            Some(Locale::PtBr)
        } else if tag == "en" || tag.starts_with("en-") || tag.starts_with("en_") {
            Some(Locale::En)
        } else {
            None
        }
    }

    /// The BCP 47 tag for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::PtBr => "pt-BR",
        }
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Locale::En => &EN,
            Locale::PtBr => &PT_BR,
        }
    }
}

fn is_pt(tag: &str) -> bool {
    let tag = tag.trim().to_ascii_lowercase();
    tag == "pt" || tag.starts_with("pt-") || tag.starts_with("pt_")
}

/// Every fixed text the frame shows. `{}` marks where a name or number goes
/// (see [`fill`]).
#[derive(Debug)]
pub struct Strings {
    pub title: &'static str,
    pub online: &'static str,
    pub away: &'static str,
    pub connecting: &'static str,
    pub reconnecting: &'static str,
    pub unavailable: &'static str,
    pub origin_blocked: &'static str,
    pub close: &'static str,
    pub messages: &'static str,
    pub empty: &'static str,
    pub input_label: &'static str,
    pub placeholder: &'static str,
    pub send: &'static str,
    pub sending: &'static str,
    pub sent: &'static str,
    pub failed: &'static str,
    pub retry: &'static str,
    pub too_long: &'static str,
    pub typing: &'static str,
    pub queue: &'static str,
    pub joined: &'static str,
    pub resolved: &'static str,
    pub load_older: &'static str,
    pub loading: &'static str,
    pub prechat_intro: &'static str,
    pub prechat_name: &'static str,
    pub prechat_email: &'static str,
    pub prechat_submit: &'static str,
    pub invalid_email: &'static str,
    pub rate_limited: &'static str,
    pub not_found: &'static str,
    pub unverified: &'static str,
    pub send_failed: &'static str,
    pub attach: &'static str,
    pub uploading: &'static str,
    pub upload_failed: &'static str,
    pub cancel: &'static str,
    pub too_many_files: &'static str,
    pub file_too_large: &'static str,
    pub file_empty: &'static str,
    pub text_too_long_for_files: &'static str,
    pub files_too_large: &'static str,
    pub busy: &'static str,
    pub taken: &'static str,
    pub field_too_long: &'static str,
    /// Sizes are written "1,5 MB" rather than "1.5 MB".
    pub decimal_comma: bool,
}

pub static EN: Strings = Strings {
    title: "Chat with us",
    online: "We're online",
    away: "Our team is away. Leave a message and we'll get back to you.",
    connecting: "Connecting…",
    reconnecting: "Reconnecting…",
    unavailable: "This chat isn't available right now.",
    origin_blocked: "This chat can't be used on this website.",
    close: "Close chat",
    messages: "Messages",
    empty: "Send us a message and we'll reply right here.",
    input_label: "Your message",
    placeholder: "Type your message…",
    send: "Send",
    sending: "Sending…",
    sent: "Sent",
    failed: "Not sent",
    retry: "Retry",
    too_long: "This message is too long ({} characters). Please keep it under 10,000.",
    typing: "{} is typing…",
    queue: "You are number {} in line",
    joined: "{} joined the conversation",
    resolved: "This conversation was marked resolved. Write again anytime to reopen it.",
    load_older: "Show earlier messages",
    loading: "Loading…",
    prechat_intro: "Please tell us who you are, so we can reply even if you leave.",
    prechat_name: "Name",
    prechat_email: "Email",
    prechat_submit: "Start chat",
    invalid_email: "Please enter a valid email address.",
    rate_limited: "Too many messages at once. Please wait a moment and retry.",
    not_found: "This conversation is no longer available.",
    unverified: "We couldn't verify who you are.",
    send_failed: "The message couldn't be sent.",
    attach: "Attach files",
    uploading: "Sending file…",
    upload_failed: "The file couldn't be sent. Please check your connection and try again.",
    cancel: "Cancel",
    too_many_files: "You can send up to 10 files at a time ({} were selected).",
    file_too_large: "“{}” is larger than 25 MB, the most we can receive.",
    file_empty: "“{}” is empty, so it wasn't sent.",
    text_too_long_for_files: "Please shorten your message to send it with files.",
    files_too_large: "These files are too large to send together. Please send fewer at a time.",
    busy: "We're very busy right now. Please try again in a moment.",
    taken: "This e-mail or ID is already used by someone else.",
    field_too_long: "That's too long. Please shorten it and try again.",
    decimal_comma: false,
};

pub static PT_BR: Strings = Strings {
    title: "Fale conosco",
    online: "Estamos online",
    away: "Nossa equipe está ausente. Deixe uma mensagem e retornaremos em breve.",
    connecting: "Conectando…",
    reconnecting: "Reconectando…",
    unavailable: "Este chat não está disponível no momento.",
    origin_blocked: "Este chat não pode ser usado neste site.",
    close: "Fechar chat",
    messages: "Mensagens",
    empty: "Envie uma mensagem e responderemos aqui mesmo.",
    input_label: "Sua mensagem",
    placeholder: "Digite sua mensagem…",
    send: "Enviar",
    sending: "Enviando…",
    sent: "Enviada",
    failed: "Não enviada",
    retry: "Tentar de novo",
    too_long: "Esta mensagem é longa demais ({} caracteres). O limite é 10.000.",
    typing: "{} está digitando…",
    queue: "Você é o número {} na fila",
    joined: "{} entrou na conversa",
    resolved:
        "Esta conversa foi marcada como resolvida. Escreva de novo quando quiser para reabri-la.",
    load_older: "Mostrar mensagens anteriores",
    loading: "Carregando…",
    prechat_intro: "Conte-nos quem você é, para podermos responder mesmo se você sair.",
    prechat_name: "Nome",
    prechat_email: "E-mail",
    prechat_submit: "Iniciar conversa",
    invalid_email: "Informe um e-mail válido.",
    rate_limited: "Muitas mensagens de uma vez. Aguarde um instante e tente de novo.",
    not_found: "Esta conversa não está mais disponível.",
    unverified: "Não foi possível confirmar sua identidade.",
    send_failed: "Não foi possível enviar a mensagem.",
    attach: "Anexar arquivos",
    uploading: "Enviando arquivo…",
    upload_failed: "Não foi possível enviar o arquivo. Verifique sua conexão e tente de novo.",
    cancel: "Cancelar",
    too_many_files: "Você pode enviar até 10 arquivos por vez ({} foram selecionados).",
    file_too_large: "“{}” tem mais de 25 MB, o máximo que podemos receber.",
    file_empty: "“{}” está vazio e não foi enviado.",
    text_too_long_for_files: "Encurte sua mensagem para enviá-la com os arquivos.",
    files_too_large:
        "Esses arquivos são grandes demais para enviar juntos. Envie menos de cada vez.",
    busy: "Estamos com muito movimento. Tente de novo em instantes.",
    taken: "Este e-mail ou ID já é usado por outra pessoa.",
    field_too_long: "Isso é longo demais. Encurte e tente de novo.",
    decimal_comma: true,
};

/// Puts `value` where `{}` stands in `template`.
pub fn fill(template: &str, value: &str) -> String {
    template.replacen("{}", value, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_page_choice_wins_when_spoken() {
        assert_eq!(
            Locale::pick(Some("pt-BR"), Some("en"), Some("en-US")),
            Locale::PtBr
        );
        assert_eq!(
            Locale::pick(Some("en"), Some("pt-BR"), Some("pt-BR")),
            Locale::En
        );
        assert_eq!(Locale::pick(Some("PT_br"), None, None), Locale::PtBr);
    }

    #[test]
    fn then_the_inbox_language_over_the_browser() {
        assert_eq!(
            Locale::pick(None, Some("pt-BR"), Some("en-US")),
            Locale::PtBr
        );
        assert_eq!(Locale::pick(None, Some("en"), Some("pt-BR")), Locale::En);
        assert_eq!(
            Locale::pick(Some("fr"), Some("pt-BR"), Some("en")),
            Locale::PtBr
        );
    }

    #[test]
    fn otherwise_the_browser_decides_and_english_is_the_fallback() {
        assert_eq!(Locale::pick(None, None, Some("pt-PT")), Locale::PtBr);
        assert_eq!(Locale::pick(Some("fr"), None, Some("pt")), Locale::PtBr);
        assert_eq!(Locale::pick(Some("fr"), None, Some("de-DE")), Locale::En);
        assert_eq!(Locale::pick(None, None, None), Locale::En);
        assert_eq!(Locale::parse("portuguese"), None, "a prefix is not a tag");
    }

    #[test]
    fn placeholders_are_filled() {
        let s = Locale::PtBr.strings();
        assert_eq!(fill(s.typing, "Bruno"), "Bruno está digitando…");
        assert_eq!(fill(EN.queue, "3"), "You are number 3 in line");
        assert_eq!(fill(EN.joined, "{}"), "{} joined the conversation");
        assert_eq!(
            fill(PT_BR.file_too_large, "vídeo.mp4"),
            "“vídeo.mp4” tem mais de 25 MB, o máximo que podemos receber."
        );
    }

    #[test]
    fn every_template_has_its_placeholder() {
        for s in [&EN, &PT_BR] {
            let files = [s.too_many_files, s.file_too_large, s.file_empty];
            for t in [s.too_long, s.typing, s.queue, s.joined]
                .into_iter()
                .chain(files)
            {
                assert_eq!(t.matches("{}").count(), 1, "{t}");
            }
            assert!(!s.away.is_empty() && !s.unavailable.is_empty());
            assert!(!s.uploading.is_empty() && !s.upload_failed.is_empty());
        }
    }
}
