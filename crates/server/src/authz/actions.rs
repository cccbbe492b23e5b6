//! THE table: for every operation, the resource it acts on and the
//! request-specific condition keys it sets. The action itself is the
//! operation's name (`iam:CreateUser`), generated from the model.
//!
//! Resource types and ARN formats follow the Service Authorization Reference
//! for IAM and STS (`data/aws-action-catalog/`); condition keys follow the
//! same reference's "condition keys" column. Operations not listed act on
//! `*`, as the reference gives them no resource type.

use crate::authn::Caller;
use crate::protocol::generated::iam::{self, Operation as Iam};
use crate::protocol::generated::sts::Operation as Sts;

/// What an operation acts on, before the store has been asked for paths and
/// tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceRef<'a> {
    /// `*`: the action has no resource type.
    Any,
    /// The caller's own identity (a user's ARN, or the account root).
    Caller,
    /// An existing user; `None` means the caller, as when AWS defaults
    /// `UserName` to the signing user.
    User(Option<&'a str>),
    /// A user about to be created.
    NewUser {
        name: &'a str,
        path: Option<&'a str>,
    },
    Group(&'a str),
    NewGroup {
        name: &'a str,
        path: Option<&'a str>,
    },
    Role(&'a str),
    NewRole {
        name: &'a str,
        path: Option<&'a str>,
    },
    /// A managed policy by ARN.
    Policy(&'a str),
    NewPolicy {
        name: &'a str,
        path: Option<&'a str>,
    },
    InstanceProfile(&'a str),
    NewInstanceProfile {
        name: &'a str,
        path: Option<&'a str>,
    },
    /// The user who owns this access key (`GetAccessKeyLastUsed`).
    AccessKeyOwner(&'a str),
    /// A virtual MFA device about to be created.
    NewMfaDevice {
        name: &'a str,
        path: Option<&'a str>,
    },
    /// An ARN the request names directly (MFA serial numbers, providers,
    /// `SimulatePrincipalPolicy`'s source).
    Arn(&'a str),
    /// An OIDC provider about to be created, from its URL.
    NewOidcProvider(&'a str),
    /// A SAML provider about to be created.
    NewSamlProvider(&'a str),
    /// A federated user session about to be created (`GetFederationToken`).
    FederatedUser(&'a str),
}

/// A condition key the request sets itself.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestKey<'a> {
    /// `iam:PermissionsBoundary`.
    PermissionsBoundary(&'a str),
    /// `iam:PolicyARN`.
    PolicyArn(&'a str),
    /// `aws:RequestTag/KEY` for each tag and `aws:TagKeys`.
    Tags(Vec<(&'a str, &'a str)>),
    /// `aws:TagKeys` of an untag request.
    TagKeys(&'a [String]),
    /// A single-valued string key (`sts:ExternalId`, `sts:RoleSessionName`…).
    String(&'static str, &'a str),
    /// A multivalued string key (`sts:TransitiveTagKeys`).
    StringList(&'static str, &'a [String]),
}

/// A resource-based policy the decision must include.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourcePolicyRef<'a> {
    /// The trust policy of the role with this ARN (`sts:AssumeRole*`).
    RoleTrust(&'a str),
}

/// Everything authorisation needs to know about one operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Target<'a> {
    /// `iam:CreateUser`.
    pub action: &'static str,
    pub resource: ResourceRef<'a>,
    pub keys: Vec<RequestKey<'a>>,
    pub resource_policy: Option<ResourcePolicyRef<'a>>,
    /// An MFA device and code given with the request (`SerialNumber`,
    /// `TokenCode`): verified before the decision, which then sees
    /// `aws:MultiFactorAuthPresent`.
    pub mfa: Option<(&'a str, &'a str)>,
    /// False for the few calls AWS lets anyone make about their own
    /// credentials (`sts:GetSessionToken`): no policy is asked, but an MFA
    /// code given with them is still verified.
    pub needs_permission: bool,
}

impl<'a> Target<'a> {
    fn new(action: &'static str, resource: ResourceRef<'a>) -> Self {
        Target {
            action,
            resource,
            keys: Vec::new(),
            resource_policy: None,
            mfa: None,
            needs_permission: true,
        }
    }

    fn key(mut self, key: RequestKey<'a>) -> Self {
        self.keys.push(key);
        self
    }

    fn key_opt(self, key: Option<RequestKey<'a>>) -> Self {
        match key {
            Some(k) => self.key(k),
            None => self,
        }
    }
}

/// Targets outside the table: Portcullis's own endpoints that authorise an
/// IAM action (`iam:PassRole` when an instance profile is associated with a
/// machine) get the same decision as any API call.
impl<'a> Target<'a> {
    pub fn custom(
        action: &'static str,
        resource: ResourceRef<'a>,
        keys: Vec<RequestKey<'a>>,
    ) -> Self {
        Target {
            keys,
            ..Target::new(action, resource)
        }
    }
}

fn tags(t: &Option<Vec<iam::Tag>>) -> Option<RequestKey<'_>> {
    t.as_deref().filter(|t| !t.is_empty()).map(tag_pairs)
}

fn tag_pairs(t: &[iam::Tag]) -> RequestKey<'_> {
    RequestKey::Tags(
        t.iter()
            .map(|t| (t.key.as_str(), t.value.as_str()))
            .collect(),
    )
}

/// The IAM table.
pub fn iam_target<'a>(op: &'a Iam) -> Target<'a> {
    use ResourceRef as R;
    let action = op.action();
    let t = |r| Target::new(action, r);
    let user = |name: &'a Option<String>| t(R::User(name.as_deref()));
    match op {
        // Users.
        Iam::CreateUser(i) => t(R::NewUser {
            name: &i.user_name,
            path: i.path.as_deref(),
        })
        .key_opt(tags(&i.tags))
        .key_opt(
            i.permissions_boundary
                .as_deref()
                .map(RequestKey::PermissionsBoundary),
        ),
        Iam::GetUser(i) => user(&i.user_name),
        Iam::UpdateUser(i) => t(R::User(Some(&i.user_name))),
        Iam::DeleteUser(i) => t(R::User(Some(&i.user_name))),
        Iam::TagUser(i) => t(R::User(Some(&i.user_name))).key(tag_pairs(&i.tags)),
        Iam::UntagUser(i) => t(R::User(Some(&i.user_name))).key(RequestKey::TagKeys(&i.tag_keys)),
        Iam::ListUserTags(i) => t(R::User(Some(&i.user_name))),
        Iam::ListGroupsForUser(i) => t(R::User(Some(&i.user_name))),
        Iam::PutUserPermissionsBoundary(i) => t(R::User(Some(&i.user_name)))
            .key(RequestKey::PermissionsBoundary(&i.permissions_boundary)),
        Iam::DeleteUserPermissionsBoundary(i) => t(R::User(Some(&i.user_name))),
        Iam::AttachUserPolicy(i) => {
            t(R::User(Some(&i.user_name))).key(RequestKey::PolicyArn(&i.policy_arn))
        }
        Iam::DetachUserPolicy(i) => {
            t(R::User(Some(&i.user_name))).key(RequestKey::PolicyArn(&i.policy_arn))
        }
        Iam::ListAttachedUserPolicies(i) => t(R::User(Some(&i.user_name))),
        Iam::PutUserPolicy(i) => t(R::User(Some(&i.user_name))),
        Iam::GetUserPolicy(i) => t(R::User(Some(&i.user_name))),
        Iam::DeleteUserPolicy(i) => t(R::User(Some(&i.user_name))),
        Iam::ListUserPolicies(i) => t(R::User(Some(&i.user_name))),
        // Credentials of a user (the caller's own when UserName is absent).
        Iam::CreateAccessKey(i) => user(&i.user_name),
        Iam::UpdateAccessKey(i) => user(&i.user_name),
        Iam::DeleteAccessKey(i) => user(&i.user_name),
        Iam::ListAccessKeys(i) => user(&i.user_name),
        Iam::GetAccessKeyLastUsed(i) => t(R::AccessKeyOwner(&i.access_key_id)),
        Iam::CreateLoginProfile(i) => user(&i.user_name),
        Iam::GetLoginProfile(i) => user(&i.user_name),
        Iam::UpdateLoginProfile(i) => t(R::User(Some(&i.user_name))),
        Iam::DeleteLoginProfile(i) => user(&i.user_name),
        Iam::ChangePassword(_) => t(R::User(None)),
        Iam::ListMFADevices(i) => user(&i.user_name),
        Iam::EnableMFADevice(i) => t(R::User(Some(&i.user_name))),
        Iam::ResyncMFADevice(i) => t(R::User(Some(&i.user_name))),
        Iam::DeactivateMFADevice(i) => user(&i.user_name),
        Iam::GetMFADevice(i) => user(&i.user_name),
        Iam::ListSigningCertificates(i) => user(&i.user_name),
        Iam::ListSSHPublicKeys(i) => user(&i.user_name),
        Iam::ListServiceSpecificCredentials(i) => user(&i.user_name),
        // MFA devices.
        Iam::CreateVirtualMFADevice(i) => t(R::NewMfaDevice {
            name: &i.virtual_mfa_device_name,
            path: i.path.as_deref(),
        })
        .key_opt(tags(&i.tags)),
        Iam::DeleteVirtualMFADevice(i) => t(R::Arn(&i.serial_number)),
        Iam::TagMFADevice(i) => t(R::Arn(&i.serial_number)).key(tag_pairs(&i.tags)),
        Iam::UntagMFADevice(i) => t(R::Arn(&i.serial_number)).key(RequestKey::TagKeys(&i.tag_keys)),
        Iam::ListMFADeviceTags(i) => t(R::Arn(&i.serial_number)),
        // Groups.
        Iam::CreateGroup(i) => t(R::NewGroup {
            name: &i.group_name,
            path: i.path.as_deref(),
        }),
        Iam::GetGroup(i) => t(R::Group(&i.group_name)),
        Iam::UpdateGroup(i) => t(R::Group(&i.group_name)),
        Iam::DeleteGroup(i) => t(R::Group(&i.group_name)),
        Iam::AddUserToGroup(i) => t(R::Group(&i.group_name)),
        Iam::RemoveUserFromGroup(i) => t(R::Group(&i.group_name)),
        Iam::AttachGroupPolicy(i) => {
            t(R::Group(&i.group_name)).key(RequestKey::PolicyArn(&i.policy_arn))
        }
        Iam::DetachGroupPolicy(i) => {
            t(R::Group(&i.group_name)).key(RequestKey::PolicyArn(&i.policy_arn))
        }
        Iam::ListAttachedGroupPolicies(i) => t(R::Group(&i.group_name)),
        Iam::PutGroupPolicy(i) => t(R::Group(&i.group_name)),
        Iam::GetGroupPolicy(i) => t(R::Group(&i.group_name)),
        Iam::DeleteGroupPolicy(i) => t(R::Group(&i.group_name)),
        Iam::ListGroupPolicies(i) => t(R::Group(&i.group_name)),
        // Roles.
        Iam::CreateRole(i) => t(R::NewRole {
            name: &i.role_name,
            path: i.path.as_deref(),
        })
        .key_opt(tags(&i.tags))
        .key_opt(
            i.permissions_boundary
                .as_deref()
                .map(RequestKey::PermissionsBoundary),
        ),
        Iam::GetRole(i) => t(R::Role(&i.role_name)),
        Iam::UpdateRole(i) => t(R::Role(&i.role_name)),
        Iam::UpdateRoleDescription(i) => t(R::Role(&i.role_name)),
        Iam::DeleteRole(i) => t(R::Role(&i.role_name)),
        Iam::UpdateAssumeRolePolicy(i) => t(R::Role(&i.role_name)),
        Iam::TagRole(i) => t(R::Role(&i.role_name)).key(tag_pairs(&i.tags)),
        Iam::UntagRole(i) => t(R::Role(&i.role_name)).key(RequestKey::TagKeys(&i.tag_keys)),
        Iam::ListRoleTags(i) => t(R::Role(&i.role_name)),
        Iam::AttachRolePolicy(i) => {
            t(R::Role(&i.role_name)).key(RequestKey::PolicyArn(&i.policy_arn))
        }
        Iam::DetachRolePolicy(i) => {
            t(R::Role(&i.role_name)).key(RequestKey::PolicyArn(&i.policy_arn))
        }
        Iam::ListAttachedRolePolicies(i) => t(R::Role(&i.role_name)),
        Iam::PutRolePolicy(i) => t(R::Role(&i.role_name)),
        Iam::GetRolePolicy(i) => t(R::Role(&i.role_name)),
        Iam::DeleteRolePolicy(i) => t(R::Role(&i.role_name)),
        Iam::ListRolePolicies(i) => t(R::Role(&i.role_name)),
        Iam::PutRolePermissionsBoundary(i) => {
            t(R::Role(&i.role_name)).key(RequestKey::PermissionsBoundary(&i.permissions_boundary))
        }
        Iam::DeleteRolePermissionsBoundary(i) => t(R::Role(&i.role_name)),
        Iam::ListInstanceProfilesForRole(i) => t(R::Role(&i.role_name)),
        // Managed policies.
        Iam::CreatePolicy(i) => t(R::NewPolicy {
            name: &i.policy_name,
            path: i.path.as_deref(),
        })
        .key_opt(tags(&i.tags)),
        Iam::GetPolicy(i) => t(R::Policy(&i.policy_arn)),
        Iam::DeletePolicy(i) => t(R::Policy(&i.policy_arn)),
        Iam::CreatePolicyVersion(i) => t(R::Policy(&i.policy_arn)),
        Iam::GetPolicyVersion(i) => t(R::Policy(&i.policy_arn)),
        Iam::ListPolicyVersions(i) => t(R::Policy(&i.policy_arn)),
        Iam::DeletePolicyVersion(i) => t(R::Policy(&i.policy_arn)),
        Iam::SetDefaultPolicyVersion(i) => t(R::Policy(&i.policy_arn)),
        Iam::TagPolicy(i) => t(R::Policy(&i.policy_arn)).key(tag_pairs(&i.tags)),
        Iam::UntagPolicy(i) => t(R::Policy(&i.policy_arn)).key(RequestKey::TagKeys(&i.tag_keys)),
        Iam::ListPolicyTags(i) => t(R::Policy(&i.policy_arn)),
        Iam::ListEntitiesForPolicy(i) => t(R::Policy(&i.policy_arn)),
        // Instance profiles.
        Iam::CreateInstanceProfile(i) => t(R::NewInstanceProfile {
            name: &i.instance_profile_name,
            path: i.path.as_deref(),
        })
        .key_opt(tags(&i.tags)),
        Iam::GetInstanceProfile(i) => t(R::InstanceProfile(&i.instance_profile_name)),
        Iam::DeleteInstanceProfile(i) => t(R::InstanceProfile(&i.instance_profile_name)),
        Iam::AddRoleToInstanceProfile(i) => t(R::InstanceProfile(&i.instance_profile_name)),
        Iam::RemoveRoleFromInstanceProfile(i) => t(R::InstanceProfile(&i.instance_profile_name)),
        Iam::TagInstanceProfile(i) => {
            t(R::InstanceProfile(&i.instance_profile_name)).key(tag_pairs(&i.tags))
        }
        Iam::UntagInstanceProfile(i) => {
            t(R::InstanceProfile(&i.instance_profile_name)).key(RequestKey::TagKeys(&i.tag_keys))
        }
        Iam::ListInstanceProfileTags(i) => t(R::InstanceProfile(&i.instance_profile_name)),
        // Identity providers.
        Iam::CreateOpenIDConnectProvider(i) => t(R::NewOidcProvider(&i.url)).key_opt(tags(&i.tags)),
        Iam::GetOpenIDConnectProvider(i) => t(R::Arn(&i.open_id_connect_provider_arn)),
        Iam::DeleteOpenIDConnectProvider(i) => t(R::Arn(&i.open_id_connect_provider_arn)),
        Iam::AddClientIDToOpenIDConnectProvider(i) => t(R::Arn(&i.open_id_connect_provider_arn)),
        Iam::RemoveClientIDFromOpenIDConnectProvider(i) => {
            t(R::Arn(&i.open_id_connect_provider_arn))
        }
        Iam::UpdateOpenIDConnectProviderThumbprint(i) => t(R::Arn(&i.open_id_connect_provider_arn)),
        Iam::TagOpenIDConnectProvider(i) => {
            t(R::Arn(&i.open_id_connect_provider_arn)).key(tag_pairs(&i.tags))
        }
        Iam::UntagOpenIDConnectProvider(i) => {
            t(R::Arn(&i.open_id_connect_provider_arn)).key(RequestKey::TagKeys(&i.tag_keys))
        }
        Iam::ListOpenIDConnectProviderTags(i) => t(R::Arn(&i.open_id_connect_provider_arn)),
        Iam::CreateSAMLProvider(i) => t(R::NewSamlProvider(&i.name)).key_opt(tags(&i.tags)),
        Iam::GetSAMLProvider(i) => t(R::Arn(&i.saml_provider_arn)),
        Iam::UpdateSAMLProvider(i) => t(R::Arn(&i.saml_provider_arn)),
        Iam::DeleteSAMLProvider(i) => t(R::Arn(&i.saml_provider_arn)),
        Iam::TagSAMLProvider(i) => t(R::Arn(&i.saml_provider_arn)).key(tag_pairs(&i.tags)),
        Iam::UntagSAMLProvider(i) => {
            t(R::Arn(&i.saml_provider_arn)).key(RequestKey::TagKeys(&i.tag_keys))
        }
        Iam::ListSAMLProviderTags(i) => t(R::Arn(&i.saml_provider_arn)),
        // The simulator acts on the principal it simulates.
        Iam::SimulatePrincipalPolicy(i) => t(R::Arn(&i.policy_source_arn)),
        Iam::GetContextKeysForPrincipalPolicy(i) => t(R::Arn(&i.policy_source_arn)),
        _ => t(R::Any),
    }
}

/// What STS does before any policy is asked.
#[derive(Debug, Clone, PartialEq)]
pub enum StsAccess<'a> {
    /// No permission is needed: "GetCallerIdentity … no permissions are
    /// required to perform this operation", and the same for the calls a
    /// caller makes about its own credentials.
    Open,
    /// An ordinary authorisation.
    Policy(Target<'a>),
}

/// The STS table.
pub fn sts_target<'a>(op: &'a Sts) -> StsAccess<'a> {
    use ResourceRef as R;
    let action = op.action();
    match op {
        Sts::GetCallerIdentity(_) => StsAccess::Open,
        Sts::AssumeRole(i) => {
            let mut t = Target::new(action, R::Arn(&i.role_arn));
            t.resource_policy = Some(ResourcePolicyRef::RoleTrust(&i.role_arn));
            t.mfa = i.serial_number.as_deref().zip(i.token_code.as_deref());
            t.keys.push(RequestKey::String(
                "sts:RoleSessionName",
                &i.role_session_name,
            ));
            if let Some(id) = &i.external_id {
                t.keys.push(RequestKey::String("sts:ExternalId", id));
            }
            if let Some(id) = &i.source_identity {
                t.keys.push(RequestKey::String("sts:SourceIdentity", id));
            }
            if let Some(tags) = i.tags.as_deref().filter(|t| !t.is_empty()) {
                t.keys.push(RequestKey::Tags(
                    tags.iter()
                        .map(|t| (t.key.as_str(), t.value.as_str()))
                        .collect(),
                ));
            }
            if let Some(keys) = &i.transitive_tag_keys {
                t.keys
                    .push(RequestKey::StringList("sts:TransitiveTagKeys", keys));
            }
            StsAccess::Policy(t)
        }
        // The federation calls: the caller is the token's (see `federation`),
        // the trust policy alone decides.
        Sts::AssumeRoleWithWebIdentity(i) => {
            let mut t = Target::new(action, R::Arn(&i.role_arn));
            t.resource_policy = Some(ResourcePolicyRef::RoleTrust(&i.role_arn));
            t.keys.push(RequestKey::String(
                "sts:RoleSessionName",
                &i.role_session_name,
            ));
            StsAccess::Policy(t)
        }
        Sts::AssumeRoleWithSAML(i) => {
            let mut t = Target::new(action, R::Arn(&i.role_arn));
            t.resource_policy = Some(ResourcePolicyRef::RoleTrust(&i.role_arn));
            StsAccess::Policy(t)
        }
        Sts::GetSessionToken(i) => {
            // "No permissions are required for users to perform this operation."
            let mut t = Target::new(action, R::Any);
            t.needs_permission = false;
            t.mfa = i.serial_number.as_deref().zip(i.token_code.as_deref());
            StsAccess::Policy(t)
        }
        Sts::GetFederationToken(i) => {
            StsAccess::Policy(Target::new(action, R::FederatedUser(&i.name)))
        }
        Sts::GetAccessKeyInfo(_) | Sts::DecodeAuthorizationMessage(_) => {
            StsAccess::Policy(Target::new(action, R::Any))
        }
        _ => StsAccess::Policy(Target::new(action, R::Any)),
    }
}

/// True when the resource is the caller's own identity.
pub fn caller_is_resource(resource: &ResourceRef<'_>, caller: &Caller) -> bool {
    match resource {
        ResourceRef::Caller => true,
        ResourceRef::User(None) => true,
        ResourceRef::User(Some(name)) => caller
            .user_name()
            .is_some_and(|own| own.eq_ignore_ascii_case(name)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::query::QueryParams;

    fn op(form: &str) -> Iam {
        let params = QueryParams::parse(form.as_bytes());
        let action = params.get("Action").unwrap().to_owned();
        Iam::decode(&action, &params).unwrap()
    }

    #[test]
    fn create_user_targets_the_new_user_with_its_tags_and_boundary() {
        let create = op(
            "Action=CreateUser&UserName=bob&Path=/eng/&Tags.member.1.Key=team&Tags.member.1.Value=blue\
                     &PermissionsBoundary=arn:aws:iam::aws:policy/ReadOnlyAccess",
        );
        let t = iam_target(&create);
        assert_eq!(t.action, "iam:CreateUser");
        assert_eq!(
            t.resource,
            ResourceRef::NewUser {
                name: "bob",
                path: Some("/eng/")
            }
        );
        assert_eq!(t.keys[0], RequestKey::Tags(vec![("team", "blue")]));
        assert_eq!(
            t.keys[1],
            RequestKey::PermissionsBoundary("arn:aws:iam::aws:policy/ReadOnlyAccess")
        );
    }

    #[test]
    fn user_name_defaults_to_the_caller() {
        let own = op("Action=ListAccessKeys");
        assert_eq!(iam_target(&own).resource, ResourceRef::User(None));
        let bob = op("Action=ListAccessKeys&UserName=bob");
        assert_eq!(iam_target(&bob).resource, ResourceRef::User(Some("bob")));
    }

    #[test]
    fn group_membership_is_an_action_on_the_group() {
        let add = op("Action=AddUserToGroup&UserName=bob&GroupName=admins");
        assert_eq!(iam_target(&add).resource, ResourceRef::Group("admins"));
    }

    #[test]
    fn attachments_carry_the_policy_arn_key() {
        let attach = op(
            "Action=AttachGroupPolicy&GroupName=g&PolicyArn=arn:aws:iam::aws:policy/ReadOnlyAccess",
        );
        let t = iam_target(&attach);
        assert_eq!(
            t.keys,
            vec![RequestKey::PolicyArn(
                "arn:aws:iam::aws:policy/ReadOnlyAccess"
            )]
        );
    }

    #[test]
    fn get_caller_identity_needs_no_permission() {
        let params = QueryParams::parse(b"Action=GetCallerIdentity");
        let op = Sts::decode("GetCallerIdentity", &params).unwrap();
        assert_eq!(sts_target(&op), StsAccess::Open);
    }
}
