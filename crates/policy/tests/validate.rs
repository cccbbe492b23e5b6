//! Validation (`portcullis_policy::validate`): every AWS managed policy validates
//! without an error, and deliberately bad policies get the right findings at the right
//! line and column.

use std::collections::BTreeMap;
use std::path::Path;

use portcullis_policy::PolicyKind;
use portcullis_policy::validate::{Finding, Severity, validate};
use serde_json::Value;

/// All 1,452 AWS managed policies (the March 2026 snapshot in
/// `data/aws-managed-policies/`), pretty-printed as the console shows them. AWS wrote
/// them, so an error here means a check is wrong or the catalog is stale; the names
/// the catalog lacks are listed in `catalog::NOT_IN_CATALOG` and reported as warnings.
#[test]
fn aws_managed_policies_have_no_errors() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/aws-managed-policies/aws-managed-policies.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let policies = data["Policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1452);
    let mut errors = Vec::new();
    let mut by_code: BTreeMap<(Severity, &str), usize> = BTreeMap::new();
    for p in policies {
        let name = p["PolicyName"].as_str().unwrap();
        let text = serde_json::to_string_pretty(&p["Document"]).unwrap();
        for f in validate(&text, PolicyKind::Identity) {
            *by_code.entry((f.severity, f.code)).or_default() += 1;
            if f.severity == Severity::Error {
                errors.push(format!(
                    "{name}:{}:{}: {} {}",
                    f.position.line, f.position.column, f.code, f.message
                ));
            }
        }
    }
    for ((severity, code), n) in &by_code {
        eprintln!("{n:6} {severity} {code}");
    }
    assert!(
        errors.is_empty(),
        "{} errors in AWS managed policies:\n{}",
        errors.len(),
        errors.join("\n")
    );
    // The checks did run: AWS's policies are not all clean.
    assert!(by_code.keys().any(|(s, _)| *s == Severity::SecurityWarning));
    assert!(by_code.contains_key(&(Severity::Warning, "NOT_IN_CATALOG")));
}

/// The 1-based line and column of the first occurrence of `needle` (columns in
/// characters), computed independently of the crate.
fn at(text: &str, needle: &str) -> (u32, u32) {
    let offset = text.find(needle);
    assert!(offset.is_some(), "`{needle}` not in the policy");
    let before = &text[..offset.unwrap_or(0)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line as u32, column as u32)
}

type Expected = (Severity, &'static str, &'static str);

/// Asserts that the findings are exactly `expected`: each (severity, code) at the
/// first occurrence of its needle.
fn check(name: &str, kind: PolicyKind, text: &str, expected: &[Expected]) -> Vec<Finding> {
    let findings = validate(text, kind);
    let got: Vec<(Severity, &str, u32, u32)> = findings
        .iter()
        .map(|f| (f.severity, f.code, f.position.line, f.position.column))
        .collect();
    let mut want: Vec<(Severity, &str, u32, u32)> = expected
        .iter()
        .map(|(s, c, needle)| {
            let (l, col) = at(text, needle);
            (*s, *c, l, col)
        })
        .collect();
    let mut sorted = got.clone();
    sorted.sort();
    want.sort();
    assert_eq!(sorted, want, "{name}: findings differ:\n{findings:#?}");
    findings
}

fn message<'a>(findings: &'a [Finding], code: &str) -> Option<&'a str> {
    findings
        .iter()
        .find(|f| f.code == code)
        .map(|f| f.message.as_str())
}

const V: &str = r#""Version": "2012-10-17","#;

