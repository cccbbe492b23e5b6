//! The two phases of verification.
//!
//! 1. [`ParsedRequest::parse`] reads the signature components from the
//!    request. Nothing is trusted yet; the server uses the access key id (and
//!    session token) to find the secret.
//! 2. [`ParsedRequest::verify`] checks time, scope and signature with that
//!    secret and returns [`Authenticated`], which nothing outside this crate
//!    can construct: holding one proves the checks ran and passed.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use aws_lc_rs::digest;
use subtle::ConstantTimeEq;

use crate::amz_date::{AmzDate, MAX_SKEW_SECONDS};
use crate::authorization::{parse_authorization, parse_common_layout};
use crate::canonical::{
    self, CanonicalRequest, HashSink, KnownHeaders, PayloadLine, QueryRules, Sink, UriEncoding,
};
use crate::error::{
    IncompleteReason, IncompleteSignature, MismatchReason, PresignedExpired, RequestExpired,
    ScopeProblem, SigV4Error,
};
use crate::presigned::parse_presigned_query;
use crate::request::{Headers, Request};
use crate::signature::{Signature, decode_hex32};
use crate::signing_key::{SecretKey, SigningKey, SigningKeyCache};
use crate::streaming::{ChunkedDecoder, StreamingSeed};
use crate::string_to_sign::{self, CredentialScope, StringToSign};

/// `x-amz-content-sha256: UNSIGNED-PAYLOAD`.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// aws-chunked body with a signature per chunk.
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// aws-chunked body with a signature per chunk and signed trailing headers.
pub const STREAMING_PAYLOAD_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// aws-chunked body, unsigned, with trailing checksum headers.
pub const STREAMING_UNSIGNED_PAYLOAD_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// Where the signature was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthForm {
    /// The `Authorization` header.
    Header,
    /// Presigned query parameters, valid for `expires` seconds when given.
    Presigned {
        /// `X-Amz-Expires`.
        expires: Option<u64>,
    },
}

/// What the client declared in `x-amz-content-sha256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentSha256 {
    /// No such header.
    Absent,
    /// A hex SHA-256 digest of the body.
    Digest([u8; 32]),
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (`trailer: false`) or its
    /// `-TRAILER` form.
    Streaming {
        /// Whether signed trailing headers follow the last chunk.
        trailer: bool,
    },
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
    StreamingUnsignedTrailer,
}

/// What the server knows of the body when it verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// The SHA-256 of the whole body (small bodies: IAM and STS requests).
    Sha256([u8; 32]),
    /// The body has not been read (streaming uploads); what remains to be
    /// checked is returned in [`Authenticated::payload`].
    NotRead,
}

impl Payload {
    /// Hashes a body that is already in memory.
    #[must_use]
    pub fn of_body(body: &[u8]) -> Self {
        Self::Sha256(sha256(body))
    }
}

/// What the service expects of a signature: the service's signing name, the
/// regions it answers for, and the canonicalisation it uses.
#[derive(Debug, Clone)]
pub struct Rules {
    service: String,
    region: Option<String>,
    uri: UriEncoding,
    query_session_token_signed: bool,
}

impl Rules {
    fn is_s3(&self) -> bool {
        self.service == "s3"
    }
}

impl Rules {
    /// Rules for the service whose signing name is `service` (`iam`, `sts`,
    /// `s3`, …): any region, AWS's canonicalisation for that service.
    #[must_use]
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_owned(),
            region: None,
            uri: UriEncoding::for_service(service),
            query_session_token_signed: true,
        }
    }

    /// Accept only credential scopes for `region`.
    #[must_use]
    pub fn region(mut self, region: &str) -> Self {
        self.region = Some(region.to_owned());
        self
    }

    /// Override how the path is canonicalised.
    #[must_use]
    pub fn uri_encoding(mut self, uri: UriEncoding) -> Self {
        self.uri = uri;
        self
    }

    /// For clients that append `X-Amz-Security-Token` to a presigned URL after
    /// signing it (AWS IoT's WebSocket URLs): leave it out of the canonical
    /// query.
    #[must_use]
    pub fn query_session_token_unsigned(mut self) -> Self {
        self.query_session_token_signed = false;
        self
    }

    /// The expected service.
    #[must_use]
    pub fn service(&self) -> &str {
        &self.service
    }
}

/// The inputs of [`ParsedRequest::verify`].
#[derive(Debug, Clone, Copy)]
pub struct VerifyParams<'p> {
    /// The secret of the access key in the request.
    pub secret: &'p SecretKey,
    /// What the server knows of the body.
    pub payload: Payload,
    /// The server clock.
    pub now: SystemTime,
    /// The service's expectations.
    pub rules: &'p Rules,
    /// Where to keep derived signing keys; `None` derives every time.
    pub cache: Option<&'p SigningKeyCache>,
}

