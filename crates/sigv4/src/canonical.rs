//! The canonical request: method, canonical URI, canonical query, canonical
//! headers, signed headers and payload hash, one per line.
//!
//! [`CanonicalRequest`]'s `Display` is the exact text that was hashed, and
//! [`CanonicalRequest::redacted`] the same with session-token values masked,
//! which is what error messages and logs get.

use std::fmt;
use std::ops::Range;

use aws_lc_rs::digest;

use crate::error::SigV4Error;
use crate::request::{Headers, Request, is_name_bytes};

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

/// Where the canonical request goes: a [`CanonicalRequest`] when its text is
/// wanted (errors, tests, the public accessor), or straight into SHA-256
/// ([`HashSink`]) on the verification path, which needs only its digest.
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);
    fn byte(&mut self, b: u8);
    /// Bytes written so far, for the ranges given to [`Sink::secret`]; a
    /// sink that keeps no ranges may answer 0.
    fn written(&self) -> usize;
    /// The bytes `range` of the output are a session token.
    fn secret(&mut self, range: Range<usize>);
    /// Writes the lowercase hex of `digest`.
    fn put_hex(&mut self, digest: &[u8; 32]) {
        self.put(crate::signature::HexBuf::of(digest).as_bytes());
    }
}

impl Sink for CanonicalRequest {
    fn put(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }
    fn byte(&mut self, b: u8) {
        self.bytes.push(b);
    }
    fn written(&self) -> usize {
        self.bytes.len()
    }
    fn secret(&mut self, range: Range<usize>) {
        self.secrets.push(range);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn byte(&mut self, b: u8) {
        self.push(b);
    }
    fn written(&self) -> usize {
        self.len()
    }
    fn secret(&mut self, _range: Range<usize>) {}
}

/// Bytes kept on the stack before they are handed to SHA-256: a typical IAM
/// or STS canonical request (200–300 bytes) is hashed in one call, like the
/// floor it is measured against; a larger one (a session token adds 400 or
/// more) streams through a digest context, still without a heap buffer.
const HASH_BUFFER: usize = 512;

/// A [`Sink`] that hashes what is written to it.
///
/// `repr(C)` with `context` between `len` and `buf`: next to the buffer,
/// `len` was zeroed by the buffer's `memset`, and the first write, which
/// reads `len`, could not take its value from those wide stores and waited
/// for them to complete. Apart, `len` gets a store of its own.
#[repr(C)]
pub(crate) struct HashSink {
    len: usize,
    context: Option<digest::Context>,
    buf: [u8; HASH_BUFFER],
}

impl HashSink {
    pub(crate) fn new() -> Self {
        Self {
            len: 0,
            context: None,
            buf: [0; HASH_BUFFER],
        }
    }

    fn flush(&mut self) {
        let context = self
            .context
            .get_or_insert_with(|| digest::Context::new(&digest::SHA256));
        context.update(self.buf.get(..self.len).unwrap_or_default());
        self.len = 0;
    }

