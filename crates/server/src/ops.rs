//! The operation handlers, one module per family of the IAM and STS APIs.
//!
//! A handler receives a [`RequestCtx`], which only the request pipeline can
//! make and only from an [`Authorized`] request: no handler runs for a
//! caller that was not authenticated and authorised.

pub mod iam;
pub mod sts;

use std::sync::Arc;

use portcullis_store::Store;
use portcullis_store::model::Tag;
use time::OffsetDateTime;

use crate::authn::Caller;
use crate::authz::Authorized;
use crate::error::ApiError;
use crate::protocol::generated::iam as wire;
use crate::protocol::xml::Timestamp;
use crate::state::AppState;

/// What every handler gets besides its input.
#[derive(Debug)]
pub struct RequestCtx {
    state: Arc<AppState>,
    auth: Authorized,
    now: OffsetDateTime,
}

impl RequestCtx {
    /// `now` is the request's one clock reading ([`Transport::at`](crate::authn::Transport)).
    pub(crate) fn new(state: Arc<AppState>, auth: Authorized, now: OffsetDateTime) -> Self {
        RequestCtx { state, auth, now }
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn store(&self) -> &dyn Store {
        self.state.store.as_ref()
    }

    pub fn caller(&self) -> &Caller {
        self.auth.caller()
    }

    pub fn authorized(&self) -> &Authorized {
        &self.auth
    }

    /// The caller's account: every IAM call acts in it.
    pub fn account(&self) -> &str {
        &self.auth.caller().account_id
    }

    /// The time the request is handled at (one value for the whole call).
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }
}

/// `MaxItems` as AWS applies it: 100 when absent.
pub fn max_items(requested: Option<i32>) -> u32 {
    requested
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(portcullis_store::page::DEFAULT_MAX_ITEMS)
}

/// The `IsTruncated` / `Marker` pair of a page.
pub fn truncation<T>(page: &portcullis_store::Page<T>) -> (Option<bool>, Option<String>) {
    (Some(page.is_truncated()), page.next_marker.clone())
}

pub fn ts(t: OffsetDateTime) -> Timestamp {
    Timestamp(t)
}

pub fn wire_tags(tags: &[Tag]) -> Vec<wire::Tag> {
    tags.iter()
        .map(|t| wire::Tag {
            key: t.key.clone(),
            value: t.value.clone(),
        })
        .collect()
}

/// Tags from a request, checked as AWS checks them: at most 50, keys unique
/// case-insensitively, no `aws:` prefix.
pub fn store_tags(tags: Option<&[wire::Tag]>) -> Result<Vec<Tag>, ApiError> {
    let tags = tags.unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    for t in tags {
        if !seen.insert(t.key.to_lowercase()) {
            return Err(ApiError::invalid_input(format!(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive. Duplicate key: {}",
                t.key
            )));
        }
        if t.key.to_lowercase().starts_with("aws:") {
            return Err(ApiError::invalid_input(
                "User-defined tag keys can't start with 'aws:'. This prefix is reserved for AWS tags.",
            ));
        }
    }
    Ok(tags
        .iter()
        .map(|t| Tag {
            key: t.key.clone(),
            value: t.value.clone(),
        })
        .collect())
}

/// Policy documents go out URL-encoded, as AWS returns them.
pub fn encode_document(document: &str) -> String {
    percent_encoding::utf8_percent_encode(document, DOCUMENT_ENCODE_SET).to_string()
}

/// What `urllib.parse.quote` leaves alone, which is what AWS's encoding
/// matches: unreserved characters and `/`.
const DOCUMENT_ENCODE_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Checks a policy document as IAM does when it is written, answering
/// `MalformedPolicyDocument` (or `LimitExceeded` for size) with AWS's
/// message followed by where the problem is.
pub fn validate_document(
    text: &str,
    kind: portcullis_policy::PolicyKind,
    quota: Option<portcullis_policy::SizeQuota>,
) -> Result<(), ApiError> {
    let options = portcullis_policy::ParseOptions { kind, quota };
    match portcullis_policy::parse(text, options) {
        Ok(_) => Ok(()),
        Err(e) => {
            let code = match e.code() {
                portcullis_policy::AwsErrorCode::LimitExceeded => {
                    crate::error::ErrorCode::LimitExceeded
                }
                portcullis_policy::AwsErrorCode::InvalidInput => {
                    crate::error::ErrorCode::InvalidInput
                }
                portcullis_policy::AwsErrorCode::MalformedPolicyDocument => {
                    crate::error::ErrorCode::MalformedPolicyDocument
                }
            };
            let message = match e.diagnostics().first() {
                Some(d) => format!(
                    "{} ({} at {}line {}, column {})",
                    d.aws_message,
                    d.detail,
                    if d.path.is_empty() {
                        String::new()
                    } else {
                        format!("{} ", d.path)
                    },
                    d.position.line,
                    d.position.column
                ),
                None => e.aws_message(),
            };
            Err(ApiError::new(code, message))
        }
    }
}
