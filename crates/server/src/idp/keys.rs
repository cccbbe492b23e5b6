//! The issuer's signing keys: ES256 (P-256) key pairs kept as store signing
//! keys of purpose [`PURPOSE`], their PKCS#8 form sealed under the master
//! key and bound to their generation (as `sessions.rs` keeps token keys).
//!
//! Rotation: the newest key signs; a new generation is made when it is
//! [`ROTATION_AGE`] old. An older key stays in the JWKS, verifying, until
//! every token it can have signed has expired — [`RETAIN_AFTER_SUCCESSOR`]
//! after its successor appeared — and is then retired. Keys are re-read
//! from the store every [`RELOAD_SECONDS`] (another node may have rotated)
//! and whenever a token names a `kid` this process does not know.

use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use portcullis_store::model::{Ciphertext, NewSigningKey};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::error::{ApiError, store_error};
use crate::state::AppState;

use super::b64url;

/// The store purpose of the issuer's keys.
pub const PURPOSE: &str = "oidc-issuer";
/// How long one key signs before the next is made.
pub const ROTATION_AGE: Duration = Duration::days(7);
/// The longest any token of the issuer lives.
pub const MAX_TOKEN_SECONDS: i64 = 3600;
/// How long a key keeps verifying after its successor appeared: every token
/// it signed has expired by then (with five minutes for clock skew).
pub const RETAIN_AFTER_SUCCESSOR: Duration = Duration::seconds(MAX_TOKEN_SECONDS + 300);
/// How often the keys are re-read from the store.
pub const RELOAD_SECONDS: i64 = 60;
const ALGORITHM: &str = "ES256";

/// One usable key generation.
struct LoadedKey {
    generation: u64,
    kid: String,
    created: OffsetDateTime,
    /// PKCS#8 DER of the key pair.
    pkcs8: Zeroizing<Vec<u8>>,
    /// The public point, uncompressed (`04 || x || y`).
    public: Vec<u8>,
}

impl LoadedKey {
    fn from_pkcs8(
        generation: u64,
        created: OffsetDateTime,
        pkcs8: Zeroizing<Vec<u8>>,
    ) -> Option<Self> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8).ok()?;
        let public = pair.public_key().as_ref().to_vec();
        if public.len() != 65 {
            return None;
        }
        Some(LoadedKey {
            generation,
            kid: thumbprint(&public),
            created,
            pkcs8,
            public,
        })
    }

    fn jwk(&self) -> serde_json::Value {
        let (x, y) = coordinates(&self.public);
        serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "x": x,
            "y": y,
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
        })
    }
}

fn coordinates(public: &[u8]) -> (String, String) {
    let x = public.get(1..33).unwrap_or_default();
    let y = public.get(33..65).unwrap_or_default();
    (b64url(x), b64url(y))
}

/// RFC 7638 JWK thumbprint: the key's id is a function of the key.
fn thumbprint(public: &[u8]) -> String {
    let (x, y) = coordinates(public);
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    b64url(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()).as_ref())
}

pub(crate) fn seal_context(generation: u64) -> String {
    format!("{PURPOSE}:{generation}")
}

#[derive(Default)]
struct Loaded {
    /// Oldest first.
    keys: Vec<LoadedKey>,
    loaded_at: Option<OffsetDateTime>,
}

/// The issuer's keys in memory.
#[derive(Default)]
pub struct IssuerKeys {
    loaded: tokio::sync::RwLock<Loaded>,
    /// One rotation at a time in this process.
    rotating: tokio::sync::Mutex<()>,
}

impl fmt::Debug for IssuerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IssuerKeys(<redacted>)")
    }
}

/// Why a token of this issuer did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// Malformed, wrong type, unknown key or bad signature.
    Invalid,
    Expired,
}

