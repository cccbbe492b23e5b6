//! Instance profiles.

use time::OffsetDateTime;

use super::{Role, Tag};

/// An instance profile (`AIPA…`): the container that hands a role to a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceProfile {
    /// Unique id, `AIPA…`.
    pub id: String,
    /// Owning account.
    pub account_id: String,
    /// Name, unique case-insensitively.
    pub name: String,
    /// Path.
    pub path: String,
    /// `arn:aws:iam::ACCOUNT:instance-profile/PATH/NAME`.
    pub arn: String,
    /// Creation time.
    pub create_date: OffsetDateTime,
    /// Its role (AWS allows at most one).
    pub roles: Vec<Role>,
    /// Tags; filled by `get_instance_profile`.
    pub tags: Vec<Tag>,
}

/// Arguments of `CreateInstanceProfile`.
#[derive(Debug, Clone, Default)]
pub struct NewInstanceProfile {
    /// Name.
    pub name: String,
    /// Path.
    pub path: String,
    /// Initial tags.
    pub tags: Vec<Tag>,
}
