//! Authorisation: may this caller do this?
//!
//! The operation maps, through ONE table (`authz/actions.rs`), to its IAM
//! action, the resource it acts on and the condition keys it sets. The
//! caller's identity-based policies (its own, its groups', attached managed
//! ones) and its permissions boundary are compiled once per epoch and
//! cached; the policy engine decides. The account's root user is bound by no
//! identity policy, as in AWS. A denial is AWS's `AccessDenied` with AWS's
//! wording. The result, [`Authorized`], is what handlers require.

pub mod actions;
pub mod cache;
mod context;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use portcullis_policy::{
    self as policy, Decision, Policy, PolicyKind, PolicySet, PolicySource, Principal, PrincipalKind,
};
use portcullis_store::model::{
    AuthorizationSet, KeyOwner, PolicyDocument as StoredPolicy, PolicyOrigin, PrincipalRef, Tag,
};
use portcullis_store::{StoreError, arn as arns};

use crate::authn::{Authenticated, Caller, Identity, Transport};
use crate::error::{ApiError, ErrorCode, store_error};
use crate::ops::sts::authorization_message;
use crate::state::AppState;
use actions::{ResourceRef, Target};
use cache::EpochCache;

/// A principal's compiled identity-side policies and what the request
/// context needs to know of it.
#[derive(Debug)]
pub struct PrincipalPolicies {
    pub set: PolicySet,
    pub principal: Principal,
    pub tags: Vec<Tag>,
    /// The request-context keys of the principal ([`context::principal_base`]);
    /// empty in sets compiled for the simulator, which builds its own context.
    pub base_context: Arc<policy::Context>,
    /// The per-request keys its policies read ([`context::Reads`]).
    pub reads: context::Reads,
}

pub type PolicyCache = EpochCache<String, Arc<PrincipalPolicies>>;

/// Compiled policy documents, by (id, text). A document's text decides its
/// meaning, so entries never go stale; the map is only bounded.
#[derive(Debug, Default)]
pub struct CompiledDocuments {
    map: RwLock<HashMap<(String, String), Arc<Policy>>>,
}

const COMPILED_DOCUMENTS_CAPACITY: usize = 10_000;

impl CompiledDocuments {
    pub fn get_or_compile(
        &self,
        id: &str,
        text: &str,
        kind: PolicyKind,
    ) -> Result<Arc<Policy>, ApiError> {
        let key = (id.to_owned(), text.to_owned());
        if let Ok(map) = self.map.read()
            && let Some(p) = map.get(&key)
        {
            return Ok(p.clone());
        }
        let compiled = Policy::parse(id, text, kind).map_err(|e| {
            // Documents are validated when they are written, so this is a
            // stored document the engine no longer accepts. Failing closed
            // keeps a Deny in it from being silently dropped.
            tracing::error!(policy = id, error = %e, "a stored policy does not compile");
            ApiError::internal()
        })?;
        if let Ok(mut map) = self.map.write() {
            if map.len() >= COMPILED_DOCUMENTS_CAPACITY {
                map.clear();
            }
            map.insert(key, compiled.clone());
        }
        Ok(compiled)
    }
}

/// How the request was decided, for the audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The operation needs no permission (`sts:GetCallerIdentity`).
    NotRequired,
    /// The account's root user.
    Root,
    /// Allowed by these statements (policy id and Sid or index).
    Allowed(Vec<String>),
}

/// Proof that a request was authenticated and authorised.
#[derive(Debug, Clone)]
pub struct Authorized {
    auth: Authenticated,
    verdict: Verdict,
    resource: String,
    principal_tags: Vec<Tag>,
    mfa_verified: bool,
}

impl Authorized {
    pub fn caller(&self) -> &Arc<Caller> {
        self.auth.caller()
    }

    pub fn authenticated(&self) -> &Authenticated {
        &self.auth
    }

    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// The allowing statements, moved out for the audit record (their one
    /// reader), which leaves the verdict's list empty.
    pub fn take_statements(&mut self) -> Vec<String> {
        match &mut self.verdict {
            Verdict::Allowed(statements) => std::mem::take(statements),
            Verdict::NotRequired | Verdict::Root => Vec::new(),
        }
    }

