//! The entities the store keeps, one module per entity.
//!
//! These are plain data: the store returns them and the server renders them. Fields that AWS
//! returns only from `Get*` calls (tags, role last-used) are filled by the `get_*` methods and
//! left empty by `list_*` methods, as AWS's `List*` responses omit them.

pub mod access_key;
pub mod account;
pub mod authz;
pub mod group;
pub mod instance_profile;
pub mod login_profile;
pub mod mfa;
pub mod oidc_provider;
pub mod policy;
pub mod role;
pub mod saml_provider;
pub mod sealed;
pub mod service;
pub mod tag;
pub mod user;

pub use access_key::{
    AccessKey, AccessKeyLastUsed, AccessKeyLookup, AccessKeyStatus, KeyOwner, KeyPrincipal,
};
pub use account::{Account, AccountSummary, PasswordPolicy};
pub use authz::{
    AuthorizationSet, PolicyDocument, PolicyOrigin, PolicySource, PrincipalInfo, PrincipalKind,
    PrincipalRef,
};
pub use group::{Group, NewGroup};
pub use instance_profile::{InstanceProfile, NewInstanceProfile};
pub use login_profile::{LoginProfile, LoginProfileUpdate, NewLoginProfile, PasswordHash};
pub use mfa::{MfaDevice, NewVirtualMfaDevice};
pub use oidc_provider::{NewOidcProvider, OidcProvider};
pub use policy::{
    AttachedPolicy, BoundaryOwner, EntityKind, InlinePolicy, ManagedPolicy, NewPolicy,
    PolicyEntity, PolicyFilter, PolicyOwner, PolicyUsage, PolicyVersion, parse_version_id,
    version_id,
};
pub use role::{NewRole, Role, RoleLastUsed, RoleUpdate};
pub use saml_provider::{NewSamlProvider, SamlProvider};
pub use sealed::{SealedId, SealedKind, SealedValue};
pub use service::{
    Ciphertext, LockoutPolicy, NewOidcClient, NewSigningKey, OidcClient, SigninLockout, SigningKey,
};
pub use tag::{Tag, TagTarget};
pub use user::{NewUser, User, UserUpdate};
