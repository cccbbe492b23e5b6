//! The canonical request: method, canonical URI, canonical query, canonical
//! headers, signed headers and payload hash, one per line.
//!
//! [`CanonicalRequest`]'s `Display` is the exact text that was hashed, and
//! [`CanonicalRequest::redacted`] the same with session-token values masked,
//! which is what error messages and logs get.

use std::fmt;
use std::ops::Range;

use crate::error::SigV4Error;
use crate::request::{Headers, Request};

/// How the path becomes the canonical URI.
///
/// AWS services other than S3 normalise the path (remove `.` and `..`
/// segments and empty segments) and percent-encode it once more, so that a
/// `%` already on the wire becomes `%25` ("double encoding"). S3 does
/// neither: the canonical URI is the object key encoded exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UriEncoding {
    /// Remove dot segments and collapse repeated slashes.
    pub normalize_path: bool,
    /// Encode the received (already encoded) path again; when false, the path
    /// is decoded and encoded once.
    pub double_encode: bool,
}

impl UriEncoding {
    /// Every service except S3.
    pub const DEFAULT: Self = Self {
        normalize_path: true,
        double_encode: true,
    };
    /// S3: no normalisation, single encoding.
    pub const S3: Self = Self {
        normalize_path: false,
        double_encode: false,
    };

    /// The rules AWS applies for `service` (its signing name, e.g. `iam`).
    #[must_use]
    pub fn for_service(service: &str) -> Self {
        if service == "s3" {
            Self::S3
        } else {
            Self::DEFAULT
        }
    }
}

/// A canonical request, as bytes (header values need not be UTF-8).
#[derive(Clone, Default)]
pub struct CanonicalRequest {
    bytes: Vec<u8>,
    /// Where session-token values sit in `bytes`, for [`Self::redacted`].
    secrets: Vec<Range<usize>>,
}

impl CanonicalRequest {
    /// The exact bytes that are hashed into the string to sign.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A view that prints the session token as `** redacted **`.
    #[must_use]
    pub fn redacted(&self) -> Redacted<'_> {
        Redacted(self)
    }
}

impl fmt::Display for CanonicalRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.bytes))
    }
}

impl fmt::Debug for CanonicalRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CanonicalRequest({:?})", self.redacted().to_string())
    }
}

/// See [`CanonicalRequest::redacted`].
#[derive(Debug, Clone, Copy)]
pub struct Redacted<'c>(&'c CanonicalRequest);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = &self.0.bytes;
        let mut at = 0;
        for r in &self.0.secrets {
            f.write_str(&String::from_utf8_lossy(
                bytes.get(at..r.start).unwrap_or_default(),
            ))?;
            f.write_str("** redacted **")?;
            at = r.end;
        }
        f.write_str(&String::from_utf8_lossy(
            bytes.get(at..).unwrap_or_default(),
        ))
    }
}

/// What the canonical query leaves out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryRules {
    /// Presigned form: `X-Amz-Signature` is not signed.
    pub skip_signature: bool,
    /// Clients that append `X-Amz-Security-Token` after signing.
    pub skip_session_token: bool,
}

/// Builds the canonical request into `out` (cleared first).
pub(crate) fn build<H: Headers + ?Sized>(
    out: &mut CanonicalRequest,
    req: &Request<'_, H>,
    signed_headers: &str,
    query: QueryRules,
    uri: UriEncoding,
    payload_hash: &str,
) -> Result<(), SigV4Error> {
    out.bytes.clear();
    out.secrets.clear();
    // Enough for a typical request, so the buffer grows at most once.
    out.bytes
        .reserve(384 + req.path.len() + req.query.len() + 2 * signed_headers.len());
    let b = &mut out.bytes;
    b.extend_from_slice(req.method.as_bytes());
    b.push(b'\n');
    canonical_uri(b, req.path, uri);
    b.push(b'\n');
    canonical_query(out, req.query, query)?;
    let b = &mut out.bytes;
    b.push(b'\n');
    for name in signed_headers.split(';') {
        b.extend_from_slice(name.as_bytes());
        b.push(b':');
        let start = b.len();
        let mut first = true;
        req.for_each_value(name, |v| {
            if !first {
                b.push(b',');
            }
            first = false;
            push_trimmed(b, v);
        });
        if name == "x-amz-security-token" {
            out.secrets.push(start..b.len());
        }
        b.push(b'\n');
    }
    b.push(b'\n');
    b.extend_from_slice(signed_headers.as_bytes());
    b.push(b'\n');
    b.extend_from_slice(payload_hash.as_bytes());
    Ok(())
}

