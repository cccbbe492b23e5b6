//! How the service trusts an OIDC provider's HTTPS endpoints (discovery
//! document and JWKS): a certificate chain that the system's trusted roots
//! vouch for, or — as IAM's `ThumbprintList` says — a chain in which one
//! certificate has a registered SHA-1 thumbprint. The thumbprinted
//! certificate then serves as the trust anchor of an ordinary WebPKI check
//! (names, validity, signatures up to it), so a thumbprint pins a CA or a
//! self-signed server certificate without weakening anything else.

use std::sync::Arc;

use aws_lc_rs::digest;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

/// A thumbprint: the SHA-1 of a certificate's DER encoding.
pub type Thumbprint = [u8; 20];

/// Parses IAM's 40-hex-digit thumbprints; malformed ones are skipped (they
/// can match nothing).
pub fn parse_thumbprints(list: &[String]) -> Vec<Thumbprint> {
    list.iter()
        .filter_map(|t| hex::decode(t).ok()?.try_into().ok())
        .collect()
}

/// The TLS client configuration for one provider's thumbprints.
pub fn client_config(thumbprints: Vec<Thumbprint>) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    // A machine without system roots can still trust thumbprinted providers.
    let trusted = match rustls_platform_verifier::Verifier::new(provider.clone()) {
        Ok(v) => Some(Arc::new(v) as Arc<dyn ServerCertVerifier>),
        Err(e) => {
            tracing::warn!(error = %e, "no system trust roots: OIDC providers are trusted by thumbprint only");
            None
        }
    };
    let verifier = ProviderVerifier {
        trusted,
        thumbprints,
        provider: provider.clone(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

#[derive(Debug)]
struct ProviderVerifier {
    trusted: Option<Arc<dyn ServerCertVerifier>>,
    thumbprints: Vec<Thumbprint>,
    provider: Arc<CryptoProvider>,
}

fn thumbprint(cert: &CertificateDer<'_>) -> Option<Thumbprint> {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert.as_ref())
        .as_ref()
        .try_into()
        .ok()
}

impl ServerCertVerifier for ProviderVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let refused = match &self.trusted {
            Some(trusted) => match trusted.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Ok(verified) => return Ok(verified),
                Err(e) => e,
            },
            None => Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        };
        for cert in std::iter::once(end_entity).chain(intermediates) {
            let Some(print) = thumbprint(cert) else {
                continue;
            };
            if !self.thumbprints.contains(&print) {
                continue;
            }
            let mut roots = RootCertStore::empty();
            roots.add(cert.clone().into_owned())?;
            let pinned =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                    .build()
                    .map_err(|e| Error::General(e.to_string()))?;
            return pinned.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            );
        }
        Err(refused)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprints_are_forty_hex_digits() {
        let parsed = parse_thumbprints(&[
            "990F4193972F2BECF12DDEDA5237F9C952F20D9E".to_owned(),
            "not-hex".to_owned(),
            "abcd".to_owned(),
        ]);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0][0], 0x99);
    }

    #[test]
    fn a_thumbprint_is_the_sha1_of_the_der() {
        let der = CertificateDer::from(b"not really a certificate".to_vec());
        let expected = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der.as_ref());
        assert_eq!(thumbprint(&der).unwrap().as_slice(), expected.as_ref());
    }
}
