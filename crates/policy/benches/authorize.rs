//! The policy engine's figures for BENCHMARKS.md (issue 2, "Must show"):
//!
//! - (a) workload (a): a principal with ten real AWS managed policies (99 statements,
//!   wildcards, conditions, three `Deny`s) deciding 1,000 distinct requests, 250 each
//!   allowed by an early policy, allowed only by a late one, explicitly denied and
//!   implicitly denied: a per-decision latency histogram over 1M decisions, decisions
//!   per second on one core, and the naive reference evaluator on the same requests;
//! - (b) the same policies and requests in Cedar (`cedar-policy`), decisions checked
//!   equal, and the ratio;
//! - (c) 1,000 statements (managed policies cut at 1,000) on one principal;
//! - (d) parse + compile of a 6 KB policy;
//! - then the same hot paths under criterion (batch means, for regressions).
//!
//! (e), memory, is `benches/memory.rs` (it needs a counting global allocator).
//!
//! # How one decision is timed
//!
//! Each decision sits between two `Instant::now()` calls (the vDSO clock, TSC-backed
//! here: ~20-30 ns per pair). Before the runs, 1M empty pairs are timed and their
//! median is the timer overhead, subtracted from every sample (saturating at zero).
//! Requests are decided in a fixed shuffled order, cycling through the 1,000, so
//! that no decision sees the previous one's request. Throughput is measured
//! separately, without the timer: a tight loop over the same requests, decisions
//! divided by elapsed time, on this one thread.
//!
//! Run: `cargo bench -p portcullis-policy --bench authorize` (criterion's part can be
//! filtered as usual: `-- 'a/'`, or skipped with `-- none`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark harness: a failed setup or a disagreement aborts the run"
)]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;
use std::hint::black_box;
use std::str::FromStr;
use std::time::{Duration, Instant};

use criterion::Criterion;
use portcullis_policy::{ContextType, Decision, Policy, PolicySet, Request, authorize, reference};
use serde_json::Value;

#[path = "support/workload.rs"]
mod workload;

use workload::{Kind, Workload};

// ---------------------------------------------------------------------------
// Timing

/// The median cost of an empty `Instant::now()` pair, in ns.
fn timer_overhead() -> u64 {
    let mut v: Vec<u64> = (0..1_000_000)
        .map(|_| {
            let t0 = Instant::now();
            let t1 = Instant::now();
            (t1 - t0).as_nanos() as u64
        })
        .collect();
    v.sort_unstable();
    v[v.len() / 2]
}

/// Latency percentiles of one run.
#[derive(Debug, Clone, Copy)]
struct Latency {
    n: usize,
    median: f64,
    p90: f64,
    p99: f64,
    p999: f64,
    max: f64,
    mean: f64,
}

impl Latency {
    fn of(mut ns: Vec<u64>) -> Self {
        ns.sort_unstable();
        let q = |p: f64| ns[((ns.len() as f64 * p) as usize).min(ns.len() - 1)] as f64;
        Self {
            n: ns.len(),
            median: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p999: q(0.999),
            max: ns[ns.len() - 1] as f64,
            mean: ns.iter().sum::<u64>() as f64 / ns.len() as f64,
        }
    }

