//! AWS Signature Version 4 verification, sans I/O.
//!
//! # Flow
//!
//! ```text
//! Request (method, raw path, raw query, headers)
//!   └─ ParsedRequest::parse      Authorization header or presigned query
//!        │                       → access key id, scope, signed headers,
//!        │                         session token, claimed signature
//!        │  (server: look up the secret by access key id, or decrypt the
//!        │   session token; unknown → SigV4Error::InvalidClientTokenId)
//!   └─ ParsedRequest::verify     time window, scope, canonical request,
//!                                string to sign, signing key (cached),
//!                                constant-time comparison
//!        → Authenticated         (only this crate can make one)
//!        → Authenticated::chunked_decoder for aws-chunked bodies
//! ```
//!
//! # Invariants
//!
//! - Every failure is a [`SigV4Error`] whose variant names the AWS error code
//!   and whose message is AWS's; nothing panics on any input.
//! - Secrets ([`SecretKey`], [`SigningKey`]) are wiped on drop and redacted in
//!   `Debug`; session tokens are redacted in every `Debug` and error message.
//! - Signatures are compared only with `subtle`'s constant-time equality;
//!   [`Signature`] has no `PartialEq`.
//! - The canonicalisation is AWS's: URI normalisation and double encoding for
//!   every service but S3 ([`UriEncoding`]), RFC 3986 query encoding sorted by
//!   name then value, header values trimmed with inner whitespace collapsed and
//!   repeated headers joined with `,`, `host` always signed.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use portcullis_sigv4::{ParsedRequest, Payload, Request, Rules, SecretKey, SigningKeyCache, VerifyParams};
//!
//! let headers = vec![
//!     ("Host", "example.amazonaws.com"),
//!     ("X-Amz-Date", "20150830T123600Z"),
//!     ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
//!       SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
//! ];
//! let request = Request { method: "GET", path: "/", query: "", headers: &headers, authority: None };
//! let parsed = ParsedRequest::parse(request)?;
//! assert_eq!(parsed.access_key_id(), "AKIDEXAMPLE");
//!
//! let secret = SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
//! let cache = SigningKeyCache::new(1024);
//! let auth = parsed.verify(VerifyParams {
//!     secret: &secret,
//!     payload: Payload::of_body(b""),
//!     now: UNIX_EPOCH + Duration::from_secs(1_440_938_160),
//!     rules: &Rules::new("service"),
//!     cache: Some(&cache),
//! })?;
//! assert_eq!(auth.scope().region, "us-east-1");
//! # Ok::<(), portcullis_sigv4::SigV4Error>(())
//! ```

mod amz_date;
mod authorization;
mod canonical;
mod error;
mod presigned;
mod request;
mod signature;
mod signing_key;
mod streaming;
mod string_to_sign;
mod swar;
mod verify;

pub use amz_date::{AmzDate, MAX_PRESIGNED_EXPIRES_SECONDS, MAX_SKEW_SECONDS};
pub use authorization::{AuthorizationHeader, parse_authorization};
pub use canonical::{CanonicalRequest, Redacted, UriEncoding};
pub use error::{
    Component, IncompleteReason, IncompleteSignature, MismatchReason, PresignedExpired,
    RequestExpired, ScopeProblem, SigV4Error, SignatureMismatch,
};
pub use presigned::{PresignedQuery, parse_presigned_query};
pub use request::{Headers, Request};
pub use signature::{HexBuf, Signature};
pub use signing_key::{SecretKey, SigningKey, SigningKeyCache};
pub use streaming::ChunkedDecoder;
pub use string_to_sign::{ALGORITHM, CredentialScope, StringToSign};
pub use verify::{
    AuthForm, Authenticated, ContentSha256, ParsedRequest, Payload, PayloadCheck, Rules,
    STREAMING_PAYLOAD, STREAMING_PAYLOAD_TRAILER, STREAMING_UNSIGNED_PAYLOAD_TRAILER,
    UNSIGNED_PAYLOAD, VerifyParams,
};
