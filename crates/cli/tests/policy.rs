//! `portcullis policy validate` and `portcullis policy simulate`, run as
//! the built binary on the documents in `tests/fixtures/`.

#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failed step must fail the test loudly"
)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn portcullis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(args)
        .current_dir(fixture(""))
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Runs `policy simulate` on a fixture; returns the exit code and the
/// parsed `EvaluationResults` (empty when stdout is not JSON).
fn simulate(name: &str, extra: &[&str]) -> (Output, Vec<Value>) {
    let mut args = vec!["policy", "simulate", "--input", name];
    args.extend_from_slice(extra);
    let out = portcullis(&args);
    let results = serde_json::from_str::<Value>(&stdout(&out))
        .ok()
        .and_then(|v| v["EvaluationResults"].as_array().cloned())
        .unwrap_or_default();
    (out, results)
}

fn result_for<'a>(results: &'a [Value], action: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["EvalActionName"] == action)
        .unwrap()
}

// ---------------------------------------------------------------------------
// validate

#[test]
fn validate_reports_errors_with_positions_and_exits_1() {
    let out = portcullis(&["policy", "validate", "invalid-identity.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.contains(
            &"invalid-identity.json:7:18: ERROR INVALID_ACTION: The action `s3:GetObjekt` does \
              not exist. Did you mean `s3:GetObject`? (Statement[0].Action[0])"
        ),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(
            "invalid-identity.json:13:19: SECURITY_WARNING PASS_ROLE_WITH_STAR_IN_RESOURCE: "
        ) && l.ends_with("(Statement[1].Resource)")),
        "{text}"
    );
}

