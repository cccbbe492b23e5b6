//! A deliberately naive reference evaluator: straight from the IAM User Guide's rules
//! to code, with no index, no precompilation and string matching by plain recursion.
//! It evaluates the wire model ([`PolicyDocument`]) directly, re-reading every value
//! on every request, so that it shares as little as possible with the engine (only the
//! document parser and the request [`Context`]). Tests and benchmarks run both and
//! require the same decision.

use crate::Decision;
use crate::condition::{Cidr, Op, Qualifier, decode_base64, parse_date, parse_number};
use crate::context::{Context, ContextValue, Principal, PrincipalKind, Request};
use crate::document::{
    ConditionOperatorBlock, Effect, PolicyDocument, PolicyKind, PrincipalType, PrincipalValue,
    Statement,
};

/// A principal's policies, as documents.
#[derive(Debug, Default, Clone)]
pub struct PolicySet<'a> {
    /// Identity-based policies.
    pub identity: Vec<&'a PolicyDocument>,
    /// The permissions boundary.
    pub boundary: Option<&'a PolicyDocument>,
    /// Session policies (`Some` = the session was given session policies).
    pub session: Option<Vec<&'a PolicyDocument>>,
    /// SCP levels, organisation root first.
    pub scps: Vec<Vec<&'a PolicyDocument>>,
}

/// One pattern character.
#[derive(Clone, Copy, PartialEq)]
enum P {
    Lit(char),
    Star,
    One,
}

fn glob(p: &[P], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some((P::Star, rest)) => (0..=t.len()).any(|i| glob(rest, &t[i..])),
        Some((P::One, rest)) => !t.is_empty() && glob(rest, &t[1..]),
        Some((P::Lit(c), rest)) => t.first() == Some(c) && glob(rest, &t[1..]),
    }
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// Reads a pattern: `*`/`?` are wildcards when `wild`; `${...}` is substituted when
/// `vars`. `None` when a variable has no value (matches nothing).
fn pattern(s: &str, wild: bool, vars: bool, ctx: &Context) -> Option<Vec<P>> {
    let mut out = Vec::new();
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        if vars
            && cs[i] == '$'
            && cs.get(i + 1) == Some(&'{')
            && let Some(end) = cs[i..].iter().position(|c| *c == '}').map(|e| e + i)
        {
            let inner: String = cs[i + 2..end].iter().collect();
            if let Some(sub) = substitute(&inner, ctx) {
                match sub {
                    Ok(text) => out.extend(text.chars().map(P::Lit)),
                    Err(()) => return None,
                }
                i = end + 1;
                continue;
            }
        }
        out.push(match cs[i] {
            '*' if wild => P::Star,
            '?' if wild => P::One,
            c => P::Lit(c),
        });
        i += 1;
    }
    Some(out)
}

/// `Some(Ok(text))`: substitute; `Some(Err)`: no value; `None`: not a variable.
fn substitute(inner: &str, ctx: &Context) -> Option<Result<String, ()>> {
    match inner {
        "*" | "?" | "$" => return Some(Ok(inner.to_owned())),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (k.trim(), Some(d.replace("''", "'")))
        }
        None => (inner.trim(), None),
    };
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    match (ctx.get(key), default) {
        (Some([v]), _) => Some(Ok(v.text().to_owned())),
        (_, Some(d)) => Some(Ok(d)),
        _ => Some(Err(())),
    }
}

fn action_matches(p: &str, action: &str) -> bool {
    let (p, a) = (p.to_lowercase(), action.to_lowercase());
    if p == "*" {
        return true;
    }
    match (p.split_once(':'), a.split_once(':')) {
        (Some((ps, pn)), Some((as_, an))) if !ps.contains(['*', '?']) => {
            ps == as_
                && glob(
                    &pattern(pn, true, false, &Context::new()).unwrap_or_default(),
                    &chars(an),
                )
        }
        _ => glob(
            &pattern(&p, true, false, &Context::new()).unwrap_or_default(),
            &chars(&a),
        ),
    }
}

fn split6(p: &[P]) -> Option<Vec<Vec<P>>> {
    let mut parts = vec![Vec::new()];
    for c in p {
        if *c == P::Lit(':') && parts.len() < 6 {
            parts.push(Vec::new());
        } else {
            parts.last_mut()?.push(*c);
        }
    }
    (parts.len() == 6 && parts[0] == [P::Lit('a'), P::Lit('r'), P::Lit('n')]).then_some(parts)
}

fn arn_matches(p: &[P], text: &str) -> bool {
    if p == [P::Star] {
        return true;
    }
    match split6(p) {
        Some(pp) => {
            let tp: Vec<&str> = text.splitn(6, ':').collect();
            tp.len() == 6
                && tp[0] == "arn"
                && pp.iter().zip(&tp).skip(1).all(|(p, t)| glob(p, &chars(t)))
        }
        None => glob(p, &chars(text)),
    }
}

