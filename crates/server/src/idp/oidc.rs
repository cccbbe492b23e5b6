//! The OpenID Connect issuer (`PUBLIC_URL/oidc`): discovery, JWKS, the
//! authorization code flow with PKCE, the token endpoint and userinfo.
//!
//! What it supports, as the discovery document says: `response_type=code`
//! only (no implicit or hybrid flow), PKCE with `S256` only (required for
//! public clients; a verifier without a challenge is refused, so PKCE cannot
//! be stripped), client authentication `client_secret_basic`,
//! `client_secret_post` or `none` (public clients), ES256 ID tokens and
//! ES256 JWT access tokens (`typ: at+jwt`, RFC 9068) for userinfo, no
//! refresh tokens and no consent screen (clients are registered by an
//! administrator). `prompt=none`, `prompt=login` and `max_age` are
//! honoured; the authorization response carries `iss` (RFC 9207).
//!
//! ID token claims: `iss`, `sub` (the IAM user's unique id, `AIDA…`),
//! `aud` (the client id), `exp`, `iat`, `auth_time`, `nonce` (when the
//! request had one), `amr` (`pwd`, and `mfa` when a code was verified) and
//! `preferred_username` (the IAM user name).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::routing::get;
use base64::Engine as _;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use portcullis_store::StoreError;
use portcullis_store::model::OidcClient;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::error::store_error;

use super::keys::{MAX_TOKEN_SECONDS, VerifyError};
use super::session::{self};
use super::{Form, Idp, b64url, html, json_response, redirect, sha256_hex};

/// Authorization codes live this long.
pub const CODE_SECONDS: i64 = 120;
/// ID and access tokens live this long.
pub const TOKEN_SECONDS: i64 = MAX_TOKEN_SECONDS;
/// The store kind of authorization codes (`put_once` / `take_once`).
const CODE_KIND: &str = "oidc-code";
const ID_TOKEN_TYPE: &str = "JWT";
const ACCESS_TOKEN_TYPE: &str = "at+jwt";

pub fn routes() -> Router<Arc<Idp>> {
    Router::new()
        .route("/oidc/.well-known/openid-configuration", get(discovery))
        .route("/oidc/jwks.json", get(jwks))
        .route("/oidc/authorize", get(authorize).post(authorize))
        .route("/oidc/token", axum::routing::post(token))
        .route("/oidc/userinfo", get(userinfo).post(userinfo))
}

fn public_json(value: &serde_json::Value) -> Response<Body> {
    let mut response = json_response(StatusCode::OK, value);
    // Public documents: a browser app may read them from another origin.
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// The discovery document (OpenID Connect Discovery 1.0).
pub fn discovery_document(idp: &Idp) -> serde_json::Value {
    let issuer = idp.issuer();
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks.json"),
        "scopes_supported": ["openid", "profile"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "preferred_username"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    })
}

async fn discovery(State(idp): State<Arc<Idp>>) -> Response<Body> {
    public_json(&discovery_document(&idp))
}

async fn jwks(State(idp): State<Arc<Idp>>) -> Response<Body> {
    match idp.keys.jwks(&idp.state).await {
        Ok(doc) => public_json(&doc),
        Err(e) => {
            tracing::error!(error = %e.message(), "cannot publish the JWKS");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "The keys are unavailable.",
            )
        }
    }
}

/// An OAuth error answer (RFC 6749 §5.2).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response<Body> {
    json_response(
        status,
        &serde_json::json!({ "error": error, "error_description": description }),
    )
}

/// What an authorization code stands for, stored (by the code's hash)
/// until it is exchanged.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    account: String,
    user_id: String,
    user_name: String,
    auth_time: i64,
    mfa: bool,
    scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code_challenge: Option<String>,
}

/// `redirect_uri` with `params` added to its query.
fn with_params(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{sep}{}", query.finish())
}

/// An error sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
fn redirect_error(
    idp: &Idp,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Response<Body> {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("iss", idp.issuer()));
    redirect(&with_params(redirect_uri, &params))
}

