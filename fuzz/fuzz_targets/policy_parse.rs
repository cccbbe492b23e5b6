//! The policy parser with every `PolicyKind` (and without the size quota), then
//! for each document that parses: compilation, a decision and an explanation of a
//! fixed request with the policy in every place a policy can sit, and the printer
//! round trip. No input may panic; every error must render; parse → print → parse
//! must give the same document, and printing it again the same text; the compiled
//! engine must agree with the reference evaluator.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use portcullis_policy::document::{ParseOptions, PolicyKind, SizeQuota};
use portcullis_policy::{
    Context, ContextType, Policy, PolicyDocument, PolicySet, Principal, PrincipalKind, Request,
    authorize, explain, parse_bytes, reference,
};

const KINDS: [PolicyKind; 6] = [
    PolicyKind::Identity,
    PolicyKind::Resource,
    PolicyKind::Trust,
    PolicyKind::Boundary,
    PolicyKind::Session,
    PolicyKind::Scp,
];

/// A request with context keys of every type, so that conditions get evaluated.
struct Fixture {
    principal: Principal,
    context: Context,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut context = Context::new();
        let entries: [(&str, ContextType, &[&str]); 9] = [
            ("aws:username", ContextType::String, &["alice"]),
            ("aws:SourceIp", ContextType::Ip, &["203.0.113.7"]),
            (
                "aws:CurrentTime",
                ContextType::Date,
                &["2026-11-28T12:00:00Z"],
            ),
            ("aws:SecureTransport", ContextType::Boolean, &["true"]),
            ("aws:MultiFactorAuthAge", ContextType::Numeric, &["60"]),
            ("aws:TagKeys", ContextType::StringList, &["team", "env"]),
            ("aws:PrincipalTag/team", ContextType::String, &["blue"]),
            ("s3:prefix", ContextType::String, &["home/alice/"]),
            ("k:bin", ContextType::Binary, &["aGVsbG8="]),
        ];
        for (k, t, v) in entries {
            context.insert(k, t, v.iter().copied()).ok();
        }
        Fixture {
            principal: Principal::new(PrincipalKind::User, "arn:aws:iam::111122223333:user/alice"),
            context,
        }
    })
}

/// An identity policy allowing everything, so that a boundary, session policy or
/// SCP under test is what decides.
fn allow_all() -> &'static (Arc<Policy>, PolicyDocument) {
    static A: OnceLock<(Arc<Policy>, PolicyDocument)> = OnceLock::new();
    A.get_or_init(|| {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
        let doc = portcullis_policy::parse(text, PolicyKind::Identity).unwrap();
        (Arc::new(Policy::compile("allow-all", &doc).unwrap()), doc)
    })
}

fn check(policy: &Arc<Policy>, doc: &PolicyDocument, kind: PolicyKind) {
    let f = fixture();
    let (all, all_doc) = allow_all();
    let everything = PolicySet::builder().identity(all.clone());
    let mut rset = reference::PolicySet {
        identity: vec![all_doc],
        ..Default::default()
    };
    let mut resource = None;
    let built = match kind {
        PolicyKind::Identity => {
            rset.identity = vec![doc];
            PolicySet::builder().identity(policy.clone()).build()
        }
        PolicyKind::Boundary => {
            rset.boundary = Some(doc);
            everything.boundary(policy.clone()).build()
        }
        PolicyKind::Session => {
            rset.session = Some(vec![doc]);
            everything.session(policy.clone()).build()
        }
        PolicyKind::Scp => {
            rset.scps = vec![vec![doc]];
            everything.scp_level(vec![policy.clone()]).build()
        }
        PolicyKind::Resource | PolicyKind::Trust => {
            resource = Some(&**policy);
            everything.build()
        }
    };
    let set = built.unwrap_or_else(|e| panic!("a one-policy set does not build: {e}"));
    let rdoc = resource.map(|_| doc);
    let requests = [
        ("s3:GetObject", "arn:aws:s3:::bucket/home/alice/x"),
        ("iam:CreateUser", "arn:aws:iam::111122223333:user/bob"),
        ("sts:AssumeRole", "arn:aws:iam::111122223333:role/r"),
        ("ec2:RunInstances", "*"),
    ];
    for (action, res) in requests {
        let req = Request {
            principal: &f.principal,
            action,
            resource: res,
            resource_account: None,
            context: &f.context,
        };
        let fast = authorize(&set, resource, &req);
        let naive = reference::authorize(&rset, rdoc, &req);
        assert_eq!(
            fast.decision, naive,
            "engine and reference disagree on {action} {res}"
        );
        let e = explain(&set, resource, &req);
        assert_eq!(
            e.decision, fast.decision,
            "explanation and decision disagree"
        );
        let _ = e.to_string();
        let _ = serde_json::to_string(&e);
    }
}

fuzz_target!(|data: &[u8]| {
    // Every kind under its own quota, and once without a quota (the path of AWS
    // managed policies and of large inputs).
    let runs = KINDS
        .iter()
        .map(|k| (*k, None))
        .chain([(PolicyKind::Identity, Some(SizeQuota::Unlimited))]);
    for (kind, quota) in runs {
        {
            let options = ParseOptions { kind, quota };
            match parse_bytes(data, options) {
                Err(e) => {
                    let _ = e.to_string();
                    let _ = format!("{e:?}");
                }
                Ok(doc) => {
                    let printed = doc.to_json();
                    let again = parse_bytes(
                        printed.as_bytes(),
                        ParseOptions {
                            kind,
                            quota: Some(SizeQuota::Unlimited),
                        },
                    )
                    .unwrap_or_else(|e| panic!("printed form does not parse: {e}\n{printed}"));
                    assert_eq!(
                        again, doc,
                        "parse -> print -> parse changed the document:\n{printed}"
                    );
                    assert_eq!(again.to_json(), printed, "printing is not stable");
                    let policy = Policy::compile("fuzz", &doc)
                        .unwrap_or_else(|e| panic!("a parsed document does not compile: {e}"));
                    check(&Arc::new(policy), &doc, kind);
                }
            }
        }
    }
});
