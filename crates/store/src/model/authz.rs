//! What the server needs to authorise a principal, read in one call.

use super::Tag;

/// A principal the server authorises, by name or by unique id. Sessions should use ids: a role
/// deleted and re-created under the same name is a different role, and its old sessions must not
/// inherit the new one's permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalRef {
    /// A user by name.
    UserName(String),
    /// A user by `AIDA…` id.
    UserId(String),
    /// A role by name.
    RoleName(String),
    /// A role by `AROA…` id.
    RoleId(String),
}

/// The kind of an authorised principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// IAM user.
    User,
    /// IAM role.
    Role,
}

/// Who the set belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalInfo {
    /// User or role.
    pub kind: PrincipalKind,
    /// Unique id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Path.
    pub path: String,
    /// ARN.
    pub arn: String,
    /// Tags (`aws:PrincipalTag/*`).
    pub tags: Vec<Tag>,
}

/// Where a policy in the set comes from, so decisions can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyOrigin {
    /// Attached or embedded in the principal itself.
    Principal,
    /// Attached to or embedded in one of the user's groups.
    Group {
        /// Group name.
        name: String,
        /// Group ARN.
        arn: String,
    },
}

/// One identity-based policy, with its document when the store has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyDocument {
    /// An inline policy.
    Inline {
        /// Its name.
        name: String,
        /// Its JSON document.
        document: String,
    },
    /// A customer managed policy at its default version.
    Customer {
        /// Policy ARN.
        arn: String,
        /// Default version id.
        version_id: String,
        /// The default version's document.
        document: String,
    },
    /// An AWS managed policy: the server resolves the ARN to its document.
    AwsManaged {
        /// Policy ARN (`arn:aws:iam::aws:policy/…`).
        arn: String,
    },
}

/// A policy and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySource {
    /// The principal or one of its groups.
    pub origin: PolicyOrigin,
    /// The policy.
    pub policy: PolicyDocument,
}

/// Everything identity-based that applies to a principal, read in one consistent snapshot.
///
/// `generation` is the account generation at the time of the read: the server may cache the
/// compiled set and keep using it while the account generation has not moved past it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationSet {
    /// Account of the principal.
    pub account_id: String,
    /// Account generation the set was read at.
    pub generation: u64,
    /// The principal.
    pub principal: PrincipalInfo,
    /// Inline and attached policies of the principal and (for users) its groups, in a stable
    /// order: principal before groups, inline before managed, then by name / ARN.
    pub policies: Vec<PolicySource>,
    /// The permissions boundary (a customer or AWS managed policy), if any.
    pub boundary: Option<PolicyDocument>,
}
