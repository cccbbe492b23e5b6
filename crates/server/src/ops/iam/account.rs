//! The account: its password policy, its alias, GetAccountSummary and
//! GetAccountAuthorizationDetails.

use data_encoding::BASE64URL_NOPAD;
use portcullis_store::model::{self as m, PolicyOrigin, PrincipalRef};

use crate::error::{ApiError, store_error};
use crate::ops::{self, RequestCtx, encode_document, ts, wire_tags};
use crate::protocol::generated::iam::*;

// ---------------------------------------------------------------------------
// Password policy

pub async fn get_account_password_policy(
    ctx: &RequestCtx,
) -> Result<GetAccountPasswordPolicyResponse, ApiError> {
    let p = ctx
        .store()
        .get_password_policy(ctx.account())
        .await
        .map_err(store_error)?;
    Ok(GetAccountPasswordPolicyResponse {
        password_policy: wire_password_policy(&p),
    })
}

fn wire_password_policy(p: &m::PasswordPolicy) -> PasswordPolicy {
    let int = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    PasswordPolicy {
        minimum_password_length: Some(int(p.minimum_password_length)),
        require_symbols: Some(p.require_symbols),
        require_numbers: Some(p.require_numbers),
        require_uppercase_characters: Some(p.require_uppercase_characters),
        require_lowercase_characters: Some(p.require_lowercase_characters),
        allow_users_to_change_password: Some(p.allow_users_to_change_password),
        expire_passwords: Some(p.max_password_age.is_some()),
        max_password_age: p.max_password_age.map(int),
        password_reuse_prevention: p.password_reuse_prevention.map(int),
        hard_expiry: Some(p.hard_expiry),
    }
}

/// Replaces the whole policy: AWS resets every parameter left out to its
/// default (the decoder has already checked the ranges of those given).
pub async fn update_account_password_policy(
    ctx: &RequestCtx,
    i: UpdateAccountPasswordPolicyRequest,
) -> Result<(), ApiError> {
    let defaults = m::PasswordPolicy::default();
    let uint = |v: i32| u32::try_from(v).map_err(|_| ApiError::validation("negative value"));
    let policy = m::PasswordPolicy {
        minimum_password_length: match i.minimum_password_length {
            Some(v) => uint(v)?,
            None => defaults.minimum_password_length,
        },
        require_symbols: i.require_symbols.unwrap_or(defaults.require_symbols),
        require_numbers: i.require_numbers.unwrap_or(defaults.require_numbers),
        require_uppercase_characters: i
            .require_uppercase_characters
            .unwrap_or(defaults.require_uppercase_characters),
        require_lowercase_characters: i
            .require_lowercase_characters
            .unwrap_or(defaults.require_lowercase_characters),
        allow_users_to_change_password: i
            .allow_users_to_change_password
            .unwrap_or(defaults.allow_users_to_change_password),
        max_password_age: i.max_password_age.map(uint).transpose()?,
        password_reuse_prevention: i.password_reuse_prevention.map(uint).transpose()?,
        hard_expiry: i.hard_expiry.unwrap_or(defaults.hard_expiry),
    };
    ctx.store()
        .put_password_policy(ctx.account(), &policy)
        .await
        .map_err(store_error)
}

pub async fn delete_account_password_policy(ctx: &RequestCtx) -> Result<(), ApiError> {
    ctx.store()
        .delete_password_policy(ctx.account())
        .await
        .map_err(store_error)
}

// ---------------------------------------------------------------------------
// Aliases

/// The model's pattern forbids two hyphens in a row with a look-ahead the
/// decoder's regex engine cannot run, so that one rule is checked here, in
/// the decoder's words.
const ALIAS_PATTERN: &str = "^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$";

