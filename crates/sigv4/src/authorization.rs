//! The `Authorization` header:
//! `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request,
//! SignedHeaders=host;x-amz-date, Signature=<64 hex>`.

use crate::error::{Component, IncompleteReason};
use crate::signature::{Signature, decode_hex32};
use crate::string_to_sign::ALGORITHM;
use crate::swar;

/// The SigV4A algorithm name, rejected with its own message.
pub(crate) const SIGV4A_ALGORITHM: &str = "AWS4-ECDSA-P256-SHA256";

/// The components of an `Authorization` header, not yet checked against the
/// request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizationHeader<'a> {
    /// `keyid/date/region/service/aws4_request`, shape already checked.
    pub credential: &'a str,
    /// `host;x-amz-date;…`, shape already checked.
    pub signed_headers: &'a str,
    /// The claimed signature, as written (validity is checked by comparison).
    pub signature: &'a str,
}

/// Parses an `Authorization` header value. On failure, returns every problem
/// found, in the order AWS lists them.
pub fn parse_authorization(value: &str) -> Result<AuthorizationHeader<'_>, Vec<IncompleteReason>> {
    // Byte-level scanning: every verified request comes through here, and
    // the separators are all ASCII, so slicing at them keeps `str` bounds.
    let value = trim_sp(value);
    let (algorithm, rest) = match value.bytes().position(|b| b == b' ' || b == b'\t') {
        Some(i) => (
            value.get(..i).unwrap_or(""),
            value.get(i + 1..).unwrap_or(""),
        ),
        None => (value, ""),
    };
    check_algorithm(algorithm).map_err(|r| vec![r])?;

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    let mut problems = Vec::new();
    let bytes = rest.as_bytes();
    let mut start = 0;
    while start <= bytes.len() {
        let end = bytes
            .get(start..)
            .and_then(|tail| tail.iter().position(|&b| b == b','))
            .map_or(bytes.len(), |i| start + i);
        let part = trim_sp(rest.get(start..end).unwrap_or(""));
        start = end + 1;
        if part.is_empty() {
            continue;
        }
        let Some(eq) = part.bytes().position(|b| b == b'=') else {
            problems.push(IncompleteReason::NotKeyValue(part.to_owned()));
            continue;
        };
        let key = trim_sp(part.get(..eq).unwrap_or(""));
        let val = trim_sp(part.get(eq + 1..).unwrap_or(""));
        let (slot, component) = match key {
            "Credential" => (&mut credential, Component::Credential),
            "SignedHeaders" => (&mut signed_headers, Component::SignedHeaders),
            "Signature" => (&mut signature, Component::Signature),
            // AWS ignores parameters it does not know.
            _ => continue,
        };
        if slot.replace(val).is_some() {
            problems.push(IncompleteReason::DuplicateComponent(component));
        }
    }
    if credential.is_none() {
        problems.push(IncompleteReason::MissingComponent(Component::Credential));
    }
    if signature.is_none() {
        problems.push(IncompleteReason::MissingComponent(Component::Signature));
    }
    if signed_headers.is_none() {
        problems.push(IncompleteReason::MissingComponent(Component::SignedHeaders));
    }
    if let Some(c) = credential
        && let Err(r) = check_credential(c)
    {
        problems.push(r);
    }
    if let Some(s) = signed_headers
        && let Err(r) = check_signed_headers(s)
    {
        problems.push(r);
    }
    match (credential, signed_headers, signature) {
        (Some(credential), Some(signed_headers), Some(signature)) if problems.is_empty() => {
            Ok(AuthorizationHeader {
                credential,
                signed_headers,
                signature,
            })
        }
        _ => Err(problems),
    }
}

/// An `Authorization` header in the exact layout the AWS SDKs and CLI write,
/// `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=<64 hex>`
/// (the separators `, ` or `,`), read in one pass over the raw bytes.
pub(crate) struct CommonLayout<'a> {
    pub credential: &'a str,
    /// Where the four `/` of the credential are.
    pub slashes: [usize; 4],
    pub signed_headers: &'a str,
    pub signature: Signature,
}

