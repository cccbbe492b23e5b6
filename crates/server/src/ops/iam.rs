//! The IAM API: the generated handler trait, implemented by delegating
//! each operation to the module of its family. Operations not listed here
//! answer `NotImplemented` (the trait's default).

pub mod access_keys;
pub mod account;
pub mod groups;
pub mod instance_profiles;
pub mod login_profiles;
pub mod mfa;
pub mod oidc_providers;
pub mod policies;
pub mod roles;
pub mod saml_providers;
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
    async fn create_group(
        &self,
        ctx: &RequestCtx,
        input: CreateGroupRequest,
    ) -> Result<CreateGroupResponse, ApiError> {
        groups::create_group(ctx, input).await
    }
    async fn get_group(
        &self,
        ctx: &RequestCtx,
        input: GetGroupRequest,
    ) -> Result<GetGroupResponse, ApiError> {
        groups::get_group(ctx, input).await
    }
    async fn update_group(
        &self,
        ctx: &RequestCtx,
        input: UpdateGroupRequest,
    ) -> Result<(), ApiError> {
        groups::update_group(ctx, input).await
    }
    async fn delete_group(
        &self,
        ctx: &RequestCtx,
        input: DeleteGroupRequest,
    ) -> Result<(), ApiError> {
        groups::delete_group(ctx, input).await
    }
    async fn list_groups(
        &self,
        ctx: &RequestCtx,
        input: ListGroupsRequest,
    ) -> Result<ListGroupsResponse, ApiError> {
        groups::list_groups(ctx, input).await
    }
    async fn add_user_to_group(
        &self,
        ctx: &RequestCtx,
        input: AddUserToGroupRequest,
    ) -> Result<(), ApiError> {
        groups::add_user_to_group(ctx, input).await
    }
    async fn remove_user_from_group(
        &self,
        ctx: &RequestCtx,
        input: RemoveUserFromGroupRequest,
    ) -> Result<(), ApiError> {
        groups::remove_user_from_group(ctx, input).await
    }
    async fn list_groups_for_user(
        &self,
        ctx: &RequestCtx,
        input: ListGroupsForUserRequest,
    ) -> Result<ListGroupsForUserResponse, ApiError> {
        groups::list_groups_for_user(ctx, input).await
    }
    async fn create_policy(
        &self,
        ctx: &RequestCtx,
        input: CreatePolicyRequest,
    ) -> Result<CreatePolicyResponse, ApiError> {
        policies::create_policy(ctx, input).await
    }
    async fn get_policy(
        &self,
        ctx: &RequestCtx,
        input: GetPolicyRequest,
    ) -> Result<GetPolicyResponse, ApiError> {
        policies::get_policy(ctx, input).await
    }
    async fn delete_policy(
        &self,
        ctx: &RequestCtx,
        input: DeletePolicyRequest,
    ) -> Result<(), ApiError> {
        policies::delete_policy(ctx, input).await
    }
    async fn list_policies(
        &self,
        ctx: &RequestCtx,
        input: ListPoliciesRequest,
    ) -> Result<ListPoliciesResponse, ApiError> {
        policies::list_policies(ctx, input).await
    }
    async fn create_policy_version(
        &self,
        ctx: &RequestCtx,
        input: CreatePolicyVersionRequest,
    ) -> Result<CreatePolicyVersionResponse, ApiError> {
        policies::create_policy_version(ctx, input).await
    }
    async fn get_policy_version(
        &self,
        ctx: &RequestCtx,
        input: GetPolicyVersionRequest,
    ) -> Result<GetPolicyVersionResponse, ApiError> {
        policies::get_policy_version(ctx, input).await
    }
    async fn list_policy_versions(
        &self,
        ctx: &RequestCtx,
        input: ListPolicyVersionsRequest,
    ) -> Result<ListPolicyVersionsResponse, ApiError> {
        policies::list_policy_versions(ctx, input).await
    }
    async fn delete_policy_version(
        &self,
        ctx: &RequestCtx,
        input: DeletePolicyVersionRequest,
    ) -> Result<(), ApiError> {
        policies::delete_policy_version(ctx, input).await
    }
    async fn set_default_policy_version(
        &self,
        ctx: &RequestCtx,
        input: SetDefaultPolicyVersionRequest,
    ) -> Result<(), ApiError> {
        policies::set_default_policy_version(ctx, input).await
    }
    async fn tag_policy(&self, ctx: &RequestCtx, input: TagPolicyRequest) -> Result<(), ApiError> {
        policies::tag_policy(ctx, input).await
    }
    async fn untag_policy(
        &self,
        ctx: &RequestCtx,
        input: UntagPolicyRequest,
    ) -> Result<(), ApiError> {
        policies::untag_policy(ctx, input).await
    }
    async fn list_policy_tags(
        &self,
        ctx: &RequestCtx,
        input: ListPolicyTagsRequest,
    ) -> Result<ListPolicyTagsResponse, ApiError> {
        policies::list_policy_tags(ctx, input).await
    }
    async fn list_entities_for_policy(
        &self,
        ctx: &RequestCtx,
        input: ListEntitiesForPolicyRequest,
    ) -> Result<ListEntitiesForPolicyResponse, ApiError> {
        policies::list_entities_for_policy(ctx, input).await
    }
    async fn attach_user_policy(
        &self,
        ctx: &RequestCtx,
        input: AttachUserPolicyRequest,
    ) -> Result<(), ApiError> {
        policies::attach_user_policy(ctx, input).await
    }
    async fn detach_user_policy(
        &self,
        ctx: &RequestCtx,
        input: DetachUserPolicyRequest,
    ) -> Result<(), ApiError> {
        policies::detach_user_policy(ctx, input).await
    }
    async fn list_attached_user_policies(
        &self,
        ctx: &RequestCtx,
        input: ListAttachedUserPoliciesRequest,
    ) -> Result<ListAttachedUserPoliciesResponse, ApiError> {
        policies::list_attached_user_policies(ctx, input).await
    }
    async fn attach_group_policy(
        &self,
        ctx: &RequestCtx,
        input: AttachGroupPolicyRequest,
    ) -> Result<(), ApiError> {
        policies::attach_group_policy(ctx, input).await
    }
    async fn detach_group_policy(
        &self,
        ctx: &RequestCtx,
        input: DetachGroupPolicyRequest,
    ) -> Result<(), ApiError> {
        policies::detach_group_policy(ctx, input).await
    }
    async fn list_attached_group_policies(
        &self,
        ctx: &RequestCtx,
        input: ListAttachedGroupPoliciesRequest,
    ) -> Result<ListAttachedGroupPoliciesResponse, ApiError> {
        policies::list_attached_group_policies(ctx, input).await
    }
    async fn put_user_policy(
        &self,
        ctx: &RequestCtx,
        input: PutUserPolicyRequest,
    ) -> Result<(), ApiError> {
        policies::put_user_policy(ctx, input).await
    }
    async fn get_user_policy(
        &self,
        ctx: &RequestCtx,
        input: GetUserPolicyRequest,
    ) -> Result<GetUserPolicyResponse, ApiError> {
        policies::get_user_policy(ctx, input).await
    }
    async fn delete_user_policy(
        &self,
        ctx: &RequestCtx,
        input: DeleteUserPolicyRequest,
    ) -> Result<(), ApiError> {
        policies::delete_user_policy(ctx, input).await
    }
    async fn list_user_policies(
        &self,
        ctx: &RequestCtx,
        input: ListUserPoliciesRequest,
    ) -> Result<ListUserPoliciesResponse, ApiError> {
        policies::list_user_policies(ctx, input).await
    }
    async fn put_group_policy(
        &self,
        ctx: &RequestCtx,
        input: PutGroupPolicyRequest,
    ) -> Result<(), ApiError> {
        policies::put_group_policy(ctx, input).await
    }
    async fn get_group_policy(
        &self,
        ctx: &RequestCtx,
        input: GetGroupPolicyRequest,
    ) -> Result<GetGroupPolicyResponse, ApiError> {
        policies::get_group_policy(ctx, input).await
    }
    async fn delete_group_policy(
        &self,
        ctx: &RequestCtx,
        input: DeleteGroupPolicyRequest,
    ) -> Result<(), ApiError> {
        policies::delete_group_policy(ctx, input).await
    }
    async fn list_group_policies(
        &self,
        ctx: &RequestCtx,
        input: ListGroupPoliciesRequest,
    ) -> Result<ListGroupPoliciesResponse, ApiError> {
        policies::list_group_policies(ctx, input).await
    }
    async fn put_user_permissions_boundary(
        &self,
        ctx: &RequestCtx,
        input: PutUserPermissionsBoundaryRequest,
    ) -> Result<(), ApiError> {
        policies::put_user_permissions_boundary(ctx, input).await
    }
    async fn delete_user_permissions_boundary(
        &self,
        ctx: &RequestCtx,
        input: DeleteUserPermissionsBoundaryRequest,
    ) -> Result<(), ApiError> {
        policies::delete_user_permissions_boundary(ctx, input).await
    }

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
    // Roles.
    async fn create_role(
        &self,
        ctx: &RequestCtx,
        input: CreateRoleRequest,
    ) -> Result<CreateRoleResponse, ApiError> {
        roles::create_role(ctx, input).await
    }
    async fn get_role(
        &self,
        ctx: &RequestCtx,
        input: GetRoleRequest,
    ) -> Result<GetRoleResponse, ApiError> {
        roles::get_role(ctx, input).await
    }
    async fn update_role(
        &self,
        ctx: &RequestCtx,
        input: UpdateRoleRequest,
    ) -> Result<UpdateRoleResponse, ApiError> {
        roles::update_role(ctx, input).await
    }
    async fn update_role_description(
        &self,
        ctx: &RequestCtx,
        input: UpdateRoleDescriptionRequest,
    ) -> Result<UpdateRoleDescriptionResponse, ApiError> {
        roles::update_role_description(ctx, input).await
    }
    async fn delete_role(
        &self,
        ctx: &RequestCtx,
        input: DeleteRoleRequest,
    ) -> Result<(), ApiError> {
        roles::delete_role(ctx, input).await
    }
    async fn list_roles(
        &self,
        ctx: &RequestCtx,
        input: ListRolesRequest,
    ) -> Result<ListRolesResponse, ApiError> {
        roles::list_roles(ctx, input).await
    }
    async fn update_assume_role_policy(
        &self,
        ctx: &RequestCtx,
        input: UpdateAssumeRolePolicyRequest,
    ) -> Result<(), ApiError> {
        roles::update_assume_role_policy(ctx, input).await
    }
    async fn tag_role(&self, ctx: &RequestCtx, input: TagRoleRequest) -> Result<(), ApiError> {
        roles::tag_role(ctx, input).await
    }
    async fn untag_role(&self, ctx: &RequestCtx, input: UntagRoleRequest) -> Result<(), ApiError> {
        roles::untag_role(ctx, input).await
    }
    async fn list_role_tags(
        &self,
        ctx: &RequestCtx,
        input: ListRoleTagsRequest,
    ) -> Result<ListRoleTagsResponse, ApiError> {
        roles::list_role_tags(ctx, input).await
    }
    async fn put_role_policy(
        &self,
        ctx: &RequestCtx,
        input: PutRolePolicyRequest,
    ) -> Result<(), ApiError> {
        roles::put_role_policy(ctx, input).await
    }
    async fn get_role_policy(
        &self,
        ctx: &RequestCtx,
        input: GetRolePolicyRequest,
    ) -> Result<GetRolePolicyResponse, ApiError> {
        roles::get_role_policy(ctx, input).await
    }
    async fn delete_role_policy(
        &self,
        ctx: &RequestCtx,
        input: DeleteRolePolicyRequest,
    ) -> Result<(), ApiError> {
        roles::delete_role_policy(ctx, input).await
    }
    async fn list_role_policies(
        &self,
        ctx: &RequestCtx,
        input: ListRolePoliciesRequest,
    ) -> Result<ListRolePoliciesResponse, ApiError> {
        roles::list_role_policies(ctx, input).await
    }
    async fn attach_role_policy(
        &self,
        ctx: &RequestCtx,
        input: AttachRolePolicyRequest,
    ) -> Result<(), ApiError> {
        roles::attach_role_policy(ctx, input).await
    }
    async fn detach_role_policy(
        &self,
        ctx: &RequestCtx,
        input: DetachRolePolicyRequest,
    ) -> Result<(), ApiError> {
        roles::detach_role_policy(ctx, input).await
    }
    async fn list_attached_role_policies(
        &self,
        ctx: &RequestCtx,
        input: ListAttachedRolePoliciesRequest,
    ) -> Result<ListAttachedRolePoliciesResponse, ApiError> {
        roles::list_attached_role_policies(ctx, input).await
    }
    async fn put_role_permissions_boundary(
        &self,
        ctx: &RequestCtx,
        input: PutRolePermissionsBoundaryRequest,
    ) -> Result<(), ApiError> {
        roles::put_role_permissions_boundary(ctx, input).await
    }
    async fn delete_role_permissions_boundary(
        &self,
        ctx: &RequestCtx,
        input: DeleteRolePermissionsBoundaryRequest,
    ) -> Result<(), ApiError> {
        roles::delete_role_permissions_boundary(ctx, input).await
    }
    // Instance profiles.
    async fn create_instance_profile(
        &self,
        ctx: &RequestCtx,
        input: CreateInstanceProfileRequest,
    ) -> Result<CreateInstanceProfileResponse, ApiError> {
        instance_profiles::create_instance_profile(ctx, input).await
    }
    async fn get_instance_profile(
        &self,
        ctx: &RequestCtx,
        input: GetInstanceProfileRequest,
    ) -> Result<GetInstanceProfileResponse, ApiError> {
        instance_profiles::get_instance_profile(ctx, input).await
    }
    async fn delete_instance_profile(
        &self,
        ctx: &RequestCtx,
        input: DeleteInstanceProfileRequest,
    ) -> Result<(), ApiError> {
        instance_profiles::delete_instance_profile(ctx, input).await
    }
    async fn list_instance_profiles(
        &self,
        ctx: &RequestCtx,
        input: ListInstanceProfilesRequest,
    ) -> Result<ListInstanceProfilesResponse, ApiError> {
        instance_profiles::list_instance_profiles(ctx, input).await
    }
    async fn add_role_to_instance_profile(
        &self,
        ctx: &RequestCtx,
        input: AddRoleToInstanceProfileRequest,
    ) -> Result<(), ApiError> {
        instance_profiles::add_role_to_instance_profile(ctx, input).await
    }
    async fn remove_role_from_instance_profile(
        &self,
        ctx: &RequestCtx,
        input: RemoveRoleFromInstanceProfileRequest,
    ) -> Result<(), ApiError> {
        instance_profiles::remove_role_from_instance_profile(ctx, input).await
    }
    async fn list_instance_profiles_for_role(
        &self,
        ctx: &RequestCtx,
        input: ListInstanceProfilesForRoleRequest,
    ) -> Result<ListInstanceProfilesForRoleResponse, ApiError> {
        instance_profiles::list_instance_profiles_for_role(ctx, input).await
    }
    async fn tag_instance_profile(
        &self,
        ctx: &RequestCtx,
        input: TagInstanceProfileRequest,
    ) -> Result<(), ApiError> {
        instance_profiles::tag_instance_profile(ctx, input).await
    }
    async fn untag_instance_profile(
        &self,
        ctx: &RequestCtx,
        input: UntagInstanceProfileRequest,
    ) -> Result<(), ApiError> {
        instance_profiles::untag_instance_profile(ctx, input).await
    }
    async fn list_instance_profile_tags(
        &self,
        ctx: &RequestCtx,
        input: ListInstanceProfileTagsRequest,
    ) -> Result<ListInstanceProfileTagsResponse, ApiError> {
        instance_profiles::list_instance_profile_tags(ctx, input).await
    }
    // MFA devices.
    async fn create_virtual_mfa_device(
        &self,
        ctx: &RequestCtx,
        input: CreateVirtualMFADeviceRequest,
    ) -> Result<CreateVirtualMFADeviceResponse, ApiError> {
        mfa::create_virtual_mfa_device(ctx, input).await
    }
    async fn enable_mfa_device(
        &self,
        ctx: &RequestCtx,
        input: EnableMFADeviceRequest,
    ) -> Result<(), ApiError> {
        mfa::enable_mfa_device(ctx, input).await
    }
    async fn deactivate_mfa_device(
        &self,
        ctx: &RequestCtx,
        input: DeactivateMFADeviceRequest,
    ) -> Result<(), ApiError> {
        mfa::deactivate_mfa_device(ctx, input).await
    }
    async fn delete_virtual_mfa_device(
        &self,
        ctx: &RequestCtx,
        input: DeleteVirtualMFADeviceRequest,
    ) -> Result<(), ApiError> {
        mfa::delete_virtual_mfa_device(ctx, input).await
    }
    async fn list_mfa_devices(
        &self,
        ctx: &RequestCtx,
        input: ListMFADevicesRequest,
    ) -> Result<ListMFADevicesResponse, ApiError> {
        mfa::list_mfa_devices(ctx, input).await
    }
    async fn list_virtual_mfa_devices(
        &self,
        ctx: &RequestCtx,
        input: ListVirtualMFADevicesRequest,
    ) -> Result<ListVirtualMFADevicesResponse, ApiError> {
        mfa::list_virtual_mfa_devices(ctx, input).await
    }
    async fn resync_mfa_device(
        &self,
        ctx: &RequestCtx,
        input: ResyncMFADeviceRequest,
    ) -> Result<(), ApiError> {
        mfa::resync_mfa_device(ctx, input).await
    }
    async fn get_mfa_device(
        &self,
        ctx: &RequestCtx,
        input: GetMFADeviceRequest,
    ) -> Result<GetMFADeviceResponse, ApiError> {
        mfa::get_mfa_device(ctx, input).await
    }
    async fn tag_mfa_device(
        &self,
        ctx: &RequestCtx,
        input: TagMFADeviceRequest,
    ) -> Result<(), ApiError> {
        mfa::tag_mfa_device(ctx, input).await
    }
    async fn untag_mfa_device(
        &self,
        ctx: &RequestCtx,
        input: UntagMFADeviceRequest,
    ) -> Result<(), ApiError> {
        mfa::untag_mfa_device(ctx, input).await
    }
    async fn list_mfa_device_tags(
        &self,
        ctx: &RequestCtx,
        input: ListMFADeviceTagsRequest,
    ) -> Result<ListMFADeviceTagsResponse, ApiError> {
        mfa::list_mfa_device_tags(ctx, input).await
    }

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

    // == Identity providers: OIDC and SAML (ops/iam/{oidc_providers,saml_providers}.rs).
    // == Add methods here.
    async fn create_open_id_connect_provider(
        &self,
        ctx: &RequestCtx,
        input: CreateOpenIDConnectProviderRequest,
    ) -> Result<CreateOpenIDConnectProviderResponse, ApiError> {
        oidc_providers::create_open_id_connect_provider(ctx, input).await
    }
    async fn get_open_id_connect_provider(
        &self,
        ctx: &RequestCtx,
        input: GetOpenIDConnectProviderRequest,
    ) -> Result<GetOpenIDConnectProviderResponse, ApiError> {
        oidc_providers::get_open_id_connect_provider(ctx, input).await
    }
    async fn delete_open_id_connect_provider(
        &self,
        ctx: &RequestCtx,
        input: DeleteOpenIDConnectProviderRequest,
    ) -> Result<(), ApiError> {
        oidc_providers::delete_open_id_connect_provider(ctx, input).await
    }
    async fn list_open_id_connect_providers(
        &self,
        ctx: &RequestCtx,
        input: ListOpenIDConnectProvidersRequest,
    ) -> Result<ListOpenIDConnectProvidersResponse, ApiError> {
        oidc_providers::list_open_id_connect_providers(ctx, input).await
    }
    async fn add_client_id_to_open_id_connect_provider(
        &self,
        ctx: &RequestCtx,
        input: AddClientIDToOpenIDConnectProviderRequest,
    ) -> Result<(), ApiError> {
        oidc_providers::add_client_id_to_open_id_connect_provider(ctx, input).await
    }
    async fn remove_client_id_from_open_id_connect_provider(
        &self,
        ctx: &RequestCtx,
        input: RemoveClientIDFromOpenIDConnectProviderRequest,
    ) -> Result<(), ApiError> {
        oidc_providers::remove_client_id_from_open_id_connect_provider(ctx, input).await
    }
    async fn update_open_id_connect_provider_thumbprint(
        &self,
        ctx: &RequestCtx,
        input: UpdateOpenIDConnectProviderThumbprintRequest,
    ) -> Result<(), ApiError> {
        oidc_providers::update_open_id_connect_provider_thumbprint(ctx, input).await
    }
    async fn tag_open_id_connect_provider(
        &self,
        ctx: &RequestCtx,
        input: TagOpenIDConnectProviderRequest,
    ) -> Result<(), ApiError> {
        oidc_providers::tag_open_id_connect_provider(ctx, input).await
    }
    async fn untag_open_id_connect_provider(
        &self,
        ctx: &RequestCtx,
        input: UntagOpenIDConnectProviderRequest,
    ) -> Result<(), ApiError> {
        oidc_providers::untag_open_id_connect_provider(ctx, input).await
    }
    async fn list_open_id_connect_provider_tags(
        &self,
        ctx: &RequestCtx,
        input: ListOpenIDConnectProviderTagsRequest,
    ) -> Result<ListOpenIDConnectProviderTagsResponse, ApiError> {
        oidc_providers::list_open_id_connect_provider_tags(ctx, input).await
    }
    async fn create_saml_provider(
        &self,
        ctx: &RequestCtx,
        input: CreateSAMLProviderRequest,
    ) -> Result<CreateSAMLProviderResponse, ApiError> {
        saml_providers::create_saml_provider(ctx, input).await
    }
    async fn get_saml_provider(
        &self,
        ctx: &RequestCtx,
        input: GetSAMLProviderRequest,
    ) -> Result<GetSAMLProviderResponse, ApiError> {
        saml_providers::get_saml_provider(ctx, input).await
    }
    async fn update_saml_provider(
        &self,
        ctx: &RequestCtx,
        input: UpdateSAMLProviderRequest,
    ) -> Result<UpdateSAMLProviderResponse, ApiError> {
        saml_providers::update_saml_provider(ctx, input).await
    }
    async fn delete_saml_provider(
        &self,
        ctx: &RequestCtx,
        input: DeleteSAMLProviderRequest,
    ) -> Result<(), ApiError> {
        saml_providers::delete_saml_provider(ctx, input).await
    }
    async fn list_saml_providers(
        &self,
        ctx: &RequestCtx,
        input: ListSAMLProvidersRequest,
    ) -> Result<ListSAMLProvidersResponse, ApiError> {
        saml_providers::list_saml_providers(ctx, input).await
    }
    async fn tag_saml_provider(
        &self,
        ctx: &RequestCtx,
        input: TagSAMLProviderRequest,
    ) -> Result<(), ApiError> {
        saml_providers::tag_saml_provider(ctx, input).await
    }
    async fn untag_saml_provider(
        &self,
        ctx: &RequestCtx,
        input: UntagSAMLProviderRequest,
    ) -> Result<(), ApiError> {
        saml_providers::untag_saml_provider(ctx, input).await
    }
    async fn list_saml_provider_tags(
        &self,
        ctx: &RequestCtx,
        input: ListSAMLProviderTagsRequest,
    ) -> Result<ListSAMLProviderTagsResponse, ApiError> {
        saml_providers::list_saml_provider_tags(ctx, input).await
    }
}
