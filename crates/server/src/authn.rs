//! Authentication: who signed this request?
//!
//! Every request must carry a SigV4 signature (header or presigned query).
//! The access key id names a key in the store; its secret is decrypted with
//! the master key and the signature verified by `portcullis-sigv4`. The
//! result, [`Authenticated`], can only be made here: the authoriser takes
//! it, so no handler runs for an unauthenticated caller.
//!
//! Keys are cached per epoch (see `authz::cache`): a deactivated or deleted
//! key, or a deleted user, is refused on the very next request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use portcullis_sigv4::{
    ParsedRequest, Payload, Request, Rules, SecretKey, SigV4Error, VerifyParams,
};
use portcullis_store::model::{AccessKeyStatus, KeyPrincipal};
use time::OffsetDateTime;

use crate::authz::cache::EpochCache;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The API a request is for, told apart by its credential scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Iam,
    Sts,
}

impl Service {
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Iam => "iam",
            Service::Sts => "sts",
        }
    }

    pub fn xmlns(self) -> &'static str {
        match self {
            Service::Iam => crate::protocol::generated::iam::XMLNS,
            Service::Sts => crate::protocol::generated::sts::XMLNS,
        }
    }

    fn from_signing_name(name: &str) -> Option<Self> {
        match name {
            "iam" => Some(Service::Iam),
            "sts" => Some(Service::Sts),
            _ => None,
        }
    }
}

/// The identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The account's root user: bound by no identity policy.
    Root,
    /// An IAM user.
    User {
        id: String,
        name: String,
        path: String,
    },
}

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account_id: String,
    /// `arn:aws:iam::ACCOUNT:root` or the user's ARN.
    pub arn: String,
    /// `aws:userid`: the account id for root, the `AIDA…` id for a user.
    pub user_id: String,
    pub identity: Identity,
    pub access_key_id: String,
}

impl Caller {
    pub fn is_root(&self) -> bool {
        matches!(self.identity, Identity::Root)
    }

    /// The user's name for a user, `None` for root.
    pub fn user_name(&self) -> Option<&str> {
        match &self.identity {
            Identity::User { name, .. } => Some(name),
            Identity::Root => None,
        }
    }
}

/// Proof that a request's signature verified, with what authentication
/// learnt about it.
#[derive(Debug, Clone)]
pub struct Authenticated {
    caller: Arc<Caller>,
    service: Service,
    region: String,
}

impl Authenticated {
    pub fn caller(&self) -> &Arc<Caller> {
        &self.caller
    }

    pub fn service(&self) -> Service {
        self.service
    }

    /// The region of the credential scope (`aws:RequestedRegion`).
    pub fn region(&self) -> &str {
        &self.region
    }
}

/// What the key cache holds for one access key.
#[derive(Debug)]
pub struct CachedKey {
    caller: Arc<Caller>,
    secret: SecretKey,
}

pub type KeyCache = EpochCache<String, Arc<CachedKey>>;

/// The facts about the connection that a request's context needs.
#[derive(Debug, Clone, Copy)]
pub struct Transport {
    pub source_ip: IpAddr,
    pub secure: bool,
}

/// The service the request is for, read from the signature's credential
/// scope before anything is verified, so that even an authentication
/// failure is answered in the right XML namespace.
pub fn service_of(parts: &http::request::Parts) -> Service {
    ParsedRequest::parse(Request::from_parts(parts))
        .ok()
        .and_then(|p| Service::from_signing_name(p.scope().service))
        .unwrap_or(Service::Iam)
}

