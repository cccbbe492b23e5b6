//! The compiled form of a policy document: patterns precompiled, values pre-parsed,
//! keys lowercased, statements indexed by action. Immutable and `Send + Sync`, so one
//! compiled policy is shared by `Arc` among every principal it is attached to.

use std::sync::Arc;

use serde::Serialize;

use crate::action::{self, ActionPattern};
use crate::arn::{Arn, ArnPattern};
use crate::block;
use crate::condition::Condition;
use crate::context::{Principal, PrincipalKind, Request};
use crate::document::{
    self, Effect, ParseOptions, PolicyDocument, PolicyKind, PrincipalType, PrincipalValue,
};
use crate::error::{AwsErrorCode, Diagnostic, Error, Position, Span};
use crate::pattern::{self, TTok};

/// A compiled policy.
#[derive(Debug)]
pub struct Policy {
    id: Box<str>,
    kind: PolicyKind,
    statements: Box<[CStatement]>,
    uses_variables: bool,
}

/// How a resource-based policy's `Principal` named the caller. It decides whether
/// the grant needs the caller's identity policies too (see [`crate::authorize`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Grant {
    /// The account (`123456789012` or `arn:aws:iam::123456789012:root`): the account
    /// delegates to its own identity policies.
    Account,
    /// The role's ARN, for a session of that role: limited by the session's
    /// permissions boundary and session policies.
    RoleArn,
    /// The caller itself (user, session, service, `*`): a grant of its own.
    Direct,
}

/// A compiled statement, kept small: a principal's policy set holds many, and the
/// issue's budget is 2 KB per 1.5 KB of policy text, compiled. The Sid, the action
/// patterns and the common ARN patterns share one byte block (see [`crate::block`]):
///
/// ```text
/// block: [ Sid bytes ][ action patterns (action.rs) ][ resource patterns ]
///        0            actions_at                     resources_at        len
/// ```
///
/// A resource pattern in the block is a tag (`*`, or the compact ARN form: the
/// wildcard-part bits and the text); the
/// others (policy variables, literal `*` from `${*}`, non-ARN patterns) are rare and
/// kept compiled in `rare`.
pub(crate) struct CStatement {
    block: Box<[u8]>,
    actions_at: u32,
    resources_at: u32,
    /// Where the statement was in the text (for MatchedStatements positions).
    pub span: Span,
    /// Boxed: only resource-based and trust policies have one.
    pub principal: Option<Box<PrincipalMatcher>>,
    pub conditions: Box<[Condition]>,
    rare: Option<Box<Box<[ResourcePattern]>>>,
    pub effect: Effect,
    flags: u8,
}

const ACTIONS_NEGATED: u8 = 1;
const RESOURCES_NEGATED: u8 = 2;
/// The statement has a `Resource` or `NotResource` element (trust policies and some
/// SCPs have none).
const HAS_RESOURCES: u8 = 4;
const HAS_SID: u8 = 8;

const RESOURCE_ANY: u8 = 0;
const RESOURCE_COMPACT: u8 = 1;

impl std::fmt::Debug for CStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CStatement")
            .field("sid", &self.sid())
            .field("span", &self.span)
            .field("effect", &self.effect)
            .field("principal", &self.principal)
            .field("actions_negated", &self.actions_negated())
            .field("actions", &self.actions())
            .field("resources_negated", &self.resources_negated())
            .field("conditions", &self.conditions)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub(crate) struct PrincipalMatcher {
    pub negated: bool,
    pub entries: Box<[PEntry]>,
}

#[derive(Debug)]
pub(crate) enum PEntry {
    Any,
    Account(Box<str>),
    Arn(Box<str>),
    Service(Box<str>),
    Federated(Box<str>),
    Canonical(Box<str>),
    UniqueId(Box<str>),
}

#[derive(Debug)]
pub(crate) enum ResourcePattern {
    Static(ArnPattern),
    Dynamic(Box<[TTok]>),
}

