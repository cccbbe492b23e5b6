//! SAML 2.0 responses for `sts:AssumeRoleWithSAML`, and the IdP metadata
//! that `CreateSAMLProvider` registers.
//!
//! The XML signature is verified by a maintained XML-DSig library
//! (bergshamra, which passes the xmlsec interoperability suite), never by
//! code of ours, in its secure mode: only the keys of the provider's
//! metadata are tried (keys inside the document are ignored), every
//! reference must point at the document element or an ancestor or sibling
//! of its signature, and duplicate IDs are refused.
//!
//! Signature wrapping is refused by construction: the response must hold
//! exactly one assertion, as a child of the response, and it is used only
//! if a verified signature's reference resolved to that very node (or to
//! the response that encloses it). Every value is read from that node of
//! the same parsed document the library verified, never from a second parse.

use base64::Engine as _;
use bergshamra_dsig::{DsigContext, VerifyResult};
use bergshamra_keys::KeysManager;
use portcullis_store::StoreError;
use portcullis_store::model::SamlProvider;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uppsala::{Document, NodeId};

use super::{FederatedIdentity, FederationCall, ProviderKey, SamlFacts, invalid_token};
use crate::error::{ApiError, ErrorCode, store_error};
use crate::protocol::generated::sts::AssumeRoleWithSAMLRequest;
use crate::state::AppState;

const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

const ROLE_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
const SESSION_NAME_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
const SESSION_DURATION_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/SessionDuration";
const SOURCE_IDENTITY_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/SourceIdentity";

/// Clock skew tolerated on the assertion's validity window.
const LEEWAY_SECONDS: i64 = 60;

/// The store's kind for assertion ids already used.
pub const REPLAY_KIND: &str = "saml-assertion";

/// What AWS accepts as the assertion's audience: the sign-in endpoint (global
/// or regional) or AWS's SAML entity id.
fn accepted_audience(a: &str) -> bool {
    a == "urn:amazon:webservices" || accepted_recipient(a)
}

/// The `Recipient` a bearer confirmation must name: the sign-in endpoint.
fn accepted_recipient(r: &str) -> bool {
    r == "https://signin.aws.amazon.com/saml"
        || r.strip_prefix("https://")
            .and_then(|r| r.strip_suffix(".signin.aws.amazon.com/saml"))
            .is_some_and(|region| {
                !region.is_empty()
                    && region
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
}

/// What the service needs of an IdP's metadata document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    /// The IdP's `entityID`: the `Issuer` its assertions must carry.
    pub entity_id: Option<String>,
    /// DER certificates of the IdP's signing keys.
    pub certificates: Vec<Vec<u8>>,
    pub valid_until: Option<OffsetDateTime>,
}

fn parse_xml(xml: &str) -> Result<Document<'_>, String> {
    uppsala::Parser::new()
        .with_forbid_dtd(true)
        .parse(xml)
        .map_err(|e| e.to_string())
}

fn children(doc: &Document<'_>, parent: NodeId, ns: &str, name: &str) -> Vec<NodeId> {
    doc.child_elements_by_name_ns(parent, ns, name)
}

fn child(doc: &Document<'_>, parent: NodeId, ns: &str, name: &str) -> Option<NodeId> {
    doc.first_child_element_by_name_ns(parent, ns, name)
}

/// All the text of an element. Comments split text nodes, and reading only
/// the first would let `admin<!---->.evil.com` (which the signature's
/// canonicalisation sees as `admin.evil.com`) pass as `admin`.
fn text(doc: &Document<'_>, node: NodeId) -> String {
    doc.text_content_deep(node).trim().to_owned()
}

fn attr<'d>(doc: &'d Document<'_>, node: NodeId, name: &str) -> Option<&'d str> {
    doc.get_attribute(node, name)
}

fn timestamp(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value.trim(), &Rfc3339).ok()
}

