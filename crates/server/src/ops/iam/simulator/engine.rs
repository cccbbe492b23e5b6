//! The pure part of the simulator: the policies of one simulation compiled
//! into a `PolicySet`, the simulated caller and its context, and the run
//! that turns (action, resource) pairs into the API's `EvaluationResult`s.
//! No store, no `RequestCtx`: the handlers resolve stored principals
//! first, and `portcullis policy simulate` runs the same code offline.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use portcullis_policy::catalog;
use portcullis_policy::{
    self as policy, Context, ContextType, Decision, Effect, Explanation, ParseOptions, Policy,
    PolicyDocument, PolicyKind, PolicySet, PolicySource, Position as SourcePosition, Principal,
    PrincipalKind, SizeQuota, StatementInfo,
};
use portcullis_store::arn as arns;
use portcullis_store::model as m;

use super::Loaded;
use crate::error::ApiError;
use crate::ops;
use crate::protocol::generated::iam::*;

// ---------------------------------------------------------------------------
// Policies fed to a simulation, with what the answer says about them

/// One policy of a simulation: how the answer names it, and its text for
/// statement positions.
#[derive(Debug)]
pub(super) struct Input {
    /// `SourcePolicyId`: a policy name, or `PolicyInputList.N`.
    pub(super) id: String,
    /// `SourcePolicyType`.
    pub(super) source_type: &'static str,
    pub(super) text: Option<Arc<str>>,
    pub(super) kind: PolicyKind,
    pub(super) parsed: OnceLock<Option<PolicyDocument>>,
}

