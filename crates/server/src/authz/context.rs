//! The request context: the global condition keys AWS sets for every
//! request ("AWS global condition context keys" in the IAM User Guide) and
//! the keys the operation sets itself.

use portcullis_policy::{Context, ContextType};

use super::actions::{RequestKey, Target};
use super::{PrincipalPolicies, Resource};
use crate::authn::{Authenticated, Identity, Transport};
use crate::state::AppState;

/// Builds the context of one request by a user.
pub fn build(
    state: &AppState,
    auth: &Authenticated,
    policies: &PrincipalPolicies,
    resource: &Resource,
    target: &Target<'_>,
    transport: Transport,
) -> Context {
    let caller = auth.caller();
    let mut c = Context::new();
    // Keys come from our own values, which are always well-formed for
    // their type; an insert that fails would only drop a key, which makes
    // conditions on it fail closed.
    let mut put = |key: &str, ty: ContextType, values: &[&str]| {
        let _ = c.insert(key, ty, values.iter().copied());
    };
    let now = state.clock.now();
    let iso = crate::protocol::xml::Timestamp(now).to_iso8601();
    put("aws:CurrentTime", ContextType::Date, &[&iso]);
    put(
        "aws:EpochTime",
        ContextType::Date,
        &[&now.unix_timestamp().to_string()],
    );
    put("aws:PrincipalArn", ContextType::String, &[&caller.arn]);
    put(
        "aws:PrincipalAccount",
        ContextType::String,
        &[&caller.account_id],
    );
    put("aws:userid", ContextType::String, &[&caller.user_id]);
    match &caller.identity {
        Identity::User { name, .. } => {
            put("aws:PrincipalType", ContextType::String, &["User"]);
            put("aws:username", ContextType::String, &[name]);
        }
        Identity::Root => put("aws:PrincipalType", ContextType::String, &["Account"]),
    }
    put(
        "aws:PrincipalIsAWSService",
        ContextType::Boolean,
        &["false"],
    );
    put("aws:ViaAWSService", ContextType::Boolean, &["false"]);
    put(
        "aws:SourceIp",
        ContextType::Ip,
        &[&transport.source_ip.to_string()],
    );
    put(
        "aws:SecureTransport",
        ContextType::Boolean,
        &[if transport.secure { "true" } else { "false" }],
    );
    put("aws:RequestedRegion", ContextType::String, &[auth.region()]);
    for tag in &policies.tags {
        put(
            &format!("aws:PrincipalTag/{}", tag.key),
            ContextType::String,
            &[&tag.value],
        );
    }
    for tag in &resource.tags {
        put(
            &format!("aws:ResourceTag/{}", tag.key),
            ContextType::String,
            &[&tag.value],
        );
        put(
            &format!("iam:ResourceTag/{}", tag.key),
            ContextType::String,
            &[&tag.value],
        );
    }
    for key in &target.keys {
        match key {
            RequestKey::PermissionsBoundary(arn) => {
                put("iam:PermissionsBoundary", ContextType::String, &[arn])
            }
            RequestKey::PolicyArn(arn) => put("iam:PolicyARN", ContextType::String, &[arn]),
            RequestKey::Tags(tags) => {
                for tag in tags.iter() {
                    put(
                        &format!("aws:RequestTag/{}", tag.key),
                        ContextType::String,
                        &[&tag.value],
                    );
                }
                let keys: Vec<&str> = tags.iter().map(|t| t.key.as_str()).collect();
                put("aws:TagKeys", ContextType::StringList, &keys);
            }
            RequestKey::TagKeys(keys) => {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                put("aws:TagKeys", ContextType::StringList, &keys);
            }
        }
    }
    c
}
