//! `sts:AssumeRoleWithWebIdentity`. By the time the handler runs, the token
//! has been verified against its provider (`federation::oidc`) and the
//! role's trust policy has allowed the provider with the token's condition
//! keys: what is left is the session. The session-making part is shared
//! with `sts:AssumeRoleWithSAML` (`saml.rs`).

use std::sync::Arc;

use portcullis_store::StoreError;

use crate::authn::Identity;
use crate::authz::parse_role_arn;
use crate::error::{ApiError, store_error};
use crate::federation::{self, FederatedIdentity};
use crate::ops::RequestCtx;
use crate::protocol::generated::sts::{
    AssumeRoleWithWebIdentityRequest, AssumeRoleWithWebIdentityResponse, AssumedRoleUser,
    Credentials, PolicyDescriptorType,
};
use crate::sessions::{SessionClaims, SessionPrincipal};

use super::credentials::{self, NewSession};

pub async fn assume_role_with_web_identity(
    ctx: &RequestCtx,
    i: AssumeRoleWithWebIdentityRequest,
) -> Result<AssumeRoleWithWebIdentityResponse, ApiError> {
    let identity = caller(ctx)?;
    let issued = issue(
        ctx,
        &identity,
        i.duration_seconds,
        None,
        i.policy,
        i.policy_arns,
    )
    .await?;
    Ok(AssumeRoleWithWebIdentityResponse {
        assumed_role_user: Some(AssumedRoleUser {
            arn: issued.claims.arn(),
            assumed_role_id: issued.claims.user_id(),
        }),
        audience: Some(identity.audience.clone()),
        credentials: Some(issued.credentials),
        packed_policy_size: issued.packed,
        provider: Some(identity.provider.clone()),
        source_identity: identity.source_identity.clone(),
        subject_from_web_identity_token: Some(identity.subject.clone()),
        ..AssumeRoleWithWebIdentityResponse::default()
    })
}

/// The verified federation caller of this request.
pub fn caller(ctx: &RequestCtx) -> Result<Arc<FederatedIdentity>, ApiError> {
    match &ctx.caller().identity {
        Identity::Federated(f) => Ok(f.clone()),
        // The pipeline sends every federation call through `federation`.
        _ => Err(ApiError::internal()),
    }
}

/// A session just made.
#[derive(Debug)]
pub struct Issued {
    pub credentials: Credentials,
    pub claims: SessionClaims,
    pub packed: Option<i32>,
}

/// Issues the role session: DurationSeconds as for AssumeRole (default one
/// hour, or the SAML SessionDuration, at most the role's maximum).
pub async fn issue(
    ctx: &RequestCtx,
    identity: &FederatedIdentity,
    duration_seconds: Option<i32>,
    default_seconds: Option<i64>,
    policy: Option<String>,
    policy_arns: Option<Vec<PolicyDescriptorType>>,
) -> Result<Issued, ApiError> {
    let denied = || federation::access_denied(identity.call);
    let (account, _, name) = parse_role_arn(&identity.role_arn).ok_or_else(denied)?;
    let role = match ctx.store().get_role(account, name).await {
        Ok(role) => role,
        Err(StoreError::NoSuchEntity(_)) => return Err(denied()),
        Err(e) => return Err(store_error(e)),
    };
    let max = i64::from(role.max_session_duration);
    let seconds = credentials::duration(
        duration_seconds,
        default_seconds.unwrap_or(3600).min(max),
        max,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )?;
    let session_policies = credentials::session_policies(ctx, policy, policy_arns).await?;
    let packed = credentials::packed_size(session_policies.as_ref(), &[]);
    let (credentials, claims) = credentials::issue(
        ctx,
        NewSession {
            account: role.account_id.clone(),
            principal: SessionPrincipal::Role {
                role_id: role.id.clone(),
                role_name: role.name.clone(),
                role_path: role.path.clone(),
                session_name: identity.session_name.clone(),
            },
            session_policies,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            mfa_auth_time: None,
            source_identity: identity.source_identity.clone(),
            chained: false,
            context: identity.session_context(),
        },
        seconds,
    )?;
    credentials::record_role_use(ctx, account, &role).await;
    Ok(Issued {
        credentials,
        claims,
        packed,
    })
}
