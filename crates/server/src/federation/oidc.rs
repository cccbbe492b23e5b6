//! Web identity tokens (OIDC ID tokens, JWTs) for
//! `sts:AssumeRoleWithWebIdentity`.
//!
//! The token's `iss` must name an OIDC provider registered in the role's
//! account; its signature must verify with a key of that provider's JWKS
//! (found through its discovery document, fetched over HTTPS that the
//! system roots or the provider's thumbprints vouch for, cached, and fetched
//! again once when a token names a key id the cache does not know); its
//! `aud` (or `azp`) must be one of the provider's client ids; `exp`, `nbf`
//! and `iat` must hold at the service's clock, with a small leeway.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use portcullis_store::model::OidcProvider;
use serde_json::Value;
use time::OffsetDateTime;

use super::{FederatedIdentity, FederationCall, ProviderKey, invalid_token, tls};
use crate::error::{ApiError, ErrorCode, store_error};
use crate::protocol::generated::sts::AssumeRoleWithWebIdentityRequest;
use crate::state::AppState;

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
const LEEWAY_SECONDS: i64 = 60;

/// How long fetched keys are used before they are fetched again.
const KEYS_TTL: Duration = Duration::from_secs(3600);

/// At most this many fetches for unknown key ids per provider and minute,
/// so that tokens naming random key ids cannot turn the service into a
/// flood of requests to the provider.
const REFRESHES_PER_MINUTE: usize = 10;

/// The largest discovery document or JWKS accepted.
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Signature algorithms accepted: asymmetric only (an `HS*` token would be
/// checked against a secret the provider never shared; `none` is no
/// signature at all).
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// Checks a web identity token; see the module documentation.
pub async fn verify(
    state: &AppState,
    input: &AssumeRoleWithWebIdentityRequest,
    now: OffsetDateTime,
) -> Result<FederatedIdentity, ApiError> {
    let token = input.web_identity_token.0.as_str();
    let unverified = Unverified::parse(token)?;
    let provider = find_provider(state, &input.role_arn, &unverified.issuer).await?;
    let claims = verify_signature(token, &unverified, &provider).await?;
    check_claims(&claims, &provider, now, input, &unverified.issuer)
}

/// What can be read of a token before its signature is checked: only
/// enough to find the provider and the key.
struct Unverified {
    header: jsonwebtoken::Header,
    issuer: String,
}

fn malformed() -> ApiError {
    invalid_token(
        "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
    )
}

impl Unverified {
    fn parse(token: &str) -> Result<Self, ApiError> {
        let mut parts = token.split('.');
        let (Some(_), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let header = jsonwebtoken::decode_header(token).map_err(|_| malformed())?;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| malformed())?;
        let payload: Value = serde_json::from_slice(&payload).map_err(|_| malformed())?;
        let issuer = payload
            .get("iss")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid_token("The ID Token provided has no issuer (iss)."))?
            .to_owned();
        Ok(Unverified { header, issuer })
    }
}

/// The provider registered for `issuer` in the account of the role.
async fn find_provider(
    state: &AppState,
    role_arn: &str,
    issuer: &str,
) -> Result<OidcProvider, ApiError> {
    let not_found = || {
        invalid_token(format!(
            "No OpenIDConnect provider found in your account for {issuer}"
        ))
    };
    let url = issuer.strip_prefix("https://").ok_or_else(not_found)?;
    let Some((account, _, _)) = crate::authz::parse_role_arn(role_arn) else {
        return Err(not_found());
    };
    let providers = state
        .store
        .list_oidc_providers(account)
        .await
        .map_err(store_error)?;
    let listed = providers
        .into_iter()
        .find(|p| p.url == url)
        .ok_or_else(not_found)?;
    // The list leaves out tags; the rest is what verification needs.
    Ok(listed)
}

