//! Managed policies, their versions, attachments, inline policies and
//! permissions boundaries.
//!
//! Customer managed policies live in the store. The AWS managed ones are the
//! catalog embedded in the binary (`managed.rs`): every account sees them
//! under `arn:aws:iam::aws:policy/…`, may read and attach them, and cannot
//! change them, because they belong to AWS's account rather than the
//! caller's. Only their attachments are stored, so their usage counts come
//! from the store while everything else comes from the catalog.

use std::collections::{HashMap, HashSet};

use portcullis_policy::{PolicyKind, SizeQuota};
use portcullis_store::StoreError;
use portcullis_store::model::{self as m, BoundaryOwner, EntityKind, PolicyOwner, TagTarget};

use crate::error::{ApiError, ErrorCode, store_error};
use crate::managed::{AwsManagedPolicies, AwsManagedPolicy};
use crate::ops::{self, RequestCtx, encode_document, store_tags, ts, validate_document, wire_tags};
use crate::protocol::generated::iam::*;

/// Page size used when a handler must read a whole list from the store.
const SCAN_PAGE: u32 = portcullis_store::page::MAX_ITEMS_LIMIT;

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

// ---------------------------------------------------------------------------
// Policy ARNs and the AWS managed catalog.

/// What a well-formed policy ARN names.
#[derive(Debug, Clone, Copy)]
enum Named<'a> {
    /// An AWS managed policy of the catalog.
    Aws(&'a AwsManagedPolicy),
    /// A customer managed policy ARN; the store decides whether it exists.
    Customer,
}

/// Parses a policy ARN as IAM does, and resolves an AWS managed one in the
/// catalog (which is the only place it can exist).
fn resolve<'a>(ctx: &'a RequestCtx, arn: &str) -> Result<Named<'a>, ApiError> {
    check_policy_arn(arn)?;
    if AwsManagedPolicies::is_aws_managed_arn(arn) {
        return ctx
            .state()
            .managed
            .get(arn)
            .map(Named::Aws)
            .ok_or_else(|| no_such_policy(arn));
    }
    Ok(Named::Customer)
}

/// `arn:aws:iam::ACCOUNT:policy/PATH/NAME` with ACCOUNT twelve digits or
/// `aws`. The model only bounds the length of a policy ARN, so anything
/// else reaches the handler and gets IAM's `InvalidInput`.
fn check_policy_arn(arn: &str) -> Result<(), ApiError> {
    if is_policy_arn(arn) {
        Ok(())
    } else {
        Err(ApiError::invalid_input(format!("ARN {arn} is not valid.")))
    }
}

fn is_policy_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    let [a, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    let account_ok =
        *account == "aws" || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    let Some(path_name) = resource.strip_prefix("policy") else {
        return false;
    };
    let Some((path, name)) = path_name.rsplit_once('/') else {
        return false;
    };
    let name_ok = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_".contains(&b));
    // `path` is the path without its final `/`: empty for `/`, else
    // `/seg/seg` with no empty segment.
    let path_ok = path.is_empty()
        || (path.starts_with('/')
            && path
                .split('/')
                .skip(1)
                .all(|seg| !seg.is_empty() && seg.bytes().all(|b| (0x21..=0x7e).contains(&b))));
    *a == "arn"
        && *partition == "aws"
        && *service == "iam"
        && region.is_empty()
        && account_ok
        && name_ok
        && path_ok
}

fn no_such_policy(arn: &str) -> ApiError {
    ApiError::no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
}

fn no_such_version(arn: &str, version: &str) -> ApiError {
    ApiError::no_such_entity(format!(
        "Policy {arn} version {version} does not exist or is not attachable."
    ))
}

/// AWS managed policies belong to AWS's account: changing one is a
/// cross-account write that no resource-based policy allows, whoever asks.
fn aws_managed_is_read_only(ctx: &RequestCtx, action: &str, arn: &str) -> ApiError {
    ApiError::new(
        ErrorCode::AccessDenied,
        format!(
            "User: {} is not authorized to perform: iam:{action} on resource: {arn} \
             because no resource-based policy allows the iam:{action} action",
            ctx.caller().arn
        ),
    )
}

/// How often each AWS managed policy is used in the account.
#[derive(Debug, Default)]
struct AwsUsage {
    attachments: HashMap<String, u64>,
    boundaries: HashMap<String, u64>,
}

impl AwsUsage {
    /// Attachments are counted by the store; boundary uses are counted here
    /// from the users and roles, as the store has no such count.
    async fn load(ctx: &RequestCtx) -> Result<Self, ApiError> {
        let attachments = ctx
            .store()
            .aws_managed_attachment_counts(ctx.account())
            .await
            .map_err(store_error)?
            .into_iter()
            .collect();
        let mut boundaries: HashMap<String, u64> = HashMap::new();
        let users = all_users(ctx, None).await?;
        let roles = all_roles(ctx, None).await?;
        let used = users
            .iter()
            .filter_map(|u| u.permissions_boundary.as_deref())
            .chain(
                roles
                    .iter()
                    .filter_map(|r| r.permissions_boundary.as_deref()),
            )
            .filter(|arn| AwsManagedPolicies::is_aws_managed_arn(arn));
        for arn in used {
            *boundaries.entry(arn.to_owned()).or_default() += 1;
        }
        Ok(AwsUsage {
            attachments,
            boundaries,
        })
    }

