//! Temporary credentials: an `ASIA…` access key, a secret, and a session
//! token that is the authenticated encryption (AES-256-GCM) of the
//! session's claims — who it is, its session policies, tags, MFA and
//! expiry — bound to the access key id.
//!
//! Any node that shares the token keys verifies a token without reading the
//! database: the secret that signs the session's requests is inside it.
//! Token keys live in the store, sealed under the master key, one
//! generation per rotation; a token names the generation it was sealed
//! with, so rotating keys does not invalidate live sessions. What a session
//! may do is still decided on every call from the current state of its role
//! (or user), so deleting the role or changing its policies takes effect on
//! the session's next call.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::RwLock;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use portcullis_store::Store;
use portcullis_store::model::{Ciphertext, NewSigningKey};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::{Zeroize as _, Zeroizing};

use crate::secrets::{MasterKey, SecretsError, random_bytes};

mod binary;

/// The store purpose under which token keys are kept.
pub const TOKEN_KEY_PURPOSE: &str = "sts-session-token";

/// A token key signs new tokens for this long before a new one is made.
pub const KEY_ROTATION_AGE: time::Duration = time::Duration::hours(24);

/// The first byte of every token: its format. Format 1 carried the claims
/// as JSON; tokens of it are still opened (until they expire), new ones are
/// format 2, the claims in [`binary`] form.
const TOKEN_FORMAT_V1: u8 = 1;
const TOKEN_FORMAT_V2: u8 = 2;
/// Base64 characters of a token's format byte and generation (9 bytes).
const HEADER_BASE64_LEN: usize = 12;
/// Bytes before the ciphertext: format, generation, nonce.
const HEADER_LEN: usize = 1 + 8 + NONCE_LEN;

/// Who a session is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionPrincipal {
    /// AssumeRole*: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    Role {
        role_id: String,
        role_name: String,
        role_path: String,
        session_name: String,
    },
    /// GetSessionToken by an IAM user: the user itself, with MFA facts.
    User {
        user_id: String,
        user_name: String,
        user_path: String,
    },
    /// GetSessionToken by the root user.
    Root,
    /// GetFederationToken: `arn:aws:sts::ACCOUNT:federated-user/NAME`,
    /// bounded by the user who asked and the session policies.
    FederatedUser {
        name: String,
        parent_user_id: String,
        parent_user_name: String,
    },
}

/// Session policies passed to AssumeRole or GetFederationToken.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionPolicies {
    /// The inline `Policy` document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<String>,
    /// `PolicyArns`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arns: Vec<String>,
}

/// Everything a token carries.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The `ASIA…` key id the token belongs to (also the AEAD's associated
    /// data, so a token cannot be moved to another key id).
    pub access_key_id: String,
    /// The session's secret access key.
    pub secret: String,
    pub account: String,
    pub principal: SessionPrincipal,
    /// Unix seconds.
    pub issued: i64,
    /// Unix seconds.
    pub expires: i64,
    /// Present when the session was given session policies (then they
    /// bound it, even when empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_policies: Option<SessionPolicies>,
    /// Session tags (`aws:PrincipalTag/*`), key → value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// Keys of `tags` that pass on when this session assumes another role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitive_tag_keys: Vec<String>,
    /// When MFA was last proven for this session (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// Made by a role session assuming a role (role chaining).
    #[serde(default)]
    pub chained: bool,
    /// Extra context keys the issuer vouches for (e.g. `ec2:SourceInstanceArn`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<(String, String)>,
}

impl fmt::Debug for SessionClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionClaims")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"<redacted>")
            .field("account", &self.account)
            .field("principal", &self.principal)
            .field("issued", &self.issued)
            .field("expires", &self.expires)
            .field("session_policies", &self.session_policies.is_some())
            .field("chained", &self.chained)
            .finish_non_exhaustive()
    }
}

impl Drop for SessionClaims {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

impl SessionClaims {
    /// The ARN that `GetCallerIdentity` reports and policies see.
    pub fn arn(&self) -> String {
        match &self.principal {
            SessionPrincipal::Role {
                role_name,
                session_name,
                ..
            } => format!(
                "arn:aws:sts::{}:assumed-role/{role_name}/{session_name}",
                self.account
            ),
            SessionPrincipal::User {
                user_name,
                user_path,
                ..
            } => portcullis_store::arn::user_arn(&self.account, user_path, user_name),
            SessionPrincipal::Root => portcullis_store::arn::root_arn(&self.account),
            SessionPrincipal::FederatedUser { name, .. } => {
                format!("arn:aws:sts::{}:federated-user/{name}", self.account)
            }
        }
    }