/// Verifies the signature with the provider's keys and returns the claims.
async fn verify_signature(
    token: &str,
    unverified: &Unverified,
    provider: &OidcProvider,
) -> Result<Value, ApiError> {
    let alg = unverified.header.alg;
    if !ALGORITHMS.contains(&alg) {
        return Err(invalid_token(format!(
            "The token's signing algorithm {alg:?} is not supported."
        )));
    }
    let kid = unverified.header.kid.as_deref();
    let mut keys = KEYS.get(provider, false).await?;
    if kid.is_some_and(|kid| keys.find(kid).is_none()) {
        // The provider may have rotated its keys since they were fetched.
        keys = KEYS.get(provider, true).await?;
    }
    let candidates: Vec<&Jwk> = match kid {
        Some(kid) => keys
            .keys
            .iter()
            .filter(|k| k.common.key_id.as_deref() == Some(kid))
            .collect(),
        None => keys.keys.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(invalid_token(
            "Couldn't find a key of the identity provider that matches the token's key id (kid).",
        ));
    }
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    for jwk in candidates {
        if jwk
            .common
            .key_algorithm
            .is_some_and(|declared| !declared_matches(declared, alg))
        {
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        if let Ok(data) = jsonwebtoken::decode::<Value>(token, &key, &validation) {
            return Ok(data.claims);
        }
    }
    Err(invalid_token(
        "The web identity token's signature could not be verified with the identity provider's keys.",
    ))
}

fn declared_matches(declared: KeyAlgorithm, alg: Algorithm) -> bool {
    format!("{declared:?}") == format!("{alg:?}")
}

fn numeric(claims: &Value, name: &str) -> Result<Option<i64>, ApiError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| invalid_token(format!("The token's {name} claim is not a number."))),
    }
}

fn strings(claims: &Value, name: &str) -> Vec<String> {
    match claims.get(name) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The claims of a verified token against the provider and the clock.
fn check_claims(
    claims: &Value,
    provider: &OidcProvider,
    now: OffsetDateTime,
    input: &AssumeRoleWithWebIdentityRequest,
    issuer: &str,
) -> Result<FederatedIdentity, ApiError> {
    let now = now.unix_timestamp();
    let exp = numeric(claims, "exp")?
        .ok_or_else(|| invalid_token("The token has no expiration time (exp)."))?;
    if now >= exp.saturating_add(LEEWAY_SECONDS) {
        return Err(ApiError::new(
            ErrorCode::ExpiredTokenException,
            format!(
                "Token expired: current date/time {now} must be before the expiration date/time {exp}"
            ),
        ));
    }
    if let Some(nbf) = numeric(claims, "nbf")?
        && nbf > now.saturating_add(LEEWAY_SECONDS)
    {
        return Err(invalid_token(format!(
            "Token is not valid yet: current date/time {now} is before its not-before date/time {nbf}"
        )));
    }
    let iat = numeric(claims, "iat")?
        .ok_or_else(|| invalid_token("The token has no issue time (iat)."))?;
    if iat > now.saturating_add(LEEWAY_SECONDS) {
        return Err(invalid_token(format!(
            "Token issued in the future: current date/time {now} is before its issue date/time {iat}"
        )));
    }

    // The audience: one of the token's `aud` values the provider lists, or
    // its authorized party (`azp`) when that is the registered client.
    let auds = strings(claims, "aud");
    let azp = claims.get("azp").and_then(Value::as_str);
    let listed = |a: &str| provider.client_ids.iter().any(|c| c == a);
    let (audience, original) = match (auds.iter().find(|a| listed(a)), azp) {
        (_, Some(azp)) if listed(azp) => (azp.to_owned(), auds.first().cloned()),
        (Some(aud), _) => (aud.clone(), None),
        _ => return Err(invalid_token("Incorrect token audience")),
    };

    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 255)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::IDPRejectedClaim,
                "The token's subject (sub) is missing or longer than 255 characters.",
            )
        })?
        .to_owned();
    let source_identity = match claims.get("https://aws.amazon.com/source_identity") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if valid_source_identity(s) => Some(s.clone()),
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::IDPRejectedClaim,
                "The token's source identity claim must be 2 to 64 characters of [\\w+=,.@-].",
            ));
        }
    };

    let prefix = &provider.url;
    let mut keys = vec![
        ProviderKey::single("aws:FederatedProvider", provider.arn.clone()),
        ProviderKey::single(format!("{prefix}:aud"), audience.clone()),
        ProviderKey::single(format!("{prefix}:sub"), subject.clone()),
    ];
    if let Some(original) = original {
        keys.push(ProviderKey::single(format!("{prefix}:oaud"), original));
    }
    let amr = strings(claims, "amr");
    if !amr.is_empty() {
        keys.push(ProviderKey {
            key: format!("{prefix}:amr"),
            values: amr,
            multivalued: true,
            in_session: false,
        });
    }
    if let Some(id) = &source_identity {
        keys.push(ProviderKey {
            in_session: false,
            ..ProviderKey::single("sts:SourceIdentity", id.clone())
        });
    }
    Ok(FederatedIdentity {
        call: FederationCall::WebIdentity,
        provider_arn: provider.arn.clone(),
        provider: issuer.to_owned(),
        subject,
        audience,
        role_arn: input.role_arn.clone(),
        session_name: input.role_session_name.clone(),
        source_identity,
        keys,
        saml: None,
    })
}

