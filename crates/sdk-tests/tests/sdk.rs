//! Behaviour tests through the AWS SDK for Rust, against the real
//! `portcullis` binary (`PORTCULLIS_BIN`, or `target/debug/portcullis`: run
//! `cargo build -p portcullis-cli` first).
//!
//! One test binary, one server, one module per API family. Each test names
//! its entities uniquely, so they run in parallel on the shared server.
//! Errors are checked through the SDK's typed errors where the model has
//! them (`is_no_such_entity_exception()`…), and through the error code
//! where it has none (`ValidationError`, `AccessDenied`, signature errors).

// Clippy allows `expect` inside `#[test]` functions only; the helpers that
// tests share fail the same way, on purpose.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failed set-up step must fail the test that needed it, loudly"
)]

/// Asserts that a call failed with the modelled AWS error that the SDK's
/// `$is` method recognises (`is_no_such_entity_exception`…); gives the error.
macro_rules! assert_service_error {
    ($result:expr, $is:ident) => {{
        let e = $result.expect_err(concat!("the call should fail: ", stringify!($is)));
        assert!(
            e.as_service_error().is_some_and(|s| s.$is()),
            "expected {}, got {e:?}",
            stringify!($is)
        );
        e
    }};
}

/// Asserts that a call failed with the AWS error code `$code` (for errors
/// the model does not declare: ValidationError, AccessDenied, …); gives the
/// error's message.
macro_rules! assert_error_code {
    ($result:expr, $code:expr) => {{
        let e = $result.expect_err(concat!("the call should fail: ", stringify!($code)));
        assert_eq!(crate::harness::code_of(&e).as_deref(), Some($code), "{e:?}");
        crate::harness::message_of(&e)
    }};
}

#[path = "sdk/harness.rs"]
mod harness;

#[path = "sdk/access_keys.rs"]
mod access_keys;
#[path = "sdk/account.rs"]
mod account;
#[path = "sdk/authorization.rs"]
mod authorization;
#[path = "sdk/groups.rs"]
mod groups;
#[path = "sdk/inline_policies.rs"]
mod inline_policies;
#[path = "sdk/managed_policies.rs"]
mod managed_policies;
#[path = "sdk/sts.rs"]
mod sts;
#[path = "sdk/users.rs"]
mod users;
