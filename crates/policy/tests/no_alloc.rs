//! Zero heap allocations per decision for requests without policy variables, over a
//! realistic principal: real AWS managed policies, a custom policy with conditions, a
//! permissions boundary, an SCP level and a bucket policy. Its own test binary, since
//! it installs a counting global allocator.

use std::alloc::System;
use std::path::Path;
use std::sync::Arc;

use portcullis_policy::document::{ParseOptions, PolicyKind, SizeQuota};
use portcullis_policy::{
    Context, ContextType, Decision, Policy, PolicySet, Principal, PrincipalKind, Request, authorize,
};
use serde_json::Value;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const CUSTOM: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"Objects","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::team-bucket/*",
   "Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]},"Bool":{"aws:SecureTransport":"true"}}},
  {"Sid":"NoDelete","Effect":"Deny","Action":"s3:Delete*","Resource":"*"},
  {"Sid":"Tags","Effect":"Allow","Action":"ec2:CreateTags","Resource":"*",
   "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]},"StringEqualsIgnoreCase":{"aws:RequestTag/env":"PROD"}}},
  {"Sid":"Until","Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:*:111122223333:queue-?",
   "Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"NumericLessThanEquals":{"aws:MultiFactorAuthAge":"3600"},"Null":{"aws:TokenIssueTime":"false"}}},
  {"Sid":"NotIam","Effect":"Deny","NotAction":["iam:Get*","iam:List*","s3:*","ec2:*","sqs:*","dynamodb:*","cloudwatch:*","logs:*","lambda:*","sts:*"],"Resource":"*"}
]}"#;

const BOUNDARY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["s3:*","ec2:*","iam:Get*","iam:List*","sqs:*","dynamodb:*","cloudwatch:*","logs:*","lambda:List*"],"Resource":"*"}]}"#;