impl IssuerKeys {
    /// Re-reads every unretired generation from the store. A generation that
    /// does not open under this master key is skipped (and logged).
    async fn reload(&self, state: &AppState, now: OffsetDateTime) -> Result<(), ApiError> {
        let stored = state
            .store
            .list_signing_keys(PURPOSE)
            .await
            .map_err(store_error)?;
        let mut keys: Vec<LoadedKey> = Vec::new();
        for k in stored.into_iter().filter(|k| k.retire_date.is_none()) {
            let opened = state
                .master_key
                .open(&seal_context(k.generation), k.material.as_bytes());
            match opened.ok().and_then(|pkcs8| {
                LoadedKey::from_pkcs8(k.generation, k.create_date, Zeroizing::new(pkcs8.to_vec()))
            }) {
                Some(key) => keys.push(key),
                None => tracing::error!(
                    generation = k.generation,
                    "an OIDC issuer key does not open under this master key"
                ),
            }
        }
        keys.sort_by_key(|k| k.generation);
        let mut loaded = self.loaded.write().await;
        loaded.keys = keys;
        loaded.loaded_at = Some(now);
        Ok(())
    }

    /// Makes sure a signing key younger than [`ROTATION_AGE`] exists and
    /// that keys past their retention are retired; reloads when due.
    async fn ensure_current(&self, state: &AppState, now: OffsetDateTime) -> Result<(), ApiError> {
        let (due_reload, needs_rotation, retire) = {
            let loaded = self.loaded.read().await;
            let due = loaded
                .loaded_at
                .is_none_or(|at| now - at >= Duration::seconds(RELOAD_SECONDS) || now < at);
            let newest = loaded.keys.last();
            let rotate = newest.is_none_or(|k| now - k.created >= ROTATION_AGE);
            let retire: Vec<u64> = loaded
                .keys
                .windows(2)
                .filter_map(|w| match w {
                    [old, next] if now - next.created >= RETAIN_AFTER_SUCCESSOR => {
                        Some(old.generation)
                    }
                    _ => None,
                })
                .collect();
            (due, rotate, retire)
        };
        if !due_reload && !needs_rotation && retire.is_empty() {
            return Ok(());
        }
        let _one = self.rotating.lock().await;
        self.reload(state, now).await?;
        let (needs_rotation, retire) = {
            let loaded = self.loaded.read().await;
            let rotate = loaded
                .keys
                .last()
                .is_none_or(|k| now - k.created >= ROTATION_AGE);
            let retire: Vec<u64> = loaded
                .keys
                .windows(2)
                .filter_map(|w| match w {
                    [old, next] if now - next.created >= RETAIN_AFTER_SUCCESSOR => {
                        Some(old.generation)
                    }
                    _ => None,
                })
                .collect();
            (rotate, retire)
        };
        for generation in &retire {
            state
                .store
                .retire_signing_key(PURPOSE, *generation, now)
                .await
                .map_err(store_error)?;
        }
        if needs_rotation {
            self.rotate(state, now).await?;
        }
        if needs_rotation || !retire.is_empty() {
            self.reload(state, now).await?;
        }
        Ok(())
    }