    /// `aws:userid`.
    pub fn user_id(&self) -> String {
        match &self.principal {
            SessionPrincipal::Role {
                role_id,
                session_name,
                ..
            } => format!("{role_id}:{session_name}"),
            SessionPrincipal::User { user_id, .. } => user_id.clone(),
            SessionPrincipal::Root => self.account.clone(),
            SessionPrincipal::FederatedUser { name, .. } => format!("{}:{name}", self.account),
        }
    }

    pub fn expires_at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.expires).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not a token this service made, or altered, or sealed with a key it
    /// no longer has.
    #[error("The security token included in the request is invalid.")]
    Invalid,
    #[error("The security token included in the request is expired")]
    Expired,
    #[error(transparent)]
    Keys(#[from] SecretsError),
    #[error("{0}")]
    Store(#[from] portcullis_store::StoreError),
}

struct TokenKey {
    key: LessSafeKey,
    created: OffsetDateTime,
}

/// The token keys of this deployment, by generation.
pub struct TokenKeys {
    keys: RwLock<BTreeMap<u64, TokenKey>>,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let generations: Vec<u64> = self
            .keys
            .read()
            .map(|k| k.keys().copied().collect())
            .unwrap_or_default();
        f.debug_struct("TokenKeys")
            .field("generations", &generations)
            .finish()
    }
}

pub(crate) fn key_context(generation: u64) -> String {
    format!("{TOKEN_KEY_PURPOSE}:{generation}")
}

impl TokenKeys {
    /// Loads the keys from the store, making the first one if there is none
    /// and a new one if the newest is older than [`KEY_ROTATION_AGE`].
    pub async fn load(
        store: &dyn Store,
        master: &MasterKey,
        now: OffsetDateTime,
    ) -> Result<Self, TokenError> {
        let keys = TokenKeys {
            keys: RwLock::new(BTreeMap::new()),
        };
        keys.reload(store, master).await?;
        if keys
            .current_age(now)
            .is_none_or(|age| age >= KEY_ROTATION_AGE)
        {
            keys.rotate(store, master, now).await?;
        }
        Ok(keys)
    }

    /// Re-reads every unretired generation (another node may have rotated).
    pub async fn reload(&self, store: &dyn Store, master: &MasterKey) -> Result<(), TokenError> {
        let stored = store.list_signing_keys(TOKEN_KEY_PURPOSE).await?;
        let mut loaded = BTreeMap::new();
        for k in stored.into_iter().filter(|k| k.retire_date.is_none()) {
            let material = master.open(&key_context(k.generation), k.material.as_bytes())?;
            let unbound =
                UnboundKey::new(&AES_256_GCM, &material).map_err(|_| TokenError::Invalid)?;
            loaded.insert(
                k.generation,
                TokenKey {
                    key: LessSafeKey::new(unbound),
                    created: k.create_date,
                },
            );
        }
        if let Ok(mut keys) = self.keys.write() {
            *keys = loaded;
        }
        Ok(())
    }

    /// Adds a new generation, which seals every token from now on.
    pub async fn rotate(
        &self,
        store: &dyn Store,
        master: &MasterKey,
        now: OffsetDateTime,
    ) -> Result<u64, TokenError> {
        let material = Zeroizing::new(random_bytes::<32>()?);
        // The generation is assigned by the store, so seal after learning
        // it: add a placeholder-free record by sealing under the next
        // expected generation and re-adding if another node raced us.
        let expected = store
            .list_signing_keys(TOKEN_KEY_PURPOSE)
            .await?
            .first()
            .map_or(1, |k| k.generation + 1);
        let sealed = master.seal(&key_context(expected), material.as_ref())?;
        let added = store
            .add_signing_key(
                &NewSigningKey {
                    purpose: TOKEN_KEY_PURPOSE.to_owned(),
                    key_id: format!("gen-{expected}"),
                    algorithm: "AES-256-GCM".to_owned(),
                    material: Ciphertext::new(sealed),
                },
                now,
            )
            .await?;
        if added.generation != expected {
            // Another node rotated at the same moment: this record's seal is
            // bound to the wrong generation and will never open. Retire it
            // and use whatever the store now holds.
            store
                .retire_signing_key(TOKEN_KEY_PURPOSE, added.generation, now)
                .await?;
        }
        self.reload(store, master).await?;
        Ok(self.current_generation().unwrap_or(expected))
    }

    fn current_generation(&self) -> Option<u64> {
        self.keys.read().ok()?.keys().next_back().copied()
    }

    fn current_age(&self, now: OffsetDateTime) -> Option<time::Duration> {
        let keys = self.keys.read().ok()?;
        keys.values().next_back().map(|k| now - k.created)
    }