    /// The resource ARN the decision was about, moved out for the audit
    /// record (its one reader), which leaves it empty here.
    pub fn take_resource(&mut self) -> String {
        std::mem::take(&mut self.resource)
    }

    pub fn principal_tags(&self) -> &[Tag] {
        &self.principal_tags
    }

    /// Whether this request proved MFA itself (`SerialNumber` + `TokenCode`).
    pub fn mfa_verified(&self) -> bool {
        self.mfa_verified
    }
}

/// A denial, with the resource it was about (for the audit record).
#[derive(Debug)]
pub struct Denied {
    pub error: ApiError,
    pub resource: String,
    pub statement: Option<String>,
}

/// Decides whether the authenticated caller may perform `target`.
pub async fn authorize(
    state: &AppState,
    auth: Authenticated,
    target: Option<&Target<'_>>,
    transport: Transport,
) -> Result<Authorized, Box<Denied>> {
    let caller = auth.caller().clone();
    let Some(target) = target else {
        return Ok(Authorized {
            auth,
            verdict: Verdict::NotRequired,
            resource: String::new(),
            principal_tags: Vec::new(),
            mfa_verified: false,
        });
    };
    let fail = |error: ApiError| {
        Box::new(Denied {
            error,
            resource: String::new(),
            statement: None,
        })
    };
    let mfa_verified = match target.mfa {
        Some((serial, code)) => {
            crate::mfa::verify_mfa_code(
                state,
                &caller.account_id,
                caller.user_name(),
                serial,
                code,
                transport.at,
            )
            .await
            .map_err(fail)?;
            true
        }
        None => false,
    };
    if !target.needs_permission {
        return Ok(Authorized {
            auth,
            verdict: Verdict::NotRequired,
            resource: "*".to_owned(),
            principal_tags: Vec::new(),
            mfa_verified,
        });
    }
    // Root is bound by no identity policy; a resource policy that must
    // allow (a trust policy) still has to.
    if caller.is_root() && target.resource_policy.is_none() {
        let resource = resolve_resource(state, &caller, None, &target.resource)
            .await
            .map_err(fail)?;
        return Ok(Authorized {
            auth,
            verdict: Verdict::Root,
            resource: resource.arn,
            principal_tags: Vec::new(),
            mfa_verified,
        });
    }
    let policies = principal_policies(state, &caller).await.map_err(fail)?;
    let resource = resolve_resource(state, &caller, Some(&policies), &target.resource)
        .await
        .map_err(fail)?;
    let (resource_policy, resource_account) = match &target.resource_policy {
        Some(actions::ResourcePolicyRef::RoleTrust(arn)) => {
            match trust_policy(state, arn).await.map_err(fail)? {
                Some((policy, account)) => (Some(policy), account),
                // A role that does not exist is refused like one that does not
                // trust the caller, as AWS does.
                None => {
                    return Err(Box::new(Denied {
                        error: ApiError::new(
                            ErrorCode::AccessDenied,
                            format!(
                                "User: {} is not authorized to perform: {} on resource: {}",
                                caller.arn, target.action, resource.arn
                            ),
                        ),
                        resource: resource.arn,
                        statement: None,
                    }));
                }
            }
        }
        None => (None, caller.account_id.clone()),
    };
    // A resource policy reads keys of its own: give it every key.
    let reads = if resource_policy.is_some() {
        context::Reads::ALL
    } else {
        policies.reads
    };
    let build_context = |reads| {
        context::build(
            &auth,
            &policies,
            &resource,
            target,
            transport,
            mfa_verified.then_some(()),
            reads,
        )
    };
    let context = build_context(reads);
    let principal = request_principal(&policies, &caller);
    let request = policy::Request {
        principal: &principal,
        action: target.action,
        resource: &resource.arn,
        resource_account: Some(&resource_account),
        context: &context,
    };
    let outcome = policy::authorize(&policies.set, resource_policy.as_deref(), &request);
    if outcome.decision == Decision::Allow {
        let statements = outcome
            .deciding
            .iter()
            .filter_map(|r| describe(&policies.set, resource_policy.as_deref(), &r))
            .collect();
        return Ok(Authorized {
            auth,
            verdict: if caller.is_root() {
                Verdict::Root
            } else {
                Verdict::Allowed(statements)
            },
            resource: resource.arn,
            principal_tags: policies.tags.clone(),
            mfa_verified,
        });
    }
    // A denial reports the whole context (in the encoded authorization
    // message), not only the keys the policies read.
    let full;
    let request = if reads == context::Reads::ALL {
        request
    } else {
        full = build_context(context::Reads::ALL);
        policy::Request {
            context: &full,
            ..request
        }
    };
    let context = request.context;
    let explanation = policy::explain(&policies.set, resource_policy.as_deref(), &request);
    let statement = outcome
        .deciding
        .iter()
        .next()
        .and_then(|r| describe(&policies.set, resource_policy.as_deref(), &r));
    let mut error = access_denied(
        &caller.arn,
        target.action,
        &resource.arn,
        &explanation,
        &policies.set,
        resource_policy.is_some(),
    );
    if state.config.encoded_authorization_messages {
        let denial = authorization_message::Denial {
            caller: &caller,
            explanation: &explanation,
            context,
        };
        if let Some(encoded) = authorization_message::encode(&state.master_key, &denial) {
            error = ApiError::new(
                ErrorCode::AccessDenied,
                format!(
                    "{} Encoded authorization failure message: {encoded}",
                    error.message()
                ),
            );
        }
    }
    Err(Box::new(Denied {
        error,
        resource: resource.arn,
        statement,
    }))
}

