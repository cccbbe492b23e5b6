//! Console passwords: Create/Get/Update/DeleteLoginProfile and
//! ChangePassword, every new password checked against the account password
//! policy (see `crate::password`).

use portcullis_store::model::{self as m};
use time::OffsetDateTime;

use crate::error::{ApiError, ErrorCode, store_error};
use crate::ops::{RequestCtx, ts};
use crate::password::{self, Password};
use crate::protocol::generated::iam::*;

/// A required member the model leaves optional (it is omitted only in
/// AssumeRoot sessions, which Portcullis does not issue), refused with the
/// decoder's wording.
fn required<T>(value: Option<T>, member: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| {
        ApiError::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy \
             constraint: Member must not be null"
        ))
    })
}

/// `MaxSigninSessionDuration` is newer than the store's login profiles:
/// refused plainly rather than accepted and forgotten.
fn refuse_session_duration(value: Option<i32>) -> Result<(), ApiError> {
    match value {
        None => Ok(()),
        Some(_) => Err(ApiError::new(
            ErrorCode::NotImplemented,
            "Portcullis does not implement MaxSigninSessionDuration for login profiles.",
        )),
    }
}

/// The user a call names, or the caller itself when it names none.
fn target_user(ctx: &RequestCtx, user_name: Option<String>) -> Result<String, ApiError> {
    match (user_name, ctx.caller().user_name()) {
        (Some(name), _) => Ok(name),
        (None, Some(own)) => Ok(own.to_owned()),
        // The root user's console password is not an IAM login profile.
        (None, None) => Err(ApiError::no_such_entity(format!(
            "Login Profile for User {} cannot be found.",
            ctx.account()
        ))),
    }
}

fn wire_profile(p: &m::LoginProfile, always_show_reset: bool) -> LoginProfile {
    LoginProfile {
        user_name: p.user_name.clone(),
        create_date: ts(p.create_date),
        password_reset_required: (always_show_reset || p.password_reset_required)
            .then_some(p.password_reset_required),
        max_signin_session_duration: None,
    }
}

pub async fn create_login_profile(
    ctx: &RequestCtx,
    i: CreateLoginProfileRequest,
) -> Result<CreateLoginProfileResponse, ApiError> {
    refuse_session_duration(i.max_signin_session_duration)?;
    let user = required(i.user_name, "userName")?;
    let clear = Password::new(required(i.password, "password")?.0);
    let policy = password::account_policy(ctx.state(), ctx.account()).await?;
    password::check_policy(clear.expose(), policy.as_ref())?;
    // Fail fast on a missing user before spending a hash on it; the store
    // checks again inside its transaction.
    ctx.store()
        .get_user(ctx.account(), &user)
        .await
        .map_err(store_error)?;
    let hash = password::hash(&clear).await?;
    let profile = ctx
        .store()
        .create_login_profile(
            ctx.account(),
            &user,
            &m::NewLoginProfile {
                password_hash: hash,
                password_reset_required: i.password_reset_required.unwrap_or(false),
            },
            ctx.now(),
        )
        .await
        .map_err(store_error)?;
    Ok(CreateLoginProfileResponse {
        login_profile: wire_profile(&profile, true),
    })
}

pub async fn get_login_profile(
    ctx: &RequestCtx,
    i: GetLoginProfileRequest,
) -> Result<GetLoginProfileResponse, ApiError> {
    let user = target_user(ctx, i.user_name)?;
    let profile = ctx
        .store()
        .get_login_profile(ctx.account(), &user)
        .await
        .map_err(store_error)?;
    Ok(GetLoginProfileResponse {
        login_profile: wire_profile(&profile, false),
    })
}

