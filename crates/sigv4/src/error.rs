//! The one error type of this crate.
//!
//! Every variant is named after the AWS error code it is rendered as (with one
//! documented exception, [`SigV4Error::RequestExpired`]), carries AWS's own
//! message wording, and knows its HTTP status, so the server renders all of
//! them in one place from [`SigV4Error::code`], [`SigV4Error::status`] and
//! `Display`.
//!
//! Messages never contain a secret: the canonical request shown in
//! `SignatureDoesNotMatch` has the session token replaced by a marker.

use std::fmt;

use http::StatusCode;

use crate::amz_date::AmzDate;

/// Why a request failed SigV4 authentication.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigV4Error {
    /// The request carries neither an `Authorization` header nor presigned
    /// query parameters.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,

    /// The signature is malformed or lacks a component; the reason says which.
    #[error("{0}")]
    IncompleteSignature(IncompleteSignature),

    /// The signature, the credential scope or the signed headers are wrong.
    #[error("{0}")]
    SignatureDoesNotMatch(Box<SignatureMismatch>),

    /// The request time is outside the ±15 minute window around the server
    /// clock. The AWS common-errors list calls this `RequestExpired`, but IAM
    /// and STS answer it with code `SignatureDoesNotMatch` (HTTP 403) and the
    /// "Signature expired" wording, and so does [`SigV4Error::code`].
    #[error("{0}")]
    RequestExpired(RequestExpired),

    /// A presigned URL was used after `X-Amz-Date + X-Amz-Expires`.
    #[error("Request has expired")]
    AccessDenied(PresignedExpired),

    /// The access key id is unknown. Raised by the server after its key
    /// lookup; this crate never decides it.
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId,

    /// The session token is past its expiry. Raised by the server after
    /// decrypting the token.
    #[error("The security token included in the request is expired")]
    ExpiredToken,

    /// A presigned-URL parameter other than the signature components is bad
    /// (`X-Amz-Expires`).
    #[error("{0}")]
    AuthorizationQueryParametersError(String),

    /// The raw query string cannot be percent-decoded.
    #[error("{0}")]
    MalformedQueryString(String),

    /// The `x-amz-content-sha256` header is not one of the accepted values, or
    /// two authentication mechanisms were used at once.
    #[error("{0}")]
    InvalidArgument(String),

    /// The declared `x-amz-content-sha256` differs from the body's digest.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    XAmzContentSha256Mismatch,

    /// The request lacks something this verification needs (the payload
    /// digest), or an aws-chunked body is malformed.
    #[error("{0}")]
    InvalidRequest(String),

    /// An aws-chunked body ended before its final chunk.
    #[error("The request body terminated unexpectedly")]
    IncompleteBody,
}

impl SigV4Error {
    /// The AWS error code, as sent in `<Code>`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationToken",
            Self::IncompleteSignature(_) => "IncompleteSignature",
            Self::SignatureDoesNotMatch(_) | Self::RequestExpired(_) => "SignatureDoesNotMatch",
            Self::AccessDenied(_) => "AccessDenied",
            Self::InvalidClientTokenId => "InvalidClientTokenId",
            Self::ExpiredToken => "ExpiredToken",
            Self::AuthorizationQueryParametersError(_) => "AuthorizationQueryParametersError",
            Self::MalformedQueryString(_) => "MalformedQueryString",
            Self::InvalidArgument(_) => "InvalidArgument",
            Self::XAmzContentSha256Mismatch => "XAmzContentSHA256Mismatch",
            Self::InvalidRequest(_) => "InvalidRequest",
            Self::IncompleteBody => "IncompleteBody",
        }
    }

    /// The HTTP status AWS sends with [`Self::code`].
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingAuthenticationToken
            | Self::SignatureDoesNotMatch(_)
            | Self::RequestExpired(_)
            | Self::AccessDenied(_)
            | Self::InvalidClientTokenId
            | Self::ExpiredToken => StatusCode::FORBIDDEN,
            Self::IncompleteSignature(_)
            | Self::AuthorizationQueryParametersError(_)
            | Self::MalformedQueryString(_)
            | Self::InvalidArgument(_)
            | Self::XAmzContentSha256Mismatch
            | Self::InvalidRequest(_)
            | Self::IncompleteBody => StatusCode::BAD_REQUEST,
        }
    }

    pub(crate) fn incomplete(reason: IncompleteReason, authorization: Option<&str>) -> Self {
        Self::IncompleteSignature(IncompleteSignature {
            reasons: vec![reason],
            authorization: authorization.map(str::to_owned),
        })
    }

    pub(crate) fn mismatch(reason: MismatchReason) -> Self {
        Self::SignatureDoesNotMatch(Box::new(SignatureMismatch { reason }))
    }
}

/// One or more reasons a signature is incomplete, in AWS's wording.
#[derive(Debug)]
pub struct IncompleteSignature {
    reasons: Vec<IncompleteReason>,
    /// The `Authorization` header as received, echoed as AWS does.
    authorization: Option<String>,
}

impl IncompleteSignature {
    pub(crate) fn new(reasons: Vec<IncompleteReason>, authorization: Option<&str>) -> Self {
        Self {
            reasons,
            authorization: authorization.map(str::to_owned),
        }
    }

