//! Property test against an independent implementation: random requests
//! signed by the `aws-sigv4` crate (the signer of the AWS SDK for Rust) must
//! verify, and the same requests with one byte of the method, the path, the
//! query, a signed header, the body or the date changed must not.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use portcullis_sigv4::{
    ParsedRequest, Payload, Request, Rules, SecretKey, SigV4Error, SigningKeyCache, VerifyParams,
};
use proptest::prelude::*;

/// A request as a client builds it, before signing.
#[derive(Debug, Clone)]
struct Case {
    method: String,
    /// Raw (decoded) path segments; the client encodes them.
    segments: Vec<Vec<u8>>,
    /// Raw query pairs, and whether spaces go on the wire as `+`.
    query: Vec<(String, String)>,
    plus_for_space: bool,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    time: u64,
    region: String,
    s3: bool,
    presigned: Option<u64>,
    session_token: Option<String>,
    content_sha256_header: bool,
}

fn encode(bytes: &[u8], space_as_plus: bool) -> String {
    let mut out = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' && space_as_plus {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Case {
    fn path(&self) -> String {
        let mut p = String::new();
        for s in &self.segments {
            p.push('/');
            p.push_str(&encode(s, false));
        }
        if p.is_empty() { "/".into() } else { p }
    }

    fn query_string(&self) -> String {
        self.query
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    encode(k.as_bytes(), self.plus_for_space),
                    encode(v.as_bytes(), self.plus_for_space)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    fn service(&self) -> &'static str {
        if self.s3 { "s3" } else { "iam" }
    }

    fn signing_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.time)
    }
}

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// What a server receives: the request after signing.
#[derive(Debug, Clone)]
struct Wire {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn sign_case(case: &Case) -> Wire {
    let host = "example.amazonaws.com";
    let query = case.query_string();
    let uri = if query.is_empty() {
        format!("https://{host}{}", case.path())
    } else {
        format!("https://{host}{}?{query}", case.path())
    };
    let mut headers: Vec<(String, String)> = vec![("host".into(), host.into())];
    headers.extend(case.headers.iter().cloned());

    let mut settings = SigningSettings::default();
    if case.s3 {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    if case.content_sha256_header {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    if let Some(expires) = case.presigned {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(expires));
    }
    let identity: Identity =
        Credentials::new(AKID, SECRET, case.session_token.clone(), None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&case.region)
        .name(case.service())
        .time(case.signing_time())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let body = if case.s3 && case.presigned.is_some() {
        SignableBody::UnsignedPayload
    } else {
        SignableBody::Bytes(&case.body)
    };
    let signable = SignableRequest::new(
        &case.method,
        uri.clone(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        body,
    )
    .unwrap();
    let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
    let mut builder = http::Request::builder()
        .method(case.method.as_str())
        .uri(&uri);
    for (k, v) in &headers {
        builder = builder.header(k, v);
    }
    let mut request = builder.body(()).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    let (parts, ()) = request.into_parts();
    Wire {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect(),
        body: case.body.clone(),
    }
}

fn verify(case: &Case, wire: &Wire, cache: Option<&SigningKeyCache>) -> Result<(), SigV4Error> {
    let request = Request {
        method: &wire.method,
        path: &wire.path,
        query: &wire.query,
        headers: &wire.headers,
        authority: None,
    };
    let parsed = ParsedRequest::parse(request)?;
    let rules = Rules::new(case.service()).region(&case.region);
    parsed
        .verify(VerifyParams {
            secret: &SecretKey::new(SECRET),
            payload: Payload::of_body(&wire.body),
            now: case.signing_time(),
            rules: &rules,
            cache,
        })
        .map(|_| ())
}

fn segment() -> impl Strategy<Value = Vec<u8>> {
    // Unreserved characters, dots (so `.` and `..` segments occur), spaces,
    // percent signs, sub-delimiters and UTF-8.
    prop::collection::vec(
        prop::sample::select(vec![
            b'a', b'Z', b'0', b'-', b'_', b'.', b'~', b' ', b'%', b'+', b'!', b'*', b'=', b':',
            b'@', 0xC3, 0xA9,
        ]),
        0..6,
    )
}

fn case() -> impl Strategy<Value = Case> {
    (
        (
            prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "HEAD"]),
            prop::collection::vec(segment(), 0..4),
            prop::collection::vec(("[a-zA-Z0-9_.~-]{1,6}", "[a-zA-Z0-9 _.~%/+=&-]{0,8}"), 0..4),
            any::<bool>(),
            prop::collection::vec(("x-test-[a-z]{1,4}", "[ -~]{1,12}"), 0..3),
        ),
        (
            prop::collection::vec(any::<u8>(), 0..64),
            946_684_800u64..1_893_456_000,
            prop::sample::select(vec!["us-east-1", "eu-west-3", "ap-southeast-2"]),
            prop::bool::weighted(0.25),
            prop::option::of(1u64..=604_800),
            prop::option::of("[A-Za-z0-9/+=]{16,40}"),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (method, segments, query, plus_for_space, headers),
                (body, time, region, s3, presigned, session_token, content_sha256_header),
            )| Case {
                method: method.into(),
                segments,
                query: query
                    .into_iter()
                    .filter(|(k, _)| !k.starts_with("X-Amz"))
                    .collect(),
                plus_for_space,
                headers: headers
                    .into_iter()
                    .filter(|(_, v)| !v.trim().is_empty())
                    .collect(),
                body,
                time,
                region: region.into(),
                s3,
                presigned,
                session_token,
                content_sha256_header,
            },
        )
}

/// Replaces the alphanumeric byte at the `pick`-th alphanumeric position of
/// `s` with another alphanumeric byte (never a case variant of itself, so no
/// decoding can make the change vanish). `None` when `s` has none.
fn mutate_alnum(s: &str, pick: usize) -> Option<String> {
    let positions: Vec<usize> = s
        .bytes()
        .enumerate()
        .filter(|(_, b)| b.is_ascii_alphanumeric())
        .map(|(i, _)| i)
        .collect();
    if positions.is_empty() {
        return None;
    }
    let at = positions[pick % positions.len()];
    let mut bytes = s.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'q' { b'k' } else { b'q' };
    Some(String::from_utf8(bytes).unwrap())
}

/// Replaces a digit of an `X-Amz-Date` value with another digit.
fn mutate_date(date: &str, pick: usize) -> String {
    let mut bytes = date.as_bytes().to_vec();
    let digits: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i].is_ascii_digit())
        .collect();
    let at = digits[pick % digits.len()];
    bytes[at] = if bytes[at] == b'9' {
        b'0'
    } else {
        bytes[at] + 1
    };
    String::from_utf8(bytes).unwrap()
}

