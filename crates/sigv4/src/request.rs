//! What this crate reads from an HTTP request: method, raw path, raw query
//! and header values. Nothing here does I/O or owns the body.
//!
//! Paths and queries are taken raw, as they came off the wire, because the
//! canonical request is defined over the encoded form: decoding first would
//! make `/a%2Fb` and `/a/b` sign alike.

/// Read access to request headers.
///
/// Implemented for [`http::HeaderMap`] and for lists of `(name, value)` pairs,
/// so a server passes its header map as is and tests pass literal pairs.
/// Verification walks the headers a few times instead of looking names up:
/// a request has few headers, and a walk costs less than hashing each name.
pub trait Headers {
    /// Calls `f` with every header, name as received (compared without
    /// regard to ASCII case), in the order received; the values of a repeated
    /// header come in their order.
    fn for_each<'s>(&'s self, f: impl FnMut(&'s str, &'s [u8]));

    /// The first value of `name` (given in ASCII lowercase), if any.
    fn first_value<'s>(&'s self, name: &str) -> Option<&'s [u8]> {
        let mut found = None;
        self.for_each(|n, v| {
            if found.is_none() && is_name(n, name) {
                found = Some(v);
            }
        });
        found
    }
}

/// Whether the header name `n` is `lower` (ASCII lowercase), in any case.
#[inline]
pub(crate) fn is_name(n: &str, lower: &str) -> bool {
    is_name_bytes(n, lower.as_bytes())
}

/// [`is_name`] with `lower` as bytes.
#[inline]
pub(crate) fn is_name_bytes(n: &str, lower: &[u8]) -> bool {
    let n = n.as_bytes();
    // `http::HeaderMap` names are lowercase already: try the exact match first.
    n.len() == lower.len() && (n == lower || n.eq_ignore_ascii_case(lower))
}

impl Headers for http::HeaderMap {
    fn for_each<'s>(&'s self, mut f: impl FnMut(&'s str, &'s [u8])) {
        for (name, value) in self {
            f(name.as_str(), value.as_bytes());
        }
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for [(N, V)] {
    fn for_each<'s>(&'s self, mut f: impl FnMut(&'s str, &'s [u8])) {
        for (n, v) in self {
            f(n.as_ref(), v.as_ref());
        }
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for Vec<(N, V)> {
    fn for_each<'s>(&'s self, f: impl FnMut(&'s str, &'s [u8])) {
        self.as_slice().for_each(f);
    }
}

/// The parts of an HTTP request that SigV4 covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a, H: ?Sized> {
    /// The method, e.g. `POST`.
    pub method: &'a str,
    /// The path as received, still percent-encoded, without the query.
    pub path: &'a str,
    /// The query as received, without the leading `?` (empty if none).
    pub query: &'a str,
    /// The request headers.
    pub headers: &'a H,
    /// The authority to use as the `host` header when the request has no
    /// `Host` header (HTTP/2 carries it as `:authority`).
    pub authority: Option<&'a str>,
}

impl<'a> Request<'a, http::HeaderMap> {
    /// Borrows what SigV4 needs from a request head.
    #[must_use]
    pub fn from_parts(parts: &'a http::request::Parts) -> Self {
        Self {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &parts.headers,
            authority: parts.uri.authority().map(http::uri::Authority::as_str),
        }
    }
}

impl<'a, H: Headers + ?Sized> Request<'a, H> {
    /// Calls `f` with every value of header `name`; for `host` with no
    /// `Host` header, with the authority instead. Returns how many values
    /// there were.
    pub(crate) fn for_each_value(&self, name: &str, mut f: impl FnMut(&[u8])) -> usize {
        let mut n = 0;
        self.headers.for_each(|h, v| {
            if is_name(h, name) {
                f(v);
                n += 1;
            }
        });
        if n == 0
            && name == "host"
            && let Some(authority) = self.authority
        {
            f(authority.as_bytes());
            n = 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_values<H: Headers + ?Sized>(req: &Request<'_, H>) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        req.for_each_value("host", |v| out.push(v.to_vec()));
        out
    }

    #[test]
    fn authority_stands_in_for_a_missing_host_header() {
        // HTTP/2 carries the host as `:authority`, which `http` puts in the URI.
        let (parts, ()) = http::Request::builder()
            .uri("https://iam.amazonaws.com/?Action=ListUsers")
            .body(())
            .unwrap()
            .into_parts();
        let req = Request::from_parts(&parts);
        assert_eq!((req.path, req.query), ("/", "Action=ListUsers"));
        assert_eq!(host_values(&req), vec![b"iam.amazonaws.com".to_vec()]);
    }

    #[test]
    fn host_header_wins_over_the_authority_and_repeats_keep_their_order() {
        let (parts, ()) = http::Request::builder()
            .uri("https://ignored.example/")
            .header("Host", "iam.amazonaws.com")
            .header("x-a", "1")
            .header("X-A", "2")
            .body(())
            .unwrap()
            .into_parts();
        let req = Request::from_parts(&parts);
        assert_eq!(host_values(&req), vec![b"iam.amazonaws.com".to_vec()]);
        let mut xa = Vec::new();
        req.for_each_value("x-a", |v| xa.push(v.to_vec()));
        assert_eq!(xa, vec![b"1".to_vec(), b"2".to_vec()]);
        let pairs = [("X-A", "1"), ("Host", "h"), ("x-a", "2")];
        assert_eq!(pairs[..].first_value("x-a"), Some(&b"1"[..]));
    }
}
