//! `sts:GetSessionToken` and `sts:GetFederationToken`: sessions of an IAM
//! user (or root), made with its long-term key.

use crate::authn::Identity;
use crate::error::{ApiError, ErrorCode};
use crate::ops::RequestCtx;
use crate::protocol::generated::sts::{
    FederatedUser, GetFederationTokenRequest, GetFederationTokenResponse, GetSessionTokenRequest,
    GetSessionTokenResponse,
};
use crate::sessions::SessionPrincipal;

use super::credentials::{self, NewSession};

/// The longest session of a user (36 hours) and of the root user (1 hour).
const USER_MAX_SECONDS: i64 = 129_600;
const ROOT_MAX_SECONDS: i64 = 3600;
const USER_DEFAULT_SECONDS: i64 = 43_200;

fn long_term_only(ctx: &RequestCtx, operation: &str) -> Result<(), ApiError> {
    if ctx.caller().session.is_some() {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            format!("Cannot call {operation} with session credentials"),
        ));
    }
    Ok(())
}

pub async fn get_session_token(
    ctx: &RequestCtx,
    i: GetSessionTokenRequest,
) -> Result<GetSessionTokenResponse, ApiError> {
    long_term_only(ctx, "GetSessionToken")?;
    let caller = ctx.caller();
    let (principal, default, max) = match &caller.identity {
        Identity::Root => (SessionPrincipal::Root, ROOT_MAX_SECONDS, ROOT_MAX_SECONDS),
        Identity::User { id, name, path } => (
            SessionPrincipal::User {
                user_id: id.clone(),
                user_name: name.clone(),
                user_path: path.clone(),
            },
            USER_DEFAULT_SECONDS,
            USER_MAX_SECONDS,
        ),
        _ => {
            return long_term_only(ctx, "GetSessionToken")
                .map(|()| GetSessionTokenResponse::default());
        }
    };
    let seconds = credentials::duration(
        i.duration_seconds,
        default,
        max,
        &format!("The requested DurationSeconds exceeds the {max} second limit for this identity."),
    )?;
    let (creds, _) = credentials::issue(
        ctx,
        NewSession {
            account: ctx.account().to_owned(),
            principal,
            session_policies: None,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            mfa_auth_time: ctx
                .authorized()
                .mfa_verified()
                .then(|| ctx.now().unix_timestamp()),
            source_identity: None,
            chained: false,
            context: Vec::new(),
        },
        seconds,
    )?;
    Ok(GetSessionTokenResponse {
        credentials: Some(creds),
        ..GetSessionTokenResponse::default()
    })
}

pub async fn get_federation_token(
    ctx: &RequestCtx,
    i: GetFederationTokenRequest,
) -> Result<GetFederationTokenResponse, ApiError> {
    long_term_only(ctx, "GetFederationToken")?;
    let Identity::User { id, name, .. } = &ctx.caller().identity else {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            "GetFederationToken must be called by an IAM user with its long-term access key.",
        ));
    };
    let seconds = credentials::duration(
        i.duration_seconds,
        USER_DEFAULT_SECONDS,
        USER_MAX_SECONDS,
        "The requested DurationSeconds exceeds the 129600 second limit.",
    )?;
    let session_policies = credentials::session_policies(ctx, i.policy, i.policy_arns).await?;
    let tags = credentials::session_tags(i.tags)?;
    let packed = credentials::packed_size(session_policies.as_ref(), &tags);
    let (creds, claims) = credentials::issue(
        ctx,
        NewSession {
            account: ctx.account().to_owned(),
            principal: SessionPrincipal::FederatedUser {
                name: i.name.clone(),
                parent_user_id: id.clone(),
                parent_user_name: name.clone(),
            },
            // Without session policies a federated user may do nothing:
            // the session is bounded by an empty set.
            session_policies: Some(session_policies.unwrap_or_default()),
            tags,
            transitive_tag_keys: Vec::new(),
            mfa_auth_time: None,
            source_identity: None,
            chained: false,
            context: Vec::new(),
        },
        seconds,
    )?;
    Ok(GetFederationTokenResponse {
        credentials: Some(creds),
        federated_user: Some(FederatedUser {
            arn: claims.arn(),
            federated_user_id: claims.user_id(),
        }),
        packed_policy_size: packed,
        ..GetFederationTokenResponse::default()
    })
}