pub(super) fn valid_source_identity(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// Fetched JWKS, per provider URL and thumbprints (a provider deleted and
/// registered again with other thumbprints must not reuse keys fetched
/// under the old ones).
static KEYS: LazyLock<KeyCache> = LazyLock::new(KeyCache::default);

#[derive(Default)]
struct KeyCache {
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    keys: Arc<JwkSet>,
    fetched: Instant,
    refreshes: VecDeque<Instant>,
}

impl KeyCache {
    /// The provider's keys: cached ones unless stale, or fresh ones when
    /// `refresh` (and the provider's refresh budget allows).
    async fn get(&self, provider: &OidcProvider, refresh: bool) -> Result<Arc<JwkSet>, ApiError> {
        let key = format!("{}|{}", provider.url, provider.thumbprints.join(","));
        let now = Instant::now();
        if let Ok(mut entries) = self.entries.lock()
            && let Some(entry) = entries.get_mut(&key)
        {
            let fresh = now.duration_since(entry.fetched) < KEYS_TTL;
            if fresh && !refresh {
                return Ok(entry.keys.clone());
            }
            if fresh && refresh {
                while entry
                    .refreshes
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
                {
                    entry.refreshes.pop_front();
                }
                if entry.refreshes.len() >= REFRESHES_PER_MINUTE {
                    return Ok(entry.keys.clone());
                }
                entry.refreshes.push_back(now);
            }
        }
        let keys = Arc::new(fetch_keys(provider).await?);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.clear();
            }
            let refreshes = entries
                .remove(&key)
                .map(|e| e.refreshes)
                .unwrap_or_default();
            entries.insert(
                key,
                Entry {
                    keys: keys.clone(),
                    fetched: now,
                    refreshes,
                },
            );
        }
        Ok(keys)
    }
}

fn unreachable_idp(provider: &OidcProvider, detail: impl std::fmt::Display) -> ApiError {
    tracing::warn!(provider = %provider.arn, error = %detail, "cannot fetch the keys of an OIDC provider");
    ApiError::new(
        ErrorCode::IDPCommunicationError,
        "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements",
    )
}

/// Discovery document, then JWKS.
async fn fetch_keys(provider: &OidcProvider) -> Result<JwkSet, ApiError> {
    let config = tls::client_config(tls::parse_thumbprints(&provider.thumbprints))
        .map_err(|e| unreachable_idp(provider, e))?;
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .https_only(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .build()
        .map_err(|e| unreachable_idp(provider, e))?;
    let issuer = format!("https://{}", provider.url.trim_end_matches('/'));
    let discovery: Value = get_json(
        &client,
        &format!("{issuer}/.well-known/openid-configuration"),
    )
    .await
    .map_err(|e| unreachable_idp(provider, e))?;
    let jwks_uri = discovery
        .get("jwks_uri")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("https://"))
        .ok_or_else(|| unreachable_idp(provider, "the discovery document has no https jwks_uri"))?;
    let jwks: Value = get_json(&client, jwks_uri)
        .await
        .map_err(|e| unreachable_idp(provider, e))?;
    // Keys of types this library does not know are skipped, not fatal.
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| unreachable_idp(provider, "the JWKS has no keys"))?
        .iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
        .collect();
    Ok(JwkSet { keys })
}

