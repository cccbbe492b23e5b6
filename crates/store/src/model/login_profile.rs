//! Console passwords (login profiles).

use time::OffsetDateTime;

/// An Argon2id PHC string computed by the server. The store never sees a clear password; the
/// hash is still kept out of `Debug` output so it cannot end up in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string.
    pub fn new(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    /// The PHC string, for verification by the server.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// A user's login profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginProfile {
    /// Owning user.
    pub user_name: String,
    /// Argon2id PHC hash.
    pub password_hash: PasswordHash,
    /// The user must choose a new password at next sign-in.
    pub password_reset_required: bool,
    /// When the profile was created.
    pub create_date: OffsetDateTime,
    /// When the password was last set (for `MaxPasswordAge`).
    pub password_changed: OffsetDateTime,
}

/// Arguments of `CreateLoginProfile`.
#[derive(Debug, Clone)]
pub struct NewLoginProfile {
    /// Argon2id PHC hash.
    pub password_hash: PasswordHash,
    /// `PasswordResetRequired`.
    pub password_reset_required: bool,
}

/// Arguments of `UpdateLoginProfile` / `ChangePassword`: each `Some` field is changed.
#[derive(Debug, Clone, Default)]
pub struct LoginProfileUpdate {
    /// New hash; also resets `password_changed` to `now`.
    pub password_hash: Option<PasswordHash>,
    /// New `PasswordResetRequired`.
    pub password_reset_required: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_hash() {
        let h = PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
        assert!(!format!("{h:?}").contains("argon2id"));
        assert!(h.expose().starts_with("$argon2id"));
    }
}
