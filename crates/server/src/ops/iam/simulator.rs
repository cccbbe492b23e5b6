//! The policy simulator: SimulateCustomPolicy, SimulatePrincipalPolicy,
//! GetContextKeysForCustomPolicy and GetContextKeysForPrincipalPolicy.
//!
//! A principal's policies are read and compiled exactly as enforcement
//! reads and compiles them (`authz::compile_user_set` / `compile_set` over
//! the store's authorisation set), and every decision comes from the same
//! engine call (`portcullis_policy::authorize`), so the simulator cannot
//! disagree with what the service actually allows. `explain` over the same
//! set supplies the matched statements and missing context keys.
//!
//! The request context holds what the simulated caller implies about
//! itself (the keys enforcement sets from the principal: `aws:username`,
//! `aws:userid`, `aws:PrincipalArn`, `aws:PrincipalAccount`,
//! `aws:PrincipalType`, `aws:PrincipalTag/*`…) and the `ContextEntries`
//! given, which override them. Keys that describe a live request
//! (`aws:SourceIp`, `aws:CurrentTime`, …) come only from `ContextEntries`;
//! a policy that tests one that was not given reports it in
//! `MissingContextValues`.
//!
//! `ResourceHandlingOption` selects which EC2 resources AWS insists on; it
//! is accepted and has no effect, as no EC2 scenario is modelled.

mod catalog;

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use portcullis_policy::{
    self as policy, Context, ContextType, Decision, Effect, Explanation, ParseOptions, Policy,
    PolicyDocument, PolicyKind, PolicySet, PolicySource, Position as SourcePosition, Principal,
    PrincipalKind, SizeQuota, StatementInfo,
};
use portcullis_store::model::{
    self as m, AuthorizationSet, PolicyOrigin, PolicySource as StoredSource, PrincipalInfo,
    PrincipalRef,
};
use portcullis_store::{StoreError, arn as arns};

use crate::authz::{self, PrincipalPolicies};
use crate::error::{ApiError, store_error};
use crate::ops::{self, RequestCtx};
use crate::protocol::generated::iam::*;

// ---------------------------------------------------------------------------
// The four operations

pub async fn simulate_custom_policy(
    ctx: &RequestCtx,
    i: SimulateCustomPolicyRequest,
) -> Result<SimulatePolicyResponse, ApiError> {
    let caller = match &i.caller_arn {
        Some(arn) => Some(resolve_caller(ctx, arn).await?),
        None => None,
    };
    if i.resource_policy.is_some() && caller.is_none() {
        return Err(ApiError::invalid_input(
            "CallerArn is required when a ResourcePolicy is simulated: the policy's Principal \
             element needs a caller to match.",
        ));
    }
    let mut builder = Builder::new(caller.unwrap_or_else(|| anonymous_caller(ctx)));
    builder.add_inputs(&i.policy_input_list, "PolicyInputList")?;
    builder.set_boundary_input(i.permissions_boundary_policy_input_list.as_deref())?;
    for (level, org) in i
        .ordered_organization_policy_input_list
        .iter()
        .flatten()
        .enumerate()
    {
        builder.add_scp_level(level, org.service_control_policy_input_list.as_deref())?;
    }
    builder.set_resource_policy(i.resource_policy.as_deref())?;
    let sim = builder.build(i.context_entries.as_deref())?;
    let options = Options {
        actions: i.action_names,
        resources: i.resource_arns,
        resource_owner: i.resource_owner,
        marker: i.marker,
        max_items: i.max_items,
    };
    sim.run(options)
}

pub async fn simulate_principal_policy(
    ctx: &RequestCtx,
    i: SimulatePrincipalPolicyRequest,
) -> Result<SimulatePolicyResponse, ApiError> {
    let entity = Entity::parse(&i.policy_source_arn, "PolicySourceArn")?;
    let exclusions = Exclusions::parse(i.policy_exclusion_list.as_deref().unwrap_or_default())?;
    let loaded = load_principal(ctx, &entity, &exclusions).await?;
    if i.resource_policy.is_some() {
        if entity.kind == EntityKind::Role {
            return Err(ApiError::invalid_input(
                "Simulation of resource-based policies isn't supported for IAM roles.",
            ));
        }
        if entity.kind == EntityKind::Group && i.caller_arn.is_none() {
            return Err(ApiError::invalid_input(
                "CallerArn is required when a ResourcePolicy is simulated for a group: the \
                 policy's Principal element needs a caller to match.",
            ));
        }
    }
    let caller = match &i.caller_arn {
        Some(arn) => resolve_caller(ctx, arn).await?,
        None => loaded.caller.clone(),
    };
    let mut builder = Builder::new(caller);
    builder.add_loaded(loaded);
    builder.add_inputs(
        i.policy_input_list.as_deref().unwrap_or_default(),
        "PolicyInputList",
    )?;
    builder.set_boundary_input(i.permissions_boundary_policy_input_list.as_deref())?;
    builder.set_resource_policy(i.resource_policy.as_deref())?;
    let sim = builder.build(i.context_entries.as_deref())?;
    let options = Options {
        actions: i.action_names,
        resources: i.resource_arns,
        resource_owner: i.resource_owner,
        marker: i.marker,
        max_items: i.max_items,
    };
    sim.run(options)
}

pub async fn get_context_keys_for_custom_policy(
    _ctx: &RequestCtx,
    i: GetContextKeysForCustomPolicyRequest,
) -> Result<GetContextKeysForPolicyResponse, ApiError> {
    let mut keys = ContextKeys::default();
    for (n, text) in i.policy_input_list.iter().enumerate() {
        let doc = parse_input(
            text,
            PolicyKind::Identity,
            &format!("PolicyInputList.{}", n + 1),
        )?;
        keys.add_document(&doc);
    }
    Ok(GetContextKeysForPolicyResponse {
        context_key_names: Some(keys.names),
    })
}

