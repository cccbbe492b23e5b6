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

pub mod custom;
mod engine;

use std::sync::Arc;

use portcullis_policy::{PolicyDocument, PolicyKind, PrincipalKind};
use portcullis_store::model::{
    self as m, AuthorizationSet, PolicyOrigin, PolicySource as StoredSource, PrincipalInfo,
    PrincipalRef,
};
use portcullis_store::{StoreError, arn as arns};

use crate::authz::{self, PrincipalPolicies};
use crate::error::{ApiError, store_error};
use crate::ops::RequestCtx;
use crate::protocol::generated::iam::*;
use engine::{
    Builder, Caller, Entity, EntityKind, Input, Options, group_caller, parse_input, role_caller,
    user_caller,
};

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
    custom::simulate_custom(ctx.account(), caller, i).map(|s| s.response)
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
    sim.run(options).map(|(response, _)| response)
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
    use portcullis_policy as policy;

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
}