/// Reads the header when it is in the common layout and valid, `None`
/// otherwise. Whatever this accepts, [`parse_authorization`] accepts with the
/// same components; everything else (another order, other spacing, unknown
/// parameters, any problem) is left to it, so the two cannot disagree.
pub(crate) fn parse_common_layout(raw: &[u8]) -> Option<CommonLayout<'_>> {
    let rest = raw.strip_prefix(b"AWS4-HMAC-SHA256 Credential=")?;

    // Credential: ASCII up to the first comma, exactly four slashes, no blank
    // at either end (the general parser would trim it). Eight bytes a step.
    let mut slashes = [0usize; 4];
    let mut n = 0;
    let mut at = 0;
    let end = loop {
        let Some(x) = swar::word(rest, at) else {
            // Fewer than eight bytes left: the signature cannot follow.
            return None;
        };
        if x & 0x8080_8080_8080_8080 != 0 {
            return None;
        }
        let comma = swar::eq_mask(x, b',');
        let mut slash = swar::eq_mask(x, b'/');
        if comma != 0 {
            // Only the slashes before the first comma.
            slash &= (comma & comma.wrapping_neg()) - 1;
        }
        while slash != 0 {
            *slashes.get_mut(n)? = at + swar::first(slash);
            n += 1;
            slash &= slash - 1;
        }
        if comma != 0 {
            break at + swar::first(comma);
        }
        at += 8;
    };
    let credential = rest.get(..end)?;
    if n != 4 || is_blank(credential.first()) || is_blank(credential.last()) {
        return None;
    }
    let credential_end = raw.len() - rest.len() + end;
    let rest = after_separator(rest.get(end..)?)?.strip_prefix(b"SignedHeaders=")?;
    let signed_headers_start = raw.len() - rest.len();

    // Signed headers: what `check_signed_headers` accepts, up to the comma,
    // checked as the comma is looked for.
    let end = swar::signed_headers_end(rest)?;
    let signed_headers = rest.get(..end)?;
    if signed_headers.first().is_none_or(|&b| b == b';') || signed_headers.last() == Some(&b';') {
        return None;
    }
    let signature = after_separator(rest.get(end..)?)?.strip_prefix(b"Signature=")?;
    // Both are ASCII (checked above): one UTF-8 check of the text from the
    // credential to the end of the signed headers, sliced at ASCII bytes.
    let credential_start = credential_end - credential.len();
    let span = std::str::from_utf8(raw.get(credential_start..signed_headers_start + end)?).ok()?;
    Some(CommonLayout {
        credential: span.get(..credential.len())?,
        slashes,
        signed_headers: span.get(signed_headers_start - credential_start..)?,
        signature: Signature::from_bytes(decode_hex32(signature)?),
    })
}

fn is_blank(b: Option<&u8>) -> bool {
    matches!(b, Some(b' ' | b'\t'))
}

/// `rest` with its leading `, ` or `,` removed.
fn after_separator(rest: &[u8]) -> Option<&[u8]> {
    let rest = rest.strip_prefix(b",")?;
    Some(rest.strip_prefix(b" ").unwrap_or(rest))
}