/// A request whose signature components have been read but not verified.
pub struct ParsedRequest<'a, H: ?Sized> {
    request: Request<'a, H>,
    form: AuthForm,
    credential: Credential<Cow<'a, str>>,
    signed_headers: Cow<'a, str>,
    signature: Option<Signature>,
    date: AmzDate,
    session_token: Option<Cow<'a, str>>,
    content_sha256: ContentSha256,
    decoded_content_length: Option<u64>,
    seen: SeenHeaders<'a>,
}

impl<'a, H: Headers + ?Sized> ParsedRequest<'a, H> {
    /// Reads the signature from the `Authorization` header or the presigned
    /// query parameters.
    #[inline(always)]
    pub fn parse(request: Request<'a, H>) -> Result<Self, SigV4Error> {
        let mut seen = SeenHeaders::collect(request.headers);
        let authorization = seen.get(AUTHORIZATION);
        // No query (every IAM and STS POST): nothing to parse, and no large
        // `Result` to unpack.
        let presigned = if request.query.is_empty() {
            None
        } else {
            parse_presigned_query(request.query)?
        };
        if authorization.is_none() && presigned.is_none() {
            return Err(SigV4Error::MissingAuthenticationToken);
        }
        // No header (most requests have none): no call, and no `Result` to
        // read back from memory.
        let content_sha256 = match seen.get(CONTENT_SHA256) {
            None => ContentSha256::Absent,
            Some(raw) => parse_content_sha256(raw)?,
        };
        let decoded_content_length = seen
            .get(DECODED_CONTENT_LENGTH)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.trim().parse().ok());
        // Matched one at a time rather than as a pair: the pair would be a
        // copy of the (absent, and large) presigned parameters.
        let Some(q) = presigned else {
            let Some(raw) = authorization else {
                return Err(SigV4Error::MissingAuthenticationToken);
            };
            // What every SDK sends, read in one pass; anything else takes
            // the general path below, which gives the same result for
            // this layout and names every problem otherwise.
            let date_value = seen
                .get(X_AMZ_DATE)
                .map(|d| (d, true))
                .or_else(|| seen.get(DATE).map(|d| (d, false)));
            if let Some(header) = parse_common_layout(raw)
                && let Some((raw_date, iso)) = date_value
            {
                let date = parse_date(raw_date, iso)?;
                seen.date_checked(iso);
                return Ok(Self {
                    request,
                    form: AuthForm::Header,
                    credential: Credential {
                        text: Cow::Borrowed(header.credential),
                        slashes: header.slashes,
                    },
                    signed_headers: Cow::Borrowed(header.signed_headers),
                    signature: Some(header.signature),
                    date,
                    session_token: seen.get(SECURITY_TOKEN).map(String::from_utf8_lossy),
                    content_sha256,
                    decoded_content_length,
                    seen,
                });
            }
            let Ok(value) = std::str::from_utf8(raw) else {
                return Err(SigV4Error::incomplete(
                    IncompleteReason::NotKeyValue(String::from_utf8_lossy(raw).into_owned()),
                    None,
                ));
            };
            let parsed = parse_authorization(value);
            let mut problems = parsed.as_ref().err().cloned().unwrap_or_default();
            if date_value.is_none()
                && !matches!(
                    problems.first(),
                    Some(IncompleteReason::SigV4a | IncompleteReason::UnsupportedAlgorithm(_))
                )
            {
                problems.push(IncompleteReason::MissingDate);
            }
            let header = match parsed {
                Ok(h) if problems.is_empty() => h,
                _ => {
                    return Err(SigV4Error::IncompleteSignature(IncompleteSignature::new(
                        problems,
                        Some(value),
                    )));
                }
            };
            let date = match date_value {
                Some((raw, iso)) => {
                    let date = parse_date(raw, iso)?;
                    seen.date_checked(iso);
                    date
                }
                None => {
                    return Err(SigV4Error::incomplete(
                        IncompleteReason::MissingDate,
                        Some(value),
                    ));
                }
            };
            let session_token = seen.get(SECURITY_TOKEN).map(String::from_utf8_lossy);
            return Ok(Self {
                request,
                form: AuthForm::Header,
                credential: Credential::new(Cow::Borrowed(header.credential)),
                signed_headers: Cow::Borrowed(header.signed_headers),
                signature: Signature::from_hex(header.signature),
                date,
                session_token,
                content_sha256,
                decoded_content_length,
                seen,
            });
        };
        if authorization.is_some() {
            return Err(SigV4Error::InvalidArgument(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
                 Signature query string parameter or the Authorization header should be specified"
                    .into(),
            ));
        }
        let date = parse_date(q.date.as_bytes(), true)?;
        Ok(Self {
            request,
            form: AuthForm::Presigned { expires: q.expires },
            credential: Credential::new(Cow::Owned(q.credential)),
            signed_headers: Cow::Owned(q.signed_headers),
            signature: Signature::from_hex(&q.signature),
            date,
            session_token: q.security_token.map(Cow::Owned),
            content_sha256,
            decoded_content_length,
            seen,
        })
    }

    /// The access key id the client claims.
    #[must_use]
    pub fn access_key_id(&self) -> &str {
        self.credential.access_key_id()
    }

    /// The credential scope the client claims.
    #[must_use]
    pub fn scope(&self) -> CredentialScope<'_> {
        self.credential.scope()
    }

    /// The session token (`X-Amz-Security-Token`), for the server to decrypt
    /// into the session's secret.
    #[must_use]
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }

    /// The signed header names, as the client listed them.
    pub fn signed_headers(&self) -> impl Iterator<Item = &str> {
        self.signed_headers.split(';')
    }

    /// The request time the client signed.
    #[must_use]
    pub fn date(&self) -> &AmzDate {
        &self.date
    }

    /// Header or presigned form.
    #[must_use]
    pub fn form(&self) -> AuthForm {
        self.form
    }

    /// The algorithm; always `AWS4-HMAC-SHA256` (others fail to parse).
    #[must_use]
    pub fn algorithm(&self) -> &'static str {
        crate::string_to_sign::ALGORITHM
    }

    /// The claimed signature, `None` when it is not 64 hex digits (such a
    /// signature fails verification with the server's computation shown).
    #[must_use]
    pub fn signature(&self) -> Option<&Signature> {
        self.signature.as_ref()
    }

    /// The declared payload hash.
    #[must_use]
    pub fn content_sha256(&self) -> ContentSha256 {
        self.content_sha256
    }

    /// The canonical request the server computes for this request.
    pub fn canonical_request(
        &self,
        payload: Payload,
        rules: &Rules,
    ) -> Result<CanonicalRequest, SigV4Error> {
        let (payload_line, _) = self.payload_hash(&payload, rules)?;
        let mut out = CanonicalRequest::default();
        self.build_canonical(&mut out, payload_line, rules)?;
        Ok(out)
    }

    /// The string to sign for `canonical`.
    #[must_use]
    pub fn string_to_sign(&self, canonical: &CanonicalRequest) -> StringToSign {
        StringToSign::new(
            &self.date,
            self.credential.scope_text(),
            &sha256(canonical.as_bytes()),
        )
    }

    fn build_canonical<S: Sink>(
        &self,
        out: &mut S,
        payload: PayloadLine<'_>,
        rules: &Rules,
    ) -> Result<(), SigV4Error> {
        let presigned = matches!(self.form, AuthForm::Presigned { .. });
        canonical::build(
            out,
            &self.request,
            &self.signed_headers,
            QueryRules {
                skip_signature: presigned,
                skip_session_token: presigned && !rules.query_session_token_signed,
            },
            rules.uri,
            payload,
            &self.seen,
        )
    }

    /// Checks the request with the secret of its access key.
    #[inline(always)]
    pub fn verify(&self, params: VerifyParams<'_>) -> Result<Authenticated, SigV4Error> {
        let rules = params.rules;
        self.check_time(params.now)?;
        if !canonical::names(&self.signed_headers).any(|h| h == b"host") {
            return Err(SigV4Error::mismatch(MismatchReason::HostNotSigned));
        }
        // The scope's parts, found once for the checks and the key.
        let scope = self.scope();
        self.check_scope(&scope, rules)?;
        let payload = params.payload;
        let (payload_line, payload_check) = self.payload_hash(&payload, rules)?;

        // Copied out now, in place, long before it is moved into the
        // result: copied just before (or built in a temporary and moved),
        // the move's wide loads would wait on the copy's narrower stores.
        let mut text = AuthText::empty();
        text.fill(&self.credential.text, &self.signed_headers);

        // The canonical request goes straight into SHA-256 and the string to
        // sign is built on the stack; their text is only made again (below)
        // when the signature does not match and the error must show it.
        let mut hasher = HashSink::new();
        self.build_canonical(&mut hasher, payload_line, rules)?;
        let canonical_sha256 = hasher.finish();

        let derive = || SigningKey::derive(params.secret, scope.date, scope.region, scope.service);
        let streaming = matches!(payload_check, PayloadCheck::Streaming { .. });
        // Signs with the key where the cache holds it; the key itself is kept
        // only for a streaming body's chunk signatures.
        let sign = |key: &Arc<SigningKey>| {
            let computed = Signature::from_bytes(string_to_sign::sign(
                key,
                &self.date,
                self.credential.scope_text(),
                &canonical_sha256,
            ));
            (computed, streaming.then(|| Arc::clone(key)))
        };
        let (computed, key) = match params.cache {
            Some(cache) => cache.with_key(self.credential.cache_id(), params.secret, derive, sign),
            None => sign(&Arc::new(derive())),
        };
        let matches = self
            .signature
            .as_ref()
            .is_some_and(|claimed| bool::from(claimed.ct_eq(&computed)));
        if !matches {
            let mut canonical = CanonicalRequest::default();
            self.build_canonical(&mut canonical, payload_line, rules)?;
            return Err(SigV4Error::mismatch(MismatchReason::Computed {
                canonical_request: canonical.redacted().to_string(),
                string_to_sign: self.string_to_sign(&canonical).to_string(),
            }));
        }
        // Only once the signature (which covers the declared digest) holds
        // does a digest mismatch mean a changed body rather than a forgery.
        if let (Payload::Sha256(actual), ContentSha256::Digest(declared)) =
            (params.payload, self.content_sha256)
            && !bool::from(actual.ct_eq(&declared))
        {
            return Err(SigV4Error::XAmzContentSha256Mismatch);
        }

        let streaming = match (payload_check, key) {
            (PayloadCheck::Streaming { trailer }, Some(key)) => Some(Box::new(StreamingSeed {
                key,
                date: self.date,
                scope: self.credential.scope_text().to_owned(),
                seed: computed,
                trailer,
                decoded_length: self.decoded_content_length,
            })),
            _ => None,
        };
        Ok(Authenticated {
            text,
            slashes: self.credential.slashes.map(narrow),
            session_token: self.session_token.as_deref().map(Box::from),
            request_time: self.date,
            form: self.form,
            payload: payload_check,
            streaming,
        })
    }

    fn check_time(&self, now: SystemTime) -> Result<(), SigV4Error> {
        let t = self.date.unix_seconds();
        let n = unix_seconds(now);
        let now = || AmzDate::from_unix_seconds(n);
        if t > n + MAX_SKEW_SECONDS {
            return Err(SigV4Error::RequestExpired(RequestExpired::new(
                self.date,
                now(),
                MAX_SKEW_SECONDS,
                true,
            )));
        }
        match self.form {
            AuthForm::Presigned {
                expires: Some(expires),
            } => {
                let expiry = t.saturating_add(i64::try_from(expires).unwrap_or(i64::MAX));
                if n > expiry {
                    return Err(SigV4Error::AccessDenied(PresignedExpired::new(
                        AmzDate::from_unix_seconds(expiry),
                    )));
                }
            }
            AuthForm::Header | AuthForm::Presigned { expires: None } => {
                if t < n - MAX_SKEW_SECONDS {
                    return Err(SigV4Error::RequestExpired(RequestExpired::new(
                        self.date,
                        now(),
                        MAX_SKEW_SECONDS,
                        false,
                    )));
                }
            }
        }
        Ok(())
    }

    fn check_scope(&self, scope: &CredentialScope<'_>, rules: &Rules) -> Result<(), SigV4Error> {
        let mut problems = Vec::new();
        let same = |a: &str, b: &str| crate::swar::same(a.as_bytes(), b.as_bytes());
        if rules
            .region
            .as_deref()
            .is_some_and(|r| !same(r, scope.region))
        {
            problems.push(ScopeProblem::Region {
                got: scope.region.to_owned(),
            });
        }
        if !same(scope.service, &rules.service) {
            problems.push(ScopeProblem::Service {
                expected: rules.service.clone(),
            });
        }
        let terminator = self.credential.terminator();
        if terminator != "aws4_request" {
            problems.push(ScopeProblem::Terminator {
                got: terminator.to_owned(),
            });
        }
        if scope.date.as_bytes() != self.date.text().get(..8).unwrap_or_default() {
            problems.push(ScopeProblem::Date {
                scope: scope.date.to_owned(),
                request: self.date.date().to_owned(),
                timestamp: self.date.as_str().to_owned(),
            });
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SigV4Error::mismatch(MismatchReason::Scope(problems)))
        }
    }

    /// The last line of the canonical request, and what the caller must still
    /// check about the body.
    fn payload_hash<'s>(
        &'s self,
        payload: &'s Payload,
        rules: &Rules,
    ) -> Result<(PayloadLine<'s>, PayloadCheck), SigV4Error> {
        let verified_or_pending = |digest: [u8; 32]| match *payload {
            Payload::Sha256(_) => PayloadCheck::Verified,
            Payload::NotRead => PayloadCheck::MustMatch(digest),
        };
        Ok(match self.content_sha256 {
            // The line is the header as the client wrote it (hex case included).
            ContentSha256::Digest(d) => (
                PayloadLine::Text(self.seen.get(CONTENT_SHA256).unwrap_or_default()),
                verified_or_pending(d),
            ),
            ContentSha256::Unsigned => (
                PayloadLine::Text(UNSIGNED_PAYLOAD.as_bytes()),
                PayloadCheck::Unsigned,
            ),
            ContentSha256::Streaming { trailer: false } => (
                PayloadLine::Text(STREAMING_PAYLOAD.as_bytes()),
                PayloadCheck::Streaming { trailer: false },
            ),
            ContentSha256::Streaming { trailer: true } => (
                PayloadLine::Text(STREAMING_PAYLOAD_TRAILER.as_bytes()),
                PayloadCheck::Streaming { trailer: true },
            ),
            ContentSha256::StreamingUnsignedTrailer => (
                PayloadLine::Text(STREAMING_UNSIGNED_PAYLOAD_TRAILER.as_bytes()),
                PayloadCheck::Unsigned,
            ),
            ContentSha256::Absent => match (self.form, rules.is_s3(), payload) {
                // Presigned S3 URLs sign no body.
                (AuthForm::Presigned { .. }, true, _) => (
                    PayloadLine::Text(UNSIGNED_PAYLOAD.as_bytes()),
                    PayloadCheck::Unsigned,
                ),
                (_, _, Payload::Sha256(d)) => (PayloadLine::Hex(d), PayloadCheck::Verified),
                (_, _, Payload::NotRead) => {
                    return Err(SigV4Error::InvalidRequest(
                        "Missing required header for this request: x-amz-content-sha256".into(),
                    ));
                }
            },
        })
    }
}

