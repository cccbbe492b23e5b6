//! The `Authorization` header parser, then the whole verification of a
//! request carrying the fuzzed header: no input may panic, and every error
//! must render.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use portcullis_sigv4::{ParsedRequest, Payload, Request, Rules, SecretKey, VerifyParams, parse_authorization};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match parse_authorization(text) {
            Ok(h) => {
                let _ = (h.credential.len(), h.signed_headers.len(), h.signature.len());
            }
            Err(reasons) => {
                for r in reasons {
                    let _ = r.to_string();
                }
            }
        }
    }
    let headers: [(&str, &[u8]); 5] = [
        ("host", b"iam.amazonaws.com"),
        ("x-amz-date", b"20150830T123600Z"),
        ("content-type", b"application/x-www-form-urlencoded; charset=utf-8"),
        ("x-amz-security-token", b"token"),
        ("authorization", data),
    ];
    let request = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers[..],
        authority: None,
    };
    match ParsedRequest::parse(request) {
        Ok(parsed) => {
            let _ = format!("{parsed:?}");
            let rules = Rules::new("iam");
            let result = parsed.verify(VerifyParams {
                secret: &SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                payload: Payload::of_body(b"Action=ListUsers&Version=2010-05-08"),
                now: UNIX_EPOCH + Duration::from_secs(1_440_938_160),
                rules: &rules,
                cache: None,
            });
            if let Err(e) = result {
                let _ = (e.to_string(), e.code(), e.status());
            }
        }
        Err(e) => {
            let _ = (e.to_string(), e.code(), e.status());
        }
    }
});