    /// Every problem found, in the order AWS reports them.
    #[must_use]
    pub fn reasons(&self) -> &[IncompleteReason] {
        &self.reasons
    }
}

impl fmt::Display for IncompleteSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut query_form = false;
        for reason in &self.reasons {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            query_form |= matches!(reason, IncompleteReason::MissingQueryParameter(_));
            write!(f, "{reason}")?;
        }
        if query_form {
            f.write_str(" Re-examine the query-string parameters.")?;
        }
        if let Some(auth) = &self.authorization {
            write!(f, " Authorization={auth}")?;
        }
        Ok(())
    }
}

/// A component of the `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Component {
    /// `Credential=`
    Credential,
    /// `SignedHeaders=`
    SignedHeaders,
    /// `Signature=`
    Signature,
}

impl Component {
    fn name(self) -> &'static str {
        match self {
            Self::Credential => "Credential",
            Self::SignedHeaders => "SignedHeaders",
            Self::Signature => "Signature",
        }
    }
}

/// Why a signature is incomplete.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IncompleteReason {
    /// A component of the `Authorization` header is absent.
    MissingComponent(Component),
    /// A component appears twice in the `Authorization` header.
    DuplicateComponent(Component),
    /// A comma-separated part of the header is not `key=value`.
    NotKeyValue(String),
    /// Neither `X-Amz-Date` nor `Date` is present.
    MissingDate,
    /// A required presigned query parameter is absent.
    MissingQueryParameter(&'static str),
    /// The date is not ISO-8601 basic format (or, for `Date`, an HTTP date).
    MalformedDate(String),
    /// The algorithm is not `AWS4-HMAC-SHA256`.
    UnsupportedAlgorithm(String),
    /// SigV4A (`AWS4-ECDSA-P256-SHA256`), which this service does not verify.
    SigV4a,
    /// The credential is not `keyid/date/region/service/terminator`.
    MalformedCredential(String),
    /// `SignedHeaders` is empty or holds an empty or non-lowercase name.
    MalformedSignedHeaders(String),
}

impl fmt::Display for IncompleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingComponent(c) => {
                write!(f, "Authorization header requires '{}' parameter.", c.name())
            }
            Self::DuplicateComponent(c) => write!(
                f,
                "Authorization header contains the '{}' parameter more than once.",
                c.name()
            ),
            Self::NotKeyValue(part) => write!(
                f,
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header."
            ),
            Self::MissingDate => f.write_str(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            ),
            Self::MissingQueryParameter(name) => {
                write!(f, "AWS query-string parameters must include '{name}'.")
            }
            Self::MalformedDate(got) => write!(
                f,
                "Date must be in ISO-8601 'basic format'. Got '{got}'. See http://en.wikipedia.org/wiki/ISO_8601"
            ),
            Self::UnsupportedAlgorithm(alg) => write!(
                f,
                "Unsupported AWS 'algorithm': '{alg}' (only AWS4-HMAC-SHA256 for now)."
            ),
            Self::SigV4a => f.write_str(
                "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256' (only AWS4-HMAC-SHA256 for now). \
                 SigV4A multi-region signatures are not supported by this service; sign with SigV4.",
            ),
            Self::MalformedCredential(cred) => write!(
                f,
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{cred}'"
            ),
            Self::MalformedSignedHeaders(value) => write!(
                f,
                "SignedHeaders must be a non-empty, semicolon-separated list of lowercase header names, got '{value}'."
            ),
        }
    }
}

/// A signature that does not verify, with what the server computed.
#[derive(Debug)]
pub struct SignatureMismatch {
    reason: MismatchReason,
}

impl SignatureMismatch {
    /// Why the signature was rejected.
    #[must_use]
    pub fn reason(&self) -> &MismatchReason {
        &self.reason
    }
}

/// Why a signature was rejected.
#[derive(Debug)]
#[non_exhaustive]
pub enum MismatchReason {
    /// The signature differs from the one the server computed. The texts are
    /// the server's canonical request (session token redacted) and string to
    /// sign, as AWS returns them.
    Computed {
        /// The canonical request, session token redacted.
        canonical_request: String,
        /// The string to sign.
        string_to_sign: String,
    },
    /// `host` is not among the signed headers.
    HostNotSigned,
    /// The credential scope disagrees with the request or the service.
    Scope(Vec<ScopeProblem>),
    /// A chunk of an aws-chunked body has a wrong signature.
    Chunk {
        /// Zero-based index of the chunk.
        index: u64,
    },
    /// The trailing headers of an aws-chunked body have a wrong signature.
    Trailer,
}

impl fmt::Display for SignatureMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
        match &self.reason {
            MismatchReason::Computed {
                canonical_request,
                string_to_sign,
            } => write!(
                f,
                "{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical_request}'\n\n\
                 The String-to-Sign should have been\n'{string_to_sign}'\n"
            ),
            MismatchReason::HostNotSigned => f.write_str(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            ),
            MismatchReason::Scope(problems) => {
                let mut first = true;
                for p in problems {
                    if !first {
                        f.write_str(" ")?;
                    }
                    first = false;
                    write!(f, "{p}")?;
                }
                Ok(())
            }
            MismatchReason::Chunk { index } => {
                write!(f, "{MISMATCH} (aws-chunked body: chunk {index})")
            }
            MismatchReason::Trailer => write!(f, "{MISMATCH} (aws-chunked body: trailing headers)"),
        }
    }
}