impl<H: ?Sized> fmt::Debug for ParsedRequest<'_, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedRequest")
            .field("form", &self.form)
            .field("credential", &self.credential)
            .field("signed_headers", &self.signed_headers)
            .field("date", &self.date)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .field("content_sha256", &self.content_sha256)
            .finish_non_exhaustive()
    }
}

/// What remains to check about the body after the signature verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadCheck {
    /// The body's digest was given and matched.
    Verified,
    /// The client chose not to sign the body.
    Unsigned,
    /// The body has not been read; its SHA-256 must equal this, or the
    /// request must fail with `XAmzContentSHA256Mismatch`.
    MustMatch([u8; 32]),
    /// The body is aws-chunked; decode it with
    /// [`Authenticated::chunked_decoder`].
    Streaming {
        /// Whether signed trailing headers follow.
        trailer: bool,
    },
}

/// Proof that a request's signature verified. Only this crate constructs it.
///
/// `repr(C)`, in this order, for the moves on its way out: a
/// `Result<Authenticated, SigV4Error>` keeps its tag in `form` (the first
/// field) and lays the error over the bytes after it. Left to the compiler,
/// the error's byte fields fell over the inline text, and every move of
/// the result then read that text in pieces of one, two and four bytes,
/// each waiting on the wider stores that had just written it. Here the
/// error covers only whole words (up to the end of `text.heap` and its
/// positions) and the text moves as whole words.
#[repr(C)]
pub struct Authenticated {
    form: AuthForm,
    session_token: Option<Box<str>>,
    /// Boxed: only streaming uploads have one, and every `Authenticated` is
    /// moved a few times on its way out.
    streaming: Option<Box<StreamingSeed>>,
    /// The four slashes of the credential.
    slashes: [u32; 4],
    request_time: AmzDate,
    /// The credential and the signed-header list.
    text: AuthText,
    payload: PayloadCheck,
}

