//! The IAM policy language: parsing with positions, compilation, evaluation exactly as
//! AWS evaluates, and explanations. Pure: no I/O, no async.
//!
//! ```
//! use portcullis_policy::{authorize, Context, Decision, Policy, PolicyKind, PolicySet, Principal, PrincipalKind, Request};
//!
//! let policy = Policy::parse("p", r#"{"Version":"2012-10-17","Statement":[
//!     {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/${aws:username}/*"}]}"#,
//!     PolicyKind::Identity).unwrap();
//! let set = PolicySet::builder().identity(policy).build().unwrap();
//! let alice = Principal::new(PrincipalKind::User, "arn:aws:iam::111122223333:user/alice");
//! let mut context = Context::new();
//! context.insert("aws:username", portcullis_policy::ContextType::String, ["alice"]).unwrap();
//! let req = Request { principal: &alice, action: "s3:GetObject", resource: "arn:aws:s3:::bucket/alice/x",
//!                     resource_account: None, context: &context };
//! assert_eq!(authorize(&set, None, &req).decision, Decision::Allow);
//! ```
//!
//! Layers, each its own module:
//! - [`document`]: text → [`PolicyDocument`] (wire model with spans), checked against
//!   the grammar and the rules of its [`PolicyKind`] (required and forbidden elements,
//!   size quotas from [`SizeQuota`]); errors carry AWS's `MalformedPolicyDocument`
//!   wording, a JSON path and a line and column. [`PolicyDocument::to_json`] prints
//!   the canonical form, which parses back to an equal document.
//! - [`Policy::compile`]: the immutable compiled form (patterns precompiled, values
//!   pre-parsed, keys lowercased), `Send + Sync`, shared by `Arc`.
//! - [`PolicySet`]: a principal's policies (identity, boundary, session, SCP levels),
//!   indexed by action: exact names in a hash map, `service:pattern` statements per
//!   service, everything else (`*`, `NotAction`) in one list; denies first.
//! - [`authorize`]: the decision on the hot path, without heap allocation unless a
//!   policy variable must be substituted; [`explain`]: the decision with its reasons.
//! - `reference` (feature `reference`): a deliberately naive second implementation
//!   for differential tests and benchmarks.
//!
//! # How a request is decided
//!
//! As the IAM User Guide's [policy evaluation logic][logic] and
//! [cross-account evaluation][cross] describe:
//!
//! 1. A statement applies when its action, resource (and, in a resource-based
//!    policy, principal) elements cover the request and every condition holds
//!    ([condition operators][ops], [multiple keys and values][multi]). Policy
//!    variables are substituted under Version `2012-10-17` only; a variable with no
//!    value matches nothing ([variables][vars]).
//! 2. An applicable `Deny` in any policy decides: [`Decision::ExplicitDeny`].
//! 3. Every SCP level must have an applicable `Allow`.
//! 4. The root user is bound by nothing else in its own account.
//! 5. A same-account resource-based policy that names the caller itself grants on its
//!    own; one that names the role ARN still needs the boundary and session policies;
//!    one that names the account defers to the identity side (see
//!    [`Grant`]; [boundaries][boundaries], [session policies][session]).
//! 6. The identity side allows when an identity policy allows and the permissions
//!    boundary and session policies, where present, allow too.
//! 7. Cross-account, both the resource policy and the identity side must allow; a
//!    role trust policy must always allow `sts:AssumeRole*`.
//! 8. Otherwise: [`Decision::ImplicitDeny`].
//!
//! [logic]: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
//! [cross]: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
//! [ops]: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
//! [multi]: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
//! [vars]: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
//! [boundaries]: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
//! [session]: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session

mod action;
pub mod arn;
mod authorizer;
mod block;
pub mod catalog;
pub mod condition;
mod context;
pub mod document;
mod error;
mod explain;
mod index;
mod json;
mod pattern;
mod policy;
#[cfg(feature = "reference")]
pub mod reference;
pub mod validate;

pub use authorizer::{
    Deciding, Decision, MAX_SCP_LEVELS, Outcome, PolicySet, PolicySetBuilder, PolicySource,
    StatementRef, authorize,
};
pub use context::{
    Context, ContextEntry, ContextKey, ContextType, ContextValue, Principal, PrincipalKind, Request,
};
pub use document::{
    Effect, ParseOptions, PolicyDocument, PolicyKind, SizeQuota, parse, parse_bytes,
};
pub use error::{AwsErrorCode, Diagnostic, Error, Position, Span};
pub use explain::{Explanation, Mismatch, StatementInfo, StatementTrace, explain};
pub use policy::{Grant, Policy};
