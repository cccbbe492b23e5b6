//! Managed policies, their versions, attachments, inline policies and
//! permissions boundaries.

use crate::error::{ApiError, ErrorCode, store_error};
use crate::managed::AwsManagedPolicies;
use crate::ops::RequestCtx;

/// A permissions boundary must name a managed policy that exists: an AWS
/// managed one, or a customer one of this account.
pub async fn check_boundary_arn(ctx: &RequestCtx, arn: &str) -> Result<(), ApiError> {
    let missing = || {
        ApiError::new(
            ErrorCode::NoSuchEntity,
            format!("Scope ARN: {arn} does not exist or is not attachable."),
        )
    };
    if AwsManagedPolicies::is_aws_managed_arn(arn) {
        return ctx.state().managed.get(arn).map(|_| ()).ok_or_else(missing);
    }
    match ctx.store().get_policy(ctx.account(), arn).await {
        Ok(_) => Ok(()),
        Err(portcullis_store::StoreError::NoSuchEntity(_)) => Err(missing()),
        Err(e) => Err(store_error(e)),
    }
}
