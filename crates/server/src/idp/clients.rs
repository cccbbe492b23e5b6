//! The admin API of the issuer's clients (relying parties), JSON over HTTP
//! at `/_portcullis/v1/oidc/clients`, SigV4-signed for the `iam` service
//! and authorised like any API call, as Portcullis-specific actions on
//! `arn:aws:iam::ACCOUNT:oidc-client/CLIENT_ID`:
//!
//! | request | action |
//! |---|---|
//! | `POST /_portcullis/v1/oidc/clients` | `portcullis:CreateOidcClient` |
//! | `GET /_portcullis/v1/oidc/clients` | `portcullis:ListOidcClients` (resource `*`) |
//! | `GET /_portcullis/v1/oidc/clients/ID` | `portcullis:GetOidcClient` |
//! | `DELETE /_portcullis/v1/oidc/clients/ID` | `portcullis:DeleteOidcClient` |
//!
//! A client belongs to the caller's account: its users are that account's
//! IAM users. A confidential client gets a secret, shown once in the
//! creation answer and kept only as a SHA-256 hash — it is 256 random
//! bits, so a fast hash is as strong as a slow one and keeps the token
//! endpoint fast. A public client (`"Public": true`) has no secret and
//! must use PKCE.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::routing::get;
use http::{Method, Request, Response, StatusCode};
use portcullis_store::StoreError;
use portcullis_store::model::{NewOidcClient, OidcClient};
use serde::Deserialize;

use crate::audit::AuditRecord;
use crate::authn::{self, Service};
use crate::authz::actions::{ResourceRef, Target};
use crate::authz::{self, Verdict};
use crate::error::{ApiError, ErrorCode, store_error};
use crate::protocol::xml::Timestamp;

use super::{Idp, json_response};

pub const CLIENTS_PATH: &str = "/_portcullis/v1/oidc/clients";
/// At most this many redirect URIs per client.
const MAX_REDIRECT_URIS: usize = 10;

pub fn routes() -> Router<Arc<Idp>> {
    Router::new()
        .route(CLIENTS_PATH, get(list).post(create))
        .route(
            &format!("{CLIENTS_PATH}/{{id}}"),
            get(get_one).delete(delete),
        )
}

/// How a client secret is kept.
pub fn secret_hash(secret: &str) -> String {
    format!("sha256:{}", super::sha256_hex(secret))
}

/// The ARN authorisation sees for a client.
pub fn client_arn(account: &str, client_id: &str) -> String {
    format!("arn:aws:iam::{account}:oidc-client/{client_id}")
}

fn describe(idp: &Idp, c: &OidcClient) -> serde_json::Value {
    serde_json::json!({
        "ClientId": c.client_id,
        "ClientName": c.name,
        "AccountId": c.account_id,
        "Arn": client_arn(&c.account_id, &c.client_id),
        "RedirectUris": c.redirect_uris,
        "Public": c.secret_hash.is_none(),
        "CreateDate": Timestamp(c.create_date).to_iso8601(),
        "Issuer": idp.issuer(),
    })
}

fn failure(e: &ApiError, request_id: &str) -> Response<Body> {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(
        status,
        &serde_json::json!({
            "Code": e.code().as_str(),
            "Message": e.message(),
            "RequestId": request_id,
        }),
    )
}

