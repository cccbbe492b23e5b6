//! The Portcullis service.
//!
//! A request travels through the modules in this order (see `request.rs`):
//! `protocol` decodes the AWS Query form into a typed operation, `authn`
//! verifies its SigV4 signature, `authz` maps the operation to an IAM action,
//! resource and context and asks the policy engine, `ops` runs the handler in
//! one store transaction, and `protocol` renders the XML answer (or the AWS
//! error XML).

pub mod error;
pub mod protocol;
