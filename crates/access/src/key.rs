//! API keys: `tiq_<id>_<secret>`. The id is public and names the key in logs and the audit
//! log; the secret is 40 random base62 characters (about 238 bits). Only the SHA-256 of the
//! whole key is stored, and presented keys are compared with it in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::scope::ScopeSet;

/// Prefix of every key, so secret scanners can recognise a leaked one.
pub const PREFIX: &str = "tiq_";
const ID_LEN: usize = 10;
const SECRET_LEN: usize = 40;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ID_ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// A key as stored: everything but the secret.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    pub id: String,
    pub name: String,
    pub scopes: ScopeSet,
    /// Requests per minute, enforced by a token bucket with a capacity of one minute's worth.
    pub rate_per_minute: Option<u32>,
    /// Requests per UTC day.
    pub daily_quota: Option<u32>,
    pub created: OffsetDateTime,
    pub expires: Option<OffsetDateTime>,
    pub revoked: Option<OffsetDateTime>,
    /// When the secret was last replaced.
    pub rotated: Option<OffsetDateTime>,
    pub(crate) hash: [u8; 32],
}

impl KeyRecord {
    /// Returns whether `presented` is this key, comparing SHA-256 hashes in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        bool::from(digest(presented).ct_eq(&self.hash))
    }

    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires.is_some_and(|expires| expires <= now)
    }
}

/// Makes a new key: its id and the whole secret text.
pub(crate) fn generate() -> Result<(String, String), getrandom::Error> {
    let id = random_text(ID_ALPHABET, ID_LEN)?;
    let secret = random_text(ALPHABET, SECRET_LEN)?;
    let key = format!("{PREFIX}{id}_{secret}");
    Ok((id, key))
}

/// Makes a new secret for an existing id.
pub(crate) fn regenerate(id: &str) -> Result<String, getrandom::Error> {
    let secret = random_text(ALPHABET, SECRET_LEN)?;
    Ok(format!("{PREFIX}{id}_{secret}"))
}

/// Returns the id of a text shaped like a key, without judging the secret.
pub fn id_of(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let shaped = id.len() == ID_LEN
        && id.bytes().all(|b| ID_ALPHABET.contains(&b))
        && secret.len() == SECRET_LEN
        && secret.bytes().all(|b| ALPHABET.contains(&b));
    shaped.then_some(id)
}

pub(crate) fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// Draws `len` characters uniformly from `alphabet`, rejecting the bytes that would bias it.
fn random_text(alphabet: &[u8], len: usize) -> Result<String, getrandom::Error> {
    let limit = 256 - 256 % alphabet.len();
    let mut text = String::with_capacity(len);
    let mut buffer = [0u8; 64];
    while text.len() < len {
        getrandom::fill(&mut buffer)?;
        for byte in buffer {
            if (byte as usize) < limit && text.len() < len {
                text.push(alphabet[byte as usize % alphabet.len()] as char);
            }
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_prefix_and_their_id() {
        let (id, key) = generate().unwrap();
        assert!(key.starts_with("tiq_"), "{key}");
        assert_eq!(id_of(&key), Some(id.as_str()));
        assert_eq!(key.len(), PREFIX.len() + ID_LEN + 1 + SECRET_LEN);
        let (_, other) = generate().unwrap();
        assert_ne!(key, other);
        let again = regenerate(&id).unwrap();
        assert_eq!(id_of(&again), Some(id.as_str()));
        assert_ne!(again, key);
    }

    #[test]
    fn malformed_keys_have_no_id() {
        let (_, key) = generate().unwrap();
        assert_eq!(id_of(&key[..key.len() - 1]), None);
        assert_eq!(id_of(&key.replace("tiq_", "tik_")), None);
        assert_eq!(id_of("tiq_short_secret"), None);
        assert_eq!(id_of(""), None);
        let mut bad = key.clone();
        bad.push('!');
        assert_eq!(id_of(&bad), None);
    }

    #[test]
    fn only_the_exact_secret_matches() {
        let (id, key) = generate().unwrap();
        let record = KeyRecord {
            id,
            name: "soc".into(),
            scopes: ScopeSet::lookups(),
            rate_per_minute: None,
            daily_quota: None,
            created: OffsetDateTime::UNIX_EPOCH,
            expires: None,
            revoked: None,
            rotated: None,
            hash: digest(&key),
        };
        assert!(record.matches(&key));
        let mut flipped = key.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'a' { b'b' } else { b'a' };
        assert!(!record.matches(&String::from_utf8(flipped).unwrap()));
    }
}
