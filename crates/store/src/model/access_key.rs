//! Long-term access keys.

use time::OffsetDateTime;

use super::Ciphertext;

/// Whether a key may sign requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKeyStatus {
    /// Signs requests.
    Active,
    /// Refused by authentication, kept for reactivation.
    Inactive,
}

impl AccessKeyStatus {
    /// AWS's spelling (`Active` / `Inactive`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Inactive => "Inactive",
        }
    }

    /// Parses AWS's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Active" => Some(Self::Active),
            "Inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// Who owns an access key: a user, or the account's root identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOwner {
    /// The account root (keys created by root without `UserName`).
    Root,
    /// An IAM user, by name.
    User(String),
}

/// An access key's metadata; the secret is only returned by [`AccessKeyLookup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// `AKIA…`, 20 characters, unique across all accounts.
    pub access_key_id: String,
    /// Owning account.
    pub account_id: String,
    /// Owning user's name; `None` for root keys.
    pub user_name: Option<String>,
    /// Active or inactive.
    pub status: AccessKeyStatus,
    /// Creation time.
    pub create_date: OffsetDateTime,
    /// Last authenticated use, if any.
    pub last_used: Option<AccessKeyLastUsed>,
}

/// `AccessKeyLastUsed` of `GetAccessKeyLastUsed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyLastUsed {
    /// When.
    pub date: OffsetDateTime,
    /// Service signing name (`iam`, `sts`, …).
    pub service: String,
    /// Region of the credential scope.
    pub region: String,
}

/// What authentication needs about a key, from one indexed query.
#[derive(Debug, Clone)]
pub struct AccessKeyLookup {
    /// The key id looked up.
    pub access_key_id: String,
    /// Owning account.
    pub account_id: String,
    /// Active or inactive; the server must refuse inactive keys.
    pub status: AccessKeyStatus,
    /// The secret, encrypted by the server under its master key.
    pub secret_ciphertext: Ciphertext,
    /// The identity the key authenticates as.
    pub principal: KeyPrincipal,
}

/// The identity behind an access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPrincipal {
    /// The account root (`arn:aws:iam::ACCOUNT:root`).
    Root,
    /// An IAM user.
    User {
        /// `AIDA…`.
        id: String,
        /// User name.
        name: String,
        /// Path.
        path: String,
        /// User ARN.
        arn: String,
    },
}
