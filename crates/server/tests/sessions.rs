//! Session credentials over the real request path (in process, with the
//! service's clock moved instead of sleeping): expiry, and token-key
//! rotation that leaves live sessions valid.

#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failed step must fail the test loudly"
)]

#[path = "support/backend.rs"]
mod backend;

use std::sync::Arc;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use axum::body::Body;
use portcullis_server::bootstrap;
use portcullis_server::config::{Config, RootCredentials};
use portcullis_server::state::AppState;
use tower::ServiceExt as _;
use zeroize::Zeroizing;

const ROOT_ID: &str = "AKIAPORTCULLISTEST01";
const ROOT_SECRET: &str = "root-secret-for-in-process-tests";

struct Creds {
    id: String,
    secret: String,
    token: Option<String>,
}

async fn start() -> (tempfile::TempDir, Arc<AppState>) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), dir.path().join("data"));
    config.root_credentials = Some(RootCredentials {
        access_key_id: ROOT_ID.into(),
        secret_access_key: Zeroizing::new(ROOT_SECRET.into()),
    });
    config.database_url = backend::database_url();
    let (state, _) = bootstrap::start(config).await.unwrap();
    (dir, state)
}

/// Sends a signed STS or IAM call, signed at the service's own clock.
async fn call(state: &Arc<AppState>, service: &str, creds: &Creds, body: &str) -> (u16, String) {
    let identity: Identity =
        Credentials::new(&creds.id, &creds.secret, creds.token.clone(), None, "test").into();
    let now: SystemTime = portcullis_server::authn::to_system_time(state.clock.now());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers = [
        ("host", "localhost"),
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
    ];
    let signable = SignableRequest::new(
        "POST",
        "http://localhost/",
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = http::Request::builder()
        .method("POST")
        .uri("http://localhost/");
    for (k, v) in headers {
        request = request.header(k, v);
    }
    let mut request = request.body(Body::from(body.to_owned())).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    let response = portcullis_server::http::app(Arc::clone(state))
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).unwrap() + open.len();
    let end = start + text[start..].find(close).unwrap();
    &text[start..end]
}

async fn session_token(state: &Arc<AppState>, seconds: u32) -> Creds {
    let root = Creds {
        id: ROOT_ID.into(),
        secret: ROOT_SECRET.into(),
        token: None,
    };
    let (status, body) = call(
        state,
        "sts",
        &root,
        &format!("Action=GetSessionToken&Version=2011-06-15&DurationSeconds={seconds}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    Creds {
        id: between(&body, "<AccessKeyId>", "</AccessKeyId>").into(),
        secret: between(&body, "<SecretAccessKey>", "</SecretAccessKey>").into(),
        token: Some(between(&body, "<SessionToken>", "</SessionToken>").into()),
    }
}

const WHO: &str = "Action=GetCallerIdentity&Version=2011-06-15";

#[tokio::test]
async fn a_session_works_until_its_expiry_and_then_says_expired_token() {
    let (_dir, state) = start().await;
    let session = session_token(&state, 900).await;
    assert!(session.id.starts_with("ASIA"));
    let (status, body) = call(&state, "sts", &session, WHO).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(":root</Arn>"));

    state.clock.advance(899);
    let (status, _) = call(&state, "sts", &session, WHO).await;
    assert_eq!(
        status, 200,
        "one second before expiry the session still works"
    );

    state.clock.advance(2);
    let (status, body) = call(&state, "sts", &session, WHO).await;
    assert_eq!(status, 403);
    assert!(body.contains("<Code>ExpiredToken</Code>"), "{body}");
}

#[tokio::test]
async fn rotating_token_keys_keeps_live_sessions_valid() {
    let (_dir, state) = start().await;
    let before = session_token(&state, 3600).await;
    let now = state.clock.now();
    let generation = state
        .token_keys
        .rotate(state.store.as_ref(), &state.master_key, now)
        .await
        .unwrap();
    assert_eq!(generation, 2);
    let after = session_token(&state, 3600).await;
    assert_eq!(
        portcullis_server::sessions::TokenKeys::generation_of(after.token.as_deref().unwrap()),
        Some(2)
    );
    for creds in [&before, &after] {
        let (status, body) = call(&state, "sts", creds, WHO).await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn a_token_presented_with_another_key_id_is_refused() {
    let (_dir, state) = start().await;
    let a = session_token(&state, 900).await;
    let b = session_token(&state, 900).await;
    let mixed = Creds {
        id: a.id.clone(),
        secret: a.secret.clone(),
        token: b.token.clone(),
    };
    let (status, body) = call(&state, "sts", &mixed, WHO).await;
    assert_eq!(status, 403);
    assert!(body.contains("<Code>InvalidClientTokenId</Code>"), "{body}");
}
