//! Roles: Create/Get/Update/Delete/ListRoles, their trust policies, tags,
//! inline and attached policies and permissions boundaries.
//!
//! A trust policy is checked as IAM checks one (`PolicyKind::Trust`:
//! `Principal` required, `Resource` prohibited, 2,048 characters without
//! whitespace) and kept as the caller wrote it, so service principals such
//! as `ec2.amazonaws.com` come back unchanged. How a service assumes a role
//! is not decided here.

use portcullis_policy::document::{PrincipalType, PrincipalValue};
use portcullis_policy::{PolicyKind, SizeQuota};
use portcullis_store::StoreError;
use portcullis_store::model::{self as m, BoundaryOwner, PolicyOwner, TagTarget};

use crate::error::{ApiError, ErrorCode, store_error};
use crate::managed::AwsManagedPolicies;
use crate::ops::{self, RequestCtx, encode_document, store_tags, ts, validate_document, wire_tags};
use crate::protocol::generated::iam::*;

/// `MaxSessionDuration` when CreateRole does not give one (one hour).
pub const DEFAULT_MAX_SESSION_DURATION: u32 = 3600;

/// Page size used when a handler must read a whole list from the store.
const SCAN_PAGE: u32 = portcullis_store::page::MAX_ITEMS_LIMIT;

/// Which members of `Role` an answer carries: AWS leaves tags, the boundary
/// and `RoleLastUsed` out of `ListRoles` (and of roles nested in instance
/// profiles), and answers `RoleLastUsed` (possibly empty) from `GetRole`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleDetail {
    Listed,
    Full,
}

pub fn wire_role(r: &m::Role, detail: RoleDetail) -> Role {
    let full = detail == RoleDetail::Full;
    Role {
        arn: r.arn.clone(),
        assume_role_policy_document: Some(encode_document(&r.assume_role_policy_document)),
        create_date: ts(r.create_date),
        description: r.description.clone(),
        max_session_duration: i32::try_from(r.max_session_duration).ok(),
        path: r.path.clone(),
        permissions_boundary: r.permissions_boundary.as_ref().filter(|_| full).map(|arn| {
            AttachedPermissionsBoundary {
                permissions_boundary_arn: Some(arn.clone()),
                permissions_boundary_type: Some("PermissionsBoundaryPolicy".to_owned()),
            }
        }),
        role_id: r.id.clone(),
        role_last_used: full.then(|| RoleLastUsed {
            last_used_date: r.last_used.as_ref().map(|l| ts(l.date)),
            region: r.last_used.as_ref().and_then(|l| l.region.clone()),
        }),
        role_name: r.name.clone(),
        tags: (full && !r.tags.is_empty()).then(|| wire_tags(&r.tags)),
        ..Role::default()
    }
}

/// The session-duration bound a request asks for, in seconds. The decoder
/// already holds it to 3,600–43,200 as the model says.
fn max_session_duration(requested: Option<i32>) -> Result<Option<u32>, ApiError> {
    requested
        .map(|s| {
            u32::try_from(s).map_err(|_| {
                ApiError::validation(format!(
                    "1 validation error detected: Value '{s}' at 'maxSessionDuration' failed to \
                     satisfy constraint: Member must have value greater than or equal to 3600"
                ))
            })
        })
        .transpose()
}