impl Policy {
    /// Parses and compiles in one step.
    ///
    /// # Errors
    /// As [`document::parse`].
    pub fn parse(
        id: impl Into<String>,
        text: &str,
        options: impl Into<ParseOptions>,
    ) -> Result<Arc<Self>, Error> {
        let doc = document::parse(text, options)?;
        Self::compile(id, &doc).map(Arc::new)
    }

    /// Compiles a parsed document.
    ///
    /// # Errors
    /// [`Error::Policy`] if the document holds a value that does not compile (only
    /// possible for documents built in code: [`document::parse`] checks them all).
    pub fn compile(id: impl Into<String>, doc: &PolicyDocument) -> Result<Self, Error> {
        let variables = doc.variables_enabled();
        let mut statements = Vec::with_capacity(doc.statements.len());
        for (si, s) in doc.statements.iter().enumerate() {
            let mut conditions = Vec::new();
            for block in &s.condition {
                for entry in &block.entries {
                    let c = Condition::compile(block, entry, variables).ok_or_else(|| {
                        Error::Policy(vec![Diagnostic {
                            code: AwsErrorCode::MalformedPolicyDocument,
                            aws_message: "Syntax errors in policy.".to_owned(),
                            detail: format!(
                                "a value of `{}` does not fit operator `{}`",
                                entry.key.value, block.operator.value
                            ),
                            path: format!(
                                "Statement[{si}].Condition.{}.{}",
                                block.operator.value, entry.key.value
                            ),
                            position: Position { line: 0, column: 0 },
                            span: entry.key.span,
                        }])
                    })?;
                    conditions.push(c);
                }
            }
            let principal = s.principal.as_ref().map(|p| {
                Box::new(PrincipalMatcher {
                    negated: p.negated,
                    entries: match &p.value {
                        PrincipalValue::Wildcard => Box::new([PEntry::Any]),
                        PrincipalValue::Map(m) => m
                            .iter()
                            .flat_map(|(ty, list)| {
                                list.items.iter().map(|v| principal_entry(*ty, &v.value))
                            })
                            .collect(),
                    },
                })
            });
            let mut flags = 0;
            let mut block = Vec::new();
            if let Some(sid) = &s.sid {
                flags |= HAS_SID;
                block.extend_from_slice(sid.value.as_bytes());
            }
            let actions_at = block.len();
            if s.action.negated {
                flags |= ACTIONS_NEGATED;
            }
            action::encode_all(
                s.action.values.items.iter().map(|a| a.value.as_str()),
                &mut block,
            );
            let resources_at = block.len();
            let mut rare = Vec::new();
            if let Some(r) = &s.resource {
                flags |= HAS_RESOURCES;
                if r.negated {
                    flags |= RESOURCES_NEGATED;
                }
                for v in &r.values.items {
                    match resource_pattern(&v.value, variables) {
                        ResourcePattern::Static(ArnPattern::Any) => block.push(RESOURCE_ANY),
                        ResourcePattern::Static(ArnPattern::Compact { text, wild, .. }) => {
                            block.push(RESOURCE_COMPACT);
                            block.push(wild);
                            block::put_bytes(&mut block, text.as_bytes());
                        }
                        other => rare.push(other),
                    }
                }
            }
            let offset = |n: usize| {
                u32::try_from(n).map_err(|_| {
                    Error::InvalidRequest(format!("statement {si} is too large to compile"))
                })
            };
            statements.push(CStatement {
                actions_at: offset(actions_at)?,
                resources_at: offset(resources_at)?,
                block: block.into_boxed_slice(),
                span: s.span,
                principal,
                conditions: conditions.into_boxed_slice(),
                rare: (!rare.is_empty()).then(|| Box::new(rare.into_boxed_slice())),
                effect: s.effect.value,
                flags,
            });
        }
        let uses_variables = statements.iter().any(CStatement::uses_variables);
        Ok(Self {
            id: id.into().into(),
            kind: doc.kind,
            statements: statements.into_boxed_slice(),
            uses_variables,
        })
    }

    /// The policy's id (a name or ARN chosen by the caller).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the policy was parsed as.
    #[must_use]
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The number of statements.
    #[must_use]
    pub fn len(&self) -> usize {
        self.statements.len()
    }

