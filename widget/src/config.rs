//! What the frame learns from its own URL, and small pure helpers derived
//! from it (socket URL, storage key, theme colour).
//!
//! The loader opens `/widget/frame?website_token=…&locale=…&origin=…`. The
//! parsing is plain Rust so it can be unit tested on the host.

/// The frame's settings from its query string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    pub website_token: String,
    /// The locale the host page asked for, if any.
    pub locale: Option<String>,
    /// The host page's origin: the only target our postMessages go to and
    /// the only sender we accept messages from. `None` when absent or not a
    /// plausible `scheme://host[:port]`.
    pub origin: Option<String>,
}

impl Config {
    /// Parses `?a=b&c=d` (with or without the leading `?`).
    pub fn from_query(query: &str) -> Config {
        let mut config = Config::default();
        for pair in query.trim_start_matches('?').split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value);
            match decode(key).as_str() {
                "website_token" => config.website_token = value.trim().to_string(),
                "locale" if !value.trim().is_empty() => {
                    config.locale = Some(value.trim().to_string())
                }
                "origin" => config.origin = valid_origin(&value),
                _ => {}
            }
        }
        config
    }
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space and
/// `%XX` a byte; malformed escapes are kept as they are, never an error.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query value: everything but `A-Z a-z 0-9 - _ . ~`.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `scheme://host[:port]` with an http(s) scheme and nothing after the host;
/// anything else is refused, so we never post to a made-up target.
pub fn valid_origin(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('/');
    let (scheme, host) = s.split_once("://")?;
    let ok_scheme = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    let ok_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    (ok_scheme && ok_host).then(|| s.to_string())
}

/// The widget's socket: same host as the frame, `wss:` under `https:`.
pub fn socket_url(page_protocol: &str, host: &str) -> String {
    switchboard_browser::socket::ws_url(page_protocol, host, "/ws/widget")
}

/// Where the visitor token of one inbox is kept.
pub fn storage_key(website_token: &str) -> String {
    format!("switchboard:visitor:{website_token}")
}

/// The header colour when the inbox has none (or an unusable one).
pub const DEFAULT_COLOR: &str = "#1f93ff";

/// The inbox colour if it is `#rgb` or `#rrggbb`, else the default: the
/// value goes into CSS, so nothing else is let through.
pub fn theme_color(color: Option<&str>) -> String {
    match color.map(str::trim) {
        Some(c) if parse_hex(c).is_some() => c.to_ascii_lowercase(),
        _ => DEFAULT_COLOR.to_string(),
    }
}

/// Text colour that reads best on `color`: of white and near-black, the one
/// with the higher WCAG contrast ratio (the threshold is where both meet).
pub fn text_on(color: &str) -> &'static str {
    let Some([r, g, b]) = parse_hex(color) else {
        return "#ffffff";
    };
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    if l > 0.179 {
        "#1b1f24"
    } else {
        "#ffffff"
    }
}

fn parse_hex(c: &str) -> Option<[u8; 3]> {
    let digits = c.strip_prefix('#')?.as_bytes();
    let d = |i: usize| digits.get(i).copied().and_then(hex);
    match digits.len() {
        3 => Some([d(0)? * 17, d(1)? * 17, d(2)? * 17]),
        6 => Some([d(0)? * 16 + d(1)?, d(2)? * 16 + d(3)?, d(4)? * 16 + d(5)?]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_decoded() {
        let c = Config::from_query(
            "?website_token=ab%2Bc&locale=pt-BR&origin=https%3A%2F%2Fshop.example.com&x=1",
        );
        assert_eq!(c.website_token, "ab+c");
        assert_eq!(c.locale.as_deref(), Some("pt-BR"));
        assert_eq!(c.origin.as_deref(), Some("https://shop.example.com"));
    }

    #[test]
    fn missing_or_bad_values_are_none() {
        let c = Config::from_query("website_token=&locale=&origin=javascript%3Aalert(1)");
        assert_eq!(c, Config::default());
        assert_eq!(Config::from_query(""), Config::default());
        assert_eq!(valid_origin("https://a.test/path"), None);
        assert_eq!(valid_origin("ftp://a.test"), None);
        assert_eq!(
            valid_origin("http://localhost:8080/").as_deref(),
            Some("http://localhost:8080")
        );
    }

    #[test]
    fn malformed_escapes_survive() {
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz+%41"), "%zz A");
        assert_eq!(decode("%C3%A9"), "é");
        assert_eq!(decode("%4"), "%4");
    }

    #[test]
    fn query_values_are_encoded_and_round_trip() {
        assert_eq!(encode("s3Rk-_.~9"), "s3Rk-_.~9");
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(decode(&encode("x+y %z")), "x+y %z");
    }

    #[test]
    fn socket_follows_page_protocol() {
        assert_eq!(socket_url("https:", "hub.test"), "wss://hub.test/ws/widget");
        assert_eq!(
            socket_url("http:", "127.0.0.1:3000"),
            "ws://127.0.0.1:3000/ws/widget"
        );
    }

    #[test]
    fn colours_are_validated_and_contrasted() {
        assert_eq!(theme_color(Some("#ABC")), "#abc");
        assert_eq!(theme_color(Some("red; background:url(x)")), DEFAULT_COLOR);
        assert_eq!(theme_color(None), DEFAULT_COLOR);
        // White on the default blue is only 3.2:1; near-black is 5.5:1.
        assert_eq!(text_on("#1f93ff"), "#1b1f24");
        assert_eq!(text_on("#0b4f8a"), "#ffffff");
        assert_eq!(text_on("#ffeb3b"), "#1b1f24");
        assert_eq!(text_on("#000"), "#ffffff");
        assert_eq!(storage_key("t1"), "switchboard:visitor:t1");
    }
}
