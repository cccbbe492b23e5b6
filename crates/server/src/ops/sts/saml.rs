//! `sts:AssumeRoleWithSAML`. By the time the handler runs, the assertion's
//! signature, issuer, audience, recipient, validity and role attribute have
//! been checked (`federation::saml`) and the role's trust policy has allowed
//! the provider with the assertion's `saml:*` keys. What is left: accept the
//! assertion once, then make the session.

use portcullis_store::StoreError;
use time::OffsetDateTime;

use crate::error::{ApiError, ErrorCode, store_error};
use crate::federation::saml::REPLAY_KIND;
use crate::ops::RequestCtx;
use crate::protocol::generated::sts::{
    AssumeRoleWithSAMLRequest, AssumeRoleWithSAMLResponse, AssumedRoleUser,
};

use super::web_identity as federated;

pub async fn assume_role_with_saml(
    ctx: &RequestCtx,
    i: AssumeRoleWithSAMLRequest,
) -> Result<AssumeRoleWithSAMLResponse, ApiError> {
    let identity = federated::caller(ctx)?;
    let Some(saml) = identity.saml.as_ref() else {
        return Err(ApiError::internal());
    };
    // Replay: an assertion is accepted once while it is valid. Checked here,
    // after the trust policy allowed, so that a refused attempt does not use
    // up an assertion.
    let expires =
        OffsetDateTime::from_unix_timestamp(saml.expires).map_err(|_| ApiError::internal())?;
    let key = format!("{}#{}", identity.provider_arn, saml.assertion_id);
    match ctx
        .store()
        .put_once(REPLAY_KIND, &key, "", expires, ctx.now())
        .await
    {
        Ok(()) => {}
        Err(StoreError::EntityAlreadyExists(_)) => {
            return Err(ApiError::new(
                ErrorCode::InvalidIdentityToken,
                "The SAML assertion has already been used",
            ));
        }
        Err(e) => return Err(store_error(e)),
    }
    let issued = federated::issue(
        ctx,
        &identity,
        i.duration_seconds,
        saml.session_duration,
        i.policy,
        i.policy_arns,
    )
    .await?;
    Ok(AssumeRoleWithSAMLResponse {
        assumed_role_user: Some(AssumedRoleUser {
            arn: issued.claims.arn(),
            assumed_role_id: issued.claims.user_id(),
        }),
        audience: Some(identity.audience.clone()),
        credentials: Some(issued.credentials),
        issuer: Some(saml.issuer.clone()),
        name_qualifier: Some(saml.name_qualifier.clone()),
        packed_policy_size: issued.packed,
        source_identity: identity.source_identity.clone(),
        subject: Some(identity.subject.clone()),
        subject_type: Some(saml.subject_type.clone()),
        ..AssumeRoleWithSAMLResponse::default()
    })
}
