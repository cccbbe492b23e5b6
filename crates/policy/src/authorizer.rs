//! Combining policies into a decision, as the IAM User Guide's "Policy evaluation
//! logic" describes:
//!
//! 1. An explicit `Deny` in any applicable policy (SCP, resource-based, identity,
//!    boundary, session) decides: [`Decision::ExplicitDeny`].
//! 2. Every SCP level (organisation root down to the account) must allow.
//! 3. The root user is bound by nothing else in its own account; cross-account it
//!    needs the resource policy.
//! 4. A resource-based policy in the same account that names the caller itself (user,
//!    role session, federated user, `*`) grants on its own; one that names the role's
//!    ARN still needs the boundary and session policies to allow; one that names the
//!    account defers to the identity side.
//! 5. The identity side allows when an identity policy allows and, where present, the
//!    permissions boundary and the session policies allow too.
//! 6. Cross-account, both the resource policy and the identity side must allow.
//! 7. A role trust policy must always allow `sts:AssumeRole*` (then rules 4–6 apply).
//!
//! [`authorize`] is the hot path: it looks only at the statements the action index
//! returns, stops at the first matching `Deny`, and does not allocate unless a policy
//! variable must be substituted. [`crate::explain`] does the full work.

use std::sync::Arc;

use serde::Serialize;

use crate::action::split_action;
use crate::context::{PrincipalKind, Request};
use crate::document::{Effect, PolicyKind};
use crate::error::Error;
use crate::index::ActionIndex;
use crate::policy::{CStatement, Grant, Policy};

/// The three outcomes of AWS's evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// Denied by a matching `Deny` statement.
    ExplicitDeny,
    /// Denied because nothing (or not every required policy) allowed it.
    ImplicitDeny,
}

impl Decision {
    /// The name used by iam:SimulateCustomPolicy (`allowed`, `explicitDeny`, `implicitDeny`).
    #[must_use]
    pub fn simulator_name(self) -> &'static str {
        match self {
            Self::Allow => "allowed",
            Self::ExplicitDeny => "explicitDeny",
            Self::ImplicitDeny => "implicitDeny",
        }
    }
}

/// Which kind of policy a statement comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PolicySource {
    /// The principal's identity-based policies (its own, its groups', managed).
    Identity,
    /// The permissions boundary.
    Boundary,
    /// A session policy.
    Session,
    /// A service control policy at this level (0 = organisation root).
    Scp {
        /// The level, from the organisation root down.
        level: u8,
    },
    /// The resource-based (or trust) policy.
    Resource,
}

/// Names one statement of a policy set (or of the resource policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct StatementRef {
    /// Which kind of policy.
    pub source: PolicySource,
    /// The policy's position within its source (within its level for SCPs).
    pub policy: u32,
    /// The statement's 0-based index in the policy.
    pub statement: u32,
}

/// The most SCP levels a set may have (root, five OUs and the account is seven).
pub const MAX_SCP_LEVELS: usize = 32;

/// The statements that decided, kept inline so that returning them costs nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deciding {
    items: [Option<StatementRef>; 8],
}

impl Deciding {
    const EMPTY: Self = Self { items: [None; 8] };

    fn push(&mut self, r: StatementRef) {
        if let Some(slot) = self.items.iter_mut().find(|s| s.is_none()) {
            *slot = Some(r);
        }
    }

    /// The deciding statements: the `Deny` for an explicit deny; for an allow, the
    /// first allowing statement of each policy type that had to allow (at most eight;
    /// [`crate::explain`] lists them all).
    pub fn iter(&self) -> impl Iterator<Item = StatementRef> + '_ {
        self.items.iter().filter_map(|x| *x)
    }
}

/// A decision with the statements that decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The decision.
    pub decision: Decision,
    /// The deciding statements.
    pub deciding: Deciding,
}

impl Outcome {
    fn explicit_deny(r: StatementRef) -> Self {
        let mut deciding = Deciding::EMPTY;
        deciding.push(r);
        Self {
            decision: Decision::ExplicitDeny,
            deciding,
        }
    }
}

/// The compiled policies in force for one principal, indexed by action.
#[derive(Debug, Clone)]
pub struct PolicySet {
    identity: Vec<Arc<Policy>>,
    boundary: Option<Arc<Policy>>,
    session: Option<Vec<Arc<Policy>>>,
    scps: Vec<Vec<Arc<Policy>>>,
    index: ActionIndex<StatementRef>,
}