/// Reads an IdP metadata document (`md:EntityDescriptor` with an
/// `IDPSSODescriptor` and at least one signing certificate).
pub fn parse_metadata(xml: &str) -> Result<IdpMetadata, String> {
    let doc = parse_xml(xml)?;
    let root = doc.document_element().ok_or("no document element")?;
    let is_entity = doc
        .element(root)
        .is_some_and(|e| e.matches_name_ns(NS_METADATA, "EntityDescriptor"));
    if !is_entity {
        return Err("the document element is not md:EntityDescriptor".to_owned());
    }
    let idp = child(&doc, root, NS_METADATA, "IDPSSODescriptor").ok_or("no md:IDPSSODescriptor")?;
    let mut certificates = Vec::new();
    for descriptor in children(&doc, idp, NS_METADATA, "KeyDescriptor") {
        if attr(&doc, descriptor, "use").is_some_and(|u| u != "signing") {
            continue;
        }
        let Some(info) = child(&doc, descriptor, NS_DSIG, "KeyInfo") else {
            continue;
        };
        for data in children(&doc, info, NS_DSIG, "X509Data") {
            for cert in children(&doc, data, NS_DSIG, "X509Certificate") {
                let b64: String = text(&doc, cert)
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace())
                    .collect();
                let der = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| "a signing certificate is not base64")?;
                bergshamra_keys::loader::load_x509_cert_der(&der)
                    .map_err(|e| format!("a signing certificate does not load: {e}"))?;
                certificates.push(der);
            }
        }
    }
    if certificates.is_empty() {
        return Err("no signing certificate in the IDPSSODescriptor".to_owned());
    }
    let valid_until = match attr(&doc, root, "validUntil") {
        Some(v) => Some(timestamp(v).ok_or("validUntil is not an ISO 8601 timestamp")?),
        None => None,
    };
    Ok(IdpMetadata {
        entity_id: attr(&doc, root, "entityID").map(str::to_owned),
        certificates,
        valid_until,
    })
}

/// `arn:aws:iam::ACCOUNT:saml-provider/NAME` → (account, name).
fn parse_provider_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, rest) = rest.split_once(':')?;
    let name = rest.strip_prefix("saml-provider/")?;
    (account.len() == 12 && !name.is_empty()).then_some((account, name))
}

fn signature_invalid(detail: impl std::fmt::Display) -> ApiError {
    tracing::info!(detail = %detail, "SAML response refused");
    invalid_token("Response signature invalid")
}

/// Checks a SAML response; see the module documentation.
pub async fn verify(
    state: &AppState,
    input: &AssumeRoleWithSAMLRequest,
    now: OffsetDateTime,
) -> Result<FederatedIdentity, ApiError> {
    let provider = find_provider(state, input).await?;
    let metadata = parse_metadata(&provider.metadata_document).map_err(|e| {
        tracing::error!(provider = %provider.arn, error = %e, "stored SAML metadata does not parse");
        invalid_token("The SAML provider's metadata cannot be used")
    })?;
    if metadata
        .valid_until
        .or(provider.valid_until)
        .is_some_and(|until| until <= now)
    {
        return Err(invalid_token(
            "The SAML provider's metadata is no longer valid (validUntil)",
        ));
    }
    let b64: String = input
        .saml_assertion
        .0
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| invalid_token("Invalid base64 SAMLResponse"))?;
    let xml =
        String::from_utf8(bytes).map_err(|_| invalid_token("The SAMLResponse is not UTF-8 XML"))?;
    let doc = parse_xml(&xml)
        .map_err(|e| invalid_token(format!("The SAMLResponse is not well-formed XML: {e}")))?;
    let assertion = signed_assertion(&doc, &metadata)?;
    read_assertion(&doc, assertion, &provider, &metadata, input, now)
}

async fn find_provider(
    state: &AppState,
    input: &AssumeRoleWithSAMLRequest,
) -> Result<SamlProvider, ApiError> {
    let missing = || invalid_token("Specified provider doesn't exist");
    let (account, _) = parse_provider_arn(&input.principal_arn).ok_or_else(missing)?;
    let role_account = crate::authz::parse_role_arn(&input.role_arn).map(|(a, _, _)| a);
    if role_account != Some(account) {
        return Err(missing());
    }
    match state
        .store
        .get_saml_provider(account, &input.principal_arn)
        .await
    {
        Ok(p) => Ok(p),
        Err(StoreError::NoSuchEntity(_)) => Err(missing()),
        Err(e) => Err(store_error(e)),
    }
}