/// The compiled trust policy of the role `arn` and the role's account, or
/// `None` when there is no such role.
async fn trust_policy(
    state: &AppState,
    arn: &str,
) -> Result<Option<(Arc<Policy>, String)>, ApiError> {
    let Some((account, path, name)) = parse_role_arn(arn) else {
        return Ok(None);
    };
    let role = match state.store.get_role(account, name).await {
        Ok(role) => role,
        Err(StoreError::NoSuchEntity(_)) => return Ok(None),
        Err(e) => return Err(store_error(e)),
    };
    if role.path != path {
        return Ok(None);
    }
    let policy = state.compiled.get_or_compile(
        &format!("{}/trust", role.arn),
        &role.assume_role_policy_document,
        PolicyKind::Trust,
    )?;
    Ok(Some((policy, role.account_id)))
}

/// `arn:aws:iam::ACCOUNT:role/PATH/NAME` → (account, path, name).
pub fn parse_role_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, rest) = rest.split_once(':')?;
    let resource = rest.strip_prefix("role")?;
    if !resource.starts_with('/') {
        return None;
    }
    let cut = resource.rfind('/')?;
    let (path, name) = (&resource[..=cut], &resource[cut + 1..]);
    if account.len() != 12 || name.is_empty() {
        return None;
    }
    Some((account, path, name))
}

/// `policy-id#Sid` (or `#index` for statements without a Sid).
fn describe(
    set: &PolicySet,
    resource_policy: Option<&Policy>,
    r: &policy::StatementRef,
) -> Option<String> {
    let p = set.policy(r, resource_policy)?;
    // Written piece by piece: this runs for every allowed call.
    let mut text = String::with_capacity(p.id().len() + 16);
    text.push_str(p.id());
    text.push('#');
    match p.sid(r.statement as usize) {
        Some(sid) => text.push_str(sid),
        None => text.push_str(itoa::Buffer::new().format(r.statement)),
    }
    Some(text)
}

/// AWS's AccessDenied message, naming the policy type that decided.
fn access_denied(
    caller_arn: &str,
    action: &str,
    resource: &str,
    explanation: &policy::Explanation,
    set: &PolicySet,
    resource_policy: bool,
) -> ApiError {
    let head = format!(
        "User: {caller_arn} is not authorized to perform: {action} on resource: {resource}"
    );
    let allows = |source: PolicySource| {
        explanation.statements.iter().any(|t| {
            t.statement.source == source
                && t.mismatch.is_none()
                && t.statement.effect == policy::Effect::Allow
        })
    };
    let reason = if explanation.decision == Decision::ExplicitDeny {
        let kind = explanation
            .deciding
            .first()
            .map_or("an identity-based policy", |s| policy_type_phrase(s.source));
        Some(format!("with an explicit deny in {kind}"))
    } else if resource_policy && !allows(PolicySource::Resource) {
        // A trust policy that does not allow: AWS says no more than that.
        None
    } else if !allows(PolicySource::Identity) {
        Some(format!(
            "because no identity-based policy allows the {action} action"
        ))
    } else if set.boundary().is_some() && !allows(PolicySource::Boundary) {
        Some(format!(
            "because no permissions boundary allows the {action} action"
        ))
    } else if set.session().is_some() && !allows(PolicySource::Session) {
        Some(format!(
            "because no session policy allows the {action} action"
        ))
    } else {
        Some(format!(
            "because no service control policy allows the {action} action"
        ))
    };
    let message = match reason {
        Some(reason) => format!("{head} {reason}"),
        None => head,
    };
    ApiError::new(ErrorCode::AccessDenied, message)
}

