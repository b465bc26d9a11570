//! Tokens and passwords.
//!
//! Access tokens are random and long, so a fast SHA-256 is enough to store
//! them: the database never holds a usable token. Passwords are short and
//! guessable, so they get argon2id, computed off the async runtime.

use std::cell::RefCell;
use std::sync::OnceLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{Output, ParamsString, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
/// Hashes that may wait for those threads; past it a request is answered
/// `503 busy` at once instead of queueing CPU work without end.
const HASHER_QUEUE: usize = 64;

/// The password hashing queue is full: try again shortly.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many passwords are being checked at once; try again shortly")]
pub struct Busy;

type Job = Box<dyn FnOnce() + Send>;

/// Password hashing runs on [`HASHER_THREADS`] threads of its own. Each
/// argon2 hash needs 19 MiB, and the allocator keeps freed memory per
/// thread: on tokio's blocking pool every thread that ever hashed would keep
/// its 19 MiB (hundreds of MiB after a burst of sign-ins); here two do.
fn hashers() -> Option<&'static std::sync::mpsc::SyncSender<Job>> {
    static HASHERS: OnceLock<Option<std::sync::mpsc::SyncSender<Job>>> = OnceLock::new();
    HASHERS
        .get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(HASHER_QUEUE);
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
/// blocking pool). [`Busy`] when [`HASHER_QUEUE`] jobs already wait; a job
/// whose caller went away meanwhile is skipped.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let Some(hashers) = hashers() else {
        return Ok(tokio::task::spawn_blocking(work).await?);
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        if !tx.is_closed() {
            let _ = tx.send(work());
        }
    });
    hashers.try_send(job).map_err(|e| match e {
        std::sync::mpsc::TrySendError::Full(_) => anyhow::Error::new(Busy),
        std::sync::mpsc::TrySendError::Disconnected(_) => {
            anyhow::anyhow!("the password hashing threads stopped")
        }
    })?;
    Ok(rx.await?)
}

thread_local! {
    /// This hashing thread's argon2 work memory (19 MiB with the default
    /// parameters), allocated on first use and reused for every hash after.
    /// Letting argon2 allocate it per hash left the allocator holding freed
    /// copies: five wrong passwords took the server from 19 to 99 MB.
    static WORK_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// argon2 of `password` and `salt` into `out`, in this thread's reused
/// memory.
fn argon2_into(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    WORK_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        let blocks = params.block_count();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
    })
}

/// Hashes a password with argon2id (OWASP's parameters, the crate default).
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        let params = Params::default();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut raw_salt = [0u8; 64];
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let fail = |e: &dyn std::fmt::Display| anyhow::anyhow!("cannot hash password: {e}");
        let salt_bytes = salt.decode_b64(&mut raw_salt).map_err(|e| fail(&e))?;
        argon2_into(&argon, &params, password.as_bytes(), salt_bytes, &mut out)
            .map_err(|e| fail(&e))?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| fail(&e))?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
        };
        Ok(hash.to_string())
    })
    .await?
}

/// Checks a password against a stored hash. Without a hash (unknown e-mail,
/// or a user who never set a password) it still spends the same time on a
/// dummy hash, so response times do not tell which e-mails exist.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, Busy> {
    let checked = hashing(move || {
        let stored = hash.as_deref().unwrap_or_else(|| dummy_hash());
        matches(password.as_bytes(), stored) && hash.is_some()
    })
    .await;
    match checked {
        Ok(ok) => Ok(ok),
        Err(e) if e.is::<Busy>() => Err(Busy),
        Err(_) => Ok(false),
    }
}

/// Whether `password` hashes to the stored PHC string (compared in constant
/// time), with the parameters the string names.
fn matches(password: &[u8], stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut raw_salt = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut raw_salt) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    argon2_into(&argon, &params, password, salt, &mut out).is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == expected)
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
    async fn hashes_are_standard_phc_strings() {
        use argon2::password_hash::PasswordVerifier;
        let ours = hash_password("correct horse".into()).await.expect("hash");
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"battery staple", &salt)
            .expect("hash")
            .to_string();
        assert_eq!(
            verify_password("battery staple".into(), Some(theirs.clone())).await,
            Ok(true)
        );
        assert_eq!(
            verify_password("battery".into(), Some(theirs)).await,
            Ok(false)
        );
        assert_eq!(
            verify_password("x".into(), Some("not a hash".into())).await,
            Ok(false)
        );
    }

    #[tokio::test]
    async fn password_round_trip() {
        let hash = hash_password("correct horse".into()).await.expect("hash");
        assert_eq!(
            verify_password("correct horse".into(), Some(hash.clone())).await,
            Ok(true)
        );
        assert_eq!(verify_password("wrong".into(), Some(hash)).await, Ok(false));
        assert_eq!(verify_password("anything".into(), None).await, Ok(false));
    }
}