pub async fn create_account_alias(
    ctx: &RequestCtx,
    i: CreateAccountAliasRequest,
) -> Result<(), ApiError> {
    if i.account_alias.contains("--") {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{}' at 'accountAlias' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: {ALIAS_PATTERN}",
            i.account_alias
        )));
    }
    ctx.store()
        .set_account_alias(ctx.account(), &i.account_alias)
        .await
        .map_err(store_error)
}

pub async fn delete_account_alias(
    ctx: &RequestCtx,
    i: DeleteAccountAliasRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .delete_account_alias(ctx.account(), &i.account_alias)
        .await
        .map_err(store_error)
}

/// An account has at most one alias, so there is never a second page.
pub async fn list_account_aliases(
    ctx: &RequestCtx,
    _i: ListAccountAliasesRequest,
) -> Result<ListAccountAliasesResponse, ApiError> {
    let account = ctx
        .store()
        .get_account(ctx.account())
        .await
        .map_err(store_error)?;
    Ok(ListAccountAliasesResponse {
        account_aliases: account.alias.into_iter().collect(),
        is_truncated: Some(false),
        marker: None,
    })
}

// ---------------------------------------------------------------------------
// Summary

/// AWS's default quotas ("IAM and AWS STS quotas" in the IAM User Guide),
/// which are also the limits Portcullis enforces where it enforces one.
pub mod quotas {
    pub const USERS: i32 = 5000;
    pub const GROUPS: i32 = 300;
    pub const ROLES: i32 = 1000;
    pub const POLICIES: i32 = 1500;
    pub const INSTANCE_PROFILES: i32 = 1000;
    pub const SERVER_CERTIFICATES: i32 = 20;
    pub const GROUPS_PER_USER: i32 = 10;
    pub const ACCESS_KEYS_PER_USER: i32 = 2;
    pub const SIGNING_CERTIFICATES_PER_USER: i32 = 2;
    pub const ATTACHED_POLICIES_PER_IDENTITY: i32 = 10;
    pub const USER_POLICY_SIZE: i32 = 2048;
    pub const GROUP_POLICY_SIZE: i32 = 5120;
    pub const ROLE_POLICY_SIZE: i32 = 10240;
    pub const POLICY_SIZE: i32 = 6144;
    pub const ASSUME_ROLE_POLICY_SIZE: i32 = 2048;
    pub const VERSIONS_PER_POLICY: i32 = 5;
    pub const POLICY_VERSIONS_IN_USE: i32 = 10000;
}