pub async fn get_context_keys_for_principal_policy(
    ctx: &RequestCtx,
    i: GetContextKeysForPrincipalPolicyRequest,
) -> Result<GetContextKeysForPolicyResponse, ApiError> {
    let entity = Entity::parse(&i.policy_source_arn, "PolicySourceArn")?;
    let loaded = load_principal(ctx, &entity, &Exclusions::default()).await?;
    let mut keys = ContextKeys::default();
    for input in loaded.identity.iter().chain(loaded.boundary.as_ref()) {
        if let Some(doc) = input.document() {
            keys.add_document(doc);
        }
    }
    for (n, text) in i.policy_input_list.iter().flatten().enumerate() {
        let doc = parse_input(
            text,
            PolicyKind::Identity,
            &format!("PolicyInputList.{}", n + 1),
        )?;
        keys.add_document(&doc);
    }
    Ok(GetContextKeysForPolicyResponse {
        context_key_names: Some(keys.names),
    })
}

// ---------------------------------------------------------------------------
// Policies fed to a simulation, with what the answer says about them

/// One policy of a simulation: how the answer names it, and its text for
/// statement positions.
#[derive(Debug)]
struct Input {
    /// `SourcePolicyId`: a policy name, or `PolicyInputList.N`.
    id: String,
    /// `SourcePolicyType`.
    source_type: &'static str,
    text: Option<Arc<str>>,
    kind: PolicyKind,
    parsed: OnceLock<Option<PolicyDocument>>,
}

impl Input {
    fn new(
        id: String,
        source_type: &'static str,
        text: Option<Arc<str>>,
        kind: PolicyKind,
    ) -> Self {
        Input {
            id,
            source_type,
            text,
            kind,
            parsed: OnceLock::new(),
        }
    }

    /// The parsed document (documents were validated when written or given).
    fn document(&self) -> Option<&PolicyDocument> {
        self.parsed
            .get_or_init(|| {
                let text = self.text.as_deref()?;
                policy::parse(
                    text,
                    ParseOptions {
                        kind: self.kind,
                        quota: Some(SizeQuota::Unlimited),
                    },
                )
                .ok()
            })
            .as_ref()
    }

    /// `Statement` of the answer for statement `index`: where it starts
    /// (its `{`) and ends (its `}`), 1-based.
    fn statement(&self, index: usize) -> Statement {
        let positions = self.text.as_deref().and_then(|text| {
            let span = self.document()?.statements.get(index)?.span;
            let start = SourcePosition::of(text, span.start as usize);
            let end = SourcePosition::of(text, (span.end as usize).saturating_sub(1));
            Some((start, end))
        });
        let wire = |p: SourcePosition| Position {
            line: Some(i32::try_from(p.line).unwrap_or(i32::MAX)),
            column: Some(i32::try_from(p.column).unwrap_or(i32::MAX)),
        };
        Statement {
            source_policy_id: Some(self.id.clone()),
            source_policy_type: Some(self.source_type.to_owned()),
            start_position: positions.map(|(s, _)| wire(s)),
            end_position: positions.map(|(_, e)| wire(e)),
        }
    }
}

/// Parses a policy given in the request, answering `InvalidInput` with
/// IAM's message and where the problem is.
fn parse_input(text: &str, kind: PolicyKind, what: &str) -> Result<PolicyDocument, ApiError> {
    let options = ParseOptions {
        kind,
        quota: Some(SizeQuota::Unlimited),
    };
    policy::parse(text, options).map_err(|_| {
        let detail = ops::validate_document(text, kind, Some(SizeQuota::Unlimited))
            .err()
            .map(|e| e.message().to_owned())
            .unwrap_or_default();
        ApiError::invalid_input(format!("{what}: {detail}"))
    })
}

fn compile_input(
    text: &str,
    kind: PolicyKind,
    id: &str,
) -> Result<(Arc<Policy>, PolicyDocument), ApiError> {
    let doc = parse_input(text, kind, id)?;
    let compiled = Policy::compile(id, &doc)
        .map_err(|e| ApiError::invalid_input(format!("{id}: {}", e.aws_message())))?;
    Ok((Arc::new(compiled), doc))
}

// ---------------------------------------------------------------------------
// The simulated principal

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntityKind {
    User,
    Group,
    Role,
}

impl EntityKind {
    fn source_type(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Group => "group",
            EntityKind::Role => "role",
        }
    }
}

/// An IAM user, group or role named by ARN.
#[derive(Debug, Clone)]
struct Entity {
    kind: EntityKind,
    arn: String,
    account: String,
    name: String,
}

impl Entity {
    fn parse(arn: &str, parameter: &str) -> Result<Self, ApiError> {
        let invalid = || {
            ApiError::invalid_input(format!(
                "{parameter} must be the ARN of an IAM user, group or role: {arn}"
            ))
        };
        let parsed = policy::arn::Arn::parse(arn).ok_or_else(invalid)?;
        if parsed.service != "iam" || parsed.account.is_empty() {
            return Err(invalid());
        }
        let (kind, rest) = if let Some(rest) = parsed.resource.strip_prefix("user/") {
            (EntityKind::User, rest)
        } else if let Some(rest) = parsed.resource.strip_prefix("group/") {
            (EntityKind::Group, rest)
        } else if let Some(rest) = parsed.resource.strip_prefix("role/") {
            (EntityKind::Role, rest)
        } else {
            return Err(invalid());
        };
        let name = rest.rsplit('/').next().unwrap_or_default();
        if name.is_empty() {
            return Err(invalid());
        }
        Ok(Entity {
            kind,
            arn: arn.to_owned(),
            account: parsed.account.to_owned(),
            name: name.to_owned(),
        })
    }

    fn not_found(&self) -> ApiError {
        let what = match self.kind {
            EntityKind::User => "user",
            EntityKind::Group => "group",
            EntityKind::Role => "role",
        };
        ApiError::no_such_entity(format!(
            "The {what} with name {} cannot be found.",
            self.name
        ))
    }
}

/// Who the simulated request comes from, and what that puts in the context.
#[derive(Debug, Clone)]
struct Caller {
    principal: Principal,
    /// Context keys the caller implies (as enforcement sets them).
    keys: Vec<(String, ContextType, String)>,
}

/// The keys enforcement sets from a user (`authz/context.rs`).
fn user_caller(arn: &str, account: &str, name: &str, id: Option<&str>, tags: &[m::Tag]) -> Caller {
    let mut principal = Principal::new(PrincipalKind::User, arn);
    principal.account = account.to_owned();
    principal.unique_id = id.map(str::to_owned);
    let mut keys = vec![
        s("aws:PrincipalArn", arn),
        s("aws:PrincipalAccount", account),
        s("aws:PrincipalType", "User"),
        s("aws:username", name),
        b("aws:PrincipalIsAWSService", false),
        b("aws:ViaAWSService", false),
    ];
    if let Some(id) = id {
        keys.push(s("aws:userid", id));
    }
    keys.extend(
        tags.iter()
            .map(|t| s(&format!("aws:PrincipalTag/{}", t.key), &t.value)),
    );
    Caller { principal, keys }
}