fn policy_type_phrase(source: PolicySource) -> &'static str {
    match source {
        PolicySource::Identity => "an identity-based policy",
        PolicySource::Boundary => "a permissions boundary",
        PolicySource::Session => "a session policy",
        PolicySource::Scp { .. } => "a service control policy",
        PolicySource::Resource => "a resource-based policy",
    }
}

/// The caller's compiled policies, from the cache or built from one store
/// read (plus its session policies, for a session that has them).
pub async fn principal_policies(
    state: &AppState,
    caller: &Caller,
) -> Result<Arc<PrincipalPolicies>, ApiError> {
    let session = caller.session.as_deref();
    let (id, kind) = match &caller.identity {
        Identity::Root => {
            let mut principal = Principal::new(PrincipalKind::Root, caller.arn.clone());
            principal.account = caller.account_id.clone();
            return Ok(Arc::new(PrincipalPolicies {
                set: PolicySet::empty(),
                principal,
                tags: Vec::new(),
                base_context: Arc::new(context::principal_base(caller, &[])),
                reads: context::Reads::ALL,
            }));
        }
        // A federation caller has no policies of its own: only the role's
        // trust policy can allow it, and only by naming its provider.
        Identity::Federated(f) => {
            let mut principal = Principal::new(PrincipalKind::Anonymous, caller.arn.clone());
            principal.account = String::new();
            principal.federated_provider = Some(f.provider_arn.clone());
            return Ok(Arc::new(PrincipalPolicies {
                set: PolicySet::empty(),
                principal,
                tags: Vec::new(),
                base_context: Arc::new(context::principal_base(caller, &[])),
                reads: context::Reads::ALL,
            }));
        }
        Identity::User { id, .. } => (id, PrincipalKind::User),
        Identity::AssumedRole { role_id, .. } => (role_id, PrincipalKind::RoleSession),
        Identity::FederatedUser { parent_user_id, .. } => {
            (parent_user_id, PrincipalKind::FederatedUser)
        }
    };
    let key = caller.policy_key.get_or_init(|| {
        // Sessions with their own policies or tags get their own entry.
        let per_session = session
            .is_some_and(|s| s.session_policies.is_some() || !s.tags.is_empty())
            || kind == PrincipalKind::FederatedUser;
        let mut key = String::with_capacity(
            caller.account_id.len() + id.len() + caller.access_key_id.len() + 2,
        );
        for part in [caller.account_id.as_str(), ":", id.as_str()] {
            key.push_str(part);
        }
        if per_session {
            key.push(':');
            key.push_str(&caller.access_key_id);
        }
        key.into_boxed_str()
    });
    let epoch = state.epoch.current();
    if let Some(hit) = state.policies.get(&**key, epoch) {
        return Ok(hit);
    }
    let principal_ref = match kind {
        PrincipalKind::RoleSession => PrincipalRef::RoleId(id.clone()),
        _ => PrincipalRef::UserId(id.clone()),
    };
    let set = state
        .store
        .authorization_set(&caller.account_id, &principal_ref)
        .await
        .map_err(|e| match e {
            // The user or role was deleted after its credentials were
            // issued: they no longer authenticate anything.
            StoreError::NoSuchEntity(_) => ApiError::new(
                ErrorCode::InvalidClientTokenId,
                "The security token included in the request is invalid.",
            )
            .with_status(403),
            other => store_error(other),
        })?;
    let session_policies = match session {
        Some(s) => match &s.session_policies {
            Some(p) => Some(compile_session_policies(state, &caller.account_id, p).await?),
            None if kind == PrincipalKind::FederatedUser => Some(Vec::new()),
            None => None,
        },
        None => None,
    };
    // What the account grants every IAM user (AllowUsersToChangePassword).
    let grant = match kind {
        PrincipalKind::User => {
            crate::password::account_grant(state, &set.account_id, &set.principal.arn).await?
        }
        _ => None,
    };
    let mut compiled = build_set(state, &set, kind, grant, session_policies)?;
    if matches!(
        kind,
        PrincipalKind::RoleSession | PrincipalKind::FederatedUser
    ) {
        compiled.principal = session_principal(kind, caller);
    }
    if let Some(s) = session {
        // Session tags win over the role's tags of the same key.
        for (k, v) in &s.tags {
            compiled.tags.retain(|t| !t.key.eq_ignore_ascii_case(k));
            compiled.tags.push(Tag {
                key: k.to_string(),
                value: v.to_string(),
            });
        }
    }
    compiled.base_context = Arc::new(context::principal_base(caller, &compiled.tags));
    let compiled = Arc::new(compiled);
    state
        .policies
        .insert(String::from(&**key), compiled.clone(), epoch);
    Ok(compiled)
}