    fn attachments(&self, arn: &str) -> u64 {
        self.attachments.get(arn).copied().unwrap_or(0)
    }

    fn boundaries(&self, arn: &str) -> u64 {
        self.boundaries.get(arn).copied().unwrap_or(0)
    }
}

async fn all_users(ctx: &RequestCtx, prefix: Option<&str>) -> Result<Vec<m::User>, ApiError> {
    let mut all = Vec::new();
    let mut marker = None;
    loop {
        let page = ctx
            .store()
            .list_users(ctx.account(), prefix, marker, SCAN_PAGE)
            .await
            .map_err(store_error)?;
        all.extend(page.items);
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => return Ok(all),
        }
    }
}

async fn all_roles(ctx: &RequestCtx, prefix: Option<&str>) -> Result<Vec<m::Role>, ApiError> {
    let mut all = Vec::new();
    let mut marker = None;
    loop {
        let page = ctx
            .store()
            .list_roles(ctx.account(), prefix, marker, SCAN_PAGE)
            .await
            .map_err(store_error)?;
        all.extend(page.items);
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => return Ok(all),
        }
    }
}

async fn all_groups(ctx: &RequestCtx, prefix: Option<&str>) -> Result<Vec<m::Group>, ApiError> {
    let mut all = Vec::new();
    let mut marker = None;
    loop {
        let page = ctx
            .store()
            .list_groups(ctx.account(), prefix, marker, SCAN_PAGE)
            .await
            .map_err(store_error)?;
        all.extend(page.items);
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => return Ok(all),
        }
    }
}

// ---------------------------------------------------------------------------
// Wire shapes.

/// Which members of `Policy` an operation returns: lists leave out the
/// description and tags, creation leaves out the description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    Listed,
    Created,
    Full,
}

fn count(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn wire_customer(p: &m::ManagedPolicy, detail: Detail) -> Policy {
    Policy {
        arn: Some(p.arn.clone()),
        attachment_count: Some(count(p.attachment_count)),
        create_date: Some(ts(p.create_date)),
        default_version_id: Some(p.default_version_id.clone()),
        description: if detail == Detail::Full {
            p.description.clone()
        } else {
            None
        },
        is_attachable: Some(true),
        path: Some(p.path.clone()),
        permissions_boundary_usage_count: Some(count(p.permissions_boundary_usage_count)),
        policy_id: Some(p.id.clone()),
        policy_name: Some(p.name.clone()),
        tags: (detail != Detail::Listed && !p.tags.is_empty()).then(|| wire_tags(&p.tags)),
        update_date: Some(ts(p.update_date)),
    }
}

fn wire_aws(p: &AwsManagedPolicy, usage: &AwsUsage) -> Policy {
    Policy {
        arn: Some(p.arn.clone()),
        attachment_count: Some(count(usage.attachments(&p.arn))),
        create_date: Some(ts(p.create_date)),
        default_version_id: Some(p.default_version_id.clone()),
        description: None,
        is_attachable: Some(true),
        path: Some(p.path.clone()),
        permissions_boundary_usage_count: Some(count(usage.boundaries(&p.arn))),
        policy_id: Some(p.id.clone()),
        policy_name: Some(p.name.clone()),
        tags: None,
        update_date: Some(ts(p.update_date)),
    }
}

fn wire_version(v: &m::PolicyVersion, with_document: bool) -> PolicyVersion {
    PolicyVersion {
        create_date: Some(ts(v.create_date)),
        document: with_document.then(|| encode_document(&v.document)),
        is_default_version: Some(v.is_default),
        version_id: Some(v.version_id.clone()),
    }
}

/// The one version of an AWS managed policy the catalog holds: its default.
fn aws_default_version(p: &AwsManagedPolicy, with_document: bool) -> PolicyVersion {
    PolicyVersion {
        create_date: Some(ts(p.update_date)),
        document: with_document.then(|| encode_document(&p.document)),
        is_default_version: Some(true),
        version_id: Some(p.default_version_id.clone()),
    }
}

// ---------------------------------------------------------------------------
// Managed policies.

pub async fn create_policy(
    ctx: &RequestCtx,
    i: CreatePolicyRequest,
) -> Result<CreatePolicyResponse, ApiError> {
    validate_document(
        &i.policy_document,
        PolicyKind::Identity,
        Some(SizeQuota::ManagedPolicy),
    )?;
    let tags = store_tags(i.tags.as_deref())?;
    let policy = ctx
        .store()
        .create_policy(
            ctx.account(),
            &m::NewPolicy {
                name: i.policy_name,
                path: i.path.unwrap_or_else(|| "/".to_owned()),
                description: i.description,
                document: i.policy_document,
                tags,
            },
            ctx.now(),
        )
        .await
        .map_err(store_error)?;
    Ok(CreatePolicyResponse {
        policy: Some(wire_customer(&policy, Detail::Created)),
    })
}

pub async fn get_policy(
    ctx: &RequestCtx,
    i: GetPolicyRequest,
) -> Result<GetPolicyResponse, ApiError> {
    let policy = match resolve(ctx, &i.policy_arn)? {
        Named::Aws(p) => wire_aws(p, &AwsUsage::load(ctx).await?),
        Named::Customer => {
            let p = ctx
                .store()
                .get_policy(ctx.account(), &i.policy_arn)
                .await
                .map_err(store_error)?;
            wire_customer(&p, Detail::Full)
        }
    };
    Ok(GetPolicyResponse {
        policy: Some(policy),
    })
}

pub async fn delete_policy(ctx: &RequestCtx, i: DeletePolicyRequest) -> Result<(), ApiError> {
    if let Named::Aws(_) = resolve(ctx, &i.policy_arn)? {
        return Err(aws_managed_is_read_only(ctx, "DeletePolicy", &i.policy_arn));
    }
    ctx.store()
        .delete_policy(ctx.account(), &i.policy_arn)
        .await
        .map_err(store_error)
}

/// Where a `ListPolicies` page starts. With `--scope All` the customer
/// policies come first (in the store's order), then the AWS managed ones
/// (by name); the marker says which part and where in it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ListCursor {
    /// In the customer policies, at the store's marker.
    Local(Option<String>),
    /// In the AWS managed policies, after the one with this name (from the
    /// beginning when empty).
    Aws(String),
}

