//! Signing an IAM user in: the login profile's password, the code of an
//! enabled MFA device, the account password policy (expiry, a forced new
//! password), and lockout after repeated failures.
//!
//! Lockout ([`LOCKOUT`]): 5 failures (wrong password or wrong code) within
//! 15 minutes lock the user name for 15 minutes; while locked, sign-in is
//! refused without looking at the password. A successful sign-in forgets
//! the failures. Failures are counted per user name, whether or not the
//! user exists, so that unknown names behave like known ones.
//!
//! Decisions about the person (may it change its password, may it assume a
//! role) are taken by the policy engine over the user's compiled policies,
//! as for any API call the user makes, with the context a console session
//! has: `aws:username`, `aws:MultiFactorAuthPresent`, `aws:SourceIp`…

use std::sync::{Arc, OnceLock};

use portcullis_policy::{self as policy, Context, ContextType, Decision, Policy};
use portcullis_store::StoreError;
use portcullis_store::model::{LockoutPolicy, PasswordHash, Tag, User};
use time::OffsetDateTime;

use crate::authn::{Caller, Identity, Transport};
use crate::error::{ApiError, store_error};
use crate::password::{self, Password};
use crate::state::AppState;

use super::session::Person;

/// 5 failures in 15 minutes lock a user name for 15 minutes.
pub const LOCKOUT: LockoutPolicy = LockoutPolicy {
    max_failures: 5,
    window_seconds: 900,
    lock_seconds: 900,
};

/// Why a sign-in step was refused. The page shows one message per variant;
/// wrong user names and wrong passwords are deliberately the same.
#[derive(Debug)]
pub enum Refusal {
    BadCredentials,
    BadCode,
    Locked,
    /// The password expired and the policy (`HardExpiry`) lets only an
    /// administrator renew it.
    Expired,
    Internal(ApiError),
}

impl Refusal {
    pub fn message(&self) -> &'static str {
        match self {
            Refusal::BadCredentials => {
                "Your authentication information is incorrect. Please try again."
            }
            Refusal::BadCode => "The MFA code is not valid. Please try again.",
            Refusal::Locked => {
                "Too many failed sign-in attempts: this user is locked for a while. Try again later."
            }
            Refusal::Expired => {
                "Your password has expired. Ask your administrator to set a new one."
            }
            Refusal::Internal(_) => "The service could not complete the sign-in. Try again later.",
        }
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Internal(e)
    }
}

/// The password verified.
#[derive(Debug)]
pub struct PasswordOk {
    pub user: User,
    /// `PasswordResetRequired`, or the password expired under a policy that
    /// lets the user renew it.
    pub must_change: bool,
    pub has_mfa: bool,
}

/// IAM's user name rule (`[\w+=,.@-]{1,64}`).
pub fn valid_user_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// A hash no password matches, verified when the user does not exist so
/// that such attempts take as long as real ones.
fn decoy_hash() -> Option<&'static PasswordHash> {
    static DECOY: OnceLock<Option<PasswordHash>> = OnceLock::new();
    DECOY
        .get_or_init(|| {
            let random = crate::secrets::random_bytes::<24>().ok()?;
            password::hash_blocking(&Password::new(hex::encode(random))).ok()
        })
        .as_ref()
}

async fn waste_time(password: &Password) {
    let decoy = tokio::task::spawn_blocking(decoy_hash).await.ok().flatten();
    if let Some(hash) = decoy {
        let _ = password::verify(password, hash).await;
    }
}

async fn count_failure(
    state: &AppState,
    account: &str,
    user_name: &str,
    now: OffsetDateTime,
    refusal: Refusal,
) -> Refusal {
    match state
        .store
        .record_signin_failure(account, user_name, &LOCKOUT, now)
        .await
    {
        Ok(lock) if lock.is_locked(now) => {
            tracing::warn!(
                account,
                user = user_name,
                "sign-in locked after repeated failures"
            );
            Refusal::Locked
        }
        Ok(_) => refusal,
        Err(e) => Refusal::Internal(store_error(e)),
    }
}