    /// The SHA-256 of everything written. Takes `&mut self`: moving the
    /// buffer into the call would copy it.
    pub(crate) fn finish(&mut self) -> [u8; 32] {
        let pending = self.buf.get(..self.len).unwrap_or_default();
        let d = match self.context.take() {
            None => digest::digest(&digest::SHA256, pending),
            Some(mut context) => {
                context.update(pending);
                context.finish()
            }
        };
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    }
}

impl HashSink {
    /// `put` when `bytes` does not fit in what is left of the buffer.
    #[cold]
    fn put_slow(&mut self, bytes: &[u8]) {
        self.flush();
        if let Some(dst) = self.buf.get_mut(..bytes.len()) {
            dst.copy_from_slice(bytes);
            self.len = bytes.len();
        } else if let Some(context) = self.context.as_mut() {
            context.update(bytes);
        }
    }
}

impl Sink for HashSink {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        match self.buf.get_mut(self.len..self.len + bytes.len()) {
            Some(dst) => {
                copy_short(dst, bytes);
                self.len += bytes.len();
            }
            None => self.put_slow(bytes),
        }
    }
    #[inline]
    fn byte(&mut self, b: u8) {
        match self.buf.get_mut(self.len) {
            Some(dst) => {
                *dst = b;
                self.len += 1;
            }
            None => self.put_slow(&[b]),
        }
    }
    /// It keeps no secret ranges (only the digest leaves it), so it does not
    /// count what goes in either.
    #[inline]
    fn written(&self) -> usize {
        0
    }
    fn secret(&mut self, _range: Range<usize>) {}
    /// Straight into the buffer, without a copy on the stack in between.
    fn put_hex(&mut self, digest: &[u8; 32]) {
        match self.buf.get_mut(self.len..self.len + 64) {
            Some(dst) => {
                crate::signature::hex_into(dst, digest);
                self.len += 64;
            }
            None => self.put(crate::signature::HexBuf::of(digest).as_bytes()),
        }
    }
}

/// `dst.copy_from_slice(src)` (same lengths) for the short pieces a
/// canonical request is made of (names, values, separators: mostly under 64
/// bytes), without a call to `memcpy`: two fixed-size copies that overlap
/// in the middle, which the compiler turns into a pair of loads and stores.
#[inline]
pub(crate) fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n != dst.len() {
        return;
    }
    macro_rules! two {
        ($w:literal) => {{
            if let (Some(d), Some(s)) = (dst.first_chunk_mut::<$w>(), src.first_chunk::<$w>()) {
                *d = *s;
            }
            if let (Some(d), Some(s)) = (dst.last_chunk_mut::<$w>(), src.last_chunk::<$w>()) {
                *d = *s;
            }
        }};
    }
    match n {
        0 => {}
        1..=3 => {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s;
            }
        }
        4..=7 => two!(4),
        8..=15 => two!(8),
        16..=32 => two!(16),
        33..=64 => two!(32),
        _ => dst.copy_from_slice(src),
    }
}

/// Header values already found (while parsing), by name: the canonical
/// headers are taken from them, without walking the request headers again,
/// when every signed name is known.
pub(crate) trait KnownHeaders {
    /// For a name it knows (given in lowercase) and that was sent at most
    /// once, a number below 16 for [`Self::value`]; `None` for any other.
    fn id(&self, name: &[u8]) -> Option<u8>;
    /// The value of the header `id` stands for, `None` when it was not sent.
    fn value(&self, id: u8) -> Option<&[u8]>;
    /// Whether that value is known to be its own canonical form (nothing to
    /// trim or collapse), so it is copied without the check.
    fn clean(&self, _id: u8) -> bool {
        false
    }
}

/// Nothing known: the headers are walked.
impl KnownHeaders for () {
    fn id(&self, _name: &[u8]) -> Option<u8> {
        None
    }
    fn value(&self, _id: u8) -> Option<&[u8]> {
        None
    }
}