#[derive(Debug, Clone, Copy)]
enum Mutation {
    Method,
    Path,
    Query,
    SignedHeader,
    Body,
    Date,
}

fn apply(case: &Case, wire: &Wire, mutation: Mutation, pick: usize) -> Option<Wire> {
    let mut w = wire.clone();
    match mutation {
        Mutation::Method => w.method = mutate_alnum(&w.method, pick)?,
        Mutation::Path => w.path = mutate_alnum(&w.path, pick)?,
        Mutation::Query => w.query = mutate_alnum(&w.query, pick)?,
        Mutation::SignedHeader => {
            // `host` and the x-test-* headers are all signed.
            let signed: Vec<usize> = (0..w.headers.len())
                .filter(|&i| w.headers[i].0 == "host" || w.headers[i].0.starts_with("x-test-"))
                .filter(|&i| w.headers[i].1.bytes().any(|b| b.is_ascii_alphanumeric()))
                .collect();
            let i = signed[pick % signed.len()];
            w.headers[i].1 = mutate_alnum(&w.headers[i].1, pick / 7)?;
        }
        Mutation::Body => {
            // A presigned S3 URL does not sign the body.
            if w.body.is_empty() || (case.s3 && case.presigned.is_some()) {
                return None;
            }
            let i = pick % w.body.len();
            w.body[i] ^= 1;
        }
        Mutation::Date => {
            if case.presigned.is_some() {
                let date = w
                    .query
                    .split('&')
                    .find_map(|p| p.strip_prefix("X-Amz-Date="))?
                    .to_owned();
                w.query = w.query.replace(
                    &format!("X-Amz-Date={date}"),
                    &format!("X-Amz-Date={}", mutate_date(&date, pick)),
                );
            } else {
                let h = w.headers.iter_mut().find(|(k, _)| k == "x-amz-date")?;
                h.1 = mutate_date(&h.1, pick);
            }
        }
    }
    Some(w)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn requests_signed_by_aws_sigv4_verify(case in case()) {
        let wire = sign_case(&case);
        let cache = SigningKeyCache::new(16);
        if let Err(e) = verify(&case, &wire, Some(&cache)) {
            return Err(TestCaseError::fail(format!("{wire:?}\n{e}")));
        }
        // The second time comes from the cache.
        prop_assert!(verify(&case, &wire, Some(&cache)).is_ok());
        prop_assert!(verify(&case, &wire, None).is_ok());
    }

    #[test]
    fn one_changed_byte_does_not_verify(
        case in case(),
        mutation in prop::sample::select(vec![
            Mutation::Method, Mutation::Path, Mutation::Query, Mutation::SignedHeader, Mutation::Body, Mutation::Date,
        ]),
        pick in any::<usize>(),
    ) {
        let wire = sign_case(&case);
        let Some(changed) = apply(&case, &wire, mutation, pick) else {
            // Nothing of that kind to change in this request (no query, an
            // empty body, …).
            return Ok(());
        };
        prop_assert!(
            verify(&case, &changed, None).is_err(),
            "{mutation:?} went unnoticed:\nsigned {wire:?}\nsent   {changed:?}"
        );
    }
}
