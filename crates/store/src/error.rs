//! The one error type of the store.
//!
//! Every variant corresponds to an AWS IAM error code (see [`StoreError::code`]) and carries a
//! message in AWS's own wording, so the server can pass it through unchanged. Only
//! [`StoreError::ServiceFailure`] hides its detail: a backend error can name tables, paths or
//! connection strings, which must never reach a client.

/// Why a storage operation failed.
///
/// Not `#[non_exhaustive]`: the server must map every variant to an AWS error, and a new variant
/// should break its build rather than fall into a catch-all.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The named entity does not exist (`NoSuchEntity`, HTTP 404).
    #[error("{0}")]
    NoSuchEntity(String),
    /// An entity with that name (compared case-insensitively) already exists
    /// (`EntityAlreadyExists`, HTTP 409).
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// The entity still has subordinate entities, or the operation would break a rule such as
    /// "the default version cannot be deleted" (`DeleteConflict`, HTTP 409).
    #[error("{0}")]
    DeleteConflict(String),
    /// A quota would be exceeded: 5 versions per policy, 2 access keys per user, …
    /// (`LimitExceeded`, HTTP 409).
    #[error("{0}")]
    LimitExceeded(String),
    /// An argument the store itself checks is malformed, such as a pagination marker it did not
    /// issue (`InvalidInput`, HTTP 400).
    #[error("{0}")]
    InvalidInput(String),
    /// Two writers raced in a way the backend could not serialise and the caller should retry
    /// (`ConcurrentModification`, HTTP 409).
    #[error("{0}")]
    ConcurrentModification(String),
    /// The backend failed: I/O, a lost connection, a corrupt row (`ServiceFailure`, HTTP 500).
    /// The source is for logs only; `Display` says nothing about it.
    #[error("The request processing has failed because of an unknown error, exception or failure.")]
    ServiceFailure(#[source] BackendError),
}

/// The detail of a backend failure, kept for logs and never shown to a client.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BackendError(String);

impl StoreError {
    /// The AWS error code the server should send for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSuchEntity(_) => "NoSuchEntity",
            Self::EntityAlreadyExists(_) => "EntityAlreadyExists",
            Self::DeleteConflict(_) => "DeleteConflict",
            Self::LimitExceeded(_) => "LimitExceeded",
            Self::InvalidInput(_) => "InvalidInput",
            Self::ConcurrentModification(_) => "ConcurrentModification",
            Self::ServiceFailure(_) => "ServiceFailure",
        }
    }

    /// The HTTP status AWS uses for this error code.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::NoSuchEntity(_) => 404,
            Self::EntityAlreadyExists(_)
            | Self::DeleteConflict(_)
            | Self::LimitExceeded(_)
            | Self::ConcurrentModification(_) => 409,
            Self::InvalidInput(_) => 400,
            Self::ServiceFailure(_) => 500,
        }
    }

    /// Builds a backend failure from anything displayable (a driver error, a decode error).
    pub(crate) fn backend(detail: impl std::fmt::Display) -> Self {
        Self::ServiceFailure(BackendError(detail.to_string()))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        // Lock contention that outlived the busy timeout (SQLite) or a serialisation failure /
        // deadlock (PostgreSQL) is retryable, which AWS expresses as ConcurrentModification.
        if let Some(db) = err.as_database_error() {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if matches!(code.as_str(), "5" | "6" | "517" | "40001" | "40P01") {
                return Self::ConcurrentModification(
                    "Concurrent modification of the same entity; retry the request.".to_owned(),
                );
            }
        }
        Self::backend(err)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        Self::backend(err)
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_follow_aws() {
        let e = StoreError::NoSuchEntity("The user with name bob cannot be found.".into());
        assert_eq!((e.code(), e.http_status()), ("NoSuchEntity", 404));
        assert_eq!(e.to_string(), "The user with name bob cannot be found.");
        let e = StoreError::LimitExceeded("x".into());
        assert_eq!((e.code(), e.http_status()), ("LimitExceeded", 409));
    }

    #[test]
    fn backend_detail_is_not_displayed() {
        let e = StoreError::backend("disk /secret/path full");
        assert!(!e.to_string().contains("/secret/path"));
        assert_eq!(e.code(), "ServiceFailure");
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk /secret/path full"));
    }
}