/// The one assertion of the response, once a verified signature is known
/// to cover it.
fn signed_assertion(doc: &Document<'_>, metadata: &IdpMetadata) -> Result<NodeId, ApiError> {
    let root = doc
        .document_element()
        .ok_or_else(|| invalid_token("The SAMLResponse is empty"))?;
    if !doc
        .element(root)
        .is_some_and(|e| e.matches_name_ns(NS_PROTOCOL, "Response"))
    {
        return Err(invalid_token("The SAMLResponse is not a samlp:Response"));
    }
    let status = child(doc, root, NS_PROTOCOL, "Status")
        .and_then(|s| child(doc, s, NS_PROTOCOL, "StatusCode"))
        .and_then(|c| attr(doc, c, "Value"));
    if status != Some(STATUS_SUCCESS) {
        return Err(invalid_token("The SAMLResponse's status is not Success"));
    }
    if !doc
        .get_elements_by_tag_name_ns(NS_ASSERTION, "EncryptedAssertion")
        .is_empty()
    {
        return Err(invalid_token("Encrypted SAML assertions are not supported"));
    }
    // Any second Assertion anywhere (in Extensions, in a ds:Object…) is a
    // wrapping attempt or at best ambiguous.
    let all = doc.get_elements_by_tag_name_ns(NS_ASSERTION, "Assertion");
    let [assertion] = all.as_slice() else {
        return Err(signature_invalid(format!(
            "the response holds {} assertions",
            all.len()
        )));
    };
    let assertion = *assertion;
    if doc.parent(assertion) != Some(root) {
        return Err(signature_invalid(
            "the assertion is not a child of the response",
        ));
    }

    let mut keys = KeysManager::new();
    for der in &metadata.certificates {
        let key = bergshamra_keys::loader::load_x509_cert_der(der)
            .map_err(|e| signature_invalid(format!("metadata certificate: {e}")))?;
        keys.add_key(key);
    }
    let ctx = DsigContext::new(keys);
    let results =
        bergshamra_dsig::verify::verify_all_document(&ctx, doc).map_err(signature_invalid)?;
    let covered = results.iter().any(|r| match r {
        VerifyResult::Valid { references, .. } => references.iter().any(|reference| {
            reference.digest_verified
                && matches!(reference.resolved_node, Some(n) if n == assertion || n == root)
        }),
        VerifyResult::Invalid { .. } => false,
    });
    if !covered {
        let reasons: Vec<String> = results
            .iter()
            .filter_map(|r| match r {
                VerifyResult::Invalid { reason } => Some(reason.clone()),
                VerifyResult::Valid { .. } => None,
            })
            .collect();
        return Err(signature_invalid(format!(
            "no valid signature covers the assertion ({})",
            reasons.join("; ")
        )));
    }
    Ok(assertion)
}

fn attribute_values(doc: &Document<'_>, assertion: NodeId, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for statement in children(doc, assertion, NS_ASSERTION, "AttributeStatement") {
        for attribute in children(doc, statement, NS_ASSERTION, "Attribute") {
            if attr(doc, attribute, "Name") != Some(name) {
                continue;
            }
            for value in children(doc, attribute, NS_ASSERTION, "AttributeValue") {
                out.push(text(doc, value));
            }
        }
    }
    out
}

fn expired(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ExpiredTokenException,
        format!("{what} has expired"),
    )
}