    /// Whether the policy has no statement.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Where statement `i` was in the policy text ([`crate::Position::of`] turns it into
    /// a line and column, as iam:SimulateCustomPolicy's `MatchedStatements` report).
    #[must_use]
    pub fn statement_span(&self, i: usize) -> Option<Span> {
        self.statements.get(i).map(|s| s.span)
    }

    /// The `Sid` of statement `i`.
    #[must_use]
    pub fn sid(&self, i: usize) -> Option<&str> {
        self.statements.get(i).and_then(CStatement::sid)
    }

    /// Whether evaluating this policy may substitute policy variables (and so allocate).
    #[must_use]
    pub fn uses_variables(&self) -> bool {
        self.uses_variables
    }

    pub(crate) fn statements(&self) -> &[CStatement] {
        &self.statements
    }

    /// Every request-context key that evaluating this policy can read,
    /// lowercased, sorted, once each: condition keys and the keys of policy
    /// variables (in `Resource`, `NotResource` and condition values). A
    /// context that holds only these keys (of those it would hold) gives
    /// every decision and match that the full context gives, which lets a
    /// caller skip building keys that nothing reads.
    #[must_use]
    pub fn context_keys(&self) -> Vec<&str> {
        let mut keys = Vec::new();
        for s in self.statements.iter() {
            s.context_keys(&mut keys);
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

fn principal_entry(ty: PrincipalType, v: &str) -> PEntry {
    match ty {
        PrincipalType::Aws if v == "*" => PEntry::Any,
        PrincipalType::Aws if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) => {
            PEntry::Account(v.into())
        }
        PrincipalType::Aws => match crate::arn::Arn::parse(v) {
            Some(a) if a.service == "iam" && a.resource == "root" => {
                PEntry::Account(a.account.into())
            }
            Some(_) => PEntry::Arn(v.into()),
            None => PEntry::UniqueId(v.into()),
        },
        PrincipalType::Service => PEntry::Service(v.into()),
        PrincipalType::Federated => PEntry::Federated(v.into()),
        PrincipalType::CanonicalUser => PEntry::Canonical(v.into()),
    }
}

fn resource_pattern(v: &str, variables: bool) -> ResourcePattern {
    let toks = if variables {
        pattern::parse_template(v, true)
    } else {
        pattern::parse_template_literal(v, true)
    };
    if pattern::has_vars(&toks) {
        ResourcePattern::Dynamic(toks.into_boxed_slice())
    } else {
        ResourcePattern::Static(ArnPattern::from_tokens(pattern::plain_tokens(toks)))
    }
}

impl ResourcePattern {
    pub(crate) fn matches(&self, resource: &str, arn: Option<&Arn<'_>>, req: &Request<'_>) -> bool {
        match self {
            Self::Static(p) => p.matches_parsed(resource, arn),
            Self::Dynamic(toks) => pattern::resolve(toks, req.context)
                .is_some_and(|t| ArnPattern::from_tokens(t).matches(resource)),
        }
    }
}

impl PEntry {
    fn grant(&self, p: &Principal) -> Option<Grant> {
        let kind_has_account = !matches!(p.kind, PrincipalKind::Service | PrincipalKind::Anonymous);
        match self {
            Self::Any => Some(Grant::Direct),
            Self::Account(a) => (kind_has_account && p.account == **a).then_some(Grant::Account),
            Self::Arn(a) => {
                if p.arn == **a {
                    Some(Grant::Direct)
                } else if p.role_arn.as_deref() == Some(&**a) {
                    Some(Grant::RoleArn)
                } else {
                    None
                }
            }
            Self::Service(s) => {
                (p.kind == PrincipalKind::Service && p.arn == **s).then_some(Grant::Direct)
            }
            Self::Federated(f) => {
                (p.federated_provider.as_deref() == Some(&**f)).then_some(Grant::Direct)
            }
            Self::Canonical(c) => {
                (p.canonical_user.as_deref() == Some(&**c)).then_some(Grant::Direct)
            }
            Self::UniqueId(u) => (p.unique_id.as_deref() == Some(&**u)).then_some(Grant::Direct),
        }
    }
}

impl PrincipalMatcher {
    /// Whether the element covers `p`, and how. `effect` and `bounded` (the caller
    /// has a permissions boundary) matter only for `NotPrincipal`.
    pub(crate) fn grant(&self, p: &Principal, effect: Effect, bounded: bool) -> Option<Grant> {
        if !self.negated {
            return self.entries.iter().filter_map(|e| e.grant(p)).max();
        }
        let covered = match effect {
            // The User Guide: with `Deny`, a principal with a permissions boundary is
            // always denied, whatever `NotPrincipal` lists.
            Effect::Deny => bounded || !self.excludes_all(p),
            Effect::Allow => !self.entries.iter().any(|e| e.grant(p).is_some()),
        };
        covered.then_some(Grant::Direct)
    }

    /// `NotPrincipal` with `Deny`: AWS checks every identity of the caller (the user or
    /// session and its account), so a caller escapes only when all are listed; this is
    /// why the User Guide says to list the account ARN as well.
    fn excludes_all(&self, p: &Principal) -> bool {
        let mut direct = false;
        let mut account = false;
        for e in &*self.entries {
            match e.grant(p) {
                Some(Grant::Direct) if matches!(e, PEntry::Any) => return true,
                Some(Grant::Direct | Grant::RoleArn) => direct = true,
                Some(Grant::Account) => account = true,
                None => {}
            }
        }
        match p.kind {
            PrincipalKind::Root => account,
            PrincipalKind::Service | PrincipalKind::Anonymous => direct,
            PrincipalKind::User | PrincipalKind::RoleSession | PrincipalKind::FederatedUser => {
                direct && account
            }
        }
    }
}

impl CStatement {
    /// The `Sid`, if the statement has one.
    pub(crate) fn sid(&self) -> Option<&str> {
        if self.flags & HAS_SID == 0 {
            return None;
        }
        self.block
            .get(..self.actions_at as usize)
            .and_then(|b| std::str::from_utf8(b).ok())
    }

    /// Whether the statement says `NotAction`.
    pub(crate) fn actions_negated(&self) -> bool {
        self.flags & ACTIONS_NEGATED != 0
    }

    fn resources_negated(&self) -> bool {
        self.flags & RESOURCES_NEGATED != 0
    }

    fn action_block(&self) -> &[u8] {
        self.block
            .get(self.actions_at as usize..self.resources_at as usize)
            .unwrap_or_default()
    }

    /// The `Action` (or `NotAction`) patterns, grouped by service (allocates: for
    /// the index and for debugging).
    pub(crate) fn actions(&self) -> Vec<ActionPattern<'_>> {
        action::decode(self.action_block())
    }

    fn rare(&self) -> &[ResourcePattern] {
        self.rare.as_deref().map_or(&[], |r| &**r)
    }

    fn context_keys<'s>(&'s self, out: &mut Vec<&'s str>) {
        for c in &self.conditions {
            c.context_keys(out);
        }
        for p in self.rare() {
            if let ResourcePattern::Dynamic(toks) = p {
                pattern::variable_keys(toks, out);
            }
        }
    }