/// The principal a request is decided for. The sessions of one role share a
/// cached entry (unless they carry their own policies or tags), and the
/// entry's principal is whichever session built it: a trust or resource
/// policy naming one session must see that session, so another session gets
/// its own.
fn request_principal<'p>(
    policies: &'p PrincipalPolicies,
    caller: &Caller,
) -> std::borrow::Cow<'p, Principal> {
    let shared = &policies.principal;
    if shared.kind != PrincipalKind::RoleSession || shared.arn == caller.arn {
        return std::borrow::Cow::Borrowed(shared);
    }
    std::borrow::Cow::Owned(session_principal(PrincipalKind::RoleSession, caller))
}

/// The principal of a session (a role's or a federated user's): the
/// session's own ARN and `aws:userid`.
fn session_principal(kind: PrincipalKind, caller: &Caller) -> Principal {
    let mut principal = Principal::new(kind, caller.arn.clone());
    principal.account = caller.account_id.clone();
    principal.unique_id = Some(caller.user_id.clone());
    principal
}

/// Compiles a session's `Policy` and `PolicyArns`.
pub async fn compile_session_policies(
    state: &AppState,
    account: &str,
    policies: &crate::sessions::SessionPolicies,
) -> Result<Vec<Arc<Policy>>, ApiError> {
    let mut out = Vec::new();
    if let Some(text) = &policies.inline {
        out.push(
            state
                .compiled
                .get_or_compile("session-policy", text, PolicyKind::Session)?,
        );
    }
    for arn in &policies.arns {
        let document = managed_document(state, account, arn).await?;
        out.push(
            state
                .compiled
                .get_or_compile(arn, &document, PolicyKind::Session)?,
        );
    }
    Ok(out)
}

/// The default version's document of a managed policy (AWS or customer).
pub async fn managed_document(
    state: &AppState,
    account: &str,
    arn: &str,
) -> Result<String, ApiError> {
    if arns::is_aws_managed_policy(arn) {
        return state
            .managed
            .get(arn)
            .map(|p| p.document.clone())
            .ok_or_else(|| {
                ApiError::no_such_entity(format!(
                    "Policy {arn} does not exist or is not attachable."
                ))
            });
    }
    let policy = state
        .store
        .get_policy(account, arn)
        .await
        .map_err(store_error)?;
    let version = state
        .store
        .get_policy_version(account, arn, &policy.default_version_id)
        .await
        .map_err(store_error)?;
    Ok(version.document)
}

/// Compiles an authorisation set read from the store.
pub fn compile_set(
    state: &AppState,
    set: &AuthorizationSet,
    kind: PrincipalKind,
) -> Result<PrincipalPolicies, ApiError> {
    compile_set_with(state, set, kind, None)
}

/// [`compile_set`] plus one more identity policy, placed after the stored
/// ones so that identity policy `i` of the set is `set.policies[i]`.
pub fn compile_set_with(
    state: &AppState,
    set: &AuthorizationSet,
    kind: PrincipalKind,
    extra: Option<Arc<Policy>>,
) -> Result<PrincipalPolicies, ApiError> {
    build_set(state, set, kind, extra, None)
}

