//! The string to sign and the credential scope.

use std::fmt;

use crate::amz_date::AmzDate;
use crate::signature::HexBuf;

/// The algorithm of SigV4 with HMAC-SHA256, the only one verified here.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The credential scope: the date, region and service a signature is valid
/// for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialScope<'a> {
    /// `YYYYMMDD`.
    pub date: &'a str,
    /// e.g. `us-east-1`.
    pub region: &'a str,
    /// The signing name, e.g. `iam`.
    pub service: &'a str,
}

impl fmt::Display for CredentialScope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// `AWS4-HMAC-SHA256\n<timestamp>\n<scope>\n<hex sha256 of canonical request>`.
/// `Display` is the exact signed text.
#[derive(Clone)]
pub struct StringToSign {
    text: String,
}

impl StringToSign {
    /// `scope` is the credential scope as the client wrote it
    /// (`date/region/service/aws4_request`).
    #[must_use]
    pub fn new(time: &AmzDate, scope: &str, canonical_request_sha256: &[u8; 32]) -> Self {
        let hash = HexBuf::of(canonical_request_sha256);
        let mut text = String::with_capacity(ALGORITHM.len() + 16 + scope.len() + 64 + 3);
        text.push_str(ALGORITHM);
        text.push('\n');
        text.push_str(time.as_str());
        text.push('\n');
        text.push_str(scope);
        text.push('\n');
        text.push_str(hash.as_str());
        Self { text }
    }

    /// The bytes to HMAC.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }
}

impl fmt::Display for StringToSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for StringToSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StringToSign({:?})", self.text)
    }
}