fn trim_sp(s: &str) -> &str {
    let b = s.as_bytes();
    let is_sp = |c: &u8| *c == b' ' || *c == b'\t';
    let start = b.iter().position(|c| !is_sp(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_sp(c)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or("")
}

pub(crate) fn check_algorithm(algorithm: &str) -> Result<(), IncompleteReason> {
    if algorithm == ALGORITHM {
        Ok(())
    } else if algorithm == SIGV4A_ALGORITHM {
        Err(IncompleteReason::SigV4a)
    } else {
        Err(IncompleteReason::UnsupportedAlgorithm(algorithm.to_owned()))
    }
}

/// Exactly five `/`-separated elements; what they say is checked at
/// verification, against the request and the service.
pub(crate) fn check_credential(credential: &str) -> Result<(), IncompleteReason> {
    if credential.bytes().filter(|&b| b == b'/').count() == 4 {
        Ok(())
    } else {
        Err(IncompleteReason::MalformedCredential(credential.to_owned()))
    }
}

pub(crate) fn check_signed_headers(value: &str) -> Result<(), IncompleteReason> {
    // Non-empty names of visible, non-uppercase ASCII, separated by single
    // semicolons.
    let mut previous = b';';
    let mut ok = !value.is_empty();
    for b in value.bytes() {
        ok &= if b == b';' {
            previous != b';'
        } else {
            b.is_ascii_graphic() && !b.is_ascii_uppercase()
        };
        previous = b;
    }
    if ok && previous != b';' {
        Ok(())
    } else {
        Err(IncompleteReason::MalformedSignedHeaders(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                        SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    #[test]
    fn parses_the_components() {
        let h = parse_authorization(GOOD).unwrap();
        assert_eq!(
            h.credential,
            "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
        );
        assert_eq!(h.signed_headers, "host;x-amz-date");
        assert_eq!(h.signature.len(), 64);
        // No spaces after commas, as some clients send.
        let compact = GOOD.replace(", ", ",");
        assert_eq!(parse_authorization(&compact).unwrap(), h);
    }

    #[test]
    fn names_every_missing_component_in_aws_order() {
        let err = parse_authorization("AWS4-HMAC-SHA256 SignedHeaders=host").unwrap_err();
        assert_eq!(
            err,
            vec![
                IncompleteReason::MissingComponent(Component::Credential),
                IncompleteReason::MissingComponent(Component::Signature),
            ]
        );
        assert_eq!(
            err[0].to_string(),
            "Authorization header requires 'Credential' parameter."
        );
    }

    #[test]
    fn rejects_sigv4a_and_unknown_algorithms_by_name() {
        let v4a = GOOD.replace(ALGORITHM, "AWS4-ECDSA-P256-SHA256");
        assert_eq!(
            parse_authorization(&v4a).unwrap_err(),
            vec![IncompleteReason::SigV4a]
        );
        let v2 = parse_authorization("AWS AKIDEXAMPLE:c2lnbmF0dXJl").unwrap_err();
        assert_eq!(
            v2,
            vec![IncompleteReason::UnsupportedAlgorithm("AWS".into())]
        );
        assert!(
            v2[0]
                .to_string()
                .starts_with("Unsupported AWS 'algorithm': 'AWS'")
        );
    }

    #[test]
    fn rejects_malformed_parts() {
        let err = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=Host, Signature=x, junk",
        )
        .unwrap_err();
        assert!(err.contains(&IncompleteReason::NotKeyValue("junk".into())));
        assert!(err.contains(&IncompleteReason::MalformedCredential("a/b/c".into())));
        assert!(err.contains(&IncompleteReason::MalformedSignedHeaders("Host".into())));
        let dup = format!("{GOOD}, Signature=00");
        assert_eq!(
            parse_authorization(&dup).unwrap_err(),
            vec![IncompleteReason::DuplicateComponent(Component::Signature)]
        );
    }

    /// What the general parser makes of `value`, in the fast path's terms.
    fn general(value: &[u8]) -> Option<(String, String, [u8; 32])> {
        let text = std::str::from_utf8(value).ok()?;
        let h = parse_authorization(text).ok()?;
        let sig = decode_hex32(h.signature.as_bytes())?;
        Some((h.credential.to_owned(), h.signed_headers.to_owned(), sig))
    }

    fn common(value: &[u8]) -> Option<(String, String, [u8; 32])> {
        parse_common_layout(value).map(|c| {
            // The slash positions are the credential's.
            let found: Vec<usize> = c.credential.match_indices('/').map(|(i, _)| i).collect();
            assert_eq!(found, c.slashes.to_vec(), "{}", c.credential);
            (
                c.credential.to_owned(),
                c.signed_headers.to_owned(),
                *c.signature.as_bytes(),
            )
        })
    }

    #[test]
    fn common_layout_is_read_as_the_general_parser_reads_it() {
        let compact = GOOD.replace(", ", ",");
        for value in [GOOD, compact.as_str()] {
            assert!(common(value.as_bytes()).is_some(), "{value}");
            assert_eq!(common(value.as_bytes()), general(value.as_bytes()));
        }
    }

    #[test]
    fn anything_off_the_common_layout_is_left_to_the_general_parser() {
        let sig = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        for value in [
            // Other order, spacing, case, or extra parameters.
            format!("AWS4-HMAC-SHA256 SignedHeaders=host, Credential=a/b/c/d/e, Signature={sig}"),
            format!("AWS4-HMAC-SHA256  Credential=a/b/c/d/e, SignedHeaders=host, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 Credential=a/b/c/d/e ,SignedHeaders=host, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 Credential=a/b/c/d/e,  SignedHeaders=host, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature={sig} "),
            format!(" AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature={sig}"),
            format!(
                "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature={sig}, X=1"
            ),
            format!("AWS4-HMAC-SHA256 Credential= a/b/c/d/e, SignedHeaders=host, Signature={sig}"),
            // Problems the general parser names.
            format!("AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f, SignedHeaders=host, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=Host, Signature={sig}"),
            format!(
                "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host;;x, Signature={sig}"
            ),
            format!("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host;, Signature={sig}"),
            format!("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=, Signature={sig}"),
            format!(
                "AWS4-HMAC-SHA256 Credential=a/b/c/d/\u{e9}, SignedHeaders=host, Signature={sig}"
            ),
            // A signature that is not 64 hex digits verifies to a mismatch.
            "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00".to_owned(),
            format!("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature={sig}0"),
            format!(
                "AWS4-ECDSA-P256-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature={sig}"
            ),
        ] {
            assert!(common(value.as_bytes()).is_none(), "{value}");
        }
    }

    proptest::proptest! {
        /// Any change to a header in the common layout either keeps it in
        /// that layout, read as the general parser reads it, or leaves it to
        /// the general parser.
        #[test]
        fn common_layout_never_disagrees_with_the_general_parser(
            at in 0usize..GOOD.len(),
            byte in proptest::prelude::any::<u8>(),
            insert in proptest::prelude::any::<bool>(),
        ) {
            let mut value = GOOD.as_bytes().to_vec();
            if insert {
                value.insert(at, byte);
            } else {
                value[at] = byte;
            }
            if let Some(fast) = common(&value) {
                proptest::prop_assert_eq!(Some(fast), general(&value));
            }
        }
    }
}