pub async fn get_account_summary(ctx: &RequestCtx) -> Result<GetAccountSummaryResponse, ApiError> {
    let s = ctx
        .store()
        .account_summary(ctx.account())
        .await
        .map_err(store_error)?;
    let n = |v: u64| i32::try_from(v).unwrap_or(i32::MAX);
    use quotas as q;
    let mut map: Vec<(String, i32)> = [
        ("AccessKeysPerUserQuota", q::ACCESS_KEYS_PER_USER),
        (
            "AccountAccessKeysPresent",
            i32::from(s.account_access_keys_present),
        ),
        // The root user has neither MFA, password nor signing certificates
        // in Portcullis: it signs in with its access keys only.
        ("AccountMFAEnabled", 0),
        ("AccountPasswordPresent", 0),
        ("AccountSigningCertificatesPresent", 0),
        ("AssumeRolePolicySizeQuota", q::ASSUME_ROLE_POLICY_SIZE),
        (
            "AttachedPoliciesPerGroupQuota",
            q::ATTACHED_POLICIES_PER_IDENTITY,
        ),
        (
            "AttachedPoliciesPerRoleQuota",
            q::ATTACHED_POLICIES_PER_IDENTITY,
        ),
        (
            "AttachedPoliciesPerUserQuota",
            q::ATTACHED_POLICIES_PER_IDENTITY,
        ),
        // Version 1 tokens: STS's default ("SetSecurityTokenServicePreferences").
        ("GlobalEndpointTokenVersion", 1),
        ("GroupPolicySizeQuota", q::GROUP_POLICY_SIZE),
        ("Groups", n(s.groups)),
        ("GroupsPerUserQuota", q::GROUPS_PER_USER),
        ("GroupsQuota", q::GROUPS),
        ("InstanceProfiles", n(s.instance_profiles)),
        ("InstanceProfilesQuota", q::INSTANCE_PROFILES),
        ("MFADevices", n(s.mfa_devices)),
        ("MFADevicesInUse", n(s.mfa_devices_in_use)),
        ("Policies", n(s.policies)),
        ("PoliciesQuota", q::POLICIES),
        ("PolicySizeQuota", q::POLICY_SIZE),
        ("PolicyVersionsInUse", n(s.policy_versions_in_use)),
        ("PolicyVersionsInUseQuota", q::POLICY_VERSIONS_IN_USE),
        ("Providers", n(s.providers)),
        ("RolePolicySizeQuota", q::ROLE_POLICY_SIZE),
        ("Roles", n(s.roles)),
        ("RolesQuota", q::ROLES),
        // Server certificates are not implemented: there are none.
        ("ServerCertificates", 0),
        ("ServerCertificatesQuota", q::SERVER_CERTIFICATES),
        (
            "SigningCertificatesPerUserQuota",
            q::SIGNING_CERTIFICATES_PER_USER,
        ),
        ("UserPolicySizeQuota", q::USER_POLICY_SIZE),
        ("Users", n(s.users)),
        ("UsersQuota", q::USERS),
        ("VersionsPerPolicyQuota", q::VERSIONS_PER_POLICY),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    map.sort();
    Ok(GetAccountSummaryResponse {
        summary_map: Some(map),
    })
}

// ---------------------------------------------------------------------------
// Authorization details

/// The sections of GetAccountAuthorizationDetails, in the order AWS lists
/// them, named as its `Filter` names them.
const SECTIONS: [&str; 5] = [
    "User",
    "Group",
    "Role",
    "LocalManagedPolicy",
    "AWSManagedPolicy",
];

/// Where the next page starts: a section and the store's marker within it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    section: usize,
    inner: Option<String>,
}

const CURSOR_PREFIX: &str = "aad1.";

impl Cursor {
    fn encode(&self) -> String {
        let text = format!(
            "{}\u{1f}{}",
            self.section,
            self.inner.as_deref().unwrap_or("")
        );
        format!("{CURSOR_PREFIX}{}", BASE64URL_NOPAD.encode(text.as_bytes()))
    }

    fn decode(marker: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::invalid_input("Invalid Marker.");
        let body = marker.strip_prefix(CURSOR_PREFIX).ok_or_else(invalid)?;
        let bytes = BASE64URL_NOPAD
            .decode(body.as_bytes())
            .map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (section, inner) = text.split_once('\u{1f}').ok_or_else(invalid)?;
        let section: usize = section.parse().map_err(|_| invalid())?;
        if section >= SECTIONS.len() {
            return Err(invalid());
        }
        Ok(Cursor {
            section,
            inner: (!inner.is_empty()).then(|| inner.to_owned()),
        })
    }
}

/// Every page of a store list, concatenated: `all_pages!(|marker| call)`
/// runs `call` (a store list future taking `marker`) until the last page.
/// A macro rather than a function over an async closure, whose future the
/// handler trait could not prove `Send`.
macro_rules! all_pages {
    (|$marker:ident| $call:expr) => {{
        let mut out = Vec::new();
        let mut $marker: Option<String> = None;
        loop {
            let page = $call.await.map_err(store_error)?;
            out.extend(page.items);
            match page.next_marker {
                Some(next) => $marker = Some(next),
                None => break,
            }
        }
        out
    }};
}

const ALL: u32 = portcullis_store::page::MAX_ITEMS_LIMIT;

#[derive(Default)]
struct Details {
    users: Vec<UserDetail>,
    groups: Vec<GroupDetail>,
    roles: Vec<RoleDetail>,
    policies: Vec<ManagedPolicyDetail>,
}

