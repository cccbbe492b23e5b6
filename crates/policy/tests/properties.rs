//! Property tests over random policies and requests drawn from a small alphabet, so
//! that statements actually match:
//! - the compiled engine agrees with the naive reference evaluator (and `explain`
//!   with `authorize`), and the generated cases include allows and both denies;
//! - adding a `Deny` statement never turns a deny into an allow;
//! - parse → print → parse is the identity.

#[cfg(test)]
mod props {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use portcullis_policy::document::{self, PolicyDocument, PolicyKind};
    use portcullis_policy::{
        Context, ContextType, Decision, Policy, PolicySet, Principal, PrincipalKind, Request,
        authorize, explain, reference,
    };
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use serde_json::{Value, json};

    const ACTIONS: &[&str] = &[
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "iam:GetUser",
        "ec2:RunInstances",
        "s3express:CreateSession",
    ];
    const ACTION_PATTERNS: &[&str] = &[
        "s3:GetObject",
        "s3:*",
        "s3:Get*",
        "*",
        "iam:*",
        "s3:?etObject",
        "S3:getobject",
        "ec2:Run*",
        "iam:GetUser",
        "s3express:*",
    ];
    const RESOURCES: &[&str] = &[
        "arn:aws:s3:::b/k",
        "arn:aws:s3:::b/alice/k",
        "arn:aws:s3:::c/k",
        "arn:aws:iam::111122223333:user/alice",
        "*",
    ];
    const RESOURCE_PATTERNS: &[&str] = &[
        "*",
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::*/k",
        "arn:aws:iam::111122223333:user/*",
        "arn:aws:s3:::b/${aws:username}/*",
        "arn:aws:s3:::?/k",
        "arn:aws:*:::b/*",
        "arn:aws:s3:::b/${aws:PrincipalTag/dept, 'alice'}/k",
        "arn:aws:s3:::b/${*}",
    ];
    const PRINCIPALS: &[&str] = &[
        "*",
        "arn:aws:iam::111122223333:user/alice",
        "111122223333",
        "arn:aws:iam::444455556666:root",
        "arn:aws:iam::111122223333:role/R",
        "arn:aws:sts::111122223333:assumed-role/R/s",
    ];

    fn pick(xs: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
        proptest::sample::select(xs)
    }