#[test]
fn a_clean_policy_has_no_findings() {
    let text = format!(
        r#"{{
  {V}
  "Statement": [
    {{
      "Sid": "ReadOwnPrefix",
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject"],
      "Resource": "arn:aws:s3:::team-bucket/${{aws:username}}/*",
      "Condition": {{
        "Bool": {{"aws:SecureTransport": "true"}},
        "IpAddress": {{"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}},
        "DateLessThan": {{"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        "StringEquals": {{"aws:RequestTag/Project": "blue", "s3:x-amz-acl": "private"}}
      }}
    }},
    {{
      "Effect": "Allow",
      "Action": "s3:ListBucket",
      "Resource": "arn:aws:s3:::team-bucket",
      "Condition": {{"StringLike": {{"s3:prefix": "${{aws:username}}/*"}}}}
    }}
  ]
}}"#
    );
    check("clean", PolicyKind::Identity, &text, &[]);
}

#[test]
fn unknown_services_and_actions() {
    let text = format!(
        r#"{{
  {V}
  "Statement": [{{
    "Effect": "Allow",
    "Action": [
      "s3:GetObjct",
      "s4:GetObject",
      "iam:Frobnicate*",
      "deepracer:ListModels",
      "s3*:GetObject"
    ],
    "Resource": "*"
  }}]
}}"#
    );
    let f = check(
        "unknown",
        PolicyKind::Identity,
        &text,
        &[
            (Severity::Error, "INVALID_ACTION", "\"s3:GetObjct\""),
            (
                Severity::Error,
                "INVALID_SERVICE_IN_ACTION",
                "\"s4:GetObject\"",
            ),
            (Severity::Error, "INVALID_ACTION", "\"iam:Frobnicate*\""),
            (
                Severity::Warning,
                "NOT_IN_CATALOG",
                "\"deepracer:ListModels\"",
            ),
            (
                Severity::Suggestion,
                "WILDCARD_IN_SERVICE_NAME",
                "\"s3*:GetObject\"",
            ),
        ],
    );
    let typo = f
        .iter()
        .find(|x| x.path == "Statement[0].Action[0]")
        .unwrap();
    assert!(
        typo.message.contains("Did you mean `s3:GetObject`?"),
        "{}",
        typo.message
    );
    assert!(
        message(&f, "INVALID_SERVICE_IN_ACTION")
            .unwrap()
            .contains("Did you mean `s3`?"),
        "{f:#?}"
    );
}

#[test]
fn actions_that_cannot_act_on_the_resources() {
    let text = format!(
        r#"{{
  {V}
  "Statement": [
    {{
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:ListBucket"],
      "Resource": "arn:aws:s3:::reports"
    }},
    {{
      "Effect": "Allow",
      "Action": "iam:CreateUser",
      "Resource": "arn:aws:iam::111122223333:role/admin"
    }}
  ]
}}"#
    );
    let f = check(
        "mismatch",
        PolicyKind::Identity,
        &text,
        &[
            (
                Severity::Warning,
                "UNSUPPORTED_RESOURCE_ARN_IN_POLICY",
                "\"s3:GetObject\"",
            ),
            (
                Severity::Warning,
                "UNSUPPORTED_RESOURCE_ARN_IN_POLICY",
                "\"iam:CreateUser\"",
            ),
        ],
    );
    assert!(
        f[0].message
            .contains("arn:${Partition}:s3:::${BucketName}/${ObjectName}"),
        "{f:#?}"
    );
    assert!(
        f[1].message.contains("the statement grants nothing."),
        "{f:#?}"
    );
}