pub async fn update_login_profile(
    ctx: &RequestCtx,
    i: UpdateLoginProfileRequest,
) -> Result<(), ApiError> {
    refuse_session_duration(i.max_signin_session_duration)?;
    let password_hash = match i.password {
        Some(clear) => {
            let clear = Password::new(clear.0);
            let policy = password::account_policy(ctx.state(), ctx.account()).await?;
            password::check_policy(clear.expose(), policy.as_ref())?;
            // A missing profile is reported before a hash is spent on it.
            ctx.store()
                .get_login_profile(ctx.account(), &i.user_name)
                .await
                .map_err(store_error)?;
            Some(password::hash(&clear).await?)
        }
        None => None,
    };
    ctx.store()
        .update_login_profile(
            ctx.account(),
            &i.user_name,
            &m::LoginProfileUpdate {
                password_hash,
                password_reset_required: i.password_reset_required,
            },
            ctx.now(),
        )
        .await
        .map_err(store_error)
}

pub async fn delete_login_profile(
    ctx: &RequestCtx,
    i: DeleteLoginProfileRequest,
) -> Result<(), ApiError> {
    let user = target_user(ctx, i.user_name)?;
    ctx.store()
        .delete_login_profile(ctx.account(), &user)
        .await
        .map_err(store_error)
}

/// Whether a password set at `changed` has expired under a policy that
/// forbids users to renew expired passwords themselves (`HardExpiry`).
fn hard_expired(policy: &m::PasswordPolicy, changed: OffsetDateTime, now: OffsetDateTime) -> bool {
    match policy.max_password_age {
        Some(days) if policy.hard_expiry => changed + time::Duration::days(i64::from(days)) <= now,
        _ => false,
    }
}

/// The caller changes its own password. Authorisation already required
/// `iam:ChangePassword` on the caller, which an account policy with
/// `AllowUsersToChangePassword` grants every user.
pub async fn change_password(ctx: &RequestCtx, i: ChangePasswordRequest) -> Result<(), ApiError> {
    let old = Password::new(i.old_password.0);
    let new = Password::new(i.new_password.0);
    let Some(user) = ctx.caller().user_name().map(str::to_owned) else {
        return Err(ApiError::new(
            ErrorCode::InvalidUserType,
            "ChangePassword changes the password of the calling IAM user; the account root \
             user has none to change here.",
        ));
    };
    let policy = password::account_policy(ctx.state(), ctx.account()).await?;
    let profile = ctx
        .store()
        .get_login_profile(ctx.account(), &user)
        .await
        .map_err(store_error)?;
    if policy
        .as_ref()
        .is_some_and(|p| hard_expired(p, profile.password_changed, ctx.now()))
    {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            "The password has expired and the account password policy (HardExpiry) does not \
             allow users to set a new one: an administrator must reset it.",
        ));
    }
    if !password::verify(&old, &profile.password_hash).await? {
        return Err(ApiError::new(
            ErrorCode::InvalidUserType,
            "The old password is incorrect.",
        ));
    }
    password::check_policy(new.expose(), policy.as_ref())?;
    if policy
        .as_ref()
        .is_some_and(|p| p.password_reuse_prevention.is_some())
        && password::verify(&new, &profile.password_hash).await?
    {
        return Err(password::violation(
            "The account password policy prevents reusing a previous password.",
        ));
    }
    let hash = password::hash(&new).await?;
    ctx.store()
        .update_login_profile(
            ctx.account(),
            &user,
            &m::LoginProfileUpdate {
                password_hash: Some(hash),
                password_reset_required: Some(false),
            },
            ctx.now(),
        )
        .await
        .map_err(store_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hard_expiry_past_the_maximum_age_blocks_a_change() {
        let changed = OffsetDateTime::UNIX_EPOCH;
        let day = time::Duration::days(1);
        let policy = m::PasswordPolicy {
            max_password_age: Some(30),
            hard_expiry: true,
            ..m::PasswordPolicy::default()
        };
        assert!(!hard_expired(&policy, changed, changed + day * 29));
        assert!(hard_expired(&policy, changed, changed + day * 30));
        let soft = m::PasswordPolicy {
            hard_expiry: false,
            ..policy.clone()
        };
        assert!(!hard_expired(&soft, changed, changed + day * 365));
        let no_age = m::PasswordPolicy {
            max_password_age: None,
            ..policy
        };
        assert!(!hard_expired(&no_age, changed, changed + day * 365));
    }
}