fn s(key: &str, value: &str) -> (String, ContextType, String) {
    (key.to_owned(), ContextType::String, value.to_owned())
}

fn b(key: &str, value: bool) -> (String, ContextType, String) {
    (key.to_owned(), ContextType::Boolean, value.to_string())
}

/// A role simulated as a session of itself.
fn role_caller(arn: &str, account: &str, tags: &[m::Tag]) -> Caller {
    let mut principal = Principal::new(PrincipalKind::RoleSession, arn);
    principal.account = account.to_owned();
    principal.role_arn = Some(arn.to_owned());
    let mut keys = vec![
        s("aws:PrincipalArn", arn),
        s("aws:PrincipalAccount", account),
        s("aws:PrincipalType", "AssumedRole"),
        b("aws:PrincipalIsAWSService", false),
        b("aws:ViaAWSService", false),
    ];
    keys.extend(
        tags.iter()
            .map(|t| s(&format!("aws:PrincipalTag/{}", t.key), &t.value)),
    );
    Caller { principal, keys }
}

/// Groups are not principals; simulating "as" one names it and nothing more.
fn group_caller(arn: &str, account: &str) -> Caller {
    let mut principal = Principal::new(PrincipalKind::User, arn);
    principal.account = account.to_owned();
    Caller {
        principal,
        keys: vec![
            s("aws:PrincipalArn", arn),
            s("aws:PrincipalAccount", account),
        ],
    }
}

/// SimulateCustomPolicy without `CallerArn`: policies alone, in the
/// caller's account, with no principal keys.
fn anonymous_caller(ctx: &RequestCtx) -> Caller {
    let mut principal = Principal::new(PrincipalKind::User, arns::root_arn(ctx.account()));
    principal.account = ctx.account().to_owned();
    Caller {
        principal,
        keys: Vec::new(),
    }
}

/// `CallerArn`: an IAM user, group or role; its id and tags when it is in
/// this account.
async fn resolve_caller(ctx: &RequestCtx, arn: &str) -> Result<Caller, ApiError> {
    let entity = Entity::parse(arn, "CallerArn")?;
    let local = entity.account == ctx.account();
    let store = ctx.store();
    let caller = match entity.kind {
        EntityKind::User => {
            let user = if local {
                found(store.get_user(ctx.account(), &entity.name).await)?
            } else {
                None
            };
            match user {
                Some(u) => user_caller(&u.arn, &u.account_id, &u.name, Some(&u.id), &u.tags),
                None => user_caller(arn, &entity.account, &entity.name, None, &[]),
            }
        }
        EntityKind::Role => {
            let role = if local {
                found(store.get_role(ctx.account(), &entity.name).await)?
            } else {
                None
            };
            match role {
                Some(r) => role_caller(&r.arn, &r.account_id, &r.tags),
                None => role_caller(arn, &entity.account, &[]),
            }
        }
        EntityKind::Group => group_caller(arn, &entity.account),
    };
    Ok(caller)
}

/// `Ok(None)` for an entity that does not exist.
fn found<T>(r: Result<T, StoreError>) -> Result<Option<T>, ApiError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::NoSuchEntity(_)) => Ok(None),
        Err(e) => Err(store_error(e)),
    }
}

/// A principal's policies, compiled as enforcement compiles them.
struct Loaded {
    policies: PrincipalPolicies,
    /// Parallel to `policies.set.identity()`.
    identity: Vec<Input>,
    boundary: Option<Input>,
    caller: Caller,
}

async fn load_principal(
    ctx: &RequestCtx,
    entity: &Entity,
    exclusions: &Exclusions,
) -> Result<Loaded, ApiError> {
    if entity.account != ctx.account() {
        return Err(entity.not_found());
    }
    let state = ctx.state();
    let mut set = match entity.kind {
        EntityKind::User => {
            authorization_set(ctx, entity, PrincipalRef::UserName(entity.name.clone())).await?
        }
        EntityKind::Role => {
            authorization_set(ctx, entity, PrincipalRef::RoleName(entity.name.clone())).await?
        }
        EntityKind::Group => group_set(ctx, entity).await?,
    };
    if !set.principal.arn.eq_ignore_ascii_case(&entity.arn) {
        return Err(entity.not_found());
    }
    exclusions.apply(&mut set, entity.kind);
    let (policies, caller) = match entity.kind {
        EntityKind::User => (
            authz::compile_user_set(state, &set).await?,
            user_caller(
                &set.principal.arn,
                &set.account_id,
                &set.principal.name,
                Some(&set.principal.id),
                &set.principal.tags,
            ),
        ),
        EntityKind::Role => {
            let mut p = authz::compile_set(state, &set, PrincipalKind::RoleSession)?;
            p.principal.role_arn = Some(set.principal.arn.clone());
            (
                p,
                role_caller(&set.principal.arn, &set.account_id, &set.principal.tags),
            )
        }
        EntityKind::Group => (
            authz::compile_set(state, &set, PrincipalKind::User)?,
            group_caller(&set.principal.arn, &set.account_id),
        ),
    };
    let mut identity: Vec<Input> = set
        .policies
        .iter()
        .map(|source| stored_input(ctx, source, entity.kind, PolicyKind::Identity))
        .collect();
    // compile_user_set appends the account's grant after the stored ones.
    if policies.set.identity().len() > identity.len() {
        identity.push(Input::new(
            crate::password::ACCOUNT_GRANT_ID.to_owned(),
            "none",
            None,
            PolicyKind::Identity,
        ));
    }
    let boundary = set.boundary.as_ref().map(|b| {
        let source = StoredSource {
            origin: PolicyOrigin::Principal,
            policy: b.clone(),
        };
        stored_input(ctx, &source, entity.kind, PolicyKind::Boundary)
    });
    Ok(Loaded {
        policies,
        identity,
        boundary,
        caller,
    })
}

