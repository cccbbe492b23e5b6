//! Every rejection, with its AWS code, HTTP status and message. The request
//! is the suite's `get-vanilla` (signed by AKIDEXAMPLE at 20150830T123600Z)
//! or a variation of it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use portcullis_sigv4::{
    IncompleteReason, ParsedRequest, Payload, Request, Rules, SecretKey, SigV4Error, SigningKey,
    VerifyParams,
};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SIGNED_AT: u64 = 1_440_938_160; // 20150830T123600Z
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
     SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
const PRESIGNED_QUERY: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d";

fn vanilla_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", AUTHORIZATION),
    ]
}

fn check(
    headers: &[(&str, &str)],
    query: &str,
    now_offset: i64,
    rules: &Rules,
) -> Result<portcullis_sigv4::Authenticated, SigV4Error> {
    let request = Request {
        method: "GET",
        path: "/",
        query,
        headers,
        authority: None,
    };
    let now = UNIX_EPOCH + Duration::from_secs(SIGNED_AT.checked_add_signed(now_offset).unwrap());
    ParsedRequest::parse(request)?.verify(VerifyParams {
        secret: &SecretKey::new(SECRET),
        payload: Payload::of_body(b""),
        now,
        rules,
        cache: None,
    })
}

fn service() -> Rules {
    Rules::new("service")
}

#[test]
fn unsigned_request_is_missing_authentication_token() {
    let err = check(&[("Host", "example.amazonaws.com")], "", 0, &service()).unwrap_err();
    assert_eq!(
        (err.code(), err.status().as_u16()),
        ("MissingAuthenticationToken", 403)
    );
    assert_eq!(err.to_string(), "Request is missing Authentication Token");
}

#[test]
fn missing_date_is_an_incomplete_signature_that_echoes_the_header() {
    let headers = [
        ("Host", "example.amazonaws.com"),
        ("Authorization", AUTHORIZATION),
    ];
    let err = check(&headers, "", 0, &service()).unwrap_err();
    assert_eq!(
        (err.code(), err.status().as_u16()),
        ("IncompleteSignature", 400)
    );
    assert_eq!(
        err.to_string(),
        format!(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
             Authorization={AUTHORIZATION}"
        )
    );
}

#[test]
fn every_missing_component_is_named() {
    let headers = [
        ("Host", "example.amazonaws.com"),
        ("Authorization", "AWS4-HMAC-SHA256 SignedHeaders=host"),
    ];
    let err = check(&headers, "", 0, &service()).unwrap_err();
    let SigV4Error::IncompleteSignature(inc) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(inc.reasons().len(), 3);
    assert_eq!(
        err.to_string(),
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. \
         Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization=AWS4-HMAC-SHA256 SignedHeaders=host"
    );
}

#[test]
fn malformed_date_is_named() {
    let mut headers = vanilla_headers();
    headers[1].1 = "2015-08-30T12:36:00Z";
    let err = check(&headers, "", 0, &service()).unwrap_err();
    assert_eq!(err.code(), "IncompleteSignature");
    assert_eq!(
        err.to_string(),
        "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"
    );
}

#[test]
fn sigv4a_is_rejected_clearly() {
    let v4a = AUTHORIZATION.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256");
    let headers = [
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", &v4a),
    ];
    let err = check(&headers, "", 0, &service()).unwrap_err();
    let SigV4Error::IncompleteSignature(inc) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(inc.reasons(), &[IncompleteReason::SigV4a]);
    assert!(err.to_string().contains("SigV4A"), "{err}");
}

#[test]
fn fifteen_minutes_of_skew_either_way_and_no_more() {
    assert!(check(&vanilla_headers(), "", 15 * 60, &service()).is_ok());
    assert!(check(&vanilla_headers(), "", -15 * 60, &service()).is_ok());

    let late = check(&vanilla_headers(), "", 15 * 60 + 1, &service()).unwrap_err();
    assert_eq!(
        (late.code(), late.status().as_u16()),
        ("SignatureDoesNotMatch", 403)
    );
    assert_eq!(
        late.to_string(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
    );
    let early = check(&vanilla_headers(), "", -15 * 60 - 1, &service()).unwrap_err();
    assert_eq!(
        early.to_string(),
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)"
    );
}

#[test]
fn presigned_url_expires_after_x_amz_expires() {
    let host = [("Host", "example.amazonaws.com")];
    assert!(check(&host, PRESIGNED_QUERY, 3600, &service()).is_ok());
    let err = check(&host, PRESIGNED_QUERY, 3601, &service()).unwrap_err();
    assert_eq!((err.code(), err.status().as_u16()), ("AccessDenied", 403));
    assert_eq!(err.to_string(), "Request has expired");
    // Dated in the future beyond the skew: not yet valid.
    let err = check(&host, PRESIGNED_QUERY, -15 * 60 - 1, &service()).unwrap_err();
    assert!(
        err.to_string().starts_with("Signature not yet current"),
        "{err}"
    );
}

