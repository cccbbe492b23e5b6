//! The HTTP side: one route for both APIs, bounded bodies, and the listener.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::task::Poll;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use http::{Request, Response, StatusCode};

use crate::authn::{self, Transport};
use crate::error::{ApiError, ErrorCode};
use crate::request;
use crate::state::AppState;

/// The service as a router, testable without a socket (`oneshot`).
pub fn app(state: Arc<AppState>) -> Router {
    // Portcullis's own instance-credentials endpoints, the OIDC issuer and
    // the sign-in portal; every other request is the AWS Query protocol.
    Router::new()
        .merge(crate::instances::routes())
        .merge(crate::idp::routes(&state))
        .fallback(query)
        .with_state(state)
}

async fn query(State(state): State<Arc<AppState>>, req: Request<Body>) -> Response<Body> {
    let source_ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
    query_from(state, req, source_ip).await
}

/// What one connection serves. The Query protocol's own requests, `POST /`
/// and `GET /` (what every SDK and the CLI send), go straight to the
/// handler with the peer's address; everything else, and any other path,
/// goes through the router as before (whose fallback is the same handler).
/// The router's matching, its extension map for `ConnectInfo` and its
/// layers of boxed services cost about a tenth of a GetCallerIdentity's own
/// work, for a dispatch that one comparison decides.
#[derive(Clone)]
struct Connection {
    state: Arc<AppState>,
    router: Router,
    peer: SocketAddr,
}

type ResponseFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Response<Body>, std::convert::Infallible>> + Send>,
>;

impl tower::Service<Request<Body>> for Connection {
    type Response = Response<Body>;
    type Error = std::convert::Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        self.answer(req)
    }
}

impl Connection {
    fn answer(&self, mut req: Request<Body>) -> ResponseFuture {
        let direct = req.uri().path() == "/"
            && (req.method() == http::Method::POST || req.method() == http::Method::GET);
        if direct {
            let state = Arc::clone(&self.state);
            let peer = self.peer.ip();
            Box::pin(async move { Ok(query_from(state, req, peer).await) })
        } else {
            req.extensions_mut().insert(ConnectInfo(self.peer));
            Box::pin(tower::ServiceExt::oneshot(self.router.clone(), req))
        }
    }
}

async fn query_from(state: Arc<AppState>, req: Request<Body>, source_ip: IpAddr) -> Response<Body> {
    let transport = Transport {
        source_ip,
        secure: state.config.tls.is_some(),
        at: state.clock.now(),
    };
    let (parts, body) = req.into_parts();
    // The limit bounds memory: a larger body is refused before it is held.
    let body = match axum::body::to_bytes(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            let request_id = crate::request::RequestId::new();
            let e = ApiError::new(
                ErrorCode::RequestEntityTooLarge,
                format!(
                    "The request body is larger than the {} bytes this service accepts.",
                    state.config.max_body_bytes
                ),
            );
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::PAYLOAD_TOO_LARGE);
            return request::xml_response(
                status,
                e.to_xml(authn::service_of(&parts).xmlns(), &request_id),
                &request_id,
            );
        }
    };
    // Once its body is read, a call runs to completion even if the client
    // goes away. Dropped halfway, a handler could hand a database connection
    // back mid-transaction (seen on PostgreSQL under load, when a load
    // generator closed its connections), and whether a write happens should
    // not depend on the client's patience.
    //
    // The call is polled once here first: most calls (a signed
    // GetCallerIdentity, reads answered from memory) finish in that poll,
    // and a task of their own would only cost a spawn and a second wake-up.
    // A call that has to wait (on the store, a lock, a key fetch) is moved
    // into a task of its own before anything can drop it; the task's first
    // poll registers its own waker, as every future re-registers on poll.
    // What the error namespace needs is kept aside (reference-counted, not
    // copied) and read only if the call fails.
    let signature = SignatureSource::of(&parts);
    let mut call = Box::pin(request::handle(state, parts, body, transport));
    let first = std::future::poll_fn(|cx| {
        Poll::Ready(std::panic::catch_unwind(AssertUnwindSafe(|| {
            call.as_mut().poll(cx)
        })))
    })
    .await;
    match first {
        Ok(Poll::Ready(response)) => response,
        Ok(Poll::Pending) => match tokio::spawn(call).await {
            Ok(response) => response,
            Err(e) => internal_error(signature, &e),
        },
        Err(_) => internal_error(signature, &"the call panicked"),
    }
}

/// The answer to a call that failed inside this service (a bug): a 500
/// with `ServiceFailure`, logged with its request id.
fn internal_error(signature: SignatureSource, e: &dyn std::fmt::Display) -> Response<Body> {
    let request_id = crate::request::RequestId::new();
    tracing::error!(error = %e, %request_id, "a request failed inside the service");
    request::xml_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        ApiError::internal().to_xml(signature.service().xmlns(), &request_id),
        &request_id,
    )
}

/// The parts of a request that name its service (the `Authorization`
/// header or the presigned query), kept in case its task fails.
struct SignatureSource {
    uri: http::Uri,
    authorization: Option<http::HeaderValue>,
}

impl SignatureSource {
    fn of(parts: &http::request::Parts) -> Self {
        SignatureSource {
            uri: parts.uri.clone(),
            authorization: parts.headers.get(http::header::AUTHORIZATION).cloned(),
        }
    }

    fn service(self) -> authn::Service {
        let mut request = Request::new(());
        *request.uri_mut() = self.uri;
        if let Some(value) = self.authorization {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value);
        }
        authn::service_of(&request.into_parts().0)
    }
}

/// Serves until `shutdown` completes: plain HTTP, or HTTPS when the
/// configuration names a certificate and key.
pub async fn serve(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Some(tls) = &state.config.tls {
        let config = tls_config(&tls.cert, &tls.key)?;
        return serve_tls(state, listener, config, shutdown).await;
    }
    let router = app(Arc::clone(&state));
    let connections = tower::service_fn(
        move |incoming: axum::serve::IncomingStream<'_, tokio::net::TcpListener>| {
            let connection = Connection {
                state: Arc::clone(&state),
                router: router.clone(),
                peer: *incoming.remote_addr(),
            };
            std::future::ready(Ok::<_, std::convert::Infallible>(connection))
        },
    );
    axum::serve(listener, connections)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A rustls server configuration from PEM files.
pub fn tls_config(cert: &Path, key: &Path) -> std::io::Result<Arc<rustls::ServerConfig>> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let invalid = |what: &str, e: &dyn std::fmt::Display| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{what}: {e}"))
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| {
            invalid(
                &format!("cannot read certificates from {}", cert.display()),
                &e,
            )
        })?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(&format!("bad certificate in {}", cert.display()), &e))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        invalid(
            &format!("cannot read the private key from {}", key.display()),
            &e,
        )
    })?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| invalid("TLS", &e))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| invalid("TLS certificate and key", &e))?;
    Ok(Arc::new(config))
}

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

async fn serve_tls(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let router = app(Arc::clone(&state));
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let connection = Connection {
            state: Arc::clone(&state),
            router: router.clone(),
            peer,
        };
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                connection.answer(req.map(Body::new))
            });
            let builder =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}
