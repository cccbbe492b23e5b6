//! The path of one request, one function per step, in order:
//! read → decode → authenticate → authorise → handle → respond (+ audit).

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use crate::audit::AuditRecord;
use crate::authn::{self, Service, Transport};
use crate::authz::{self, Verdict, actions};
use crate::error::{ApiError, ErrorCode};
use crate::ops::RequestCtx;
use crate::ops::{iam::IamService, sts::StsService};
use crate::protocol::generated::{iam, sts};
use crate::protocol::query::QueryParams;
use crate::state::AppState;

/// One decoded operation of either API.
#[derive(Debug)]
pub enum Operation {
    Iam(Box<iam::Operation>),
    Sts(Box<sts::Operation>),
}

impl Operation {
    fn is_read_only(&self) -> bool {
        match self {
            Operation::Iam(op) => op.is_read_only(),
            Operation::Sts(op) => op.is_read_only(),
        }
    }
}

/// A request id in AWS's form, a random (version 4) UUID's 36 characters,
/// kept inline: the response's header and body and the audit line each need
/// it, and copying 36 bytes costs less than a `String` each.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId([u8; uuid::fmt::Hyphenated::LENGTH]);

impl RequestId {
    /// A fresh id.
    ///
    /// Request ids must be unique, not secret, so they come from a small
    /// generator per thread (wyrand, seeded once from the system's
    /// randomness) rather than the cryptographic one, which cost a
    /// twentieth of a GetCallerIdentity.
    #[must_use]
    pub fn new() -> Self {
        use std::cell::Cell;
        thread_local! {
            static STATE: Cell<u64> = Cell::new(rand::random());
        }
        fn next(state: &Cell<u64>) -> u64 {
            let s = state.get().wrapping_add(0xa076_1d64_78bd_642f);
            state.set(s);
            let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
            #[expect(clippy::cast_possible_truncation, reason = "folding 128 bits to 64")]
            let folded = (t as u64) ^ ((t >> 64) as u64);
            folded
        }
        let (high, low) = STATE.with(|state| (next(state), next(state)));
        let bytes = ((u128::from(high) << 64) | u128::from(low)).to_le_bytes();
        // Encoded straight into the array: `to_string` goes through the
        // formatting machinery.
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .encode_lower(&mut text);
        RequestId(text)
    }

    /// The id's text, ASCII: lowercase hex digits and hyphens.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; uuid::fmt::Hyphenated::LENGTH] {
        &self.0
    }

    /// The id's text; [`RequestId::as_bytes`] where bytes serve, as this
    /// checks them.
    #[must_use]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The nil UUID: for records built field by field, which set their own.
impl Default for RequestId {
    fn default() -> Self {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        uuid::Uuid::nil().hyphenated().encode_lower(&mut text);
        RequestId(text)
    }
}

impl std::ops::Deref for RequestId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for RequestId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Handles one Query-protocol request end to end; never fails: every error
/// becomes AWS error XML.
pub async fn handle(
    state: Arc<AppState>,
    parts: http::request::Parts,
    body: Bytes,
    transport: Transport,
) -> Response<Body> {
    let request_id = RequestId::new();
    let mut record = AuditRecord {
        time: crate::protocol::xml::Timestamp(transport.at),
        request_id,
        source_ip: Some(transport.source_ip),
        decision: "Unauthenticated",
        ..AuditRecord::default()
    };
    let result = run(&state, &parts, &body, transport, &request_id, &mut record).await;
    let response = match result {
        Ok(xml) => xml_response(StatusCode::OK, xml, &request_id),
        Err((service, e)) => {
            record.error_code = Some(e.code().as_str());
            if record.action.is_empty() {
                // Refused before its operation was known: recorded with the
                // `Action` it sent. The parameters are decoded again here
                // rather than the text copied for every call.
                record.action = Cow::Owned(
                    decode_params(&parts, &body)
                        .ok()
                        .and_then(|p| p.get("Action").map(str::to_owned))
                        .unwrap_or_default(),
                );
            }
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            xml_response(status, e.to_xml(service.xmlns(), &request_id), &request_id)
        }
    };
    state.audit.record(record);
    response
}

