//! `sts:AssumeRole`. By the time the handler runs, authorisation has
//! already evaluated the role's trust policy with the caller's identity
//! policies (both required across accounts), the ExternalId, the session
//! name, the tags and any MFA code: what is left is the session itself.

use portcullis_store::StoreError;

use crate::authn::Identity;
use crate::authz::parse_role_arn;
use crate::error::{ApiError, ErrorCode, store_error};
use crate::ops::RequestCtx;
use crate::protocol::generated::sts::{AssumeRoleRequest, AssumeRoleResponse, AssumedRoleUser};
use crate::sessions::SessionPrincipal;

use super::credentials::{self, NewSession};

/// Role chaining caps a session at one hour.
const CHAINED_MAX_SECONDS: i64 = 3600;

pub async fn assume_role(
    ctx: &RequestCtx,
    i: AssumeRoleRequest,
) -> Result<AssumeRoleResponse, ApiError> {
    let denied = || {
        ApiError::new(
            ErrorCode::AccessDenied,
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                ctx.caller().arn,
                i.role_arn
            ),
        )
    };
    let (account, _, name) = parse_role_arn(&i.role_arn).ok_or_else(denied)?;
    let role = match ctx.store().get_role(account, name).await {
        Ok(role) => role,
        Err(StoreError::NoSuchEntity(_)) => return Err(denied()),
        Err(e) => return Err(store_error(e)),
    };
    let caller = ctx.caller();
    let chained = matches!(caller.identity, Identity::AssumedRole { .. });
    let seconds = if chained {
        credentials::duration(
            i.duration_seconds,
            CHAINED_MAX_SECONDS,
            CHAINED_MAX_SECONDS,
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        )?
    } else {
        credentials::duration(
            i.duration_seconds,
            3600,
            i64::from(role.max_session_duration),
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        )?
    };
    let session_policies = credentials::session_policies(ctx, i.policy, i.policy_arns).await?;

    // Transitive tags of the calling session pass on and cannot be
    // overridden; the new session's own transitive keys must be among its tags.
    let mut tags = credentials::session_tags(i.tags)?;
    let requested_transitive = i.transitive_tag_keys.unwrap_or_default();
    for key in &requested_transitive {
        if !tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValue,
                format!(
                    "The specified transitive tag key must be included in the requested tags: {key}"
                ),
            ));
        }
    }
    let mut transitive = requested_transitive;
    if let Some(session) = &caller.session {
        for key in &session.transitive_tag_keys {
            let Some((_, value)) = session
                .tags
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
            else {
                continue;
            };
            if tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameterValue,
                    format!(
                        "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session: {key}"
                    ),
                ));
            }
            tags.push((key.clone(), value.clone()));
            transitive.push(key.clone());
        }
    }

    // A source identity, once set, stays for every chained session.
    let inherited_source = caller
        .session
        .as_ref()
        .and_then(|s| s.source_identity.clone());
    if let (Some(old), Some(new)) = (&inherited_source, &i.source_identity)
        && old != new
    {
        return Err(ApiError::new(
            ErrorCode::InvalidParameterValue,
            "The source identity of a role session cannot be changed by role chaining.",
        ));
    }
    let source_identity = inherited_source.or(i.source_identity);

    let packed = credentials::packed_size(session_policies.as_ref(), &tags);
    let principal = SessionPrincipal::Role {
        role_id: role.id.clone(),
        role_name: role.name.clone(),
        role_path: role.path.clone(),
        session_name: i.role_session_name.clone(),
    };
    let (creds, claims) = credentials::issue(
        ctx,
        NewSession {
            account: role.account_id.clone(),
            principal,
            session_policies,
            tags,
            transitive_tag_keys: transitive,
            mfa_auth_time: ctx
                .authorized()
                .mfa_verified()
                .then(|| ctx.now().unix_timestamp()),
            source_identity: source_identity.clone(),
            chained,
            context: Vec::new(),
        },
        seconds,
    )?;
    credentials::record_role_use(ctx, account, &role).await;
    Ok(AssumeRoleResponse {
        assumed_role_user: Some(AssumedRoleUser {
            arn: claims.arn(),
            assumed_role_id: claims.user_id(),
        }),
        credentials: Some(creds),
        packed_policy_size: packed,
        source_identity,
        ..AssumeRoleResponse::default()
    })
}
