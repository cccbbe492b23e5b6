//! Issuing temporary credentials, and the checks every issuing call shares.

use portcullis_policy::PolicyKind;
use portcullis_store::ids::{IdKind, new_id};
use time::OffsetDateTime;

use crate::error::{ApiError, ErrorCode};
use crate::ops::{self, RequestCtx, ts};
use crate::protocol::generated::sts::{Credentials, PolicyDescriptorType, Tag};
use crate::protocol::xml::Sensitive;
use crate::secrets::new_secret_access_key;
use crate::sessions::{SessionClaims, SessionPolicies, SessionPrincipal};
use crate::state::AppState;

/// Everything of a new session but its key, secret and times.
#[derive(Debug)]
pub struct NewSession {
    /// The account the session belongs to (a role's, which may not be the
    /// caller's).
    pub account: String,
    pub principal: SessionPrincipal,
    pub session_policies: Option<SessionPolicies>,
    pub tags: Vec<(String, String)>,
    pub transitive_tag_keys: Vec<String>,
    pub mfa_auth_time: Option<i64>,
    pub source_identity: Option<String>,
    pub chained: bool,
    pub context: Vec<(String, String)>,
}

/// Makes the key, the secret and the token of a session lasting `seconds`.
pub fn issue(
    ctx: &RequestCtx,
    session: NewSession,
    seconds: i64,
) -> Result<(Credentials, SessionClaims), ApiError> {
    issue_at(ctx.state(), ctx.now(), session, seconds)
}

/// [`issue`] for callers that are not a signed API request (the instance
/// credentials endpoint, which a machine token authenticates).
pub fn issue_at(
    state: &AppState,
    now: OffsetDateTime,
    session: NewSession,
    seconds: i64,
) -> Result<(Credentials, SessionClaims), ApiError> {
    let secret = new_secret_access_key().map_err(|_| ApiError::internal())?;
    let claims = SessionClaims {
        access_key_id: new_id(IdKind::TemporaryAccessKey),
        secret: secret.to_string(),
        account: session.account,
        principal: session.principal,
        issued: now.unix_timestamp(),
        expires: now.unix_timestamp() + seconds,
        session_policies: session.session_policies,
        tags: session.tags,
        transitive_tag_keys: session.transitive_tag_keys,
        mfa_auth_time: session.mfa_auth_time,
        source_identity: session.source_identity,
        chained: session.chained,
        context: session.context,
    };
    let token = state.token_keys.seal(&claims).map_err(|e| {
        tracing::error!(error = %e, "cannot seal a session token");
        ApiError::internal()
    })?;
    let credentials = Credentials {
        access_key_id: claims.access_key_id.clone(),
        expiration: ts(claims.expires_at()),
        secret_access_key: Sensitive(secret.to_string()),
        session_token: token,
    };
    Ok((credentials, claims))
}

/// `DurationSeconds` within `[900, max]`, defaulting to `default`.
pub fn duration(
    requested: Option<i32>,
    default: i64,
    max: i64,
    too_long: &str,
) -> Result<i64, ApiError> {
    let seconds = requested.map_or(default, i64::from);
    if seconds < 900 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to satisfy constraint: \
             Member must have value greater than or equal to 900"
        )));
    }
    if seconds > max {
        return Err(ApiError::validation(too_long.to_owned()));
    }
    Ok(seconds)
}

/// The `Policy` and `PolicyArns` of a request, checked: the document as a
/// session policy, at most 10 ARNs, each naming a managed policy that exists.
pub async fn session_policies(
    ctx: &RequestCtx,
    policy: Option<String>,
    arns: Option<Vec<PolicyDescriptorType>>,
) -> Result<Option<SessionPolicies>, ApiError> {
    if policy.is_none() && arns.as_ref().is_none_or(Vec::is_empty) {
        return Ok(None);
    }
    if let Some(text) = &policy {
        ops::validate_document(text, PolicyKind::Session, None).map_err(|e| {
            if e.code() == ErrorCode::LimitExceeded {
                ApiError::new(
                    ErrorCode::PackedPolicyTooLarge,
                    "Packed policy consumes more than 100% of the allotted space.",
                )
            } else {
                e
            }
        })?;
    }
    let arns: Vec<String> = arns
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| d.arn)
        .collect();
    if arns.len() > 10 {
        return Err(ApiError::validation(
            "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: \
             Member must have length less than or equal to 10",
        ));
    }
    for arn in &arns {
        crate::authz::managed_document(ctx.state(), ctx.account(), arn)
            .await
            .map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidParameterValue,
                    format!("The policy {arn} does not exist or is not attachable."),
                )
            })?;
    }
    Ok(Some(SessionPolicies {
        inline: policy,
        arns,
    }))
}

/// Session tags: at most 50, keys unique case-insensitively.
pub fn session_tags(tags: Option<Vec<Tag>>) -> Result<Vec<(String, String)>, ApiError> {
    let tags = tags.unwrap_or_default();
    if tags.len() > 50 {
        return Err(ApiError::validation(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: \
             Member must have length less than or equal to 50",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for t in &tags {
        if !seen.insert(t.key.to_lowercase()) {
            return Err(ApiError::new(
                ErrorCode::InvalidParameterValue,
                format!(
                    "Duplicate tag keys found. Please note that Tag keys are case insensitive. Duplicate key: {}",
                    t.key
                ),
            ));
        }
    }
    Ok(tags.into_iter().map(|t| (t.key, t.value)).collect())
}

/// How full the packed policy and tags are, in percent, as AWS reports it.
pub fn packed_size(policies: Option<&SessionPolicies>, tags: &[(String, String)]) -> Option<i32> {
    let policy_chars = policies
        .map(|p| {
            p.inline
                .as_deref()
                .map_or(0, |t| t.chars().filter(|c| !c.is_whitespace()).count())
                + p.arns.iter().map(String::len).sum::<usize>()
        })
        .unwrap_or(0);
    let tag_chars: usize = tags.iter().map(|(k, v)| k.len() + v.len()).sum();
    if policy_chars == 0 && tag_chars == 0 {
        return None;
    }
    i32::try_from((policy_chars + tag_chars) * 100 / 2048).ok()
}

/// Records that `role` was assumed (its RoleLastUsed). Failing to record
/// never fails the call that issued the session.
pub async fn record_role_use(
    ctx: &RequestCtx,
    account: &str,
    role: &portcullis_store::model::Role,
) {
    let region = ctx.authorized().authenticated().region();
    if let Err(e) = ctx
        .store()
        .record_role_use(account, &role.name, ctx.now(), region)
        .await
    {
        tracing::warn!(role = %role.arn, error = %e, "cannot record role use");
    }
}
