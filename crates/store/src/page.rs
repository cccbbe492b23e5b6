//! Pagination in AWS's `Marker` / `MaxItems` / `IsTruncated` style.
//!
//! A marker is the opaque encoding of the sort key of the last item returned; the next page
//! starts strictly after it. This keeps pages stable under concurrent inserts and deletes: an
//! item is never returned twice, and an item that exists for the whole listing is never skipped,
//! unlike offset-based paging.

use data_encoding::BASE64URL_NOPAD;

use crate::error::{Result, StoreError};

/// AWS's upper bound for `MaxItems`; larger requests are clamped to it.
pub const MAX_ITEMS_LIMIT: u32 = 1000;

/// AWS's default `MaxItems`.
pub const DEFAULT_MAX_ITEMS: u32 = 100;

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// Pass as `marker` to get the next page; `None` on the last page.
    pub next_marker: Option<String>,
}

impl<T> Page<T> {
    /// AWS's `IsTruncated`.
    pub fn is_truncated(&self) -> bool {
        self.next_marker.is_some()
    }
}

/// Separates the parts of a composite sort key inside a marker. Names never contain control
/// characters (the server validates them), so it cannot occur inside a part.
const SEP: char = '\u{1f}';

/// Encodes a sort key (one or more parts) as an opaque marker.
pub(crate) fn encode_marker(parts: &[&str]) -> String {
    let joined = parts.join(&SEP.to_string());
    format!("m1.{}", BASE64URL_NOPAD.encode(joined.as_bytes()))
}

/// Decodes a marker into exactly `n` key parts.
pub(crate) fn decode_marker(marker: &str, n: usize) -> Result<Vec<String>> {
    let invalid = || StoreError::InvalidInput("Invalid Marker.".to_owned());
    let body = marker.strip_prefix("m1.").ok_or_else(invalid)?;
    let bytes = BASE64URL_NOPAD
        .decode(body.as_bytes())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let parts: Vec<String> = text.split(SEP).map(str::to_owned).collect();
    if parts.len() != n {
        return Err(invalid());
    }
    Ok(parts)
}

/// Decodes a single-part marker into the key to start after.
pub(crate) fn after_key(marker: Option<String>) -> Result<Option<String>> {
    let Some(marker) = marker else {
        return Ok(None);
    };
    Ok(decode_marker(&marker, 1)?.into_iter().next())
}

/// Validates `MaxItems` and returns how many rows to fetch (one more than the page, to learn
/// whether another page follows).
pub(crate) fn fetch_limit(max_items: u32) -> Result<i64> {
    if max_items == 0 {
        return Err(StoreError::InvalidInput(
            "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1".to_owned(),
        ));
    }
    Ok(i64::from(max_items.min(MAX_ITEMS_LIMIT)) + 1)
}

/// Cuts the fetched rows to the page size and computes the next marker from the last item kept.
pub(crate) fn finish<T>(mut rows: Vec<T>, max_items: u32, key: impl Fn(&T) -> String) -> Page<T> {
    let size = max_items.clamp(1, MAX_ITEMS_LIMIT) as usize;
    if rows.len() > size {
        rows.truncate(size);
        let next_marker = rows.last().map(&key);
        Page {
            items: rows,
            next_marker,
        }
    } else {
        Page {
            items: rows,
            next_marker: None,
        }
    }
}

/// Maps the items of a page, keeping the marker.
impl<T> Page<T> {
    /// Converts every item, failing on the first error.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            next_marker: self.next_marker,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip() {
        let m = encode_marker(&["role", "alice"]);
        assert_eq!(decode_marker(&m, 2).unwrap(), vec!["role", "alice"]);
        assert!(decode_marker(&m, 1).is_err());
    }

    #[test]
    fn bad_markers_are_invalid_input() {
        for bad in ["", "m1.", "x", "m1.!!!", "m2.YWJj"] {
            let r = decode_marker(bad, 1);
            if bad == "m1." {
                // An empty key is a valid single part.
                assert!(r.is_ok());
                continue;
            }
            assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{bad}");
        }
    }

    #[test]
    fn limits() {
        assert!(fetch_limit(0).is_err());
        assert_eq!(fetch_limit(5).unwrap(), 6);
        assert_eq!(fetch_limit(5000).unwrap(), 1001);
        let p = finish(vec![1, 2, 3], 2, |x| x.to_string());
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(p.next_marker.as_deref(), Some("2"));
        let p = finish(vec![1, 2], 2, |x| x.to_string());
        assert!(!p.is_truncated());
    }
}