const SCP: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"*","Resource":"*"},
  {"Effect":"Deny","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}]}"#;

const BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-bucket/*"},
  {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::team-bucket/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;

#[cfg(test)]
mod data {
    use super::*;

    pub fn managed(names: &[&str]) -> Vec<Arc<Policy>> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/aws-managed-policies/aws-managed-policies.json");
        let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let options = ParseOptions {
            kind: PolicyKind::Identity,
            quota: Some(SizeQuota::Unlimited),
        };
        names
            .iter()
            .map(|n| {
                let p = data["Policies"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["PolicyName"] == *n)
                    .unwrap();
                Policy::parse(*n, &p["Document"].to_string(), options).unwrap()
            })
            .collect()
    }
}

#[test]
fn decisions_without_variables_do_not_allocate() {
    let mut b = PolicySet::builder();
    for p in data::managed(&[
        "AmazonS3ReadOnlyAccess",
        "AmazonEC2ReadOnlyAccess",
        "IAMReadOnlyAccess",
        "AmazonDynamoDBReadOnlyAccess",
        "CloudWatchReadOnlyAccess",
        "AWSLambda_ReadOnlyAccess",
    ]) {
        assert!(!p.uses_variables());
        b = b.identity(p);
    }
    let custom = Policy::parse("custom", CUSTOM, PolicyKind::Identity).unwrap();
    let set = b
        .identity(custom)
        .boundary(Policy::parse("boundary", BOUNDARY, PolicyKind::Boundary).unwrap())
        .scp_level(vec![Policy::parse("scp", SCP, PolicyKind::Scp).unwrap()])
        .build()
        .unwrap();
    let bucket = Policy::parse("bucket", BUCKET, PolicyKind::Resource).unwrap();

    let alice = Principal::new(PrincipalKind::User, "arn:aws:iam::111122223333:user/alice");
    let mut ctx = Context::new();
    ctx.insert("aws:SourceIp", ContextType::Ip, ["203.0.113.9"])
        .unwrap();
    ctx.insert("aws:SecureTransport", ContextType::Boolean, ["true"])
        .unwrap();
    ctx.insert(
        "aws:CurrentTime",
        ContextType::Date,
        ["2026-11-28T12:00:00Z"],
    )
    .unwrap();
    ctx.insert("aws:TagKeys", ContextType::StringList, ["team", "env"])
        .unwrap();
    ctx.insert("aws:RequestTag/env", ContextType::String, ["prod"])
        .unwrap();
    ctx.insert("aws:MultiFactorAuthAge", ContextType::Numeric, ["60"])
        .unwrap();
    ctx.insert(
        "aws:TokenIssueTime",
        ContextType::Date,
        ["2026-11-28T11:00:00Z"],
    )
    .unwrap();
    ctx.insert("aws:RequestedRegion", ContextType::String, ["ap-south-1"])
        .unwrap();
    let requests: Vec<(&str, &str)> = vec![
        ("s3:GetObject", "arn:aws:s3:::team-bucket/report.csv"),
        ("s3:PutObject", "arn:aws:s3:::team-bucket/report.csv"),
        ("s3:DeleteObject", "arn:aws:s3:::team-bucket/report.csv"),
        ("S3:ListAllMyBuckets", "*"),
        ("ec2:DescribeInstances", "*"),
        (
            "ec2:CreateTags",
            "arn:aws:ec2:eu-west-1:111122223333:instance/i-1",
        ),
        (
            "ec2:RunInstances",
            "arn:aws:ec2:ap-south-1:111122223333:instance/*",
        ),
        ("iam:GetUser", "arn:aws:iam::111122223333:user/bob"),
        ("iam:CreateUser", "arn:aws:iam::111122223333:user/bob"),
        (
            "sqs:SendMessage",
            "arn:aws:sqs:eu-west-1:111122223333:queue-7",
        ),
        (
            "dynamodb:GetItem",
            "arn:aws:dynamodb:eu-west-1:111122223333:table/t",
        ),
        (
            "lambda:InvokeFunction",
            "arn:aws:lambda:eu-west-1:111122223333:function:f",
        ),
        ("kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/k"),
        ("cloudwatch:GetMetricData", "*"),
    ];
    let reqs: Vec<Request<'_>> = requests
        .iter()
        .map(|(action, resource)| Request {
            principal: &alice,
            action,
            resource,
            resource_account: None,
            context: &ctx,
        })
        .collect();
    // Warm up (and see that the workload mixes all three decisions).
    let mut seen = [false; 3];
    for r in &reqs {
        let d = authorize(&set, Some(&bucket), r).decision;
        seen[d as usize] = true;
    }
    assert_eq!(
        seen, [true; 3],
        "the workload should give Allow, ExplicitDeny and ImplicitDeny"
    );
    assert_eq!(
        authorize(&set, Some(&bucket), &reqs[0]).decision,
        Decision::Allow
    );

    let region = Region::new(GLOBAL);
    let mut allowed = 0usize;
    for _ in 0..500 {
        for r in &reqs {
            allowed += usize::from(authorize(&set, Some(&bucket), r).decision == Decision::Allow);
        }
    }
    let stats = region.change();
    assert!(allowed > 0);
    assert_eq!(
        stats.allocations + stats.reallocations,
        0,
        "allocations during {} decisions: {stats:?}",
        500 * reqs.len()
    );

    // The counter does see allocations: substituting a policy variable allocates.
    let home = Policy::parse(
        "home",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let with_vars = PolicySet::builder().identity(home).build().unwrap();
    ctx.insert("aws:username", ContextType::String, ["alice"])
        .unwrap();
    let r = Request {
        principal: &alice,
        action: "s3:GetObject",
        resource: "arn:aws:s3:::home/alice/x",
        resource_account: None,
        context: &ctx,
    };
    let region = Region::new(GLOBAL);
    assert_eq!(authorize(&with_vars, None, &r).decision, Decision::Allow);
    assert!(region.change().allocations > 0);
}
