//! IAM roles.

use time::OffsetDateTime;

use super::Tag;

/// An IAM role (`AROA…`): a principal without long-term credentials, assumed through STS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Unique id, `AROA…`; appears in `aws:userid` of its sessions (`AROA…:session`).
    pub id: String,
    /// Owning account.
    pub account_id: String,
    /// Name, unique case-insensitively.
    pub name: String,
    /// Path.
    pub path: String,
    /// `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    pub arn: String,
    /// Creation time.
    pub create_date: OffsetDateTime,
    /// The trust policy (JSON text as the caller sent it, not URL-encoded).
    pub assume_role_policy_document: String,
    /// Free-text description.
    pub description: Option<String>,
    /// Maximum session duration in seconds (3600–43200, validated by the server).
    pub max_session_duration: u32,
    /// Permissions boundary ARN.
    pub permissions_boundary: Option<String>,
    /// When and where the role was last assumed; filled by `get_role*`.
    pub last_used: Option<RoleLastUsed>,
    /// Tags; filled by `get_role*`.
    pub tags: Vec<Tag>,
}

/// `RoleLastUsed` of `GetRole`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleLastUsed {
    /// When the role was last assumed.
    pub date: OffsetDateTime,
    /// Region of that request.
    pub region: Option<String>,
}

/// Arguments of `CreateRole`.
#[derive(Debug, Clone, Default)]
pub struct NewRole {
    /// Role name.
    pub name: String,
    /// Path.
    pub path: String,
    /// Trust policy document.
    pub assume_role_policy_document: String,
    /// Description.
    pub description: Option<String>,
    /// Maximum session duration (seconds).
    pub max_session_duration: u32,
    /// Permissions boundary ARN.
    pub permissions_boundary: Option<String>,
    /// Initial tags.
    pub tags: Vec<Tag>,
}

/// Arguments of `UpdateRole` / `UpdateRoleDescription`: each `Some` field is changed.
#[derive(Debug, Clone, Default)]
pub struct RoleUpdate {
    /// New description.
    pub description: Option<String>,
    /// New maximum session duration.
    pub max_session_duration: Option<u32>,
}