/// Compiles a user's authorisation set with what the account grants every
/// user on top of its policies (see [`crate::password::account_grant`]),
/// exactly as [`principal_policies`] does for a user's own requests: the
/// policy simulator calls this so that it cannot disagree with enforcement.
pub async fn compile_user_set(
    state: &AppState,
    set: &AuthorizationSet,
) -> Result<PrincipalPolicies, ApiError> {
    let grant = crate::password::account_grant(state, &set.account_id, &set.principal.arn).await?;
    compile_set_with(state, set, PrincipalKind::User, grant)
}

/// The one way a stored authorisation set becomes a policy set: for
/// enforcement, for sessions (with their session policies) and for the
/// simulator (with an extra identity policy).
fn build_set(
    state: &AppState,
    set: &AuthorizationSet,
    kind: PrincipalKind,
    extra: Option<Arc<Policy>>,
    session_policies: Option<Vec<Arc<Policy>>>,
) -> Result<PrincipalPolicies, ApiError> {
    let mut builder = PolicySet::builder();
    for source in &set.policies {
        let owner = match &source.origin {
            PolicyOrigin::Principal => set.principal.name.as_str(),
            PolicyOrigin::Group { name, .. } => name.as_str(),
        };
        builder = builder.identity(compile_stored(
            state,
            &source.policy,
            owner,
            PolicyKind::Identity,
        )?);
    }
    if let Some(extra) = extra {
        builder = builder.identity(extra);
    }
    if let Some(boundary) = &set.boundary {
        builder = builder.boundary(compile_stored(
            state,
            boundary,
            &set.principal.name,
            PolicyKind::Boundary,
        )?);
    }
    if let Some(session) = session_policies {
        builder = builder.session_policies(session);
    }
    let policy_set = builder.build().map_err(|e| {
        tracing::error!(error = %e, "cannot build a policy set");
        ApiError::internal()
    })?;
    let mut principal = Principal::new(kind, set.principal.arn.clone());
    principal.account = set.account_id.clone();
    principal.unique_id = Some(set.principal.id.clone());
    let reads = context::Reads::of(&policy_set.context_keys());
    Ok(PrincipalPolicies {
        set: policy_set,
        principal,
        tags: set.principal.tags.clone(),
        base_context: Arc::default(),
        reads,
    })
}

fn compile_stored(
    state: &AppState,
    stored: &StoredPolicy,
    owner: &str,
    kind: PolicyKind,
) -> Result<Arc<Policy>, ApiError> {
    match stored {
        StoredPolicy::Inline { name, document } => {
            state
                .compiled
                .get_or_compile(&format!("{owner}/{name}"), document, kind)
        }
        StoredPolicy::Customer { arn, document, .. } => {
            state.compiled.get_or_compile(arn, document, kind)
        }
        StoredPolicy::AwsManaged { arn } => {
            let doc = state.managed.get(arn).ok_or_else(|| {
                tracing::error!(policy = %arn, "an attached AWS managed policy is not in the catalog");
                ApiError::internal()
            })?;
            state.compiled.get_or_compile(arn, &doc.document, kind)
        }
    }
}

/// A resource with what the context needs of it.
#[derive(Debug, Clone, Default)]
pub struct Resource {
    pub arn: String,
    pub tags: Vec<Tag>,
}

fn with_path(path: Option<&str>) -> &str {
    path.unwrap_or("/")
}