impl Authenticated {
    /// The access key id that signed the request.
    #[must_use]
    pub fn access_key_id(&self) -> &str {
        access_key_id_of(self.text.credential(), self.slashes.map(widen))
    }

    /// The credential scope it was signed for.
    #[must_use]
    pub fn scope(&self) -> CredentialScope<'_> {
        scope_of(self.text.credential(), self.slashes.map(widen))
    }

    /// The headers the signature covers (lowercase); any other header may
    /// have been changed in transit.
    pub fn signed_headers(&self) -> impl Iterator<Item = &str> {
        self.text.signed_headers().split(';')
    }

    /// The session token sent with the request, if any.
    #[must_use]
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }

    /// The signed request time (`aws:CurrentTime` is the server's clock, not
    /// this).
    #[must_use]
    pub fn request_time(&self) -> &AmzDate {
        &self.request_time
    }

    /// Header or presigned form.
    #[must_use]
    pub fn form(&self) -> AuthForm {
        self.form
    }

    /// What remains to check about the body.
    #[must_use]
    pub fn payload(&self) -> PayloadCheck {
        self.payload
    }

    /// A decoder for an aws-chunked body whose chunk signatures chain from
    /// this request's signature; `None` unless the payload is streaming.
    #[must_use]
    pub fn chunked_decoder(&self) -> Option<ChunkedDecoder> {
        self.streaming.as_deref().map(ChunkedDecoder::new)
    }
}

