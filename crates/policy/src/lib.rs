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
//!   the grammar and the rules of its [`PolicyKind`]; printed back with
//!   [`PolicyDocument::to_json`].
//! - [`Policy::compile`]: the immutable compiled form, shared by `Arc`.
//! - [`PolicySet`]: a principal's policies (identity, boundary, session, SCP levels),
//!   indexed by action.
//! - [`authorize`]: the decision on the hot path; [`explain`]: the decision with its
//!   reasons.
//! - `reference` (feature `reference`): a deliberately naive second implementation
//!   for differential tests.

mod action;
pub mod arn;
mod authorizer;
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

pub use authorizer::{
    Deciding, Decision, MAX_SCP_LEVELS, Outcome, PolicySet, PolicySetBuilder, PolicySource,
    StatementRef, authorize,
};
pub use context::{
    Context, ContextEntry, ContextType, ContextValue, Principal, PrincipalKind, Request,
};
pub use document::{
    Effect, ParseOptions, PolicyDocument, PolicyKind, SizeQuota, parse, parse_bytes,
};
pub use error::{AwsErrorCode, Diagnostic, Error, Position, Span};
pub use explain::{Explanation, Mismatch, StatementInfo, StatementTrace, explain};
pub use policy::{Grant, Policy};
