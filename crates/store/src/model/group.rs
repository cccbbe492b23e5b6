//! IAM groups.

use time::OffsetDateTime;

/// An IAM group (`AGPA…`). Groups are not principals: their policies apply to their members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Unique id, `AGPA…`.
    pub id: String,
    /// Owning account.
    pub account_id: String,
    /// Name, unique case-insensitively.
    pub name: String,
    /// Path.
    pub path: String,
    /// `arn:aws:iam::ACCOUNT:group/PATH/NAME`.
    pub arn: String,
    /// Creation time.
    pub create_date: OffsetDateTime,
}

/// Arguments of `CreateGroup`.
#[derive(Debug, Clone, Default)]
pub struct NewGroup {
    /// Group name.
    pub name: String,
    /// Path.
    pub path: String,
}
