//! The presigned query parser, then the whole verification of a request with
//! the fuzzed query string (canonical query encoding included): no input may
//! panic, and every error must render.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use portcullis_sigv4::{ParsedRequest, Payload, Request, Rules, SecretKey, VerifyParams, parse_presigned_query};

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    match parse_presigned_query(query) {
        Ok(Some(q)) => {
            let _ = format!("{q:?}");
        }
        Ok(None) => {}
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let headers = [("host", "s3.amazonaws.com"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")];
    for (path, service) in [("/bucket/key", "s3"), ("/", "sts")] {
        let request = Request {
            method: "GET",
            path,
            query,
            headers: &headers[..],
            authority: None,
        };
        match ParsedRequest::parse(request) {
            Ok(parsed) => {
                let rules = Rules::new(service);
                let result = parsed.verify(VerifyParams {
                    secret: &SecretKey::new("secret"),
                    payload: Payload::NotRead,
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
    }
});
