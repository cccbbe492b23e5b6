//! Console passwords: Argon2id hashing and verification, and the account
//! password policy as IAM applies it.
//!
//! A clear password lives only in a [`Password`] (wiped on drop, redacted in
//! `Debug`) for as long as the request needs it; the store sees only the
//! PHC string. Hashing and verification run on the blocking pool: one
//! Argon2id computation takes tens of milliseconds and 19 MiB by design, and
//! must not stall the request workers.
//!
//! Password history is not kept (the store has no place for it), so
//! `PasswordReusePrevention` is enforced against the current password only:
//! [`ChangePassword`](crate::ops::iam::login_profiles::change_password)
//! refuses the password the user already has, which is what a reuse
//! prevention of 1 means; larger values are stored and reported but cannot
//! look further back.

use std::sync::Arc;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use portcullis_policy::{Policy, PolicyKind};
use portcullis_store::StoreError;
use portcullis_store::model::{PasswordHash, PasswordPolicy};
use zeroize::Zeroizing;

use crate::error::{ApiError, ErrorCode, store_error};
use crate::state::AppState;

/// A password in clear, as a request carried it.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    pub fn new(clear: String) -> Self {
        Password(Zeroizing::new(clear))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Hashes with Argon2id (the crate's defaults: v19, 19 MiB, 2 passes, one
/// lane, which is OWASP's recommended minimum) and a fresh 16-byte salt.
pub fn hash_blocking(password: &Password) -> Result<PasswordHash, ApiError> {
    let salt = crate::secrets::random_bytes::<16>().map_err(|e| {
        tracing::error!(error = %e, "no randomness for a password salt");
        ApiError::internal()
    })?;
    let phc = Argon2::default()
        .hash_password_with_salt(password.expose().as_bytes(), &salt)
        .map_err(|e| {
            tracing::error!(error = %e, "argon2 hashing failed");
            ApiError::internal()
        })?;
    Ok(PasswordHash::new(phc.to_string()))
}

/// Whether `password` is the one `hash` was made from. The parameters come
/// from the PHC string; the final comparison is constant-time (the argon2
/// crate compares outputs with `subtle`). A hash that does not parse
/// verifies nothing.
pub fn verify_blocking(password: &Password, hash: &PasswordHash) -> bool {
    match argon2::PasswordHash::new(hash.expose()) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "a stored password hash does not parse");
            false
        }
    }
}

/// How many Argon2 computations may run at once. Each takes 19 MiB, and
/// the blocking pool would otherwise start hundreds of them under a burst
/// of password calls; past this many, calls wait their turn.
const CONCURRENT_HASHES: usize = 4;

static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_HASHES);

async fn on_blocking_pool<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _permit = HASHING.acquire().await.map_err(|_| ApiError::internal())?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ApiError::internal())
}

/// [`hash_blocking`] on the blocking pool.
pub async fn hash(password: &Password) -> Result<PasswordHash, ApiError> {
    let password = password.clone();
    on_blocking_pool(move || hash_blocking(&password)).await?
}

/// [`verify_blocking`] on the blocking pool.
pub async fn verify(password: &Password, hash: &PasswordHash) -> Result<bool, ApiError> {
    let password = password.clone();
    let hash = hash.clone();
    on_blocking_pool(move || verify_blocking(&password, &hash)).await
}

/// The symbols IAM counts as "non-alphanumeric characters" (the
/// `RequireSymbols` parameter of UpdateAccountPasswordPolicy).
pub const SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";

/// AWS's answer to a password that breaks the policy, followed by what it
/// lacks.
const VIOLATION: &str = "Password does not conform to the account password policy.";

/// The length and character classes of a password.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Classes {
    chars: usize,
    upper: bool,
    lower: bool,
    digit: bool,
    symbol: bool,
}

impl Classes {
    fn of(password: &str) -> Self {
        let mut c = Classes::default();
        for ch in password.chars() {
            c.chars += 1;
            c.upper |= ch.is_ascii_uppercase();
            c.lower |= ch.is_ascii_lowercase();
            c.digit |= ch.is_ascii_digit();
            c.symbol |= SYMBOLS.contains(ch);
        }
        c
    }

    fn count(self) -> usize {
        [self.upper, self.lower, self.digit, self.symbol]
            .iter()
            .filter(|b| **b)
            .count()
    }
}

