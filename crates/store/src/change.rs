//! Change notification for cache invalidation.
//!
//! # Contract
//!
//! * Every committed transaction that changes an account's IAM entities (anything that can
//!   change an authorization decision: policies, attachments, memberships, boundaries, keys,
//!   tags, trust policies, deletions) increments that account's **generation** in the database,
//!   inside the same transaction. The generation never decreases.
//! * After the commit, the store sends one [`Change`] on an in-process
//!   [`tokio::sync::broadcast`] channel ([`crate::AuthzStore::subscribe`]).
//! * The broadcast is a hint that arrives fast; the generation is the truth. A receiver that
//!   lags (`RecvError::Lagged`) must treat every cached entry as stale. Another node sharing
//!   the database does not see this process's broadcasts; it compares
//!   [`crate::AuthzStore::generation`] with the generation its cached entries were built at
//!   ([`crate::model::AuthorizationSet::generation`]), by polling or, with PostgreSQL, on a
//!   notification: the PostgreSQL backend also issues `NOTIFY portcullis_changes,
//!   '<account>:<generation>'` inside the writing transaction, so listeners hear of it exactly
//!   when it commits (the listener itself belongs to the server, issue 6).
//! * The simplest correct cache policy: drop every cached authorization set of an account when
//!   its generation moves. `entity` lets a smarter cache drop less, but a change to a group or
//!   a managed policy affects principals it does not name.
//! * Bookkeeping writes (access key and role last-used, password last-used, MFA time steps,
//!   lockout counters, service keys, one-time tokens) change no decision and bump nothing.

/// Name of the PostgreSQL notification channel (see the module docs).
pub const PG_CHANNEL: &str = "portcullis_changes";

/// One committed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Account whose entities changed.
    pub account: String,
    /// The account generation after this change.
    pub generation: u64,
    /// What happened.
    pub kind: ChangeKind,
    /// To which entity.
    pub entity: EntityRef,
}

/// What happened to the entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// It was created.
    Created,
    /// It, its policies, memberships, tags or credentials changed.
    Updated,
    /// It was deleted.
    Deleted,
}

/// The entity a change is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityRef {
    /// Account-wide settings (alias, password policy).
    Account,
    /// A user, by name.
    User(String),
    /// A group, by name.
    Group(String),
    /// A role, by name.
    Role(String),
    /// A managed policy, by ARN.
    Policy(String),
    /// An access key, by id.
    AccessKey(String),
    /// An instance profile, by name.
    InstanceProfile(String),
    /// An MFA device, by serial number.
    MfaDevice(String),
    /// An OIDC or SAML provider, by ARN.
    Provider(String),
}