/// An error that must not go to the redirect URI (the client or the URI
/// itself is in doubt): a page for the person.
fn error_page(idp: &Idp, message: &str) -> Response<Body> {
    html::respond(
        StatusCode::BAD_REQUEST,
        html::problem(&idp.base_path, "Sign-in request refused", message),
    )
}

/// RFC 7636: 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn valid_pkce_text(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

pub(crate) async fn find_client(
    idp: &Idp,
    client_id: &str,
) -> Result<Option<OidcClient>, crate::error::ApiError> {
    match idp.state.store.get_oidc_client(client_id).await {
        Ok(c) => Ok(Some(c)),
        Err(StoreError::NoSuchEntity(_)) => Ok(None),
        Err(e) => Err(store_error(e)),
    }
}

async fn authorize(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    let headers = req.headers().clone();
    let mut params = Form::parse(req.uri().query().unwrap_or("").as_bytes());
    if req.method() == Method::POST {
        match super::read_body(req.into_body()).await {
            Some(body) => params.extend(&body),
            None => return error_page(&idp, "The request is too large."),
        }
    }
    // Until the client and its redirect URI are known good, errors are
    // shown to the person, never redirected (RFC 6749 §4.1.2.1).
    let client_id = match params.single("client_id") {
        Ok(Some(id)) => id.to_owned(),
        Ok(None) => return error_page(&idp, "The request names no client (client_id)."),
        Err(e) => return error_page(&idp, &e),
    };
    let client = match find_client(&idp, &client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return error_page(&idp, "The client (client_id) is not registered."),
        Err(_) => return error_page(&idp, "The service could not read the client."),
    };
    let redirect_uri = match params.single("redirect_uri") {
        Ok(Some(uri)) if client.redirect_uris.iter().any(|r| r == uri) => uri.to_owned(),
        Ok(Some(_)) => {
            return error_page(
                &idp,
                "The redirect_uri is not one registered for this client.",
            );
        }
        Ok(None) => return error_page(&idp, "The request has no redirect_uri."),
        Err(e) => return error_page(&idp, &e),
    };
    let state = params.get("state").map(str::to_owned);
    let fail = |error: &str, description: &str| {
        redirect_error(&idp, &redirect_uri, state.as_deref(), error, description)
    };
    let single = |name: &str| params.single(name).map(|v| v.map(str::to_owned));
    let (response_type, scope, nonce, challenge, method, prompt, max_age) = match (
        single("response_type"),
        single("scope"),
        single("nonce"),
        single("code_challenge"),
        single("code_challenge_method"),
        single("prompt"),
        single("max_age"),
    ) {
        (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e), Ok(f), Ok(g)) => (a, b, c, d, e, f, g),
        _ => return fail("invalid_request", "A parameter is repeated."),
    };
    if params.get("request").is_some() {
        return fail(
            "request_not_supported",
            "Request objects are not supported.",
        );
    }
    if params.get("request_uri").is_some() {
        return fail("request_uri_not_supported", "request_uri is not supported.");
    }
    if response_type.as_deref() != Some("code") {
        return fail(
            "unsupported_response_type",
            "Only the authorization code flow (response_type=code) is supported.",
        );
    }
    let scopes: Vec<&str> = scope
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if !scopes.contains(&"openid") {
        return fail("invalid_scope", "The scope must include openid.");
    }
    if nonce.as_deref().is_some_and(|n| n.len() > 512)
        || state.as_deref().is_some_and(|s| s.len() > 2048)
    {
        return fail("invalid_request", "The nonce or state is too long.");
    }
    let code_challenge = match (challenge, method.as_deref()) {
        (Some(c), Some("S256")) if valid_pkce_text(&c) => Some(c),
        (Some(_), Some("S256")) => {
            return fail(
                "invalid_request",
                "The code_challenge is not 43 to 128 characters of base64url.",
            );
        }
        (Some(_), _) => {
            return fail(
                "invalid_request",
                "Only the S256 code_challenge_method is supported.",
            );
        }
        (None, Some(_)) => {
            return fail(
                "invalid_request",
                "code_challenge_method without code_challenge.",
            );
        }
        (None, None) => None,
    };
    if client.secret_hash.is_none() && code_challenge.is_none() {
        return fail(
            "invalid_request",
            "A public client must use PKCE (code_challenge with code_challenge_method=S256).",
        );
    }
    let prompts: Vec<&str> = prompt
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if prompts.contains(&"none") && prompts.len() > 1 {
        return fail(
            "invalid_request",
            "prompt=none cannot be combined with other values.",
        );
    }
    let max_age = match max_age.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(v)) if v >= 0 => Some(v),
        Some(_) => return fail("invalid_request", "max_age must be a number of seconds."),
    };

    // Who is signed in (to the client's account)?
    let now = idp.now().unix_timestamp();
    let mut person = None;
    if let Some(s) = session::read(&idp, &headers)
        && let Some(p) = super::portal::signed_in(&idp, &s).await
        && p.account == client.account_id
    {
        person = Some(p);
    }
    let stale = person
        .as_ref()
        .zip(max_age)
        .is_some_and(|(p, age)| now - p.auth_time > age);
    let wants_login = prompts.contains(&"login") || stale;
    let person = match person {
        Some(p) if !wants_login => p,
        _ if prompts.contains(&"none") => {
            return fail("login_required", "The person is not signed in.");
        }
        _ => {
            // Sign in, then come back here without what forced the sign-in
            // (else a fresh sign-in would be asked for again and again).
            let mut again = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &params.pairs {
                if k != "prompt" && k != "max_age" {
                    again.append_pair(k, v);
                }
            }
            let back = format!("/oidc/authorize?{}", again.finish());
            let target = format!(
                "/portal/signin?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("continue", &back)
                    .append_pair("account", &client.account_id)
                    .finish()
            );
            return redirect(&idp.link(&target));
        }
    };

    let Some(code) = super::random_token::<32>() else {
        return fail("server_error", "No randomness for a code.");
    };
    let grant = CodeGrant {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        account: person.account.clone(),
        user_id: person.user_id.clone(),
        user_name: person.user_name.clone(),
        auth_time: person.auth_time,
        mfa: person.mfa,
        scope: scopes.join(" "),
        nonce,
        code_challenge,
    };
    let Ok(payload) = serde_json::to_string(&grant) else {
        return fail("server_error", "The grant could not be recorded.");
    };
    let now_t = idp.now();
    if let Err(e) = idp
        .state
        .store
        .put_once(
            CODE_KIND,
            &sha256_hex(&code),
            &payload,
            now_t + time::Duration::seconds(CODE_SECONDS),
            now_t,
        )
        .await
    {
        tracing::error!(error = %e, "cannot store an authorization code");
        return fail("server_error", "The grant could not be recorded.");
    }
    let mut out = vec![("code", code.as_str())];
    if let Some(s) = &state {
        out.push(("state", s));
    }
    out.push(("iss", idp.issuer()));
    redirect(&with_params(&redirect_uri, &out))
}

