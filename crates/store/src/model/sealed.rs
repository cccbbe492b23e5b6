//! Values the server sealed under its master key, seen as one collection so that the server
//! can re-seal all of them under a new master key (`portcullis master-key reseal`).
//!
//! The store still does no cryptography: it lists the ciphertexts with what identifies their
//! records (from which the server derives the associated data each was sealed with) and swaps
//! one ciphertext for another only if the stored one is still the one the server read.

use super::Ciphertext;

/// The stored columns that hold sealed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SealedKind {
    /// `access_keys.secret_ciphertext`: secret access keys.
    AccessKeySecret,
    /// `mfa_devices.seed_ciphertext`: virtual MFA seeds.
    MfaSeed,
    /// `signing_keys.material`: the service's own keys (session tokens, the OIDC issuer).
    SigningKey,
}

impl SealedKind {
    /// Every kind, in the order a re-seal visits them.
    pub const ALL: [SealedKind; 3] = [
        SealedKind::AccessKeySecret,
        SealedKind::MfaSeed,
        SealedKind::SigningKey,
    ];

    /// A short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            SealedKind::AccessKeySecret => "access-key-secret",
            SealedKind::MfaSeed => "mfa-seed",
            SealedKind::SigningKey => "signing-key",
        }
    }
}

impl std::fmt::Display for SealedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The record a sealed value belongs to. Also the position a listing continues after.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SealedId {
    /// An access key, by id (the secret is sealed with the id as associated data).
    AccessKey(String),
    /// An MFA device, by serial number (the seed's associated data).
    MfaDevice(String),
    /// One generation of a signing key purpose.
    SigningKey {
        /// The key's purpose (`sts-session-token`, `oidc-issuer`, …).
        purpose: String,
        /// Its generation.
        generation: u64,
    },
}

impl SealedId {
    /// The column this record's sealed value lives in.
    pub fn kind(&self) -> SealedKind {
        match self {
            SealedId::AccessKey(_) => SealedKind::AccessKeySecret,
            SealedId::MfaDevice(_) => SealedKind::MfaSeed,
            SealedId::SigningKey { .. } => SealedKind::SigningKey,
        }
    }
}

/// Names the record (never its secret) in reports.
impl std::fmt::Display for SealedId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SealedId::AccessKey(id) => write!(f, "access key {id}"),
            SealedId::MfaDevice(serial) => write!(f, "MFA device {serial}"),
            SealedId::SigningKey {
                purpose,
                generation,
            } => write!(f, "signing key {purpose} generation {generation}"),
        }
    }
}

/// One sealed value and its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    /// The record.
    pub id: SealedId,
    /// The owning account; `None` for the service's own signing keys.
    pub account_id: Option<String>,
    /// The sealed bytes as stored.
    pub ciphertext: Ciphertext,
    /// A retired signing key: the service never opens it again (always `false` for the
    /// other kinds).
    pub retired: bool,
}