impl fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticated")
            .field("access_key_id", &self.access_key_id())
            .field("scope", &self.scope())
            .field("signed_headers", &self.text.signed_headers())
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .field("request_time", &self.request_time)
            .field("form", &self.form)
            .field("payload", &self.payload)
            .finish()
    }
}

/// Bytes of an [`AuthText`] kept inline: an ordinary credential (about 60
/// bytes) and signed-header list together cost no allocation.
const AUTH_TEXT_INLINE: usize = 192;

/// The credential and the signed-header list of an [`Authenticated`], one
/// after the other, inline up to [`AUTH_TEXT_INLINE`] bytes together and on
/// the heap beyond: one buffer to fill, and a smaller value to move, than one
/// each.
///
/// `repr(C)`, the buffer last: see [`Authenticated`].
#[repr(C)]
struct AuthText {
    heap: Option<Box<str>>,
    /// The length of the credential, then of both.
    split: u32,
    end: u32,
    inline: [u8; AUTH_TEXT_INLINE],
}

impl AuthText {
    /// Empty, to be filled in place by [`Self::fill`].
    #[inline(always)]
    fn empty() -> Self {
        Self {
            heap: None,
            split: 0,
            end: 0,
            inline: [0; AUTH_TEXT_INLINE],
        }
    }