async fn get_json(client: &reqwest::Client, url: &str) -> Result<Value, String> {
    let mut response = client.get(url).send().await.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("{url} answered {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(format!(
                "{url} answered more than {MAX_DOCUMENT_BYTES} bytes"
            ));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| format!("{url} is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::xml::Sensitive;

    fn provider() -> OidcProvider {
        OidcProvider {
            arn: "arn:aws:iam::123456789012:oidc-provider/token.example.com".to_owned(),
            account_id: "123456789012".to_owned(),
            url: "token.example.com".to_owned(),
            client_ids: vec!["app".to_owned(), "other".to_owned()],
            thumbprints: Vec::new(),
            create_date: OffsetDateTime::UNIX_EPOCH,
            tags: Vec::new(),
        }
    }

    fn input() -> AssumeRoleWithWebIdentityRequest {
        AssumeRoleWithWebIdentityRequest {
            duration_seconds: None,
            minimum_session_token_size: None,
            policy: None,
            policy_arns: None,
            provider_id: None,
            role_arn: "arn:aws:iam::123456789012:role/web".to_owned(),
            role_session_name: "s".to_owned(),
            web_identity_token: Sensitive(String::new()),
        }
    }

    fn at(t: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(t).unwrap()
    }

    fn check(claims: Value, now: i64) -> Result<FederatedIdentity, ApiError> {
        check_claims(
            &claims,
            &provider(),
            at(now),
            &input(),
            "https://token.example.com",
        )
    }

    #[test]
    fn a_valid_token_sets_the_provider_keys() {
        let id = check(
            serde_json::json!({"sub": "alice", "aud": "app", "exp": 2000, "iat": 1000, "amr": ["pwd", "mfa"]}),
            1500,
        )
        .unwrap();
        assert_eq!(id.subject, "alice");
        assert_eq!(id.audience, "app");
        let key = |k: &str| {
            id.keys
                .iter()
                .find(|p| p.key == k)
                .map(|p| p.values.clone())
        };
        assert_eq!(key("token.example.com:sub"), Some(vec!["alice".to_owned()]));
        assert_eq!(key("token.example.com:aud"), Some(vec!["app".to_owned()]));
        assert_eq!(
            key("token.example.com:amr"),
            Some(vec!["pwd".to_owned(), "mfa".to_owned()])
        );
        assert_eq!(key("aws:FederatedProvider"), Some(vec![provider().arn]));
        // The multivalued amr stays out of the session's single-valued context.
        assert!(
            id.session_context()
                .iter()
                .all(|(k, _)| !k.ends_with(":amr"))
        );
    }

    #[test]
    fn expiry_has_a_leeway_then_is_expired_token_exception() {
        let claims = serde_json::json!({"sub": "a", "aud": "app", "exp": 1000, "iat": 900});
        assert!(check(claims.clone(), 1000 + LEEWAY_SECONDS - 1).is_ok());
        let e = check(claims, 1000 + LEEWAY_SECONDS).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ExpiredTokenException);
    }

    #[test]
    fn not_before_and_issued_in_the_future_are_refused() {
        let e = check(
            serde_json::json!({"sub": "a", "aud": "app", "exp": 5000, "iat": 900, "nbf": 2000}),
            1000,
        )
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidIdentityToken);
        let e = check(
            serde_json::json!({"sub": "a", "aud": "app", "exp": 5000, "iat": 2000}),
            1000,
        )
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidIdentityToken);
        let e = check(
            serde_json::json!({"sub": "a", "aud": "app", "exp": 5000}),
            1000,
        )
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidIdentityToken);
    }

    #[test]
    fn the_audience_must_be_a_registered_client() {
        let e = check(
            serde_json::json!({"sub": "a", "aud": "stranger", "exp": 5000, "iat": 900}),
            1000,
        )
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidIdentityToken);
        assert_eq!(e.message(), "Incorrect token audience");
        let id = check(
            serde_json::json!({"sub": "a", "aud": ["stranger", "other"], "exp": 5000, "iat": 900}),
            1000,
        )
        .unwrap();
        assert_eq!(id.audience, "other");
        // An authorized party that is registered wins, and the audience
        // it was issued for becomes oaud.
        let id = check(
            serde_json::json!({"sub": "a", "aud": "stranger", "azp": "app", "exp": 5000, "iat": 900}),
            1000,
        )
        .unwrap();
        assert_eq!(id.audience, "app");
        assert!(
            id.keys
                .iter()
                .any(|k| k.key == "token.example.com:oaud" && k.values == ["stranger"])
        );
    }

    #[test]
    fn a_missing_subject_is_a_rejected_claim() {
        let e = check(
            serde_json::json!({"aud": "app", "exp": 5000, "iat": 900}),
            1000,
        )
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::IDPRejectedClaim);
    }

    #[test]
    fn malformed_tokens_are_invalid_identity_tokens() {
        for token in [
            "",
            "a.b",
            "a.b.c.d",
            "!!!.???.xyz",
            "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln",
        ] {
            let e = Unverified::parse(token).err().unwrap();
            assert_eq!(e.code(), ErrorCode::InvalidIdentityToken, "{token}");
        }
    }

    #[test]
    fn source_identity_characters() {
        assert!(valid_source_identity("alice@example.com"));
        assert!(!valid_source_identity("a"));
        assert!(!valid_source_identity("has space"));
    }
}