const LOCAL_MARKER: &str = "local:";
const AWS_MARKER: &str = "aws:";

impl ListCursor {
    fn parse(marker: Option<&str>, scope: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::invalid_input("Invalid Marker.");
        let cursor = match marker {
            None if scope == "AWS" => ListCursor::Aws(String::new()),
            None => ListCursor::Local(None),
            Some(m) => {
                if let Some(store) = m.strip_prefix(LOCAL_MARKER) {
                    ListCursor::Local(Some(store.to_owned()))
                } else if let Some(after) = m.strip_prefix(AWS_MARKER) {
                    ListCursor::Aws(after.to_owned())
                } else {
                    return Err(invalid());
                }
            }
        };
        match (&cursor, scope) {
            (ListCursor::Local(_), "AWS") | (ListCursor::Aws(_), "Local") => Err(invalid()),
            _ => Ok(cursor),
        }
    }
}

pub async fn list_policies(
    ctx: &RequestCtx,
    i: ListPoliciesRequest,
) -> Result<ListPoliciesResponse, ApiError> {
    let scope = i.scope.as_deref().unwrap_or("All");
    let usage = match i.policy_usage_filter.as_deref() {
        Some("PermissionsPolicy") => Some(m::PolicyUsage::PermissionsPolicy),
        Some("PermissionsBoundary") => Some(m::PolicyUsage::PermissionsBoundary),
        _ => None,
    };
    let only_attached = i.only_attached.unwrap_or(false);
    let path_prefix = i.path_prefix.filter(|p| p != "/");
    let max = ops::max_items(i.max_items).clamp(1, SCAN_PAGE);
    let mut policies = Vec::new();

    let after = match ListCursor::parse(i.marker.as_deref(), scope)? {
        ListCursor::Local(marker) => {
            let filter = m::PolicyFilter {
                path_prefix: path_prefix.clone(),
                only_attached,
                usage,
            };
            let page = ctx
                .store()
                .list_policies(ctx.account(), &filter, marker, max)
                .await
                .map_err(store_error)?;
            policies.extend(page.items.iter().map(|p| wire_customer(p, Detail::Listed)));
            if let Some(next) = page.next_marker {
                return Ok(ListPoliciesResponse {
                    policies: Some(policies),
                    is_truncated: Some(true),
                    marker: Some(format!("{LOCAL_MARKER}{next}")),
                });
            }
            if scope == "Local" {
                return Ok(ListPoliciesResponse {
                    policies: Some(policies),
                    is_truncated: Some(false),
                    marker: None,
                });
            }
            String::new()
        }
        ListCursor::Aws(after) => after,
    };

    // The AWS managed policies, after `after`, into the room left.
    let room = (max as usize).saturating_sub(policies.len());
    let counts = AwsUsage::load(ctx).await?;
    let catalog = ctx.state().managed.all();
    let start = if after.is_empty() {
        0
    } else {
        catalog.partition_point(|p| p.name.as_str() <= after.as_str())
    };
    let wanted = |p: &&AwsManagedPolicy| {
        let in_path = path_prefix
            .as_deref()
            .is_none_or(|prefix| p.path.starts_with(prefix));
        // The same reading of the filters as the store's for customer
        // policies: a boundary filter wins over `OnlyAttached`.
        let used = match usage {
            Some(m::PolicyUsage::PermissionsBoundary) => counts.boundaries(&p.arn) > 0,
            Some(m::PolicyUsage::PermissionsPolicy) => counts.attachments(&p.arn) > 0,
            None => !only_attached || counts.attachments(&p.arn) > 0,
        };
        in_path && used
    };
    let mut last: Option<&str> = None;
    let mut rest = catalog
        .get(start..)
        .unwrap_or_default()
        .iter()
        .filter(wanted);
    for p in rest.by_ref().take(room) {
        policies.push(wire_aws(p, &counts));
        last = Some(p.name.as_str());
    }
    let more = rest.next().is_some();
    let marker = more.then(|| format!("{AWS_MARKER}{}", last.unwrap_or(after.as_str())));
    Ok(ListPoliciesResponse {
        policies: Some(policies),
        is_truncated: Some(more),
        marker,
    })
}