async fn check_not_locked(
    state: &AppState,
    account: &str,
    user_name: &str,
    now: OffsetDateTime,
) -> Result<(), Refusal> {
    let lock = state
        .store
        .get_signin_lockout(account, user_name, &LOCKOUT, now)
        .await
        .map_err(|e| Refusal::Internal(store_error(e)))?;
    if lock.is_locked(now) {
        return Err(Refusal::Locked);
    }
    Ok(())
}

/// Checks the password of `user_name` in `account`.
pub async fn verify_password(
    state: &AppState,
    account: &str,
    user_name: &str,
    password: &Password,
    now: OffsetDateTime,
) -> Result<PasswordOk, Refusal> {
    let known_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    if !known_account || !valid_user_name(user_name) || password.expose().is_empty() {
        waste_time(password).await;
        return Err(Refusal::BadCredentials);
    }
    check_not_locked(state, account, user_name, now).await?;
    let user = match state.store.get_user(account, user_name).await {
        Ok(u) => Some(u),
        Err(StoreError::NoSuchEntity(_)) => None,
        Err(e) => return Err(Refusal::Internal(store_error(e))),
    };
    let profile = match &user {
        Some(u) => match state.store.get_login_profile(account, &u.name).await {
            Ok(p) => Some(p),
            Err(StoreError::NoSuchEntity(_)) => None,
            Err(e) => return Err(Refusal::Internal(store_error(e))),
        },
        None => None,
    };
    let (Some(user), Some(profile)) = (user, profile) else {
        waste_time(password).await;
        return Err(count_failure(state, account, user_name, now, Refusal::BadCredentials).await);
    };
    if !password::verify(password, &profile.password_hash).await? {
        return Err(count_failure(state, account, user_name, now, Refusal::BadCredentials).await);
    }
    let policy = password::account_policy(state, account).await?;
    let expired = policy.as_ref().and_then(|p| {
        let days = p.max_password_age?;
        let expired = profile.password_changed + time::Duration::days(i64::from(days)) <= now;
        expired.then_some(p.hard_expiry)
    });
    if expired == Some(true) {
        return Err(Refusal::Expired);
    }
    let devices = state
        .store
        .list_mfa_devices(account, &user.name, None, 100)
        .await
        .map_err(store_error)?;
    Ok(PasswordOk {
        must_change: profile.password_reset_required || expired.is_some(),
        has_mfa: devices.items.iter().any(|d| d.enable_date.is_some()),
        user,
    })
}

/// Checks a code against the person's enabled MFA devices (any of them),
/// consuming its time step.
pub async fn verify_code(
    state: &AppState,
    person: &Person,
    code: &str,
    now: OffsetDateTime,
) -> Result<(), Refusal> {
    check_not_locked(state, &person.account, &person.user_name, now).await?;
    let devices = state
        .store
        .list_mfa_devices(&person.account, &person.user_name, None, 100)
        .await
        .map_err(store_error)?;
    let code = code.trim();
    for device in devices.items.iter().filter(|d| d.enable_date.is_some()) {
        let verified = crate::mfa::verify_mfa_code(
            state,
            &person.account,
            Some(&person.user_name),
            &device.serial_number,
            code,
            now,
        )
        .await;
        if verified.is_ok() {
            return Ok(());
        }
    }
    Err(count_failure(
        state,
        &person.account,
        &person.user_name,
        now,
        Refusal::BadCode,
    )
    .await)
}

/// Every factor is proven: forget failures and record the use.
pub async fn succeeded(state: &AppState, person: &Person, now: OffsetDateTime) {
    if let Err(e) = state
        .store
        .clear_signin_failures(&person.account, &person.user_name)
        .await
    {
        tracing::warn!(error = %e, "cannot clear sign-in failures");
    }
    if let Err(e) = state
        .store
        .record_password_use(&person.account, &person.user_name, now)
        .await
    {
        tracing::warn!(error = %e, "cannot record a password use");
    }
    // `PasswordLastUsed` is part of a user read: drop cached ones (`reads`).
    state.epoch.advance();
}