pub async fn get_account_authorization_details(
    ctx: &RequestCtx,
    i: GetAccountAuthorizationDetailsRequest,
) -> Result<GetAccountAuthorizationDetailsResponse, ApiError> {
    let wanted: Vec<bool> = SECTIONS
        .iter()
        .map(|s| match &i.filter {
            Some(f) if !f.is_empty() => f.iter().any(|x| x == s),
            _ => true,
        })
        .collect();
    let mut cursor = match &i.marker {
        Some(m) => Cursor::decode(m)?,
        None => Cursor {
            section: 0,
            inner: None,
        },
    };
    let max = ops::max_items(i.max_items).clamp(1, ALL);
    let mut remaining = max;
    let mut details = Details::default();
    let mut next: Option<Cursor> = None;
    while cursor.section < SECTIONS.len() {
        let section = cursor.section;
        if wanted.get(section).copied().unwrap_or(false) {
            if remaining == 0 {
                if section_has_items(ctx, section).await? {
                    next = Some(Cursor {
                        section,
                        inner: None,
                    });
                    break;
                }
            } else {
                let (taken, more) =
                    fetch_section(ctx, section, cursor.inner.take(), remaining, &mut details)
                        .await?;
                remaining = remaining.saturating_sub(taken);
                if let Some(inner) = more {
                    next = Some(Cursor {
                        section,
                        inner: Some(inner),
                    });
                    break;
                }
            }
        }
        cursor = Cursor {
            section: section + 1,
            inner: None,
        };
    }
    let show = |section: usize| wanted.get(section).copied().unwrap_or(false);
    Ok(GetAccountAuthorizationDetailsResponse {
        user_detail_list: show(0).then_some(details.users),
        group_detail_list: show(1).then_some(details.groups),
        role_detail_list: show(2).then_some(details.roles),
        policies: (show(3) || show(4)).then_some(details.policies),
        is_truncated: Some(next.is_some()),
        marker: next.map(|c| c.encode()),
    })
}

async fn section_has_items(ctx: &RequestCtx, section: usize) -> Result<bool, ApiError> {
    let (s, a) = (ctx.store(), ctx.account());
    let found = match section {
        0 => !s
            .list_users(a, None, None, 1)
            .await
            .map_err(store_error)?
            .items
            .is_empty(),
        1 => !s
            .list_groups(a, None, None, 1)
            .await
            .map_err(store_error)?
            .items
            .is_empty(),
        2 => !s
            .list_roles(a, None, None, 1)
            .await
            .map_err(store_error)?
            .items
            .is_empty(),
        3 => !s
            .list_policies(a, &m::PolicyFilter::default(), None, 1)
            .await
            .map_err(store_error)?
            .items
            .is_empty(),
        _ => !attached_aws_managed(ctx).await?.is_empty(),
    };
    Ok(found)
}