#[test]
fn condition_keys() {
    let text = format!(
        r#"{{
  {V}
  "Statement": [{{
    "Effect": "Allow",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::b/*",
    "Condition": {{
      "StringEquals": {{
        "s3:NoSuchKey": "x",
        "aws:SourceIpAddress": "x",
        "foo:bar": "x",
        "s3:prefix": "home/",
        "aws:PrincipalTag/team": "blue",
        "s3:ExistingObjectTag/Project": "blue",
        "token.actions.githubusercontent.com:sub": "repo:o/r:ref:refs/heads/main",
        "aws:ARN": "x"
      }},
      "StringLike": {{"AWS:ResourceTag/": "x"}}
    }}
  }}]
}}"#
    );
    check(
        "keys",
        PolicyKind::Identity,
        &text,
        &[
            (
                Severity::Error,
                "INVALID_SERVICE_CONDITION_KEY",
                "\"s3:NoSuchKey\"",
            ),
            (
                Severity::Error,
                "INVALID_GLOBAL_CONDITION_KEY",
                "\"aws:SourceIpAddress\"",
            ),
            (Severity::Error, "INVALID_SERVICE", "\"foo:bar\""),
            (
                Severity::Warning,
                "CONDITION_KEY_NOT_SUPPORTED",
                "\"s3:prefix\"",
            ),
            (
                Severity::Warning,
                "DEPRECATED_GLOBAL_CONDITION_KEY",
                "\"aws:ARN\"",
            ),
            (
                Severity::Error,
                "MISSING_TAG_KEY_IN_CONDITION",
                "\"AWS:ResourceTag/\"",
            ),
        ],
    );
}

#[test]
fn operators_against_key_and_value_types() {
    let text = format!(
        r#"{{
  {V}
  "Statement": [{{
    "Effect": "Deny",
    "Action": "*",
    "Resource": "*",
    "Condition": {{
      "DateGreaterThan": {{"aws:CurrentTime": "yesterday"}},
      "Bool": {{"aws:SecureTransport": "yes"}},
      "IpAddress": {{"aws:SourceIp": ["10.0.0.300/8", "192.0.2.77/24"]}},
      "StringEquals": {{"aws:TokenIssueTime": "2024-01-01"}},
      "StringLike": {{"aws:SourceArn": "arn:aws:sns:*:111122223333:*", "aws:username": "admin*"}},
      "StringNotEquals": {{"aws:PrincipalAccount": "1111*"}},
      "NumericLessThan": {{"aws:MultiFactorAuthAge": "an hour", "aws:username": "3"}},
      "DateLessThan": {{"aws:EpochTime": "2021"}},
      "ForAllValues:StringEquals": {{"aws:PrincipalOrgID": "o-abc"}},
      "StringEqualsIgnoreCase": {{"aws:TagKeys": "Project"}},
      "NumericGreaterThan": {{"aws:MultiFactorAuthAge": "${{aws:TokenIssueTime}}"}},
      "ForAnyValue:StringEquals": {{"aws:CalledVia": []}}
    }}
  }}]
}}"#
    );
    check(
        "types",
        PolicyKind::Identity,
        &text,
        &[
            (Severity::Warning, "TYPE_MISMATCH_DATE", "\"yesterday\""),
            (Severity::Warning, "TYPE_MISMATCH_BOOLEAN", "\"yes\""),
            (
                Severity::Warning,
                "TYPE_MISMATCH_IP_RANGE",
                "\"10.0.0.300/8\"",
            ),
            (
                Severity::Suggestion,
                "IMPROVE_IP_RANGE",
                "\"192.0.2.77/24\"",
            ),
            (
                Severity::Warning,
                "TYPE_MISMATCH",
                "\"aws:TokenIssueTime\": \"2024",
            ),
            (Severity::Suggestion, "TYPE_MISMATCH", "\"aws:SourceArn\""),
            (
                Severity::Warning,
                "WILDCARD_WITHOUT_LIKE_OPERATOR",
                "\"1111*\"",
            ),
            (Severity::Warning, "TYPE_MISMATCH_NUMBER", "\"an hour\""),
            (
                Severity::Warning,
                "TYPE_MISMATCH",
                "\"aws:username\": \"3\"",
            ),
            (Severity::Warning, "INVALID_DATE_VALUE", "\"2021\""),
            (
                Severity::SecurityWarning,
                "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
                "\"aws:PrincipalOrgID\"",
            ),
            (Severity::Warning, "MISSING_QUALIFIER", "\"aws:TagKeys\""),
            (
                Severity::Error,
                "INVALID_VARIABLE_FOR_OPERATOR",
                "\"${aws:TokenIssueTime}\"",
            ),
            (
                Severity::Suggestion,
                "EMPTY_ARRAY_CONDITION_FORANYVALUE",
                "\"aws:CalledVia\"",
            ),
        ],
    );
}

#[test]
fn broad_grants() {
    let text = format!(
        r#"{{
  {V}
  "Statement": [
    {{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}},
    {{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}},
    {{"Effect": "Allow", "Action": "iam:Pass*", "Resource": "arn:aws:iam::111122223333:role/*"}},
    {{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/service-role/Ops*",
      "Condition": {{"StringEquals": {{"iam:PassedToService": "ec2.amazonaws.com"}}}}}},
    {{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:*"}},
    {{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/Build*"}}
  ]
}}"#
    );
    check(
        "broad",
        PolicyKind::Identity,
        &text,
        &[
            (
                Severity::SecurityWarning,
                "ALLOW_WITH_NOT_ACTION_AND_STAR_RESOURCE",
                "\"*\"}",
            ),
            (
                Severity::SecurityWarning,
                "PASS_ROLE_WITH_STAR_IN_RESOURCE",
                "\"*\"},\n    {\"Effect\": \"Allow\", \"Action\": \"iam:Pass*\"",
            ),
            (
                Severity::SecurityWarning,
                "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE",
                "\"arn:aws:iam::111122223333:role/*\"",
            ),
            (
                Severity::SecurityWarning,
                "PASS_ROLE_WITH_STAR_IN_RESOURCE",
                "\"arn:aws:iam::*:*\"",
            ),
            // Statement[1] (iam:PassRole on `*`) already grants what these do.
            (
                Severity::Suggestion,
                "REDUNDANT_STATEMENT",
                "{\"Effect\": \"Allow\", \"Action\": \"iam:Pass*\"",
            ),
            (
                Severity::Suggestion,
                "REDUNDANT_STATEMENT",
                "{\"Effect\": \"Allow\", \"Action\": \"iam:PassRole\", \"Resource\": \"arn:aws:iam::*:*\"",
            ),
            (
                Severity::Suggestion,
                "REDUNDANT_STATEMENT",
                "{\"Effect\": \"Allow\", \"Action\": \"iam:PassRole\", \"Resource\": \"arn:aws:iam::*:role/Build*\"",
            ),
        ],
    );
}

#[test]
fn redundancy_and_empty_elements() {
    let text = format!(
        r#"{{
  {V}
  "Statement": [
    {{"Effect": "Allow", "Action": ["iam:Get*", "iam:GetUser", "iam:List*"], "Resource": "*"}},
    {{"Effect": "Allow", "Action": "s3:GetObject",
      "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b/logs/*"], "Condition": {{}}}},
    {{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}},
    {{"Sid": "", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*",
      "Condition": {{"StringEquals": {{"aws:PrincipalTag/team": []}}, "StringLike": {{}}}}}}
  ]
}}"#
    );
    check(
        "redundancy",
        PolicyKind::Identity,
        &text,
        &[
            (Severity::Suggestion, "REDUNDANT_ACTION", "\"iam:GetUser\""),
            (
                Severity::Suggestion,
                "REDUNDANT_RESOURCE",
                "\"arn:aws:s3:::b/logs/*\"",
            ),
            (
                Severity::Suggestion,
                "EMPTY_OBJECT_CONDITION",
                "{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\"",
            ),
            (
                Severity::Suggestion,
                "REDUNDANT_STATEMENT",
                "{\"Effect\": \"Allow\", \"Action\": \"iam:ListUsers\"",
            ),
            (Severity::Suggestion, "EMPTY_SID_VALUE", "\"\""),
            (
                Severity::Suggestion,
                "EMPTY_ARRAY_CONDITION",
                "\"aws:PrincipalTag/team\"",
            ),
            (
                Severity::Suggestion,
                "EMPTY_OBJECT_CONDITION",
                "\"StringLike\"",
            ),
        ],
    );
}

#[test]
fn versions_and_variables() {
    let missing = r#"{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"}}"#;
    let f = check(
        "no version",
        PolicyKind::Identity,
        missing,
        &[
            (Severity::Warning, "MISSING_VERSION", "{"),
            (
                Severity::Warning,
                "VARIABLE_UNSUPPORTED_IN_VERSION",
                "\"arn:aws:s3:::b/${",
            ),
        ],
    );
    assert_eq!((f[0].position.line, f[0].position.column), (1, 1));
    let old = "{\n  \"Version\": \"2008-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:ListBucket\", \"Resource\": \"arn:aws:s3:::b\",\n    \"Condition\": {\"StringLike\": {\"s3:prefix\": \"${aws:username}/*\"}}}]}";
    let f = check(
        "2008",
        PolicyKind::Identity,
        old,
        &[(
            Severity::Warning,
            "VARIABLE_UNSUPPORTED_IN_VERSION",
            "\"${aws:username}/*\"",
        )],
    );
    assert_eq!((f[0].position.line, f[0].position.column), (4, 47));
}

#[test]
fn arns() {
    let text = format!(
        r#"{{
  {V}
  "Statement": [{{
    "Effect": "Allow",
    "Action": "s3:*",
    "Resource": [
      "arn:aws:s3",
      "arn:aws:S3:::b",
      "arn:amazon:s3:::b",
      "arn:aws:s3::1234:b",
      "arn:${{aws:PrincipalTag/partition}}:s3:::c"
    ]
  }}]
}}"#
    );
    check(
        "arns",
        PolicyKind::Identity,
        &text,
        &[
            (Severity::Error, "MISSING_ARN_FIELD", "\"arn:aws:s3\""),
            (Severity::Error, "INVALID_ARN_SERVICE_CASE", "\"arn:aws:S3"),
            (Severity::Error, "INVALID_PARTITION", "\"arn:amazon"),
            (Severity::Error, "INVALID_ARN_ACCOUNT", "\"arn:aws:s3::1234"),
        ],
    );
}

#[test]
fn parse_errors_are_error_findings_with_positions() {
    let json = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\" \"Action\": \"*\"}\n  ]\n}";
    let f = check(
        "json",
        PolicyKind::Identity,
        json,
        &[(Severity::Error, "JSON_SYNTAX_ERROR", "\"Action\"")],
    );
    assert_eq!((f[0].position.line, f[0].position.column), (4, 24));
    let principal = format!(
        "{{\n  {V}\n  \"Statement\": [{{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"s3:*\", \"Resource\": \"*\"}},\n    {{\"Effect\": \"Allow\", \"Action\": [], \"Resource\": \"*\"}},\n    {{\"Effect\": \"Permit\", \"Action\": \"s3:*\", \"Resource\": \"*\"}}]\n}}"
    );
    check(
        "grammar",
        PolicyKind::Identity,
        &principal,
        &[
            (Severity::Error, "UNSUPPORTED_PRINCIPAL", "\"Principal\""),
            (Severity::Error, "EMPTY_ARRAY_ACTION", "[]"),
            (Severity::Error, "INVALID_EFFECT", "\"Permit\""),
        ],
    );
    let dup = format!(
        r#"{{{V} "Statement": {{"Effect": "Deny", "Action": "*", "Resource": "*",
  "Condition": {{"StringEquals": {{"aws:PrincipalTag/Team": "a", "aws:principaltag/team": "b"}}}}}}}}"#
    );
    check(
        "case duplicates",
        PolicyKind::Identity,
        &dup,
        &[(
            Severity::Error,
            "DUPLICATE_KEYS_WITH_DIFFERENT_CASE",
            "\"aws:principaltag/team\"",
        )],
    );
}

#[test]
fn size_quotas_by_kind() {
    let resources: Vec<String> = (0..300)
        .map(|i| format!("\"arn:aws:s3:::bucket-{i}/*\""))
        .collect();
    let text = format!(
        r#"{{{V} "Statement": [{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": [{}]}}]}}"#,
        resources.join(",")
    );
    let identity = validate(&text, PolicyKind::Identity);
    assert_eq!(identity.len(), 1, "{identity:#?}");
    assert_eq!(
        identity[0].code,
        "POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA"
    );
    assert_eq!(identity[0].severity, Severity::Warning);
    let scp = validate(&text, PolicyKind::Scp);
    assert_eq!(scp.len(), 1, "{scp:#?}");
    assert_eq!(
        (scp[0].severity, scp[0].code),
        (Severity::Error, "POLICY_SIZE_EXCEEDS_SCP_QUOTA")
    );
}

#[test]
fn trust_policies() {
    let text = format!(
        r#"{{
  {V}
  "Statement": [{{
    "Effect": "Allow",
    "Principal": {{"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {{
      "StringEquals": {{"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},
      "StringLike": {{"token.actions.githubusercontent.com:sub": "repo:octo/app:*"}}
    }}
  }},
  {{"Effect": "Allow", "NotPrincipal": {{"AWS": "arn:aws:iam::111122223333:root"}}, "Action": "sts:AssumeRole"}}]
}}"#
    );
    check(
        "trust",
        PolicyKind::Trust,
        &text,
        &[(
            Severity::SecurityWarning,
            "ALLOW_WITH_NOT_PRINCIPAL",
            "\"arn:aws:iam::111122223333:root\"",
        )],
    );
}

#[test]
fn findings_serialize_as_access_analyzer_names() {
    let f = validate(
        r#"{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}}"#,
        PolicyKind::Identity,
    );
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(json[0]["severity"], "WARNING");
    assert_eq!(json[0]["code"], "MISSING_VERSION");
    assert_eq!(json[1]["severity"], "SECURITY_WARNING");
    assert_eq!(json[1]["position"]["line"], 1);
    assert_eq!(json[1]["path"], "Statement.Resource");
}
