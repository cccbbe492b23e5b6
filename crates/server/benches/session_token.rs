//! Verification of an STS session token as a request does it when the
//! credentials are not cached yet: the generation check, AES-256-GCM
//! decryption bound to the access key id, decoding of the claims, and the
//! expiry check (`TokenKeys::generation_of` + `has_generation` + `open`,
//! the steps of `authn::resolve_session`). Goal (issue 5): under 2 µs.
//!
//! The token is a realistic one: a chained role session with an inline
//! session policy, a policy ARN, session tags (some transitive), a source
//! identity and MFA, sealed by the service's own token keys (a real
//! bootstrap on a temporary data directory).
//!
//! Besides criterion's report, the bench prints the median of per-call
//! times measured over many short batches.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark: a failed set-up step must stop it loudly"
)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_server::bootstrap;
use portcullis_server::config::{Config, RootCredentials};
use portcullis_server::sessions::{SessionClaims, SessionPolicies, SessionPrincipal, TokenKeys};
use time::OffsetDateTime;
use zeroize::Zeroizing;

const KEY_ID: &str = "ASIAPORTCULLISBENCH1";

const SESSION_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ReadReports","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::reports","arn:aws:s3:::reports/${aws:PrincipalTag/team}/*"]},{"Sid":"NoDeletes","Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]}"#;

fn claims(now: OffsetDateTime) -> SessionClaims {
    SessionClaims {
        access_key_id: KEY_ID.into(),
        secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        account: "123456789012".into(),
        principal: SessionPrincipal::Role {
            role_id: "AROAPORTCULLISBENCH01".into(),
            role_name: "reporting-reader".into(),
            role_path: "/service/".into(),
            session_name: "batch-job-20260101".into(),
        },
        issued: now.unix_timestamp(),
        expires: now.unix_timestamp() + 3600,
        session_policies: Some(SessionPolicies {
            inline: Some(SESSION_POLICY.into()),
            arns: vec!["arn:aws:iam::123456789012:policy/reports-read".into()],
        }),
        tags: vec![
            ("team".into(), "analytics".into()),
            ("cost-center".into(), "cc-4711".into()),
            ("project".into(), "quarterly-reports".into()),
        ],
        transitive_tag_keys: vec!["team".into(), "project".into()],
        mfa_auth_time: Some(now.unix_timestamp() - 60),
        source_identity: Some("alice@example.com".into()),
        chained: true,
        context: Vec::new(),
    }
}

/// The steps `authn::resolve_session` takes for a token it has not cached.
fn verify(keys: &TokenKeys, token: &str, now: OffsetDateTime) -> SessionClaims {
    let generation = TokenKeys::generation_of(token).unwrap();
    assert!(keys.has_generation(generation));
    keys.open(KEY_ID, token, now).unwrap()
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), dir.path().join("data"));
    config.root_credentials = Some(RootCredentials {
        access_key_id: "AKIAPORTCULLISBENCH1".into(),
        secret_access_key: Zeroizing::new("root-secret-for-the-session-bench".into()),
    });
    let (state, _) = runtime.block_on(bootstrap::start(config)).unwrap();
    let now = state.clock.now();
    let token = state.token_keys.seal(&claims(now)).unwrap();
    let keys = &state.token_keys;
    assert_eq!(
        verify(keys, &token, now).expires,
        now.unix_timestamp() + 3600
    );

    c.bench_function("session_token/verify", |b| {
        b.iter(|| verify(keys, black_box(&token), now));
    });
    c.bench_function("session_token/seal", |b| {
        let claims = claims(now);
        b.iter(|| keys.seal(black_box(&claims)).unwrap());
    });

    // The median of per-call times over short batches, which criterion's
    // mean-based report does not give.
    const BATCH: u32 = 100;
    let mut per_call: Vec<f64> = (0..2_000)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..BATCH {
                black_box(verify(keys, black_box(&token), now));
            }
            start.elapsed().as_secs_f64() * 1e9 / f64::from(BATCH)
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    let at = |q: f64| per_call[((per_call.len() - 1) as f64 * q) as usize];
    println!(
        "session token verification ({} B token): median {:.0} ns, p99 {:.0} ns per call \
         (goal: under 2000 ns) — {}",
        token.len(),
        at(0.5),
        at(0.99),
        if at(0.5) < 2000.0 { "met" } else { "MISSED" }
    );
}

criterion_group!(session_token_benches, benches);
criterion_main!(session_token_benches);
