//! Small text rules the view relies on, kept pure so they are tested.

/// The longest message the widget sends, in characters (the server's limit
/// for widget messages; a frame must also stay under 64 KiB).
pub const MAX_MESSAGE_CHARS: usize = 10_000;

/// Whether `content` may be sent: something besides whitespace, and not
/// over [`MAX_MESSAGE_CHARS`].
pub fn sendable(content: &str) -> bool {
    !content.trim().is_empty() && content.chars().count() <= MAX_MESSAGE_CHARS
}

/// The characters of `content` when it is over the limit, for the notice.
pub fn over_limit(content: &str) -> Option<usize> {
    let n = content.chars().count();
    (n > MAX_MESSAGE_CHARS).then_some(n)
}

/// Up to two initials for an avatar without a picture: "Bruno Lima" → "BL"
/// (the console's rule, see `switchboard_browser::text`); `?` for a name
/// without any, so the avatar is never blank.
pub fn initials(name: &str) -> String {
    let out = switchboard_browser::text::initials(name);
    if out.is_empty() {
        "?".to_string()
    } else {
        out
    }
}

/// A basic e-mail check for the pre-chat form: one `@`, something before
/// it, a dot inside the domain, no spaces. The server has the last word.
pub fn valid_email(email: &str) -> bool {
    let email = email.trim();
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let dot = domain
        .find('.')
        .is_some_and(|i| i > 0 && i + 1 < domain.len());
    !local.is_empty()
        && dot
        && !domain.contains('@')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

/// A piece of message text: plain, or a web link to make clickable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Splits text into plain runs and `http(s)://` links. Trailing
/// punctuation stays outside the link ("see https://a.test." links
/// `https://a.test`).
pub fn linkify(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let starts_word = i == 0 || text[..i].ends_with(char::is_whitespace);
        let is_link = starts_word && (starts_ci(rest, "https://") || starts_ci(rest, "http://"));
        if !is_link {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let word_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let link =
            rest[..word_len].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '"', '\'']);
        if link.len() <= "https://".len() {
            i += word_len.max(1);
            continue;
        }
        if plain_from < i {
            out.push(Segment::Text(&text[plain_from..i]));
        }
        out.push(Segment::Link(link));
        i += link.len();
        plain_from = i;
    }
    if plain_from < text.len() {
        out.push(Segment::Text(&text[plain_from..]));
    }
    out
}

fn starts_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// A file size people read: "512 B", "12 KB", "1.5 MB", "24 MB" (units of
/// 1024, as file managers count; `comma` writes "1,5 MB" for pt-BR).
pub fn human_size(bytes: u64, comma: bool) -> String {
    const K: u64 = 1024;
    let tenths = |unit: u64| bytes.saturating_mul(10).saturating_add(unit / 2) / unit;
    let kb = bytes.saturating_add(K / 2) / K;
    let (value, unit) = if bytes < K {
        return format!("{bytes} B");
    } else if kb < K {
        return format!("{kb} KB");
    } else if tenths(K * K) < 10 * K {
        (tenths(K * K), "MB")
    } else {
        (tenths(K * K * K), "GB")
    };
    if value >= 100 || value % 10 == 0 {
        format!("{} {unit}", (value + 5) / 10)
    } else {
        let point = if comma { ',' } else { '.' };
        format!("{}{point}{} {unit}", value / 10, value % 10)
    }
}