/// How the client authenticated at the token endpoint.
struct ClientAuth {
    client_id: String,
    secret: Option<String>,
    /// HTTP Basic was used (a refusal then asks for Basic again).
    basic: bool,
}

fn client_auth(headers: &http::HeaderMap, form: &Form) -> Result<ClientAuth, &'static str> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
        });
    let body_id = form
        .single("client_id")
        .map_err(|_| "client_id is repeated")?;
    let body_secret = form
        .single("client_secret")
        .map_err(|_| "client_secret is repeated")?;
    if let Some(encoded) = basic {
        if body_secret.is_some() {
            return Err("Use one client authentication method, not two.");
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or("The Basic credentials are not base64 of id:secret.")?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or("The Basic credentials have no ':'.")?;
        // RFC 6749 §2.3.1: both parts are form-urlencoded first.
        let decode = |s: &str| -> String {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let id = decode(id);
        if body_id.is_some_and(|b| b != id) {
            return Err("The client_id of the body is not the authenticated client.");
        }
        return Ok(ClientAuth {
            client_id: id,
            secret: Some(decode(secret)),
            basic: true,
        });
    }
    let id = body_id.ok_or("The request does not identify the client.")?;
    Ok(ClientAuth {
        client_id: id.to_owned(),
        secret: body_secret.map(str::to_owned),
        basic: false,
    })
}

fn invalid_client(basic: bool, description: &str) -> Response<Body> {
    let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    if basic {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"portcullis\""),
        );
    }
    response
}

