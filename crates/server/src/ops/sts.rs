//! The STS API: temporary credentials (see `sessions.rs` for the token),
//! and who-am-I.

pub mod assume_role;
pub mod authorization_message;
pub mod credentials;
pub mod saml;
pub mod session_token;
pub mod web_identity;

use crate::error::ApiError;
use crate::ops::RequestCtx;
use crate::protocol::generated::sts::*;

/// The STS service.
#[derive(Debug)]
pub struct StsService;

impl Handler for StsService {
    type Ctx = RequestCtx;

    async fn get_caller_identity(
        &self,
        ctx: &RequestCtx,
        _input: GetCallerIdentityRequest,
    ) -> Result<GetCallerIdentityResponse, ApiError> {
        let caller = ctx.caller();
        Ok(GetCallerIdentityResponse {
            account: Some(caller.account_id.clone()),
            arn: Some(caller.arn.clone()),
            user_id: Some(caller.user_id.clone()),
        })
    }

    async fn get_access_key_info(
        &self,
        ctx: &RequestCtx,
        input: GetAccessKeyInfoRequest,
    ) -> Result<GetAccessKeyInfoResponse, ApiError> {
        // AWS answers with the owning account of any well-formed key id,
        // without saying whether the key exists.
        let account = match ctx.store().lookup_access_key(&input.access_key_id).await {
            Ok(Some(k)) => k.account_id,
            Ok(None) => ctx.account().to_owned(),
            Err(e) => return Err(crate::error::store_error(e)),
        };
        Ok(GetAccessKeyInfoResponse {
            account: Some(account),
        })
    }

    async fn decode_authorization_message(
        &self,
        ctx: &RequestCtx,
        input: DecodeAuthorizationMessageRequest,
    ) -> Result<DecodeAuthorizationMessageResponse, ApiError> {
        authorization_message::decode_authorization_message(ctx, input).await
    }

    async fn assume_role(
        &self,
        ctx: &RequestCtx,
        input: AssumeRoleRequest,
    ) -> Result<AssumeRoleResponse, ApiError> {
        assume_role::assume_role(ctx, input).await
    }

    async fn assume_role_with_web_identity(
        &self,
        ctx: &RequestCtx,
        input: AssumeRoleWithWebIdentityRequest,
    ) -> Result<AssumeRoleWithWebIdentityResponse, ApiError> {
        web_identity::assume_role_with_web_identity(ctx, input).await
    }

    async fn assume_role_with_saml(
        &self,
        ctx: &RequestCtx,
        input: AssumeRoleWithSAMLRequest,
    ) -> Result<AssumeRoleWithSAMLResponse, ApiError> {
        saml::assume_role_with_saml(ctx, input).await
    }

    async fn get_session_token(
        &self,
        ctx: &RequestCtx,
        input: GetSessionTokenRequest,
    ) -> Result<GetSessionTokenResponse, ApiError> {
        session_token::get_session_token(ctx, input).await
    }

    async fn get_federation_token(
        &self,
        ctx: &RequestCtx,
        input: GetFederationTokenRequest,
    ) -> Result<GetFederationTokenResponse, ApiError> {
        session_token::get_federation_token(ctx, input).await
    }
}
