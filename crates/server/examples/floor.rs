//! The load benchmark's floor: the same HTTP stack as `portcullis serve`
//! (tokio's multi-threaded runtime, axum's server with connection info, a
//! bounded body read, a `text/xml` answer with a request id) around a
//! handler that does nothing. `bench/load.sh` runs it side by side with the
//! real service, so the ratio between them is the cost of SigV4,
//! authorisation, the store and the XML, and nothing else.
//!
//! ```sh
//! cargo run --release -p portcullis-server --example floor -- 127.0.0.1:9000
//! ```

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use http::{HeaderValue, Request, Response, StatusCode, header};

/// A GetCallerIdentity answer of the size the real one has.
const BODY: &str = concat!(
    r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">"#,
    "<GetCallerIdentityResult><Account>123456789012</Account>",
    "<Arn>arn:aws:iam::123456789012:user/bench</Arn><UserId>AIDAFLOORFLOORFLOOR01</UserId>",
    "</GetCallerIdentityResult><ResponseMetadata>",
    "<RequestId>00000000-0000-0000-0000-000000000000</RequestId>",
    "</ResponseMetadata></GetCallerIdentityResponse>",
);

async fn floor(req: Request<Body>) -> Response<Body> {
    // Read the body as the service does (bounded), then answer at once.
    let limit = portcullis_server::config::DEFAULT_MAX_BODY_BYTES;
    let status = match axum::body::to_bytes(req.into_body(), limit).await {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::PAYLOAD_TOO_LARGE,
    };
    let mut response = Response::new(Body::from(BODY));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    // The service makes a fresh request id per call: so does the floor.
    let id = portcullis_server::request::RequestId::new();
    if let Ok(id) = HeaderValue::from_bytes(id.as_bytes()) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

/// The allocator `portcullis` uses, so the floor is the same stack.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".to_owned())
        .parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!("floor serving at http://{}", listener.local_addr()?);
        let app = Router::new().fallback(floor);
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await?;
        Ok(())
    })
}