    /// Whether the newest key is due for rotation.
    pub fn needs_rotation(&self, now: OffsetDateTime) -> bool {
        self.current_age(now)
            .is_none_or(|age| age >= KEY_ROTATION_AGE)
    }

    pub fn has_generation(&self, generation: u64) -> bool {
        self.keys.read().is_ok_and(|k| k.contains_key(&generation))
    }

    /// Seals `claims` into a token with the newest key.
    pub fn seal(&self, claims: &SessionClaims) -> Result<String, TokenError> {
        let keys = self.keys.read().map_err(|_| TokenError::Invalid)?;
        let (generation, key) = keys.iter().next_back().ok_or(TokenError::Invalid)?;
        let nonce = random_bytes::<NONCE_LEN>()?;
        let mut body = Zeroizing::new(binary::encode(claims)?);
        let mut sealed = body.to_vec();
        body.fill(0);
        key.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(claims.access_key_id.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| TokenError::Invalid)?;
        let mut token = Vec::with_capacity(1 + 8 + NONCE_LEN + sealed.len());
        token.push(TOKEN_FORMAT_V2);
        token.extend_from_slice(&generation.to_be_bytes());
        token.extend_from_slice(&nonce);
        token.extend_from_slice(&sealed);
        Ok(base64::engine::general_purpose::STANDARD.encode(token))
    }

    /// The generation a token was sealed with, if it is a token at all.
    pub fn generation_of(token: &str) -> Option<u64> {
        // The format byte and the generation are the first 9 bytes: the first
        // 12 base64 characters, decoded without touching the rest.
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(token.get(..HEADER_BASE64_LEN)?)
            .ok()?;
        let (&(TOKEN_FORMAT_V1 | TOKEN_FORMAT_V2), rest) = bytes.split_first()? else {
            return None;
        };
        let generation: [u8; 8] = rest.get(..8)?.try_into().ok()?;
        Some(u64::from_be_bytes(generation))
    }