/// Builds a [`PolicySet`].
#[derive(Debug, Clone, Default)]
pub struct PolicySetBuilder {
    identity: Vec<Arc<Policy>>,
    boundary: Option<Arc<Policy>>,
    session: Option<Vec<Arc<Policy>>>,
    scps: Vec<Vec<Arc<Policy>>>,
}

impl PolicySetBuilder {
    /// Adds an identity-based policy (inline, attached managed, or a group's).
    #[must_use]
    pub fn identity(mut self, p: Arc<Policy>) -> Self {
        self.identity.push(p);
        self
    }

    /// Sets the permissions boundary.
    #[must_use]
    pub fn boundary(mut self, p: Arc<Policy>) -> Self {
        self.boundary = Some(p);
        self
    }

    /// Adds a session policy (and marks the request as coming from a session that
    /// was given session policies).
    #[must_use]
    pub fn session(mut self, p: Arc<Policy>) -> Self {
        self.session.get_or_insert_with(Vec::new).push(p);
        self
    }

    /// Marks the session as given session policies, even if the list is empty (an
    /// empty list then allows nothing).
    #[must_use]
    pub fn session_policies(mut self, ps: Vec<Arc<Policy>>) -> Self {
        self.session.get_or_insert_with(Vec::new).extend(ps);
        self
    }

    /// Adds the SCPs of the next level down (organisation root first).
    #[must_use]
    pub fn scp_level(mut self, ps: Vec<Arc<Policy>>) -> Self {
        self.scps.push(ps);
        self
    }

    /// Builds and indexes the set.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] with more than [`MAX_SCP_LEVELS`] SCP levels.
    pub fn build(self) -> Result<PolicySet, Error> {
        if self.scps.len() > MAX_SCP_LEVELS {
            return Err(Error::InvalidRequest(format!(
                "at most {MAX_SCP_LEVELS} SCP levels are supported, not {}",
                self.scps.len()
            )));
        }
        let mut index = ActionIndex::default();
        let mut add = |source: PolicySource, pi: usize, p: &Policy| {
            for (si, s) in p.statements().iter().enumerate() {
                let r = StatementRef {
                    source,
                    policy: to_u32(pi),
                    statement: to_u32(si),
                };
                index.insert(s, r);
            }
        };
        for (i, p) in self.identity.iter().enumerate() {
            add(PolicySource::Identity, i, p);
        }
        if let Some(b) = &self.boundary {
            add(PolicySource::Boundary, 0, b);
        }
        for (i, p) in self.session.iter().flatten().enumerate() {
            add(PolicySource::Session, i, p);
        }
        for (level, ps) in self.scps.iter().enumerate() {
            for (i, p) in ps.iter().enumerate() {
                add(
                    PolicySource::Scp {
                        level: u8::try_from(level).unwrap_or(u8::MAX),
                    },
                    i,
                    p,
                );
            }
        }
        let statements = (&self.identity, &self.boundary, &self.session, &self.scps);
        index.prioritize(|r| {
            let (identity, boundary, session, scps) = statements;
            let policy = match r.source {
                PolicySource::Identity => identity.get(r.policy as usize),
                PolicySource::Boundary => boundary.as_ref(),
                PolicySource::Session => session.as_ref().and_then(|s| s.get(r.policy as usize)),
                PolicySource::Scp { level } => scps
                    .get(usize::from(level))
                    .and_then(|l| l.get(r.policy as usize)),
                PolicySource::Resource => None,
            };
            policy
                .and_then(|p| p.statements().get(r.statement as usize))
                .is_some_and(|s| s.effect == Effect::Deny)
        });
        Ok(PolicySet {
            identity: self.identity,
            boundary: self.boundary,
            session: self.session,
            scps: self.scps,
            index,
        })
    }
}