async fn authorization_set(
    ctx: &RequestCtx,
    entity: &Entity,
    principal: PrincipalRef,
) -> Result<AuthorizationSet, ApiError> {
    match ctx
        .store()
        .authorization_set(ctx.account(), &principal)
        .await
    {
        Ok(set) => Ok(set),
        Err(StoreError::NoSuchEntity(_)) => Err(entity.not_found()),
        Err(e) => Err(store_error(e)),
    }
}

/// A group's own policies in the shape of an authorisation set, so that
/// they compile through the same function as a user's.
async fn group_set(ctx: &RequestCtx, entity: &Entity) -> Result<AuthorizationSet, ApiError> {
    let (store, account) = (ctx.store(), ctx.account());
    let group =
        found(store.get_group(account, &entity.name).await)?.ok_or_else(|| entity.not_found())?;
    let owner = m::PolicyOwner::Group(group.name.clone());
    let mut policies = Vec::new();
    let mut marker = None;
    loop {
        let page = store
            .list_inline_policies(
                account,
                &owner,
                marker,
                portcullis_store::page::MAX_ITEMS_LIMIT,
            )
            .await
            .map_err(store_error)?;
        for name in page.items {
            let p = store
                .get_inline_policy(account, &owner, &name)
                .await
                .map_err(store_error)?;
            policies.push(StoredSource {
                origin: PolicyOrigin::Principal,
                policy: m::PolicyDocument::Inline {
                    name: p.name,
                    document: p.document,
                },
            });
        }
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    let mut marker = None;
    loop {
        let page = store
            .list_attached_policies(
                account,
                &owner,
                None,
                marker,
                portcullis_store::page::MAX_ITEMS_LIMIT,
            )
            .await
            .map_err(store_error)?;
        for a in page.items {
            let policy = if arns::is_aws_managed_policy(&a.policy_arn) {
                m::PolicyDocument::AwsManaged { arn: a.policy_arn }
            } else {
                let p = store
                    .get_policy(account, &a.policy_arn)
                    .await
                    .map_err(store_error)?;
                let v = store
                    .get_policy_version(account, &p.arn, &p.default_version_id)
                    .await
                    .map_err(store_error)?;
                m::PolicyDocument::Customer {
                    arn: p.arn,
                    version_id: v.version_id,
                    document: v.document,
                }
            };
            policies.push(StoredSource {
                origin: PolicyOrigin::Principal,
                policy,
            });
        }
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    Ok(AuthorizationSet {
        account_id: account.to_owned(),
        generation: 0,
        principal: PrincipalInfo {
            kind: m::PrincipalKind::User,
            id: group.id,
            name: group.name,
            path: group.path,
            arn: group.arn,
            tags: Vec::new(),
        },
        policies,
        boundary: None,
    })
}

/// How the answer names a stored policy: inline policies by name with the
/// kind of entity they are embedded in, managed ones by name with
/// `aws-managed` / `user-managed`.
fn stored_input(
    ctx: &RequestCtx,
    source: &StoredSource,
    kind: EntityKind,
    policy_kind: PolicyKind,
) -> Input {
    let name_of = |arn: &str| arn.rsplit('/').next().unwrap_or(arn).to_owned();
    match &source.policy {
        m::PolicyDocument::Inline { name, document } => {
            let source_type = match source.origin {
                PolicyOrigin::Principal => kind.source_type(),
                PolicyOrigin::Group { .. } => "group",
            };
            Input::new(
                name.clone(),
                source_type,
                Some(document.as_str().into()),
                policy_kind,
            )
        }
        m::PolicyDocument::Customer { arn, document, .. } => Input::new(
            name_of(arn),
            "user-managed",
            Some(document.as_str().into()),
            policy_kind,
        ),
        m::PolicyDocument::AwsManaged { arn } => Input::new(
            name_of(arn),
            "aws-managed",
            ctx.state()
                .managed
                .get(arn)
                .map(|p| Arc::from(p.document.as_str())),
            policy_kind,
        ),
    }
}

// ---------------------------------------------------------------------------
// PolicyExclusionList

#[derive(Debug, Default)]
struct Exclusions {
    types: Vec<String>,
    arns: Vec<String>,
    /// (policy name, entity type, entity name pattern).
    inline: Vec<(String, String, String)>,
}

impl Exclusions {
    fn parse(list: &[PolicyIdentifier]) -> Result<Self, ApiError> {
        let mut out = Exclusions::default();
        for id in list {
            let given = usize::from(id.policy_type.is_some())
                + usize::from(id.policy_arn.is_some())
                + usize::from(id.inline_policy_identifier.is_some());
            if given != 1 {
                return Err(ApiError::invalid_input(
                    "Each PolicyExclusionList entry must specify exactly one of PolicyType, \
                     PolicyArn and InlinePolicyIdentifier.",
                ));
            }
            if let Some(t) = &id.policy_type {
                out.types.push(t.clone());
            }
            if let Some(arn) = &id.policy_arn {
                check_wildcards(arn, arn.find(":policy/").map(|i| i + ":policy/".len()))?;
                out.arns.push(arn.clone());
            }
            if let Some(inline) = &id.inline_policy_identifier {
                check_wildcards(&inline.attachment_name, Some(0))?;
                out.inline.push((
                    inline.policy_name.clone(),
                    inline.attachment_type.clone(),
                    inline.attachment_name.clone(),
                ));
            }
        }
        Ok(out)
    }

    /// Drops the excluded policies from a principal's set.
    fn apply(&self, set: &mut AuthorizationSet, kind: EntityKind) {
        let principal_name = set.principal.name.clone();
        let excluded_type = |t: &str| self.types.iter().any(|x| x == t);
        set.policies.retain(|source| match &source.policy {
            m::PolicyDocument::Inline { name, .. } => {
                if excluded_type("inline") {
                    return false;
                }
                let (owner_type, owner_name) = match &source.origin {
                    PolicyOrigin::Principal => (kind.source_type(), principal_name.as_str()),
                    PolicyOrigin::Group { name, .. } => ("group", name.as_str()),
                };
                !self.inline.iter().any(|(policy, t, pattern)| {
                    policy == name && t == owner_type && glob(pattern, owner_name, true)
                })
            }
            m::PolicyDocument::Customer { arn, .. } => {
                !excluded_type("user-managed") && !self.arns.iter().any(|p| glob(p, arn, false))
            }
            m::PolicyDocument::AwsManaged { arn } => {
                !excluded_type("aws-managed") && !self.arns.iter().any(|p| glob(p, arn, false))
            }
        });
        if excluded_type("permission-boundary") {
            set.boundary = None;
        }
    }
}

/// At most one `*`, and wildcards only from `from` on (the resource name of
/// an ARN).
fn check_wildcards(pattern: &str, from: Option<usize>) -> Result<(), ApiError> {
    let invalid = || {
        ApiError::invalid_input(format!(
            "Invalid policy identifier {pattern}: use at most one '*', and wildcards only in \
             the name."
        ))
    };
    let from = from.ok_or_else(invalid)?;
    if pattern.matches('*').count() > 1 {
        return Err(invalid());
    }
    let head = pattern.get(..from).ok_or_else(invalid)?;
    if head.contains(['*', '?']) {
        return Err(invalid());
    }
    Ok(())
}

/// `*` matches any run of characters, `?` exactly one.
fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let norm = |s: &str| {
        if ignore_case {
            s.to_lowercase().chars().collect::<Vec<_>>()
        } else {
            s.chars().collect::<Vec<_>>()
        }
    };
    let (p, t) = (norm(pattern), norm(text));
    // Classic two-pointer match with one backtrack point per `*`.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..).unwrap_or_default().iter().all(|c| *c == '*')
}

// ---------------------------------------------------------------------------
// Building and running a simulation

struct Builder {
    caller: Caller,
    identity: Vec<(Arc<Policy>, Input)>,
    boundary: Option<(Arc<Policy>, Input)>,
    scps: Vec<Vec<Arc<Policy>>>,
    resource_policy: Option<(Arc<Policy>, Input)>,
    principal_override: Option<Principal>,
}

impl Builder {
    fn new(caller: Caller) -> Self {
        Builder {
            caller,
            identity: Vec::new(),
            boundary: None,
            scps: Vec::new(),
            resource_policy: None,
            principal_override: None,
        }
    }

    /// The principal's compiled policies, in the order enforcement has them.
    fn add_loaded(&mut self, loaded: Loaded) {
        let Loaded {
            policies,
            identity,
            boundary,
            caller,
        } = loaded;
        for (p, input) in policies.set.identity().iter().zip(identity) {
            self.identity.push((p.clone(), input));
        }
        if let (Some(p), Some(input)) = (policies.set.boundary(), boundary) {
            self.boundary = Some((p.clone(), input));
        }
        // The principal enforcement builds (kind, unique id) when the caller
        // is the source entity itself.
        if caller.principal.arn == self.caller.principal.arn {
            self.principal_override = Some(policies.principal);
        }
    }

    fn add_inputs(&mut self, texts: &[String], list: &str) -> Result<(), ApiError> {
        for (n, text) in texts.iter().enumerate() {
            let id = format!("{list}.{}", n + 1);
            let (policy, _) = compile_input(text, PolicyKind::Identity, &id)?;
            self.identity.push((
                policy,
                Input::new(id, "none", Some(text.as_str().into()), PolicyKind::Identity),
            ));
        }
        Ok(())
    }

    /// A boundary given in the request replaces the entity's own.
    fn set_boundary_input(&mut self, texts: Option<&[String]>) -> Result<(), ApiError> {
        match texts.unwrap_or_default() {
            [] => Ok(()),
            [text] => {
                let id = "PermissionsBoundaryPolicyInputList.1".to_owned();
                let (policy, _) = compile_input(text, PolicyKind::Boundary, &id)?;
                self.boundary = Some((
                    policy,
                    Input::new(id, "none", Some(text.as_str().into()), PolicyKind::Boundary),
                ));
                Ok(())
            }
            _ => Err(ApiError::invalid_input(
                "PermissionsBoundaryPolicyInputList takes one policy: an entity has at most one \
                 permissions boundary.",
            )),
        }
    }

    fn add_scp_level(&mut self, level: usize, texts: Option<&[String]>) -> Result<(), ApiError> {
        let mut policies = Vec::new();
        for (n, text) in texts.unwrap_or_default().iter().enumerate() {
            let id = format!(
                "OrderedOrganizationPolicyInputList.{}.ServiceControlPolicyInputList.{}",
                level + 1,
                n + 1
            );
            policies.push(compile_input(text, PolicyKind::Scp, &id)?.0);
        }
        self.scps.push(policies);
        Ok(())
    }

    fn set_resource_policy(&mut self, text: Option<&str>) -> Result<(), ApiError> {
        if let Some(text) = text {
            let id = "ResourcePolicy".to_owned();
            let (policy, _) = compile_input(text, PolicyKind::Resource, &id)?;
            self.resource_policy = Some((
                policy,
                Input::new(id, "resource", Some(text.into()), PolicyKind::Resource),
            ));
        }
        Ok(())
    }

    fn build(self, entries: Option<&[ContextEntry]>) -> Result<Simulation, ApiError> {
        let mut builder = PolicySet::builder();
        let mut identity = Vec::with_capacity(self.identity.len());
        for (p, input) in self.identity {
            builder = builder.identity(p);
            identity.push(input);
        }
        let mut boundary = None;
        if let Some((p, input)) = self.boundary {
            builder = builder.boundary(p);
            boundary = Some(input);
        }
        let has_scps = !self.scps.is_empty();
        for level in self.scps {
            builder = builder.scp_level(level);
        }
        let set = builder
            .build()
            .map_err(|e| ApiError::invalid_input(e.aws_message()))?;
        let mut context = Context::new();
        for (key, ty, value) in &self.caller.keys {
            context
                .insert(key, *ty, [value.as_str()])
                .map_err(|e| ApiError::invalid_input(e.aws_message()))?;
        }
        for entry in entries.unwrap_or_default() {
            let key = entry
                .context_key_name
                .as_deref()
                .ok_or_else(|| ApiError::invalid_input("A ContextEntry has no ContextKeyName."))?;
            let ty = entry
                .context_key_type
                .as_deref()
                .and_then(context_type)
                .ok_or_else(|| {
                    ApiError::invalid_input(format!(
                        "The ContextEntry {key} needs a ContextKeyType."
                    ))
                })?;
            let values = entry
                .context_key_values
                .iter()
                .flatten()
                .map(String::as_str);
            context.insert(key, ty, values).map_err(|e| match e {
                policy::Error::InvalidContext { key, detail } => ApiError::invalid_input(format!(
                    "Invalid value for context key {key}: {detail}"
                )),
                other => ApiError::invalid_input(other.aws_message()),
            })?;
        }
        let (rp, resource_input) = match self.resource_policy {
            Some((p, input)) => (Some(p), Some(input)),
            None => (None, None),
        };
        Ok(Simulation {
            set,
            identity,
            boundary,
            has_scps,
            resource_policy: rp,
            resource_input,
            principal: self.principal_override.unwrap_or(self.caller.principal),
            context,
        })
    }
}

fn context_type(s: &str) -> Option<ContextType> {
    Some(match s {
        "string" => ContextType::String,
        "stringList" => ContextType::StringList,
        "numeric" => ContextType::Numeric,
        "numericList" => ContextType::NumericList,
        "boolean" => ContextType::Boolean,
        "booleanList" => ContextType::BooleanList,
        "ip" => ContextType::Ip,
        "ipList" => ContextType::IpList,
        "binary" => ContextType::Binary,
        "binaryList" => ContextType::BinaryList,
        "date" => ContextType::Date,
        "dateList" => ContextType::DateList,
        _ => return None,
    })
}

struct Options {
    actions: Vec<String>,
    resources: Option<Vec<String>>,
    resource_owner: Option<String>,
    marker: Option<String>,
    max_items: Option<i32>,
}

struct Simulation {
    set: PolicySet,
    /// Parallel to `set.identity()`.
    identity: Vec<Input>,
    boundary: Option<Input>,
    has_scps: bool,
    resource_policy: Option<Arc<Policy>>,
    resource_input: Option<Input>,
    principal: Principal,
    context: Context,
}

/// One (action, resource) evaluated.
struct Outcome {
    decision: Decision,
    matched: Vec<Statement>,
    missing: Vec<String>,
    boundary_allows: Option<bool>,
    organizations_allow: Option<bool>,
    /// Per policy type, for cross-account simulations.
    details: Option<Vec<(String, String)>>,
}

const MARKER_PREFIX: &str = "sim1.";

impl Simulation {
    fn run(&self, o: Options) -> Result<SimulatePolicyResponse, ApiError> {
        for action in &o.actions {
            check_action(action)?;
        }
        let owner = match &o.resource_owner {
            Some(owner) => Some(account_of_owner(owner)?),
            None => None,
        };
        let explicit = o.resources.as_ref().is_some_and(|r| !r.is_empty());
        let resources: Vec<String> = match o.resources {
            Some(r) if !r.is_empty() => r,
            _ => vec!["*".to_owned()],
        };
        let start = match &o.marker {
            Some(m) => m
                .strip_prefix(MARKER_PREFIX)
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n > 0 && *n < o.actions.len())
                .ok_or_else(|| ApiError::invalid_input("Invalid Marker."))?,
            None => 0,
        };
        let page_size =
            ops::max_items(o.max_items).clamp(1, portcullis_store::page::MAX_ITEMS_LIMIT) as usize;
        let end = start.saturating_add(page_size).min(o.actions.len());
        let mut results = Vec::new();
        for action in o.actions.get(start..end).unwrap_or_default() {
            results.push(self.evaluate_action(action, &resources, explicit, owner.as_deref()));
        }
        let more = end < o.actions.len();
        Ok(SimulatePolicyResponse {
            evaluation_results: Some(results),
            is_truncated: Some(more),
            marker: more.then(|| format!("{MARKER_PREFIX}{end}")),
        })
    }

    fn evaluate_action(
        &self,
        action: &str,
        resources: &[String],
        explicit: bool,
        owner: Option<&str>,
    ) -> EvaluationResult {
        let outcomes: Vec<(&String, Outcome)> = resources
            .iter()
            .map(|r| (r, self.evaluate(action, r, owner)))
            .collect();
        let decision = outcomes
            .iter()
            .map(|(_, o)| o.decision)
            .max_by_key(|d| restrictiveness(*d))
            .unwrap_or(Decision::ImplicitDeny);
        let mut matched: Vec<Statement> = Vec::new();
        let mut missing: Vec<String> = Vec::new();
        for (_, o) in &outcomes {
            for st in &o.matched {
                if !matched.contains(st) {
                    matched.push(st.clone());
                }
            }
            for k in &o.missing {
                if !missing.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                    missing.push(k.clone());
                }
            }
        }
        let cross_account = outcomes.iter().any(|(_, o)| o.details.is_some());
        let details = if cross_account {
            let mut merged: Vec<(String, String)> = Vec::new();
            for (_, o) in &outcomes {
                for (k, v) in o.details.iter().flatten() {
                    match merged.iter_mut().find(|(mk, _)| mk == k) {
                        Some((_, mv)) => {
                            if rank_name(v) > rank_name(mv) {
                                *mv = v.clone();
                            }
                        }
                        None => merged.push((k.clone(), v.clone())),
                    }
                }
            }
            Some(merged)
        } else if explicit {
            Some(Vec::new())
        } else {
            None
        };
        let all = |f: fn(&Outcome) -> Option<bool>| -> Option<bool> {
            outcomes
                .iter()
                .map(|(_, o)| f(o))
                .try_fold(true, |acc, x| x.map(|x| acc && x))
        };
        let boundary =
            all(|o| o.boundary_allows).map(|allowed| PermissionsBoundaryDecisionDetail {
                allowed_by_permissions_boundary: Some(allowed),
            });
        let organizations =
            all(|o| o.organizations_allow).map(|allowed| OrganizationsDecisionDetail {
                allowed_by_organizations: Some(allowed),
            });
        let resource_specific = explicit.then(|| {
            outcomes
                .iter()
                .map(|(r, o)| ResourceSpecificResult {
                    eval_resource_name: (*r).clone(),
                    eval_resource_decision: o.decision.simulator_name().to_owned(),
                    matched_statements: Some(o.matched.clone()),
                    missing_context_values: Some(o.missing.clone()),
                    eval_decision_details: o.details.clone(),
                    permissions_boundary_decision_detail: o.boundary_allows.map(|allowed| {
                        PermissionsBoundaryDecisionDetail {
                            allowed_by_permissions_boundary: Some(allowed),
                        }
                    }),
                })
                .collect()
        });
        EvaluationResult {
            eval_action_name: action.to_owned(),
            eval_decision: decision.simulator_name().to_owned(),
            eval_resource_name: Some(catalog::resource_template(action, resources)),
            eval_decision_details: details,
            matched_statements: Some(matched),
            missing_context_values: Some(missing),
            organizations_decision_detail: organizations,
            permissions_boundary_decision_detail: boundary,
            resource_specific_results: resource_specific,
        }
    }

    /// One request through the engine: `authorize` decides (the call
    /// enforcement makes), `explain` says why.
    fn evaluate(&self, action: &str, resource: &str, owner: Option<&str>) -> Outcome {
        let resource_account = owner.map(str::to_owned).or_else(|| {
            policy::arn::Arn::parse(resource)
                .map(|a| a.account.to_owned())
                .filter(|a| !a.is_empty() && a != "aws")
        });
        let request = policy::Request {
            principal: &self.principal,
            action,
            resource,
            resource_account: resource_account.as_deref(),
            context: &self.context,
        };
        let rp = self.resource_policy.as_deref();
        let decision = policy::authorize(&self.set, rp, &request).decision;
        let explanation = policy::explain(&self.set, rp, &request);
        let matched = match decision {
            Decision::ImplicitDeny => Vec::new(),
            _ => explanation
                .deciding
                .iter()
                .filter_map(|info| self.statement_of(info, &request))
                .collect(),
        };
        let applicable = |source: fn(&PolicySource) -> bool, effect: Effect| {
            explanation.statements.iter().any(|t| {
                t.mismatch.is_none() && source(&t.statement.source) && t.statement.effect == effect
            })
        };
        let by_type = |source: fn(&PolicySource) -> bool| {
            if applicable(source, Effect::Deny) {
                Decision::ExplicitDeny
            } else if applicable(source, Effect::Allow) {
                Decision::Allow
            } else {
                Decision::ImplicitDeny
            }
        };
        let boundary_allows = self
            .boundary
            .as_ref()
            .map(|_| by_type(|s| *s == PolicySource::Boundary) == Decision::Allow);
        let organizations_allow = self
            .has_scps
            .then(|| scps_allow(&explanation, self.set.scps().len()));
        let cross_account = !request.same_account();
        let details = cross_account.then(|| {
            let mut d = vec![(
                "IAM Policy".to_owned(),
                by_type(|s| *s == PolicySource::Identity)
                    .simulator_name()
                    .to_owned(),
            )];
            if self.resource_policy.is_some() {
                d.push((
                    "Resource Policy".to_owned(),
                    by_type(|s| *s == PolicySource::Resource)
                        .simulator_name()
                        .to_owned(),
                ));
            }
            if self.boundary.is_some() {
                d.push((
                    "Permissions Boundary Policy".to_owned(),
                    by_type(|s| *s == PolicySource::Boundary)
                        .simulator_name()
                        .to_owned(),
                ));
            }
            d
        });
        Outcome {
            decision,
            matched,
            missing: explanation.missing_context_keys.clone(),
            boundary_allows,
            organizations_allow,
            details,
        }
    }

    /// The answer's `Statement` for a deciding statement of the explanation.
    /// SCP statements are not reported, as in AWS.
    fn statement_of(
        &self,
        info: &StatementInfo,
        request: &policy::Request<'_>,
    ) -> Option<Statement> {
        let input = match info.source {
            PolicySource::Identity => self.identity_input(info, request)?,
            PolicySource::Boundary => self.boundary.as_ref()?,
            PolicySource::Resource => self.resource_input.as_ref()?,
            PolicySource::Session | PolicySource::Scp { .. } => return None,
        };
        Some(input.statement(info.index))
    }

    /// The identity policy an explanation names by id. Two stored inline
    /// policies can share an id (a user and a group of the same name, each
    /// with an inline policy of the same name); the engine then tells them
    /// apart by which of them has the statement that applied.
    fn identity_input(
        &self,
        info: &StatementInfo,
        request: &policy::Request<'_>,
    ) -> Option<&Input> {
        let candidates: Vec<usize> = self
            .set
            .identity()
            .iter()
            .enumerate()
            .filter(|(_, p)| p.id() == info.policy_id)
            .map(|(i, _)| i)
            .collect();
        let index = match candidates.as_slice() {
            [] => return None,
            [only] => *only,
            many => *many.iter().find(|&&i| {
                let Some(p) = self.set.identity().get(i) else {
                    return false;
                };
                PolicySet::builder()
                    .identity(p.clone())
                    .build()
                    .map(|alone| {
                        policy::explain(&alone, None, request)
                            .statements
                            .iter()
                            .any(|t| {
                                t.mismatch.is_none()
                                    && t.statement.index == info.index
                                    && t.statement.effect == info.effect
                            })
                    })
                    .unwrap_or(false)
            })?,
        };
        self.identity.get(index)
    }
}