/// The last line of the canonical request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PayloadLine<'r> {
    /// As written: the client's `x-amz-content-sha256`, or a fixed text.
    Text(&'r [u8]),
    /// The lowercase hex of this digest of the body.
    Hex(&'r [u8; 32]),
}

/// Builds the canonical request into `out`, which starts empty.
pub(crate) fn build<H: Headers + ?Sized, S: Sink, K: KnownHeaders>(
    out: &mut S,
    req: &Request<'_, H>,
    signed_headers: &str,
    query: QueryRules,
    uri: UriEncoding,
    payload: PayloadLine<'_>,
    known: &K,
) -> Result<(), SigV4Error> {
    out.put(req.method.as_bytes());
    out.byte(b'\n');
    canonical_uri(out, req.path, uri);
    out.byte(b'\n');
    canonical_query(out, req.query, query)?;
    out.byte(b'\n');
    if !canonical_headers_from_known(out, req, signed_headers, known)
        && !canonical_headers_in_one_walk(out, req, signed_headers)
    {
        for name in signed_headers.split(';') {
            out.put(name.as_bytes());
            out.byte(b':');
            let start = out.written();
            let mut first = true;
            req.for_each_value(name, |v| {
                if !first {
                    out.byte(b',');
                }
                first = false;
                push_trimmed(out, v);
            });
            end_header(out, name.as_bytes(), start);
        }
    }
    out.byte(b'\n');
    out.put(signed_headers.as_bytes());
    out.byte(b'\n');
    match payload {
        PayloadLine::Text(text) => out.put(text),
        PayloadLine::Hex(digest) => out.put_hex(digest),
    }
    Ok(())
}

/// The names in a `SignedHeaders` value (as `split(';')` gives them), each
/// `;` found eight bytes a step: `str::split` would set up a `memchr` for
/// each short name.
pub(crate) fn names(signed_headers: &str) -> Names<'_> {
    Names {
        rest: Some(signed_headers.as_bytes()),
    }
}

