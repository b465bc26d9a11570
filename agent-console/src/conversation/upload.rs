//! Files an agent attaches to a reply: the limits the server enforces,
//! checked before anything is sent, and how files are described. Pure.

/// The server's limits (see the server's `files` module).
pub const MAX_FILE_BYTES: f64 = 25.0 * 1024.0 * 1024.0;
pub const MAX_FILES: usize = 10;

/// Why a choice of files is refused before sending.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    TooMany,
    /// The first file over the limit.
    TooLarge(String),
    Empty(String),
}

/// Checks the chosen files, given as (name, size in bytes).
pub fn check(files: &[(String, f64)]) -> Result<(), Refusal> {
    if files.len() > MAX_FILES {
        return Err(Refusal::TooMany);
    }
    if let Some((name, _)) = files.iter().find(|(_, size)| *size > MAX_FILE_BYTES) {
        return Err(Refusal::TooLarge(name.clone()));
    }
    if let Some((name, _)) = files.iter().find(|(_, size)| *size <= 0.0) {
        return Err(Refusal::Empty(name.clone()));
    }
    Ok(())
}

/// What a pending reply with files shows until the server answers.
pub fn pending_text(text: &str, names: &[String]) -> String {
    let files = format!("📎 {}", names.join(", "));
    if text.trim().is_empty() {
        files
    } else {
        format!("{text}\n{files}")
    }
}

/// `12 KB`, `3.4 MB`: a file size for people.
pub fn size(bytes: f64) -> String {
    if bytes < 1024.0 {
        format!("{} B", bytes.max(0.0) as u64)
    } else if bytes < 1024.0 * 1024.0 {
        format!("{} KB", (bytes / 1024.0).round() as u64)
    } else {
        format!("{:.1} MB", bytes / (1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(sizes: &[f64]) -> Vec<(String, f64)> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("f{i}"), *s))
            .collect()
    }

    #[test]
    fn limits_match_the_server() {
        assert_eq!(check(&files(&[1.0, 2.0])), Ok(()));
        assert_eq!(check(&files(&[1.0; 11])), Err(Refusal::TooMany));
        assert_eq!(
            check(&files(&[1.0, MAX_FILE_BYTES + 1.0])),
            Err(Refusal::TooLarge("f1".into()))
        );
        assert_eq!(check(&files(&[0.0])), Err(Refusal::Empty("f0".into())));
        assert_eq!(check(&files(&[MAX_FILE_BYTES])), Ok(()));
    }

    #[test]
    fn descriptions() {
        assert_eq!(pending_text("", &["a.pdf".into()]), "📎 a.pdf");
        assert_eq!(
            pending_text("oi", &["a.pdf".into(), "b.png".into()]),
            "oi\n📎 a.pdf, b.png"
        );
        assert_eq!(size(512.0), "512 B");
        assert_eq!(size(12.0 * 1024.0), "12 KB");
        assert_eq!(size(3.4 * 1024.0 * 1024.0), "3.4 MB");
    }
}