    /// Opens a token presented with `access_key_id`, checking its expiry
    /// against `now`.
    pub fn open(
        &self,
        access_key_id: &str,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<SessionClaims, TokenError> {
        // Decoded straight into the buffer the AEAD opens in place (one
        // allocation), wiped when dropped.
        let size = data_encoding::BASE64
            .decode_len(token.len())
            .map_err(|_| TokenError::Invalid)?;
        let mut bytes = Wipe {
            upto: size,
            buf: vec![0u8; size],
        };
        let len = data_encoding::BASE64
            .decode_mut(token.as_bytes(), &mut bytes.buf)
            .map_err(|_| TokenError::Invalid)?;
        bytes.buf.truncate(len);
        let Some((&mut format @ (TOKEN_FORMAT_V1 | TOKEN_FORMAT_V2), rest)) =
            bytes.buf.split_first_mut()
        else {
            return Err(TokenError::Invalid);
        };
        let (generation, rest) = rest.split_at_mut_checked(8).ok_or(TokenError::Invalid)?;
        let generation =
            u64::from_be_bytes((&*generation).try_into().map_err(|_| TokenError::Invalid)?);
        let (nonce, sealed) = rest
            .split_at_mut_checked(NONCE_LEN)
            .ok_or(TokenError::Invalid)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| TokenError::Invalid)?;
        let keys = self.keys.read().map_err(|_| TokenError::Invalid)?;
        let key = keys.get(&generation).ok_or(TokenError::Invalid)?;
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(access_key_id.as_bytes()), sealed)
            .map_err(|_| TokenError::Invalid)?;
        let claims: SessionClaims = if format == TOKEN_FORMAT_V2 {
            let claims = binary::decode(plain)?;
            // Only the secret is confidential (the rest is what the session
            // is, which its holder can read anyway): wiping up to its end
            // is enough, and much cheaper than the whole buffer.
            if let Some(end) = binary::secret_end(plain) {
                bytes.upto = HEADER_LEN + end;
            }
            claims
        } else {
            serde_json::from_slice(plain).map_err(|_| TokenError::Invalid)?
        };
        if claims.access_key_id != access_key_id {
            return Err(TokenError::Invalid);
        }
        if now.unix_timestamp() >= claims.expires {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// A decoding buffer whose first `upto` bytes are zeroed on drop: all of it
/// until the claims are known to be the binary form, then only the part up
/// to the end of the secret.
struct Wipe {
    buf: Vec<u8>,
    upto: usize,
}

impl Drop for Wipe {
    fn drop(&mut self) {
        let upto = self.upto.min(self.buf.len());
        if let Some(part) = self.buf.get_mut(..upto) {
            part.zeroize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(generations: &[u64]) -> TokenKeys {
        let mut map = BTreeMap::new();
        for &g in generations {
            let unbound = UnboundKey::new(&AES_256_GCM, &[g as u8; 32]).unwrap();
            map.insert(
                g,
                TokenKey {
                    key: LessSafeKey::new(unbound),
                    created: OffsetDateTime::UNIX_EPOCH,
                },
            );
        }
        TokenKeys {
            keys: RwLock::new(map),
        }
    }

    fn claims(expires: i64) -> SessionClaims {
        SessionClaims {
            access_key_id: "ASIAEXAMPLEEXAMPLE00".into(),
            secret: "s3cr3t".into(),
            account: "123456789012".into(),
            principal: SessionPrincipal::Role {
                role_id: "AROAEXAMPLE".into(),
                role_name: "app".into(),
                role_path: "/".into(),
                session_name: "s1".into(),
            },
            issued: 0,
            expires,
            session_policies: None,
            tags: vec![("team".into(), "blue".into())],
            transitive_tag_keys: vec![],
            mfa_auth_time: None,
            source_identity: None,
            chained: false,
            context: vec![],
        }
    }

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    #[test]
    fn tokens_of_the_json_format_still_open() {
        // Sessions issued before the binary claims format keep working until
        // they expire.
        let k = keys(&[3]);
        let c = claims(100);
        let mut sealed = serde_json::to_vec(&c).unwrap();
        let nonce = [7u8; NONCE_LEN];
        k.keys.read().unwrap()[&3]
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(c.access_key_id.as_bytes()),
                &mut sealed,
            )
            .unwrap();
        let mut token = vec![TOKEN_FORMAT_V1];
        token.extend_from_slice(&3u64.to_be_bytes());
        token.extend_from_slice(&nonce);
        token.extend_from_slice(&sealed);
        let token = base64::engine::general_purpose::STANDARD.encode(token);
        assert_eq!(TokenKeys::generation_of(&token), Some(3));
        assert!(k.open("ASIAEXAMPLEEXAMPLE00", &token, at(99)).unwrap() == c);
        // And new tokens are the binary format.
        let new = k.seal(&c).unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(new)
            .unwrap();
        assert_eq!(raw[0], TOKEN_FORMAT_V2);
    }

    #[test]
    fn a_token_opens_with_its_key_id_until_it_expires() {
        let k = keys(&[1]);
        let token = k.seal(&claims(100)).unwrap();
        assert!(!token.contains("s3cr3t"));
        let opened = k.open("ASIAEXAMPLEEXAMPLE00", &token, at(99)).unwrap();
        assert_eq!(
            opened.arn(),
            "arn:aws:sts::123456789012:assumed-role/app/s1"
        );
        assert_eq!(opened.user_id(), "AROAEXAMPLE:s1");
        assert!(matches!(
            k.open("ASIAEXAMPLEEXAMPLE00", &token, at(100)),
            Err(TokenError::Expired)
        ));
    }

    #[test]
    fn a_token_does_not_move_to_another_key_id() {
        let k = keys(&[1]);
        let token = k.seal(&claims(100)).unwrap();
        assert!(matches!(
            k.open("ASIAOTHEROTHEROTHER0", &token, at(0)),
            Err(TokenError::Invalid)
        ));
    }

    #[test]
    fn any_flipped_bit_is_refused() {
        let k = keys(&[1]);
        let token = k.seal(&claims(100)).unwrap();
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&token)
            .unwrap();
        for i in [0, 5, 12, 30, bytes.len() - 1] {
            bytes[i] ^= 0x01;
            let tampered = base64::engine::general_purpose::STANDARD.encode(&bytes);
            assert!(
                k.open("ASIAEXAMPLEEXAMPLE00", &tampered, at(0)).is_err(),
                "byte {i}"
            );
            bytes[i] ^= 0x01;
        }
        assert!(
            k.open("ASIAEXAMPLEEXAMPLE00", "not base64!", at(0))
                .is_err()
        );
        assert!(k.open("ASIAEXAMPLEEXAMPLE00", "", at(0)).is_err());
    }

    #[test]
    fn rotation_keeps_older_tokens_valid_and_seals_with_the_newest() {
        let old = keys(&[1]);
        let token = old.seal(&claims(100)).unwrap();
        let rotated = keys(&[1, 2]);
        assert!(rotated.open("ASIAEXAMPLEEXAMPLE00", &token, at(0)).is_ok());
        let fresh = rotated.seal(&claims(100)).unwrap();
        assert_eq!(TokenKeys::generation_of(&fresh), Some(2));
        // A node that retired generation 1 refuses its tokens.
        let retired = keys(&[2]);
        assert!(retired.open("ASIAEXAMPLEEXAMPLE00", &token, at(0)).is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert!(!format!("{:?}", claims(1)).contains("s3cr3t"));
    }
}
