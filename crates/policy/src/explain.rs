//! Explanations: the full evaluation, statement by statement, for people (text) and
//! programs (JSON). It looks at every statement, not only the indexed candidates, and
//! says for each statement whose action matched which element stopped it.

use std::fmt;

use serde::Serialize;

use crate::action::split_action;
#[cfg(test)]
use crate::authorizer::authorize;
use crate::authorizer::{Decision, PolicySet, PolicySource, StatementRef, Tally, decide};
use crate::context::{PrincipalKind, Request};
use crate::document::Effect;
use crate::error::Span;
use crate::policy::{CStatement, Grant, Policy};

/// A statement named for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementInfo {
    /// Which kind of policy.
    pub source: PolicySource,
    /// The policy's id.
    pub policy_id: String,
    /// The statement's 0-based index.
    pub index: usize,
    /// Its `Sid`.
    pub sid: Option<String>,
    /// Its effect.
    pub effect: Effect,
    /// Where it was in the policy text.
    pub span: Span,
}

/// Why a statement whose action matched did not apply: the first element that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "element", rename_all = "snake_case")]
pub enum Mismatch {
    /// `Principal`/`NotPrincipal` does not cover the caller.
    Principal,
    /// `Resource`/`NotResource` does not cover the resource.
    Resource,
    /// A condition is false.
    Condition {
        /// The operator (canonical name).
        operator: String,
        /// The key as written.
        key: String,
        /// Whether the request had the key.
        key_present: bool,
    },
}

/// One statement's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementTrace {
    /// The statement.
    pub statement: StatementInfo,
    /// `None` when it applied.
    pub mismatch: Option<Mismatch>,
    /// For a resource-policy statement that applied: how it named the caller.
    pub grant: Option<Grant>,
}

/// A decision with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The decision (always equal to [`crate::authorize`]'s).
    pub decision: Decision,
    /// The statements that decided it.
    pub deciding: Vec<StatementInfo>,
    /// Every statement whose action matched, with what stopped it (the nearest ones).
    pub statements: Vec<StatementTrace>,
    /// Context keys that applicable statements test but the request lacks.
    pub missing_context_keys: Vec<String>,
    /// The action and resource asked for.
    pub action: String,
    /// The resource asked for.
    pub resource: String,
}

fn info(set: &PolicySet, rp: Option<&Policy>, r: &StatementRef) -> Option<StatementInfo> {
    let p = set.policy(r, rp)?;
    let st = p.statements().get(r.statement as usize)?;
    Some(StatementInfo {
        source: r.source,
        policy_id: p.id().to_owned(),
        index: r.statement as usize,
        sid: st.sid().map(str::to_owned),
        effect: st.effect,
        span: st.span,
    })
}

/// Evaluates with every detail. Slower than [`crate::authorize`] and allocating.
#[must_use]
pub fn explain(
    set: &PolicySet,
    resource_policy: Option<&Policy>,
    req: &Request<'_>,
) -> Explanation {
    let (service, name) = split_action(req.action);
    let skip_identity_side = matches!(
        req.principal.kind,
        PrincipalKind::Root | PrincipalKind::Service | PrincipalKind::Anonymous
    );
    let mut sources: Vec<(PolicySource, u32, &Policy)> = Vec::new();
    for (level, ps) in set.scps().iter().enumerate() {
        for (i, p) in ps.iter().enumerate() {
            sources.push((
                PolicySource::Scp {
                    level: u8::try_from(level).unwrap_or(u8::MAX),
                },
                to_u32(i),
                p,
            ));
        }
    }
    if let Some(rp) = resource_policy {
        sources.push((PolicySource::Resource, 0, rp));
    }
    if !skip_identity_side {
        for (i, p) in set.identity().iter().enumerate() {
            sources.push((PolicySource::Identity, to_u32(i), p));
        }
        if let Some(b) = set.boundary() {
            sources.push((PolicySource::Boundary, 0, b));
        }
        for (i, p) in set.session().into_iter().flatten().enumerate() {
            sources.push((PolicySource::Session, to_u32(i), p));
        }
    }
    let mut tally = Tally::default();
    let mut traces = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    for (source, pi, p) in sources {
        for (si, st) in p.statements().iter().enumerate() {
            let r = StatementRef {
                source,
                policy: pi,
                statement: to_u32(si),
            };
            if !st.action_matches(req.action, service, name) {
                continue;
            }
            let (mismatch, grant) = trace(st, req, set.boundary().is_some(), &mut missing);
            if mismatch.is_none()
                && let Some(g) = grant
            {
                tally.record(r, st.effect, g);
            }
            if let Some(i) = info(set, resource_policy, &r) {
                traces.push(StatementTrace {
                    statement: i,
                    mismatch,
                    grant: if source == PolicySource::Resource {
                        grant
                    } else {
                        None
                    },
                });
            }
        }
    }
    let outcome = decide(&tally, set, resource_policy.map(Policy::kind), req);
    // Every applicable statement of the deciding kinds: all the denies for a deny;
    // for an allow, every allowing statement of each policy type the allow rests on.
    let sources: Vec<PolicySource> = outcome.deciding.iter().map(|r| r.source).collect();
    let deciding: Vec<StatementInfo> = traces
        .iter()
        .filter(|t| t.mismatch.is_none())
        .filter(|t| match outcome.decision {
            Decision::ExplicitDeny => t.statement.effect == Effect::Deny,
            Decision::Allow => {
                t.statement.effect == Effect::Allow
                    && (sources.contains(&t.statement.source)
                        || matches!(t.statement.source, PolicySource::Scp { .. }))
            }
            Decision::ImplicitDeny => false,
        })
        .map(|t| t.statement.clone())
        .collect();
    Explanation {
        decision: outcome.decision,
        deciding,
        statements: traces,
        missing_context_keys: missing,
        action: req.action.to_owned(),
        resource: req.resource.to_owned(),
    }
}

