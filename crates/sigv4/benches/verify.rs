//! Verification of a typical IAM API request, as the AWS CLI sends it
//! (`POST /`, form body, `SignedHeaders=content-type;host;x-amz-date`), with
//! the signing key cached and uncached, beside the floor no verifier can go
//! below: SHA-256 of the body, SHA-256 of the canonical request and one
//! HMAC-SHA256 of the string to sign (with the key already set up).
//!
//! Run: `cargo bench -p portcullis-sigv4 --bench verify -- --warm-up-time 1 --measurement-time 3`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark setup: a failure is a broken benchmark"
)]

use std::hint::black_box;
use std::time::{Duration, Instant, UNIX_EPOCH};

use aws_lc_rs::{digest, hmac};
use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_sigv4::{
    ParsedRequest, Payload, Request, Rules, SecretKey, SigningKey, SigningKeyCache, VerifyParams,
};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const BODY: &[u8] = b"Action=ListUsers&Version=2010-05-08";
const NOW: u64 = 1_440_938_160; // 20150830T123600Z

struct Fixture {
    parts: http::request::Parts,
    canonical: Vec<u8>,
    string_to_sign: Vec<u8>,
    rules: Rules,
    secret: SecretKey,
}

fn head(authorization: &str) -> http::request::Parts {
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

fn fixture() -> Fixture {
    let auth = |sig: &str| {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, Signature={sig}"
        )
    };
    let rules = Rules::new("iam").region("us-east-1");
    let secret = SecretKey::new(SECRET);
    // Sign: compute the signature for the unsigned head, then put it in.
    let unsigned = head(&auth("00"));
    let parsed = ParsedRequest::parse(Request::from_parts(&unsigned)).unwrap();
    let canonical = parsed
        .canonical_request(Payload::of_body(BODY), &rules)
        .unwrap();
    let sts = parsed.string_to_sign(&canonical);
    let key = SigningKey::derive(&secret, "20150830", "us-east-1", "iam");
    let sig: String = key
        .sign(sts.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Fixture {
        parts: head(&auth(&sig)),
        canonical: canonical.as_bytes().to_vec(),
        string_to_sign: sts.as_bytes().to_vec(),
        rules,
        secret,
    }
}

#[inline(never)]
fn verify(f: &Fixture, cache: Option<&SigningKeyCache>) {
    let parsed = ParsedRequest::parse(Request::from_parts(black_box(&f.parts))).unwrap();
    let auth = parsed
        .verify(VerifyParams {
            secret: &f.secret,
            payload: Payload::of_body(black_box(BODY)),
            now: UNIX_EPOCH + Duration::from_secs(NOW),
            rules: &f.rules,
            cache,
        })
        .unwrap();
    black_box(auth);
}

#[inline(never)]
fn parse_only(f: &Fixture) {
    let parsed = ParsedRequest::parse(Request::from_parts(black_box(&f.parts))).unwrap();
    black_box(&parsed);
}

#[inline(never)]
fn floor(canonical: &[u8], sts: &[u8], key: &hmac::Key) {
    black_box(digest::digest(&digest::SHA256, black_box(BODY)));
    black_box(digest::digest(&digest::SHA256, black_box(canonical)));
    black_box(hmac::sign(key, black_box(sts)));
}

#[inline(never)]
fn verify_cached(f: &Fixture, cache: &SigningKeyCache) {
    verify(f, Some(cache));
}

#[inline(never)]
fn verify_uncached(f: &Fixture) {
    verify(f, None);
}

fn floor_key() -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, &[7u8; 32])
}

fn benches(c: &mut Criterion) {
    let f = fixture();
    let cache = SigningKeyCache::new(1024);
    let key = floor_key();
    let mut group = c.benchmark_group("iam_list_users");
    group.bench_function("floor_sha256_sha256_hmac", |b| {
        b.iter(|| floor(&f.canonical, &f.string_to_sign, &key));
    });
    group.bench_function("verify_cached", |b| b.iter(|| verify_cached(&f, &cache)));
    group.bench_function("verify_uncached", |b| b.iter(|| verify_uncached(&f)));
    group.finish();
    summary(&f);
}

/// The three side by side from one interleaved run (best of several
/// batches), with the ratio to the floor.
fn summary(f: &Fixture) {
    // PORTCULLIS_BENCH_BATCH lowers the count for runs under valgrind.
    let batch: u32 = std::env::var("PORTCULLIS_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let cache = SigningKeyCache::new(1024);
    let key = floor_key();
    let time = |run: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..batch {
            run();
        }
        start.elapsed().as_secs_f64() * 1e9 / f64::from(batch)
    };
    let (mut fl, mut ca, mut un, mut pa) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..7 {
        fl = fl.min(time(&|| floor(&f.canonical, &f.string_to_sign, &key)));
        ca = ca.min(time(&|| verify_cached(f, &cache)));
        un = un.min(time(&|| verify_uncached(f)));
        pa = pa.min(time(&|| parse_only(f)));
    }
    println!(
        "\nsummary (ns/request, best of 7 batches of {batch}): floor {fl:.0} | cached {ca:.0} ({:.2}x floor) | uncached {un:.0} ({:.2}x floor) | of which parsing {pa:.0}",
        ca / fl,
        un / fl
    );
}

criterion_group!(verify_benches, benches);
criterion_main!(verify_benches);