/// Appends up to `max` entities of one section; returns how many and the
/// store's marker when the section has more.
async fn fetch_section(
    ctx: &RequestCtx,
    section: usize,
    marker: Option<String>,
    max: u32,
    out: &mut Details,
) -> Result<(u32, Option<String>), ApiError> {
    let (s, a) = (ctx.store(), ctx.account());
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    match section {
        0 => {
            let page = s
                .list_users(a, None, marker, max)
                .await
                .map_err(store_error)?;
            for u in &page.items {
                out.users.push(user_detail(ctx, u).await?);
            }
            Ok((count(page.items.len()), page.next_marker))
        }
        1 => {
            let page = s
                .list_groups(a, None, marker, max)
                .await
                .map_err(store_error)?;
            for g in &page.items {
                out.groups.push(group_detail(ctx, g).await?);
            }
            Ok((count(page.items.len()), page.next_marker))
        }
        2 => {
            let page = s
                .list_roles(a, None, marker, max)
                .await
                .map_err(store_error)?;
            for r in &page.items {
                out.roles.push(role_detail(ctx, r).await?);
            }
            Ok((count(page.items.len()), page.next_marker))
        }
        3 => {
            let page = s
                .list_policies(a, &m::PolicyFilter::default(), marker, max)
                .await
                .map_err(store_error)?;
            for p in &page.items {
                out.policies.push(local_policy_detail(ctx, p).await?);
            }
            Ok((count(page.items.len()), page.next_marker))
        }
        _ => {
            let attached = attached_aws_managed(ctx).await?;
            let start = match &marker {
                // After the last one returned by name, even if it has been
                // detached since.
                Some(after) => {
                    let last = ctx
                        .state()
                        .managed
                        .get(after)
                        .ok_or_else(|| ApiError::invalid_input("Invalid Marker."))?;
                    attached.partition_point(|(p, _)| p.name <= last.name)
                }
                None => 0,
            };
            let rest = attached.get(start..).unwrap_or_default();
            let take = rest.len().min(max as usize);
            let page = rest.get(..take).unwrap_or_default();
            for (p, attachments) in page {
                out.policies.push(aws_policy_detail(p, *attachments));
            }
            let more = (rest.len() > take)
                .then(|| page.last().map(|(p, _)| p.arn.clone()))
                .flatten();
            Ok((count(take), more))
        }
    }
}

/// The AWS managed policies attached somewhere in the account (the only
/// ones AWS lists here), by name, with their attachment counts.
async fn attached_aws_managed(
    ctx: &RequestCtx,
) -> Result<Vec<(&crate::managed::AwsManagedPolicy, u64)>, ApiError> {
    let counts = ctx
        .store()
        .aws_managed_attachment_counts(ctx.account())
        .await
        .map_err(store_error)?;
    let mut out: Vec<_> = counts
        .into_iter()
        .filter_map(|(arn, n)| ctx.state().managed.get(&arn).map(|p| (p, n)))
        .collect();
    out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    Ok(out)
}

fn attached(arn: &str) -> AttachedPolicy {
    let a = m::AttachedPolicy::from_arn(arn.to_owned());
    AttachedPolicy {
        policy_arn: Some(a.policy_arn),
        policy_name: Some(a.policy_name),
    }
}

fn boundary(arn: &Option<String>) -> Option<AttachedPermissionsBoundary> {
    arn.as_ref().map(|arn| AttachedPermissionsBoundary {
        permissions_boundary_arn: Some(arn.clone()),
        permissions_boundary_type: Some("PermissionsBoundaryPolicy".to_owned()),
    })
}

/// The principal's own inline and attached policies from its authorisation
/// set (one consistent read).
fn own_policies(set: &m::AuthorizationSet) -> (Vec<PolicyDetail>, Vec<AttachedPolicy>) {
    let mut inline = Vec::new();
    let mut managed = Vec::new();
    for source in &set.policies {
        if source.origin != PolicyOrigin::Principal {
            continue;
        }
        match &source.policy {
            m::PolicyDocument::Inline { name, document } => inline.push(PolicyDetail {
                policy_name: Some(name.clone()),
                policy_document: Some(encode_document(document)),
            }),
            m::PolicyDocument::Customer { arn, .. } | m::PolicyDocument::AwsManaged { arn } => {
                managed.push(attached(arn))
            }
        }
    }
    (inline, managed)
}

