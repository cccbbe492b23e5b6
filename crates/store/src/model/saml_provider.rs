//! IAM SAML identity providers.

use time::OffsetDateTime;

use super::Tag;

/// A SAML provider registered in the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlProvider {
    /// `arn:aws:iam::ACCOUNT:saml-provider/NAME`.
    pub arn: String,
    /// Owning account.
    pub account_id: String,
    /// Name.
    pub name: String,
    /// The IdP's metadata XML, as uploaded.
    pub metadata_document: String,
    /// Creation time.
    pub create_date: OffsetDateTime,
    /// End of validity taken from the metadata, if the server extracted one.
    pub valid_until: Option<OffsetDateTime>,
    /// Tags; filled by `get_saml_provider`.
    pub tags: Vec<Tag>,
}

/// Arguments of `CreateSAMLProvider`.
#[derive(Debug, Clone, Default)]
pub struct NewSamlProvider {
    /// Name.
    pub name: String,
    /// Metadata XML.
    pub metadata_document: String,
    /// End of validity.
    pub valid_until: Option<OffsetDateTime>,
    /// Initial tags.
    pub tags: Vec<Tag>,
}