/// Checks a new password against the account's policy, or, when the
/// account has none, against AWS's default policy: at least 8 characters
/// and at least three of upper case, lower case, digits and symbols.
pub fn check_policy(password: &str, policy: Option<&PasswordPolicy>) -> Result<(), ApiError> {
    let c = Classes::of(password);
    let mut missing: Vec<String> = Vec::new();
    match policy {
        Some(p) => {
            let min = usize::try_from(p.minimum_password_length).unwrap_or(usize::MAX);
            if c.chars < min {
                missing.push(format!("have at least {min} characters"));
            }
            if p.require_uppercase_characters && !c.upper {
                missing.push("include at least one uppercase letter (A-Z)".to_owned());
            }
            if p.require_lowercase_characters && !c.lower {
                missing.push("include at least one lowercase letter (a-z)".to_owned());
            }
            if p.require_numbers && !c.digit {
                missing.push("include at least one number (0-9)".to_owned());
            }
            if p.require_symbols && !c.symbol {
                missing.push(format!(
                    "include at least one non-alphanumeric character ({SYMBOLS})"
                ));
            }
        }
        None => {
            if c.chars < 8 {
                missing.push("have at least 8 characters".to_owned());
            }
            if c.count() < 3 {
                missing.push(format!(
                    "mix at least three of uppercase letters, lowercase letters, numbers and \
                     non-alphanumeric characters ({SYMBOLS})"
                ));
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(violation(&format!("It must {}.", missing.join("; "))))
    }
}

/// A `PasswordPolicyViolation` with AWS's message and our detail.
pub fn violation(detail: &str) -> ApiError {
    ApiError::new(
        ErrorCode::PasswordPolicyViolation,
        format!("{VIOLATION} {detail}"),
    )
}

/// The account's password policy, `None` when it has none.
pub async fn account_policy(
    state: &AppState,
    account: &str,
) -> Result<Option<PasswordPolicy>, ApiError> {
    match state.store.get_password_policy(account).await {
        Ok(p) => Ok(Some(p)),
        Err(StoreError::NoSuchEntity(_)) => Ok(None),
        Err(e) => Err(store_error(e)),
    }
}

/// The id under which the grant below appears in audit records and
/// simulations.
pub const ACCOUNT_GRANT_ID: &str = "AccountPasswordPolicy";

/// What an account with `AllowUsersToChangePassword` grants every IAM user
/// on top of its policies: "access to the `iam:ChangePassword` action for
/// only their user and to the `iam:GetAccountPasswordPolicy` action" (IAM
/// User Guide, "Permit IAM users to change their own passwords"). Expressed
/// as an identity policy so that explicit denies and permissions boundaries
/// limit it like any other grant.
pub async fn account_grant(
    state: &AppState,
    account: &str,
    user_arn: &str,
) -> Result<Option<Arc<Policy>>, ApiError> {
    let Some(policy) = account_policy(state, account).await? else {
        return Ok(None);
    };
    if !policy.allow_users_to_change_password {
        return Ok(None);
    }
    let document = grant_document(user_arn);
    state
        .compiled
        .get_or_compile(ACCOUNT_GRANT_ID, &document, PolicyKind::Identity)
        .map(Some)
}

fn grant_document(user_arn: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ChangeOwnPassword",
                "Effect": "Allow",
                "Action": "iam:ChangePassword",
                "Resource": user_arn,
            },
            {
                "Sid": "ViewPasswordPolicy",
                "Effect": "Allow",
                "Action": "iam:GetAccountPasswordPolicy",
                "Resource": "*",
            }
        ]
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PasswordPolicy {
        PasswordPolicy {
            minimum_password_length: 10,
            require_symbols: true,
            require_numbers: true,
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            ..PasswordPolicy::default()
        }
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify_only_their_password() {
        let pw = Password::new("correct horse battery staple".to_owned());
        let h1 = hash_blocking(&pw).unwrap();
        let h2 = hash_blocking(&pw).unwrap();
        assert!(h1.expose().starts_with("$argon2id$v=19$"));
        assert_ne!(h1, h2, "each hash has its own salt");
        assert!(verify_blocking(&pw, &h1));
        assert!(verify_blocking(&pw, &h2));
        assert!(!verify_blocking(
            &Password::new("correct horse battery stapler".to_owned()),
            &h1
        ));
        assert!(!verify_blocking(
            &pw,
            &PasswordHash::new("not a phc string")
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_hashes_queue_for_a_permit_and_all_complete() {
        let pw = Password::new("Str0ng!Passw0rd".to_owned());
        let tasks: Vec<_> = (0..CONCURRENT_HASHES + 2)
            .map(|_| {
                let pw = pw.clone();
                tokio::spawn(async move { hash(&pw).await })
            })
            .collect();
        for t in tasks {
            let h = t.await.unwrap().unwrap();
            assert!(verify(&pw, &h).await.unwrap());
        }
        assert_eq!(HASHING.available_permits(), CONCURRENT_HASHES);
    }

    #[test]
    fn clear_passwords_never_show_in_debug() {
        let pw = Password::new("hunter2hunter2".to_owned());
        assert!(!format!("{pw:?}").contains("hunter2"));
    }

    #[test]
    fn each_rule_of_a_custom_policy_is_reported() {
        let p = policy();
        assert!(check_policy("Aa1!aaaaaa", Some(&p)).is_ok());
        let cases = [
            ("Aa1!aaaaa", "at least 10 characters"),
            ("aa1!aaaaaa", "uppercase"),
            ("AA1!AAAAAA", "lowercase"),
            ("Aa!aaaaaaa", "number"),
            ("Aa1aaaaaaa", "non-alphanumeric"),
        ];
        for (pw, rule) in cases {
            let e = check_policy(pw, Some(&p)).unwrap_err();
            assert_eq!(e.code(), ErrorCode::PasswordPolicyViolation, "{pw}");
            assert!(e.message().starts_with(VIOLATION), "{}", e.message());
            assert!(e.message().contains(rule), "{pw}: {}", e.message());
        }
        let all = check_policy("a", Some(&p)).unwrap_err();
        for rule in ["characters", "uppercase", "number", "non-alphanumeric"] {
            assert!(all.message().contains(rule), "{}", all.message());
        }
        assert!(!all.message().contains("lowercase"));
    }

    #[test]
    fn only_listed_symbols_count_as_symbols() {
        let p = PasswordPolicy {
            require_symbols: true,
            ..PasswordPolicy::default()
        };
        assert!(check_policy("abcdef'", Some(&p)).is_ok());
        assert!(check_policy("abcdef~", Some(&p)).is_err());
        assert!(check_policy("abcdef é", Some(&p)).is_err());
    }

    #[test]
    fn without_a_policy_the_aws_default_applies() {
        assert!(check_policy("Abcdefg1", None).is_ok());
        assert!(check_policy("abcdef1!", None).is_ok());
        assert!(check_policy("Abcdef1", None).is_err(), "7 characters");
        let weak = check_policy("abcdefgh1", None).unwrap_err();
        assert!(weak.message().contains("three of"), "{}", weak.message());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let p = PasswordPolicy {
            minimum_password_length: 6,
            ..PasswordPolicy::default()
        };
        assert!(check_policy("ééééé", Some(&p)).is_err());
        assert!(check_policy("éééééé", Some(&p)).is_ok());
    }

    #[test]
    fn the_grant_names_only_the_user_itself() {
        let doc = grant_document("arn:aws:iam::123456789012:user/eng/alice");
        let p = Policy::parse(ACCOUNT_GRANT_ID, &doc, PolicyKind::Identity).unwrap();
        let set = portcullis_policy::PolicySet::builder()
            .identity(p)
            .build()
            .unwrap();
        let alice = portcullis_policy::Principal::new(
            portcullis_policy::PrincipalKind::User,
            "arn:aws:iam::123456789012:user/eng/alice",
        );
        let ctx = portcullis_policy::Context::new();
        let decide = |action, resource| {
            portcullis_policy::authorize(
                &set,
                None,
                &portcullis_policy::Request {
                    principal: &alice,
                    action,
                    resource,
                    resource_account: None,
                    context: &ctx,
                },
            )
            .decision
        };
        use portcullis_policy::Decision::*;
        assert_eq!(
            decide(
                "iam:ChangePassword",
                "arn:aws:iam::123456789012:user/eng/alice"
            ),
            Allow
        );
        assert_eq!(
            decide("iam:ChangePassword", "arn:aws:iam::123456789012:user/bob"),
            ImplicitDeny
        );
        assert_eq!(decide("iam:GetAccountPasswordPolicy", "*"), Allow);
        assert_eq!(decide("iam:UpdateLoginProfile", "*"), ImplicitDeny);
    }
}