    fn one_or_many(xs: &'static [&'static str]) -> impl Strategy<Value = Value> {
        prop_oneof![
            pick(xs).prop_map(|s| json!(s)),
            proptest::collection::vec(pick(xs), 1..3).prop_map(|v| json!(v))
        ]
    }

    /// (operator, key, candidate values) that fit together, plus mismatched ones.
    fn condition() -> impl Strategy<Value = Value> {
        let string_ops = pick(&[
            "StringEquals",
            "StringNotEquals",
            "StringLike",
            "StringNotLike",
            "StringEqualsIgnoreCase",
            "ForAnyValue:StringEquals",
            "ForAllValues:StringEquals",
            "StringEqualsIfExists",
            "ForAllValues:StringNotLike",
        ]);
        let strings = one_or_many(&[
            "alice",
            "ALICE",
            "bob",
            "a*",
            "${aws:username}",
            "team",
            "env",
            "${aws:userid}",
        ]);
        let string_keys = pick(&[
            "aws:username",
            "aws:TagKeys",
            "AWS:UserName",
            "aws:PrincipalTag/dept",
        ]);
        let s = (string_ops, string_keys, strings).prop_map(|(o, k, v)| json!({ o: { k: v } }));
        let ip = (
            pick(&["IpAddress", "NotIpAddress", "IpAddressIfExists"]),
            one_or_many(&["10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "bad"]),
        )
            .prop_map(|(o, v)| json!({ o: { "aws:SourceIp": v } }));
        let num = (
            pick(&[
                "NumericLessThan",
                "NumericEquals",
                "NumericNotEquals",
                "NumericGreaterThanEquals",
            ]),
            prop_oneof![
                Just(json!(10)),
                Just(json!("5")),
                Just(json!(["1", "100"])),
                Just(json!("ten"))
            ],
        )
            .prop_map(|(o, v)| json!({ o: { "k:n": v } }));
        let date = (
            pick(&["DateLessThan", "DateGreaterThan", "DateEquals"]),
            pick(&["2026-01-01T00:00:00Z", "1767225600", "2020-01-01"]),
        )
            .prop_map(|(o, v)| json!({ o: { "aws:CurrentTime": v } }));
        let null = (
            pick(&["aws:username", "k:n", "aws:SourceIp"]),
            any::<bool>(),
        )
            .prop_map(|(k, b)| json!({ "Null": { k: b.to_string() } }));
        let boolean = prop_oneof![Just(json!(true)), Just(json!("false")), Just(json!("yes"))]
            .prop_map(|v| json!({ "Bool": { "aws:SecureTransport": v } }));
        let arn = (
            pick(&["ArnLike", "ArnNotEquals"]),
            pick(&["arn:aws:sns:*:111122223333:*", "arn:aws:sns:us-east-1:*:t"]),
        )
            .prop_map(|(o, v)| json!({ o: { "aws:SourceArn": v } }));
        prop_oneof![s, ip, num, date, null, boolean, arn]
    }

    fn merge(conds: Vec<Value>) -> Value {
        let mut out = serde_json::Map::new();
        for c in conds {
            for (op, keys) in c.as_object().cloned().unwrap_or_default() {
                let entry = out.entry(op).or_insert_with(|| json!({}));
                for (k, v) in keys.as_object().cloned().unwrap_or_default() {
                    entry[k] = v;
                }
            }
        }
        Value::Object(out)
    }

    fn statement(principal: bool) -> impl Strategy<Value = Value> {
        (
        prop_oneof![3 => Just("Allow"), 2 => Just("Deny")],
        any::<bool>(),
        one_or_many(ACTION_PATTERNS),
        any::<bool>(),
        one_or_many(RESOURCE_PATTERNS),
        proptest::collection::vec(condition(), 0..3),
        prop_oneof![4 => one_or_many(PRINCIPALS).prop_map(|p| json!({"AWS": p})), 1 => Just(json!("*"))],
        proptest::sample::select(vec![false, false, false, true]),
    )
        .prop_map(move |(effect, not_action, actions, not_resource, resources, conds, principal_value, not_principal)| {
            let mut s = serde_json::Map::new();
            s.insert("Effect".into(), json!(effect));
            s.insert(if not_action && effect == "Deny" { "NotAction" } else { "Action" }.into(), actions);
            s.insert(if not_resource && effect == "Deny" { "NotResource" } else { "Resource" }.into(), resources);
            if !conds.is_empty() {
                s.insert("Condition".into(), merge(conds));
            }
            if principal {
                s.insert(if not_principal && effect == "Deny" { "NotPrincipal" } else { "Principal" }.into(), principal_value);
            }
            Value::Object(s)
        })
    }

    fn policy(principal: bool) -> impl Strategy<Value = Value> {
        (
            proptest::collection::vec(statement(principal), 1..4),
            proptest::sample::select(vec!["2012-10-17", "2012-10-17", "2008-10-17"]),
        )
            .prop_map(|(stmts, version)| json!({ "Version": version, "Statement": stmts }))
    }

    #[derive(Debug, Clone)]
    struct Scenario {
        identity: Vec<Value>,
        boundary: Option<Value>,
        session: Option<Vec<Value>>,
        scps: Vec<Vec<Value>>,
        resource: Option<Value>,
        principal: usize,
        cross_account: bool,
        action: &'static str,
        resource_arn: &'static str,
        context: Vec<usize>,
    }

    fn scenario() -> impl Strategy<Value = Scenario> {
        (
            proptest::collection::vec(policy(false), 0..3),
            proptest::option::weighted(0.25, policy(false)),
            proptest::option::weighted(0.2, proptest::collection::vec(policy(false), 0..2)),
            proptest::collection::vec(proptest::collection::vec(policy(false), 1..2), 0..2),
            proptest::option::weighted(0.4, policy(true)),
            0..4usize,
            proptest::sample::select(vec![false, false, true]),
            pick(ACTIONS),
            pick(RESOURCES),
            proptest::collection::vec(0..CONTEXT.len(), 0..5),
        )
            .prop_map(
                |(
                    identity,
                    boundary,
                    session,
                    scps,
                    resource,
                    principal,
                    cross_account,
                    action,
                    resource_arn,
                    context,
                )| Scenario {
                    identity,
                    boundary,
                    session,
                    scps,
                    resource,
                    principal,
                    cross_account,
                    action,
                    resource_arn,
                    context,
                },
            )
    }

    const CONTEXT: &[(&str, ContextType, &[&str])] = &[
        ("aws:username", ContextType::String, &["alice"]),
        ("aws:TagKeys", ContextType::StringList, &["team", "env"]),
        ("aws:TagKeys", ContextType::StringList, &[]),
        ("aws:SourceIp", ContextType::Ip, &["10.1.2.3"]),
        ("aws:SourceIp", ContextType::Ip, &["2001:db8::7"]),
        ("k:n", ContextType::Numeric, &["7"]),
        (
            "aws:CurrentTime",
            ContextType::Date,
            &["2025-06-01T00:00:00Z"],
        ),
        ("aws:SecureTransport", ContextType::Boolean, &["true"]),
        (
            "aws:SourceArn",
            ContextType::String,
            &["arn:aws:sns:us-east-1:111122223333:t"],
        ),
        ("aws:PrincipalTag/dept", ContextType::String, &["bob"]),
    ];

    fn principal(i: usize) -> Principal {
        match i {
            0 => Principal::new(PrincipalKind::User, "arn:aws:iam::111122223333:user/alice"),
            1 => Principal::new(
                PrincipalKind::RoleSession,
                "arn:aws:sts::111122223333:assumed-role/R/s",
            ),
            2 => Principal::new(PrincipalKind::Root, "arn:aws:iam::111122223333:root"),
            _ => Principal::new(PrincipalKind::Anonymous, ""),
        }
    }

    fn parse(v: &Value, kind: PolicyKind) -> PolicyDocument {
        document::parse(&v.to_string(), kind)
            .unwrap_or_else(|e| panic!("generated policy does not parse: {e}\n{v}"))
    }

    /// Both decisions (engine, reference) for a scenario.
    fn decide(s: &Scenario) -> (Decision, Decision) {
        let identity: Vec<PolicyDocument> = s
            .identity
            .iter()
            .map(|v| parse(v, PolicyKind::Identity))
            .collect();
        let boundary = s.boundary.as_ref().map(|v| parse(v, PolicyKind::Boundary));
        let session: Option<Vec<PolicyDocument>> = s
            .session
            .as_ref()
            .map(|ps| ps.iter().map(|v| parse(v, PolicyKind::Session)).collect());
        let scps: Vec<Vec<PolicyDocument>> = s
            .scps
            .iter()
            .map(|l| l.iter().map(|v| parse(v, PolicyKind::Scp)).collect())
            .collect();
        let resource = s.resource.as_ref().map(|v| parse(v, PolicyKind::Resource));
        let compile = |d: &PolicyDocument| Arc::new(Policy::compile("p", d).unwrap());
        let mut b = PolicySet::builder();
        for d in &identity {
            b = b.identity(compile(d));
        }
        if let Some(d) = &boundary {
            b = b.boundary(compile(d));
        }
        if let Some(ps) = &session {
            b = b.session_policies(ps.iter().map(compile).collect());
        }
        for l in &scps {
            b = b.scp_level(l.iter().map(compile).collect());
        }
        let set = b.build().unwrap();
        let rp = resource.as_ref().map(compile);
        let mut ctx = Context::new();
        for i in &s.context {
            let (k, t, v) = CONTEXT[*i];
            ctx.insert(k, t, v.iter().copied()).unwrap();
        }
        let p = principal(s.principal);
        let req = Request {
            principal: &p,
            action: s.action,
            resource: s.resource_arn,
            resource_account: s.cross_account.then_some("444455556666"),
            context: &ctx,
        };
        let fast = authorize(&set, rp.as_deref(), &req).decision;
        // The keys the policies read are all a context needs.
        let read: Vec<&str> = set
            .context_keys()
            .into_iter()
            .chain(rp.iter().flat_map(|p| p.context_keys()))
            .collect();
        let mut only_read = Context::new();
        for i in &s.context {
            let (k, t, v) = CONTEXT[*i];
            if read.iter().any(|r| r.eq_ignore_ascii_case(k)) {
                only_read.insert(k, t, v.iter().copied()).unwrap();
            }
        }
        let trimmed = Request {
            principal: &p,
            action: s.action,
            resource: s.resource_arn,
            resource_account: s.cross_account.then_some("444455556666"),
            context: &only_read,
        };
        assert_eq!(
            authorize(&set, rp.as_deref(), &trimmed).decision,
            fast,
            "a context of only the keys the policies read ({read:?}) decides otherwise"
        );
        assert_eq!(
            fast,
            explain(&set, rp.as_deref(), &req).decision,
            "authorize and explain disagree"
        );
        let rset = reference::PolicySet {
            identity: identity.iter().collect(),
            boundary: boundary.as_ref(),
            session: session.as_ref().map(|ps| ps.iter().collect()),
            scps: scps.iter().map(|l| l.iter().collect()).collect(),
        };
        (fast, reference::authorize(&rset, resource.as_ref(), &req))
    }

    #[test]
    fn engine_agrees_with_reference_evaluator() {
        let counts = [
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        ];
        let mut runner = TestRunner::new(Config {
            cases: 1500,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&scenario(), |s| {
                let (engine, reference) = decide(&s);
                prop_assert_eq!(engine, reference, "scenario: {:#?}", s);
                counts[engine as usize].fetch_add(1, Ordering::Relaxed);
                Ok(())
            })
            .unwrap();
        let [allow, explicit, implicit] = counts.map(|c| c.into_inner());
        eprintln!("decisions: allow {allow}, explicit deny {explicit}, implicit deny {implicit}");
        assert!(
            allow >= 30 && explicit >= 30 && implicit >= 30,
            "too one-sided: allow {allow}, explicit {explicit}, implicit {implicit}"
        );
    }

    #[test]
    fn adding_a_deny_never_allows() {
        let mut runner = TestRunner::new(Config {
            cases: 300,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = (scenario(), statement(false), statement(true));
        runner
            .run(&strategy, |(s, mut deny, mut resource_deny)| {
                let (before, _) = decide(&s);
                deny["Effect"] = json!("Deny");
                let mut more = s.clone();
                more.identity
                    .push(json!({"Version": "2012-10-17", "Statement": [deny]}));
                if let Some(rp) = more.resource.as_mut() {
                    resource_deny["Effect"] = json!("Deny");
                    rp["Statement"].as_array_mut().unwrap().push(resource_deny);
                }
                let (after, _) = decide(&more);
                if before != Decision::Allow {
                    prop_assert_ne!(
                        after,
                        Decision::Allow,
                        "a deny became an allow: {:#?}",
                        more
                    );
                }
                if before == Decision::ExplicitDeny {
                    prop_assert_eq!(after, Decision::ExplicitDeny);
                }
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn parse_print_parse_is_identity() {
        let kinds = prop_oneof![
            policy(false).prop_map(|v| (v, PolicyKind::Identity)),
            policy(true).prop_map(|v| (v, PolicyKind::Resource)),
            policy(false).prop_map(|v| {
                // The single-statement object form.
                let first = v["Statement"][0].clone();
                (
                    json!({"Id": "x\"y\\u00e9", "Statement": first}),
                    PolicyKind::Scp,
                )
            }),
        ];
        let mut runner = TestRunner::new(Config {
            cases: 300,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&kinds, |(v, kind)| {
                let doc = parse(&v, kind);
                let printed = doc.to_json();
                let again = document::parse(&printed, kind).unwrap();
                prop_assert_eq!(&again, &doc);
                prop_assert_eq!(again.to_json(), printed);
                Ok(())
            })
            .unwrap();
    }

    /// Hostile input: arbitrary bytes, and valid policies with bytes flipped, cut or
    /// inserted, give a result (usually an error), never a panic.
    #[test]
    fn arbitrary_input_never_panics() {
        let mutated = (
            policy(true),
            proptest::collection::vec((any::<usize>(), any::<u8>(), 0..3u8), 1..6),
        )
            .prop_map(|(v, edits)| {
                let mut bytes = v.to_string().into_bytes();
                for (at, b, op) in edits {
                    let i = at % (bytes.len() + 1);
                    match op {
                        0 => bytes.insert(i, b),
                        1 if i < bytes.len() => bytes[i] = b,
                        _ => bytes.truncate(i),
                    }
                }
                bytes
            });
        let inputs = prop_oneof![proptest::collection::vec(any::<u8>(), 0..200), mutated];
        let mut runner = TestRunner::new(Config {
            cases: 2000,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&inputs, |bytes| {
                for kind in [
                    PolicyKind::Identity,
                    PolicyKind::Resource,
                    PolicyKind::Trust,
                    PolicyKind::Scp,
                ] {
                    if let Ok(doc) = document::parse_bytes(&bytes, kind) {
                        let compiled = Policy::compile("fuzz", &doc);
                        prop_assert!(compiled.is_ok());
                        prop_assert_eq!(document::parse(&doc.to_json(), kind).ok(), Some(doc));
                    }
                }
                Ok(())
            })
            .unwrap();
    }
}
