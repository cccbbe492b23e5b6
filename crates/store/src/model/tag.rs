//! Tags on IAM entities.

/// One tag. Keys are unique per entity regardless of case: tagging `Team` on an entity that has
/// `team` replaces that tag (key spelling included) rather than adding a second one, so a
/// condition on `aws:ResourceTag/team` can never see two values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Tag key (1–128 characters, validated by the server).
    pub key: String,
    /// Tag value (0–256 characters).
    pub value: String,
}

impl Tag {
    /// Convenience constructor, mostly for tests and fixtures.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// The entities IAM lets you tag, named as the corresponding `Tag*` operation names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagTarget {
    /// `TagUser`: by user name.
    User(String),
    /// `TagRole`: by role name.
    Role(String),
    /// `TagPolicy`: by customer managed policy ARN.
    Policy(String),
    /// `TagInstanceProfile`: by instance profile name.
    InstanceProfile(String),
    /// `TagOpenIDConnectProvider`: by provider ARN.
    OidcProvider(String),
    /// `TagSAMLProvider`: by provider ARN.
    SamlProvider(String),
    /// `TagMFADevice`: by serial number (an ARN).
    MfaDevice(String),
}
