//! The storage interface: a small family of traits, one per area, and [`Store`] which is all
//! of them. The server holds an `Arc<dyn Store>`.
//!
//! Every method is one semantic operation and runs in one transaction: it checks AWS's rules
//! (existence, uniqueness, quotas, delete conflicts) and writes atomically, relying on
//! constraints and serialised writers rather than read-then-write in the caller. Methods that
//! set dates take `now` from the caller, so tests are deterministic and every node of a
//! deployment stamps with its own clock consistently.
//!
//! Names are matched case-insensitively wherever AWS does (users, groups, roles, policies,
//! instance profiles, MFA devices), and returned as spelled at creation.

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio::sync::broadcast;

use crate::change::Change;
use crate::error::Result;
use crate::model::*;
use crate::page::Page;

/// Accounts and account-wide settings.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates an account (`EntityAlreadyExists` if it exists).
    async fn create_account(&self, account: &str, now: OffsetDateTime) -> Result<Account>;
    /// Creates the account unless it exists; returns it either way. For server start-up.
    async fn ensure_account(&self, account: &str, now: OffsetDateTime) -> Result<Account>;
    /// Reads an account.
    async fn get_account(&self, account: &str) -> Result<Account>;
    /// `CreateAccountAlias`: sets (or replaces) the account's alias; `EntityAlreadyExists` when
    /// another account holds it.
    async fn set_account_alias(&self, account: &str, alias: &str) -> Result<()>;
    /// `DeleteAccountAlias`: `NoSuchEntity` unless `alias` is the account's alias.
    async fn delete_account_alias(&self, account: &str, alias: &str) -> Result<()>;
    /// `GetAccountPasswordPolicy`: `NoSuchEntity` when none is set.
    async fn get_password_policy(&self, account: &str) -> Result<PasswordPolicy>;
    /// `UpdateAccountPasswordPolicy`: replaces the whole policy.
    async fn put_password_policy(&self, account: &str, policy: &PasswordPolicy) -> Result<()>;
    /// `DeleteAccountPasswordPolicy`.
    async fn delete_password_policy(&self, account: &str) -> Result<()>;
    /// `GetAccountSummary` counts.
    async fn account_summary(&self, account: &str) -> Result<AccountSummary>;
}

/// IAM users.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// `CreateUser`. A permissions boundary that is a customer policy must exist.
    async fn create_user(&self, account: &str, user: &NewUser, now: OffsetDateTime)
    -> Result<User>;
    /// `GetUser` by name (tags included).
    async fn get_user(&self, account: &str, name: &str) -> Result<User>;
    /// A user by unique id (tags included); for sessions and `aws:userid`.
    async fn get_user_by_id(&self, account: &str, id: &str) -> Result<User>;
    /// `UpdateUser`: rename and/or move; the ARN follows.
    async fn update_user(&self, account: &str, name: &str, update: &UserUpdate) -> Result<User>;
    /// `DeleteUser`: `DeleteConflict` while the user has access keys, a login profile, MFA
    /// devices, group memberships, inline or attached policies.
    async fn delete_user(&self, account: &str, name: &str) -> Result<()>;
    /// `ListUsers`, by name, optionally under a path prefix.
    async fn list_users(
        &self,
        account: &str,
        path_prefix: Option<&str>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<User>>;
}

