//! What this crate reads from an HTTP request: method, raw path, raw query
//! and header values. Nothing here does I/O or owns the body.
//!
//! Paths and queries are taken raw, as they came off the wire, because the
//! canonical request is defined over the encoded form: decoding first would
//! make `/a%2Fb` and `/a/b` sign alike.

/// Read access to request headers by name.
///
/// Implemented for [`http::HeaderMap`] and for lists of `(name, value)` pairs,
/// so a server passes its header map as is and tests pass literal pairs.
pub trait Headers {
    /// Every value of the header `name` (given in ASCII lowercase), in the
    /// order received.
    fn values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [u8]> + 's;

    /// The first value of `name`, if any.
    fn first<'s>(&'s self, name: &'s str) -> Option<&'s [u8]> {
        self.values(name).next()
    }
}

impl Headers for http::HeaderMap {
    fn values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [u8]> + 's {
        // `get_all` with a string that is not a valid header name yields
        // nothing, which is what a missing header means here.
        self.get_all(name).iter().map(http::HeaderValue::as_bytes)
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for [(N, V)] {
    fn values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [u8]> + 's {
        self.iter()
            .filter(move |(n, _)| n.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for Vec<(N, V)> {
    fn values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [u8]> + 's {
        self.as_slice().values(name)
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
        for v in self.headers.values(name) {
            f(v);
            n += 1;
        }
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