    fn uses_variables(&self) -> bool {
        self.conditions.iter().any(Condition::uses_variables)
            || self
                .rare()
                .iter()
                .any(|p| matches!(p, ResourcePattern::Dynamic(_)))
    }

    pub(crate) fn action_matches(&self, action: &str, service: &str, name: &str) -> bool {
        action::matches_any(self.action_block(), action, service, name) != self.actions_negated()
    }

    /// `arn` is the request's resource, split once by the caller.
    pub(crate) fn resource_matches(&self, req: &Request<'_>, arn: Option<&Arn<'_>>) -> bool {
        if self.flags & HAS_RESOURCES == 0 {
            return true;
        }
        let listed = self.block_resources_match(arn)
            || self
                .rare()
                .iter()
                .any(|p| p.matches(req.resource, arn, req));
        listed != self.resources_negated()
    }

    /// Whether one of the resource patterns kept in the block covers the resource.
    fn block_resources_match(&self, arn: Option<&Arn<'_>>) -> bool {
        let mut rest = self
            .block
            .get(self.resources_at as usize..)
            .unwrap_or_default();
        while let Some((&tag, after)) = rest.split_first() {
            if tag == RESOURCE_ANY {
                return true;
            }
            let Some((&wild, after)) = after.split_first() else {
                return false;
            };
            let Some((text, next)) = block::get_bytes(after) else {
                return false;
            };
            if arn.is_some_and(|a| crate::arn::compact_text_matches(text, wild, a)) {
                return true;
            }
            rest = next;
        }
        false
    }