/// The login profile's `password_changed`, when the person's user and
/// login profile still exist and are the same user (by unique id).
pub async fn password_changed(state: &AppState, person: &Person) -> Option<i64> {
    let user = state
        .store
        .get_user_by_id(&person.account, &person.user_id)
        .await
        .ok()?;
    let profile = state
        .store
        .get_login_profile(&person.account, &user.name)
        .await
        .ok()?;
    Some(profile.password_changed.unix_timestamp())
}

/// Sets a new password for the person, as `ChangePassword` would: the
/// person must be allowed `iam:ChangePassword` on itself, and the password
/// must satisfy the account policy (and differ from the current one when
/// the policy prevents reuse). Returns a message for the page on refusal.
pub async fn change_password(
    state: &AppState,
    person: &Person,
    transport: Transport,
    new: &Password,
    confirm: &Password,
    now: OffsetDateTime,
) -> Result<(), String> {
    let internal = |_| "The service could not change the password. Try again later.".to_owned();
    if new.expose() != confirm.expose() {
        return Err("The new passwords do not match.".to_owned());
    }
    let arn = person_arn(person);
    let allowed = decide(
        state,
        person,
        transport,
        "iam:ChangePassword",
        &arn,
        None,
        &[],
        &[],
    )
    .await
    .map_err(internal)?;
    if !allowed {
        return Err(format!(
            "You must set a new password, but you are not allowed to (iam:ChangePassword on {arn}). \
             Ask your administrator."
        ));
    }
    let policy = password::account_policy(state, &person.account)
        .await
        .map_err(internal)?;
    password::check_policy(new.expose(), policy.as_ref()).map_err(|e| e.message().to_owned())?;
    let profile = state
        .store
        .get_login_profile(&person.account, &person.user_name)
        .await
        .map_err(|e| internal(store_error(e)))?;
    if password::verify(new, &profile.password_hash)
        .await
        .map_err(internal)?
    {
        return Err("The new password must differ from the current one.".to_owned());
    }
    let hash = password::hash(new).await.map_err(internal)?;
    state
        .store
        .update_login_profile(
            &person.account,
            &person.user_name,
            &portcullis_store::model::LoginProfileUpdate {
                password_hash: Some(hash),
                password_reset_required: Some(false),
            },
            now,
        )
        .await
        .map_err(|e| internal(store_error(e)))?;
    Ok(())
}

pub fn person_arn(person: &Person) -> String {
    portcullis_store::arn::user_arn(&person.account, &person.user_path, &person.user_name)
}

/// Whether the person may perform `action` on `resource`, decided by the
/// policy engine over the user's policies (boundary and the account's
/// password grant included) and, when given, a resource-based policy (a
/// role's trust policy) of `resource_account`.
#[expect(
    clippy::too_many_arguments,
    reason = "one decision, each argument a distinct part of the request"
)]
pub async fn decide(
    state: &AppState,
    person: &Person,
    transport: Transport,
    action: &str,
    resource: &str,
    resource_policy: Option<(Arc<Policy>, &str)>,
    resource_tags: &[Tag],
    extra: &[(&str, &str)],
) -> Result<bool, ApiError> {
    let caller = Caller {
        account_id: person.account.clone(),
        arn: person_arn(person),
        user_id: person.user_id.clone(),
        identity: Identity::User {
            id: person.user_id.clone(),
            name: person.user_name.clone(),
            path: person.user_path.clone(),
        },
        access_key_id: String::new(),
        session: None,
        policy_key: std::sync::OnceLock::new(),
    };
    let policies = crate::authz::principal_policies(state, &caller).await?;
    let context = person_context(
        person,
        &caller.arn,
        transport,
        state.clock.now(),
        &policies.tags,
        resource_tags,
        extra,
    );
    let (policy, account) = match &resource_policy {
        Some((p, account)) => (Some(p.as_ref()), Some(*account)),
        None => (None, None),
    };
    let request = policy::Request {
        principal: &policies.principal,
        action,
        resource,
        resource_account: account,
        context: &context,
    };
    Ok(policy::authorize(&policies.set, policy, &request).decision == Decision::Allow)
}