    /// Adds a new generation. The store assigns generations, so the key is
    /// sealed for the expected one; if another node took it first, this
    /// record can never open and is retired at once.
    async fn rotate(&self, state: &AppState, now: OffsetDateTime) -> Result<(), ApiError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| ApiError::internal())?;
        let pkcs8 = Zeroizing::new(pkcs8.as_ref().to_vec());
        let expected = state
            .store
            .list_signing_keys(PURPOSE)
            .await
            .map_err(store_error)?
            .first()
            .map_or(1, |k| k.generation + 1);
        let key = LoadedKey::from_pkcs8(expected, now, pkcs8).ok_or_else(ApiError::internal)?;
        let sealed = state
            .master_key
            .seal(&seal_context(expected), &key.pkcs8)
            .map_err(|_| ApiError::internal())?;
        let added = state
            .store
            .add_signing_key(
                &NewSigningKey {
                    purpose: PURPOSE.to_owned(),
                    key_id: key.kid.clone(),
                    algorithm: ALGORITHM.to_owned(),
                    material: Ciphertext::new(sealed),
                },
                now,
            )
            .await
            .map_err(store_error)?;
        if added.generation != expected {
            state
                .store
                .retire_signing_key(PURPOSE, added.generation, now)
                .await
                .map_err(store_error)?;
        }
        tracing::info!(kid = %key.kid, "new OIDC issuer signing key");
        Ok(())
    }

    /// The JWKS document: every key that may still verify a live token.
    pub async fn jwks(&self, state: &AppState) -> Result<serde_json::Value, ApiError> {
        self.ensure_current(state, state.clock.now()).await?;
        let loaded = self.loaded.read().await;
        let keys: Vec<serde_json::Value> = loaded.keys.iter().rev().map(LoadedKey::jwk).collect();
        Ok(serde_json::json!({ "keys": keys }))
    }

    /// Signs `claims` with the newest key; `typ` is the JOSE header type
    /// (`JWT` for ID tokens, `at+jwt` for access tokens).
    pub async fn sign<T: Serialize>(
        &self,
        state: &AppState,
        typ: &str,
        claims: &T,
    ) -> Result<String, ApiError> {
        self.ensure_current(state, state.clock.now()).await?;
        let loaded = self.loaded.read().await;
        let key = loaded.keys.last().ok_or_else(ApiError::internal)?;
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(typ.to_owned());
        header.kid = Some(key.kid.clone());
        let encoding = EncodingKey::from_ec_der(&key.pkcs8);
        jsonwebtoken::encode(&header, claims, &encoding).map_err(|e| {
            tracing::error!(error = %e, "cannot sign an OIDC token");
            ApiError::internal()
        })
    }

    /// Verifies a token this issuer signed: its `typ`, its signature with
    /// the key its `kid` names, and `exp` against the service clock (the
    /// caller checks the other claims).
    pub async fn verify<T: DeserializeOwned>(
        &self,
        state: &AppState,
        typ: &str,
        token: &str,
    ) -> Result<T, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Invalid)?;
        if header.alg != Algorithm::ES256
            || !header
                .typ
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(typ))
        {
            return Err(VerifyError::Invalid);
        }
        let kid = header.kid.ok_or(VerifyError::Invalid)?;
        let now = state.clock.now();
        let mut public = self.public_key(&kid).await;
        if public.is_none() {
            // Another node may have rotated since we last looked.
            if self.reload(state, now).await.is_err() {
                return Err(VerifyError::Invalid);
            }
            public = self.public_key(&kid).await;
        }
        let public = public.ok_or(VerifyError::Invalid)?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<serde_json::Value>(
            token,
            &DecodingKey::from_ec_der(&public),
            &validation,
        )
        .map_err(|_| VerifyError::Invalid)?;
        let exp = data
            .claims
            .get("exp")
            .and_then(serde_json::Value::as_i64)
            .ok_or(VerifyError::Invalid)?;
        if now.unix_timestamp() >= exp {
            return Err(VerifyError::Expired);
        }
        serde_json::from_value(data.claims).map_err(|_| VerifyError::Invalid)
    }

    async fn public_key(&self, kid: &str) -> Option<Vec<u8>> {
        let loaded = self.loaded.read().await;
        loaded
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .map(|k| k.public.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint() {
        // RFC 7638 gives its example for an RSA key; for EC the member set
        // is crv, kty, x, y in that order. The thumbprint of a fixed point
        // must not change between releases (relying parties cache kids).
        let mut public = vec![4u8];
        public.extend([1u8; 32]);
        public.extend([2u8; 32]);
        let x = b64url(&[1u8; 32]);
        let y = b64url(&[2u8; 32]);
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let expected = b64url(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()).as_ref(),
        );
        assert_eq!(thumbprint(&public), expected);
        assert_eq!(expected.len(), 43);
    }

    #[test]
    fn a_generated_key_round_trips_through_pkcs8() {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = LoadedKey::from_pkcs8(
            1,
            OffsetDateTime::UNIX_EPOCH,
            Zeroizing::new(doc.as_ref().to_vec()),
        )
        .unwrap();
        let jwk = key.jwk();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["kid"], key.kid.as_str());
        let header = {
            let mut h = Header::new(Algorithm::ES256);
            h.kid = Some(key.kid.clone());
            h
        };
        let token = jsonwebtoken::encode(
            &header,
            &serde_json::json!({"sub": "x"}),
            &EncodingKey::from_ec_der(&key.pkcs8),
        )
        .unwrap();
        let decoding =
            DecodingKey::from_ec_components(jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap())
                .unwrap();
        let mut v = Validation::new(Algorithm::ES256);
        v.validate_exp = false;
        v.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &v).unwrap();
        assert_eq!(data.claims["sub"], "x");
    }
}