fn to_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// The first failing element of a statement whose action matched, and the keys its
/// conditions test that the request lacks.
fn trace(
    st: &CStatement,
    req: &Request<'_>,
    bounded: bool,
    missing: &mut Vec<String>,
) -> (Option<Mismatch>, Option<Grant>) {
    let Some(grant) = st.principal_grant(req.principal, bounded) else {
        return (Some(Mismatch::Principal), None);
    };
    if !st.resource_matches(req, crate::arn::Arn::parse(req.resource).as_ref()) {
        return (Some(Mismatch::Resource), None);
    }
    let mut failed = None;
    for c in &*st.conditions {
        let present = req.context.get(c.key()).is_some_and(|v| !v.is_empty());
        if !present && !missing.iter().any(|m| m.eq_ignore_ascii_case(c.key())) {
            missing.push(c.key_text().to_owned());
        }
        if failed.is_none() && !c.eval(req.context) {
            failed = Some(Mismatch::Condition {
                operator: c.operator.to_string(),
                key: c.key_text().to_owned(),
                key_present: present,
            });
        }
    }
    match failed {
        Some(m) => (Some(m), None),
        None => (None, Some(grant)),
    }
}

impl fmt::Display for StatementInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self.source {
            PolicySource::Identity => "identity policy".to_owned(),
            PolicySource::Boundary => "permissions boundary".to_owned(),
            PolicySource::Session => "session policy".to_owned(),
            PolicySource::Scp { level } => format!("SCP (level {level})"),
            PolicySource::Resource => "resource policy".to_owned(),
        };
        write!(f, "{source} `{}` statement {}", self.policy_id, self.index)?;
        if let Some(sid) = &self.sid {
            write!(f, " (Sid `{sid}`)")?;
        }
        write!(f, " [{}]", self.effect.as_str())
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:?}: {} on {}",
            self.decision, self.action, self.resource
        )?;
        match self.decision {
            Decision::Allow => writeln!(f, "allowed by:")?,
            Decision::ExplicitDeny => writeln!(f, "denied by:")?,
            Decision::ImplicitDeny => {
                if self
                    .statements
                    .iter()
                    .any(|t| t.mismatch.is_none() && t.statement.effect == Effect::Allow)
                {
                    writeln!(
                        f,
                        "not every policy type that must allow did (boundary, session policy, SCP level or the other account)"
                    )?;
                } else {
                    writeln!(f, "no statement allows it")?;
                }
            }
        }
        for d in &self.deciding {
            writeln!(f, "  - {d}")?;
        }
        if self.decision != Decision::Allow {
            let near: Vec<_> = self
                .statements
                .iter()
                .filter(|t| t.mismatch.is_some())
                .collect();
            if near.is_empty() && self.statements.is_empty() {
                writeln!(f, "no statement covers action {}", self.action)?;
            }
            if !near.is_empty() {
                writeln!(f, "statements that cover the action but did not apply:")?;
            }
            for t in near {
                let why = match &t.mismatch {
                    Some(Mismatch::Principal) => "the principal does not match".to_owned(),
                    Some(Mismatch::Resource) => {
                        format!("the resource {} does not match", self.resource)
                    }
                    Some(Mismatch::Condition {
                        operator,
                        key,
                        key_present: false,
                    }) => {
                        format!("condition {operator} on {key} is false: the request has no {key}")
                    }
                    Some(Mismatch::Condition { operator, key, .. }) => {
                        format!("condition {operator} on {key} is false")
                    }
                    None => String::new(),
                };
                writeln!(f, "  - {}: {why}", t.statement)?;
            }
        }
        if !self.missing_context_keys.is_empty() {
            writeln!(
                f,
                "missing context keys: {}",
                self.missing_context_keys.join(", ")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::context::{Context, ContextType, Principal};
    use crate::document::PolicyKind;

    fn policy(id: &str, text: &str, kind: PolicyKind) -> Arc<Policy> {
        Policy::parse(id, text, kind).unwrap()
    }

    #[test]
    fn implicit_deny_names_the_failed_condition_and_missing_key() {
        let set = PolicySet::builder()
            .identity(policy(
                "mfa",
                r#"{"Version":"2012-10-17","Statement":[
                  {"Sid":"WithMfa","Effect":"Allow","Action":"ec2:StopInstances","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
                  {"Sid":"Other","Effect":"Allow","Action":"ec2:StartInstances","Resource":"*"},
                  {"Sid":"OneInstance","Effect":"Allow","Action":"ec2:StopInstances","Resource":"arn:aws:ec2:*:*:instance/i-1"}]}"#,
                PolicyKind::Identity,
            ))
            .build()
            .unwrap();
        let p = Principal::new(PrincipalKind::User, "arn:aws:iam::111122223333:user/alice");
        let ctx = Context::new();
        let req = Request {
            principal: &p,
            action: "ec2:StopInstances",
            resource: "arn:aws:ec2:us-east-1:111122223333:instance/i-2",
            resource_account: None,
            context: &ctx,
        };
        let e = explain(&set, None, &req);
        assert_eq!(e.decision, Decision::ImplicitDeny);
        assert!(e.deciding.is_empty());
        assert_eq!(
            e.statements.len(),
            2,
            "only statements covering the action: {e:#?}"
        );
        assert_eq!(
            e.statements[0].mismatch,
            Some(Mismatch::Condition {
                operator: "Bool".into(),
                key: "aws:MultiFactorAuthPresent".into(),
                key_present: false
            })
        );
        assert_eq!(e.statements[1].mismatch, Some(Mismatch::Resource));
        assert_eq!(e.missing_context_keys, ["aws:MultiFactorAuthPresent"]);
        let text = e.to_string();
        assert!(
            text.starts_with("ImplicitDeny: ec2:StopInstances"),
            "{text}"
        );
        assert!(text.contains("(Sid `WithMfa`) [Allow]: condition Bool on aws:MultiFactorAuthPresent is false: the request has no aws:MultiFactorAuthPresent"), "{text}");
        assert!(
            text.contains("(Sid `OneInstance`) [Allow]: the resource"),
            "{text}"
        );
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["decision"], "ImplicitDeny");
        assert_eq!(json["statements"][0]["mismatch"]["element"], "condition");
        assert_eq!(json["statements"][0]["statement"]["sid"], "WithMfa");
    }

    #[test]
    fn boundary_implicit_deny_and_allow_lists_every_deciding_statement() {
        let set = PolicySet::builder()
            .identity(policy(
                "id",
                r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"B","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
                PolicyKind::Identity,
            ))
            .boundary(policy(
                "limit",
                r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}"#,
                PolicyKind::Boundary,
            ))
            .build()
            .unwrap();
        let p = Principal::new(PrincipalKind::User, "arn:aws:iam::111122223333:user/alice");
        let mut ctx = Context::new();
        ctx.insert("aws:username", ContextType::String, ["alice"])
            .unwrap();
        let mut req = Request {
            principal: &p,
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/k",
            resource_account: None,
            context: &ctx,
        };
        let e = explain(&set, None, &req);
        assert_eq!(e.decision, Decision::Allow);
        let sids: Vec<_> = e
            .deciding
            .iter()
            .map(|d| (d.source, d.sid.as_deref()))
            .collect();
        assert_eq!(
            sids,
            [
                (PolicySource::Identity, Some("A")),
                (PolicySource::Identity, Some("B")),
                (PolicySource::Boundary, Some("Read"))
            ]
        );
        // The fast path names one allowing statement per policy type that had to allow.
        let fast: Vec<_> = authorize(&set, None, &req).deciding.iter().collect();
        assert_eq!(
            fast.iter().map(|r| r.source).collect::<Vec<_>>(),
            [PolicySource::Identity, PolicySource::Boundary]
        );
        assert!(fast.iter().all(|r| {
            e.deciding
                .iter()
                .any(|d| d.source == r.source && d.index == r.statement as usize)
        }));

        req.action = "s3:PutObject";
        let e = explain(&set, None, &req);
        assert_eq!(e.decision, Decision::ImplicitDeny);
        assert!(
            e.to_string()
                .contains("not every policy type that must allow did"),
            "{e}"
        );
    }
}