/// Whether a URL from the server may go into `src` / `href`: this server's
/// own (`origin`, as `https://host[:port]`) or any web address; never a
/// `javascript:` or `data:` one, nor one with spaces or control characters.
pub fn safe_url(url: &str, origin: &str) -> bool {
    let own = !origin.is_empty()
        && starts_ci(url, origin)
        && matches!(url.as_bytes().get(origin.len()), None | Some(b'/'));
    let web = starts_ci(url, "https://") || starts_ci(url, "http://");
    (own || web) && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An echo id from a time and two random numbers: unique enough that two
/// messages of one visitor never share one (1 to 128 characters).
pub fn echo_id(now_ms: f64, r1: f64, r2: f64) -> String {
    let part = |x: f64| base36((x.clamp(0.0, 1.0) * 4_294_967_295.0) as u64);
    format!(
        "w{}{}{}",
        base36(now_ms.max(0.0) as u64),
        part(r1),
        part(r2)
    )
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_characters_not_bytes() {
        assert!(sendable("olá"));
        assert!(!sendable("  \n\t "));
        assert!(!sendable(""));
        let max = "é".repeat(MAX_MESSAGE_CHARS);
        assert!(sendable(&max), "10,000 two-byte characters are allowed");
        assert_eq!(over_limit(&max), None);
        let over = format!("{max}a");
        assert!(!sendable(&over));
        assert_eq!(over_limit(&over), Some(MAX_MESSAGE_CHARS + 1));
    }

    #[test]
    fn initials_take_first_and_last_word() {
        assert_eq!(initials("Bruno Lima"), "BL");
        assert_eq!(initials("ana maria souza"), "AS");
        assert_eq!(initials("Carla"), "C");
        assert_eq!(initials("   "), "?");
        assert_eq!(initials("élio"), "É");
    }

    #[test]
    fn emails_are_checked_loosely() {
        assert!(valid_email("joana@example.com"));
        assert!(valid_email(" joana+x@mail.example.co "));
        for bad in [
            "",
            "joana",
            "@example.com",
            "joana@",
            "joana@example",
            "jo ana@example.com",
            "joana@example.",
            "a@b@c.com",
            "joana@.com",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn links_are_found_at_word_starts() {
        use Segment::*;
        assert_eq!(
            linkify("see https://a.test/x?y=1. ok"),
            vec![Text("see "), Link("https://a.test/x?y=1"), Text(". ok")]
        );
        assert_eq!(linkify("HTTP://A.TEST"), vec![Link("HTTP://A.TEST")]);
        assert_eq!(linkify("nohttps://a.test"), vec![Text("nohttps://a.test")]);
        assert_eq!(
            linkify("just https:// here"),
            vec![Text("just https:// here")]
        );
        assert_eq!(
            linkify("ção (http://b.test)"),
            vec![Text("ção (http://b.test)")]
        );
        assert_eq!(linkify(""), Vec::<Segment>::new());
    }

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(human_size(0, false), "0 B");
        assert_eq!(human_size(1023, false), "1023 B");
        assert_eq!(human_size(1024, false), "1 KB");
        assert_eq!(human_size(12_300, false), "12 KB");
        assert_eq!(human_size(1_048_000, false), "1023 KB");
        assert_eq!(human_size(1_048_100, false), "1 MB", "1023.5 KB rounds up");
        assert_eq!(human_size(1_572_864, false), "1.5 MB");
        assert_eq!(human_size(1_572_864, true), "1,5 MB");
        assert_eq!(human_size(2 * 1024 * 1024, true), "2 MB");
        assert_eq!(human_size(25 * 1024 * 1024, false), "25 MB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024 / 2, false), "1.5 GB");
        assert!(human_size(u64::MAX, false).ends_with(" GB"));
    }

    #[test]
    fn only_web_and_own_urls_are_used() {
        let origin = "https://chat.example.com";
        assert!(safe_url("https://chat.example.com/files/k/a.png", origin));
        assert!(safe_url("http://cdn.test/x.mp3", origin));
        assert!(safe_url("HTTPS://cdn.test/x.mp3", ""));
        assert!(safe_url(
            "http://localhost:3000/files/k/a.pdf",
            "http://localhost:3000"
        ));
        for bad in [
            "javascript:alert(1)",
            "data:text/html,<b>x</b>",
            "/files/k/a.png",
            "",
            "https://a.test/x y",
            "https://a.test/\u{0}",
            "blob:https://a.test/1",
        ] {
            assert!(!safe_url(bad, origin), "{bad}");
        }
    }

    #[test]
    fn echo_ids_are_short_and_differ() {
        let a = echo_id(1_795_623_185_000.0, 0.1, 0.2);
        let b = echo_id(1_795_623_185_000.0, 0.1, 0.3);
        assert_ne!(a, b);
        assert!(a.len() <= 128 && a.starts_with('w'));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
    }
}