/// Every SCP level has an applicable Allow and none an applicable Deny.
fn scps_allow(explanation: &Explanation, levels: usize) -> bool {
    let applies = |t: &&policy::StatementTrace| t.mismatch.is_none();
    let scp_level = |s: PolicySource| match s {
        PolicySource::Scp { level } => Some(usize::from(level)),
        _ => None,
    };
    let denied = explanation
        .statements
        .iter()
        .filter(applies)
        .any(|t| scp_level(t.statement.source).is_some() && t.statement.effect == Effect::Deny);
    let allowed_levels: HashSet<usize> = explanation
        .statements
        .iter()
        .filter(applies)
        .filter(|t| t.statement.effect == Effect::Allow)
        .filter_map(|t| scp_level(t.statement.source))
        .collect();
    !denied && (0..levels).all(|l| allowed_levels.contains(&l))
}

fn restrictiveness(d: Decision) -> u8 {
    match d {
        Decision::Allow => 0,
        Decision::ImplicitDeny => 1,
        Decision::ExplicitDeny => 2,
    }
}

fn rank_name(d: &str) -> u8 {
    match d {
        "allowed" => 0,
        "implicitDeny" => 1,
        _ => 2,
    }
}

/// `service:Action`, without wildcards.
fn check_action(action: &str) -> Result<(), ApiError> {
    let ok = match action.split_once(':') {
        Some((service, name)) => {
            !service.is_empty() && !name.is_empty() && !action.contains(['*', '?'])
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_input(format!(
            "Invalid action name {action}: each action must be service:ActionName, without \
             wildcards."
        )))
    }
}

