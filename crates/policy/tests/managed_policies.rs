//! Every AWS managed policy (a March 2026 snapshot, `data/aws-managed-policies/`)
//! parses and compiles as an identity policy, and printing it gives text that parses
//! back to the same document. AWS managed policies are not bound by the customer
//! managed quota (ReadOnlyAccess alone is far larger), so no quota is applied.

use std::path::Path;

use portcullis_policy::Policy;
use portcullis_policy::document::{self, ParseOptions, PolicyKind, SizeQuota};
use serde_json::Value;

#[test]
fn all_aws_managed_policies_parse_and_compile() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/aws-managed-policies/aws-managed-policies.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let policies = data["Policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1452);
    let options = ParseOptions {
        kind: PolicyKind::Identity,
        quota: Some(SizeQuota::Unlimited),
    };
    let mut failures = Vec::new();
    let mut statements = 0;
    for p in policies {
        let name = p["PolicyName"].as_str().unwrap();
        let text = p["Document"].to_string();
        match document::parse(&text, options) {
            Ok(doc) => {
                let compiled = Policy::compile(name, &doc).unwrap();
                statements += compiled.len();
                let again = document::parse(&doc.to_json(), options).unwrap();
                assert_eq!(again, doc, "{name}: print → parse changed the document");
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} managed policies failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(statements > 1452, "only {statements} statements compiled");
}