/// How a principal element covers the caller: 3 = itself, 2 = its role, 1 = its account.
fn principal_level(ty: PrincipalType, v: &str, p: &Principal) -> u8 {
    let has_account = !matches!(p.kind, PrincipalKind::Service | PrincipalKind::Anonymous);
    match ty {
        PrincipalType::Aws => {
            if v == "*" {
                3
            } else if v.len() == 12 && v.chars().all(|c| c.is_ascii_digit()) {
                u8::from(has_account && p.account == v)
            } else if v.starts_with("arn:")
                && v.ends_with(":root")
                && v.split(':').nth(2) == Some("iam")
            {
                u8::from(has_account && v.split(':').nth(4) == Some(p.account.as_str()))
            } else if v == p.arn {
                3
            } else if p.role_arn.as_deref() == Some(v) {
                2
            } else if p.unique_id.as_deref() == Some(v) {
                3
            } else {
                0
            }
        }
        PrincipalType::Service => 3 * u8::from(p.kind == PrincipalKind::Service && p.arn == v),
        PrincipalType::Federated => 3 * u8::from(p.federated_provider.as_deref() == Some(v)),
        PrincipalType::CanonicalUser => 3 * u8::from(p.canonical_user.as_deref() == Some(v)),
    }
}

/// 0 = does not apply to the caller; otherwise as [`principal_level`].
fn statement_principal(s: &Statement, p: &Principal, bounded: bool) -> u8 {
    let Some(el) = &s.principal else { return 3 };
    let levels: Vec<(u8, bool)> = match &el.value {
        PrincipalValue::Wildcard => vec![(3, true)],
        PrincipalValue::Map(m) => m
            .iter()
            .flat_map(|(ty, l)| {
                l.items.iter().map(move |v| {
                    (
                        principal_level(*ty, &v.value, p),
                        *ty == PrincipalType::Aws && v.value == "*",
                    )
                })
            })
            .collect(),
    };
    if !el.negated {
        return levels.iter().map(|(l, _)| *l).max().unwrap_or(0);
    }
    let star = levels.iter().any(|(_, s)| *s);
    let direct = levels.iter().any(|(l, _)| *l >= 2);
    let account = levels.iter().any(|(l, _)| *l == 1);
    let excluded = if s.effect.value == Effect::Allow {
        // Allow + NotPrincipal: a caller any of whose identities is listed is left out.
        levels.iter().any(|(l, _)| *l > 0)
    } else {
        // Deny + NotPrincipal: a caller escapes only if all its identities are listed,
        // and never when it has a permissions boundary.
        !bounded
            && (star
                || match p.kind {
                    PrincipalKind::Root => account,
                    PrincipalKind::Service | PrincipalKind::Anonymous => direct,
                    _ => direct && account,
                })
    };
    if excluded { 0 } else { 3 }
}

fn value_matches(op: Op, policy_value: &str, v: &ContextValue, vars: bool, ctx: &Context) -> bool {
    use Op::*;
    let text = v.text();
    match op {
        StringEquals | StringNotEquals => {
            pattern(policy_value, false, vars, ctx).is_some_and(|p| glob(&p, &chars(text)))
        }
        StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
            pattern(policy_value, false, vars, ctx).is_some_and(|p| {
                let s: String = p
                    .iter()
                    .map(|c| if let P::Lit(c) = c { *c } else { '*' })
                    .collect();
                s.to_lowercase() == text.to_lowercase()
            })
        }
        StringLike | StringNotLike => {
            pattern(policy_value, true, vars, ctx).is_some_and(|p| glob(&p, &chars(text)))
        }
        ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
            pattern(policy_value, true, vars, ctx).is_some_and(|p| arn_matches(&p, text))
        }
        NumericEquals
        | NumericNotEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => {
            let (Some(a), Some(b)) = (parse_number(text), parse_number(policy_value)) else {
                return false;
            };
            match op {
                NumericEquals | NumericNotEquals => a == b,
                NumericLessThan => a < b,
                NumericLessThanEquals => a <= b,
                NumericGreaterThan => a > b,
                _ => a >= b,
            }
        }
        DateEquals
        | DateNotEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => {
            let (Some(a), Some(b)) = (parse_date(text), parse_date(policy_value)) else {
                return false;
            };
            match op {
                DateEquals | DateNotEquals => a == b,
                DateLessThan => a < b,
                DateLessThanEquals => a <= b,
                DateGreaterThan => a > b,
                _ => a >= b,
            }
        }
        Bool => {
            let p = policy_value.to_lowercase();
            (p == "true" || p == "false") && text.to_lowercase() == p
        }
        BinaryEquals => {
            decode_base64(policy_value).is_some_and(|p| Some(p.as_slice()) == v.binary())
        }
        IpAddress | NotIpAddress => {
            let (Some(c), Ok(ip)) = (Cidr::parse(policy_value), text.parse()) else {
                return false;
            };
            c.contains(ip)
        }
        Null => false,
    }
}

