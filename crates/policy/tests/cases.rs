//! The decision corpus: every `tests/cases/**/case.json` (format in
//! `tests/cases/README.md`) is run through the engine (`authorize` and `explain`) and
//! through the naive reference evaluator. All failures are reported together, by path,
//! with expected and actual.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use portcullis_policy::document::{self, PolicyDocument};
use portcullis_policy::{
    Context, ContextEntry, Decision, Error, Policy, PolicyKind, PolicySet, Principal,
    PrincipalKind, Request, authorize, explain, reference,
};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Case {
    #[allow(dead_code, reason = "documentation for people")]
    description: String,
    #[allow(dead_code, reason = "documentation for people")]
    source: String,
    principal: CasePrincipal,
    #[serde(default)]
    policies: CasePolicies,
    request: CaseRequest,
    expected: Expected,
}

#[derive(Deserialize)]
struct CasePrincipal {
    kind: PrincipalKind,
    #[serde(default)]
    arn: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    role_arn: Option<String>,
}

#[derive(Deserialize, Default)]
struct CasePolicies {
    #[serde(default)]
    identity: Vec<CasePolicy>,
    #[serde(default)]
    boundary: Option<CasePolicy>,
    #[serde(default)]
    session: Option<Vec<CasePolicy>>,
    #[serde(default)]
    scps: Vec<Vec<CasePolicy>>,
    #[serde(default)]
    resource: Option<CasePolicy>,
}

#[derive(Deserialize)]
struct CasePolicy {
    id: String,
    #[serde(default)]
    kind: Option<String>,
    document: Value,
}

#[derive(Deserialize)]
struct CaseRequest {
    action: String,
    resource: String,
    #[serde(default)]
    resource_account: Option<String>,
    #[serde(default)]
    context: Vec<ContextEntry>,
}

#[derive(Deserialize)]
struct Expected {
    #[serde(default)]
    decision: Option<Decision>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    matched: Option<Vec<MatchedRef>>,
    #[serde(default)]
    missing_context_keys: Option<Vec<String>>,
}

#[derive(Deserialize, Debug)]
struct MatchedRef {
    policy: String,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    index: Option<usize>,
}

fn discover(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            discover(&p, out);
        } else if p.file_name().is_some_and(|n| n == "case.json") {
            out.push(p);
        }
    }
}

/// A parsed and compiled policy of a case.
struct Loaded {
    doc: PolicyDocument,
    compiled: Arc<Policy>,
}

