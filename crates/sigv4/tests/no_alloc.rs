//! The verification of a typical IAM request with its signing key cached
//! makes no heap allocation, parsing included. Its own test binary, since it
//! installs a counting global allocator.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed fixture is a failed test"
)]

use std::alloc::System;
use std::time::{Duration, UNIX_EPOCH};

use portcullis_sigv4::{
    ParsedRequest, Payload, Request, Rules, SecretKey, SigningKey, SigningKeyCache, VerifyParams,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const BODY: &[u8] = b"Action=ListUsers&Version=2010-05-08";

fn head(signature: &str) -> http::request::Parts {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date, Signature={signature}"
    );
    let (parts, ()) = http::Request::builder()
        .method("POST")
        .uri("/")
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .header("host", "iam.amazonaws.com")
        .header("x-amz-date", "20150830T123600Z")
        .header("authorization", authorization)
        .body(())
        .unwrap()
        .into_parts();
    parts
}

#[test]
fn cached_verification_allocates_nothing() {
    let rules = Rules::new("iam").region("us-east-1");
    let secret = SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    let unsigned = head("00");
    let parsed = ParsedRequest::parse(Request::from_parts(&unsigned)).unwrap();
    let canonical = parsed
        .canonical_request(Payload::of_body(BODY), &rules)
        .unwrap();
    let key = SigningKey::derive(&secret, "20150830", "us-east-1", "iam");
    let signature: String = key
        .sign(parsed.string_to_sign(&canonical).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let parts = head(&signature);
    let cache = SigningKeyCache::new(16);
    let verify = || {
        ParsedRequest::parse(Request::from_parts(&parts))
            .unwrap()
            .verify(VerifyParams {
                secret: &secret,
                payload: Payload::of_body(BODY),
                now: UNIX_EPOCH + Duration::from_secs(1_440_938_160),
                rules: &rules,
                cache: Some(&cache),
            })
    };
    verify().unwrap(); // fills the cache

    let region = Region::new(GLOBAL);
    for _ in 0..100 {
        let auth = verify().unwrap();
        assert_eq!(auth.access_key_id(), "AKIDEXAMPLE");
    }
    let stats = region.change();
    assert_eq!(
        (stats.allocations, stats.reallocations),
        (0, 0),
        "{stats:?}"
    );

    // A wrong signature still fails, and its error (which carries the
    // canonical request) is where allocation happens.
    let forged = head(&"0".repeat(64));
    let err = ParsedRequest::parse(Request::from_parts(&forged))
        .unwrap()
        .verify(VerifyParams {
            secret: &secret,
            payload: Payload::of_body(BODY),
            now: UNIX_EPOCH + Duration::from_secs(1_440_938_160),
            rules: &rules,
            cache: Some(&cache),
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("content-type;host;x-amz-date"),
        "{err}"
    );
}