/// Verifies the request's signature and finds its caller.
pub async fn authenticate(
    state: &AppState,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Authenticated, ApiError> {
    let parsed = ParsedRequest::parse(Request::from_parts(parts)).map_err(sigv4_error)?;
    let scope = parsed.scope();
    let Some(service) = Service::from_signing_name(scope.service) else {
        return Err(ApiError::new(
            ErrorCode::SignatureDoesNotMatch,
            format!(
                "Credential should be scoped to correct service: 'iam' or 'sts', not '{}'.",
                scope.service
            ),
        ));
    };
    let region = scope.region.to_owned();
    let key = resolve_key(state, parsed.access_key_id()).await?;
    let now = state.clock.now();
    let rules = Rules::new(service.signing_name());
    parsed
        .verify(VerifyParams {
            secret: &key.secret,
            payload: Payload::of_body(body),
            now: to_system_time(now),
            rules: &rules,
            cache: Some(&state.signing_keys),
        })
        .map_err(sigv4_error)?;
    record_use(state, &key.caller.access_key_id, now, service, &region);
    Ok(Authenticated {
        caller: key.caller.clone(),
        service,
        region,
    })
}

async fn resolve_key(state: &AppState, access_key_id: &str) -> Result<Arc<CachedKey>, ApiError> {
    let epoch = state.epoch.current();
    if let Some(hit) = state.keys.get(access_key_id, epoch) {
        return Ok(hit);
    }
    let lookup = state
        .store
        .lookup_access_key(access_key_id)
        .await
        .map_err(crate::error::store_error)?
        .ok_or_else(|| sigv4_error(SigV4Error::InvalidClientTokenId))?;
    if lookup.status != AccessKeyStatus::Active {
        return Err(sigv4_error(SigV4Error::InvalidClientTokenId));
    }
    let secret = state
        .master_key
        .open(&lookup.access_key_id, lookup.secret_ciphertext.as_bytes())
        .map_err(|e| {
            tracing::error!(access_key_id, error = %e, "stored secret does not open under the master key");
            ApiError::internal()
        })?;
    let secret = std::str::from_utf8(&secret).map_err(|_| ApiError::internal())?;
    let (arn, user_id, identity) = match lookup.principal {
        KeyPrincipal::Root => (
            format!("arn:aws:iam::{}:root", lookup.account_id),
            lookup.account_id.clone(),
            Identity::Root,
        ),
        KeyPrincipal::User {
            id,
            name,
            path,
            arn,
        } => (arn, id.clone(), Identity::User { id, name, path }),
    };
    let cached = Arc::new(CachedKey {
        caller: Arc::new(Caller {
            account_id: lookup.account_id,
            arn,
            user_id,
            identity,
            access_key_id: lookup.access_key_id,
        }),
        secret: SecretKey::new(secret),
    });
    state
        .keys
        .insert(access_key_id.to_owned(), cached.clone(), epoch);
    Ok(cached)
}

/// How often a key's `LastUsed` is written: AWS itself reports it with
/// minutes of delay, and a write per request would double the cost of a call.
const LAST_USED_GRANULARITY: time::Duration = time::Duration::minutes(1);

fn record_use(
    state: &AppState,
    access_key_id: &str,
    now: OffsetDateTime,
    service: Service,
    region: &str,
) {
    static LAST_WRITTEN: Mutex<Option<HashMap<String, OffsetDateTime>>> = Mutex::new(None);
    {
        let Ok(mut guard) = LAST_WRITTEN.lock() else {
            return;
        };
        let map = guard.get_or_insert_with(HashMap::new);
        if map.len() > 100_000 {
            map.clear();
        }
        match map.get(access_key_id) {
            Some(last) if now - *last < LAST_USED_GRANULARITY => return,
            _ => {
                map.insert(access_key_id.to_owned(), now);
            }
        }
    }
    let store = state.store.clone();
    let id = access_key_id.to_owned();
    let region = region.to_owned();
    tokio::spawn(async move {
        if let Err(e) = store
            .record_access_key_use(&id, now, service.signing_name(), &region)
            .await
        {
            tracing::warn!(access_key_id = %id, error = %e, "could not record access key use");
        }
    });
}

pub fn to_system_time(t: OffsetDateTime) -> SystemTime {
    SystemTime::UNIX_EPOCH
        + std::time::Duration::from_nanos(u64::try_from(t.unix_timestamp_nanos()).unwrap_or(0))
}

/// A SigV4 failure as the AWS error it is. The messages are AWS's and carry
/// no secret (the canonical request and string to sign never contain one).
pub fn sigv4_error(e: SigV4Error) -> ApiError {
    let code = ErrorCode::from_code(e.code()).unwrap_or(ErrorCode::IncompleteSignature);
    ApiError::new(code, e.to_string()).with_status(e.status().as_u16())
}