/// Checks a trust policy as IAM does when it is written: the document on its
/// own, then every IAM user or role it names as an `AWS` principal in an
/// account this service holds must exist, with that ARN. (AWS refuses such
/// a policy too, because it stores the principal's unique id.)
async fn validate_trust_policy(ctx: &RequestCtx, document: &str) -> Result<(), ApiError> {
    validate_document(document, PolicyKind::Trust, None)?;
    let Ok(parsed) = portcullis_policy::parse(document, PolicyKind::Trust) else {
        return Err(ApiError::internal());
    };
    for statement in &parsed.statements {
        let Some(PrincipalValue::Map(entries)) = statement.principal.as_ref().map(|p| &p.value)
        else {
            continue;
        };
        for (_, arns) in entries.iter().filter(|(ty, _)| *ty == PrincipalType::Aws) {
            for arn in &arns.items {
                if !principal_exists(ctx, &arn.value).await? {
                    return Err(ApiError::new(
                        ErrorCode::MalformedPolicyDocument,
                        format!("Invalid principal in policy: \"AWS\":\"{}\"", arn.value),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Whether an `AWS` principal names something that exists, as far as this
/// service can know: users and roles of the accounts it holds are looked
/// up; accounts, roots, sessions and other accounts' entities are taken as
/// written.
async fn principal_exists(ctx: &RequestCtx, principal: &str) -> Result<bool, ApiError> {
    let Some(arn) = portcullis_policy::arn::Arn::parse(principal) else {
        return Ok(true);
    };
    if arn.service != "iam" || arn.resource.contains(['*', '?']) {
        return Ok(true);
    }
    let (is_user, path_name) = match arn.resource.split_once('/') {
        Some(("user", path_name)) => (true, path_name),
        Some(("role", path_name)) => (false, path_name),
        _ => return Ok(true),
    };
    let name = path_name.rsplit('/').next().unwrap_or(path_name);
    match ctx.store().get_account(arn.account).await {
        Ok(_) => {}
        Err(StoreError::NoSuchEntity(_)) => return Ok(true),
        Err(e) => return Err(store_error(e)),
    }
    let found = if is_user {
        ctx.store().get_user(arn.account, name).await.map(|u| u.arn)
    } else {
        ctx.store().get_role(arn.account, name).await.map(|r| r.arn)
    };
    match found {
        Ok(found) => Ok(found == principal),
        Err(StoreError::NoSuchEntity(_)) => Ok(false),
        Err(e) => Err(store_error(e)),
    }
}

pub async fn create_role(
    ctx: &RequestCtx,
    i: CreateRoleRequest,
) -> Result<CreateRoleResponse, ApiError> {
    let tags = store_tags(i.tags.as_deref())?;
    validate_trust_policy(ctx, &i.assume_role_policy_document).await?;
    if let Some(boundary) = &i.permissions_boundary {
        super::policies::check_boundary_arn(ctx, boundary).await?;
    }
    let role = ctx
        .store()
        .create_role(
            ctx.account(),
            &m::NewRole {
                name: i.role_name,
                path: i.path.unwrap_or_else(|| "/".to_owned()),
                assume_role_policy_document: i.assume_role_policy_document,
                description: i.description,
                max_session_duration: max_session_duration(i.max_session_duration)?
                    .unwrap_or(DEFAULT_MAX_SESSION_DURATION),
                permissions_boundary: i.permissions_boundary,
                tags,
            },
            ctx.now(),
        )
        .await
        .map_err(store_error)?;
    let mut wire = wire_role(&role, RoleDetail::Full);
    // CreateRole answers without RoleLastUsed: the role was never used.
    wire.role_last_used = None;
    Ok(CreateRoleResponse { role: wire })
}

pub async fn get_role(ctx: &RequestCtx, i: GetRoleRequest) -> Result<GetRoleResponse, ApiError> {
    let role = ctx
        .store()
        .get_role(ctx.account(), &i.role_name)
        .await
        .map_err(store_error)?;
    Ok(GetRoleResponse {
        role: wire_role(&role, RoleDetail::Full),
    })
}

pub async fn update_role(
    ctx: &RequestCtx,
    i: UpdateRoleRequest,
) -> Result<UpdateRoleResponse, ApiError> {
    ctx.store()
        .update_role(
            ctx.account(),
            &i.role_name,
            &m::RoleUpdate {
                description: i.description,
                max_session_duration: max_session_duration(i.max_session_duration)?,
            },
        )
        .await
        .map_err(store_error)?;
    Ok(UpdateRoleResponse {})
}

pub async fn update_role_description(
    ctx: &RequestCtx,
    i: UpdateRoleDescriptionRequest,
) -> Result<UpdateRoleDescriptionResponse, ApiError> {
    let role = ctx
        .store()
        .update_role(
            ctx.account(),
            &i.role_name,
            &m::RoleUpdate {
                description: Some(i.description),
                max_session_duration: None,
            },
        )
        .await
        .map_err(store_error)?;
    Ok(UpdateRoleDescriptionResponse {
        role: Some(wire_role(&role, RoleDetail::Full)),
    })
}

pub async fn delete_role(ctx: &RequestCtx, i: DeleteRoleRequest) -> Result<(), ApiError> {
    ctx.store()
        .delete_role(ctx.account(), &i.role_name)
        .await
        .map_err(store_error)
}

pub async fn list_roles(
    ctx: &RequestCtx,
    i: ListRolesRequest,
) -> Result<ListRolesResponse, ApiError> {
    let page = ctx
        .store()
        .list_roles(
            ctx.account(),
            i.path_prefix.as_deref(),
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListRolesResponse {
        roles: page
            .items
            .iter()
            .map(|r| wire_role(r, RoleDetail::Listed))
            .collect(),
        is_truncated,
        marker,
    })
}

pub async fn update_assume_role_policy(
    ctx: &RequestCtx,
    i: UpdateAssumeRolePolicyRequest,
) -> Result<(), ApiError> {
    validate_trust_policy(ctx, &i.policy_document).await?;
    ctx.store()
        .update_assume_role_policy(ctx.account(), &i.role_name, &i.policy_document)
        .await
        .map_err(store_error)
}

// ---------------------------------------------------------------------------
// Tags.

pub async fn tag_role(ctx: &RequestCtx, i: TagRoleRequest) -> Result<(), ApiError> {
    let tags = store_tags(Some(&i.tags))?;
    ctx.store()
        .tag_resource(ctx.account(), &TagTarget::Role(i.role_name), &tags)
        .await
        .map_err(store_error)
}

pub async fn untag_role(ctx: &RequestCtx, i: UntagRoleRequest) -> Result<(), ApiError> {
    ctx.store()
        .untag_resource(ctx.account(), &TagTarget::Role(i.role_name), &i.tag_keys)
        .await
        .map_err(store_error)
}

pub async fn list_role_tags(
    ctx: &RequestCtx,
    i: ListRoleTagsRequest,
) -> Result<ListRoleTagsResponse, ApiError> {
    let page = ctx
        .store()
        .list_tags(
            ctx.account(),
            &TagTarget::Role(i.role_name),
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListRoleTagsResponse {
        tags: wire_tags(&page.items),
        is_truncated,
        marker,
    })
}

// ---------------------------------------------------------------------------
// Inline policies.

/// Characters IAM counts against its policy size quotas: all of them but
/// JSON whitespace outside strings.
fn significant_chars(text: &str) -> usize {
    let (mut n, mut in_string, mut escaped) = (0, false, false);
    for c in text.chars() {
        if in_string {
            n += 1;
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            n += 1;
            in_string = c == '"';
        }
    }
    n
}

/// Creates or replaces an inline policy: the document is checked on its own
/// first (syntax and grammar, with the error's position), then with the
/// role's other inline policies against the 10,240-character quota they
/// share (a document too big on its own gets the same message, as in AWS).
///
/// The other policies are read before the write, in other transactions:
/// two concurrent puts on one role can together pass the quota, because
/// the store has no aggregate check to close that window.
pub async fn put_role_policy(ctx: &RequestCtx, i: PutRolePolicyRequest) -> Result<(), ApiError> {
    let quota = SizeQuota::RoleInline;
    validate_document(
        &i.policy_document,
        PolicyKind::Identity,
        Some(SizeQuota::Unlimited),
    )?;
    let owner = PolicyOwner::Role(i.role_name);
    let max = quota.max_chars().unwrap_or(usize::MAX);
    let mut total = significant_chars(&i.policy_document);
    let mut marker = None;
    loop {
        let page = ctx
            .store()
            .list_inline_policies(ctx.account(), &owner, marker, SCAN_PAGE)
            .await
            .map_err(store_error)?;
        for other in page.items.iter().filter(|n| **n != i.policy_name) {
            match ctx
                .store()
                .get_inline_policy(ctx.account(), &owner, other)
                .await
            {
                Ok(p) => total += significant_chars(&p.document),
                // Deleted meanwhile: it no longer counts.
                Err(StoreError::NoSuchEntity(_)) => {}
                Err(e) => return Err(store_error(e)),
            }
        }
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    if total > max {
        let PolicyOwner::Role(role) = &owner else {
            return Err(ApiError::internal());
        };
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            format!("Maximum policy size of {max} bytes exceeded for role {role}"),
        ));
    }
    ctx.store()
        .put_inline_policy(ctx.account(), &owner, &i.policy_name, &i.policy_document)
        .await
        .map_err(store_error)
}

pub async fn get_role_policy(
    ctx: &RequestCtx,
    i: GetRolePolicyRequest,
) -> Result<GetRolePolicyResponse, ApiError> {
    let owner = PolicyOwner::Role(i.role_name);
    let policy = ctx
        .store()
        .get_inline_policy(ctx.account(), &owner, &i.policy_name)
        .await
        .map_err(store_error)?;
    let PolicyOwner::Role(role_name) = owner else {
        return Err(ApiError::internal());
    };
    Ok(GetRolePolicyResponse {
        policy_document: encode_document(&policy.document),
        policy_name: policy.name,
        role_name,
    })
}

pub async fn delete_role_policy(
    ctx: &RequestCtx,
    i: DeleteRolePolicyRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .delete_inline_policy(
            ctx.account(),
            &PolicyOwner::Role(i.role_name),
            &i.policy_name,
        )
        .await
        .map_err(store_error)
}

pub async fn list_role_policies(
    ctx: &RequestCtx,
    i: ListRolePoliciesRequest,
) -> Result<ListRolePoliciesResponse, ApiError> {
    let page = ctx
        .store()
        .list_inline_policies(
            ctx.account(),
            &PolicyOwner::Role(i.role_name),
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListRolePoliciesResponse {
        policy_names: page.items,
        is_truncated,
        marker,
    })
}

// ---------------------------------------------------------------------------
// Attached managed policies.

/// `arn:aws:iam::ACCOUNT:policy/…` with ACCOUNT twelve digits or `aws`;
/// anything else is IAM's `InvalidInput`.
fn check_policy_arn(arn: &str) -> Result<(), ApiError> {
    let ok = portcullis_policy::arn::Arn::parse(arn).is_some_and(|a| {
        a.partition == "aws"
            && a.service == "iam"
            && a.region.is_empty()
            && (a.account == "aws"
                || (a.account.len() == 12 && a.account.bytes().all(|b| b.is_ascii_digit())))
            && a.resource
                .strip_prefix("policy/")
                .is_some_and(|rest| rest.rsplit('/').next().is_some_and(|name| !name.is_empty()))
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_input(format!("ARN {arn} is not valid.")))
    }
}

pub async fn attach_role_policy(
    ctx: &RequestCtx,
    i: AttachRolePolicyRequest,
) -> Result<(), ApiError> {
    check_policy_arn(&i.policy_arn)?;
    // AWS managed policies live in the catalog, not the store, which takes
    // their ARNs on trust.
    if AwsManagedPolicies::is_aws_managed_arn(&i.policy_arn)
        && ctx.state().managed.get(&i.policy_arn).is_none()
    {
        return Err(ApiError::no_such_entity(format!(
            "Policy {} does not exist or is not attachable.",
            i.policy_arn
        )));
    }
    ctx.store()
        .attach_policy(
            ctx.account(),
            &PolicyOwner::Role(i.role_name),
            &i.policy_arn,
        )
        .await
        .map_err(store_error)
}

pub async fn detach_role_policy(
    ctx: &RequestCtx,
    i: DetachRolePolicyRequest,
) -> Result<(), ApiError> {
    check_policy_arn(&i.policy_arn)?;
    ctx.store()
        .detach_policy(
            ctx.account(),
            &PolicyOwner::Role(i.role_name),
            &i.policy_arn,
        )
        .await
        .map_err(store_error)
}

pub async fn list_attached_role_policies(
    ctx: &RequestCtx,
    i: ListAttachedRolePoliciesRequest,
) -> Result<ListAttachedRolePoliciesResponse, ApiError> {
    let page = ctx
        .store()
        .list_attached_policies(
            ctx.account(),
            &PolicyOwner::Role(i.role_name),
            i.path_prefix.as_deref(),
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListAttachedRolePoliciesResponse {
        attached_policies: Some(
            page.items
                .into_iter()
                .map(|a| AttachedPolicy {
                    policy_arn: Some(a.policy_arn),
                    policy_name: Some(a.policy_name),
                })
                .collect(),
        ),
        is_truncated,
        marker,
    })
}

// ---------------------------------------------------------------------------
// Permissions boundary.

pub async fn put_role_permissions_boundary(
    ctx: &RequestCtx,
    i: PutRolePermissionsBoundaryRequest,
) -> Result<(), ApiError> {
    super::policies::check_boundary_arn(ctx, &i.permissions_boundary).await?;
    ctx.store()
        .put_permissions_boundary(
            ctx.account(),
            &BoundaryOwner::Role(i.role_name),
            &i.permissions_boundary,
        )
        .await
        .map_err(store_error)
}

pub async fn delete_role_permissions_boundary(
    ctx: &RequestCtx,
    i: DeleteRolePermissionsBoundaryRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .delete_permissions_boundary(ctx.account(), &BoundaryOwner::Role(i.role_name))
        .await
        .map_err(store_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_outside_strings_does_not_count() {
        assert_eq!(significant_chars("{ \"a b\" :\n 1 }"), "{\"a b\":1}".len());
        assert_eq!(significant_chars(r#"{"a\" b": 1}"#), r#"{"a\" b":1}"#.len());
    }

    #[test]
    fn policy_arns_are_checked_as_iam_does() {
        for ok in [
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
            "arn:aws:iam::123456789012:policy/team/p",
        ] {
            assert!(check_policy_arn(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ReadOnlyAccess",
            "arn:aws:iam::12345:policy/p",
            "arn:aws:s3:::policy/p",
            "arn:aws:iam::123456789012:role/p",
            "arn:aws:iam::123456789012:policy/",
        ] {
            let e = check_policy_arn(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn listed_roles_leave_out_tags_boundary_and_last_use() {
        let role = m::Role {
            id: "AROAEXAMPLE".into(),
            account_id: "123456789012".into(),
            name: "r".into(),
            path: "/".into(),
            arn: "arn:aws:iam::123456789012:role/r".into(),
            create_date: time::OffsetDateTime::UNIX_EPOCH,
            assume_role_policy_document: r#"{"Version": "2012-10-17"}"#.into(),
            description: None,
            max_session_duration: 3600,
            permissions_boundary: Some("arn:aws:iam::aws:policy/ReadOnlyAccess".into()),
            last_used: None,
            tags: vec![m::Tag::new("k", "v")],
        };
        let listed = wire_role(&role, RoleDetail::Listed);
        assert!(listed.tags.is_none() && listed.permissions_boundary.is_none());
        assert!(listed.role_last_used.is_none());
        assert_eq!(
            listed.assume_role_policy_document.as_deref(),
            Some("%7B%22Version%22%3A%20%222012-10-17%22%7D")
        );
        let full = wire_role(&role, RoleDetail::Full);
        assert_eq!(full.tags.map(|t| t.len()), Some(1));
        assert!(full.permissions_boundary.is_some());
        assert_eq!(full.role_last_used, Some(RoleLastUsed::default()));
    }
}