/// The facts of the verified assertion, checked against the provider, the
/// request and the clock.
fn read_assertion(
    doc: &Document<'_>,
    assertion: NodeId,
    provider: &SamlProvider,
    metadata: &IdpMetadata,
    input: &AssumeRoleWithSAMLRequest,
    now: OffsetDateTime,
) -> Result<FederatedIdentity, ApiError> {
    let now_s = now.unix_timestamp();
    let assertion_id = attr(doc, assertion, "ID")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| invalid_token("The assertion has no ID"))?
        .to_owned();
    let issuer = child(doc, assertion, NS_ASSERTION, "Issuer")
        .map(|n| text(doc, n))
        .filter(|i| !i.is_empty())
        .ok_or_else(|| invalid_token("The assertion has no Issuer"))?;
    if metadata.entity_id.as_deref().is_some_and(|e| e != issuer) {
        return Err(invalid_token("Issuer not present in specified provider"));
    }

    // The validity window: Conditions, then the bearer confirmation.
    let mut not_on_or_after: Option<i64> = None;
    let mut audiences = Vec::new();
    let conditions = child(doc, assertion, NS_ASSERTION, "Conditions");
    if let Some(conditions) = conditions {
        if let Some(nb) = attr(doc, conditions, "NotBefore") {
            let nb = timestamp(nb)
                .ok_or_else(|| invalid_token("Conditions NotBefore is not a timestamp"))?;
            if nb.unix_timestamp() > now_s + LEEWAY_SECONDS {
                return Err(invalid_token("The assertion is not yet valid (NotBefore)"));
            }
        }
        if let Some(noa) = attr(doc, conditions, "NotOnOrAfter") {
            let noa = timestamp(noa)
                .ok_or_else(|| invalid_token("Conditions NotOnOrAfter is not a timestamp"))?
                .unix_timestamp();
            if now_s >= noa + LEEWAY_SECONDS {
                return Err(expired("The assertion (Conditions NotOnOrAfter)"));
            }
            not_on_or_after = Some(noa);
        }
        for restriction in children(doc, conditions, NS_ASSERTION, "AudienceRestriction") {
            for audience in children(doc, restriction, NS_ASSERTION, "Audience") {
                audiences.push(text(doc, audience));
            }
        }
    }
    if !audiences.iter().any(|a| accepted_audience(a)) {
        return Err(invalid_token(
            "The assertion's audience is not https://signin.aws.amazon.com/saml or urn:amazon:webservices",
        ));
    }

    let subject = child(doc, assertion, NS_ASSERTION, "Subject")
        .ok_or_else(|| invalid_token("The assertion has no Subject"))?;
    let name_id = child(doc, subject, NS_ASSERTION, "NameID")
        .ok_or_else(|| invalid_token("The assertion's Subject has no NameID"))?;
    let subject_value = text(doc, name_id);
    if subject_value.is_empty() {
        return Err(invalid_token("The assertion's NameID is empty"));
    }
    let subject_type = match attr(doc, name_id, "Format") {
        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent") => "persistent".to_owned(),
        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:transient") => "transient".to_owned(),
        Some(other) => other.to_owned(),
        None => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified".to_owned(),
    };
    let mut recipient = None;
    for confirmation in children(doc, subject, NS_ASSERTION, "SubjectConfirmation") {
        if attr(doc, confirmation, "Method") != Some(BEARER) {
            continue;
        }
        let Some(data) = child(doc, confirmation, NS_ASSERTION, "SubjectConfirmationData") else {
            continue;
        };
        let Some(r) = attr(doc, data, "Recipient").filter(|r| accepted_recipient(r)) else {
            continue;
        };
        if let Some(noa) = attr(doc, data, "NotOnOrAfter") {
            let noa = timestamp(noa)
                .ok_or_else(|| {
                    invalid_token("SubjectConfirmationData NotOnOrAfter is not a timestamp")
                })?
                .unix_timestamp();
            if now_s >= noa + LEEWAY_SECONDS {
                return Err(expired(
                    "The assertion (SubjectConfirmationData NotOnOrAfter)",
                ));
            }
            not_on_or_after = Some(not_on_or_after.map_or(noa, |c| c.min(noa)));
        }
        if let Some(nb) = attr(doc, data, "NotBefore")
            && timestamp(nb).is_some_and(|nb| nb.unix_timestamp() > now_s + LEEWAY_SECONDS)
        {
            return Err(invalid_token("The assertion is not yet valid (NotBefore)"));
        }
        recipient = Some(r.to_owned());
        break;
    }
    let recipient = recipient.ok_or_else(|| {
        invalid_token("The assertion has no bearer SubjectConfirmation for https://signin.aws.amazon.com/saml")
    })?;
    let expires = not_on_or_after
        .ok_or_else(|| invalid_token("The assertion has no NotOnOrAfter"))?
        + LEEWAY_SECONDS;

    // The role asked for must be one the IdP offers, with this provider.
    let offered = attribute_values(doc, assertion, ROLE_ATTRIBUTE)
        .iter()
        .any(|pair| {
            let parts: Vec<&str> = pair.split(',').map(str::trim).collect();
            matches!(parts.as_slice(), [a, b]
            if (*a == input.role_arn && *b == input.principal_arn)
                || (*b == input.role_arn && *a == input.principal_arn))
        });
    if !offered {
        return Err(super::access_denied(FederationCall::Saml));
    }
    let session_name = attribute_values(doc, assertion, SESSION_NAME_ATTRIBUTE)
        .into_iter()
        .next()
        .ok_or_else(|| invalid_token("RoleSessionName is required in AuthnResponse"))?;
    if !super::oidc::valid_source_identity(&session_name) {
        return Err(invalid_token(
            "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}",
        ));
    }
    let session_duration = match attribute_values(doc, assertion, SESSION_DURATION_ATTRIBUTE)
        .first()
    {
        Some(d) => Some(
            d.parse::<i64>()
                .ok()
                .filter(|d| (900..=43200).contains(d))
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::IDPRejectedClaim,
                        "SessionDuration in AuthnResponse must be a number of seconds between 900 and 43200",
                    )
                })?,
        ),
        None => None,
    };
    let source_identity = match attribute_values(doc, assertion, SOURCE_IDENTITY_ATTRIBUTE).first()
    {
        Some(s) if super::oidc::valid_source_identity(s) => Some(s.clone()),
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::IDPRejectedClaim,
                "SourceIdentity in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}",
            ));
        }
        None => None,
    };

    let name_qualifier = name_qualifier(&issuer, &provider.account_id, &provider.name);
    let mut keys = vec![
        ProviderKey::single("aws:FederatedProvider", provider.arn.clone()),
        ProviderKey::single("saml:aud", recipient.clone()),
        ProviderKey::single("saml:sub", subject_value.clone()),
        ProviderKey::single("saml:sub_type", subject_type.clone()),
        ProviderKey::single("saml:iss", issuer.clone()),
        ProviderKey::single("saml:namequalifier", name_qualifier.clone()),
        ProviderKey::single(
            "saml:doc",
            format!("{}/{}", provider.account_id, provider.name),
        ),
    ];
    if let Some(id) = &source_identity {
        keys.push(ProviderKey {
            in_session: false,
            ..ProviderKey::single("sts:SourceIdentity", id.clone())
        });
    }
    Ok(FederatedIdentity {
        call: FederationCall::Saml,
        provider_arn: provider.arn.clone(),
        provider: issuer.clone(),
        subject: subject_value,
        audience: recipient,
        role_arn: input.role_arn.clone(),
        session_name,
        source_identity,
        keys,
        saml: Some(SamlFacts {
            issuer,
            subject_type,
            name_qualifier,
            assertion_id,
            expires,
            session_duration,
        }),
    })
}