/// A disagreement between the credential scope and the request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopeProblem {
    /// The scope's region is not one this service answers for.
    Region {
        /// The region in the credential scope.
        got: String,
    },
    /// The scope's service is not this service.
    Service {
        /// The service this verifier expects.
        expected: String,
    },
    /// The scope does not end with `aws4_request`.
    Terminator {
        /// The terminator in the credential scope.
        got: String,
    },
    /// The scope date is not the date of `X-Amz-Date`.
    Date {
        /// `YYYYMMDD` in the credential scope.
        scope: String,
        /// `YYYYMMDD` of the request time.
        request: String,
        /// The full request time.
        timestamp: String,
    },
}

impl fmt::Display for ScopeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Region { got } => {
                write!(
                    f,
                    "Credential should be scoped to a valid region, not '{got}'."
                )
            }
            Self::Service { expected } => {
                write!(
                    f,
                    "Credential should be scoped to correct service: '{expected}'."
                )
            }
            Self::Terminator { got } => write!(
                f,
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{got}'."
            ),
            Self::Date {
                scope,
                request,
                timestamp,
            } => write!(
                f,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
                 '{scope}' != '{request}', from '{timestamp}'."
            ),
        }
    }
}

/// A request time outside the allowed clock skew.
#[derive(Clone)]
pub struct RequestExpired {
    request: AmzDate,
    now: AmzDate,
    bound: AmzDate,
    skew_minutes: i64,
    side: Side,
}

/// Which side of the window a [`RequestExpired`] time fell on: a `bool` with
/// the size of a word. As a `bool`, this error's discriminant lived in its
/// spare byte values, and an `Authenticated` on its way out of
/// verification, which shares its bytes with the error in the `Result`,
/// was copied a byte here and two there, each copy then read back whole
/// before its stores had completed. As a word, both are copied in words.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
enum Side {
    Past = 0,
    Future = 1,
}

impl fmt::Debug for RequestExpired {
    // As `derive(Debug)` with `future: bool` wrote it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestExpired")
            .field("request", &self.request)
            .field("now", &self.now)
            .field("bound", &self.bound)
            .field("skew_minutes", &self.skew_minutes)
            .field("future", &self.is_future())
            .finish()
    }
}

impl RequestExpired {
    pub(crate) fn new(request: AmzDate, now: AmzDate, skew_seconds: i64, future: bool) -> Self {
        let bound_secs = if future {
            now.unix_seconds() + skew_seconds
        } else {
            now.unix_seconds() - skew_seconds
        };
        Self {
            request,
            now,
            bound: AmzDate::from_unix_seconds(bound_secs),
            skew_minutes: skew_seconds / 60,
            side: if future { Side::Future } else { Side::Past },
        }
    }

    /// Whether the request is dated in the future rather than the past.
    #[must_use]
    pub fn is_future(&self) -> bool {
        self.side == Side::Future
    }
}

impl fmt::Display for RequestExpired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_future() {
            write!(
                f,
                "Signature not yet current: {} is still later than {} ({} + {} min.)",
                self.request, self.bound, self.now, self.skew_minutes
            )
        } else {
            write!(
                f,
                "Signature expired: {} is now earlier than {} ({} - {} min.)",
                self.request, self.bound, self.now, self.skew_minutes
            )
        }
    }
}

/// A presigned URL past its expiry.
#[derive(Debug, Clone)]
pub struct PresignedExpired {
    expired_at: AmzDate,
}

impl PresignedExpired {
    pub(crate) fn new(expired_at: AmzDate) -> Self {
        Self { expired_at }
    }

    /// When the URL expired (`X-Amz-Date + X-Amz-Expires`).
    #[must_use]
    pub fn expired_at(&self) -> &AmzDate {
        &self.expired_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `RequestExpired` keeps the `Debug` output it had when `future` was a
    /// `bool` and `Debug` derived.
    #[test]
    fn request_expired_debug_is_unchanged() {
        #[derive(Debug)]
        #[allow(dead_code, reason = "read by Debug only")]
        struct RequestExpired {
            request: AmzDate,
            now: AmzDate,
            bound: AmzDate,
            skew_minutes: i64,
            future: bool,
        }
        let request = AmzDate::from_unix_seconds(1_440_938_160);
        let now = AmzDate::from_unix_seconds(1_440_940_000);
        for future in [false, true] {
            let e = super::RequestExpired::new(request, now, 900, future);
            assert_eq!(e.is_future(), future);
            let old = RequestExpired {
                request,
                now,
                bound: e.bound,
                skew_minutes: 15,
                future,
            };
            assert_eq!(format!("{e:?}"), format!("{old:?}"));
            assert_eq!(format!("{e:#?}"), format!("{old:#?}"));
        }
    }
}