fn load(p: &CasePolicy, kind: PolicyKind) -> Result<Loaded, Error> {
    let text = match &p.document {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let doc = document::parse(&text, kind)?;
    let compiled = Arc::new(Policy::compile(p.id.clone(), &doc)?);
    Ok(Loaded { doc, compiled })
}

enum Actual {
    Error(String),
    Decision {
        decision: Decision,
        matched: Vec<(String, Option<String>, usize)>,
        missing: Vec<String>,
        reference: Decision,
    },
}

fn run(case: &Case) -> Result<Actual, String> {
    let load_all = || -> Result<_, Error> {
        let identity = case
            .policies
            .identity
            .iter()
            .map(|p| load(p, PolicyKind::Identity))
            .collect::<Result<Vec<_>, _>>()?;
        let boundary = case
            .policies
            .boundary
            .as_ref()
            .map(|p| load(p, PolicyKind::Boundary))
            .transpose()?;
        let session = case
            .policies
            .session
            .as_ref()
            .map(|ps| {
                ps.iter()
                    .map(|p| load(p, PolicyKind::Session))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let scps = case
            .policies
            .scps
            .iter()
            .map(|level| {
                level
                    .iter()
                    .map(|p| load(p, PolicyKind::Scp))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let resource = case
            .policies
            .resource
            .as_ref()
            .map(|p| {
                load(
                    p,
                    if p.kind.as_deref() == Some("trust") {
                        PolicyKind::Trust
                    } else {
                        PolicyKind::Resource
                    },
                )
            })
            .transpose()?;
        let context = Context::from_entries(&case.request.context)?;
        Ok((identity, boundary, session, scps, resource, context))
    };
    let (identity, boundary, session, scps, resource, context) = match load_all() {
        Ok(x) => x,
        Err(e) => return Ok(Actual::Error(e.code().as_str().to_owned())),
    };
    let mut b = PolicySet::builder();
    for p in &identity {
        b = b.identity(p.compiled.clone());
    }
    if let Some(p) = &boundary {
        b = b.boundary(p.compiled.clone());
    }
    if let Some(ps) = &session {
        b = b.session_policies(ps.iter().map(|p| p.compiled.clone()).collect());
    }
    for level in &scps {
        b = b.scp_level(level.iter().map(|p| p.compiled.clone()).collect());
    }
    let set = b.build().map_err(|e| e.to_string())?;

    let arn = case.principal.arn.clone().unwrap_or_default();
    let mut principal = Principal::new(case.principal.kind, arn);
    if let Some(a) = &case.principal.account {
        principal.account.clone_from(a);
    }
    if let Some(r) = &case.principal.role_arn {
        principal.role_arn = Some(r.clone());
    }
    let req = Request {
        principal: &principal,
        action: &case.request.action,
        resource: &case.request.resource,
        resource_account: case.request.resource_account.as_deref(),
        context: &context,
    };
    let rp = resource.as_ref().map(|r| &*r.compiled);
    let fast = authorize(&set, rp, &req);
    let full = explain(&set, rp, &req);
    if fast.decision != full.decision {
        return Err(format!(
            "authorize says {:?} but explain says {:?}",
            fast.decision, full.decision
        ));
    }
    let ref_set = reference::PolicySet {
        identity: identity.iter().map(|p| &p.doc).collect(),
        boundary: boundary.as_ref().map(|p| &p.doc),
        session: session
            .as_ref()
            .map(|ps| ps.iter().map(|p| &p.doc).collect()),
        scps: scps
            .iter()
            .map(|l| l.iter().map(|p| &p.doc).collect())
            .collect(),
    };
    let reference = reference::authorize(&ref_set, resource.as_ref().map(|r| &r.doc), &req);
    Ok(Actual::Decision {
        decision: fast.decision,
        matched: full
            .deciding
            .iter()
            .map(|d| (d.policy_id.clone(), d.sid.clone(), d.index))
            .collect(),
        missing: full.missing_context_keys.clone(),
        reference,
    })
}

fn check(case: &Case) -> Result<(), String> {
    let actual = run(case)?;
    match (&case.expected.error, actual) {
        (Some(e), Actual::Error(a)) if *e == a => Ok(()),
        (Some(e), Actual::Error(a)) => Err(format!("expected error {e}, got error {a}")),
        (Some(e), Actual::Decision { decision, .. }) => {
            Err(format!("expected error {e}, got decision {decision:?}"))
        }
        (None, Actual::Error(a)) => Err(format!(
            "expected decision {:?}, got error {a}",
            case.expected.decision
        )),
        (
            None,
            Actual::Decision {
                decision,
                matched,
                missing,
                reference,
            },
        ) => {
            let mut problems = Vec::new();
            if Some(decision) != case.expected.decision {
                problems.push(format!(
                    "expected {:?}, got {decision:?}",
                    case.expected.decision
                ));
            }
            if reference != decision {
                problems.push(format!(
                    "reference evaluator says {reference:?}, engine says {decision:?}"
                ));
            }
            if let Some(want) = &case.expected.matched {
                let found = |m: &MatchedRef| {
                    matched.iter().any(|(p, sid, i)| {
                        *p == m.policy
                            && (m.sid.as_ref().is_some_and(|s| Some(s) == sid.as_ref())
                                || m.index == Some(*i))
                    })
                };
                if want.len() != matched.len() || !want.iter().all(found) {
                    problems.push(format!(
                        "expected matched statements {want:?}, got {matched:?}"
                    ));
                }
            }
            if let Some(want) = &case.expected.missing_context_keys {
                let w: BTreeSet<String> = want.iter().map(|k| k.to_ascii_lowercase()).collect();
                let g: BTreeSet<String> = missing.iter().map(|k| k.to_ascii_lowercase()).collect();
                if w != g {
                    problems.push(format!("expected missing context keys {w:?}, got {g:?}"));
                }
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("; "))
            }
        }
    }
}

#[test]
fn decision_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut paths = Vec::new();
    discover(&root, &mut paths);
    paths.sort();
    assert!(!paths.is_empty(), "no case.json under {}", root.display());
    let mut failures = String::new();
    let mut failed = 0;
    for path in &paths {
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let result = serde_json::from_str::<Case>(&text)
            .map_err(|e| format!("unreadable case: {e}"))
            .and_then(|c| check(&c));
        if let Err(e) = result {
            failed += 1;
            let _ = writeln!(failures, "  {rel}: {e}");
        }
    }
    assert!(
        failed == 0,
        "{failed} of {} cases failed:\n{failures}",
        paths.len()
    );
    eprintln!("{} cases passed", paths.len());
}