fn to_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl PolicySet {
    /// Every request-context key its policies can read (see
    /// [`Policy::context_keys`]), sorted, once each. A resource policy
    /// evaluated with the set reads its own keys besides.
    #[must_use]
    pub fn context_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .identity
            .iter()
            .chain(&self.boundary)
            .chain(self.session.iter().flatten())
            .chain(self.scps.iter().flatten())
            .flat_map(|p| p.context_keys())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Starts a set.
    #[must_use]
    pub fn builder() -> PolicySetBuilder {
        PolicySetBuilder::default()
    }

    /// An empty set (no identity policies: everything is implicitly denied unless a
    /// resource policy grants).
    #[must_use]
    pub fn empty() -> Self {
        Self {
            identity: Vec::new(),
            boundary: None,
            session: None,
            scps: Vec::new(),
            index: ActionIndex::default(),
        }
    }

    /// The identity-based policies.
    #[must_use]
    pub fn identity(&self) -> &[Arc<Policy>] {
        &self.identity
    }

    /// The permissions boundary.
    #[must_use]
    pub fn boundary(&self) -> Option<&Arc<Policy>> {
        self.boundary.as_ref()
    }

    /// The session policies, if the session was given any.
    #[must_use]
    pub fn session(&self) -> Option<&[Arc<Policy>]> {
        self.session.as_deref()
    }

    /// The SCP levels.
    #[must_use]
    pub fn scps(&self) -> &[Vec<Arc<Policy>>] {
        &self.scps
    }

    /// Finds the policy a reference names (the resource policy is passed separately).
    #[must_use]
    pub fn policy<'a>(
        &'a self,
        r: &StatementRef,
        resource: Option<&'a Policy>,
    ) -> Option<&'a Policy> {
        let i = r.policy as usize;
        match r.source {
            PolicySource::Identity => self.identity.get(i).map(|p| &**p),
            PolicySource::Boundary => self.boundary.as_deref().filter(|_| i == 0),
            PolicySource::Session => self.session.as_ref().and_then(|s| s.get(i)).map(|p| &**p),
            PolicySource::Scp { level } => self
                .scps
                .get(usize::from(level))
                .and_then(|l| l.get(i))
                .map(|p| &**p),
            PolicySource::Resource => resource.filter(|_| i == 0),
        }
    }

    pub(crate) fn statement<'a>(
        &'a self,
        r: &StatementRef,
        resource: Option<&'a Policy>,
    ) -> Option<&'a CStatement> {
        self.policy(r, resource)
            .and_then(|p| p.statements().get(r.statement as usize))
    }
}

/// What the statements that applied say, per policy type.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    pub deny: Option<StatementRef>,
    pub identity: Option<StatementRef>,
    pub boundary: Option<StatementRef>,
    pub session: Option<StatementRef>,
    pub scp_mask: u64,
    pub scp_refs: [Option<StatementRef>; 4],
    pub resource: Option<(Grant, StatementRef)>,
}

impl Tally {
    /// Whether an allow from `source` is already recorded (resource policies: with
    /// the strongest grant).
    pub(crate) fn has_allow(&self, source: PolicySource) -> bool {
        match source {
            PolicySource::Identity => self.identity.is_some(),
            PolicySource::Boundary => self.boundary.is_some(),
            PolicySource::Session => self.session.is_some(),
            PolicySource::Scp { level } => self.scp_mask & (1u64 << (level % 64)) != 0,
            PolicySource::Resource => self.resource.is_some_and(|(g, _)| g == Grant::Direct),
        }
    }

    pub(crate) fn record(&mut self, r: StatementRef, effect: Effect, grant: Grant) {
        if effect == Effect::Deny {
            if self.deny.is_none() {
                self.deny = Some(r);
            }
            return;
        }
        match r.source {
            PolicySource::Identity => {
                self.identity.get_or_insert(r);
            }
            PolicySource::Boundary => {
                self.boundary.get_or_insert(r);
            }
            PolicySource::Session => {
                self.session.get_or_insert(r);
            }
            PolicySource::Scp { level } => {
                let bit = 1u64 << (level % 64);
                if self.scp_mask & bit == 0 {
                    self.scp_mask |= bit;
                    if let Some(slot) = self.scp_refs.get_mut(usize::from(level)) {
                        *slot = Some(r);
                    }
                }
            }
            PolicySource::Resource => {
                if self.resource.is_none_or(|(g, _)| grant > g) {
                    self.resource = Some((grant, r));
                }
            }
        }
    }
}

/// Which statements an allow rests on.
#[derive(Debug, Default, Clone, Copy)]
struct Basis {
    identity: bool,
    limits: bool,
    resource: bool,
}