/// Appends `v` with leading and trailing whitespace removed and each inner run
/// of whitespace (including obsolete line folding) replaced by one space.
fn push_trimmed(out: &mut Vec<u8>, v: &[u8]) {
    let is_ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    // Most values need no change: copy them whole.
    let clean = v.first().is_none_or(|c| !is_ws(c))
        && v.last().is_none_or(|c| !is_ws(c))
        && !v.iter().any(|c| matches!(c, b'\t' | b'\r' | b'\n'))
        && !v.windows(2).any(|w| w == b"  ");
    if clean {
        out.extend_from_slice(v);
        return;
    }
    let mut in_space = false;
    let mut started = false;
    for c in v {
        if is_ws(c) {
            in_space = started;
        } else {
            if in_space {
                out.push(b' ');
                in_space = false;
            }
            started = true;
            out.push(*c);
        }
    }
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes every byte but the RFC 3986 unreserved ones (and `/` when
/// `keep_slash`), with upper-case hex.
pub(crate) fn encode_into(out: &mut Vec<u8>, bytes: &[u8], keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &c in bytes {
        if is_unreserved(c) || (keep_slash && c == b'/') {
            out.push(c);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
        }
    }
}

fn canonical_uri(out: &mut Vec<u8>, path: &str, rules: UriEncoding) {
    let path = if path.is_empty() { "/" } else { path };
    // `POST /`, every IAM and STS request, and any path without an empty or
    // dot segment come out of normalisation unchanged.
    let normalized;
    let path = if rules.normalize_path
        && (!path.starts_with('/') || path.contains("//") || path.contains("/."))
    {
        normalized = normalize_path(path);
        normalized.as_str()
    } else {
        path
    };
    if rules.double_encode {
        encode_into(out, path.as_bytes(), true);
    } else {
        // Decode what the client encoded, then encode exactly once. A `%`
        // that starts no valid escape is kept as a literal `%`.
        let decoded =
            percent_decode(path.as_bytes(), false).unwrap_or_else(|| path.as_bytes().to_vec());
        encode_into(out, &decoded, true);
    }
}

/// RFC 3986 dot-segment removal, plus collapsing of empty segments, keeping a
/// trailing slash.
fn normalize_path(path: &str) -> String {
    let mut stack: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    for seg in path.split('/') {
        trailing_slash = false;
        match seg {
            "" | "." => trailing_slash = true,
            ".." => {
                stack.pop();
                trailing_slash = true;
            }
            s => stack.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for seg in &stack {
        out.push('/');
        out.push_str(seg);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    out
}

/// Decodes `%XX` escapes (and `+` as space when `plus_is_space`); `None` when
/// an escape is malformed.
pub(crate) fn percent_decode(bytes: &[u8], plus_is_space: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'%' => {
                let hi = bytes
                    .get(i + 1)
                    .and_then(|&h| crate::signature::hex_val(h))?;
                let lo = bytes
                    .get(i + 2)
                    .and_then(|&l| crate::signature::hex_val(l))?;
                out.push((hi << 4) | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Splits a raw query into decoded `(name, value)` pairs, in order.
/// A decoded query parameter: name and value bytes.
pub(crate) type QueryPair = (Vec<u8>, Vec<u8>);

pub(crate) fn query_pairs(query: &str) -> Result<Vec<QueryPair>, SigV4Error> {
    let mut pairs = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let decode = |s: &str| {
            percent_decode(s.as_bytes(), true).ok_or_else(|| {
                SigV4Error::MalformedQueryString(format!(
                    "Illegal or incomplete escape % sequence in query-string parameter '{part}'."
                ))
            })
        };
        pairs.push((decode(k)?, decode(v)?));
    }
    Ok(pairs)
}

fn canonical_query(
    out: &mut CanonicalRequest,
    query: &str,
    rules: QueryRules,
) -> Result<(), SigV4Error> {
    if query.is_empty() {
        return Ok(());
    }
    let mut encoded: Vec<(Vec<u8>, Vec<u8>, bool)> = Vec::new();
    for (k, v) in query_pairs(query)? {
        if rules.skip_signature && k == b"X-Amz-Signature" {
            continue;
        }
        let is_token = k == b"X-Amz-Security-Token";
        if rules.skip_session_token && is_token {
            continue;
        }
        let mut ek = Vec::with_capacity(k.len());
        encode_into(&mut ek, &k, false);
        let mut ev = Vec::with_capacity(v.len());
        encode_into(&mut ev, &v, false);
        encoded.push((ek, ev, is_token));
    }
    encoded.sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    for (i, (k, v, is_token)) in encoded.iter().enumerate() {
        if i > 0 {
            out.bytes.push(b'&');
        }
        out.bytes.extend_from_slice(k);
        out.bytes.push(b'=');
        let start = out.bytes.len();
        out.bytes.extend_from_slice(v);
        if *is_token {
            out.secrets.push(start..out.bytes.len());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(path: &str, rules: UriEncoding) -> String {
        let mut out = Vec::new();
        canonical_uri(&mut out, path, rules);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn normalisation_follows_rfc3986_and_collapses_slashes() {
        for (input, expected) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/./", "/"),
            ("/./example", "/example"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("//example//", "/example/"),
            ("/a/b/../c", "/a/c"),
            ("/a/b/.", "/a/b/"),
            ("/../../a", "/a"),
        ] {
            assert_eq!(normalize_path(input), expected, "{input}");
        }
    }

    #[test]
    fn default_rules_encode_the_wire_path_again() {
        assert_eq!(
            uri("/example%20space/", UriEncoding::DEFAULT),
            "/example%2520space/"
        );
        assert_eq!(uri("/a:b@c", UriEncoding::DEFAULT), "/a%3Ab%40c");
        assert_eq!(uri("//x//", UriEncoding::DEFAULT), "/x/");
    }

    #[test]
    fn s3_rules_encode_once_and_keep_dots() {
        assert_eq!(
            uri("/example%20space/", UriEncoding::S3),
            "/example%20space/"
        );
        assert_eq!(uri("/bucket/a b", UriEncoding::S3), "/bucket/a%20b");
        assert_eq!(uri("/bucket/./x//y", UriEncoding::S3), "/bucket/./x//y");
        assert_eq!(uri("/bucket/100%", UriEncoding::S3), "/bucket/100%25");
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        let mut out = Vec::new();
        push_trimmed(&mut out, b"  \"a   b \t c\"  ");
        assert_eq!(out, b"\"a b c\"");
        out.clear();
        push_trimmed(&mut out, b"value1\n  value2\n     value3");
        assert_eq!(out, b"value1 value2 value3");
    }

    #[test]
    fn query_is_decoded_reencoded_and_sorted() {
        let mut c = CanonicalRequest::default();
        let rules = QueryRules {
            skip_signature: true,
            skip_session_token: false,
        };
        canonical_query(
            &mut c,
            "b=2&a=z&a=y&X-Amz-Signature=abc&sp=a+b&pct=%7e%2f&empty",
            rules,
        )
        .unwrap();
        assert_eq!(c.to_string(), "a=y&a=z&b=2&empty=&pct=~%2F&sp=a%20b");
    }

    #[test]
    fn malformed_escapes_in_query_are_rejected() {
        let mut c = CanonicalRequest::default();
        let rules = QueryRules {
            skip_signature: false,
            skip_session_token: false,
        };
        let err = canonical_query(&mut c, "a=%zz", rules).unwrap_err();
        assert_eq!(err.code(), "MalformedQueryString");
        assert!(canonical_query(&mut c, "a=%4", rules).is_err());
    }

    #[test]
    fn redacted_view_masks_the_session_token_only() {
        let mut c = CanonicalRequest::default();
        let rules = QueryRules {
            skip_signature: false,
            skip_session_token: false,
        };
        canonical_query(&mut c, "X-Amz-Security-Token=SECRETTOKEN&z=1", rules).unwrap();
        assert_eq!(
            c.redacted().to_string(),
            "X-Amz-Security-Token=** redacted **&z=1"
        );
        assert!(c.to_string().contains("SECRETTOKEN"));
    }
}
