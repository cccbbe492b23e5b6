//! HTTPS: with --tls-cert/--tls-key the service speaks TLS (rustls) and
//! still answers in AWS's XML.

#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failed step must fail the test loudly"
)]

#[path = "support/backend.rs"]
mod backend;

use std::sync::Arc;

use portcullis_server::bootstrap;
use portcullis_server::config::{Config, TlsConfig};

#[tokio::test]
async fn serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config::new(addr, dir.path().join("data"));
    config.database_url = backend::database_url();
    config.tls = Some(TlsConfig {
        cert: cert_path,
        key: key_path,
    });
    let (state, _) = bootstrap::start(config).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(portcullis_server::http::serve(
        Arc::clone(&state),
        listener,
        async {
            let _ = stopped.await;
        },
    ));

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let response = client
        .post(format!("https://localhost:{}/", addr.port()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=ListUsers&Version=2010-05-08")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{body}"
    );

    // Plain HTTP on the TLS port is not answered as HTTP.
    let plain = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/", addr.port()))
        .body("Action=ListUsers")
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 403);

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
