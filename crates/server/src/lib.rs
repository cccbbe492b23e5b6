//! The Portcullis service.
//!
//! A request travels through the modules in this order (see `request.rs`):
//! `http` reads it with a bounded body, `protocol` decodes the AWS Query
//! form into a typed operation, `authn` verifies its SigV4 signature,
//! `authz` maps the operation to an IAM action, resource and context
//! through one table and asks the policy engine, `ops` runs the handler in
//! one store transaction, and `protocol` renders the XML answer (or the AWS
//! error XML); `audit` records the call.

pub mod audit;
pub mod authn;
pub mod authz;
pub mod bootstrap;
pub mod config;
pub mod error;
pub mod federation;
pub mod http;
pub mod idp;
pub mod instances;
pub mod managed;
pub mod mfa;
pub mod ops;
pub mod password;
pub mod protocol;
pub mod reads;
pub mod request;
pub mod secrets;
pub mod sessions;
pub mod state;