pub async fn create_policy_version(
    ctx: &RequestCtx,
    i: CreatePolicyVersionRequest,
) -> Result<CreatePolicyVersionResponse, ApiError> {
    if let Named::Aws(_) = resolve(ctx, &i.policy_arn)? {
        return Err(aws_managed_is_read_only(
            ctx,
            "CreatePolicyVersion",
            &i.policy_arn,
        ));
    }
    validate_document(
        &i.policy_document,
        PolicyKind::Identity,
        Some(SizeQuota::ManagedPolicy),
    )?;
    let version = ctx
        .store()
        .create_policy_version(
            ctx.account(),
            &i.policy_arn,
            &i.policy_document,
            i.set_as_default.unwrap_or(false),
            ctx.now(),
        )
        .await
        .map_err(store_error)?;
    Ok(CreatePolicyVersionResponse {
        policy_version: Some(wire_version(&version, false)),
    })
}

pub async fn get_policy_version(
    ctx: &RequestCtx,
    i: GetPolicyVersionRequest,
) -> Result<GetPolicyVersionResponse, ApiError> {
    let version = match resolve(ctx, &i.policy_arn)? {
        Named::Aws(p) if p.default_version_id == i.version_id => aws_default_version(p, true),
        Named::Aws(_) => return Err(no_such_version(&i.policy_arn, &i.version_id)),
        Named::Customer => {
            let v = ctx
                .store()
                .get_policy_version(ctx.account(), &i.policy_arn, &i.version_id)
                .await
                .map_err(store_error)?;
            wire_version(&v, true)
        }
    };
    Ok(GetPolicyVersionResponse {
        policy_version: Some(version),
    })
}

pub async fn list_policy_versions(
    ctx: &RequestCtx,
    i: ListPolicyVersionsRequest,
) -> Result<ListPolicyVersionsResponse, ApiError> {
    match resolve(ctx, &i.policy_arn)? {
        Named::Aws(p) => Ok(ListPolicyVersionsResponse {
            versions: Some(vec![aws_default_version(p, false)]),
            is_truncated: Some(false),
            marker: None,
        }),
        Named::Customer => {
            let page = ctx
                .store()
                .list_policy_versions(
                    ctx.account(),
                    &i.policy_arn,
                    i.marker,
                    ops::max_items(i.max_items),
                )
                .await
                .map_err(store_error)?;
            let (is_truncated, marker) = ops::truncation(&page);
            Ok(ListPolicyVersionsResponse {
                versions: Some(page.items.iter().map(|v| wire_version(v, false)).collect()),
                is_truncated,
                marker,
            })
        }
    }
}

pub async fn delete_policy_version(
    ctx: &RequestCtx,
    i: DeletePolicyVersionRequest,
) -> Result<(), ApiError> {
    if let Named::Aws(_) = resolve(ctx, &i.policy_arn)? {
        return Err(aws_managed_is_read_only(
            ctx,
            "DeletePolicyVersion",
            &i.policy_arn,
        ));
    }
    ctx.store()
        .delete_policy_version(ctx.account(), &i.policy_arn, &i.version_id)
        .await
        .map_err(store_error)
}

pub async fn set_default_policy_version(
    ctx: &RequestCtx,
    i: SetDefaultPolicyVersionRequest,
) -> Result<(), ApiError> {
    if let Named::Aws(_) = resolve(ctx, &i.policy_arn)? {
        return Err(aws_managed_is_read_only(
            ctx,
            "SetDefaultPolicyVersion",
            &i.policy_arn,
        ));
    }
    ctx.store()
        .set_default_policy_version(ctx.account(), &i.policy_arn, &i.version_id, ctx.now())
        .await
        .map_err(store_error)
}

