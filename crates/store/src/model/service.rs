//! Bookkeeping for the service itself: signing keys, the OIDC issuer's clients, sign-in lockout
//! counters and single-use tokens. These are not IAM entities and do not bump the account
//! generation.

use time::OffsetDateTime;

/// Bytes encrypted by the server (a secret access key, an MFA seed, a signing key). The store
/// keeps them opaque; `Debug` shows only the length, so even ciphertext stays out of logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Ciphertext(Vec<u8>);

impl Ciphertext {
    /// Wraps encrypted bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The encrypted bytes, for decryption by the server.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ciphertext({} bytes)", self.0.len())
    }
}

/// A signing or encryption key of the service, one generation of a rotation.
///
/// Purposes are the server's (`"session-token"`, `"oidc-issuer"`, …). Generations increase per
/// purpose; the newest unretired key signs, all unretired keys verify, so rotation never breaks
/// live sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// What the key is for.
    pub purpose: String,
    /// 1, 2, … per purpose.
    pub generation: u64,
    /// Key id published to verifiers (a JWKS `kid`, a token header byte…).
    pub key_id: String,
    /// Algorithm name (`"ES256"`, `"AES-256-GCM"`, …).
    pub algorithm: String,
    /// The key, encrypted under the master key.
    pub material: Ciphertext,
    /// Creation time.
    pub create_date: OffsetDateTime,
    /// When it stopped being usable for verification, if it has.
    pub retire_date: Option<OffsetDateTime>,
}

/// Arguments of [`crate::ServiceStore::add_signing_key`].
#[derive(Debug, Clone)]
pub struct NewSigningKey {
    /// Purpose.
    pub purpose: String,
    /// Key id.
    pub key_id: String,
    /// Algorithm name.
    pub algorithm: String,
    /// Encrypted key.
    pub material: Ciphertext,
}

/// A client registered with Portcullis's own OIDC issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcClient {
    /// `client_id`.
    pub client_id: String,
    /// Account whose users sign in through it.
    pub account_id: String,
    /// Display name.
    pub name: String,
    /// Exact redirect URIs allowed.
    pub redirect_uris: Vec<String>,
    /// Hash of the client secret (confidential clients); `None` for public PKCE clients.
    pub secret_hash: Option<String>,
    /// Creation time.
    pub create_date: OffsetDateTime,
}

/// Arguments of [`crate::ServiceStore::create_oidc_client`].
#[derive(Debug, Clone)]
pub struct NewOidcClient {
    /// `client_id`.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Redirect URIs (must not contain line breaks).
    pub redirect_uris: Vec<String>,
    /// Hash of the client secret.
    pub secret_hash: Option<String>,
}

/// When repeated sign-in failures lock a user out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures within `window_seconds` that trigger a lock.
    pub max_failures: u32,
    /// Failures older than this are forgotten.
    pub window_seconds: i64,
    /// How long a lock lasts.
    pub lock_seconds: i64,
}

/// Sign-in failure state of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SigninLockout {
    /// Failures counted in the current window.
    pub failures: u32,
    /// Locked until then, if locked.
    pub locked_until: Option<OffsetDateTime>,
}

impl SigninLockout {
    /// Whether sign-in must be refused at `now`.
    pub fn is_locked(&self, now: OffsetDateTime) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}
