//! Text rules both apps show the same way. Pure, so they are tested on the
//! host.

/// Up to two initials for an avatar without a picture, the first letters
/// of the first and the last word: "Bruno Lima" → "BL", "ana maria souza"
/// → "AS". Empty for a name without words: each app shows its own
/// placeholder then.
pub fn initials(name: &str) -> String {
    let mut words = name.split_whitespace().filter_map(|w| w.chars().next());
    let mut out = String::new();
    if let Some(first) = words.next() {
        out.extend(first.to_uppercase());
    }
    if let Some(last) = words.next_back() {
        out.extend(last.to_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_first_and_last_word() {
        assert_eq!(initials("Bruno Lima"), "BL");
        assert_eq!(initials("ana maria souza"), "AS");
        assert_eq!(initials("Carla"), "C");
        assert_eq!(initials("élio"), "É");
        assert_eq!(initials("   "), "");
        assert_eq!(initials("ß x"), "SSX", "uppercase may be longer");
    }
}
