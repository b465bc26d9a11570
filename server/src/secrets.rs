//! Tokens and passwords.
//!
//! Access tokens are random and long, so a fast SHA-256 is enough to store
//! them: the database never holds a usable token. Passwords are short and
//! guessable, so they get argon2id, computed off the async runtime.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A random string of `len` letters and digits from the OS generator
/// (~5.95 bits each, without modulo bias).
pub fn random_token(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        OsRng.fill_bytes(&mut buf);
        for &b in &buf {
            // 248 = 4 * 62: bytes above it would favour the first letters.
            if b < 248 && out.len() < len {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    out
}

/// A new access token: 32 characters, ~190 bits.
pub fn new_access_token() -> String {
    random_token(32)
}

/// How an access token is stored and looked up.
pub fn token_sha256(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[(byte >> 4) as usize]));
        hex.push(char::from(b"0123456789abcdef"[(byte & 15) as usize]));
    }
    hex
}

/// Threads that hash passwords.
const HASHER_THREADS: usize = 2;

type Job = Box<dyn FnOnce() + Send>;

/// Password hashing runs on [`HASHER_THREADS`] threads of its own. Each
/// argon2 hash needs 19 MiB, and the allocator keeps freed memory per
/// thread: on tokio's blocking pool every thread that ever hashed would keep
/// its 19 MiB (hundreds of MiB after a burst of sign-ins); here two do.
fn hashers() -> Option<&'static std::sync::mpsc::Sender<Job>> {
    static HASHERS: OnceLock<Option<std::sync::mpsc::Sender<Job>>> = OnceLock::new();
    HASHERS
        .get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel::<Job>();
            let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
            let mut started = 0;
            for i in 0..HASHER_THREADS {
                let rx = rx.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("argon2-{i}"))
                    .spawn(move || loop {
                        let job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    });
                match spawned {
                    Ok(_) => started += 1,
                    Err(err) => tracing::warn!(%err, "a password hashing thread did not start"),
                }
            }
            (started > 0).then_some(tx)
        })
        .as_ref()
}

/// Runs `work` on a hashing thread (or, if none could start, on tokio's
/// blocking pool).
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let Some(hashers) = hashers() else {
        return Ok(tokio::task::spawn_blocking(work).await?);
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    hashers
        .send(Box::new(move || {
            let _ = tx.send(work());
        }))
        .map_err(|_| anyhow::anyhow!("the password hashing threads stopped"))?;
    Ok(rx.await?)
}

/// Hashes a password with argon2id (OWASP's parameters, the crate default).
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))
    })
    .await?
}

/// Checks a password against a stored hash. Without a hash (unknown e-mail,
/// or a user who never set a password) it still spends the same time on a
/// dummy hash, so response times do not tell which e-mails exist.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    hashing(move || {
        let stored = hash.as_deref().unwrap_or_else(|| dummy_hash());
        let ok = PasswordHash::new(stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && hash.is_some()
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"switchboard-timing-equaliser", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_alphanumeric_and_distinct() {
        let a = random_token(32);
        let b = random_token(32);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn sha256_is_hex_of_the_digest() {
        assert_eq!(
            token_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[tokio::test]
    async fn password_round_trip() {
        let hash = hash_password("correct horse".into()).await.expect("hash");
        assert!(verify_password("correct horse".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong".into(), Some(hash)).await);
        assert!(!verify_password("anything".into(), None).await);
    }
}
