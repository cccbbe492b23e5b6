//! The benchmark workloads, shared by `authorize.rs` and `memory.rs`: real AWS
//! managed policies from `data/`, and requests generated from their statements with a
//! fixed seed, so that every run (and every machine) measures the same requests.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use portcullis_policy::document::{ParseOptions, PolicyDocument, PolicyKind, SizeQuota};
use portcullis_policy::{
    Context, ContextEntry, ContextType, Decision, Policy, PolicySet, Principal, PrincipalKind,
    Request, authorize,
};
use serde_json::Value;

/// The ten managed policies of workload (a): 99 statements between them, with
/// wildcard actions and resources, 44 conditions (`StringEquals`, `StringLike`,
/// `StringEqualsIgnoreCase`, `Null`, `Bool`, `ForAnyValue:`/`ForAllValues:`) and three
/// `Deny` statements. None uses policy variables, `NotAction` or `?`.
pub const PRINCIPAL_POLICIES: [&str; 10] = [
    "AmazonRedshiftDataFullAccess",
    "AmazonGuardDutyMalwareProtectionServiceRolePolicy",
    "AWSCleanRoomsFullAccessNoQuerying",
    "AmazonElastiCacheFullAccess",
    "CloudWatchEventsFullAccess",
    "AmazonMSKFullAccess",
    "AWSCloud9User",
    "AmazonECS_FullAccess",
    "AmazonAppFlowFullAccess",
    "AmazonFSxFullAccess",
];

/// The principal every request comes from.
pub const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

const ACCOUNT: &str = "111122223333";

fn data_path(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(file)
}

/// One AWS managed policy: its name, its document as JSON and as compact text.
#[derive(Debug, Clone)]
pub struct Managed {
    pub name: String,
    pub doc: Value,
    pub text: String,
}

/// All 1,452 managed policies, in the file's order.
pub fn managed_policies() -> Vec<Managed> {
    let path = data_path("aws-managed-policies/aws-managed-policies.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    data["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let doc = match &p["Document"] {
                Value::String(s) => serde_json::from_str(s).unwrap(),
                v => v.clone(),
            };
            Managed {
                name: p["PolicyName"].as_str().unwrap().to_owned(),
                text: serde_json::to_string(&doc).unwrap(),
                doc,
            }
        })
        .collect()
}

/// Managed policies are parsed as identity policies without the size quota (a few
/// AWS managed documents are above the customer-managed limit).
pub fn options() -> ParseOptions {
    ParseOptions {
        kind: PolicyKind::Identity,
        quota: Some(SizeQuota::Unlimited),
    }
}