#[test]
fn validate_clean_file_exits_0_with_no_output() {
    let out = portcullis(&["policy", "validate", "clean-identity.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn validate_kind_decides_which_elements_are_allowed() {
    let as_identity = portcullis(&["policy", "validate", "trust.json"]);
    assert_eq!(as_identity.status.code(), Some(1));
    assert!(stdout(&as_identity).contains("trust.json:6:7: ERROR UNSUPPORTED_PRINCIPAL: "));
    let as_trust = portcullis(&["policy", "validate", "--kind", "trust", "trust.json"]);
    assert_eq!(as_trust.status.code(), Some(0), "{}", stdout(&as_trust));
}

#[test]
fn validate_json_lists_every_finding_of_every_file() {
    let out = portcullis(&[
        "policy",
        "validate",
        "--json",
        "invalid-identity.json",
        "malformed.json",
        "clean-identity.json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let findings: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(findings.len(), 3, "{findings:#?}");
    let first = &findings[0];
    assert_eq!(first["file"], "invalid-identity.json");
    assert_eq!(first["line"], 7);
    assert_eq!(first["column"], 18);
    assert_eq!(first["severity"], "ERROR");
    assert_eq!(first["code"], "INVALID_ACTION");
    assert_eq!(first["path"], "Statement[0].Action[0]");
    let principal = &findings[2];
    assert_eq!(principal["file"], "malformed.json");
    assert_eq!(principal["code"], "UNSUPPORTED_PRINCIPAL");
    assert_eq!(
        (principal["line"].clone(), principal["column"].clone()),
        (8.into(), 7.into())
    );
}

#[test]
fn validate_unreadable_file_is_a_clear_error_with_exit_2() {
    let out = portcullis(&[
        "policy",
        "validate",
        "clean-identity.json",
        "no-such-file.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read no-such-file.json"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------------------
// simulate

#[test]
fn simulate_gives_the_three_decisions_with_matched_statements() {
    let (out, results) = simulate("simulate-basic.json", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(results.len(), 3);

    // One resource denied explicitly, one allowed: the action's decision
    // is the most restrictive, and each resource has its own.
    let get = result_for(&results, "s3:GetObject");
    assert_eq!(get["EvalDecision"], "explicitDeny");
    let per_resource = get["ResourceSpecificResults"].as_array().unwrap();
    assert_eq!(
        per_resource[0]["EvalResourceName"],
        "arn:aws:s3:::example-bucket/secret/key"
    );
    assert_eq!(per_resource[0]["EvalResourceDecision"], "explicitDeny");
    assert_eq!(per_resource[1]["EvalResourceDecision"], "allowed");
    // The deny statement (Sid NoSecrets) starts on line 10 of the policy
    // text; the allowing one (ReadAll) on line 4.
    let deny = &per_resource[0]["MatchedStatements"][0];
    assert_eq!(deny["SourcePolicyId"], "PolicyInputList.1");
    assert_eq!(deny["SourcePolicyType"], "none");
    assert_eq!(deny["StartPosition"]["Line"], 10);
    assert_eq!(
        per_resource[1]["MatchedStatements"][0]["StartPosition"]["Line"],
        4
    );

    let put = result_for(&results, "s3:PutObject");
    assert_eq!(put["EvalDecision"], "implicitDeny");
    assert_eq!(put["MatchedStatements"], serde_json::json!([]));
    assert_eq!(
        put["MissingContextValues"],
        serde_json::json!(["aws:SourceIp"])
    );

    let create = result_for(&results, "iam:CreateUser");
    assert_eq!(create["EvalDecision"], "implicitDeny");
    assert_eq!(create["MissingContextValues"], serde_json::json!([]));
}

#[test]
fn simulate_context_entries_satisfy_conditions() {
    let (out, results) = simulate("simulate-context.json", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let put = result_for(&results, "s3:PutObject");
    assert_eq!(put["EvalDecision"], "allowed");
    assert_eq!(put["MissingContextValues"], serde_json::json!([]));
}

#[test]
fn simulate_scp_and_boundary_inputs_restrict_and_are_reported() {
    let (out, results) = simulate("simulate-scp-boundary.json", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let get = result_for(&results, "s3:GetObject");
    assert_eq!(get["EvalDecision"], "allowed");
    assert_eq!(
        get["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"],
        true
    );
    assert_eq!(
        get["OrganizationsDecisionDetail"]["AllowedByOrganizations"],
        true
    );
    let sources: Vec<&Value> = get["MatchedStatements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["SourcePolicyId"])
        .collect();
    assert_eq!(
        sources,
        ["PolicyInputList.1", "PermissionsBoundaryPolicyInputList.1"]
    );

    // The identity policy allows iam:*, the boundary does not.
    let create = result_for(&results, "iam:CreateUser");
    assert_eq!(create["EvalDecision"], "implicitDeny");
    assert_eq!(
        create["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"],
        false
    );

    // The SCP denies it.
    let delete = result_for(&results, "s3:DeleteBucket");
    assert_eq!(delete["EvalDecision"], "explicitDeny");
    assert_eq!(
        delete["OrganizationsDecisionDetail"]["AllowedByOrganizations"],
        false
    );
}

#[test]
fn simulate_explain_names_the_deciding_statements_and_failed_conditions() {
    let (out, results) = simulate("simulate-basic.json", &["--explain"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The JSON comes first, whole; results is empty if it was not.
    assert!(results.is_empty(), "the explanation follows the JSON");
    let text = stdout(&out);
    let (json, explanation) = text.split_once("\n\n").unwrap();
    let parsed: Value = serde_json::from_str(json).unwrap();
    assert_eq!(parsed["EvaluationResults"].as_array().unwrap().len(), 3);
    assert!(
        explanation.contains(
            "ExplicitDeny: s3:GetObject on arn:aws:s3:::example-bucket/secret/key\ndenied by:\n  - \
         identity policy `PolicyInputList.1` statement 1 (Sid `NoSecrets`) [Deny]"
        ),
        "{explanation}"
    );
    assert!(
        explanation.contains(
            "condition IpAddress on aws:SourceIp is false: the request has no aws:SourceIp"
        ),
        "{explanation}"
    );
}

#[test]
fn simulate_reads_standard_input() {
    let input = std::fs::read(fixture("simulate-context.json")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["policy", "simulate", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (_, from_file) = simulate("simulate-context.json", &[]);
    let from_stdin: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(from_stdin["EvaluationResults"], Value::Array(from_file));
}

#[test]
fn simulate_bad_input_gets_the_api_error_and_exit_2() {
    let cases = [
        (
            "simulate-bad-policy.json",
            "An error occurred (InvalidInput) when calling the SimulateCustomPolicy operation: \
             PolicyInputList.1: Policy statement must contain resources.",
        ),
        (
            "simulate-bad-action.json",
            "An error occurred (InvalidInput) when calling the SimulateCustomPolicy operation: \
             Invalid action name GetObject",
        ),
        (
            "simulate-unknown-member.json",
            "Unknown parameter in input: \"PolicyInputs\"",
        ),
    ];
    for (file, message) in cases {
        let (out, results) = simulate(file, &[]);
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert!(results.is_empty(), "{file}");
        assert!(stderr(&out).contains(message), "{file}: {}", stderr(&out));
    }
    let missing = portcullis(&["policy", "simulate", "--input", "no-such-input.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot read no-such-input.json"));
}

#[test]
fn simulate_applies_the_models_validation() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["policy", "simulate", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"ActionNames": ["s3:GetObject"]}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("(ValidationError)") && stderr(&out).contains("policyInputList"),
        "{}",
        stderr(&out)
    );
}