    /// Makes an empty text hold `credential` and `signed_headers`.
    #[inline(always)]
    fn fill(&mut self, credential: &str, signed_headers: &str) {
        let (a, b) = (credential.as_bytes(), signed_headers.as_bytes());
        let end = a.len() + b.len();
        self.split = narrow(a.len());
        self.end = narrow(end);
        match self.inline.get_mut(..end) {
            Some(dst) => {
                // Each piece is usually under 64 bytes: no `memcpy` call.
                let (da, db) = dst.split_at_mut(a.len());
                crate::canonical::copy_short(da, a);
                crate::canonical::copy_short(db, b);
            }
            None => self.heap = Some([credential, signed_headers].concat().into_boxed_str()),
        }
    }

    fn text(&self) -> &str {
        match &self.heap {
            Some(text) => text,
            // Copied whole from two `&str`, so always UTF-8.
            None => std::str::from_utf8(self.inline.get(..widen(self.end)).unwrap_or_default())
                .unwrap_or_default(),
        }
    }

    fn credential(&self) -> &str {
        self.text().get(..widen(self.split)).unwrap_or_default()
    }

    fn signed_headers(&self) -> &str {
        self.text().get(widen(self.split)..).unwrap_or_default()
    }
}

/// A position in an [`AuthText`] (text that fits in memory is shorter than
/// 4 GiB on any target this runs on; anything longer reads as empty).
fn narrow(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn widen(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A credential, `akid/date/region/service/terminator`, with the positions
/// of its four slashes found once (parsing checked there are exactly four).
#[derive(Debug, Clone)]
struct Credential<S> {
    text: S,
    slashes: [usize; 4],
}

impl<S: AsRef<str>> Credential<S> {
    fn new(text: S) -> Self {
        let mut slashes = [0usize; 4];
        let mut n = 0;
        for (i, b) in text.as_ref().bytes().enumerate() {
            if b == b'/' {
                if let Some(slot) = slashes.get_mut(n) {
                    *slot = i;
                }
                n += 1;
            }
        }
        Self { text, slashes }
    }

    fn part(&self, from: usize, to: usize) -> &str {
        self.text.as_ref().get(from..to).unwrap_or("")
    }

    fn access_key_id(&self) -> &str {
        access_key_id_of(self.text.as_ref(), self.slashes)
    }

    fn scope(&self) -> CredentialScope<'_> {
        scope_of(self.text.as_ref(), self.slashes)
    }

    fn terminator(&self) -> &str {
        let t = self.text.as_ref();
        self.part(self.slashes[3] + 1, t.len())
    }

    /// `akid/date/region/service`.
    fn cache_id(&self) -> &str {
        self.part(0, self.slashes[3])
    }

    /// `date/region/service/terminator`.
    fn scope_text(&self) -> &str {
        let t = self.text.as_ref();
        self.part(self.slashes[0] + 1, t.len())
    }
}

fn access_key_id_of(credential: &str, slashes: [usize; 4]) -> &str {
    credential.get(..slashes[0]).unwrap_or("")
}

fn scope_of(credential: &str, slashes: [usize; 4]) -> CredentialScope<'_> {
    let [a, b, c, d] = slashes;
    let part = |from: usize, to: usize| credential.get(from..to).unwrap_or("");
    CredentialScope {
        date: part(a + 1, b),
        region: part(b + 1, c),
        service: part(c + 1, d),
    }
}

/// The headers parsing needs, and those SDKs usually sign, found in one walk
/// over the request headers. Verification takes the canonical header lines
/// from here when every signed header is one of these, sent at most once,
/// instead of walking the headers again.
#[derive(Clone, Copy, Default)]
pub(crate) struct SeenHeaders<'h> {
    /// The first value of each name of [`SeenHeaders::slot`].
    values: [Option<&'h [u8]>; SEEN],
    /// A bit per slot whose name was sent more than once.
    repeated: u16,
    /// A bit per slot whose (first) value is known to be its own canonical
    /// form: an `X-Amz-Date` value that parsed as a date is sixteen digits,
    /// `T` and `Z`, with nothing to trim.
    clean: u16,
}

