//! Portcullis as an identity provider: an OpenID Connect issuer whose users
//! are the account's IAM users, and the sign-in portal that hands them
//! short-term role credentials (what IAM Identity Center's access portal
//! gives people).
//!
//! - `/oidc/…` is the issuer (`PUBLIC_URL/oidc`): discovery, JWKS,
//!   authorization code flow with PKCE, token endpoint, userinfo
//!   ([`oidc`]). ID tokens are ES256 JWTs signed with keys that rotate
//!   ([`keys`]).
//! - `/portal/…` is the sign-in portal: password, then the TOTP code where
//!   the user has an enabled MFA device, then (if required) a new password;
//!   the roles the user may assume and their credentials ([`portal`]). The
//!   OIDC authorization endpoint signs people in through the same pages.
//! - `/_portcullis/v1/oidc/clients` is the admin API that registers relying
//!   parties, SigV4-signed and authorised as `portcullis:*OidcClient`
//!   actions ([`clients`]).
//!
//! Security notes:
//! - The browser session is a cookie holding a value sealed under the master
//!   key (AES-256-GCM, bound to its purpose): HttpOnly, SameSite=Lax, Secure
//!   when the public URL is https. Every POST form carries a CSRF token that
//!   must equal the one sealed in the cookie.
//! - Sign-in failures (wrong password or code) are counted per user name;
//!   [`signin::LOCKOUT`] locks the name for a while after repeated failures.
//!   Unknown user names are answered exactly like wrong passwords.
//! - Authorization codes are single-use (taken atomically from the store),
//!   live [`oidc::CODE_SECONDS`], are stored by hash, and are bound to the
//!   client, the redirect URI and the PKCE challenge.

pub mod clients;
pub mod html;
pub mod keys;
pub mod oidc;
pub mod portal;
pub mod session;
pub mod signin;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{HeaderValue, Request, Response, StatusCode, header};

use crate::authn::Transport;
use crate::state::AppState;

/// Where the issuer lives under the public URL.
pub const ISSUER_PATH: &str = "/oidc";
/// Where the portal lives under the public URL.
pub const PORTAL_PATH: &str = "/portal";

/// Forms and token requests are a few short fields.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The identity provider's shared state.
#[derive(Debug)]
pub struct Idp {
    pub(crate) state: Arc<AppState>,
    /// `PUBLIC_URL` without a trailing `/`.
    public_url: String,
    /// The path part of the public URL (`""` or `/prefix`), put in front of
    /// every link and redirect.
    base_path: String,
    /// `PUBLIC_URL/oidc`: the `iss` of every token.
    issuer: String,
    /// Cookies carry `Secure` when people reach the service over https.
    secure: bool,
    pub(crate) keys: keys::IssuerKeys,
}

impl Idp {
    pub fn new(state: Arc<AppState>) -> Self {
        let public_url = public_url(&state.config);
        let base_path = base_path(&public_url);
        let secure = public_url.starts_with("https://");
        Idp {
            issuer: format!("{public_url}{ISSUER_PATH}"),
            public_url,
            base_path,
            secure,
            keys: keys::IssuerKeys::default(),
            state,
        }
    }

    /// The issuer URL (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// A path of this service as the browser must see it.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.base_path)
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.state.clock.now()
    }
}

/// The configured public URL, or `http(s)://LISTEN`.
pub fn public_url(config: &crate::config::Config) -> String {
    match &config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let scheme = if config.tls.is_some() {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{}", config.listen)
        }
    }
}

/// `https://host:port/a/b` → `/a/b`; no path → `""`.
fn base_path(public_url: &str) -> String {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    match rest.find('/') {
        Some(i) => rest[i..].trim_end_matches('/').to_owned(),
        None => String::new(),
    }
}

/// The issuer's, the portal's and the admin API's routes.
pub fn routes(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    let idp = Arc::new(Idp::new(state.clone()));
    Router::new()
        .merge(oidc::routes())
        .merge(portal::routes())
        .merge(clients::routes())
        .with_state(idp)
}

pub(crate) fn source_ip<B>(req: &Request<B>) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip())
}

pub(crate) fn transport<B>(idp: &Idp, req: &Request<B>) -> Transport {
    Transport {
        source_ip: source_ip(req),
        secure: idp.state.config.tls.is_some(),
        at: idp.state.clock.now(),
    }
}

/// A bounded request body; `None` when it is larger than forms ever are.
pub(crate) async fn read_body(body: Body) -> Option<bytes::Bytes> {
    axum::body::to_bytes(body, MAX_FORM_BYTES).await.ok()
}

/// `application/x-www-form-urlencoded` pairs; a name given twice keeps
/// its first value (callers that care refuse repeats themselves).
#[derive(Debug, Default)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn parse(bytes: &[u8]) -> Self {
        Form {
            pairs: form_urlencoded::parse(bytes).into_owned().collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A value that must not be repeated (OAuth: "parameters MUST NOT be
    /// included more than once").
    pub fn single(&self, name: &str) -> Result<Option<&str>, String> {
        let mut values = self.pairs.iter().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(format!("the parameter {name} is repeated"));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    pub fn extend(&mut self, bytes: &[u8]) {
        self.pairs
            .extend(form_urlencoded::parse(bytes).into_owned());
    }
}

/// Headers every answer of the issuer and the portal carries: nothing is
/// cached, nothing frames the pages, no URL leaks through `Referer`.
pub(crate) fn harden(response: &mut Response<Body>) {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

pub(crate) fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    harden(&mut response);
    response
}

/// A `303 See Other` to `location` (after a POST the browser follows with
/// a GET).
pub(crate) fn redirect(location: &str) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    harden(&mut response);
    response
}

/// Base64url without padding, as JOSE and PKCE spell bytes.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A random token of `N` bytes, base64url.
pub(crate) fn random_token<const N: usize>() -> Option<String> {
    crate::secrets::random_bytes::<N>().ok().map(|b| b64url(&b))
}

/// Hex SHA-256 (codes and client secrets are stored by hash).
pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes()).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_path_is_the_public_urls_path() {
        assert_eq!(base_path("https://iam.example.com"), "");
        assert_eq!(base_path("https://iam.example.com/"), "");
        assert_eq!(base_path("http://127.0.0.1:4566/a/b/"), "/a/b");
    }

    #[test]
    fn repeated_oauth_parameters_are_refused() {
        let f = Form::parse(b"a=1&b=2&a=3&c=");
        assert_eq!(f.get("a"), Some("1"));
        assert!(f.single("a").is_err());
        assert_eq!(f.single("b"), Ok(Some("2")));
        assert_eq!(f.single("c"), Ok(None), "empty means absent");
        assert_eq!(f.single("d"), Ok(None));
    }

    #[test]
    fn the_default_public_url_is_the_listen_address() {
        let mut c = crate::config::Config::new(
            "127.0.0.1:4566".parse().unwrap(),
            std::path::PathBuf::from("/tmp/x"),
        );
        assert_eq!(public_url(&c), "http://127.0.0.1:4566");
        c.public_url = Some("https://login.example.com/".into());
        assert_eq!(public_url(&c), "https://login.example.com");
    }
}
