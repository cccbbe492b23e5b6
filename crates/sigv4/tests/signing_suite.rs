//! The AWS SigV4 test suite (`tests/aws-signing-test-suite/v4`, Apache-2.0,
//! see its LICENSE), one directory per case, each run in header and query
//! form: the canonical request, the string to sign and the signature are
//! compared with the suite's, and the signed request must verify at the
//! case's timestamp.
//!
//! Two directories (`double-encode-path`, `double-url-encode`) have no
//! `context.json`; they are run by their own tests at the bottom.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test harness: a fixture that cannot be read or parsed is a failed test"
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use portcullis_sigv4::{
    AmzDate, ParsedRequest, Payload, Request, Rules, SecretKey, SigV4Error, SigningKey,
    SigningKeyCache, UriEncoding, VerifyParams,
};
use serde::Deserialize;

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aws-signing-test-suite/v4")
}

#[derive(Deserialize)]
struct Context {
    credentials: Credentials,
    normalize: bool,
    region: String,
    service: String,
    timestamp: String,
    #[serde(default)]
    omit_session_token: bool,
}

#[derive(Deserialize)]
struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    token: Option<String>,
}

/// A request as written in the suite's `.txt` files.
struct RawRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn request(&self) -> Request<'_, Vec<(String, String)>> {
        Request {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            authority: None,
        }
    }
}

/// Parses `METHOD PATH[?QUERY] HTTP/1.1`, header lines (a line starting with
/// whitespace continues the previous value, kept with its line break as
/// obsolete line folding), a blank line and the body. Paths may hold raw
/// spaces and UTF-8, which is why this is not an HTTP library's parser.
fn parse_request(text: &str) -> RawRequest {
    let text = text.replace("\r\n", "\n");
    let (head, body) = match text.split_once("\n\n") {
        Some((h, b)) => (h.to_owned(), b.as_bytes().to_vec()),
        None => (text.trim_end_matches('\n').to_owned(), Vec::new()),
    };
    let mut lines = head.lines();
    let first = lines.next().unwrap();
    let first = first.strip_suffix(" HTTP/1.1").unwrap_or(first);
    let (method, target) = first.split_once(' ').unwrap();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().unwrap();
            last.1.push('\n');
            last.1.push_str(line);
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.to_owned(), value.trim_start().to_owned()));
        }
    }
    RawRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body,
    }
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
        .replace("\r\n", "\n")
        .trim_end()
        .to_owned()
}

fn at(timestamp: &str) -> SystemTime {
    // context.json uses RFC 3339 (`2015-08-30T12:36:00Z`); the basic format is
    // the same digits without separators.
    let basic: String = timestamp
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    at_basic(&basic)
}

fn at_basic(basic: &str) -> SystemTime {
    let t = AmzDate::parse_iso8601_basic(basic).unwrap();
    UNIX_EPOCH + Duration::from_secs(u64::try_from(t.unix_seconds()).unwrap())
}

#[derive(Clone, Copy, Debug)]
enum Form {
    Header,
    Query,
}

impl Form {
    fn prefix(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Query => "query",
        }
    }
}

fn rules_for(ctx: &Context, form: Form) -> Rules {
    let mut rules = Rules::new(&ctx.service)
        .region(&ctx.region)
        .uri_encoding(UriEncoding {
            normalize_path: ctx.normalize,
            double_encode: true,
        });
    if ctx.omit_session_token && matches!(form, Form::Query) {
        // The token was appended after signing (AWS IoT style).
        rules = rules.query_session_token_unsigned();
    }
    rules
}

