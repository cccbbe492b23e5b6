//! The AWS Query protocol: form-encoded requests in, XML responses out.
//!
//! The operation and shape types in `generated/` come from the AWS API
//! models in `data/aws-models/` (run `codegen/protocol.py`); the hand-written
//! runtime they build on lives beside them.

pub mod form;
pub mod generated;
pub mod query;
pub mod scan;
pub mod xml;