async fn run(
    state: &Arc<AppState>,
    parts: &http::request::Parts,
    body: &[u8],
    transport: Transport,
    request_id: &RequestId,
    record: &mut AuditRecord,
) -> Result<String, (Service, ApiError)> {
    let params = decode_params(parts, body).map_err(|e| (authn::service_of(parts), e))?;
    let action = params.get("Action");

    // Authenticate: every call is signed, but the two federation calls,
    // whose web identity token or SAML assertion is the proof.
    let federation = crate::federation::call_of(action);
    let auth = match federation {
        // Boxed: its future (token checks, key fetches) is kilobytes, which
        // would otherwise make every request's future that large.
        Some(call) => Box::pin(crate::federation::authenticate(
            state,
            call,
            parts,
            body,
            &params,
            transport.at,
        ))
        .await
        .map_err(|e| (Service::Sts, e))?,
        None => match authn::authenticate(state, parts, body, transport.at).await {
            Ok(auth) => auth,
            Err(e) => return Err((authn::service_of(parts), e)),
        },
    };
    let service = auth.service();
    record.service = service.signing_name();
    record.set_caller(auth.caller());
    let fail = |e| (service, e);

    // Decode the operation from the model.
    let Some(action) = action else {
        return Err(fail(ApiError::new(
            ErrorCode::MissingAction,
            "The request must contain the parameter Action.",
        )));
    };
    if let Some(version) = params.get("Version") {
        let expected = match service {
            Service::Iam => iam::VERSION,
            Service::Sts => sts::VERSION,
        };
        if version != expected {
            return Err(fail(ApiError::new(
                ErrorCode::InvalidAction,
                format!("Could not find operation {action} for version {version}"),
            )));
        }
    }
    let op = match service {
        Service::Iam => Operation::Iam(Box::new(
            iam::Operation::decode(action, &params).map_err(fail)?,
        )),
        Service::Sts => Operation::Sts(Box::new(
            sts::Operation::decode(action, &params).map_err(fail)?,
        )),
    };

    // Authorise through the one table.
    let target = match &op {
        Operation::Iam(op) => Some(actions::iam_target(op)),
        Operation::Sts(op) => match actions::sts_target(op) {
            actions::StsAccess::Open => {
                record.action = Cow::Borrowed(op.action());
                None
            }
            actions::StsAccess::Policy(t) => Some(t),
        },
    };
    if let Some(t) = &target {
        record.action = Cow::Borrowed(t.action);
    }
    let mut authorized = match authz::authorize(state, auth, target.as_ref(), transport).await {
        Ok(a) => a,
        Err(denied) => {
            record.decision = "Deny";
            record.resource = denied.resource;
            record.statements = denied.statement.into_iter().collect();
            return Err(fail(match federation {
                Some(call) if denied.error.code() == ErrorCode::AccessDenied => {
                    crate::federation::access_denied(call)
                }
                _ => denied.error,
            }));
        }
    };
    record.resource = authorized.take_resource();
    match authorized.verdict() {
        Verdict::NotRequired => record.decision = "NotRequired",
        Verdict::Root => record.decision = "Root",
        Verdict::Allowed(_) => {
            record.decision = "Allow";
            record.statements = authorized.take_statements();
        }
    }
    drop(target);

    // Handle, then let caches see the change before anyone else asks.
    let read_only = op.is_read_only();
    let ctx = RequestCtx::new(state.clone(), authorized, transport.at);
    let result = match op {
        Operation::Iam(op) => iam::dispatch(&IamService, &ctx, *op, request_id).await,
        Operation::Sts(op) => sts::dispatch(&StsService, &ctx, *op, request_id).await,
    };
    if !read_only {
        state.epoch.advance();
    }
    result.map_err(fail)
}

/// The form parameters: the body of a POST and the query string of any
/// request (AWS accepts both).
fn decode_params<'a>(
    parts: &'a http::request::Parts,
    body: &'a [u8],
) -> Result<QueryParams<'a>, ApiError> {
    let mut params = QueryParams::default();
    if let Some(query) = parts.uri.query() {
        params.extend_text(query);
    }
    if parts.method == http::Method::POST && !body.is_empty() {
        let Ok(body) = std::str::from_utf8(body) else {
            return Err(ApiError::new(
                ErrorCode::MalformedQueryString,
                "The request body is not valid UTF-8.",
            )
            .with_status(400));
        };
        params.extend_text(body);
    }
    Ok(params)
}

const REQUEST_ID_HEADER: http::HeaderName = http::HeaderName::from_static("x-amzn-requestid");

pub fn xml_response(status: StatusCode, xml: String, request_id: &RequestId) -> Response<Body> {
    let mut response = Response::new(Body::from(xml));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_bytes(request_id.as_bytes()) {
        headers.insert(REQUEST_ID_HEADER, id);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let ids: std::collections::HashSet<String> =
            (0..100_000).map(|_| RequestId::new().to_string()).collect();
        assert_eq!(ids.len(), 100_000);
        for id in ids.iter().take(1000) {
            let uuid = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(uuid.get_version_num(), 4, "{id}");
            assert_eq!(id.len(), 36);
        }
        // Another thread's generator starts elsewhere.
        let other: Vec<String> =
            std::thread::spawn(|| (0..1000).map(|_| RequestId::new().to_string()).collect())
                .join()
                .unwrap();
        assert!(other.iter().all(|id| !ids.contains(id)));
        let nil = RequestId::default();
        assert_eq!(nil.as_str(), "00000000-0000-0000-0000-000000000000");
        assert_eq!(nil.as_bytes(), nil.as_str().as_bytes());
    }
}
