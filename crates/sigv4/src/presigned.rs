//! The presigned (query-string) form: `X-Amz-Algorithm`, `X-Amz-Credential`,
//! `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Signature`,
//! `X-Amz-Security-Token`.

use crate::amz_date::MAX_PRESIGNED_EXPIRES_SECONDS;
use crate::authorization::{check_algorithm, check_credential, check_signed_headers};
use crate::canonical::query_pairs;
use crate::error::{IncompleteReason, IncompleteSignature, SigV4Error};

/// The SigV4 parameters of a presigned URL, percent-decoded, not yet checked
/// against the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedQuery {
    /// `X-Amz-Credential`, shape already checked.
    pub credential: String,
    /// `X-Amz-Date`, as written.
    pub date: String,
    /// `X-Amz-Expires` in seconds, at most 7 days.
    pub expires: Option<u64>,
    /// `X-Amz-SignedHeaders`, shape already checked.
    pub signed_headers: String,
    /// `X-Amz-Signature`, as written.
    pub signature: String,
    /// `X-Amz-Security-Token`.
    pub security_token: Option<String>,
}

const AUTH_PARAMS: [&str; 4] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
];

/// Parses the SigV4 parameters of a raw query string. `Ok(None)` when the
/// query carries no SigV4 parameter at all (the request is not presigned).
pub fn parse_presigned_query(query: &str) -> Result<Option<PresignedQuery>, SigV4Error> {
    // Most requests carry no X-Amz- parameter; skip decoding their query.
    if !query.contains("X-Amz-") {
        return Ok(None);
    }
    let pairs = query_pairs(query)?;
    let get = |name: &str| -> Result<Option<String>, SigV4Error> {
        pairs
            .iter()
            .find(|(k, _)| k == name.as_bytes())
            .map(|(_, v)| {
                String::from_utf8(v.clone()).map_err(|_| {
                    SigV4Error::MalformedQueryString(format!(
                        "Query-string parameter '{name}' is not valid UTF-8."
                    ))
                })
            })
            .transpose()
    };
    if !AUTH_PARAMS
        .iter()
        .any(|name| pairs.iter().any(|(k, _)| k == name.as_bytes()))
    {
        return Ok(None);
    }

    let algorithm = get("X-Amz-Algorithm")?;
    let credential = get("X-Amz-Credential")?;
    let date = get("X-Amz-Date")?;
    let signed_headers = get("X-Amz-SignedHeaders")?;
    let signature = get("X-Amz-Signature")?;
    let expires = get("X-Amz-Expires")?;
    let security_token = get("X-Amz-Security-Token")?;

    if let Some(alg) = &algorithm {
        check_algorithm(alg).map_err(|r| incomplete(vec![r]))?;
    }
    let mut problems = Vec::new();
    for (value, name) in [
        (&algorithm, "X-Amz-Algorithm"),
        (&credential, "X-Amz-Credential"),
        (&signature, "X-Amz-Signature"),
        (&signed_headers, "X-Amz-SignedHeaders"),
        (&date, "X-Amz-Date"),
    ] {
        if value.is_none() {
            problems.push(IncompleteReason::MissingQueryParameter(name));
        }
    }
    if let Some(c) = &credential
        && let Err(r) = check_credential(c)
    {
        problems.push(r);
    }
    if let Some(s) = &signed_headers
        && let Err(r) = check_signed_headers(s)
    {
        problems.push(r);
    }
    let expires = expires.map(|e| parse_expires(&e)).transpose()?;
    match (credential, date, signed_headers, signature) {
        (Some(credential), Some(date), Some(signed_headers), Some(signature))
            if problems.is_empty() =>
        {
            Ok(Some(PresignedQuery {
                credential,
                date,
                expires,
                signed_headers,
                signature,
                security_token,
            }))
        }
        _ => Err(incomplete(problems)),
    }
}

fn incomplete(reasons: Vec<IncompleteReason>) -> SigV4Error {
    SigV4Error::IncompleteSignature(IncompleteSignature::new(reasons, None))
}

fn parse_expires(value: &str) -> Result<u64, SigV4Error> {
    if value.starts_with('-') && value.len() > 1 && value[1..].bytes().all(|c| c.is_ascii_digit()) {
        return Err(SigV4Error::AuthorizationQueryParametersError(
            "X-Amz-Expires must be non-negative".into(),
        ));
    }
    let secs = if !value.is_empty() && value.bytes().all(|c| c.is_ascii_digit()) {
        // All digits: only an overflow can fail, and that is over a week too.
        value.parse::<u64>().unwrap_or(u64::MAX)
    } else {
        return Err(SigV4Error::AuthorizationQueryParametersError(
            "X-Amz-Expires should be a number".into(),
        ));
    };
    if secs > MAX_PRESIGNED_EXPIRES_SECONDS {
        return Err(SigV4Error::AuthorizationQueryParametersError(format!(
            "X-Amz-Expires must be less than a week (in seconds) that is, the given X-Amz-Expires must be less than {MAX_PRESIGNED_EXPIRES_SECONDS} seconds"
        )));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d";

    #[test]
    fn parses_and_decodes_the_parameters() {
        let p = parse_presigned_query(QUERY).unwrap().unwrap();
        assert_eq!(
            p.credential,
            "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
        );
        assert_eq!(p.date, "20150830T123600Z");
        assert_eq!(p.expires, Some(3600));
        assert_eq!(p.signed_headers, "host");
        assert_eq!(p.security_token, None);
    }

    #[test]
    fn plain_queries_are_not_presigned() {
        assert_eq!(parse_presigned_query("").unwrap(), None);
        assert_eq!(
            parse_presigned_query("Action=ListUsers&Version=2010-05-08").unwrap(),
            None
        );
        assert_eq!(parse_presigned_query("X-Amz-Foo=1").unwrap(), None);
    }

    #[test]
    fn names_missing_parameters() {
        let q = QUERY.replace("&X-Amz-Date=20150830T123600Z", "");
        let err = parse_presigned_query(&q).unwrap_err();
        assert_eq!(err.code(), "IncompleteSignature");
        assert_eq!(
            err.to_string(),
            "AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."
        );
    }

    #[test]
    fn expires_is_bounded_to_a_week() {
        let week = QUERY.replace("X-Amz-Expires=3600", "X-Amz-Expires=604800");
        assert_eq!(
            parse_presigned_query(&week).unwrap().unwrap().expires,
            Some(604_800)
        );
        for (bad, message) in [
            ("604801", "must be less than a week"),
            ("99999999999999999999999", "must be less than a week"),
            ("-1", "non-negative"),
            ("1h", "should be a number"),
            ("", "should be a number"),
        ] {
            let q = QUERY.replace("X-Amz-Expires=3600", &format!("X-Amz-Expires={bad}"));
            let err = parse_presigned_query(&q).unwrap_err();
            assert_eq!(err.code(), "AuthorizationQueryParametersError", "{bad}");
            assert!(err.to_string().contains(message), "{bad}: {err}");
        }
    }

    #[test]
    fn rejects_sigv4a() {
        let q = QUERY.replace(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256",
        );
        let err = parse_presigned_query(&q).unwrap_err();
        assert!(err.to_string().contains("SigV4A"), "{err}");
    }
}