fn condition_holds(block: &ConditionOperatorBlock, vars: bool, ctx: &Context) -> bool {
    let o = block.parsed;
    block.entries.iter().all(|e| {
        let values: Vec<&ContextValue> = ctx
            .get(&e.key.value)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        let policy_values: Vec<&str> = e.values.iter().map(|v| v.value.as_text()).collect();
        if o.op == Op::Null {
            return policy_values
                .iter()
                .any(|p| (p.to_lowercase() == "true") == values.is_empty());
        }
        if values.is_empty() {
            if o.if_exists {
                return true;
            }
            return match o.qualifier {
                Qualifier::ForAllValues => true,
                Qualifier::ForAnyValue => false,
                Qualifier::None => o.op.negated(),
            };
        }
        // For one request value: does it satisfy the operator?
        let satisfies = |v: &ContextValue| {
            let any = policy_values
                .iter()
                .any(|p| value_matches(o.op, p, v, vars, ctx));
            if o.op.negated() { !any } else { any }
        };
        match o.qualifier {
            Qualifier::ForAllValues => values.iter().all(|v| satisfies(v)),
            Qualifier::ForAnyValue => values.iter().any(|v| satisfies(v)),
            Qualifier::None if o.op.negated() => values.iter().all(|v| satisfies(v)),
            Qualifier::None => values.iter().any(|v| satisfies(v)),
        }
    })
}

/// 0 if the statement does not apply; otherwise its principal level (3 for
/// identity-side statements).
fn applies(doc: &PolicyDocument, s: &Statement, req: &Request<'_>, bounded: bool) -> u8 {
    let vars = doc.variables_enabled();
    let action = s
        .action
        .values
        .items
        .iter()
        .any(|a| action_matches(&a.value, req.action))
        != s.action.negated;
    if !action {
        return 0;
    }
    let resource = match &s.resource {
        None => true,
        Some(r) => {
            r.values.items.iter().any(|p| {
                pattern(&p.value, true, vars, req.context)
                    .is_some_and(|p| arn_matches(&p, req.resource))
            }) != r.negated
        }
    };
    if !resource
        || !s
            .condition
            .iter()
            .all(|b| condition_holds(b, vars, req.context))
    {
        return 0;
    }
    statement_principal(s, req.principal, bounded)
}

/// (any deny, best allow level) over some documents.
fn scan(docs: &[&PolicyDocument], req: &Request<'_>, bounded: bool) -> (bool, u8) {
    let mut deny = false;
    let mut allow = 0;
    for d in docs {
        for s in &d.statements {
            let l = applies(d, s, req, bounded);
            if l > 0 {
                match s.effect.value {
                    Effect::Deny => deny = true,
                    Effect::Allow => allow = allow.max(l),
                }
            }
        }
    }
    (deny, allow)
}

/// The decision, computed the long way.
#[must_use]
pub fn authorize(
    set: &PolicySet<'_>,
    resource: Option<&PolicyDocument>,
    req: &Request<'_>,
) -> Decision {
    let kind = req.principal.kind;
    let bounded = set.boundary.is_some();
    let has_identity = matches!(
        kind,
        PrincipalKind::User | PrincipalKind::RoleSession | PrincipalKind::FederatedUser
    );
    let (id_deny, id_allow) = if has_identity {
        scan(&set.identity, req, bounded)
    } else {
        (false, 0)
    };
    let (b_deny, b_allow) = match set.boundary {
        Some(b) if has_identity => scan(&[b], req, bounded),
        _ => (false, 1),
    };
    let (s_deny, s_allow) = match &set.session {
        Some(s) if has_identity => scan(s, req, bounded),
        // A GetFederationToken session without session policies has no permissions.
        None if kind == PrincipalKind::FederatedUser => (false, 0),
        _ => (false, 1),
    };
    let scp: Vec<(bool, u8)> = set
        .scps
        .iter()
        .map(|level| scan(level, req, bounded))
        .collect();
    let resource_docs: Vec<&PolicyDocument> = resource.into_iter().collect();
    let (r_deny, r_allow) = scan(&resource_docs, req, bounded);

    // 1. Explicit deny anywhere.
    if id_deny || b_deny || s_deny || r_deny || scp.iter().any(|(d, _)| *d) {
        return Decision::ExplicitDeny;
    }
    // 2. Every SCP level must allow.
    if scp.iter().any(|(_, a)| *a == 0) {
        return Decision::ImplicitDeny;
    }
    let same_account = req
        .resource_account
        .is_none_or(|a| a == req.principal.account);
    let trust = resource.is_some_and(|r| r.kind == PolicyKind::Trust);
    let limits = b_allow > 0 && s_allow > 0;
    let identity_ok = id_allow > 0 && limits;
    let allowed = match kind {
        PrincipalKind::Root => (same_account && !trust) || r_allow > 0,
        PrincipalKind::Service | PrincipalKind::Anonymous => r_allow > 0,
        _ => {
            if trust && r_allow == 0 {
                false
            } else if !same_account {
                r_allow > 0 && identity_ok
            } else {
                match r_allow {
                    3 => true,
                    2 => limits,
                    _ => identity_ok,
                }
            }
        }
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}