pub async fn tag_policy(ctx: &RequestCtx, i: TagPolicyRequest) -> Result<(), ApiError> {
    if let Named::Aws(_) = resolve(ctx, &i.policy_arn)? {
        return Err(aws_managed_is_read_only(ctx, "TagPolicy", &i.policy_arn));
    }
    let tags = store_tags(Some(&i.tags))?;
    ctx.store()
        .tag_resource(ctx.account(), &TagTarget::Policy(i.policy_arn), &tags)
        .await
        .map_err(store_error)
}

pub async fn untag_policy(ctx: &RequestCtx, i: UntagPolicyRequest) -> Result<(), ApiError> {
    if let Named::Aws(_) = resolve(ctx, &i.policy_arn)? {
        return Err(aws_managed_is_read_only(ctx, "UntagPolicy", &i.policy_arn));
    }
    ctx.store()
        .untag_resource(ctx.account(), &TagTarget::Policy(i.policy_arn), &i.tag_keys)
        .await
        .map_err(store_error)
}

pub async fn list_policy_tags(
    ctx: &RequestCtx,
    i: ListPolicyTagsRequest,
) -> Result<ListPolicyTagsResponse, ApiError> {
    if let Named::Aws(_) = resolve(ctx, &i.policy_arn)? {
        // AWS managed policies carry no tags an account can see.
        return Ok(ListPolicyTagsResponse {
            tags: Vec::new(),
            is_truncated: Some(false),
            marker: None,
        });
    }
    let page = ctx
        .store()
        .list_tags(
            ctx.account(),
            &TagTarget::Policy(i.policy_arn),
            i.marker,
            ops::max_items(i.max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListPolicyTagsResponse {
        tags: wire_tags(&page.items),
        is_truncated,
        marker,
    })
}

fn kind_str(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Group => "group",
        EntityKind::Role => "role",
        EntityKind::User => "user",
    }
}

fn entities_response(
    entities: Vec<m::PolicyEntity>,
    next_marker: Option<String>,
) -> ListEntitiesForPolicyResponse {
    let (mut groups, mut roles, mut users) = (Vec::new(), Vec::new(), Vec::new());
    for e in entities {
        match e.kind {
            EntityKind::Group => groups.push(PolicyGroup {
                group_id: Some(e.id),
                group_name: Some(e.name),
            }),
            EntityKind::Role => roles.push(PolicyRole {
                role_id: Some(e.id),
                role_name: Some(e.name),
            }),
            EntityKind::User => users.push(PolicyUser {
                user_id: Some(e.id),
                user_name: Some(e.name),
            }),
        }
    }
    ListEntitiesForPolicyResponse {
        policy_groups: Some(groups),
        policy_roles: Some(roles),
        policy_users: Some(users),
        is_truncated: Some(next_marker.is_some()),
        marker: next_marker,
    }
}

/// Users, groups and roles the policy is attached to, or (with
/// `PolicyUsageFilter=PermissionsBoundary`) the users and roles it bounds.
///
/// The store pages plain attachments itself; a path prefix or the boundary
/// usage need the entities' paths and boundaries, which it does not index,
/// so those lists are built here and paged by `kind/name`.
pub async fn list_entities_for_policy(
    ctx: &RequestCtx,
    i: ListEntitiesForPolicyRequest,
) -> Result<ListEntitiesForPolicyResponse, ApiError> {
    let named = resolve(ctx, &i.policy_arn)?;
    if let Named::Customer = named {
        ctx.store()
            .get_policy(ctx.account(), &i.policy_arn)
            .await
            .map_err(store_error)?;
    }
    let kind = match i.entity_filter.as_deref() {
        None => None,
        Some("User") => Some(EntityKind::User),
        Some("Group") => Some(EntityKind::Group),
        Some("Role") => Some(EntityKind::Role),
        // A policy is never attached to a policy.
        Some(_) => return Ok(entities_response(Vec::new(), None)),
    };
    let boundary = i.policy_usage_filter.as_deref() == Some("PermissionsBoundary");
    let prefix = i.path_prefix.as_deref().filter(|p| *p != "/");
    let max = ops::max_items(i.max_items);
    if !boundary && prefix.is_none() {
        let page = ctx
            .store()
            .list_entities_for_policy(ctx.account(), &i.policy_arn, kind, i.marker, max)
            .await
            .map_err(store_error)?;
        return Ok(entities_response(page.items, page.next_marker));
    }

    let wants = |k: EntityKind| kind.is_none_or(|f| f == k);
    let mut found: Vec<m::PolicyEntity> = Vec::new();
    if boundary {
        let bounded = |b: &Option<String>| b.as_deref() == Some(i.policy_arn.as_str());
        if wants(EntityKind::User) {
            found.extend(
                all_users(ctx, prefix)
                    .await?
                    .into_iter()
                    .filter(|u| bounded(&u.permissions_boundary))
                    .map(|u| m::PolicyEntity {
                        kind: EntityKind::User,
                        name: u.name,
                        id: u.id,
                    }),
            );
        }
        if wants(EntityKind::Role) {
            found.extend(
                all_roles(ctx, prefix)
                    .await?
                    .into_iter()
                    .filter(|r| bounded(&r.permissions_boundary))
                    .map(|r| m::PolicyEntity {
                        kind: EntityKind::Role,
                        name: r.name,
                        id: r.id,
                    }),
            );
        }
    } else {
        let mut in_prefix: HashSet<String> = HashSet::new();
        if wants(EntityKind::User) {
            in_prefix.extend(all_users(ctx, prefix).await?.into_iter().map(|u| u.id));
        }
        if wants(EntityKind::Group) {
            in_prefix.extend(all_groups(ctx, prefix).await?.into_iter().map(|g| g.id));
        }
        if wants(EntityKind::Role) {
            in_prefix.extend(all_roles(ctx, prefix).await?.into_iter().map(|r| r.id));
        }
        let mut marker = None;
        loop {
            let page = ctx
                .store()
                .list_entities_for_policy(ctx.account(), &i.policy_arn, kind, marker, SCAN_PAGE)
                .await
                .map_err(store_error)?;
            found.extend(page.items.into_iter().filter(|e| in_prefix.contains(&e.id)));
            match page.next_marker {
                Some(next) => marker = Some(next),
                None => break,
            }
        }
    }

    let key = |e: &m::PolicyEntity| (e.kind, e.name.to_lowercase());
    found.sort_by_key(key);
    if let Some(marker) = i.marker.as_deref() {
        let invalid = || ApiError::invalid_input("Invalid Marker.");
        let (k, name) = marker.split_once('/').ok_or_else(invalid)?;
        let k = [EntityKind::Group, EntityKind::Role, EntityKind::User]
            .into_iter()
            .find(|c| kind_str(*c) == k)
            .ok_or_else(invalid)?;
        let after = (k, name.to_owned());
        found.retain(|e| key(e) > after);
    }
    let size = max as usize;
    let next_marker = (found.len() > size)
        .then(|| {
            found.truncate(size);
            found
                .last()
                .map(|e| format!("{}/{}", kind_str(e.kind), e.name.to_lowercase()))
        })
        .flatten();
    Ok(entities_response(found, next_marker))
}