/// AWS's `NameQualifier`: base64(SHA-1(issuer + account id + "/" + provider
/// name)), a stable id for the pair (provider, subject namespace).
fn name_qualifier(issuer: &str, account: &str, provider_name: &str) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("{issuer}{account}/{provider_name}").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_and_recipients_are_the_sign_in_endpoints() {
        assert!(accepted_audience("urn:amazon:webservices"));
        assert!(accepted_audience("https://signin.aws.amazon.com/saml"));
        assert!(accepted_recipient(
            "https://eu-west-1.signin.aws.amazon.com/saml"
        ));
        assert!(!accepted_recipient("urn:amazon:webservices"));
        assert!(!accepted_recipient(
            "https://evil.example/.signin.aws.amazon.com/saml"
        ));
        assert!(!accepted_audience("https://sp.example.com"));
    }

    #[test]
    fn provider_arns() {
        assert_eq!(
            parse_provider_arn("arn:aws:iam::123456789012:saml-provider/Okta"),
            Some(("123456789012", "Okta"))
        );
        assert_eq!(
            parse_provider_arn("arn:aws:iam::123456789012:role/Okta"),
            None
        );
        assert_eq!(
            parse_provider_arn("arn:aws:iam::1234:saml-provider/Okta"),
            None
        );
    }

    #[test]
    fn the_name_qualifier_is_awss_formula() {
        // base64(sha1("https://idp.example.com" + "123456789012" + "/Okta")).
        let digest = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            b"https://idp.example.com123456789012/Okta",
        );
        assert_eq!(
            name_qualifier("https://idp.example.com", "123456789012", "Okta"),
            base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
        );
    }

    #[test]
    fn metadata_without_a_signing_certificate_is_refused() {
        let xml = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com">
            <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>
        </md:EntityDescriptor>"#;
        assert!(
            parse_metadata(xml)
                .unwrap_err()
                .contains("no signing certificate")
        );
        assert!(parse_metadata("<not-metadata/>").is_err());
        assert!(parse_metadata("not xml at all").is_err());
        let dtd = r#"<!DOCTYPE x [<!ENTITY e "boom">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>"#;
        assert!(parse_metadata(dtd).is_err());
    }

    #[test]
    fn text_spans_comments() {
        let doc = parse_xml("<a>admin@example.com<!---->.evil.com</a>").unwrap();
        let root = doc.document_element().unwrap();
        assert_eq!(text(&doc, root), "admin@example.com.evil.com");
    }
}
