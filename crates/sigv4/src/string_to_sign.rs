//! The string to sign and the credential scope.

use std::fmt;

use crate::amz_date::AmzDate;
use crate::signature::HexBuf;
use crate::signing_key::SigningKey;

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

/// The signature of the string to sign for `time`, `scope` and the canonical
/// request's digest under `key`. The string is built on the stack when the
/// scope is of ordinary length (and never returned, which would copy it):
/// the verification path needs it only to HMAC it.
pub(crate) fn sign(
    key: &SigningKey,
    time: &AmzDate,
    scope: &str,
    canonical_request_sha256: &[u8; 32],
) -> [u8; 32] {
    let mut buf = [0u8; INLINE_STRING_TO_SIGN];
    match write_inline(&mut buf, time, scope, canonical_request_sha256) {
        Some(len) => key.sign(buf.get(..len).unwrap_or_default()),
        None => key.sign(StringToSign::new(time, scope, canonical_request_sha256).as_bytes()),
    }
}

/// Writes the string to sign into `buf`; its length, or `None` when it does
/// not fit. The algorithm line and the timestamp have fixed lengths, so they
/// go to fixed places (copies of known size, no `memcpy` call); only the
/// scope's length varies.
fn write_inline(
    buf: &mut [u8; INLINE_STRING_TO_SIGN],
    time: &AmzDate,
    scope: &str,
    canonical_request_sha256: &[u8; 32],
) -> Option<usize> {
    const HEAD_LEN: usize = ALGORITHM.len() + 1;
    /// `ALGORITHM` and its newline, as an array made at compile time.
    const HEAD: [u8; HEAD_LEN] = {
        let mut head = [b'\n'; HEAD_LEN];
        let mut i = 0;
        while i < ALGORITHM.len() {
            head[i] = ALGORITHM.as_bytes()[i];
            i += 1;
        }
        head
    };
    const SCOPE_AT: usize = HEAD_LEN + 16 + 1;
    let (head, rest) = buf.split_first_chunk_mut::<SCOPE_AT>()?;
    let (algorithm, line) = head.split_first_chunk_mut::<HEAD_LEN>()?;
    *algorithm = HEAD;
    let (timestamp, newline) = line.split_first_chunk_mut::<16>()?;
    *timestamp = *time.text();
    *newline.first_mut()? = b'\n';
    let scope = scope.as_bytes();
    let (scope_dst, rest) = rest.split_at_mut_checked(scope.len())?;
    crate::canonical::copy_short(scope_dst, scope);
    let (newline, rest) = rest.split_first_mut()?;
    *newline = b'\n';
    crate::signature::hex_into(rest.get_mut(..64)?, canonical_request_sha256);
    Some(SCOPE_AT + scope.len() + 1 + 64)
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
    fn stack_string_to_sign_is_the_string_to_sign_for_any_scope_length() {
        let date = AmzDate::parse_iso8601_basic("20150830T123600Z").unwrap();
        let hash = [0xabu8; 32];
        let key = SigningKey::derive(&crate::SecretKey::new("s"), "20150830", "r", "iam");
        // Every scope length around the end of the buffer, and far beyond.
        for region_len in (0..=120).chain([200]) {
            let scope = format!("20150830/{}/iam/aws4_request", "r".repeat(region_len));
            let text = StringToSign::new(&date, &scope, &hash);
            let mut buf = [0u8; INLINE_STRING_TO_SIGN];
            match write_inline(&mut buf, &date, &scope, &hash) {
                Some(len) => assert_eq!(&buf[..len], text.as_bytes()),
                None => assert!(
                    text.as_bytes().len() > INLINE_STRING_TO_SIGN,
                    "{region_len}"
                ),
            }
            assert_eq!(sign(&key, &date, &scope, &hash), key.sign(text.as_bytes()));
        }
    }
}