/// One admin request: authenticate, authorise `action` on the resource,
/// then run `handle`; every call is audited.
async fn admin<F, Fut>(
    idp: &Arc<Idp>,
    req: Request<Body>,
    action: &'static str,
    resource: Option<String>,
    handle: F,
) -> Response<Body>
where
    F: FnOnce(String, bytes::Bytes) -> Fut,
    Fut: std::future::Future<Output = Result<serde_json::Value, ApiError>>,
{
    let request_id = crate::request::RequestId::new();
    let transport = super::transport(idp, &req);
    let mut record = AuditRecord {
        time: Timestamp(idp.now()),
        request_id,
        service: Service::Iam.signing_name(),
        source_ip: Some(transport.source_ip),
        action: action.into(),
        decision: "Unauthenticated",
        ..AuditRecord::default()
    };
    let result = async {
        let (parts, body) = req.into_parts();
        let body = super::read_body(body).await.ok_or_else(|| {
            ApiError::new(
                ErrorCode::RequestEntityTooLarge,
                "The request body is larger than this endpoint accepts.",
            )
            .with_status(413)
        })?;
        let auth = authn::authenticate(&idp.state, &parts, &body, transport.at).await?;
        record.set_caller(auth.caller());
        if auth.service() != Service::Iam {
            return Err(ApiError::new(
                ErrorCode::InvalidClientTokenId,
                "Sign this request for the iam service.",
            )
            .with_status(403));
        }
        let account = auth.caller().account_id.clone();
        let arn = resource.map(|id| client_arn(&account, &id));
        let target = Target::custom(
            action,
            arn.as_deref().map_or(ResourceRef::Any, ResourceRef::Arn),
            Vec::new(),
        );
        let mut authorized = authz::authorize(&idp.state, auth, Some(&target), transport)
            .await
            .map_err(|denied| {
                record.decision = "Deny";
                record.resource = denied.resource.clone();
                denied.error
            })?;
        record.resource = authorized.take_resource();
        record.decision = match authorized.verdict() {
            Verdict::NotRequired => "NotRequired",
            Verdict::Root => "Root",
            Verdict::Allowed(statements) => {
                record.statements = statements.clone();
                "Allow"
            }
        };
        handle(account, body).await
    }
    .await;
    let response = match result {
        Ok(value) => json_response(StatusCode::OK, &value),
        Err(e) => {
            record.error_code = Some(e.code().as_str());
            failure(&e, &request_id)
        }
    };
    idp.state.audit.record(record);
    response
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct CreateInput {
    client_name: String,
    redirect_uris: Vec<String>,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    client_id: Option<String>,
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::validation(message)
}

/// A redirect URI a client may register: absolute, no fragment, https —
/// or http on a loopback host (RFC 8252 native apps and development).
pub fn check_redirect_uri(uri: &str) -> Result<(), ApiError> {
    let bad = |why: &str| validation(format!("The redirect URI {uri:?} {why}."));
    if uri.len() > 1024 || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("is longer than 1024 characters or has spaces"));
    }
    if uri.contains('#') {
        return Err(bad("must not have a fragment"));
    }
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| bad("is not absolute"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    if host.is_empty() || authority.contains('@') {
        return Err(bad("has no host (or has user information)"));
    }
    match scheme {
        "https" => Ok(()),
        "http" if matches!(host, "localhost" | "127.0.0.1" | "::1") || host.starts_with("127.") => {
            Ok(())
        }
        "http" => Err(bad("must use https unless its host is loopback")),
        _ => Err(bad("must be http(s)")),
    }
}

fn check_input(i: &CreateInput) -> Result<(), ApiError> {
    let name_len = i.client_name.chars().count();
    if !(1..=128).contains(&name_len) || i.client_name.chars().any(char::is_control) {
        return Err(validation(
            "ClientName must be 1 to 128 characters without control characters.",
        ));
    }
    if i.redirect_uris.is_empty() || i.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(validation(format!(
            "RedirectUris must list 1 to {MAX_REDIRECT_URIS} URIs."
        )));
    }
    for uri in &i.redirect_uris {
        check_redirect_uri(uri)?;
    }
    if let Some(id) = &i.client_id {
        let ok = (3..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
        if !ok {
            return Err(validation(
                "ClientId must be 3 to 64 characters of letters, digits, '-', '.' and '_'.",
            ));
        }
    }
    Ok(())
}

async fn create(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    // The resource names the client id, which may be in the body: peek at
    // it before authorisation (the signature covers the body anyway).
    let (parts, body) = req.into_parts();
    let Some(body) = super::read_body(body).await else {
        let e = ApiError::new(
            ErrorCode::RequestEntityTooLarge,
            "The request body is too large.",
        )
        .with_status(413);
        return failure(&e, &crate::request::RequestId::new());
    };
    let input: Result<CreateInput, _> = serde_json::from_slice(&body);
    let wanted_id = input.as_ref().ok().and_then(|i| i.client_id.clone());
    let generated = new_client_id();
    let client_id = wanted_id.or(generated);
    let req = Request::from_parts(parts, Body::from(body));
    let idp2 = idp.clone();
    admin(
        &idp,
        req,
        "portcullis:CreateOidcClient",
        Some(client_id.clone().unwrap_or_default()),
        move |account, _| async move {
            let input =
                input.map_err(|e| validation(format!("The request body is not valid: {e}")))?;
            check_input(&input)?;
            let client_id = client_id.ok_or_else(ApiError::internal)?;
            let secret = if input.public {
                None
            } else {
                Some(super::random_token::<32>().ok_or_else(ApiError::internal)?)
            };
            let client = idp2
                .state
                .store
                .create_oidc_client(
                    &account,
                    &NewOidcClient {
                        client_id: client_id.clone(),
                        name: input.client_name.clone(),
                        redirect_uris: input.redirect_uris.clone(),
                        secret_hash: secret.as_deref().map(secret_hash),
                    },
                    idp2.now(),
                )
                .await
                .map_err(|e| match e {
                    StoreError::EntityAlreadyExists(_) => ApiError::new(
                        ErrorCode::EntityAlreadyExists,
                        format!("An OIDC client with id {client_id} already exists."),
                    )
                    .with_status(409),
                    other => store_error(other),
                })?;
            let mut out = serde_json::json!({ "Client": describe(&idp2, &client) });
            if let (Some(secret), Some(obj)) = (secret, out.as_object_mut()) {
                obj.insert("ClientSecret".to_owned(), secret.into());
            }
            Ok(out)
        },
    )
    .await
}