/// The request context of a signed-in person: the global keys a console
/// session of an IAM user has.
fn person_context(
    person: &Person,
    arn: &str,
    transport: Transport,
    now: OffsetDateTime,
    principal_tags: &[Tag],
    resource_tags: &[Tag],
    extra: &[(&str, &str)],
) -> Context {
    let mut c = Context::new();
    // Our own well-formed values; a failed insert only drops a key, which
    // makes conditions on it fail closed.
    let mut put = |key: &str, ty: ContextType, value: &str| {
        let _ = c.insert(key, ty, [value]);
    };
    let iso = crate::protocol::xml::Timestamp(now).to_iso8601();
    put("aws:CurrentTime", ContextType::Date, &iso);
    put(
        "aws:EpochTime",
        ContextType::Date,
        &now.unix_timestamp().to_string(),
    );
    put("aws:PrincipalArn", ContextType::String, arn);
    put("aws:PrincipalAccount", ContextType::String, &person.account);
    put("aws:userid", ContextType::String, &person.user_id);
    put("aws:username", ContextType::String, &person.user_name);
    put("aws:PrincipalType", ContextType::String, "User");
    put("aws:PrincipalIsAWSService", ContextType::Boolean, "false");
    put("aws:ViaAWSService", ContextType::Boolean, "false");
    put("aws:SourceIp", ContextType::Ip, &transport.source_ip_text());
    put(
        "aws:SecureTransport",
        ContextType::Boolean,
        if transport.secure { "true" } else { "false" },
    );
    put("aws:RequestedRegion", ContextType::String, "us-east-1");
    put(
        "aws:TokenIssueTime",
        ContextType::Date,
        &person.auth_time.to_string(),
    );
    put(
        "aws:MultiFactorAuthPresent",
        ContextType::Boolean,
        if person.mfa { "true" } else { "false" },
    );
    if person.mfa {
        put(
            "aws:MultiFactorAuthAge",
            ContextType::Numeric,
            &(now.unix_timestamp() - person.auth_time).max(0).to_string(),
        );
    }
    for tag in principal_tags {
        put(
            &format!("aws:PrincipalTag/{}", tag.key),
            ContextType::String,
            &tag.value,
        );
    }
    for tag in resource_tags {
        put(
            &format!("aws:ResourceTag/{}", tag.key),
            ContextType::String,
            &tag.value,
        );
        put(
            &format!("iam:ResourceTag/{}", tag.key),
            ContextType::String,
            &tag.value,
        );
    }
    for (key, value) in extra {
        put(key, ContextType::String, value);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_follow_iam() {
        assert!(valid_user_name("alice"));
        assert!(valid_user_name("a.b+c=d,e@f-g_h"));
        assert!(!valid_user_name(""));
        assert!(!valid_user_name("al ice"));
        assert!(!valid_user_name(&"a".repeat(65)));
    }

    #[test]
    fn wrong_names_and_passwords_read_the_same() {
        assert_eq!(
            Refusal::BadCredentials.message(),
            "Your authentication information is incorrect. Please try again."
        );
        assert_ne!(Refusal::Locked.message(), Refusal::BadCredentials.message());
    }

    #[test]
    fn the_decoy_hash_matches_no_simple_password() {
        let h = decoy_hash().unwrap();
        assert!(!password::verify_blocking(&Password::new(String::new()), h));
        assert!(!password::verify_blocking(
            &Password::new("password".into()),
            h
        ));
    }
}