// ---------------------------------------------------------------------------
// Attachments.

async fn attach(ctx: &RequestCtx, owner: PolicyOwner, arn: &str) -> Result<(), ApiError> {
    resolve(ctx, arn)?;
    ctx.store()
        .attach_policy(ctx.account(), &owner, arn)
        .await
        .map_err(store_error)
}

async fn detach(ctx: &RequestCtx, owner: PolicyOwner, arn: &str) -> Result<(), ApiError> {
    check_policy_arn(arn)?;
    ctx.store()
        .detach_policy(ctx.account(), &owner, arn)
        .await
        .map_err(store_error)
}

async fn list_attached(
    ctx: &RequestCtx,
    owner: PolicyOwner,
    path_prefix: Option<&str>,
    marker: Option<String>,
    max_items: Option<i32>,
) -> Result<(Vec<AttachedPolicy>, Option<bool>, Option<String>), ApiError> {
    let page = ctx
        .store()
        .list_attached_policies(
            ctx.account(),
            &owner,
            path_prefix,
            marker,
            ops::max_items(max_items),
        )
        .await
        .map_err(store_error)?;
    let (is_truncated, marker) = ops::truncation(&page);
    let attached = page
        .items
        .into_iter()
        .map(|a| AttachedPolicy {
            policy_arn: Some(a.policy_arn),
            policy_name: Some(a.policy_name),
        })
        .collect();
    Ok((attached, is_truncated, marker))
}

pub async fn attach_user_policy(
    ctx: &RequestCtx,
    i: AttachUserPolicyRequest,
) -> Result<(), ApiError> {
    attach(ctx, PolicyOwner::User(i.user_name), &i.policy_arn).await
}

pub async fn detach_user_policy(
    ctx: &RequestCtx,
    i: DetachUserPolicyRequest,
) -> Result<(), ApiError> {
    detach(ctx, PolicyOwner::User(i.user_name), &i.policy_arn).await
}

pub async fn list_attached_user_policies(
    ctx: &RequestCtx,
    i: ListAttachedUserPoliciesRequest,
) -> Result<ListAttachedUserPoliciesResponse, ApiError> {
    let (attached, is_truncated, marker) = list_attached(
        ctx,
        PolicyOwner::User(i.user_name),
        i.path_prefix.as_deref(),
        i.marker,
        i.max_items,
    )
    .await?;
    Ok(ListAttachedUserPoliciesResponse {
        attached_policies: Some(attached),
        is_truncated,
        marker,
    })
}

pub async fn attach_group_policy(
    ctx: &RequestCtx,
    i: AttachGroupPolicyRequest,
) -> Result<(), ApiError> {
    attach(ctx, PolicyOwner::Group(i.group_name), &i.policy_arn).await
}

