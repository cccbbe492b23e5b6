//! The IAM API: the generated handler trait, implemented by delegating
//! each operation to the module of its family. Operations not listed here
//! answer `NotImplemented` (the trait's default).

pub mod access_keys;
pub mod account;
pub mod login_profiles;
pub mod policies;
pub mod simulator;
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

    async fn create_login_profile(
        &self,
        ctx: &RequestCtx,
        input: CreateLoginProfileRequest,
    ) -> Result<CreateLoginProfileResponse, ApiError> {
        login_profiles::create_login_profile(ctx, input).await
    }
    async fn get_login_profile(
        &self,
        ctx: &RequestCtx,
        input: GetLoginProfileRequest,
    ) -> Result<GetLoginProfileResponse, ApiError> {
        login_profiles::get_login_profile(ctx, input).await
    }
    async fn update_login_profile(
        &self,
        ctx: &RequestCtx,
        input: UpdateLoginProfileRequest,
    ) -> Result<(), ApiError> {
        login_profiles::update_login_profile(ctx, input).await
    }
    async fn delete_login_profile(
        &self,
        ctx: &RequestCtx,
        input: DeleteLoginProfileRequest,
    ) -> Result<(), ApiError> {
        login_profiles::delete_login_profile(ctx, input).await
    }
    async fn change_password(
        &self,
        ctx: &RequestCtx,
        input: ChangePasswordRequest,
    ) -> Result<(), ApiError> {
        login_profiles::change_password(ctx, input).await
    }
    async fn get_account_password_policy(
        &self,
        ctx: &RequestCtx,
    ) -> Result<GetAccountPasswordPolicyResponse, ApiError> {
        account::get_account_password_policy(ctx).await
    }
    async fn update_account_password_policy(
        &self,
        ctx: &RequestCtx,
        input: UpdateAccountPasswordPolicyRequest,
    ) -> Result<(), ApiError> {
        account::update_account_password_policy(ctx, input).await
    }
    async fn delete_account_password_policy(&self, ctx: &RequestCtx) -> Result<(), ApiError> {
        account::delete_account_password_policy(ctx).await
    }
    async fn create_account_alias(
        &self,
        ctx: &RequestCtx,
        input: CreateAccountAliasRequest,
    ) -> Result<(), ApiError> {
        account::create_account_alias(ctx, input).await
    }
    async fn delete_account_alias(
        &self,
        ctx: &RequestCtx,
        input: DeleteAccountAliasRequest,
    ) -> Result<(), ApiError> {
        account::delete_account_alias(ctx, input).await
    }
    async fn list_account_aliases(
        &self,
        ctx: &RequestCtx,
        input: ListAccountAliasesRequest,
    ) -> Result<ListAccountAliasesResponse, ApiError> {
        account::list_account_aliases(ctx, input).await
    }
    async fn get_account_summary(
        &self,
        ctx: &RequestCtx,
    ) -> Result<GetAccountSummaryResponse, ApiError> {
        account::get_account_summary(ctx).await
    }
    async fn get_account_authorization_details(
        &self,
        ctx: &RequestCtx,
        input: GetAccountAuthorizationDetailsRequest,
    ) -> Result<GetAccountAuthorizationDetailsResponse, ApiError> {
        account::get_account_authorization_details(ctx, input).await
    }

    // == Policy simulator (ops/iam/simulator.rs). Add methods here.

    async fn simulate_custom_policy(
        &self,
        ctx: &RequestCtx,
        input: SimulateCustomPolicyRequest,
    ) -> Result<SimulatePolicyResponse, ApiError> {
        simulator::simulate_custom_policy(ctx, input).await
    }
    async fn simulate_principal_policy(
        &self,
        ctx: &RequestCtx,
        input: SimulatePrincipalPolicyRequest,
    ) -> Result<SimulatePolicyResponse, ApiError> {
        simulator::simulate_principal_policy(ctx, input).await
    }
    async fn get_context_keys_for_custom_policy(
        &self,
        ctx: &RequestCtx,
        input: GetContextKeysForCustomPolicyRequest,
    ) -> Result<GetContextKeysForPolicyResponse, ApiError> {
        simulator::get_context_keys_for_custom_policy(ctx, input).await
    }
    async fn get_context_keys_for_principal_policy(
        &self,
        ctx: &RequestCtx,
        input: GetContextKeysForPrincipalPolicyRequest,
    ) -> Result<GetContextKeysForPolicyResponse, ApiError> {
        simulator::get_context_keys_for_principal_policy(ctx, input).await
    }

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
