//! Managed policies, their versions, inline policies and attachments.

use time::OffsetDateTime;

use super::Tag;

/// A customer managed policy (`ANPA…`). AWS managed policies are not stored: they live in the
/// server's code, and only their attachments are stored here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicy {
    /// Unique id, `ANPA…`.
    pub id: String,
    /// Owning account.
    pub account_id: String,
    /// Name, unique in the account case-insensitively.
    pub name: String,
    /// Path.
    pub path: String,
    /// `arn:aws:iam::ACCOUNT:policy/PATH/NAME`.
    pub arn: String,
    /// Description given at creation (immutable in AWS).
    pub description: Option<String>,
    /// Creation time.
    pub create_date: OffsetDateTime,
    /// Last time a version was created or the default changed.
    pub update_date: OffsetDateTime,
    /// The default version id, `vN`.
    pub default_version_id: String,
    /// Users, groups and roles the policy is attached to.
    pub attachment_count: u64,
    /// Users and roles that use it as permissions boundary.
    pub permissions_boundary_usage_count: u64,
    /// Tags; filled by `get_policy`.
    pub tags: Vec<Tag>,
}

/// Arguments of `CreatePolicy`.
#[derive(Debug, Clone, Default)]
pub struct NewPolicy {
    /// Policy name.
    pub name: String,
    /// Path.
    pub path: String,
    /// Description.
    pub description: Option<String>,
    /// The document of version `v1` (validated by the server).
    pub document: String,
    /// Initial tags.
    pub tags: Vec<Tag>,
}

/// One version of a customer managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    /// ARN of the policy.
    pub policy_arn: String,
    /// `v1`, `v2`, …; numbers are never reused within a policy, as in AWS.
    pub version_id: String,
    /// The JSON document.
    pub document: String,
    /// Whether this is the default (effective) version.
    pub is_default: bool,
    /// Creation time.
    pub create_date: OffsetDateTime,
}

/// Renders a version number as AWS's `vN`.
pub fn version_id(n: i64) -> String {
    format!("v{n}")
}

/// Parses `vN`; `None` for anything else (the store then answers NoSuchEntity).
pub fn parse_version_id(id: &str) -> Option<i64> {
    let digits = id.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Which usage `ListPolicies` filters on (`PolicyUsageFilter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyUsage {
    /// Attached as a permissions policy.
    PermissionsPolicy,
    /// Used as a permissions boundary.
    PermissionsBoundary,
}

/// Filters of `ListPolicies` for the customer (`Local`) scope.
#[derive(Debug, Clone, Default)]
pub struct PolicyFilter {
    /// Only policies whose path starts with this.
    pub path_prefix: Option<String>,
    /// Only policies attached to at least one user, group or role (`OnlyAttached`).
    pub only_attached: bool,
    /// Only policies used that way.
    pub usage: Option<PolicyUsage>,
}

/// An inline policy embedded in a user, group or role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlinePolicy {
    /// Policy name, unique per owner (case-sensitively: `Put*Policy` replaces only an exact
    /// match).
    pub name: String,
    /// The JSON document.
    pub document: String,
}

/// The identity that inline policies and attachments belong to, by name as the IAM API names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyOwner {
    /// A user name.
    User(String),
    /// A group name.
    Group(String),
    /// A role name.
    Role(String),
}

/// The identities that can carry a permissions boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoundaryOwner {
    /// A user name.
    User(String),
    /// A role name.
    Role(String),
}

/// A managed policy attached to an identity (`AttachedPolicy` in the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    /// Last path segment of the ARN.
    pub policy_name: String,
    /// Customer or AWS managed policy ARN.
    pub policy_arn: String,
}

impl AttachedPolicy {
    /// Derives the name from the ARN, the way AWS names attached policies.
    pub fn from_arn(arn: String) -> Self {
        let policy_name = arn.rsplit('/').next().unwrap_or(&arn).to_owned();
        Self {
            policy_name,
            policy_arn: arn,
        }
    }
}

/// The kinds of identity `ListEntitiesForPolicy` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityKind {
    /// IAM group.
    Group,
    /// IAM role.
    Role,
    /// IAM user.
    User,
}

impl EntityKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Group => "group",
            Self::Role => "role",
            Self::User => "user",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "group" => Some(Self::Group),
            "role" => Some(Self::Role),
            "user" => Some(Self::User),
            _ => None,
        }
    }
}

/// One identity a policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEntity {
    /// User, group or role.
    pub kind: EntityKind,
    /// Its name.
    pub name: String,
    /// Its unique id.
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ids_round_trip_and_reject_garbage() {
        assert_eq!(version_id(3), "v3");
        assert_eq!(parse_version_id("v12"), Some(12));
        for bad in ["", "v", "3", "V3", "v-1", "v1a", "v+1"] {
            assert_eq!(parse_version_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn attached_policy_name_is_last_segment() {
        let a =
            AttachedPolicy::from_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaRole".into());
        assert_eq!(a.policy_name, "AWSLambdaRole");
    }
}