/// 26 characters of lowercase base32: 130 random bits, like Cognito's ids.
fn new_client_id() -> Option<String> {
    let bytes = crate::secrets::random_bytes::<20>().ok()?;
    let text = data_encoding::BASE32_NOPAD
        .encode(&bytes)
        .to_ascii_lowercase();
    Some(text.get(..26)?.to_owned())
}

async fn list(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    let idp2 = idp.clone();
    admin(
        &idp,
        req,
        "portcullis:ListOidcClients",
        None,
        move |account, _| async move {
            let clients = idp2
                .state
                .store
                .list_oidc_clients(&account)
                .await
                .map_err(store_error)?;
            let items: Vec<serde_json::Value> =
                clients.iter().map(|c| describe(&idp2, c)).collect();
            Ok(serde_json::json!({ "Clients": items }))
        },
    )
    .await
}

fn no_such_client(id: &str) -> ApiError {
    ApiError::no_such_entity(format!("OIDC client {id} cannot be found."))
}

/// The client, if it belongs to `account` (another account's client is
/// answered as missing).
async fn own_client(idp: &Idp, account: &str, id: &str) -> Result<OidcClient, ApiError> {
    match idp.state.store.get_oidc_client(id).await {
        Ok(c) if c.account_id == account => Ok(c),
        Ok(_) | Err(StoreError::NoSuchEntity(_)) => Err(no_such_client(id)),
        Err(e) => Err(store_error(e)),
    }
}

async fn get_one(
    State(idp): State<Arc<Idp>>,
    Path(id): Path<String>,
    req: Request<Body>,
) -> Response<Body> {
    let idp2 = idp.clone();
    let id2 = id.clone();
    admin(
        &idp,
        req,
        "portcullis:GetOidcClient",
        Some(id),
        move |account, _| async move {
            let c = own_client(&idp2, &account, &id2).await?;
            Ok(serde_json::json!({ "Client": describe(&idp2, &c) }))
        },
    )
    .await
}

async fn delete(
    State(idp): State<Arc<Idp>>,
    Path(id): Path<String>,
    req: Request<Body>,
) -> Response<Body> {
    debug_assert_eq!(req.method(), Method::DELETE);
    let idp2 = idp.clone();
    let id2 = id.clone();
    admin(
        &idp,
        req,
        "portcullis:DeleteOidcClient",
        Some(id),
        move |account, _| async move {
            own_client(&idp2, &account, &id2).await?;
            idp2.state
                .store
                .delete_oidc_client(&account, &id2)
                .await
                .map_err(|e| match e {
                    StoreError::NoSuchEntity(_) => no_such_client(&id2),
                    other => store_error(other),
                })?;
            Ok(serde_json::json!({}))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_or_loopback_http() {
        for ok in [
            "https://app.example.com/callback",
            "https://app.example.com:8443/cb?x=1",
            "http://127.0.0.1:8080/callback",
            "http://localhost/cb",
            "http://[::1]:9000/cb",
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://app.example.com/cb",
            "https://app.example.com/cb#frag",
            "/relative",
            "javascript:alert(1)",
            "https://user@evil.example/cb",
            "https:///nohost",
            "https://app.example.com/a b",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_client_ids_are_26_base32_characters() {
        let id = new_client_id().unwrap();
        assert_eq!(id.len(), 26);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        );
        assert_ne!(id, new_client_id().unwrap());
    }

    #[test]
    fn secrets_are_kept_as_sha256() {
        let h = secret_hash("abc");
        assert_eq!(
            h,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