/// Service prefix → action names, from the action catalog.
pub fn catalog() -> BTreeMap<String, Vec<String>> {
    let path = data_path("aws-action-catalog/aws-action-catalog.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    data.as_object()
        .unwrap()
        .iter()
        .map(|(service, v)| {
            let actions = v["actions"]
                .as_object()
                .map(|a| a.keys().cloned().collect())
                .unwrap_or_default();
            (service.clone(), actions)
        })
        .collect()
}

/// `*`/`?` matching, ASCII case-insensitive (for picking catalog actions and for the
/// Cedar action groups; the engine has its own).
pub fn glob_ci(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some((b'?', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => {
                t.first().is_some_and(|x| x.eq_ignore_ascii_case(c)) && go(rest, &t[1..])
            }
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// What a request of workload (a) exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Allowed by one of the first five attached policies.
    AllowEarly,
    /// Allowed only by one of the last five.
    AllowLate,
    /// Denied by a `Deny` statement.
    ExplicitDeny,
    /// Nothing allows it (unrelated action, resource outside the pattern, or a
    /// condition that does not hold).
    ImplicitDeny,
}

/// One generated request, owning its data.
#[derive(Debug, Clone)]
pub struct Req {
    pub action: String,
    pub resource: String,
    pub entries: Vec<ContextEntry>,
    pub context: Context,
    pub kind: Kind,
}

impl Req {
    pub fn request<'a>(&'a self, principal: &'a Principal) -> Request<'a> {
        Request {
            principal,
            action: &self.action,
            resource: &self.resource,
            resource_account: None,
            context: &self.context,
        }
    }
}

/// A principal's policies, compiled and as documents (for the reference evaluator),
/// and the requests to decide.
#[derive(Debug)]
pub struct Workload {
    pub policies: Vec<Managed>,
    pub compiled: Vec<Arc<Policy>>,
    pub documents: Vec<PolicyDocument>,
    pub set: PolicySet,
    pub principal: Principal,
    pub requests: Vec<Req>,
}

impl Workload {
    fn new(policies: Vec<Managed>) -> Self {
        let compiled: Vec<Arc<Policy>> = policies
            .iter()
            .map(|m| Policy::parse(m.name.clone(), &m.text, options()).unwrap())
            .collect();
        let documents = policies
            .iter()
            .map(|m| portcullis_policy::parse(&m.text, options()).unwrap())
            .collect();
        let set = compiled
            .iter()
            .fold(PolicySet::builder(), |b, p| b.identity(p.clone()))
            .build()
            .unwrap();
        Self {
            policies,
            compiled,
            documents,
            set,
            principal: Principal::new(PrincipalKind::User, ALICE),
            requests: Vec::new(),
        }
    }

    /// The number of statements over all policies.
    pub fn statements(&self) -> usize {
        self.compiled.iter().map(|p| p.len()).sum()
    }

    fn classify(&self, action: &str, resource: &str, context: &Context) -> Kind {
        let req = Request {
            principal: &self.principal,
            action,
            resource,
            resource_account: None,
            context,
        };
        let o = authorize(&self.set, None, &req);
        match o.decision {
            Decision::ExplicitDeny => Kind::ExplicitDeny,
            Decision::ImplicitDeny => Kind::ImplicitDeny,
            Decision::Allow => {
                let first = o.deciding.iter().next().unwrap();
                if (first.policy as usize) < self.compiled.len() / 2 {
                    Kind::AllowEarly
                } else {
                    Kind::AllowLate
                }
            }
        }
    }
}

/// Workload (a): the ten [`PRINCIPAL_POLICIES`] and 1,000 distinct requests, 250 of
/// each [`Kind`].
pub fn principal_workload(all: &[Managed], catalog: &BTreeMap<String, Vec<String>>) -> Workload {
    let policies: Vec<Managed> = PRINCIPAL_POLICIES
        .iter()
        .map(|n| all.iter().find(|m| m.name == *n).unwrap().clone())
        .collect();
    let mut w = Workload::new(policies);
    let mut g = Generator::new(catalog, 0x5eed_0001);
    let quota = 250;
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut seen = HashSet::new();
    let statements = statements_of(&w.policies);
    for _round in 0..20_000 {
        if counts.values().sum::<usize>() == 4 * quota {
            break;
        }
        // One request from a random statement, or an unrelated one.
        let (action, resource, entries) = if g.rng.chance(15) {
            g.unrelated()
        } else {
            let s = g.rng.below(statements.len());
            g.request_for(&statements[s])
        };
        let context = Context::from_entries(&entries).unwrap();
        let kind = w.classify(&action, &resource, &context);
        let n = counts.entry(kind).or_default();
        if *n >= quota || !seen.insert(key(&action, &resource, &entries)) {
            continue;
        }
        *n += 1;
        w.requests.push(Req {
            action,
            resource,
            entries,
            context,
            kind,
        });
    }
    assert_eq!(
        w.requests.len(),
        4 * quota,
        "workload generation fell short: {counts:?}"
    );
    g.rng.shuffle(&mut w.requests);
    w
}

/// Workload (c): managed policies in the file's order (those without policy
/// variables or blanket denies), cut at exactly `statements` statements, and one
/// request per statement.
pub fn many_statements_workload(
    all: &[Managed],
    catalog: &BTreeMap<String, Vec<String>>,
    statements: usize,
) -> Workload {
    let mut policies = Vec::new();
    let mut total = 0;
    for m in all {
        if total == statements {
            break;
        }
        if m.text.contains("${") || m.text.contains("NotAction") || blanket_deny(&m.doc) {
            continue;
        }
        let mut m = m.clone();
        let list = statement_list(&m.doc);
        let take = list.len().min(statements - total);
        if take < list.len() {
            m.doc["Statement"] = Value::Array(list[..take].to_vec());
            m.text = serde_json::to_string(&m.doc).unwrap();
        }
        total += take;
        policies.push(m);
    }
    let mut w = Workload::new(policies);
    assert_eq!(w.statements(), statements);
    let mut g = Generator::new(catalog, 0x5eed_0002);
    let mut seen = HashSet::new();
    let statements = statements_of(&w.policies);
    let mut i = 0;
    while w.requests.len() < statements.len() {
        let s = &statements[i % statements.len()];
        i += 1;
        let (action, resource, entries) = g.request_for(s);
        if !seen.insert(key(&action, &resource, &entries)) {
            continue;
        }
        let context = Context::from_entries(&entries).unwrap();
        let kind = w.classify(&action, &resource, &context);
        w.requests.push(Req {
            action,
            resource,
            entries,
            context,
            kind,
        });
    }
    g.rng.shuffle(&mut w.requests);
    w
}

fn blanket_deny(doc: &Value) -> bool {
    statement_list(doc).iter().any(|s| {
        s["Effect"] == "Deny"
            && strings(&s["Action"])
                .iter()
                .any(|a| a == "*" || !a.contains(':'))
    })
}

fn key(action: &str, resource: &str, entries: &[ContextEntry]) -> String {
    let mut k = format!("{action}|{resource}");
    for e in entries {
        k.push('|');
        k.push_str(&e.key);
        k.push('=');
        k.push_str(&e.values.join(","));
    }
    k
}

/// A statement's `Statement` element as a list.
pub fn statement_list(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        v => vec![v.clone()],
    }
}

fn statements_of(policies: &[Managed]) -> Vec<Value> {
    policies
        .iter()
        .flat_map(|m| statement_list(&m.doc))
        .collect()
}

/// A string or an array of strings, as a list.
pub fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

/// Turns statements into concrete requests that satisfy them most of the time.
struct Generator<'a> {
    catalog: &'a BTreeMap<String, Vec<String>>,
    rng: Rng,
    /// The context type given to each key (lowercased) so far: one type per key
    /// across the workload, as a real service would send.
    types: BTreeMap<String, ContextType>,
}

impl<'a> Generator<'a> {
    fn new(catalog: &'a BTreeMap<String, Vec<String>>, seed: u64) -> Self {
        Self {
            catalog,
            rng: Rng::new(seed),
            types: BTreeMap::new(),
        }
    }

    fn token(&mut self) -> String {
        format!("r{:x}", self.rng.next() % 0x10_0000)
    }

    /// The context keys every request carries, whatever the policies say.
    fn base_context(&mut self) -> Vec<ContextEntry> {
        let e = |k: &str, ty, v: &str| ContextEntry {
            key: k.to_owned(),
            ty,
            values: vec![v.to_owned()],
        };
        let ip = format!("203.0.113.{}", self.rng.below(250));
        vec![
            e("aws:SourceIp", ContextType::Ip, &ip),
            e("aws:CurrentTime", ContextType::Date, "2026-11-28T12:00:00Z"),
            e("aws:SecureTransport", ContextType::Boolean, "true"),
            e("aws:username", ContextType::String, "alice"),
            e("aws:PrincipalTag/team", ContextType::String, "data"),
            e("aws:RequestedRegion", ContextType::String, "us-east-1"),
        ]
    }

    fn action_for(&mut self, pattern: &str) -> String {
        if !pattern.contains(['*', '?']) {
            return pattern.to_owned();
        }
        let (service, name) = pattern.split_once(':').unwrap_or(("*", pattern));
        let candidates: Vec<String> = if service.contains(['*', '?']) {
            self.catalog
                .iter()
                .filter(|(s, _)| glob_ci(service, s))
                .flat_map(|(s, names)| names.iter().map(move |n| format!("{s}:{n}")))
                .filter(|a| glob_ci(pattern, a))
                .collect()
        } else {
            self.catalog
                .get(&service.to_ascii_lowercase())
                .map(|names| {
                    names
                        .iter()
                        .filter(|n| glob_ci(name, n))
                        .map(|n| format!("{service}:{n}"))
                        .collect()
                })
                .unwrap_or_default()
        };
        if candidates.is_empty() {
            pattern.replace('*', "Describe").replace('?', "X")
        } else {
            self.rng.pick(&candidates).clone()
        }
    }

    fn resource_for(&mut self, pattern: &str, service: &str) -> String {
        if pattern == "*" {
            let t = self.token();
            return format!("arn:aws:{service}:us-east-1:{ACCOUNT}:thing/{t}");
        }
        let parts: Vec<&str> = pattern.splitn(6, ':').collect();
        let fill = |i: usize, p: &str| -> String {
            match (i, p) {
                (1, "*") => "aws".to_owned(),
                (2, "*") => service.to_owned(),
                (3, "*") => "us-east-1".to_owned(),
                (4, "*") => ACCOUNT.to_owned(),
                _ => p.to_owned(),
            }
        };
        let mut out: Vec<String> = parts.iter().enumerate().map(|(i, p)| fill(i, p)).collect();
        if let Some(last) = out.last_mut() {
            let mut s = String::new();
            for c in last.chars() {
                match c {
                    '*' => s.push_str(&format!("r{:x}", self.rng.next() % 0x1_0000)),
                    '?' => s.push('q'),
                    c => s.push(c),
                }
            }
            *last = s;
        }
        out.join(":")
    }

    /// A value that matches a string pattern (`*` filled in).
    fn value_for(&mut self, pattern: &str) -> String {
        let filler = self.token();
        pattern.replace('*', &filler).replace('?', "q")
    }

    fn set(
        &mut self,
        entries: &mut Vec<ContextEntry>,
        key: &str,
        ty: ContextType,
        values: Vec<String>,
    ) {
        let lower = key.to_ascii_lowercase();
        let ty = *self.types.entry(lower.clone()).or_insert(ty);
        let values = if ty.is_list() {
            values
        } else {
            values.into_iter().take(1).collect()
        };
        entries.retain(|e| e.key.to_ascii_lowercase() != lower);
        entries.push(ContextEntry {
            key: key.to_owned(),
            ty,
            values,
        });
    }

    fn unset(entries: &mut Vec<ContextEntry>, key: &str) {
        let lower = key.to_ascii_lowercase();
        entries.retain(|e| e.key.to_ascii_lowercase() != lower);
    }

    /// A request for an action no workload policy names.
    fn unrelated(&mut self) -> (String, String, Vec<ContextEntry>) {
        let services = ["dynamodb", "s3", "sqs", "lambda", "sts", "route53", "iam"];
        let service = *self.rng.pick(&services);
        let action = self.action_for(&format!("{service}:*"));
        let resource = self.resource_for("*", service);
        (action, resource, self.base_context())
    }

    /// A request built from one statement: one of its actions, a resource inside one
    /// of its resource patterns (sometimes outside), and a context that meets each
    /// condition 85% of the time.
    fn request_for(&mut self, s: &Value) -> (String, String, Vec<ContextEntry>) {
        let actions = strings(&s["Action"]);
        let action = if actions.is_empty() {
            // NotAction: anything else.
            self.action_for("s3:*")
        } else {
            let a = self.rng.pick(&actions).clone();
            self.action_for(&a)
        };
        let service = action
            .split(':')
            .next()
            .unwrap_or("s3")
            .to_ascii_lowercase();
        let resources = strings(&s["Resource"]);
        let resource = if resources.is_empty() || self.rng.chance(5) {
            self.resource_for("*", &service)
        } else {
            let r = self.rng.pick(&resources).clone();
            self.resource_for(&r, &service)
        };
        let mut entries = self.base_context();
        if let Value::Object(ops) = &s["Condition"] {
            for (op, keys) in ops {
                let Value::Object(keys) = keys else { continue };
                for (key, values) in keys {
                    let values = strings(values);
                    let meet = self.rng.chance(85);
                    self.condition(&mut entries, op, key, &values, meet);
                }
            }
        }
        (action, resource, entries)
    }

    fn condition(
        &mut self,
        entries: &mut Vec<ContextEntry>,
        op: &str,
        key: &str,
        values: &[String],
        meet: bool,
    ) {
        let (qualifier, base) = match op.split_once(':') {
            Some((q, b)) => (q, b),
            None => ("", op),
        };
        let base = base.strip_suffix("IfExists").unwrap_or(base);
        let pick = |g: &mut Self| g.rng.pick(values).clone();
        let other = |g: &mut Self| format!("other-{}", g.token());
        if base == "Null" {
            let absent = values
                .first()
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            if absent == meet {
                Self::unset(entries, key);
            } else {
                let v = self.token();
                self.set(entries, key, ContextType::String, vec![v]);
            }
            return;
        }
        if base == "Bool" {
            let want = values
                .first()
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            let v = if meet { want } else { !want };
            self.set(entries, key, ContextType::Boolean, vec![v.to_string()]);
            return;
        }
        let ty = match base {
            b if b.starts_with("Numeric") => ContextType::Numeric,
            b if b.starts_with("Date") => ContextType::Date,
            "IpAddress" | "NotIpAddress" => ContextType::Ip,
            "BinaryEquals" => ContextType::Binary,
            _ => ContextType::String,
        };
        if ty != ContextType::String {
            // Not in workload (a); for (c) a typed value that may or may not match.
            let v = match ty {
                ContextType::Numeric => "42".to_owned(),
                ContextType::Date => "2026-11-28T12:00:00Z".to_owned(),
                ContextType::Ip => "10.0.0.1".to_owned(),
                _ => "aGVsbG8=".to_owned(),
            };
            self.set(entries, key, ty, vec![v]);
            return;
        }
        let negated = base.contains("Not");
        let positive = meet != negated;
        let matching = |g: &mut Self| {
            let p = pick(g);
            let v = if base.contains("Like") {
                g.value_for(&p)
            } else {
                p
            };
            if base.contains("IgnoreCase") {
                v.to_ascii_uppercase()
            } else {
                v
            }
        };
        match qualifier {
            "ForAnyValue" => {
                let vs = if positive {
                    vec![matching(self), other(self)]
                } else {
                    vec![other(self)]
                };
                self.set(entries, key, ContextType::StringList, vs);
            }
            "ForAllValues" => {
                let vs = if positive {
                    let n = 1 + self.rng.below(values.len().min(2));
                    (0..n).map(|_| matching(self)).collect()
                } else {
                    vec![matching(self), other(self)]
                };
                self.set(entries, key, ContextType::StringList, vs);
            }
            _ => {
                if positive {
                    let v = matching(self);
                    self.set(entries, key, ContextType::String, vec![v]);
                } else if self.rng.chance(50) || negated {
                    let v = other(self);
                    self.set(entries, key, ContextType::String, vec![v]);
                } else {
                    Self::unset(entries, key);
                }
            }
        }
    }
}
