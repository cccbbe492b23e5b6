//! IAM users.

use time::OffsetDateTime;

use super::Tag;

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Unique id, `AIDA…`; never reused, so a re-created user is a different principal.
    pub id: String,
    /// Owning account (12 digits).
    pub account_id: String,
    /// Name as given at creation (unique in the account case-insensitively).
    pub name: String,
    /// Path, `/` or `/a/b/`.
    pub path: String,
    /// `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    pub arn: String,
    /// When the user was created.
    pub create_date: OffsetDateTime,
    /// ARN of the permissions boundary policy, if any.
    pub permissions_boundary: Option<String>,
    /// Last sign-in with the user's password (`PasswordLastUsed`).
    pub password_last_used: Option<OffsetDateTime>,
    /// Tags; filled by `get_user*`, empty in lists.
    pub tags: Vec<Tag>,
}

/// Arguments of `CreateUser`.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// User name.
    pub name: String,
    /// Path (`/` when the caller gave none).
    pub path: String,
    /// Permissions boundary ARN; a customer policy must exist in the account.
    pub permissions_boundary: Option<String>,
    /// Initial tags.
    pub tags: Vec<Tag>,
}

/// Arguments of `UpdateUser`: each `Some` field is changed.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// New name (`NewUserName`); the ARN follows.
    pub new_name: Option<String>,
    /// New path (`NewPath`); the ARN follows.
    pub new_path: Option<String>,
}
