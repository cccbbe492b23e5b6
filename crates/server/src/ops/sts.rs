//! The STS API.

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
}