async fn user_detail(ctx: &RequestCtx, u: &m::User) -> Result<UserDetail, ApiError> {
    let set = ctx
        .store()
        .authorization_set(ctx.account(), &PrincipalRef::UserId(u.id.clone()))
        .await
        .map_err(store_error)?;
    let groups =
        all_pages!(|marker| ctx
            .store()
            .list_groups_for_user(ctx.account(), &u.name, marker, ALL));
    let (inline, managed) = own_policies(&set);
    Ok(UserDetail {
        arn: Some(u.arn.clone()),
        create_date: Some(ts(u.create_date)),
        path: Some(u.path.clone()),
        user_id: Some(u.id.clone()),
        user_name: Some(u.name.clone()),
        user_policy_list: (!inline.is_empty()).then_some(inline),
        group_list: Some(groups.into_iter().map(|g| g.name).collect()),
        attached_managed_policies: Some(managed),
        permissions_boundary: boundary(&u.permissions_boundary),
        tags: (!set.principal.tags.is_empty()).then(|| wire_tags(&set.principal.tags)),
    })
}

async fn group_detail(ctx: &RequestCtx, g: &m::Group) -> Result<GroupDetail, ApiError> {
    let owner = m::PolicyOwner::Group(g.name.clone());
    let names =
        all_pages!(|marker| ctx
            .store()
            .list_inline_policies(ctx.account(), &owner, marker, ALL));
    let mut inline = Vec::with_capacity(names.len());
    for name in names {
        let p = ctx
            .store()
            .get_inline_policy(ctx.account(), &owner, &name)
            .await
            .map_err(store_error)?;
        inline.push(PolicyDetail {
            policy_name: Some(p.name),
            policy_document: Some(encode_document(&p.document)),
        });
    }
    let managed = all_pages!(|marker| ctx.store().list_attached_policies(
        ctx.account(),
        &owner,
        None,
        marker,
        ALL
    ));
    Ok(GroupDetail {
        arn: Some(g.arn.clone()),
        create_date: Some(ts(g.create_date)),
        group_id: Some(g.id.clone()),
        group_name: Some(g.name.clone()),
        path: Some(g.path.clone()),
        group_policy_list: Some(inline),
        attached_managed_policies: Some(managed.iter().map(|a| attached(&a.policy_arn)).collect()),
    })
}

fn wire_role(r: &m::Role) -> Role {
    Role {
        arn: r.arn.clone(),
        assume_role_policy_document: Some(encode_document(&r.assume_role_policy_document)),
        create_date: ts(r.create_date),
        description: r.description.clone(),
        max_session_duration: Some(i32::try_from(r.max_session_duration).unwrap_or(i32::MAX)),
        path: r.path.clone(),
        permissions_boundary: boundary(&r.permissions_boundary),
        role_id: r.id.clone(),
        role_name: r.name.clone(),
        ..Role::default()
    }
}

async fn role_detail(ctx: &RequestCtx, r: &m::Role) -> Result<RoleDetail, ApiError> {
    let set = ctx
        .store()
        .authorization_set(ctx.account(), &PrincipalRef::RoleId(r.id.clone()))
        .await
        .map_err(store_error)?;
    // Lists leave last-used out; the role itself has it.
    let full = ctx
        .store()
        .get_role(ctx.account(), &r.name)
        .await
        .map_err(store_error)?;
    let profiles = all_pages!(|marker| ctx.store().list_instance_profiles_for_role(
        ctx.account(),
        &r.name,
        marker,
        ALL
    ));
    let (inline, managed) = own_policies(&set);
    Ok(RoleDetail {
        arn: Some(r.arn.clone()),
        assume_role_policy_document: Some(encode_document(&r.assume_role_policy_document)),
        attached_managed_policies: Some(managed),
        create_date: Some(ts(r.create_date)),
        instance_profile_list: Some(
            profiles
                .iter()
                .map(|p| InstanceProfile {
                    arn: p.arn.clone(),
                    create_date: ts(p.create_date),
                    instance_profile_id: p.id.clone(),
                    instance_profile_name: p.name.clone(),
                    path: p.path.clone(),
                    roles: p.roles.iter().map(wire_role).collect(),
                    tags: (!p.tags.is_empty()).then(|| wire_tags(&p.tags)),
                })
                .collect(),
        ),
        path: Some(r.path.clone()),
        permissions_boundary: boundary(&r.permissions_boundary),
        role_id: Some(r.id.clone()),
        role_last_used: Some(RoleLastUsed {
            last_used_date: full.last_used.as_ref().map(|l| ts(l.date)),
            region: full.last_used.and_then(|l| l.region),
        }),
        role_name: Some(r.name.clone()),
        role_policy_list: Some(inline),
        tags: (!set.principal.tags.is_empty()).then(|| wire_tags(&set.principal.tags)),
    })
}