const DATE: usize = 0;
const HOST: usize = 1;
const X_AMZ_DATE: usize = 2;
const CONTENT_TYPE: usize = 3;
const AUTHORIZATION: usize = 4;
const CONTENT_LENGTH: usize = 5;
const SECURITY_TOKEN: usize = 6;
const CONTENT_SHA256: usize = 7;
const DECODED_CONTENT_LENGTH: usize = 8;
const SEEN: usize = 9;

impl<'h> SeenHeaders<'h> {
    /// The slot of a header name, if it has one; `same` compares the name
    /// with a lowercase one of the same length.
    #[inline(always)]
    fn slot_by(name: &[u8], same: impl Fn(&[u8], &[u8]) -> bool) -> Option<usize> {
        // The length first: most names are passed over after one test.
        let is = |lower: &[u8]| same(name, lower);
        Some(match name.len() {
            4 if is(b"host") => HOST,
            4 if is(b"date") => DATE,
            10 if is(b"x-amz-date") => X_AMZ_DATE,
            12 if is(b"content-type") => CONTENT_TYPE,
            13 if is(b"authorization") => AUTHORIZATION,
            14 if is(b"content-length") => CONTENT_LENGTH,
            20 if is(b"x-amz-security-token") => SECURITY_TOKEN,
            20 if is(b"x-amz-content-sha256") => CONTENT_SHA256,
            28 if is(b"x-amz-decoded-content-length") => DECODED_CONTENT_LENGTH,
            _ => return None,
        })
    }

    pub(crate) fn collect<H: Headers + ?Sized>(headers: &'h H) -> Self {
        let mut seen = Self::default();
        headers.for_each(|name, value| {
            // `http::HeaderMap` names are lowercase already.
            let slot = Self::slot_by(name.as_bytes(), |n, lower| {
                n == lower || n.eq_ignore_ascii_case(lower)
            });
            let Some(i) = slot else {
                return;
            };
            if let Some(slot) = seen.values.get_mut(i) {
                if slot.is_some() {
                    seen.repeated |= 1 << i;
                } else {
                    *slot = Some(value);
                }
            }
        });
        seen
    }

    /// The request's date was read from `X-Amz-Date` (`iso`) and parsed:
    /// its value needs no trimming.
    fn date_checked(&mut self, iso: bool) {
        if iso {
            self.clean |= 1 << X_AMZ_DATE;
        }
    }

    fn get(&self, slot: usize) -> Option<&'h [u8]> {
        self.values.get(slot).copied().flatten()
    }
}

impl KnownHeaders for SeenHeaders<'_> {
    #[inline]
    fn id(&self, name: &[u8]) -> Option<u8> {
        // Signed names are lowercase (parsing checked).
        let i = Self::slot_by(name, |n, lower| n == lower)?;
        if self.repeated & (1 << i) != 0 {
            return None;
        }
        u8::try_from(i).ok()
    }

    #[inline]
    fn value(&self, id: u8) -> Option<&[u8]> {
        self.get(usize::from(id))
    }

    #[inline]
    fn clean(&self, id: u8) -> bool {
        self.clean & 1u16.checked_shl(u32::from(id)).unwrap_or(0) != 0
    }
}

fn unix_seconds(t: SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2))
}

pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Inline, with the error made out of line: called, it returned its large
/// `Result` through memory for the caller to read back.
#[inline]
fn parse_date(raw: &[u8], iso: bool) -> Result<AmzDate, SigV4Error> {
    let parsed = if iso {
        AmzDate::parse_iso8601_basic_bytes(raw)
    } else {
        std::str::from_utf8(raw)
            .ok()
            .and_then(AmzDate::parse_http_date)
    };
    parsed.ok_or_else(|| malformed_date(raw))
}

#[cold]
fn malformed_date(raw: &[u8]) -> SigV4Error {
    SigV4Error::incomplete(
        IncompleteReason::MalformedDate(String::from_utf8_lossy(raw).into_owned()),
        None,
    )
}

