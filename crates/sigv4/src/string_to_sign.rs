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

/// Room on the stack for a string to sign: 16 + 1 + 16 + 1 + 64 + 1 bytes
/// around a scope of up to 93 (ordinary scopes are about 40).
const INLINE_STRING_TO_SIGN: usize = 192;

/// The bytes of a [`StringToSign`], built on the stack when the scope is of
/// ordinary length: the verification path needs them only to HMAC them.
pub(crate) enum StringToSignBytes {
    Inline {
        buf: [u8; INLINE_STRING_TO_SIGN],
        len: usize,
    },
    Heap(StringToSign),
}

impl StringToSignBytes {
    pub(crate) fn new(time: &AmzDate, scope: &str, canonical_request_sha256: &[u8; 32]) -> Self {
        let mut buf = [0u8; INLINE_STRING_TO_SIGN];
        let parts: [&[u8]; 6] = [
            ALGORITHM.as_bytes(),
            b"\n",
            time.text(),
            b"\n",
            scope.as_bytes(),
            b"\n",
        ];
        let mut len = 0;
        for part in parts {
            let Some(dst) = buf.get_mut(len..len + part.len()) else {
                return Self::Heap(StringToSign::new(time, scope, canonical_request_sha256));
            };
            dst.copy_from_slice(part);
            len += part.len();
        }
        let Some(dst) = buf.get_mut(len..len + 64) else {
            return Self::Heap(StringToSign::new(time, scope, canonical_request_sha256));
        };
        crate::signature::hex_into(dst, canonical_request_sha256);
        len += 64;
        Self::Inline { buf, len }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { buf, len } => buf.get(..*len).unwrap_or_default(),
            Self::Heap(s) => s.as_bytes(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_bytes_equal_the_string_to_sign_for_any_scope_length() {
        let date = AmzDate::parse_iso8601_basic("20150830T123600Z").unwrap();
        let hash = [0xabu8; 32];
        for region_len in [0, 9, 40, 80, 200] {
            let scope = format!("20150830/{}/iam/aws4_request", "r".repeat(region_len));
            let text = StringToSign::new(&date, &scope, &hash);
            let bytes = StringToSignBytes::new(&date, &scope, &hash);
            assert_eq!(bytes.as_bytes(), text.as_bytes(), "{region_len}");
            assert_eq!(
                matches!(bytes, StringToSignBytes::Inline { .. }),
                text.as_bytes().len() <= INLINE_STRING_TO_SIGN
            );
        }
    }
}
