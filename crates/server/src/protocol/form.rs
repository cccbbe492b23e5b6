//! `application/x-www-form-urlencoded` text, the body (and query string) of
//! every Query-protocol request, decoded as the WHATWG URL standard says:
//! pairs split at `&` (empty pieces skipped), name and value split at the
//! first `=`, `+` read as a space, `%XX` as the byte `XX` (a `%` without two
//! hex digits after it stays as it is), and bytes that are not UTF-8
//! replaced with U+FFFD.
//!
//! Ours rather than `form_urlencoded::parse` because this runs on every
//! request and nearly every piece has no escape: such a piece should cost a
//! slice of the request, not a walk through the percent decoder and a UTF-8
//! check of its own. A property test holds it to `form_urlencoded`.

use std::borrow::Cow;

use crate::protocol::scan::Specials;

/// The pairs of `form`, in order. Pieces without escapes borrow from it.
pub fn pairs(form: &str) -> Pairs<'_> {
    Pairs {
        rest: form.as_bytes(),
        text: form,
    }
}

/// The pairs of a form that may not be UTF-8. Such a form is rare (the
/// service refuses a body that is not UTF-8 before it decodes one), so it
/// takes `form_urlencoded`, which replaces the bytes after decoding them.
pub fn pairs_of_bytes(form: &[u8]) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    match std::str::from_utf8(form) {
        Ok(text) => pairs(text).collect(),
        Err(_) => form_urlencoded::parse(form).collect(),
    }
}

/// Iterator over the pairs of a UTF-8 form.
#[derive(Debug, Clone)]
pub struct Pairs<'a> {
    /// What is left to read, as bytes for the splitting...
    rest: &'a [u8],
    /// ...and the whole form as text, to borrow pieces from.
    text: &'a str,
}

/// The bytes that end or split a piece, or need decoding.
static SPECIAL: Specials<4> = Specials::new([b'&', b'=', b'%', b'+'], 0);

impl<'a> Iterator for Pairs<'a> {
    type Item = (Cow<'a, str>, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let start = self.text.len() - self.rest.len();
            // One pass over the piece, eight bytes a step between the bytes
            // that matter: where it ends, where its first `=` is, and
            // whether its name or value has anything to decode.
            let (mut len, mut eq, mut escaped) = (0, None, [false; 2]);
            loop {
                let Some(at) = self.rest.get(len..).and_then(|r| SPECIAL.first_in(r)) else {
                    len = self.rest.len();
                    break;
                };
                let at = len + at;
                match self.rest.get(at) {
                    Some(b'&') => {
                        len = at;
                        break;
                    }
                    Some(b'=') if eq.is_none() => eq = Some(at),
                    Some(b'%' | b'+') => escaped[usize::from(eq.is_some())] = true,
                    _ => {}
                }
                len = at + 1;
            }
            self.rest = self.rest.get(len + 1..).unwrap_or_default();
            if len == 0 {
                continue;
            }
            // `&` and `=` are ASCII, so every split falls on a character
            // boundary of the text.
            let piece = self.text.get(start..start + len).unwrap_or_default();
            let (name, value) = match eq {
                Some(eq) => (
                    piece.get(..eq).unwrap_or_default(),
                    piece.get(eq + 1..).unwrap_or_default(),
                ),
                None => (piece, ""),
            };
            let decode = |text: &'a str, escaped: bool| {
                if escaped {
                    Cow::Owned(decode_bytes(text.as_bytes()))
                } else {
                    Cow::Borrowed(text)
                }
            };
            return Some((decode(name, escaped[0]), decode(value, escaped[1])));
        }
    }
}

fn decode_bytes(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).copied().and_then(hex_digit),
                bytes.get(i + 2).copied().and_then(hex_digit),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            _ => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn oracle(form: &[u8]) -> Vec<(String, String)> {
        form_urlencoded::parse(form).into_owned().collect()
    }

    fn ours(form: &[u8]) -> Vec<(String, String)> {
        pairs_of_bytes(form)
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn plain_pairs_are_borrowed() {
        let form = "Action=GetUser&UserName=alice&Version=2010-05-08";
        let got: Vec<_> = pairs(form).collect();
        assert_eq!(got.len(), 3);
        assert!(
            got.iter()
                .all(|(k, v)| matches!(k, Cow::Borrowed(_)) && matches!(v, Cow::Borrowed(_)))
        );
        assert_eq!(got[1], (Cow::from("UserName"), Cow::from("alice")));
    }

    #[test]
    fn escapes_plus_and_edge_cases_decode_as_the_standard_says() {
        assert_eq!(
            ours(b"%23first=%25try%25&a+b=c%2Bd&&=&k&x=%zz%4&y=%e2%82%ac"),
            [
                ("#first", "%try%"),
                ("a b", "c+d"),
                ("", ""),
                ("k", ""),
                ("x", "%zz%4"),
                ("y", "\u{20ac}"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        // A decoded byte that is not UTF-8 becomes U+FFFD.
        assert_eq!(ours(b"a=%ff"), [("a".to_owned(), "\u{fffd}".to_owned())]);
    }

    proptest! {
        #[test]
        fn matches_form_urlencoded(form in proptest::collection::vec(
            prop_oneof![
                Just(b'%'), Just(b'+'), Just(b'&'), Just(b'='),
                Just(b'2'), Just(b'a'), Just(b'F'), Just(b'e'), Just(b'8'),
                Just(0xe2u8), Just(0x82u8), Just(0xacu8), Just(0xffu8),
                any::<u8>(),
            ],
            0..40,
        )) {
            // Raw bytes that are not UTF-8 become U+FFFD first: the
            // decoder reads text (escapes may still decode to bad bytes).
            let text = String::from_utf8_lossy(&form);
            let got: Vec<(String, String)> = pairs(&text)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            prop_assert_eq!(got, oracle(text.as_bytes()));
        }
    }
}