fn parse_content_sha256(raw: &[u8]) -> Result<ContentSha256, SigV4Error> {
    Ok(match raw {
        b"UNSIGNED-PAYLOAD" => ContentSha256::Unsigned,
        b"STREAMING-AWS4-HMAC-SHA256-PAYLOAD" => ContentSha256::Streaming { trailer: false },
        b"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => ContentSha256::Streaming { trailer: true },
        b"STREAMING-UNSIGNED-PAYLOAD-TRAILER" => ContentSha256::StreamingUnsignedTrailer,
        b"STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
        | b"STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER" => {
            return Err(SigV4Error::incomplete(IncompleteReason::SigV4a, None));
        }
        other => match decode_hex32(other) {
            Some(d) => ContentSha256::Digest(d),
            None => {
                return Err(SigV4Error::InvalidArgument(
                    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, \
                     STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, \
                     or a valid sha256 value."
                        .into(),
                ));
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout `Authenticated` is `repr(C)` for: in a `Result` with a
    /// `SigV4Error`, the error's bytes end before the inline text begins,
    /// so the text is never moved in the error's pieces. (If a compiler
    /// lays the result out otherwise, this fails and the field order needs
    /// another look.)
    #[test]
    fn an_error_in_the_result_ends_before_the_text() {
        let date = AmzDate::from_unix_seconds(0);
        let result: Result<Authenticated, SigV4Error> = Err(SigV4Error::RequestExpired(
            RequestExpired::new(date, date, 900, true),
        ));
        let Err(error) = &result else {
            panic!("an error");
        };
        let start = std::ptr::from_ref(error).addr() - std::ptr::from_ref(&result).addr();
        let end = start + std::mem::size_of::<SigV4Error>();
        let text =
            std::mem::offset_of!(Authenticated, text) + std::mem::offset_of!(AuthText, inline);
        assert!(end <= text, "error at {start}..{end}, text from {text}");
        assert_eq!(
            std::mem::size_of::<Result<Authenticated, SigV4Error>>(),
            std::mem::size_of::<Authenticated>()
        );
    }

    #[test]
    fn auth_text_holds_any_lengths() {
        for (a, b) in [
            (0, 0),
            (1, 0),
            (0, 1),
            (96, 96),
            (96, 97),
            (191, 1),
            (500, 3),
        ] {
            let credential = "é".repeat(a / 2) + &"x".repeat(a % 2);
            let signed = "s".repeat(b);
            let mut text = AuthText::empty();
            text.fill(&credential, &signed);
            assert_eq!(text.credential(), credential);
            assert_eq!(text.signed_headers(), signed);
            assert_eq!(text.heap.is_none(), a + b <= AUTH_TEXT_INLINE, "{a} {b}");
        }
    }

    /// Signs `headers` (plus an Authorization header for `akid`) the way a
    /// client would, with this crate's own canonicalisation.
    fn signed(akid: &str, headers: &[(String, String)], signed: &str) -> Vec<(String, String)> {
        let rules = Rules::new("iam");
        let secret = SecretKey::new("secret");
        let auth = |sig: &str| {
            format!(
                "AWS4-HMAC-SHA256 Credential={akid}/20150830/us-east-1/iam/aws4_request, \
                 SignedHeaders={signed}, Signature={sig}"
            )
        };
        let with = |sig: &str| {
            let mut h = headers.to_vec();
            h.push(("Authorization".into(), auth(sig)));
            h
        };
        let unsigned = with("00");
        let request = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &unsigned,
            authority: None,
        };
        let parsed = ParsedRequest::parse(request).unwrap();
        let canonical = parsed
            .canonical_request(Payload::of_body(b""), &rules)
            .unwrap();
        let sts = parsed.string_to_sign(&canonical);
        let key = SigningKey::derive(&secret, "20150830", "us-east-1", "iam");
        with(
            Signature::from_bytes(key.sign(sts.as_bytes()))
                .to_hex()
                .as_str(),
        )
    }

    #[test]
    fn long_credentials_and_signed_header_lists_are_kept_whole() {
        let akid = format!("AKID{}", "X".repeat(150));
        let mut headers = vec![
            ("Host".to_owned(), "iam.amazonaws.com".to_owned()),
            ("X-Amz-Date".to_owned(), "20150830T123600Z".to_owned()),
        ];
        let mut names = vec!["host".to_owned(), "x-amz-date".to_owned()];
        for i in 0..20 {
            headers.push((format!("x-long-header-name-{i:02}"), format!("v{i}")));
            names.push(format!("x-long-header-name-{i:02}"));
        }
        names.sort();
        let signed_list = names.join(";");
        assert!(signed_list.len() > 160);
        let headers = signed(&akid, &headers, &signed_list);
        let cache = SigningKeyCache::new(8);
        for cache in [None, Some(&cache), Some(&cache)] {
            let request = Request {
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                authority: None,
            };
            let auth = ParsedRequest::parse(request)
                .unwrap()
                .verify(VerifyParams {
                    secret: &SecretKey::new("secret"),
                    payload: Payload::of_body(b""),
                    now: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160),
                    rules: &Rules::new("iam"),
                    cache,
                })
                .unwrap();
            assert_eq!(auth.access_key_id(), akid);
            assert_eq!(auth.scope().region, "us-east-1");
            assert_eq!(auth.signed_headers().collect::<Vec<_>>(), names);
        }
    }
}