#[derive(Debug, Serialize, Deserialize)]
struct IdTokenClaims {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    amr: Vec<String>,
    preferred_username: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct AccessTokenClaims {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    jti: String,
    client_id: String,
    scope: String,
    /// The user's account (a user id is only looked up within one).
    #[serde(rename = "https://portcullis.dev/account")]
    account: String,
}

async fn token(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    let headers = req.headers().clone();
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_type {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The token request must be application/x-www-form-urlencoded.",
        );
    }
    let Some(body) = super::read_body(req.into_body()).await else {
        return oauth_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "The request is too large.",
        );
    };
    let form = Form::parse(&body);
    let bad = |d: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", d);
    let auth = match client_auth(&headers, &form) {
        Ok(a) => a,
        Err(d) => return invalid_client(true, d),
    };
    let client = match find_client(&idp, &auth.client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return invalid_client(auth.basic, "Unknown client or wrong secret."),
        Err(_) => {
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "The client could not be read.",
            );
        }
    };
    match (&client.secret_hash, &auth.secret) {
        (Some(hash), Some(secret)) => {
            let given = super::clients::secret_hash(secret);
            if !bool::from(given.as_bytes().ct_eq(hash.as_bytes())) {
                return invalid_client(auth.basic, "Unknown client or wrong secret.");
            }
        }
        (Some(_), None) => {
            return invalid_client(auth.basic, "This client must authenticate with its secret.");
        }
        (None, Some(_)) => {
            return invalid_client(auth.basic, "This client is public: it has no secret.");
        }
        (None, None) => {}
    }
    let (grant_type, code, redirect_uri, verifier) = match (
        form.single("grant_type"),
        form.single("code"),
        form.single("redirect_uri"),
        form.single("code_verifier"),
    ) {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        _ => return bad("A parameter is repeated."),
    };
    match grant_type {
        Some("authorization_code") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only the authorization_code grant is supported.",
            );
        }
        None => return bad("The request has no grant_type."),
    }
    let Some(code) = code else {
        return bad("The request has no code.");
    };
    let invalid_grant = |d: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", d);
    let now = idp.now();
    // Taken before anything else is checked: a code that fails once is
    // gone, so it cannot be tried again with other values.
    let payload = match idp
        .state
        .store
        .take_once(CODE_KIND, &sha256_hex(code), now)
        .await
    {
        Ok(Some(p)) => p,
        Ok(None) => {
            return invalid_grant("The authorization code is invalid, expired or already used.");
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot take an authorization code");
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "The code could not be read.",
            );
        }
    };
    let Ok(grant) = serde_json::from_str::<CodeGrant>(&payload) else {
        return invalid_grant("The authorization code is invalid, expired or already used.");
    };
    if grant.client_id != client.client_id {
        return invalid_grant("The authorization code was issued to another client.");
    }
    if redirect_uri != Some(grant.redirect_uri.as_str()) {
        return invalid_grant("The redirect_uri is not the one of the authorization request.");
    }
    match (&grant.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) if valid_pkce_text(verifier) => {
            let computed = b64url(
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
            );
            if !bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                return invalid_grant("The code_verifier does not match the code_challenge.");
            }
        }
        (Some(_), Some(_)) => {
            return invalid_grant("The code_verifier is not 43 to 128 characters of base64url.");
        }
        (Some(_), None) => return invalid_grant("The request has no code_verifier."),
        (None, Some(_)) => {
            return invalid_grant("The authorization request had no code_challenge.");
        }
        (None, None) => {}
    }
    // The user may have gone since signing in.
    let user = match idp
        .state
        .store
        .get_user_by_id(&grant.account, &grant.user_id)
        .await
    {
        Ok(u) => u,
        Err(_) => return invalid_grant("The user no longer exists."),
    };
    let iat = now.unix_timestamp();
    let mut amr = vec!["pwd".to_owned()];
    if grant.mfa {
        amr.push("mfa".to_owned());
    }
    let id_claims = IdTokenClaims {
        iss: idp.issuer().to_owned(),
        sub: user.id.clone(),
        aud: client.client_id.clone(),
        exp: iat + TOKEN_SECONDS,
        iat,
        auth_time: grant.auth_time,
        nonce: grant.nonce.clone(),
        amr,
        preferred_username: user.name.clone(),
    };
    let Some(jti) = super::random_token::<16>() else {
        return oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "No randomness.",
        );
    };
    let access_claims = AccessTokenClaims {
        iss: idp.issuer().to_owned(),
        sub: user.id.clone(),
        aud: client.client_id.clone(),
        exp: iat + TOKEN_SECONDS,
        iat,
        jti,
        client_id: client.client_id.clone(),
        scope: grant.scope.clone(),
        account: grant.account.clone(),
    };
    let signed = (
        idp.keys.sign(&idp.state, ID_TOKEN_TYPE, &id_claims).await,
        idp.keys
            .sign(&idp.state, ACCESS_TOKEN_TYPE, &access_claims)
            .await,
    );
    let (Ok(id_token), Ok(access_token)) = signed else {
        return oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "The tokens could not be signed.",
        );
    };
    json_response(
        StatusCode::OK,
        &serde_json::json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "id_token": id_token,
            "scope": grant.scope,
        }),
    )
}

