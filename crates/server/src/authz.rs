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

    /// The resource ARN the decision was about.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    pub fn principal_tags(&self) -> &[Tag] {
        &self.principal_tags
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
        });
    };
    let fail = |error: ApiError| {
        Box::new(Denied {
            error,
            resource: String::new(),
            statement: None,
        })
    };
    if caller.is_root() {
        let resource = resolve_resource(state, &caller, None, &target.resource)
            .await
            .map_err(fail)?;
        return Ok(Authorized {
            auth,
            verdict: Verdict::Root,
            resource: resource.arn,
            principal_tags: Vec::new(),
        });
    }
    let policies = principal_policies(state, &caller).await.map_err(fail)?;
    let resource = resolve_resource(state, &caller, Some(&policies), &target.resource)
        .await
        .map_err(fail)?;
    let context = context::build(state, &auth, &policies, &resource, target, transport);
    let request = policy::Request {
        principal: &policies.principal,
        action: target.action,
        resource: &resource.arn,
        resource_account: Some(&caller.account_id),
        context: &context,
    };
    let outcome = policy::authorize(&policies.set, None, &request);
    if outcome.decision == Decision::Allow {
        let statements = outcome
            .deciding
            .iter()
            .filter_map(|r| describe(&policies.set, &r))
            .collect();
        return Ok(Authorized {
            auth,
            verdict: Verdict::Allowed(statements),
            resource: resource.arn,
            principal_tags: policies.tags.clone(),
        });
    }
    let explanation = policy::explain(&policies.set, None, &request);
    let statement = outcome
        .deciding
        .iter()
        .next()
        .and_then(|r| describe(&policies.set, &r));
    Err(Box::new(Denied {
        error: access_denied(&caller.arn, target.action, &resource.arn, &explanation),
        resource: resource.arn,
        statement,
    }))
}

/// `policy-id#Sid` (or `#index` for statements without a Sid).
fn describe(set: &PolicySet, r: &policy::StatementRef) -> Option<String> {
    let p = set.policy(r, None)?;
    Some(match p.sid(r.statement as usize) {
        Some(sid) => format!("{}#{sid}", p.id()),
        None => format!("{}#{}", p.id(), r.statement),
    })
}

/// AWS's AccessDenied message, naming the policy type that decided.
fn access_denied(
    caller_arn: &str,
    action: &str,
    resource: &str,
    explanation: &policy::Explanation,
) -> ApiError {
    let head = format!(
        "User: {caller_arn} is not authorized to perform: {action} on resource: {resource}"
    );
    let reason = if explanation.decision == Decision::ExplicitDeny {
        let kind = explanation
            .deciding
            .first()
            .map(|s| policy_type_phrase(s.source))
            .unwrap_or("an identity-based policy");
        format!("with an explicit deny in {kind}")
    } else {
        let allows = |source: fn(&PolicySource) -> bool| {
            explanation.statements.iter().any(|t| {
                source(&t.statement.source)
                    && t.mismatch.is_none()
                    && t.statement.effect == policy::Effect::Allow
            })
        };
        let has_boundary = explanation
            .statements
            .iter()
            .any(|t| t.statement.source == PolicySource::Boundary);
        if !allows(|s| *s == PolicySource::Identity) {
            format!("because no identity-based policy allows the {action} action")
        } else if has_boundary && !allows(|s| *s == PolicySource::Boundary) {
            format!("because no permissions boundary allows the {action} action")
        } else if !allows(|s| *s == PolicySource::Session) {
            format!("because no session policy allows the {action} action")
        } else {
            format!("because no service control policy allows the {action} action")
        }
    };
    ApiError::new(ErrorCode::AccessDenied, format!("{head} {reason}"))
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
/// read.
pub async fn principal_policies(
    state: &AppState,
    caller: &Caller,
) -> Result<Arc<PrincipalPolicies>, ApiError> {
    let Identity::User { id, .. } = &caller.identity else {
        return Err(ApiError::internal());
    };
    let key = format!("{}:{id}", caller.account_id);
    let epoch = state.epoch.current();
    if let Some(hit) = state.policies.get(&key, epoch) {
        return Ok(hit);
    }
    let set = state
        .store
        .authorization_set(&caller.account_id, &PrincipalRef::UserId(id.clone()))
        .await
        .map_err(|e| match e {
            // The user was deleted after its key was cached: its key no
            // longer authenticates anything.
            StoreError::NoSuchEntity(_) => ApiError::new(
                ErrorCode::InvalidClientTokenId,
                "The security token included in the request is invalid.",
            )
            .with_status(403),
            other => store_error(other),
        })?;
    let compiled = Arc::new(compile_set(state, &set, PrincipalKind::User)?);
    state.policies.insert(key, compiled.clone(), epoch);
    Ok(compiled)
}

/// Compiles an authorisation set read from the store.
pub fn compile_set(
    state: &AppState,
    set: &AuthorizationSet,
    kind: PrincipalKind,
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
    if let Some(boundary) = &set.boundary {
        builder = builder.boundary(compile_stored(
            state,
            boundary,
            &set.principal.name,
            PolicyKind::Boundary,
        )?);
    }
    let policy_set = builder.build().map_err(|e| {
        tracing::error!(error = %e, "cannot build a policy set");
        ApiError::internal()
    })?;
    let mut principal = Principal::new(kind, set.principal.arn.clone());
    principal.account = set.account_id.clone();
    principal.unique_id = Some(set.principal.id.clone());
    Ok(PrincipalPolicies {
        set: policy_set,
        principal,
        tags: set.principal.tags.clone(),
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
pub fn key_owner(caller: &Caller, user_name: Option<&str>) -> KeyOwner {
    match (user_name, &caller.identity) {
        (Some(name), _) => KeyOwner::User(name.to_owned()),
        (None, Identity::User { name, .. }) => KeyOwner::User(name.clone()),
        (None, Identity::Root) => KeyOwner::Root,
    }
}