/// `ResourceOwner`: an account id, or the account's root ARN as the API
/// reference writes it.
fn account_of_owner(owner: &str) -> Result<String, ApiError> {
    let is_account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if is_account(owner) {
        return Ok(owner.to_owned());
    }
    match policy::arn::Arn::parse(owner) {
        Some(a) if a.service == "iam" && a.resource == "root" && is_account(a.account) => {
            Ok(a.account.to_owned())
        }
        _ => Err(ApiError::invalid_input(format!(
            "ResourceOwner must be an account id or arn:aws:iam::ACCOUNT:root, not {owner}"
        ))),
    }
}

// ---------------------------------------------------------------------------
// Context keys

/// The context keys policies reference, in order of appearance, each once
/// (compared case-insensitively): condition keys and the policy variables
/// of `Resource` and condition values.
#[derive(Debug, Default)]
struct ContextKeys {
    names: Vec<String>,
}

impl ContextKeys {
    fn add(&mut self, key: &str) {
        if !self.names.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            self.names.push(key.to_owned());
        }
    }

    fn add_document(&mut self, doc: &PolicyDocument) {
        let variables = doc.variables_enabled();
        for st in &doc.statements {
            if variables && let Some(resource) = &st.resource {
                for item in &resource.values.items {
                    for key in variables_in(&item.value) {
                        self.add(&key);
                    }
                }
            }
            for block in &st.condition {
                for entry in &block.entries {
                    self.add(&entry.key.value);
                    if variables {
                        for v in &entry.values {
                            for key in variables_in(v.value.as_text()) {
                                self.add(&key);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The keys of the policy variables in `text` (`${aws:username}`,
/// `${aws:PrincipalTag/team, 'none'}`), as written; `${*}`, `${?}` and
/// `${$}` are escapes, not keys.
fn variables_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = rest.get(start + 2..).unwrap_or_default();
        let end = after.find(['}', ',', '$', '{']).unwrap_or(after.len());
        let key = after.get(..end).unwrap_or_default().trim();
        let terminated = matches!(after.get(end..end + 1), Some("}") | Some(","));
        if terminated
            && !key.is_empty()
            && !matches!(key, "*" | "?" | "$")
            && !key.contains(char::is_whitespace)
        {
            out.push(key.to_owned());
        }
        rest = after;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_found_and_escapes_skipped() {
        assert_eq!(
            variables_in("arn:aws:s3:::b/${aws:username}/${aws:PrincipalTag/team, 'x'}/${*}"),
            vec!["aws:username", "aws:PrincipalTag/team"]
        );
        assert!(variables_in("no variables ${ } ${unterminated").is_empty());
    }

    #[test]
    fn context_keys_follow_document_order_once_each() {
        let doc = policy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*",
            "Resource":"arn:aws:dynamodb:us-west-2:123456789012:table/${aws:username}",
            "Condition":{"DateGreaterThan":{"aws:CurrentTime":"2015-08-16T12:00:00Z"},
            "StringEquals":{"AWS:USERNAME":"x","s3:prefix":"${aws:userid}"}}}]}"#,
            PolicyKind::Identity,
        )
        .unwrap();
        let mut keys = ContextKeys::default();
        keys.add_document(&doc);
        assert_eq!(
            keys.names,
            vec!["aws:username", "aws:CurrentTime", "s3:prefix", "aws:userid"]
        );
    }

    #[test]
    fn old_version_documents_have_no_variables() {
        let doc = policy::parse(
            r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::${aws:username}"}}"#,
            PolicyKind::Identity,
        )
        .unwrap();
        let mut keys = ContextKeys::default();
        keys.add_document(&doc);
        assert!(keys.names.is_empty());
    }

    #[test]
    fn statement_positions_are_the_braces_of_the_statement() {
        let text = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"},\n  {\"Effect\":\"Deny\",\"Action\":\"s3:Delete*\",\"Resource\":\"*\"}]}";
        let input = Input::new("p".into(), "none", Some(text.into()), PolicyKind::Identity);
        let first = input.statement(0);
        assert_eq!(
            first.start_position,
            Some(Position {
                line: Some(1),
                column: Some(38)
            })
        );
        let end = first.end_position.unwrap();
        assert_eq!(end.line, Some(1));
        let col = end.column.unwrap() as usize;
        assert_eq!(text.lines().next().unwrap().chars().nth(col - 1), Some('}'));
        let second = input.statement(1);
        assert_eq!(
            second.start_position,
            Some(Position {
                line: Some(2),
                column: Some(3)
            })
        );
        assert_eq!(input.statement(7).start_position, None);
    }

    #[test]
    fn globs() {
        assert!(glob(
            "arn:aws:iam::aws:policy/*Read*",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            false
        ));
        assert!(glob("dev-?", "DEV-1", true));
        assert!(!glob("dev-?", "dev-12", true));
        assert!(glob("*", "", false));
        assert!(!glob("a*c", "abd", false));
    }

    #[test]
    fn exclusion_wildcards_are_limited_to_the_name() {
        assert!(check_wildcards("arn:aws:iam::aws:policy/Read*", Some(24)).is_ok());
        assert!(check_wildcards("arn:aws:iam::*:policy/Read", Some(22)).is_err());
        assert!(check_wildcards("a*b*", Some(0)).is_err());
        assert!(Exclusions::parse(&[PolicyIdentifier::default()]).is_err());
    }

    #[test]
    fn actions_and_owners_are_checked() {
        assert!(check_action("iam:CreateUser").is_ok());
        for bad in ["CreateUser", "iam:*", "iam:Get?ser", ":x", "iam:"] {
            assert!(check_action(bad).is_err(), "{bad}");
        }
        assert_eq!(account_of_owner("111122223333").unwrap(), "111122223333");
        assert_eq!(
            account_of_owner("arn:aws:iam::111122223333:root").unwrap(),
            "111122223333"
        );
        assert!(account_of_owner("arn:aws:iam::111122223333:user/x").is_err());
    }
}