pub async fn detach_group_policy(
    ctx: &RequestCtx,
    i: DetachGroupPolicyRequest,
) -> Result<(), ApiError> {
    detach(ctx, PolicyOwner::Group(i.group_name), &i.policy_arn).await
}

pub async fn list_attached_group_policies(
    ctx: &RequestCtx,
    i: ListAttachedGroupPoliciesRequest,
) -> Result<ListAttachedGroupPoliciesResponse, ApiError> {
    let (attached, is_truncated, marker) = list_attached(
        ctx,
        PolicyOwner::Group(i.group_name),
        i.path_prefix.as_deref(),
        i.marker,
        i.max_items,
    )
    .await?;
    Ok(ListAttachedGroupPoliciesResponse {
        attached_policies: Some(attached),
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

/// The quota on all inline policies of one identity together, and the word
/// IAM's message uses for the identity.
fn inline_quota(owner: &PolicyOwner) -> (SizeQuota, &'static str, &str) {
    match owner {
        PolicyOwner::User(name) => (SizeQuota::UserInline, "user", name),
        PolicyOwner::Group(name) => (SizeQuota::GroupInline, "group", name),
        PolicyOwner::Role(name) => (SizeQuota::RoleInline, "role", name),
    }
}

/// Creates or replaces an inline policy, checking the document on its own
/// (syntax and grammar, with the error's position) and then the identity's
/// quota, which covers all its inline policies together (a document too big
/// on its own gets the same message, as in AWS).
///
/// The aggregate is read before the write, in another transaction: two
/// concurrent puts on one identity can together pass the quota. The store
/// has no aggregate check to close that window.
async fn put_inline(
    ctx: &RequestCtx,
    owner: PolicyOwner,
    name: &str,
    document: &str,
) -> Result<(), ApiError> {
    let (quota, word, owner_name) = inline_quota(&owner);
    validate_document(document, PolicyKind::Identity, Some(SizeQuota::Unlimited))?;
    let max = quota.max_chars().unwrap_or(usize::MAX);
    let mut total = significant_chars(document);
    let mut marker = None;
    loop {
        let page = ctx
            .store()
            .list_inline_policies(ctx.account(), &owner, marker, SCAN_PAGE)
            .await
            .map_err(store_error)?;
        for other in page.items.iter().filter(|n| n.as_str() != name) {
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
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            format!("Maximum policy size of {max} bytes exceeded for {word} {owner_name}"),
        ));
    }
    ctx.store()
        .put_inline_policy(ctx.account(), &owner, name, document)
        .await
        .map_err(store_error)
}

async fn get_inline(ctx: &RequestCtx, owner: &PolicyOwner, name: &str) -> Result<String, ApiError> {
    let policy = ctx
        .store()
        .get_inline_policy(ctx.account(), owner, name)
        .await
        .map_err(store_error)?;
    Ok(encode_document(&policy.document))
}

async fn delete_inline(ctx: &RequestCtx, owner: &PolicyOwner, name: &str) -> Result<(), ApiError> {
    ctx.store()
        .delete_inline_policy(ctx.account(), owner, name)
        .await
        .map_err(store_error)
}

async fn list_inline(
    ctx: &RequestCtx,
    owner: &PolicyOwner,
    marker: Option<String>,
    max_items: Option<i32>,
) -> Result<portcullis_store::Page<String>, ApiError> {
    ctx.store()
        .list_inline_policies(ctx.account(), owner, marker, ops::max_items(max_items))
        .await
        .map_err(store_error)
}

pub async fn put_user_policy(ctx: &RequestCtx, i: PutUserPolicyRequest) -> Result<(), ApiError> {
    put_inline(
        ctx,
        PolicyOwner::User(i.user_name),
        &i.policy_name,
        &i.policy_document,
    )
    .await
}

pub async fn get_user_policy(
    ctx: &RequestCtx,
    i: GetUserPolicyRequest,
) -> Result<GetUserPolicyResponse, ApiError> {
    let owner = PolicyOwner::User(i.user_name);
    let policy_document = get_inline(ctx, &owner, &i.policy_name).await?;
    let PolicyOwner::User(user_name) = owner else {
        return Err(ApiError::internal());
    };
    Ok(GetUserPolicyResponse {
        policy_document,
        policy_name: i.policy_name,
        user_name,
    })
}

pub async fn delete_user_policy(
    ctx: &RequestCtx,
    i: DeleteUserPolicyRequest,
) -> Result<(), ApiError> {
    delete_inline(ctx, &PolicyOwner::User(i.user_name), &i.policy_name).await
}

pub async fn list_user_policies(
    ctx: &RequestCtx,
    i: ListUserPoliciesRequest,
) -> Result<ListUserPoliciesResponse, ApiError> {
    let page = list_inline(ctx, &PolicyOwner::User(i.user_name), i.marker, i.max_items).await?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListUserPoliciesResponse {
        policy_names: page.items,
        is_truncated,
        marker,
    })
}

pub async fn put_group_policy(ctx: &RequestCtx, i: PutGroupPolicyRequest) -> Result<(), ApiError> {
    put_inline(
        ctx,
        PolicyOwner::Group(i.group_name),
        &i.policy_name,
        &i.policy_document,
    )
    .await
}

pub async fn get_group_policy(
    ctx: &RequestCtx,
    i: GetGroupPolicyRequest,
) -> Result<GetGroupPolicyResponse, ApiError> {
    let owner = PolicyOwner::Group(i.group_name);
    let policy_document = get_inline(ctx, &owner, &i.policy_name).await?;
    let PolicyOwner::Group(group_name) = owner else {
        return Err(ApiError::internal());
    };
    Ok(GetGroupPolicyResponse {
        policy_document,
        policy_name: i.policy_name,
        group_name,
    })
}

pub async fn delete_group_policy(
    ctx: &RequestCtx,
    i: DeleteGroupPolicyRequest,
) -> Result<(), ApiError> {
    delete_inline(ctx, &PolicyOwner::Group(i.group_name), &i.policy_name).await
}

pub async fn list_group_policies(
    ctx: &RequestCtx,
    i: ListGroupPoliciesRequest,
) -> Result<ListGroupPoliciesResponse, ApiError> {
    let page = list_inline(
        ctx,
        &PolicyOwner::Group(i.group_name),
        i.marker,
        i.max_items,
    )
    .await?;
    let (is_truncated, marker) = ops::truncation(&page);
    Ok(ListGroupPoliciesResponse {
        policy_names: page.items,
        is_truncated,
        marker,
    })
}

// ---------------------------------------------------------------------------
// Permissions boundaries.

pub async fn put_user_permissions_boundary(
    ctx: &RequestCtx,
    i: PutUserPermissionsBoundaryRequest,
) -> Result<(), ApiError> {
    check_boundary_arn(ctx, &i.permissions_boundary).await?;
    ctx.store()
        .put_permissions_boundary(
            ctx.account(),
            &BoundaryOwner::User(i.user_name),
            &i.permissions_boundary,
        )
        .await
        .map_err(store_error)
}

pub async fn delete_user_permissions_boundary(
    ctx: &RequestCtx,
    i: DeleteUserPermissionsBoundaryRequest,
) -> Result<(), ApiError> {
    ctx.store()
        .delete_permissions_boundary(ctx.account(), &BoundaryOwner::User(i.user_name))
        .await
        .map_err(store_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_arns_are_checked_like_iam() {
        for good in [
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
            "arn:aws:iam::123456789012:policy/Mine",
            "arn:aws:iam::123456789012:policy/a/b/My+Policy=,.@-_1",
        ] {
            assert!(is_policy_arn(good), "{good}");
        }
        for bad in [
            "arn:aws:iam::aws:policy/arn:aws:iam::aws:policy/SecurityAudit",
            "arn:aws:iam::aws:policy/",
            "arn:aws:iam::aws:policy//X",
            "arn:aws:iam::aws:policyX",
            "arn:aws:iam::12345:policy/X",
            "arn:aws:iam::123456789012:role/X",
            "arn:aws:s3:::bucket/policy/X",
            "arn:aws:iam:us-east-1:123456789012:policy/X",
            "arn:aws-cn:iam::123456789012:policy/X",
            "arn:aws:iam::123456789012:policy/a b",
            "not an arn at all, long enough",
        ] {
            assert!(!is_policy_arn(bad), "{bad}");
        }
    }

    #[test]
    fn whitespace_outside_strings_is_not_counted() {
        assert_eq!(significant_chars("{ \"a\" : \"b c\" }"), 11);
        assert_eq!(significant_chars("{\n\t\"a\":\r\n[1, 2]}"), 11);
        // An escaped quote does not end the string, so its spaces count.
        assert_eq!(significant_chars(r#"{"a":"x\" y"}"#), 13);
        assert_eq!(significant_chars(""), 0);
    }

    #[test]
    fn list_policies_markers_name_their_part() {
        assert_eq!(
            ListCursor::parse(None, "All").unwrap(),
            ListCursor::Local(None)
        );
        assert_eq!(
            ListCursor::parse(None, "AWS").unwrap(),
            ListCursor::Aws(String::new())
        );
        assert_eq!(
            ListCursor::parse(Some("local:m1.abc"), "Local").unwrap(),
            ListCursor::Local(Some("m1.abc".to_owned()))
        );
        assert_eq!(
            ListCursor::parse(Some("aws:ReadOnlyAccess"), "All").unwrap(),
            ListCursor::Aws("ReadOnlyAccess".to_owned())
        );
        for (marker, scope) in [
            ("aws:X", "Local"),
            ("local:m1.x", "AWS"),
            ("garbage", "All"),
        ] {
            let e = ListCursor::parse(Some(marker), scope).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidInput, "{marker} {scope}");
        }
    }
}
