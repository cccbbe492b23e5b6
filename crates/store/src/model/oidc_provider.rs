//! IAM OIDC identity providers.

use time::OffsetDateTime;

use super::Tag;

/// An OIDC provider registered in the account (`CreateOpenIDConnectProvider`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    /// `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`.
    pub arn: String,
    /// Owning account.
    pub account_id: String,
    /// Issuer URL without `https://`, as AWS returns it.
    pub url: String,
    /// Audiences accepted (`aud`), in insertion order.
    pub client_ids: Vec<String>,
    /// Certificate thumbprints (hex SHA-1), in the order given.
    pub thumbprints: Vec<String>,
    /// Creation time.
    pub create_date: OffsetDateTime,
    /// Tags; filled by `get_oidc_provider`.
    pub tags: Vec<Tag>,
}

/// Arguments of `CreateOpenIDConnectProvider`.
#[derive(Debug, Clone, Default)]
pub struct NewOidcProvider {
    /// Issuer URL (with or without `https://`; stored without).
    pub url: String,
    /// Client ids.
    pub client_ids: Vec<String>,
    /// Thumbprints.
    pub thumbprints: Vec<String>,
    /// Initial tags.
    pub tags: Vec<Tag>,
}