async fn local_policy_detail(
    ctx: &RequestCtx,
    p: &m::ManagedPolicy,
) -> Result<ManagedPolicyDetail, ApiError> {
    let versions =
        all_pages!(|marker| ctx
            .store()
            .list_policy_versions(ctx.account(), &p.arn, marker, ALL));
    let n = |v: u64| i32::try_from(v).unwrap_or(i32::MAX);
    Ok(ManagedPolicyDetail {
        arn: Some(p.arn.clone()),
        attachment_count: Some(n(p.attachment_count)),
        create_date: Some(ts(p.create_date)),
        default_version_id: Some(p.default_version_id.clone()),
        description: p.description.clone(),
        is_attachable: Some(true),
        path: Some(p.path.clone()),
        permissions_boundary_usage_count: Some(n(p.permissions_boundary_usage_count)),
        policy_id: Some(p.id.clone()),
        policy_name: Some(p.name.clone()),
        policy_version_list: Some(
            versions
                .into_iter()
                .map(|v| PolicyVersion {
                    create_date: Some(ts(v.create_date)),
                    document: Some(encode_document(&v.document)),
                    is_default_version: Some(v.is_default),
                    version_id: Some(v.version_id),
                })
                .collect(),
        ),
        update_date: Some(ts(p.update_date)),
    })
}

/// An AWS managed policy: Portcullis knows only its default version, so
/// that is the one version listed.
fn aws_policy_detail(
    p: &crate::managed::AwsManagedPolicy,
    attachments: u64,
) -> ManagedPolicyDetail {
    ManagedPolicyDetail {
        arn: Some(p.arn.clone()),
        attachment_count: Some(i32::try_from(attachments).unwrap_or(i32::MAX)),
        create_date: Some(ts(p.create_date)),
        default_version_id: Some(p.default_version_id.clone()),
        description: None,
        is_attachable: Some(true),
        path: Some(p.path.clone()),
        permissions_boundary_usage_count: None,
        policy_id: Some(p.id.clone()),
        policy_name: Some(p.name.clone()),
        policy_version_list: Some(vec![PolicyVersion {
            create_date: Some(ts(p.update_date)),
            document: Some(encode_document(&p.document)),
            is_default_version: Some(true),
            version_id: Some(p.default_version_id.clone()),
        }]),
        update_date: Some(ts(p.update_date)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_invalid_input() {
        for c in [
            Cursor {
                section: 0,
                inner: None,
            },
            Cursor {
                section: 4,
                inner: Some("arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()),
            },
        ] {
            assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        }
        for bad in ["", "aad1.", "aad1.!!", "xyz", &format!("{CURSOR_PREFIX}OQ")] {
            let e = Cursor::decode(bad).unwrap_err();
            assert_eq!(e.code(), crate::error::ErrorCode::InvalidInput, "{bad}");
        }
        let out_of_range = format!("{CURSOR_PREFIX}{}", BASE64URL_NOPAD.encode(b"9\x1f"));
        assert!(Cursor::decode(&out_of_range).is_err());
    }

    #[test]
    fn omitted_parameters_reset_to_aws_defaults() {
        let p = wire_password_policy(&m::PasswordPolicy::default());
        assert_eq!(p.minimum_password_length, Some(6));
        assert_eq!(p.expire_passwords, Some(false));
        assert_eq!(p.max_password_age, None);
        assert_eq!(p.password_reuse_prevention, None);
    }
}
