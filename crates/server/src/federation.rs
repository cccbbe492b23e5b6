//! Outside identity providers in: `sts:AssumeRoleWithWebIdentity` (an OIDC
//! ID token) and `sts:AssumeRoleWithSAML` (a SAML 2.0 response).
//!
//! Both calls are unsigned: the token or assertion is the caller's proof,
//! checked here against a provider registered in the role's account (its
//! keys, issuer, audience and validity). What the check learns becomes a
//! [`FederatedIdentity`], the caller of the request: authorisation then
//! evaluates the role's trust policy through the same `authz::authorize`
//! path as every other call, with an anonymous principal whose
//! `federated_provider` is the provider's ARN and with the provider's
//! condition keys (`PROVIDER:sub`, `saml:aud`, `aws:FederatedProvider`…).

pub mod oidc;
pub mod saml;
mod tls;

use std::sync::Arc;
use time::OffsetDateTime;

use crate::authn::{self, Authenticated, Caller, Identity};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::generated::sts;
use crate::protocol::query::QueryParams;
use crate::state::AppState;

/// The region an unsigned call is taken to be made in (`aws:RequestedRegion`):
/// it names none itself.
const UNSIGNED_REGION: &str = "us-east-1";

/// Which federation call a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FederationCall {
    WebIdentity,
    Saml,
}

impl FederationCall {
    pub fn action(self) -> &'static str {
        match self {
            FederationCall::WebIdentity => "sts:AssumeRoleWithWebIdentity",
            FederationCall::Saml => "sts:AssumeRoleWithSAML",
        }
    }
}

/// The federation call an `Action` names, if it is one.
pub fn call_of(action: Option<&str>) -> Option<FederationCall> {
    match action? {
        "AssumeRoleWithWebIdentity" => Some(FederationCall::WebIdentity),
        "AssumeRoleWithSAML" => Some(FederationCall::Saml),
        _ => None,
    }
}

/// A condition key the provider's token or assertion sets for the trust
/// policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderKey {
    pub key: String,
    pub values: Vec<String>,
    /// A multivalued key (`PROVIDER:amr`).
    pub multivalued: bool,
    /// Whether the key also goes into the session the call makes (where
    /// identity policies read it, e.g. `${token.example.com:sub}`).
    pub in_session: bool,
}

impl ProviderKey {
    fn single(key: impl Into<String>, value: impl Into<String>) -> Self {
        ProviderKey {
            key: key.into(),
            values: vec![value.into()],
            multivalued: false,
            in_session: true,
        }
    }
}

/// What a SAML response says beyond what every federated caller has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlFacts {
    pub issuer: String,
    pub subject_type: String,
    pub name_qualifier: String,
    /// The assertion's `ID`, accepted once (until `expires`).
    pub assertion_id: String,
    pub expires: i64,
    /// `https://aws.amazon.com/SAML/Attributes/SessionDuration`.
    pub session_duration: Option<i64>,
}

/// The caller of a federation call, as its verified token or assertion
/// describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedIdentity {
    pub call: FederationCall,
    /// The IAM provider that vouched: `arn:aws:iam::ACCOUNT:oidc-provider/…`
    /// or `…:saml-provider/NAME`.
    pub provider_arn: String,
    /// The response's `Provider` (the token's `iss`); for SAML, the issuer.
    pub provider: String,
    /// `SubjectFromWebIdentityToken` (`sub`), or the SAML `NameID`.
    pub subject: String,
    /// The client id the token was issued to, or the SAML recipient.
    pub audience: String,
    /// The role asked for.
    pub role_arn: String,
    /// The session's name: `RoleSessionName`, or the SAML attribute.
    pub session_name: String,
    pub source_identity: Option<String>,
    pub keys: Vec<ProviderKey>,
    pub saml: Option<SamlFacts>,
}

impl FederatedIdentity {
    /// The context keys the issued session carries on (single-valued ones).
    pub fn session_context(&self) -> Vec<(String, String)> {
        self.keys
            .iter()
            .filter(|k| k.in_session && !k.multivalued)
            .filter_map(|k| Some((k.key.clone(), k.values.first()?.clone())))
            .collect()
    }
}

/// Whether the request carries a SigV4 signature at all.
fn is_signed(parts: &http::request::Parts) -> bool {
    parts.headers.contains_key(http::header::AUTHORIZATION)
        || parts.uri.query().is_some_and(|q| {
            form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "X-Amz-Signature")
        })
}

/// Authenticates a federation call by its token or assertion.
///
/// The call needs no signature; one that is present must still verify (a
/// signature that does not is never ignored), but the identity is always
/// the token's, never the signer's.
pub async fn authenticate(
    state: &AppState,
    call: FederationCall,
    parts: &http::request::Parts,
    body: &[u8],
    params: &QueryParams<'_>,
    now: OffsetDateTime,
) -> Result<Authenticated, ApiError> {
    if is_signed(parts) {
        authn::authenticate(state, parts, body, now).await?;
    }
    let action = match call {
        FederationCall::WebIdentity => "AssumeRoleWithWebIdentity",
        FederationCall::Saml => "AssumeRoleWithSAML",
    };
    let identity = match sts::Operation::decode(action, params)? {
        sts::Operation::AssumeRoleWithWebIdentity(i) => oidc::verify(state, &i, now).await?,
        sts::Operation::AssumeRoleWithSAML(i) => saml::verify(state, &i, now).await?,
        _ => return Err(ApiError::internal()),
    };
    let account = crate::authz::parse_role_arn(&identity.role_arn)
        .map(|(account, _, _)| account.to_owned())
        .unwrap_or_default();
    let caller = Caller {
        account_id: account,
        arn: identity.provider_arn.clone(),
        user_id: format!("{}:{}", identity.provider, identity.subject),
        identity: Identity::Federated(Arc::new(identity)),
        access_key_id: String::new(),
        session: None,
        policy_key: std::sync::OnceLock::new(),
    };
    Ok(Authenticated::federated(caller, UNSIGNED_REGION))
}

/// AWS's refusal of a federation call the trust policy does not allow
/// (it names neither the caller nor the role).
pub fn access_denied(call: FederationCall) -> ApiError {
    ApiError::new(
        ErrorCode::AccessDenied,
        format!("Not authorized to perform {}", call.action()),
    )
}

fn invalid_token(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidIdentityToken, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_federation_actions_are_unsigned() {
        assert_eq!(
            call_of(Some("AssumeRoleWithWebIdentity")),
            Some(FederationCall::WebIdentity)
        );
        assert_eq!(
            call_of(Some("AssumeRoleWithSAML")),
            Some(FederationCall::Saml)
        );
        assert_eq!(call_of(Some("AssumeRole")), None);
        assert_eq!(call_of(Some("assumerolewithsaml")), None);
        assert_eq!(call_of(None), None);
    }

    #[test]
    fn a_presigned_query_counts_as_signed() {
        let (parts, ()) = http::Request::builder()
            .uri("/?Action=AssumeRoleWithSAML&X-Amz-Signature=abc")
            .body(())
            .unwrap()
            .into_parts();
        assert!(is_signed(&parts));
        let (parts, ()) = http::Request::builder()
            .uri("/?Action=AssumeRoleWithSAML")
            .body(())
            .unwrap()
            .into_parts();
        assert!(!is_signed(&parts));
    }
}
