//! Accounts, the root identity and account-wide settings.

use time::OffsetDateTime;

/// An account. Several accounts can live in one store (cross-account role assumption needs two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// 12-digit account id; it is also the root identity's unique id, as in AWS.
    pub id: String,
    /// The account alias (at most one, unique across the store).
    pub alias: Option<String>,
    /// Creation time.
    pub create_date: OffsetDateTime,
    /// Change generation: bumped by every committed change to the account's IAM entities. A
    /// cache entry built at generation `g` is stale once the generation is above `g`.
    pub generation: u64,
}

impl Account {
    /// ARN of the account's root identity.
    pub fn root_arn(&self) -> String {
        crate::arn::root_arn(&self.id)
    }
}

/// The account password policy (`UpdateAccountPasswordPolicy`). Field meanings are AWS's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// 6–128.
    pub minimum_password_length: u32,
    /// At least one non-alphanumeric character.
    pub require_symbols: bool,
    /// At least one digit.
    pub require_numbers: bool,
    /// At least one upper-case letter.
    pub require_uppercase_characters: bool,
    /// At least one lower-case letter.
    pub require_lowercase_characters: bool,
    /// Users may change their own password.
    pub allow_users_to_change_password: bool,
    /// Days before a password expires (1–1095).
    pub max_password_age: Option<u32>,
    /// Number of previous passwords that cannot be reused (1–24).
    pub password_reuse_prevention: Option<u32>,
    /// Expired passwords cannot be changed by the user.
    pub hard_expiry: bool,
}

impl Default for PasswordPolicy {
    /// AWS's values for parameters omitted from `UpdateAccountPasswordPolicy`.
    fn default() -> Self {
        Self {
            minimum_password_length: 6,
            require_symbols: false,
            require_numbers: false,
            require_uppercase_characters: false,
            require_lowercase_characters: false,
            allow_users_to_change_password: false,
            max_password_age: None,
            password_reuse_prevention: None,
            hard_expiry: false,
        }
    }
}

/// Entity counts for `GetAccountSummary`, computed in one read transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountSummary {
    /// IAM users.
    pub users: u64,
    /// IAM groups.
    pub groups: u64,
    /// Roles.
    pub roles: u64,
    /// Customer managed policies.
    pub policies: u64,
    /// Policy versions across customer managed policies.
    pub policy_versions_in_use: u64,
    /// Attached policies (customer and AWS managed), all identities.
    pub attached_policies: u64,
    /// Instance profiles.
    pub instance_profiles: u64,
    /// Virtual MFA devices.
    pub mfa_devices: u64,
    /// MFA devices enabled for a user.
    pub mfa_devices_in_use: u64,
    /// OIDC and SAML providers.
    pub providers: u64,
    /// Whether the root identity has access keys.
    pub account_access_keys_present: bool,
}