    fn print(&self, label: &str) {
        println!(
            "{label}: {} decisions timed one by one: median {} p90 {} p99 {} p99.9 {} max {} (mean {})",
            self.n,
            fmt_ns(self.median),
            fmt_ns(self.p90),
            fmt_ns(self.p99),
            fmt_ns(self.p999),
            fmt_ns(self.max),
            fmt_ns(self.mean),
        );
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 10_000.0 {
        format!("{:.1} µs", ns / 1000.0)
    } else if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// Times `decisions` calls of `decide`, one by one, cycling through `n` requests.
fn histogram(
    n: usize,
    decisions: usize,
    overhead: u64,
    mut decide: impl FnMut(usize) -> bool,
) -> Latency {
    let mut samples = Vec::with_capacity(decisions);
    let mut allowed = 0usize;
    for i in 0..decisions {
        let r = i % n;
        let t0 = Instant::now();
        let a = decide(r);
        let t1 = Instant::now();
        allowed += usize::from(black_box(a));
        samples.push(((t1 - t0).as_nanos() as u64).saturating_sub(overhead));
    }
    black_box(allowed);
    Latency::of(samples)
}

/// Decisions per second over `passes` passes of `n` requests, untimed inside.
fn throughput(n: usize, passes: usize, mut decide: impl FnMut(usize) -> bool) -> f64 {
    let mut allowed = 0usize;
    let t = Instant::now();
    for _ in 0..passes {
        for r in 0..n {
            allowed += usize::from(decide(r));
        }
    }
    let elapsed = t.elapsed();
    black_box(allowed);
    (n * passes) as f64 / elapsed.as_secs_f64()
}

/// Enough passes for about `budget` of work, at least one.
fn passes_for(n: usize, per_decision_ns: f64, budget: Duration) -> usize {
    ((budget.as_nanos() as f64 / per_decision_ns / n as f64) as usize).max(1)
}

fn mix(w: &Workload) -> String {
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    for r in &w.requests {
        *counts.entry(r.kind).or_default() += 1;
    }
    counts
        .iter()
        .map(|(k, n)| format!("{k:?} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------
// Cedar encoding of workload (a)

/// The workload as Cedar sees it: one Cedar policy per IAM statement, one action
/// entity per requested action (its parents are the action groups standing for the
/// wildcard action patterns that cover it), and one prebuilt request per request.
struct CedarWorkload {
    policies: cedar_policy::PolicySet,
    entities: cedar_policy::Entities,
    requests: Vec<cedar_policy::Request>,
    text: String,
}

/// A Cedar string literal.
fn lit(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Cedar `like` pattern from an IAM pattern (`*` stays the wildcard; IAM's `?` has
/// no Cedar equivalent, and the workload has none).
fn like(pattern: &str) -> String {
    assert!(!pattern.contains('?'), "`?` cannot be encoded: {pattern}");
    lit(pattern)
}

fn action_uid(a: &str) -> String {
    format!("Action::{}", lit(&a.to_ascii_lowercase()))
}

/// One IAM condition (`op`, `key`, `values`) as a Cedar expression over `context`.
/// Keys are lowercased (IAM keys are case-insensitive); `StringEqualsIgnoreCase` reads
/// a lowercased copy of the value that the request builder supplies (Cedar has no
/// case folding).
fn condition(
    op: &str,
    key: &str,
    values: &[String],
    ignore_case_keys: &mut BTreeSet<String>,
) -> String {
    let k = key.to_ascii_lowercase();
    let has = format!("(context has {})", lit(&k));
    let get = format!("context[{}]", lit(&k));
    let (qualifier, base) = op.split_once(':').unwrap_or(("", op));
    let (base, if_exists) = match base.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (base, false),
    };
    let any = |f: &dyn Fn(&String) -> String| {
        format!(
            "({})",
            values.iter().map(f).collect::<Vec<_>>().join(" || ")
        )
    };
    let set = format!(
        "[{}]",
        values.iter().map(|v| lit(v)).collect::<Vec<_>>().join(", ")
    );
    let (positive, negated) = match (qualifier, base) {
        ("", "Null") => {
            let absent = values[0].eq_ignore_ascii_case("true");
            return if absent { format!("!{has}") } else { has };
        }
        ("", "Bool") => (
            format!("{get} == {}", values[0].to_ascii_lowercase()),
            false,
        ),
        ("", "StringEquals" | "StringNotEquals") => (
            any(&|v| format!("{get} == {}", lit(v))),
            base.contains("Not"),
        ),
        (
            "",
            "StringLike" | "StringNotLike" | "ArnLike" | "ArnNotLike" | "ArnEquals"
            | "ArnNotEquals",
        ) => (
            any(&|v| format!("{get} like {}", like(v))),
            base.contains("Not"),
        ),
        ("", "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase") => {
            ignore_case_keys.insert(k.clone());
            let lower = format!("context[{}]", lit(&format!("lower:{k}")));
            (
                any(&|v| format!("{lower} == {}", lit(&v.to_lowercase()))),
                base.contains("Not"),
            )
        }
        ("ForAnyValue", "StringEquals") => (format!("{get}.containsAny({set})"), false),
        ("ForAllValues", "StringEquals") => {
            return format!("(!{has} || {set}.containsAll({get}))");
        }
        _ => panic!("no Cedar encoding for condition operator {op}"),
    };
    if negated {
        format!("(!{has} || !{positive})")
    } else if if_exists {
        format!("(!{has} || {positive})")
    } else {
        format!("({has} && {positive})")
    }
}

/// One IAM statement as one Cedar policy: actions in the scope (`action in [...]`,
/// wildcard patterns as action groups) so that Cedar can index them; one exact
/// resource in the scope, wildcard resources as `like` patterns over the request's
/// ARN; conditions as `when` clauses. `None` for a statement that can never apply.
fn cedar_statement(
    id: &str,
    s: &Value,
    groups: &mut BTreeSet<String>,
    ignore_case_keys: &mut BTreeSet<String>,
) -> Option<String> {
    let effect = if s["Effect"] == "Deny" {
        "forbid"
    } else {
        "permit"
    };
    let mut when = Vec::new();
    let mut unless = Vec::new();
    let mut uids = |list: &[String]| -> String {
        let items: Vec<String> = list
            .iter()
            .map(|a| {
                if a.contains(['*', '?']) {
                    groups.insert(a.to_ascii_lowercase());
                }
                action_uid(a)
            })
            .collect();
        format!("[{}]", items.join(", "))
    };
    let actions = workload::strings(&s["Action"]);
    let not_actions = workload::strings(&s["NotAction"]);
    let action_scope = if actions.iter().any(|a| a == "*") {
        "action".to_owned()
    } else if !actions.is_empty() {
        format!("action in {}", uids(&actions))
    } else if not_actions.iter().any(|a| a == "*") {
        return None;
    } else {
        unless.push(format!("action in {}", uids(&not_actions)));
        "action".to_owned()
    };
    let resources = workload::strings(&s["Resource"]);
    let not_resources = workload::strings(&s["NotResource"]);
    let arn_in = |list: &[String]| -> String {
        let alts: Vec<String> = list
            .iter()
            .map(|r| {
                if r.contains(['*', '?']) {
                    format!("context.target_arn like {}", like(r))
                } else {
                    format!("context.target_arn == {}", lit(r))
                }
            })
            .collect();
        format!("({})", alts.join(" || "))
    };
    let mut resource_scope = "resource".to_owned();
    if !resources.is_empty() && !resources.iter().any(|r| r == "*") {
        if let [one] = resources.as_slice()
            && !one.contains(['*', '?'])
        {
            resource_scope = format!("resource == Resource::{}", lit(one));
        } else {
            when.push(arn_in(&resources));
        }
    } else if not_resources.iter().any(|r| r == "*") {
        return None;
    } else if !not_resources.is_empty() {
        unless.push(arn_in(&not_resources));
    }
    if let Value::Object(ops) = &s["Condition"] {
        for (op, keys) in ops {
            for (key, values) in keys.as_object().unwrap() {
                when.push(condition(
                    op,
                    key,
                    &workload::strings(values),
                    ignore_case_keys,
                ));
            }
        }
    }
    let mut out = format!(
        "@id({})\n{effect} (principal, {action_scope}, {resource_scope})",
        lit(id)
    );
    if !when.is_empty() {
        write!(out, "\nwhen {{ {} }}", when.join(" && ")).unwrap();
    }
    if !unless.is_empty() {
        write!(out, "\nunless {{ {} }}", unless.join(" || ")).unwrap();
    }
    out.push_str(";\n");
    Some(out)
}

fn cedar_workload(w: &Workload) -> CedarWorkload {
    use cedar_policy::{
        Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression,
    };

    let mut text = String::new();
    let mut groups = BTreeSet::new();
    let mut ignore_case_keys = BTreeSet::new();
    for m in &w.policies {
        for (i, s) in workload::statement_list(&m.doc).iter().enumerate() {
            if let Some(p) = cedar_statement(
                &format!("{}/{i}", m.name),
                s,
                &mut groups,
                &mut ignore_case_keys,
            ) {
                text.push_str(&p);
            }
        }
    }
    let policies =
        cedar_policy::PolicySet::from_str(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));

    let uid = |ty: &str, id: &str| {
        EntityUid::from_type_name_and_id(EntityTypeName::from_str(ty).unwrap(), EntityId::new(id))
    };
    let actions: BTreeSet<String> = w
        .requests
        .iter()
        .map(|r| r.action.to_ascii_lowercase())
        .collect();
    let mut entities: Vec<Entity> = groups
        .iter()
        .map(|g| Entity::new_no_attrs(uid("Action", g), HashSet::new()))
        .collect();
    for a in &actions {
        let parents: HashSet<EntityUid> = groups
            .iter()
            .filter(|g| workload::glob_ci(g, a))
            .map(|g| uid("Action", g))
            .collect();
        entities.push(Entity::new_no_attrs(uid("Action", a), parents));
    }
    let entities = Entities::from_entities(entities, None).unwrap();

    let principal = uid("User", "alice");
    let requests = w
        .requests
        .iter()
        .map(|r| {
            let mut pairs: Vec<(String, RestrictedExpression)> = vec![(
                "target_arn".to_owned(),
                RestrictedExpression::new_string(r.resource.clone()),
            )];
            for e in &r.entries {
                let k = e.key.to_ascii_lowercase();
                let one = || e.values[0].clone();
                let v = match e.ty {
                    ContextType::String => RestrictedExpression::new_string(one()),
                    ContextType::StringList => RestrictedExpression::new_set(
                        e.values
                            .iter()
                            .map(|v| RestrictedExpression::new_string(v.clone())),
                    ),
                    ContextType::Boolean => {
                        RestrictedExpression::new_bool(one().eq_ignore_ascii_case("true"))
                    }
                    ContextType::Ip => RestrictedExpression::new_ip(one()),
                    ContextType::Date => RestrictedExpression::new_datetime(one()),
                    ContextType::Numeric => RestrictedExpression::new_long(one().parse().unwrap()),
                    other => panic!("no Cedar encoding for context type {other:?}"),
                };
                if ignore_case_keys.contains(&k) {
                    pairs.push((
                        format!("lower:{k}"),
                        RestrictedExpression::new_string(one().to_lowercase()),
                    ));
                }
                pairs.push((k, v));
            }
            cedar_policy::Request::new(
                principal.clone(),
                uid("Action", &r.action.to_ascii_lowercase()),
                uid("Resource", &r.resource),
                Context::from_pairs(pairs).unwrap(),
                None,
            )
            .unwrap()
        })
        .collect();
    CedarWorkload {
        policies,
        entities,
        requests,
        text,
    }
}

// ---------------------------------------------------------------------------
// The figures

struct Figures {
    ours: Latency,
    ours_per_s: f64,
}

fn principal_figures(w: &Workload, overhead: u64) -> Figures {
    let requests: Vec<Request<'_>> = w.requests.iter().map(|r| r.request(&w.principal)).collect();
    let n = requests.len();
    println!(
        "\n== (a) realistic principal: {} managed policies, {} statements; {n} distinct requests ({}) ==",
        w.compiled.len(),
        w.statements(),
        mix(w)
    );

    // Our engine against the reference, request by request, before any timing.
    let rset = reference::PolicySet {
        identity: w.documents.iter().collect(),
        ..Default::default()
    };
    let mut decisions = Vec::with_capacity(n);
    for (r, req) in w.requests.iter().zip(&requests) {
        let ours = authorize(&w.set, None, req).decision;
        let naive = reference::authorize(&rset, None, req);
        assert_eq!(
            ours, naive,
            "engine and reference disagree on {} {}",
            r.action, r.resource
        );
        decisions.push(ours);
    }
    println!("engine and reference evaluator agree on all {n} decisions");

    let set = &w.set;
    let decide = |i: usize| authorize(set, None, &requests[i]).decision == Decision::Allow;
    // Warm up caches and branch predictors.
    throughput(n, 200, decide);
    let ours = histogram(n, 1_000_000, overhead, decide);
    ours.print("portcullis");
    let ours_per_s = throughput(n, 2_000, decide);
    println!(
        "portcullis: {:.2} M decisions/s on one core ({} per decision, untimed loop)",
        ours_per_s / 1e6,
        fmt_ns(1e9 / ours_per_s)
    );
    println!(
        "  goals: median <= 0.5 µs {}; p99 <= 2 µs {}; >= 2M decisions/s {}",
        verdict(ours.median <= 500.0),
        verdict(ours.p99 <= 2000.0),
        verdict(ours_per_s >= 2e6)
    );

    let naive = |i: usize| reference::authorize(&rset, None, &requests[i]) == Decision::Allow;
    let probe = throughput(n, 1, naive);
    let passes = passes_for(n, 1e9 / probe, Duration::from_secs(4));
    let reference_lat = histogram(n, n * passes, overhead, naive);
    reference_lat.print("reference (naive)");
    let reference_per_s = throughput(n, passes.div_ceil(2), naive);
    println!(
        "reference: {:.3} M decisions/s; portcullis is {:.1}x faster by median, {:.1}x by throughput (goal >= 4x: {})",
        reference_per_s / 1e6,
        reference_lat.median / ours.median.max(1.0),
        ours_per_s / reference_per_s,
        verdict(
            reference_lat.median / ours.median.max(1.0) >= 4.0
                && ours_per_s / reference_per_s >= 4.0
        )
    );

    // (b) Cedar.
    let cw = cedar_workload(w);
    println!(
        "\n== (b) the same workload in Cedar (cedar-policy {}): {} Cedar policies, {} entities ==",
        cedar_version(),
        cw.policies.policies().count(),
        cw.entities.iter().count()
    );
    let authorizer = cedar_policy::Authorizer::new();
    for (i, (req, ours)) in cw.requests.iter().zip(&decisions).enumerate() {
        let resp = authorizer.is_authorized(req, &cw.policies, &cw.entities);
        let errors: Vec<_> = resp.diagnostics().errors().collect();
        assert!(errors.is_empty(), "Cedar errors on request {i}: {errors:?}");
        let cedar_allow = resp.decision() == cedar_policy::Decision::Allow;
        assert_eq!(
            cedar_allow,
            *ours == Decision::Allow,
            "Cedar and portcullis disagree on {} {} ({:?})\n{}",
            w.requests[i].action,
            w.requests[i].resource,
            w.requests[i].entries,
            cw.text
        );
    }
    println!("Cedar and portcullis agree on all {n} decisions (allow / deny)");
    let cedar = |i: usize| {
        authorizer
            .is_authorized(&cw.requests[i], &cw.policies, &cw.entities)
            .decision()
            == cedar_policy::Decision::Allow
    };
    let probe = throughput(n, 1, cedar);
    let passes = passes_for(n, 1e9 / probe, Duration::from_secs(5));
    let cedar_lat = histogram(n, n * passes, overhead, cedar);
    cedar_lat.print("cedar");
    let cedar_per_s = throughput(n, passes.div_ceil(2), cedar);
    println!(
        "cedar: {:.3} M decisions/s; portcullis is {:.1}x faster by median, {:.1}x by throughput (goal >= 3x: {})",
        cedar_per_s / 1e6,
        cedar_lat.median / ours.median.max(1.0),
        ours_per_s / cedar_per_s,
        verdict(cedar_lat.median / ours.median.max(1.0) >= 3.0 && ours_per_s / cedar_per_s >= 3.0)
    );
    Figures { ours, ours_per_s }
}

/// The version cargo resolved, from the workspace's Cargo.lock.
fn cedar_version() -> String {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
        .unwrap_or_default();
    lock.split("[[package]]")
        .find(|p| p.contains("name = \"cedar-policy\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .map_or_else(
            || "4 (unknown)".to_owned(),
            |v| v.trim_matches('"').to_owned(),
        )
}

fn many_statements_figures(w: &Workload, overhead: u64) -> Latency {
    let requests: Vec<Request<'_>> = w.requests.iter().map(|r| r.request(&w.principal)).collect();
    let n = requests.len();
    println!(
        "\n== (c) {} statements on one principal ({} managed policies); {n} requests ({}) ==",
        w.statements(),
        w.compiled.len(),
        mix(w)
    );
    let set = &w.set;
    let decide = |i: usize| authorize(set, None, &requests[i]).decision == Decision::Allow;
    throughput(n, 100, decide);
    let lat = histogram(n, 1_000_000, overhead, decide);
    lat.print("portcullis");
    let per_s = throughput(n, 1_000, decide);
    println!(
        "portcullis: {:.2} M decisions/s; goal median <= 2 µs: {}",
        per_s / 1e6,
        verdict(lat.median <= 2000.0)
    );
    lat
}

fn parse_figures(all: &[workload::Managed], overhead: u64) -> workload::Managed {
    let big = all
        .iter()
        .filter(|m| m.text.len() <= 6144)
        .max_by_key(|m| m.text.len())
        .unwrap()
        .clone();
    let doc = portcullis_policy::parse(&big.text, workload::options()).unwrap();
    println!(
        "\n== (d) parse + compile of a 6 KB policy: {} ({} B, {} statements) ==",
        big.name,
        big.text.len(),
        doc.statements.len()
    );
    let time = |f: &dyn Fn()| {
        for _ in 0..200 {
            f();
        }
        let mut v: Vec<u64> = (0..3000)
            .map(|_| {
                let t0 = Instant::now();
                f();
                ((t0.elapsed()).as_nanos() as u64).saturating_sub(overhead)
            })
            .collect();
        v.sort_unstable();
        v[v.len() / 2] as f64
    };
    let both = time(&|| {
        black_box(
            Policy::parse(big.name.as_str(), black_box(&big.text), workload::options()).unwrap(),
        );
    });
    let parse = time(&|| {
        black_box(portcullis_policy::parse(black_box(&big.text), workload::options()).unwrap());
    });
    let compile = time(&|| {
        black_box(Policy::compile(big.name.as_str(), black_box(&doc)).unwrap());
    });
    println!(
        "parse + compile: median {} ({:.0} MB/s); parse alone {}, compile alone {}",
        fmt_ns(both),
        big.text.len() as f64 / both * 1e3,
        fmt_ns(parse),
        fmt_ns(compile)
    );
    big
}

fn main() {
    println!(
        "machine: {} cores; load average at start: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    let overhead = timer_overhead();
    println!(
        "timer: an empty Instant::now() pair costs {overhead} ns (median of 1M), subtracted from every sample"
    );

    let all = workload::managed_policies();
    let catalog = workload::catalog();
    let principal = workload::principal_workload(&all, &catalog);
    let a = principal_figures(&principal, overhead);
    let many = workload::many_statements_workload(&all, &catalog, 1000);
    let c = many_statements_figures(&many, overhead);
    let big = parse_figures(&all, overhead);

    println!(
        "\nsummary: (a) median {} p99 {} {:.2} M/s; (c) median {} p99 {}",
        fmt_ns(a.ours.median),
        fmt_ns(a.ours.p99),
        a.ours_per_s / 1e6,
        fmt_ns(c.median),
        fmt_ns(c.p99)
    );
    println!("\n== criterion (batch means) ==");
    criterion_benches(&principal, &many, &big);
}

fn criterion_benches(principal: &Workload, many: &Workload, big: &workload::Managed) {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();

    let cycle = |c: &mut Criterion, name: &str, set: &PolicySet, w: &Workload| {
        let requests: Vec<Request<'_>> =
            w.requests.iter().map(|r| r.request(&w.principal)).collect();
        let mut i = 0;
        c.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % requests.len();
                authorize(set, None, &requests[i])
            });
        });
    };
    cycle(&mut c, "a/portcullis/authorize", &principal.set, principal);

    let rset = reference::PolicySet {
        identity: principal.documents.iter().collect(),
        ..Default::default()
    };
    let requests: Vec<Request<'_>> = principal
        .requests
        .iter()
        .map(|r| r.request(&principal.principal))
        .collect();
    let mut i = 0;
    c.bench_function("a/reference/authorize", |b| {
        b.iter(|| {
            i = (i + 1) % requests.len();
            reference::authorize(&rset, None, &requests[i])
        });
    });

    let cw = cedar_workload(principal);
    let authorizer = cedar_policy::Authorizer::new();
    let mut i = 0;
    c.bench_function("b/cedar/is_authorized", |b| {
        b.iter(|| {
            i = (i + 1) % cw.requests.len();
            authorizer.is_authorized(&cw.requests[i], &cw.policies, &cw.entities)
        });
    });

    cycle(&mut c, "c/portcullis/1000-statements", &many.set, many);

    c.bench_function("d/parse+compile-6KB", |b| {
        b.iter(|| {
            Policy::parse(big.name.as_str(), black_box(&big.text), workload::options()).unwrap()
        });
    });
    c.final_summary();
}