/// IAM groups and memberships.
#[async_trait]
pub trait GroupStore: Send + Sync {
    /// `CreateGroup`.
    async fn create_group(
        &self,
        account: &str,
        group: &NewGroup,
        now: OffsetDateTime,
    ) -> Result<Group>;
    /// A group by name.
    async fn get_group(&self, account: &str, name: &str) -> Result<Group>;
    /// `UpdateGroup`: rename and/or move.
    async fn update_group(
        &self,
        account: &str,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<Group>;
    /// `DeleteGroup`: `DeleteConflict` while it has members, inline or attached policies.
    async fn delete_group(&self, account: &str, name: &str) -> Result<()>;
    /// `ListGroups`.
    async fn list_groups(
        &self,
        account: &str,
        path_prefix: Option<&str>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<Group>>;
    /// `AddUserToGroup` (idempotent, as in AWS); `LimitExceeded` past 10 groups per user.
    async fn add_user_to_group(&self, account: &str, group: &str, user: &str) -> Result<()>;
    /// `RemoveUserFromGroup`: `NoSuchEntity` if the user is not a member.
    async fn remove_user_from_group(&self, account: &str, group: &str, user: &str) -> Result<()>;
    /// The members of a group (`GetGroup`'s `Users`), by name.
    async fn list_group_members(
        &self,
        account: &str,
        group: &str,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<User>>;
    /// `ListGroupsForUser`, by name.
    async fn list_groups_for_user(
        &self,
        account: &str,
        user: &str,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<Group>>;
}

/// IAM roles.
#[async_trait]
pub trait RoleStore: Send + Sync {
    /// `CreateRole`.
    async fn create_role(&self, account: &str, role: &NewRole, now: OffsetDateTime)
    -> Result<Role>;
    /// `GetRole` by name (tags and last-used included).
    async fn get_role(&self, account: &str, name: &str) -> Result<Role>;
    /// A role by unique id; for sessions.
    async fn get_role_by_id(&self, account: &str, id: &str) -> Result<Role>;
    /// `UpdateRole` / `UpdateRoleDescription`.
    async fn update_role(&self, account: &str, name: &str, update: &RoleUpdate) -> Result<Role>;
    /// `UpdateAssumeRolePolicy`.
    async fn update_assume_role_policy(
        &self,
        account: &str,
        name: &str,
        document: &str,
    ) -> Result<()>;
    /// `DeleteRole`: `DeleteConflict` while it is in an instance profile or has inline or
    /// attached policies.
    async fn delete_role(&self, account: &str, name: &str) -> Result<()>;
    /// `ListRoles`.
    async fn list_roles(
        &self,
        account: &str,
        path_prefix: Option<&str>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<Role>>;
    /// Records an assumption of the role (`RoleLastUsed`). Bookkeeping: bumps no generation.
    async fn record_role_use(
        &self,
        account: &str,
        name: &str,
        now: OffsetDateTime,
        region: &str,
    ) -> Result<()>;
}

/// Managed policies and versions, inline policies, attachments and permissions boundaries.
#[async_trait]
pub trait PolicyStore: Send + Sync {
    /// `CreatePolicy` with version `v1` as default.
    async fn create_policy(
        &self,
        account: &str,
        policy: &NewPolicy,
        now: OffsetDateTime,
    ) -> Result<ManagedPolicy>;
    /// `GetPolicy` of a customer managed policy of this account, by ARN.
    async fn get_policy(&self, account: &str, arn: &str) -> Result<ManagedPolicy>;
    /// `DeletePolicy`: `DeleteConflict` while attached, used as a boundary, or holding
    /// non-default versions.
    async fn delete_policy(&self, account: &str, arn: &str) -> Result<()>;
    /// `ListPolicies --scope Local`, by name.
    async fn list_policies(
        &self,
        account: &str,
        filter: &PolicyFilter,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<ManagedPolicy>>;
    /// `CreatePolicyVersion`: `LimitExceeded` when the policy already has 5 versions.
    async fn create_policy_version(
        &self,
        account: &str,
        arn: &str,
        document: &str,
        set_as_default: bool,
        now: OffsetDateTime,
    ) -> Result<PolicyVersion>;
    /// `GetPolicyVersion`.
    async fn get_policy_version(
        &self,
        account: &str,
        arn: &str,
        version_id: &str,
    ) -> Result<PolicyVersion>;
    /// `ListPolicyVersions`, newest first.
    async fn list_policy_versions(
        &self,
        account: &str,
        arn: &str,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<PolicyVersion>>;
    /// `DeletePolicyVersion`: `DeleteConflict` for the default version.
    async fn delete_policy_version(&self, account: &str, arn: &str, version_id: &str)
    -> Result<()>;
    /// `SetDefaultPolicyVersion`.
    async fn set_default_policy_version(
        &self,
        account: &str,
        arn: &str,
        version_id: &str,
        now: OffsetDateTime,
    ) -> Result<()>;
    /// `Attach{User,Group,Role}Policy` (idempotent). A customer policy ARN must exist in the
    /// account; an AWS managed ARN is stored as given (the server checks it exists).
    /// `LimitExceeded` past 10 managed policies per identity.
    async fn attach_policy(&self, account: &str, owner: &PolicyOwner, arn: &str) -> Result<()>;
    /// `Detach{User,Group,Role}Policy`: `NoSuchEntity` if not attached.
    async fn detach_policy(&self, account: &str, owner: &PolicyOwner, arn: &str) -> Result<()>;
    /// `ListAttached{User,Group,Role}Policies`, by ARN.
    async fn list_attached_policies(
        &self,
        account: &str,
        owner: &PolicyOwner,
        path_prefix: Option<&str>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<AttachedPolicy>>;
    /// `ListEntitiesForPolicy`: groups, then roles, then users, each by name.
    async fn list_entities_for_policy(
        &self,
        account: &str,
        arn: &str,
        kind: Option<EntityKind>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<PolicyEntity>>;
    /// How many identities of the account each AWS managed policy is attached to (for
    /// `ListPolicies --scope AWS` and `--only-attached`). Unattached ARNs are absent.
    async fn aws_managed_attachment_counts(&self, account: &str) -> Result<Vec<(String, u64)>>;
    /// `Put{User,Group,Role}Policy`: creates or replaces.
    async fn put_inline_policy(
        &self,
        account: &str,
        owner: &PolicyOwner,
        name: &str,
        document: &str,
    ) -> Result<()>;
    /// `Get{User,Group,Role}Policy`.
    async fn get_inline_policy(
        &self,
        account: &str,
        owner: &PolicyOwner,
        name: &str,
    ) -> Result<InlinePolicy>;
    /// `Delete{User,Group,Role}Policy`.
    async fn delete_inline_policy(
        &self,
        account: &str,
        owner: &PolicyOwner,
        name: &str,
    ) -> Result<()>;
    /// `List{User,Group,Role}Policies`: names, sorted.
    async fn list_inline_policies(
        &self,
        account: &str,
        owner: &PolicyOwner,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<String>>;
    /// `Put{User,Role}PermissionsBoundary`.
    async fn put_permissions_boundary(
        &self,
        account: &str,
        owner: &BoundaryOwner,
        arn: &str,
    ) -> Result<()>;
    /// `Delete{User,Role}PermissionsBoundary`.
    async fn delete_permissions_boundary(&self, account: &str, owner: &BoundaryOwner)
    -> Result<()>;
}

/// Access keys, login profiles and MFA devices.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// `CreateAccessKey` with an id and encrypted secret made by the server. `LimitExceeded`
    /// when the owner already has 2 keys.
    async fn create_access_key(
        &self,
        account: &str,
        owner: &KeyOwner,
        access_key_id: &str,
        secret_ciphertext: &Ciphertext,
        now: OffsetDateTime,
    ) -> Result<AccessKey>;
    /// `UpdateAccessKey`.
    async fn update_access_key_status(
        &self,
        account: &str,
        owner: &KeyOwner,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<()>;
    /// `DeleteAccessKey`.
    async fn delete_access_key(
        &self,
        account: &str,
        owner: &KeyOwner,
        access_key_id: &str,
    ) -> Result<()>;
    /// `ListAccessKeys`, oldest first.
    async fn list_access_keys(
        &self,
        account: &str,
        owner: &KeyOwner,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<AccessKey>>;
    /// Any key of the account by id (`GetAccessKeyLastUsed`).
    async fn get_access_key(&self, account: &str, access_key_id: &str) -> Result<AccessKey>;
    /// Records an authenticated use of a key. Bookkeeping: bumps no generation.
    async fn record_access_key_use(
        &self,
        access_key_id: &str,
        now: OffsetDateTime,
        service: &str,
        region: &str,
    ) -> Result<()>;
    /// `CreateLoginProfile`.
    async fn create_login_profile(
        &self,
        account: &str,
        user: &str,
        profile: &NewLoginProfile,
        now: OffsetDateTime,
    ) -> Result<LoginProfile>;
    /// `GetLoginProfile` (with the hash, for sign-in).
    async fn get_login_profile(&self, account: &str, user: &str) -> Result<LoginProfile>;
    /// `UpdateLoginProfile` / `ChangePassword`.
    async fn update_login_profile(
        &self,
        account: &str,
        user: &str,
        update: &LoginProfileUpdate,
        now: OffsetDateTime,
    ) -> Result<()>;
    /// `DeleteLoginProfile`.
    async fn delete_login_profile(&self, account: &str, user: &str) -> Result<()>;
    /// Records a successful password sign-in (`PasswordLastUsed`). Bookkeeping.
    async fn record_password_use(
        &self,
        account: &str,
        user: &str,
        now: OffsetDateTime,
    ) -> Result<()>;
    /// `CreateVirtualMFADevice`.
    async fn create_virtual_mfa_device(
        &self,
        account: &str,
        device: &NewVirtualMfaDevice,
        now: OffsetDateTime,
    ) -> Result<MfaDevice>;
    /// A device by serial number (seed included).
    async fn get_mfa_device(&self, account: &str, serial_number: &str) -> Result<MfaDevice>;
    /// `EnableMFADevice`, after the server checked the two codes; `last_used_step` is the step
    /// of the second code, so neither can be replayed. `EntityAlreadyExists` when the device
    /// is enabled already; `LimitExceeded` past 8 devices per user.
    async fn enable_mfa_device(
        &self,
        account: &str,
        user: &str,
        serial_number: &str,
        last_used_step: u64,
        now: OffsetDateTime,
    ) -> Result<()>;
    /// `DeactivateMFADevice`: the device stays, unassigned.
    async fn deactivate_mfa_device(
        &self,
        account: &str,
        user: &str,
        serial_number: &str,
    ) -> Result<()>;
    /// `DeleteVirtualMFADevice`: `DeleteConflict` while enabled.
    async fn delete_virtual_mfa_device(&self, account: &str, serial_number: &str) -> Result<()>;
    /// `ListMFADevices` of a user, by serial number.
    async fn list_mfa_devices(
        &self,
        account: &str,
        user: &str,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<MfaDevice>>;
    /// `ListVirtualMFADevices`; `assigned` filters on `AssignmentStatus`.
    async fn list_virtual_mfa_devices(
        &self,
        account: &str,
        assigned: Option<bool>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<MfaDevice>>;
    /// Accepts a TOTP time step once: returns `true` and records it if `step` is newer than the
    /// last accepted step, `false` (a replay) otherwise. Atomic, so two concurrent uses of one
    /// code cannot both pass. Bookkeeping: bumps no generation.
    async fn consume_mfa_step(&self, account: &str, serial_number: &str, step: u64)
    -> Result<bool>;
}

/// Instance profiles.
#[async_trait]
pub trait InstanceProfileStore: Send + Sync {
    /// `CreateInstanceProfile`.
    async fn create_instance_profile(
        &self,
        account: &str,
        profile: &NewInstanceProfile,
        now: OffsetDateTime,
    ) -> Result<InstanceProfile>;
    /// `GetInstanceProfile` (roles and tags included).
    async fn get_instance_profile(&self, account: &str, name: &str) -> Result<InstanceProfile>;
    /// `DeleteInstanceProfile`: `DeleteConflict` while it holds a role.
    async fn delete_instance_profile(&self, account: &str, name: &str) -> Result<()>;
    /// `ListInstanceProfiles` (roles included).
    async fn list_instance_profiles(
        &self,
        account: &str,
        path_prefix: Option<&str>,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<InstanceProfile>>;
    /// `AddRoleToInstanceProfile`: `LimitExceeded` when it already holds a role.
    async fn add_role_to_instance_profile(
        &self,
        account: &str,
        profile: &str,
        role: &str,
    ) -> Result<()>;
    /// `RemoveRoleFromInstanceProfile`.
    async fn remove_role_from_instance_profile(
        &self,
        account: &str,
        profile: &str,
        role: &str,
    ) -> Result<()>;
    /// `ListInstanceProfilesForRole`.
    async fn list_instance_profiles_for_role(
        &self,
        account: &str,
        role: &str,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<InstanceProfile>>;
}

/// OIDC and SAML identity providers registered in an account.
#[async_trait]
pub trait ProviderStore: Send + Sync {
    /// `CreateOpenIDConnectProvider`: `EntityAlreadyExists` for a URL already registered.
    async fn create_oidc_provider(
        &self,
        account: &str,
        provider: &NewOidcProvider,
        now: OffsetDateTime,
    ) -> Result<OidcProvider>;
    /// `GetOpenIDConnectProvider`.
    async fn get_oidc_provider(&self, account: &str, arn: &str) -> Result<OidcProvider>;
    /// `DeleteOpenIDConnectProvider`.
    async fn delete_oidc_provider(&self, account: &str, arn: &str) -> Result<()>;
    /// `ListOpenIDConnectProviders` (AWS does not paginate it).
    async fn list_oidc_providers(&self, account: &str) -> Result<Vec<OidcProvider>>;
    /// `AddClientIDToOpenIDConnectProvider` (idempotent); `LimitExceeded` past 100.
    async fn add_oidc_client_id(&self, account: &str, arn: &str, client_id: &str) -> Result<()>;
    /// `RemoveClientIDFromOpenIDConnectProvider` (idempotent, as in AWS).
    async fn remove_oidc_client_id(&self, account: &str, arn: &str, client_id: &str) -> Result<()>;
    /// `UpdateOpenIDConnectProviderThumbprint`: replaces the list (at most 5).
    async fn update_oidc_thumbprints(
        &self,
        account: &str,
        arn: &str,
        thumbprints: &[String],
    ) -> Result<()>;
    /// `CreateSAMLProvider`.
    async fn create_saml_provider(
        &self,
        account: &str,
        provider: &NewSamlProvider,
        now: OffsetDateTime,
    ) -> Result<SamlProvider>;
    /// `GetSAMLProvider`.
    async fn get_saml_provider(&self, account: &str, arn: &str) -> Result<SamlProvider>;
    /// `UpdateSAMLProvider`.
    async fn update_saml_provider(
        &self,
        account: &str,
        arn: &str,
        metadata_document: &str,
        valid_until: Option<OffsetDateTime>,
    ) -> Result<()>;
    /// `DeleteSAMLProvider`.
    async fn delete_saml_provider(&self, account: &str, arn: &str) -> Result<()>;
    /// `ListSAMLProviders`.
    async fn list_saml_providers(&self, account: &str) -> Result<Vec<SamlProvider>>;
}

/// Tags on any taggable entity.
#[async_trait]
pub trait TagStore: Send + Sync {
    /// `Tag*`: adds or replaces (keys compared case-insensitively); `LimitExceeded` past 50.
    async fn tag_resource(&self, account: &str, target: &TagTarget, tags: &[Tag]) -> Result<()>;
    /// `Untag*`: removes the keys present (case-insensitively); absent keys are ignored.
    async fn untag_resource(
        &self,
        account: &str,
        target: &TagTarget,
        keys: &[String],
    ) -> Result<()>;
    /// `List*Tags`, by key.
    async fn list_tags(
        &self,
        account: &str,
        target: &TagTarget,
        marker: Option<String>,
        max_items: u32,
    ) -> Result<Page<Tag>>;
}

/// The hot path of authentication and authorisation, and change notification.
#[async_trait]
pub trait AuthzStore: Send + Sync {
    /// A key's owner, secret ciphertext and status, in one indexed query. `None` when no such
    /// key exists in any account.
    async fn lookup_access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyLookup>>;
    /// A principal's identity-based policies in one consistent read; see
    /// [`AuthorizationSet`].
    async fn authorization_set(
        &self,
        account: &str,
        principal: &PrincipalRef,
    ) -> Result<AuthorizationSet>;
    /// The account's current generation (see [`crate::change`]).
    async fn generation(&self, account: &str) -> Result<u64>;
    /// In-process notifications of committed changes (see [`crate::change`]).
    fn subscribe(&self) -> broadcast::Receiver<Change>;
}

/// Service bookkeeping for STS, the OIDC issuer and sign-in.
#[async_trait]
pub trait ServiceStore: Send + Sync {
    /// Adds a key as the next generation of its purpose (generation = last + 1, atomically).
    async fn add_signing_key(&self, key: &NewSigningKey, now: OffsetDateTime)
    -> Result<SigningKey>;
    /// Keys of a purpose, newest generation first, retired ones included.
    async fn list_signing_keys(&self, purpose: &str) -> Result<Vec<SigningKey>>;
    /// Marks a generation retired (it stops verifying).
    async fn retire_signing_key(
        &self,
        purpose: &str,
        generation: u64,
        now: OffsetDateTime,
    ) -> Result<()>;
    /// Registers a client of the OIDC issuer.
    async fn create_oidc_client(
        &self,
        account: &str,
        client: &NewOidcClient,
        now: OffsetDateTime,
    ) -> Result<OidcClient>;
    /// A client by id (any account: the id is global, as in OAuth).
    async fn get_oidc_client(&self, client_id: &str) -> Result<OidcClient>;
    /// Removes a client.
    async fn delete_oidc_client(&self, account: &str, client_id: &str) -> Result<()>;
    /// The account's clients, by id.
    async fn list_oidc_clients(&self, account: &str) -> Result<Vec<OidcClient>>;
    /// Counts a failed sign-in and returns the new state, locking when the policy says so.
    /// Atomic: concurrent failures are all counted.
    async fn record_signin_failure(
        &self,
        account: &str,
        user: &str,
        policy: &LockoutPolicy,
        now: OffsetDateTime,
    ) -> Result<SigninLockout>;
    /// The current state (zero failures when none recorded or the window passed).
    async fn get_signin_lockout(
        &self,
        account: &str,
        user: &str,
        policy: &LockoutPolicy,
        now: OffsetDateTime,
    ) -> Result<SigninLockout>;
    /// Forgets failures after a successful sign-in.
    async fn clear_signin_failures(&self, account: &str, user: &str) -> Result<()>;
    /// Stores a single-use value (an authorization code, a SAML assertion id) until `expires`.
    /// `EntityAlreadyExists` if an unexpired value with that kind and key exists: this is the
    /// replay check.
    async fn put_once(
        &self,
        kind: &str,
        key: &str,
        payload: &str,
        expires: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<()>;
    /// Takes a single-use value: returns it and deletes it atomically, so only one caller ever
    /// gets it. `None` when absent or expired.
    async fn take_once(&self, kind: &str, key: &str, now: OffsetDateTime)
    -> Result<Option<String>>;
    /// Deletes expired single-use values; returns how many.
    async fn purge_expired_once(&self, now: OffsetDateTime) -> Result<u64>;
}

/// Every value sealed under the master key, for re-sealing them under a new one.
#[async_trait]
pub trait SealedStore: Send + Sync {
    /// Up to `limit` sealed values of `kind`, in record order, after the record `after` (from
    /// the start when `None`). Retired signing keys are included. A snapshot per page: a
    /// caller walking the pages while others write sees each record that exists throughout
    /// at least once.
    async fn list_sealed(
        &self,
        kind: SealedKind,
        after: Option<&SealedId>,
        limit: u32,
    ) -> Result<Vec<SealedValue>>;
    /// Replaces a record's sealed value with `new` if it still is `old` (compare-and-swap, so
    /// a concurrent change is never overwritten). `false` when the record is gone or holds
    /// something else. An access key's or MFA device's account generation is bumped, as by
    /// any write of its entities; signing keys are bookkeeping and bump nothing.
    async fn replace_sealed(
        &self,
        id: &SealedId,
        old: &Ciphertext,
        new: &Ciphertext,
    ) -> Result<bool>;
}

/// The whole storage interface.
pub trait Store:
    AccountStore
    + UserStore
    + GroupStore
    + RoleStore
    + PolicyStore
    + CredentialStore
    + InstanceProfileStore
    + ProviderStore
    + TagStore
    + AuthzStore
    + ServiceStore
    + SealedStore
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: AccountStore
        + UserStore
        + GroupStore
        + RoleStore
        + PolicyStore
        + CredentialStore
        + InstanceProfileStore
        + ProviderStore
        + TagStore
        + AuthzStore
        + ServiceStore
        + SealedStore
        + std::fmt::Debug
{
}