fn bearer_error(description: &str) -> Response<Body> {
    let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", description);
    let value = format!("Bearer error=\"invalid_token\", error_description=\"{description}\"");
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

async fn userinfo(State(idp): State<Arc<Idp>>, req: Request<Body>) -> Response<Body> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.trim().to_owned())
        });
    let Some(token) = token else {
        let mut response = oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            "No bearer token.",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    };
    let claims: AccessTokenClaims =
        match idp.keys.verify(&idp.state, ACCESS_TOKEN_TYPE, &token).await {
            Ok(c) => c,
            Err(VerifyError::Expired) => return bearer_error("The access token expired."),
            Err(VerifyError::Invalid) => return bearer_error("The access token is not valid."),
        };
    if claims.iss != idp.issuer() {
        return bearer_error("The access token is not valid.");
    }
    let user = match idp
        .state
        .store
        .get_user_by_id(&claims.account, &claims.sub)
        .await
    {
        Ok(u) => u,
        Err(_) => return bearer_error("The user no longer exists."),
    };
    json_response(
        StatusCode::OK,
        &serde_json::json!({
            "sub": user.id,
            "preferred_username": user.name,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_parameters_are_appended_and_encoded() {
        assert_eq!(
            with_params(
                "https://app.example/cb",
                &[("code", "a b"), ("state", "x&y")]
            ),
            "https://app.example/cb?code=a+b&state=x%26y"
        );
        assert_eq!(
            with_params("https://app.example/cb?v=1", &[("code", "c")]),
            "https://app.example/cb?v=1&code=c"
        );
    }

    #[test]
    fn pkce_texts_follow_rfc_7636() {
        assert!(valid_pkce_text(&"a".repeat(43)));
        assert!(valid_pkce_text(&"a-._~".repeat(20)));
        assert!(!valid_pkce_text(&"a".repeat(42)));
        assert!(!valid_pkce_text(&"a".repeat(129)));
        assert!(!valid_pkce_text(&format!("{}=", "a".repeat(43))));
    }

    #[test]
    fn the_rfc_7636_example_verifier_gives_its_challenge() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = b64url(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
        );
        assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn basic_client_credentials_are_form_decoded() {
        let mut h = http::HeaderMap::new();
        let raw = base64::engine::general_purpose::STANDARD.encode("my%3Aapp:s%2Bcret");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {raw}")).unwrap(),
        );
        let auth = client_auth(&h, &Form::default()).unwrap();
        assert_eq!(auth.client_id, "my:app");
        assert_eq!(auth.secret.as_deref(), Some("s+cret"));
        assert!(auth.basic);
        let both = Form::parse(b"client_secret=x");
        assert!(client_auth(&h, &both).is_err(), "two methods at once");
    }
}