    /// The principal check of resource-based policies; identity-side statements have
    /// no principal element and always apply to their own principal.
    pub(crate) fn principal_grant(&self, p: &Principal, bounded: bool) -> Option<Grant> {
        match &self.principal {
            None => Some(Grant::Direct),
            Some(m) => m.grant(p, self.effect, bounded),
        }
    }

    /// Whether the statement applies to the request, and with which grant. The action
    /// is checked only when `check_action` (the index already did it otherwise).
    pub(crate) fn applies(
        &self,
        req: &Request<'_>,
        service: &str,
        name: &str,
        arn: Option<&Arn<'_>>,
        check_action: bool,
        bounded: bool,
    ) -> Option<Grant> {
        if check_action && !self.action_matches(req.action, service, name) {
            return None;
        }
        let grant = self.principal_grant(req.principal, bounded)?;
        if !self.resource_matches(req, arn) {
            return None;
        }
        self.conditions
            .iter()
            .all(|c| c.eval(req.context))
            .then_some(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_policy_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Policy>();
        assert_send_sync::<Arc<Policy>>();
    }

    #[test]
    fn context_keys_name_every_key_conditions_and_variables_read() {
        let p = Policy::parse(
            "p",
            r#"{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:*",
                 "Resource": "arn:aws:s3:::b/${aws:username}/*",
                 "Condition": {
                    "StringEqualsIfExists": {"AWS:SourceVpc": "vpc-1"},
                    "Null": {"aws:MultiFactorAuthAge": "false"},
                    "ForAnyValue:StringLike": {"aws:TagKeys": ["${aws:PrincipalTag/Team, 'x'}-*"]},
                    "ArnLike": {"aws:SourceArn": "arn:aws:sns:*:${aws:PrincipalAccount}:*"}}},
                {"Effect": "Deny", "Action": "s3:*",
                 "NotResource": ["arn:aws:s3:::c/${aws:userid}", "arn:aws:s3:::d/*"],
                 "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}},
                {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}
            ]}"#,
            PolicyKind::Identity,
        )
        .unwrap();
        assert_eq!(
            p.context_keys(),
            [
                "aws:currenttime",
                "aws:multifactorauthage",
                "aws:principalaccount",
                "aws:principaltag/team",
                "aws:sourcearn",
                "aws:sourcevpc",
                "aws:tagkeys",
                "aws:userid",
                "aws:username",
            ]
        );
        let plain = Policy::parse(
            "q",
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#,
            PolicyKind::Identity,
        )
        .unwrap();
        assert!(plain.context_keys().is_empty());
    }

    #[test]
    fn not_principal_needs_account_listed() {
        let user = Principal::new(PrincipalKind::User, "arn:aws:iam::111122223333:user/alice");
        let only_user = PrincipalMatcher {
            negated: true,
            entries: Box::new([PEntry::Arn("arn:aws:iam::111122223333:user/alice".into())]),
        };
        assert!(only_user.grant(&user, Effect::Deny, false).is_some());
        assert!(only_user.grant(&user, Effect::Allow, false).is_none());
        let both = PrincipalMatcher {
            negated: true,
            entries: Box::new([
                PEntry::Arn("arn:aws:iam::111122223333:user/alice".into()),
                PEntry::Account("111122223333".into()),
            ]),
        };
        assert!(both.grant(&user, Effect::Deny, false).is_none());
        assert!(both.grant(&user, Effect::Deny, true).is_some());
    }
}
