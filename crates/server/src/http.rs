//! The HTTP side: one route for both APIs, bounded bodies, and the listener.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

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
    Router::new().fallback(query).with_state(state)
}

async fn query(State(state): State<Arc<AppState>>, req: Request<Body>) -> Response<Body> {
    let source_ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
    let transport = Transport {
        source_ip,
        secure: state.config.tls.is_some(),
    };
    let (parts, body) = req.into_parts();
    // The limit bounds memory: a larger body is refused before it is held.
    let body = match axum::body::to_bytes(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            let request_id = uuid::Uuid::new_v4().to_string();
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
    request::handle(state, parts, body, transport).await
}

/// Serves until `shutdown` completes.
pub async fn serve(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