impl Input {
    pub(super) fn new(
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
    pub(super) fn document(&self) -> Option<&PolicyDocument> {
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
    pub(super) fn statement(&self, index: usize) -> Statement {
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
pub(super) fn parse_input(
    text: &str,
    kind: PolicyKind,
    what: &str,
) -> Result<PolicyDocument, ApiError> {
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

pub(super) fn compile_input(
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
pub(super) enum EntityKind {
    User,
    Group,
    Role,
}

impl EntityKind {
    pub(super) fn source_type(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Group => "group",
            EntityKind::Role => "role",
        }
    }
}

/// An IAM user, group or role named by ARN.
#[derive(Debug, Clone)]
pub(super) struct Entity {
    pub(super) kind: EntityKind,
    pub(super) arn: String,
    pub(super) account: String,
    pub(super) name: String,
}

impl Entity {
    pub(super) fn parse(arn: &str, parameter: &str) -> Result<Self, ApiError> {
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

    pub(super) fn not_found(&self) -> ApiError {
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
pub struct Caller {
    pub(super) principal: Principal,
    /// Context keys the caller implies (as enforcement sets them).
    pub(super) keys: Vec<(String, ContextType, String)>,
}

/// The keys enforcement sets from a user (`authz/context.rs`).
pub(super) fn user_caller(
    arn: &str,
    account: &str,
    name: &str,
    id: Option<&str>,
    tags: &[m::Tag],
) -> Caller {
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

pub(super) fn s(key: &str, value: &str) -> (String, ContextType, String) {
    (key.to_owned(), ContextType::String, value.to_owned())
}

pub(super) fn b(key: &str, value: bool) -> (String, ContextType, String) {
    (key.to_owned(), ContextType::Boolean, value.to_string())
}

/// A role simulated as a session of itself.
pub(super) fn role_caller(arn: &str, account: &str, tags: &[m::Tag]) -> Caller {
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
pub(super) fn group_caller(arn: &str, account: &str) -> Caller {
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
pub(super) fn anonymous_caller(account: &str) -> Caller {
    let mut principal = Principal::new(PrincipalKind::User, arns::root_arn(account));
    principal.account = account.to_owned();
    Caller {
        principal,
        keys: Vec::new(),
    }
}

// ---------------------------------------------------------------------------
// Building and running a simulation

pub(super) struct Builder {
    pub(super) caller: Caller,
    pub(super) identity: Vec<(Arc<Policy>, Input)>,
    pub(super) boundary: Option<(Arc<Policy>, Input)>,
    pub(super) scps: Vec<Vec<Arc<Policy>>>,
    pub(super) resource_policy: Option<(Arc<Policy>, Input)>,
    pub(super) principal_override: Option<Principal>,
}

impl Builder {
    pub(super) fn new(caller: Caller) -> Self {
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
    pub(super) fn add_loaded(&mut self, loaded: Loaded) {
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

    pub(super) fn add_inputs(&mut self, texts: &[String], list: &str) -> Result<(), ApiError> {
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
    pub(super) fn set_boundary_input(&mut self, texts: Option<&[String]>) -> Result<(), ApiError> {
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

    pub(super) fn add_scp_level(
        &mut self,
        level: usize,
        texts: Option<&[String]>,
    ) -> Result<(), ApiError> {
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

    pub(super) fn set_resource_policy(&mut self, text: Option<&str>) -> Result<(), ApiError> {
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

    pub(super) fn build(self, entries: Option<&[ContextEntry]>) -> Result<Simulation, ApiError> {
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

pub(super) fn context_type(s: &str) -> Option<ContextType> {
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

pub(super) struct Options {
    pub(super) actions: Vec<String>,
    pub(super) resources: Option<Vec<String>>,
    pub(super) resource_owner: Option<String>,
    pub(super) marker: Option<String>,
    pub(super) max_items: Option<i32>,
}

pub(super) struct Simulation {
    pub(super) set: PolicySet,
    /// Parallel to `set.identity()`.
    pub(super) identity: Vec<Input>,
    pub(super) boundary: Option<Input>,
    pub(super) has_scps: bool,
    pub(super) resource_policy: Option<Arc<Policy>>,
    pub(super) resource_input: Option<Input>,
    pub(super) principal: Principal,
    pub(super) context: Context,
}

/// One (action, resource) evaluated.
pub(super) struct Outcome {
    pub(super) decision: Decision,
    /// The engine's explanation, for `portcullis policy simulate --explain`.
    pub(super) explanation: Explanation,
    pub(super) matched: Vec<Statement>,
    pub(super) missing: Vec<String>,
    pub(super) boundary_allows: Option<bool>,
    pub(super) organizations_allow: Option<bool>,
    /// Per policy type, for cross-account simulations.
    pub(super) details: Option<Vec<(String, String)>>,
}

pub(super) const MARKER_PREFIX: &str = "sim1.";

impl Simulation {
    /// The answer, and the engine's explanation of every (action,
    /// resource) pair evaluated, in answer order.
    pub(super) fn run(
        &self,
        o: Options,
    ) -> Result<(SimulatePolicyResponse, Vec<Explanation>), ApiError> {
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
        let mut explanations = Vec::new();
        for action in o.actions.get(start..end).unwrap_or_default() {
            let (result, explained) =
                self.evaluate_action(action, &resources, explicit, owner.as_deref());
            results.push(result);
            explanations.extend(explained);
        }
        let more = end < o.actions.len();
        let response = SimulatePolicyResponse {
            evaluation_results: Some(results),
            is_truncated: Some(more),
            marker: more.then(|| format!("{MARKER_PREFIX}{end}")),
        };
        Ok((response, explanations))
    }

    pub(super) fn evaluate_action(
        &self,
        action: &str,
        resources: &[String],
        explicit: bool,
        owner: Option<&str>,
    ) -> (EvaluationResult, Vec<Explanation>) {
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
        let result = EvaluationResult {
            eval_action_name: action.to_owned(),
            eval_decision: decision.simulator_name().to_owned(),
            eval_resource_name: Some(catalog::resource_template(action, resources)),
            eval_decision_details: details,
            matched_statements: Some(matched),
            missing_context_values: Some(missing),
            organizations_decision_detail: organizations,
            permissions_boundary_decision_detail: boundary,
            resource_specific_results: resource_specific,
        };
        let explanations = outcomes.into_iter().map(|(_, o)| o.explanation).collect();
        (result, explanations)
    }

    /// One request through the engine: `authorize` decides (the call
    /// enforcement makes), `explain` says why.
    pub(super) fn evaluate(&self, action: &str, resource: &str, owner: Option<&str>) -> Outcome {
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
            explanation,
        }
    }

    /// The answer's `Statement` for a deciding statement of the explanation.
    /// SCP statements are not reported, as in AWS.
    pub(super) fn statement_of(
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
    pub(super) fn identity_input(
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
pub(super) fn scps_allow(explanation: &Explanation, levels: usize) -> bool {
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

pub(super) fn restrictiveness(d: Decision) -> u8 {
    match d {
        Decision::Allow => 0,
        Decision::ImplicitDeny => 1,
        Decision::ExplicitDeny => 2,
    }
}

pub(super) fn rank_name(d: &str) -> u8 {
    match d {
        "allowed" => 0,
        "implicitDeny" => 1,
        _ => 2,
    }
}

/// `service:Action`, without wildcards.
pub(super) fn check_action(action: &str) -> Result<(), ApiError> {
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
pub(super) fn account_of_owner(owner: &str) -> Result<String, ApiError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