/// Turns a tally into the decision (AWS's flow chart; see the module docs).
pub(crate) fn decide(
    t: &Tally,
    set: &PolicySet,
    resource_kind: Option<PolicyKind>,
    req: &Request<'_>,
) -> Outcome {
    if let Some(d) = t.deny {
        return Outcome::explicit_deny(d);
    }
    let mut deciding = Deciding::EMPTY;
    let deny = Outcome {
        decision: Decision::ImplicitDeny,
        deciding: Deciding::EMPTY,
    };
    let levels = set.scps.len();
    let full = if levels >= 64 {
        u64::MAX
    } else {
        (1u64 << levels) - 1
    };
    if t.scp_mask & full != full {
        return deny;
    }
    let boundary_ok = set.boundary.is_none() || t.boundary.is_some();
    // A GetFederationToken session without session policies has no permissions.
    let session_ok = match set.session {
        None => req.principal.kind != PrincipalKind::FederatedUser,
        Some(_) => t.session.is_some(),
    };
    let limits_ok = boundary_ok && session_ok;
    let identity_ok = t.identity.is_some() && limits_ok;
    let grant = t.resource.map(|(g, _)| g);
    let same_account = req.same_account();
    let basis = match req.principal.kind {
        PrincipalKind::Root if same_account && resource_kind != Some(PolicyKind::Trust) => {
            Some(Basis::default())
        }
        PrincipalKind::Root | PrincipalKind::Service | PrincipalKind::Anonymous => {
            grant.is_some().then_some(Basis {
                resource: true,
                ..Basis::default()
            })
        }
        PrincipalKind::User | PrincipalKind::RoleSession | PrincipalKind::FederatedUser => {
            let via_identity = identity_ok.then_some(Basis {
                identity: true,
                limits: true,
                resource: false,
            });
            match (grant, same_account) {
                (None, _) if resource_kind == Some(PolicyKind::Trust) => None,
                (None, true) => via_identity,
                (None, false) => None,
                (Some(Grant::Direct), true) => Some(Basis {
                    resource: true,
                    ..Basis::default()
                }),
                (Some(Grant::RoleArn), true) => limits_ok.then_some(Basis {
                    identity: false,
                    limits: true,
                    resource: true,
                }),
                (Some(_), _) => via_identity.map(|b| Basis {
                    resource: true,
                    ..b
                }),
            }
        }
    };
    let Some(basis) = basis else { return deny };
    if basis.identity {
        t.identity.into_iter().for_each(|r| deciding.push(r));
    }
    if basis.limits {
        t.boundary
            .into_iter()
            .chain(t.session)
            .for_each(|r| deciding.push(r));
    }
    if basis.resource {
        t.resource.into_iter().for_each(|(_, r)| deciding.push(r));
    }
    t.scp_refs.iter().flatten().for_each(|r| deciding.push(*r));
    Outcome {
        decision: Decision::Allow,
        deciding,
    }
}

/// Decides a request: the hot path. `resource_policy` is the policy of the resource
/// acted on (a trust policy for `sts:AssumeRole*`).
#[must_use]
pub fn authorize(set: &PolicySet, resource_policy: Option<&Policy>, req: &Request<'_>) -> Outcome {
    let (service, name) = split_action(req.action);
    let mut tally = Tally::default();
    let skip_identity_side = matches!(
        req.principal.kind,
        PrincipalKind::Root | PrincipalKind::Service | PrincipalKind::Anonymous
    );
    let bounded = set.boundary.is_some();
    let arn = crate::arn::Arn::parse(req.resource);
    let cands = set.index.lookup(req.action);
    let lists = [
        (cands.exact, false),
        (cands.others[0], true),
        (cands.others[1], true),
    ];
    for (list, check_action) in lists {
        for r in list {
            if skip_identity_side && !matches!(r.source, PolicySource::Scp { .. }) {
                continue;
            }
            let Some(st) = set.statement(r, None) else {
                continue;
            };
            // Once a policy type has allowed, its other allows cannot change the
            // decision: only denies are still worth evaluating.
            if st.effect == Effect::Allow && tally.has_allow(r.source) {
                continue;
            }
            if let Some(g) = st.applies(req, service, name, arn.as_ref(), check_action, bounded) {
                if st.effect == Effect::Deny {
                    return Outcome::explicit_deny(*r);
                }
                tally.record(*r, st.effect, g);
            }
        }
    }
    // Resource policies are small and change with every request's resource: scan.
    if let Some(rp) = resource_policy {
        for (i, st) in rp.statements().iter().enumerate() {
            if let Some(g) = st.applies(req, service, name, arn.as_ref(), true, bounded) {
                let r = StatementRef {
                    source: PolicySource::Resource,
                    policy: 0,
                    statement: to_u32(i),
                };
                if st.effect == Effect::Deny {
                    return Outcome::explicit_deny(r);
                }
                tally.record(r, st.effect, g);
            }
        }
    }
    decide(&tally, set, resource_policy.map(Policy::kind), req)
}