#[test]
fn scope_must_name_this_service_and_region() {
    let err = check(
        &vanilla_headers(),
        "",
        0,
        &Rules::new("iam").region("eu-west-1"),
    )
    .unwrap_err();
    assert_eq!(
        (err.code(), err.status().as_u16()),
        ("SignatureDoesNotMatch", 403)
    );
    assert_eq!(
        err.to_string(),
        "Credential should be scoped to a valid region, not 'us-east-1'. \
         Credential should be scoped to correct service: 'iam'."
    );
}

#[test]
fn scope_date_must_be_the_request_date() {
    let auth = AUTHORIZATION.replace("/20150830/", "/20150829/");
    let headers = [
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", &auth),
    ];
    let err = check(&headers, "", 0, &service()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
         '20150829' != '20150830', from '20150830T123600Z'."
    );
}

#[test]
fn host_must_be_signed() {
    let auth = AUTHORIZATION.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date");
    let headers = [
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", &auth),
    ];
    let err = check(&headers, "", 0, &service()).unwrap_err();
    assert_eq!(err.code(), "SignatureDoesNotMatch");
    assert_eq!(
        err.to_string(),
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    );
}

#[test]
fn two_auth_mechanisms_at_once_are_refused() {
    let err = check(&vanilla_headers(), PRESIGNED_QUERY, 0, &service()).unwrap_err();
    assert_eq!(
        (err.code(), err.status().as_u16()),
        ("InvalidArgument", 400)
    );
}

#[test]
fn a_signature_that_is_not_hex_fails_with_the_computation_shown() {
    let auth = AUTHORIZATION.replace("5fa00fa3", "zzzzzzzz");
    let headers = [
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", &auth),
    ];
    let err = check(&headers, "", 0, &service()).unwrap_err();
    assert_eq!(err.code(), "SignatureDoesNotMatch");
    assert!(
        err.to_string()
            .contains("The Canonical String for this request should have been")
    );
}

#[test]
fn date_header_stands_in_for_x_amz_date() {
    // Sign with the HTTP Date header only: compute the signature for this
    // request with the crate's own stages, then verify the signed request.
    let unsigned = [
        ("Host", "example.amazonaws.com"),
        ("Date", "Sun, 30 Aug 2015 12:36:00 GMT"),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=date;host, Signature=00",
        ),
    ];
    let req = |headers| Request {
        method: "GET",
        path: "/",
        query: "",
        headers,
        authority: None,
    };
    let parsed = ParsedRequest::parse(req(&unsigned[..])).unwrap();
    assert_eq!(parsed.date().as_str(), "20150830T123600Z");
    let canonical = parsed
        .canonical_request(Payload::of_body(b""), &service())
        .unwrap();
    assert!(
        canonical
            .to_string()
            .contains("\ndate:Sun, 30 Aug 2015 12:36:00 GMT\n")
    );
    let sts = parsed.string_to_sign(&canonical);
    assert!(sts.to_string().contains("\n20150830T123600Z\n"));
    let key = SigningKey::derive(&SecretKey::new(SECRET), "20150830", "us-east-1", "service");
    let sig: String = key
        .sign(sts.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let auth = unsigned[2]
        .1
        .replace("Signature=00", &format!("Signature={sig}"));
    let signed = [unsigned[0], unsigned[1], ("Authorization", auth.as_str())];
    assert!(check(&signed, "", 0, &service()).is_ok());
}

#[test]
fn server_raised_errors_carry_aws_codes_and_messages() {
    let unknown = SigV4Error::InvalidClientTokenId;
    assert_eq!(
        (unknown.code(), unknown.status().as_u16()),
        ("InvalidClientTokenId", 403)
    );
    assert_eq!(
        unknown.to_string(),
        "The security token included in the request is invalid."
    );
    let expired = SigV4Error::ExpiredToken;
    assert_eq!(
        (expired.code(), expired.status().as_u16()),
        ("ExpiredToken", 403)
    );
    assert_eq!(
        expired.to_string(),
        "The security token included in the request is expired"
    );
}

#[test]
fn session_tokens_never_appear_in_debug_or_errors() {
    let token = "SESSIONTOKENSECRETVALUE";
    let headers = [
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
        ("X-Amz-Security-Token", token),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=00",
        ),
    ];
    let request = Request {
        method: "GET",
        path: "/",
        query: "",
        headers: &headers[..],
        authority: None,
    };
    let parsed = ParsedRequest::parse(request).unwrap();
    assert_eq!(parsed.session_token(), Some(token));
    assert!(!format!("{parsed:?}").contains(token));
    let err = parsed
        .verify(VerifyParams {
            secret: &SecretKey::new(SECRET),
            payload: Payload::of_body(b""),
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(SIGNED_AT),
            rules: &service(),
            cache: None,
        })
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("x-amz-security-token:** redacted **"),
        "{message}"
    );
    assert!(!message.contains(token), "{message}");
    assert!(!format!("{err:?}").contains(token));
}