/// See [`names`].
pub(crate) struct Names<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for Names<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match crate::swar::find(rest, b';') {
            Some(i) => {
                self.rest = rest.get(i + 1..);
                rest.get(..i)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Marks a session token's value as secret and ends its line.
fn end_header<S: Sink>(out: &mut S, name: &[u8], start: usize) {
    if name == b"x-amz-security-token" {
        let end = out.written();
        out.secret(start..end);
    }
    out.byte(b'\n');
}

/// The canonical header lines from `known`, when it knows every signed name
/// and there are at most [`MAX_SIGNED`]. Returns false, having written
/// nothing, otherwise.
fn canonical_headers_from_known<H: Headers + ?Sized, S: Sink, K: KnownHeaders>(
    out: &mut S,
    req: &Request<'_, H>,
    signed_headers: &str,
    known: &K,
) -> bool {
    // The ids of the names, four bits each, so each is looked up once, and
    // where each name ends, so the names are split once.
    let text = signed_headers.as_bytes();
    let mut ids = 0u64;
    let mut ends = [0u16; MAX_SIGNED];
    let mut count = 0;
    let mut at = 0;
    for name in names(signed_headers) {
        let Some(id) = known.id(name) else {
            return false;
        };
        if id >= 16 {
            return false;
        }
        at += name.len();
        let (Some(end), Ok(e)) = (ends.get_mut(count), u16::try_from(at)) else {
            return false;
        };
        *end = e;
        ids |= u64::from(id) << (4 * count);
        count += 1;
        at += 1;
    }
    let mut from = 0;
    for &end in ends.get(..count).unwrap_or_default() {
        let end = usize::from(end);
        let name = text.get(from..end).unwrap_or_default();
        from = end + 1;
        // Truncation intended: the low four bits are the id.
        #[allow(clippy::cast_possible_truncation, reason = "four bits")]
        let id = (ids & 15) as u8;
        ids >>= 4;
        out.put(name);
        out.byte(b':');
        let start = out.written();
        match known.value(id) {
            Some(v) if known.clean(id) => out.put(v),
            Some(v) => push_trimmed(out, v),
            None => {
                if name == b"host"
                    && let Some(authority) = req.authority
                {
                    push_trimmed(out, authority.as_bytes());
                }
            }
        }
        end_header(out, name, start);
    }
    true
}

/// Signed headers matched in one walk over the request headers when there
/// are at most this many (SDKs sign 3 to 8).
const MAX_SIGNED: usize = 16;

/// The canonical header lines, in the order of `signed_headers`, from one
/// walk over the request headers (instead of one per signed header), in the
/// case every SDK produces: at most [`MAX_SIGNED`] names in strictly
/// ascending order (so none twice), each header at most once in the request.
/// Returns false, having written nothing, otherwise; the caller then walks
/// once per name, which handles every case.
fn canonical_headers_in_one_walk<H: Headers + ?Sized, S: Sink>(
    out: &mut S,
    req: &Request<'_, H>,
    signed_headers: &str,
) -> bool {
    let mut names: [&[u8]; MAX_SIGNED] = [&[]; MAX_SIGNED];
    let mut count = 0;
    // The lengths of the signed names, so that most other headers are passed
    // over after one test.
    let mut lengths = 0u64;
    let mut previous: &[u8] = &[];
    for name in self::names(signed_headers) {
        let Some(slot) = names.get_mut(count) else {
            return false;
        };
        if count > 0 && name <= previous {
            return false;
        }
        *slot = name;
        previous = name;
        count += 1;
        lengths |= 1u64
            .checked_shl(name.len().try_into().unwrap_or(u32::MAX))
            .unwrap_or(1);
    }
    let names = names.get(..count).unwrap_or_default();
    let mut values: [Option<&[u8]>; MAX_SIGNED] = [None; MAX_SIGNED];
    let mut repeated = false;
    req.headers.for_each(|h, v| {
        let shift = u32::try_from(h.len()).unwrap_or(u32::MAX);
        if lengths.checked_shr(shift).unwrap_or(1) & 1 == 0 {
            return;
        }
        if let Some(i) = names.iter().position(|n| is_name_bytes(h, n))
            && let Some(slot) = values.get_mut(i)
        {
            repeated |= slot.replace(v).is_some();
        }
    });
    if repeated {
        return false;
    }
    for (name, value) in names.iter().zip(values) {
        out.put(name);
        out.byte(b':');
        let start = out.written();
        match value {
            Some(v) => push_trimmed(out, v),
            None => {
                if *name == b"host"
                    && let Some(authority) = req.authority
                {
                    push_trimmed(out, authority.as_bytes());
                }
            }
        }
        end_header(out, name, start);
    }
    true
}

/// Appends `v` with leading and trailing whitespace removed and each inner run
/// of whitespace (including obsolete line folding) replaced by one space.
fn push_trimmed<S: Sink>(out: &mut S, v: &[u8]) {
    let is_ws = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    // Most values need no change: one pass finds out, then they are copied
    // whole. A value is clean when it has no tab, CR or LF (nor any other
    // byte below 0x20, which the byte-by-byte path below copies as it is),
    // no leading or trailing space and no two spaces in a row.
    let (Some(&first), Some(&last)) = (v.first(), v.last()) else {
        return;
    };
    if first != b' ' && last != b' ' && !crate::swar::has_control_or_double_space(v) {
        out.put(v);
        return;
    }
    let mut in_space = false;
    let mut started = false;
    for &c in v {
        if is_ws(c) {
            in_space = started;
        } else {
            if in_space {
                out.byte(b' ');
                in_space = false;
            }
            started = true;
            out.byte(c);
        }
    }
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes every byte but the RFC 3986 unreserved ones (and `/` when
/// `keep_slash`), with upper-case hex.
pub(crate) fn encode_into<S: Sink + ?Sized>(out: &mut S, bytes: &[u8], keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &c in bytes {
        if is_unreserved(c) || (keep_slash && c == b'/') {
            out.byte(c);
        } else {
            out.put(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
        }
    }
}

fn canonical_uri<S: Sink>(out: &mut S, path: &str, rules: UriEncoding) {
    // Every IAM and STS request.
    if path.is_empty() || path == "/" {
        out.byte(b'/');
        return;
    }
    // Any path without an empty or dot segment comes out of normalisation
    // unchanged.
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

fn canonical_query<S: Sink>(out: &mut S, query: &str, rules: QueryRules) -> Result<(), SigV4Error> {
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
            out.byte(b'&');
        }
        out.put(k);
        out.byte(b'=');
        let start = out.written();
        out.put(v);
        if *is_token {
            let end = out.written();
            out.secret(start..end);
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

    fn sha256(bytes: &[u8]) -> [u8; 32] {
        crate::verify::sha256(bytes)
    }

    fn build_both(
        headers: &[(&str, String)],
        signed: &str,
        authority: Option<&str>,
    ) -> (CanonicalRequest, [u8; 32]) {
        let req = Request {
            method: "POST",
            path: "/a/b",
            query: "z=1&a=2",
            headers,
            authority,
        };
        let rules = QueryRules {
            skip_signature: false,
            skip_session_token: false,
        };
        let mut text = CanonicalRequest::default();
        build(
            &mut text,
            &req,
            signed,
            rules,
            UriEncoding::DEFAULT,
            PayloadLine::Text(b"UNSIGNED-PAYLOAD"),
            &(),
        )
        .unwrap();
        let mut hasher = HashSink::new();
        build(
            &mut hasher,
            &req,
            signed,
            rules,
            UriEncoding::DEFAULT,
            PayloadLine::Text(b"UNSIGNED-PAYLOAD"),
            &(),
        )
        .unwrap();
        (text, hasher.finish())
    }

    #[test]
    fn a_date_the_date_parser_accepts_is_its_own_canonical_value() {
        // What `KnownHeaders::clean` claims for `X-Amz-Date`: any value the
        // ISO date parser accepts (every byte value at every position of a
        // valid date, and some lengths) comes out of trimming unchanged.
        let base = *b"20150830T123600Z";
        let mut accepted = 0;
        let mut check = |v: &[u8]| {
            if crate::amz_date::AmzDate::parse_iso8601_basic_bytes(v).is_some() {
                accepted += 1;
                let mut out = Vec::new();
                push_trimmed(&mut out, v);
                assert_eq!(out, v, "{v:?}");
            }
        };
        for at in 0..base.len() {
            for b in 0..=255u8 {
                let mut v = base;
                v[at] = b;
                check(&v);
            }
        }
        for v in [
            &b" 20150830T123600Z"[..],
            b"20150830T123600Z ",
            b"20150830T123600Z\t",
        ] {
            check(v);
        }
        assert!(accepted > 16, "{accepted}");
    }

    #[test]
    fn hashing_sink_digests_exactly_the_canonical_text() {
        // Below, across and far beyond the stack buffer, in small and large
        // pieces.
        for len in [
            0,
            10,
            HASH_BUFFER - 100,
            HASH_BUFFER,
            HASH_BUFFER + 1,
            3 * HASH_BUFFER + 7,
        ] {
            let headers = [
                ("Host", "h".to_owned()),
                ("x-amz-security-token", "t".repeat(len)),
                ("x-amz-date", "20150830T123600Z".to_owned()),
            ];
            let (text, digest) = build_both(&headers, "host;x-amz-date;x-amz-security-token", None);
            assert!(text.as_bytes().len() > len);
            assert_eq!(digest, sha256(text.as_bytes()), "{len}");
        }
        let mut sink = HashSink::new();
        for _ in 0..1000 {
            sink.byte(b'x');
        }
        assert_eq!(sink.finish(), sha256(&[b'x'; 1000]));
    }

    /// The canonical header lines one header name at a time: the definition
    /// the one-walk builder must agree with.
    fn headers_per_name(
        headers: &[(&str, String)],
        signed: &str,
        authority: Option<&str>,
    ) -> Vec<u8> {
        let req = Request {
            method: "GET",
            path: "/",
            query: "",
            headers,
            authority,
        };
        let mut out = Vec::new();
        for name in signed.split(';') {
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            let mut first = true;
            req.for_each_value(name, |v| {
                if !first {
                    out.push(b',');
                }
                first = false;
                push_trimmed(&mut out, v);
            });
            out.push(b'\n');
        }
        out
    }

    #[test]
    fn one_header_walk_matches_a_walk_per_name() {
        let many: Vec<(String, String)> = (0..40)
            .map(|i| (format!("x-h{i:02}"), format!(" v {i} ")))
            .collect();
        let many_names: Vec<&str> = many.iter().map(|(n, _)| n.as_str()).collect();
        let mut many_headers: Vec<(&str, String)> =
            many.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
        many_headers.push(("Host", "h".to_owned()));
        let repeated: Vec<(&str, String)> = (0..40)
            .map(|i| ("X-Rep", format!("{i}")))
            .chain([("host", "h".to_owned())])
            .collect();
        type Case<'a> = (Vec<(&'a str, String)>, String, Option<&'a str>);
        let cases: Vec<Case<'_>> = vec![
            (
                vec![
                    ("Host", "h".into()),
                    ("X-A", " 1 ".into()),
                    ("x-b", "2".into()),
                    ("X-A", "3".into()),
                ],
                "host;x-a;x-b".into(),
                None,
            ),
            // Repeated names in the signed list, a name never sent.
            (
                vec![("host", "h".into()), ("x-a", "1".into())],
                "host;host;x-a;x-missing".into(),
                None,
            ),
            // The authority stands in for a missing Host, and only then.
            (
                vec![("x-a", "1".into())],
                "host;x-a".into(),
                Some("authority.example"),
            ),
            (
                vec![("Host", "h".into())],
                "host".into(),
                Some("authority.example"),
            ),
            // More signed names, and more values, than the stack holds.
            (many_headers, format!("host;{}", many_names.join(";")), None),
            (repeated, "host;x-rep".into(), None),
            // The common case: sorted, each sent once, in another order and case.
            (
                vec![
                    ("X-Amz-Date", "20150830T123600Z".into()),
                    ("Content-Type", "a;  b ".into()),
                    ("host", "h".into()),
                    ("x-other", "o".into()),
                ],
                "content-type;host;x-amz-date".into(),
                None,
            ),
            // Not sorted: the same lines, in the order listed.
            (
                vec![("host", "h".into()), ("x-a", "1".into())],
                "x-a;host".into(),
                None,
            ),
        ];
        for (headers, signed, authority) in cases {
            let expected = headers_per_name(&headers, &signed, authority);
            let req = Request {
                method: "GET",
                path: "/",
                query: "",
                headers: &headers,
                authority,
            };
            // From the values parsing keeps, when it knows every name.
            let seen = crate::verify::SeenHeaders::collect(&headers[..]);
            let mut out = Vec::new();
            if canonical_headers_from_known(&mut out, &req, &signed, &seen) {
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    String::from_utf8(expected.clone()).unwrap(),
                    "{signed}"
                );
            } else {
                assert!(out.is_empty());
            }
            let mut out = Vec::new();
            if !canonical_headers_in_one_walk(&mut out, &req, &signed) {
                // Too many to track: nothing written, the caller walks per name.
                assert!(out.is_empty());
                let (text, digest) = build_both(&headers, &signed, authority);
                assert_eq!(digest, sha256(text.as_bytes()));
                let text = String::from_utf8(text.as_bytes().to_vec()).unwrap();
                assert!(
                    text.contains(std::str::from_utf8(&expected).unwrap()),
                    "{signed}"
                );
                continue;
            }
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(expected).unwrap(),
                "{signed}"
            );
        }
    }

    #[test]
    fn short_copies_copy_every_length() {
        let src: Vec<u8> = (1..=80).collect();
        for n in 0..=src.len() {
            let mut dst = vec![0u8; n];
            copy_short(&mut dst, &src[..n]);
            assert_eq!(dst, &src[..n], "{n}");
        }
    }

    #[test]
    fn clean_values_are_copied_and_others_normalised() {
        for (input, expected) in [
            ("a b c", "a b c"),
            ("", ""),
            (" ", ""),
            ("a", "a"),
            (" a", "a"),
            ("a ", "a"),
            ("a  b", "a b"),
            ("a\tb", "a b"),
            ("a\r\n b", "a b"),
            (
                "application/x-www-form-urlencoded; charset=utf-8",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
        ] {
            let mut out = Vec::new();
            push_trimmed(&mut out, input.as_bytes());
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{input:?}");
        }
    }
}