fn run_case(dir: &Path, form: Form, cache: &SigningKeyCache) {
    let name = dir.file_name().unwrap().to_str().unwrap();
    let ctx: Context = serde_json::from_str(&read(dir, "context.json")).unwrap();
    let p = form.prefix();
    let signed = parse_request(&read(dir, &format!("{p}-signed-request.txt")));
    // The signed request files hold no body; the body is in request.txt.
    let body = parse_request(&read(dir, "request.txt")).body;
    let rules = rules_for(&ctx, form);
    let payload = Payload::of_body(&body);

    let parsed =
        ParsedRequest::parse(signed.request()).unwrap_or_else(|e| panic!("{name} {p}: parse: {e}"));
    assert_eq!(
        parsed.access_key_id(),
        ctx.credentials.access_key_id,
        "{name} {p}"
    );
    let scope = parsed.scope();
    assert_eq!(
        (scope.region, scope.service),
        (ctx.region.as_str(), ctx.service.as_str())
    );
    if !ctx.omit_session_token {
        assert_eq!(
            parsed.session_token(),
            ctx.credentials.token.as_deref(),
            "{name} {p}"
        );
    }

    let canonical = parsed.canonical_request(payload, &rules).unwrap();
    assert_eq!(
        canonical.to_string(),
        read(dir, &format!("{p}-canonical-request.txt")),
        "{name} {p}: canonical request"
    );
    let sts = parsed.string_to_sign(&canonical);
    assert_eq!(
        sts.to_string(),
        read(dir, &format!("{p}-string-to-sign.txt")),
        "{name} {p}: string to sign"
    );
    let secret = SecretKey::new(&ctx.credentials.secret_access_key);
    let key = SigningKey::derive(&secret, scope.date, scope.region, scope.service);
    let signature = hex(&key.sign(sts.as_bytes()));
    assert_eq!(
        signature,
        read(dir, &format!("{p}-signature.txt")),
        "{name} {p}: signature"
    );

    for cache in [None, Some(cache)] {
        let auth = parsed
            .verify(VerifyParams {
                secret: &secret,
                payload,
                now: at(&ctx.timestamp),
                rules: &rules,
                cache,
            })
            .unwrap_or_else(|e| panic!("{name} {p}: verify: {e}"));
        assert_eq!(auth.access_key_id(), ctx.credentials.access_key_id);
    }

    // The same request with another secret must not verify, and the error
    // must show the canonical request and string to sign computed.
    let err = parsed
        .verify(VerifyParams {
            secret: &SecretKey::new("not-the-secret"),
            payload,
            now: at(&ctx.timestamp),
            rules: &rules,
            cache: None,
        })
        .unwrap_err();
    assert_eq!(err.code(), "SignatureDoesNotMatch", "{name} {p}");
    assert!(
        err.to_string().contains(&sts.to_string()),
        "{name} {p}: {err}"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn every_case_in_header_and_query_form() {
    let cache = SigningKeyCache::new(64);
    let mut ran = 0;
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(suite_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in &dirs {
        if !dir.join("context.json").exists() {
            continue;
        }
        for form in [Form::Header, Form::Query] {
            run_case(dir, form, &cache);
            ran += 1;
        }
    }
    // 38 cases with a context, two forms each: guards against a silently
    // empty or partly copied suite.
    assert_eq!(ran, 76, "ran {ran} case/form pairs");
}

#[test]
fn an_encoded_space_on_the_wire_is_encoded_again() {
    // `get-space-normalized` signs `/example space/` (a raw space, as its
    // signed request shows). Received already encoded, as `request.txt`
    // writes it, the space is encoded a second time by every service but S3.
    let dir = suite_dir().join("get-space-normalized");
    let signed = parse_request(&read(&dir, "header-signed-request.txt"));
    let mut wire = signed.request();
    wire.path = "/example%20space/";
    let parsed = ParsedRequest::parse(wire).unwrap();
    let s3 = parsed
        .canonical_request(Payload::of_body(b""), &Rules::new("s3"))
        .unwrap()
        .to_string();
    assert_eq!(s3.lines().nth(1), Some("/example%20space/"));
    let canonical = parsed
        .canonical_request(Payload::of_body(b""), &Rules::new("service"))
        .unwrap()
        .to_string();
    assert_eq!(canonical.lines().nth(1), Some("/example%2520space/"));
}

#[test]
fn double_encode_path() {
    // Signed by the aws-sigv4 crate's test credentials at 20150830T123600Z;
    // the suite's canonical request was recorded at another time
    // (20210511T154045Z), which is the only difference in its text.
    let dir = suite_dir().join("double-encode-path");
    let signed = parse_request(&read(&dir, "header-signed-request.txt"));
    let parsed = ParsedRequest::parse(signed.request()).unwrap();
    let rules = Rules::new("service").region("us-east-1");
    let payload = Payload::of_body(b"");
    let canonical = parsed
        .canonical_request(payload, &rules)
        .unwrap()
        .to_string();
    let expected =
        read(&dir, "header-canonical-request.txt").replace("20210511T154045Z", "20150830T123600Z");
    assert_eq!(canonical, expected);
    assert_eq!(
        canonical.lines().nth(1),
        Some("/test/%40connections/JBDvjfGEIAMCERw%253D")
    );
    parsed
        .verify(VerifyParams {
            secret: &SecretKey::new("notrealrnrELgWzOk3IfjzDKtFBhDby"),
            payload,
            now: at_basic("20150830T123600Z"),
            rules: &rules,
            cache: None,
        })
        .unwrap();
}

#[test]
fn double_url_encode() {
    let dir = suite_dir().join("double-url-encode");
    let signed = parse_request(&read(&dir, "header-signed-request.txt"));
    let parsed = ParsedRequest::parse(signed.request()).unwrap();
    let rules = Rules::new("lambda").region("us-east-2");
    let payload = Payload::of_body(b"");
    let canonical = parsed.canonical_request(payload, &rules).unwrap();
    assert_eq!(
        canonical.to_string(),
        read(&dir, "header-canonical-request.txt")
    );
    assert_eq!(
        parsed.string_to_sign(&canonical).to_string(),
        read(&dir, "header-string-to-sign.txt")
    );
    let result = parsed.verify(VerifyParams {
        secret: &SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        payload,
        now: at_basic("20210511T154045Z"),
        rules: &rules,
        cache: None,
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn wrong_secret_error_carries_aws_wording() {
    let dir = suite_dir().join("get-vanilla");
    let signed = parse_request(&read(&dir, "header-signed-request.txt"));
    let parsed = ParsedRequest::parse(signed.request()).unwrap();
    let err = parsed
        .verify(VerifyParams {
            secret: &SecretKey::new("wrong"),
            payload: Payload::of_body(b""),
            now: at_basic("20150830T123600Z"),
            rules: &Rules::new("service"),
            cache: None,
        })
        .unwrap_err();
    assert!(matches!(err, SigV4Error::SignatureDoesNotMatch(_)));
    assert_eq!(err.status(), 403);
    let expected = format!(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret \
         Access Key and signing method. Consult the service documentation for details.\n\n\
         The Canonical String for this request should have been\n'{}'\n\n\
         The String-to-Sign should have been\n'{}'\n",
        read(&dir, "header-canonical-request.txt"),
        read(&dir, "header-string-to-sign.txt"),
    );
    assert_eq!(err.to_string(), expected);
}