async fn resolve_resource(
    state: &AppState,
    caller: &Caller,
    policies: Option<&PrincipalPolicies>,
    resource: &ResourceRef<'_>,
) -> Result<Resource, ApiError> {
    let account = caller.account_id.as_str();
    let arn_only = |arn: String| {
        Ok(Resource {
            arn,
            tags: Vec::new(),
        })
    };
    let store = &state.store;
    if actions::caller_is_resource(resource, caller) {
        return Ok(Resource {
            arn: caller.arn.clone(),
            tags: policies.map(|p| p.tags.clone()).unwrap_or_default(),
        });
    }
    // An entity that does not exist is named with the default path: the
    // handler will answer NoSuchEntity if the caller may act on it at all.
    match resource {
        ResourceRef::Any => arn_only("*".to_owned()),
        ResourceRef::Caller | ResourceRef::User(None) => arn_only(caller.arn.clone()),
        ResourceRef::User(Some(name)) => match store.get_user(account, name).await {
            Ok(u) => Ok(Resource {
                arn: u.arn,
                tags: u.tags,
            }),
            Err(StoreError::NoSuchEntity(_)) => arn_only(arns::user_arn(account, "/", name)),
            Err(e) => Err(store_error(e)),
        },
        ResourceRef::NewUser { name, path } => {
            arn_only(arns::user_arn(account, with_path(*path), name))
        }
        ResourceRef::Group(name) => match store.get_group(account, name).await {
            Ok(g) => arn_only(g.arn),
            Err(StoreError::NoSuchEntity(_)) => arn_only(arns::group_arn(account, "/", name)),
            Err(e) => Err(store_error(e)),
        },
        ResourceRef::NewGroup { name, path } => {
            arn_only(arns::group_arn(account, with_path(*path), name))
        }
        ResourceRef::Role(name) => match store.get_role(account, name).await {
            Ok(r) => Ok(Resource {
                arn: r.arn,
                tags: r.tags,
            }),
            Err(StoreError::NoSuchEntity(_)) => arn_only(arns::role_arn(account, "/", name)),
            Err(e) => Err(store_error(e)),
        },
        ResourceRef::NewRole { name, path } => {
            arn_only(arns::role_arn(account, with_path(*path), name))
        }
        ResourceRef::Policy(arn) => {
            if arns::is_aws_managed_policy(arn) {
                return arn_only((*arn).to_owned());
            }
            match store.get_policy(account, arn).await {
                Ok(p) => Ok(Resource {
                    arn: p.arn,
                    tags: p.tags,
                }),
                Err(StoreError::NoSuchEntity(_)) => arn_only((*arn).to_owned()),
                Err(e) => Err(store_error(e)),
            }
        }
        ResourceRef::NewPolicy { name, path } => {
            arn_only(arns::policy_arn(account, with_path(*path), name))
        }
        ResourceRef::InstanceProfile(name) => match store.get_instance_profile(account, name).await
        {
            Ok(p) => Ok(Resource {
                arn: p.arn,
                tags: p.tags,
            }),
            Err(StoreError::NoSuchEntity(_)) => {
                arn_only(arns::instance_profile_arn(account, "/", name))
            }
            Err(e) => Err(store_error(e)),
        },
        ResourceRef::NewInstanceProfile { name, path } => {
            arn_only(arns::instance_profile_arn(account, with_path(*path), name))
        }
        ResourceRef::AccessKeyOwner(id) => match store.get_access_key(account, id).await {
            Ok(key) => match key.user_name {
                Some(user) => match store.get_user(account, &user).await {
                    Ok(u) => Ok(Resource {
                        arn: u.arn,
                        tags: u.tags,
                    }),
                    Err(_) => arn_only(arns::user_arn(account, "/", &user)),
                },
                None => arn_only(arns::root_arn(account)),
            },
            Err(StoreError::NoSuchEntity(_)) => arn_only("*".to_owned()),
            Err(e) => Err(store_error(e)),
        },
        ResourceRef::NewMfaDevice { name, path } => {
            arn_only(arns::mfa_arn(account, with_path(*path), name))
        }
        ResourceRef::Arn(arn) => arn_only((*arn).to_owned()),
        ResourceRef::NewOidcProvider(url) => arn_only(arns::oidc_provider_arn(account, url)),
        ResourceRef::NewSamlProvider(name) => arn_only(arns::saml_provider_arn(account, name)),
        ResourceRef::FederatedUser(name) => {
            arn_only(format!("arn:aws:sts::{account}:federated-user/{name}"))
        }
    }
}

/// The owner of an access key named by a request: the user named, or the
/// caller (root's own keys belong to the root).
pub fn key_owner(caller: &Caller, user_name: Option<&str>) -> Result<KeyOwner, ApiError> {
    match (user_name, &caller.identity) {
        (Some(name), _) => Ok(KeyOwner::User(name.to_owned())),
        (None, Identity::User { name, .. }) => Ok(KeyOwner::User(name.clone())),
        (None, Identity::Root) => Ok(KeyOwner::Root),
        // A role or federated session has no keys of its own.
        (None, _) => Err(ApiError::validation(
            "Must specify userName when calling with non-User credentials",
        )),
    }
}
