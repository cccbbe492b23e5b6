//! Behaviour tests of `portcullis-sigv4`, one binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failed fixture or signer call is a failed test"
)]

mod aws_sigv4_signed;
mod errors;
mod streaming;
