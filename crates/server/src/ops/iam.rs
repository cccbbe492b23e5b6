//! The IAM API: the generated handler trait, implemented by delegating
//! each operation to the module of its family. Operations not listed here
//! answer `NotImplemented` (the trait's default).

pub mod access_keys;
pub mod policies;
pub mod users;

use crate::error::ApiError;
use crate::ops::RequestCtx;
use crate::protocol::generated::iam::*;

/// The IAM service.
#[derive(Debug)]
pub struct IamService;

impl Handler for IamService {
    type Ctx = RequestCtx;

    // Users.
    async fn create_user(
        &self,
        ctx: &RequestCtx,
        input: CreateUserRequest,
    ) -> Result<CreateUserResponse, ApiError> {
        users::create_user(ctx, input).await
    }
    async fn get_user(
        &self,
        ctx: &RequestCtx,
        input: GetUserRequest,
    ) -> Result<GetUserResponse, ApiError> {
        users::get_user(ctx, input).await
    }
    async fn update_user(
        &self,
        ctx: &RequestCtx,
        input: UpdateUserRequest,
    ) -> Result<(), ApiError> {
        users::update_user(ctx, input).await
    }
    async fn delete_user(
        &self,
        ctx: &RequestCtx,
        input: DeleteUserRequest,
    ) -> Result<(), ApiError> {
        users::delete_user(ctx, input).await
    }
    async fn list_users(
        &self,
        ctx: &RequestCtx,
        input: ListUsersRequest,
    ) -> Result<ListUsersResponse, ApiError> {
        users::list_users(ctx, input).await
    }
    async fn tag_user(&self, ctx: &RequestCtx, input: TagUserRequest) -> Result<(), ApiError> {
        users::tag_user(ctx, input).await
    }
    async fn untag_user(&self, ctx: &RequestCtx, input: UntagUserRequest) -> Result<(), ApiError> {
        users::untag_user(ctx, input).await
    }
    async fn list_user_tags(
        &self,
        ctx: &RequestCtx,
        input: ListUserTagsRequest,
    ) -> Result<ListUserTagsResponse, ApiError> {
        users::list_user_tags(ctx, input).await
    }

    // == Groups, managed policies and versions, attachments, inline policies,
    // == permissions boundaries (ops/iam/{groups,policies}.rs). Add methods here.

    // == Login profiles, password policy, aliases, account summary and
    // == authorization details (ops/iam/{login_profiles,account}.rs). Add methods here.

    // == Policy simulator (ops/iam/simulator.rs). Add methods here.

    // == Roles, instance profiles, MFA devices (ops/iam/{roles,instance_profiles,mfa}.rs).
    // == Add methods here.

    // Access keys.
    async fn create_access_key(
        &self,
        ctx: &RequestCtx,
        input: CreateAccessKeyRequest,
    ) -> Result<CreateAccessKeyResponse, ApiError> {
        access_keys::create_access_key(ctx, input).await
    }
    async fn update_access_key(
        &self,
        ctx: &RequestCtx,
        input: UpdateAccessKeyRequest,
    ) -> Result<(), ApiError> {
        access_keys::update_access_key(ctx, input).await
    }
    async fn delete_access_key(
        &self,
        ctx: &RequestCtx,
        input: DeleteAccessKeyRequest,
    ) -> Result<(), ApiError> {
        access_keys::delete_access_key(ctx, input).await
    }
    async fn list_access_keys(
        &self,
        ctx: &RequestCtx,
        input: ListAccessKeysRequest,
    ) -> Result<ListAccessKeysResponse, ApiError> {
        access_keys::list_access_keys(ctx, input).await
    }
    async fn get_access_key_last_used(
        &self,
        ctx: &RequestCtx,
        input: GetAccessKeyLastUsedRequest,
    ) -> Result<GetAccessKeyLastUsedResponse, ApiError> {
        access_keys::get_access_key_last_used(ctx, input).await
    }
}
