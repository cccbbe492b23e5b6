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

use std::borrow::Cow;
use std::cell::RefCell;
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
use crate::sessions::{SessionClaims, SessionPrincipal, TokenError, TokenKeys};
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
    /// An IAM user (with its long-term key, or a GetSessionToken session).
    User {
        id: String,
        name: String,
        path: String,
    },
    /// A session of a role.
    AssumedRole {
        role_id: String,
        role_name: String,
        role_path: String,
        session_name: String,
    },
    /// A GetFederationToken session, bounded by the user who made it.
    FederatedUser {
        name: String,
        parent_user_id: String,
        parent_user_name: String,
    },
    /// The unsigned caller of AssumeRoleWithWebIdentity or
    /// AssumeRoleWithSAML, vouched for by its verified token or assertion
    /// (see `federation`): anonymous to IAM, known to the role's trust
    /// policy by its provider.
    Federated(Arc<crate::federation::FederatedIdentity>),
}

/// Who made a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    /// `arn:aws:iam::ACCOUNT:root`, the user's ARN, or the session's ARN.
    pub arn: String,
    /// `aws:userid`: the account id for root, `AIDA…` for a user,
    /// `AROA…:session` for a role session.
    pub user_id: String,
    pub identity: Identity,
    pub access_key_id: String,
    /// The claims of temporary credentials; `None` for long-term keys.
    pub session: Option<Arc<SessionClaims>>,
    /// This caller's key in the compiled-policy cache, made on its first
    /// request: a long-term key's caller is itself cached, so later requests
    /// borrow it instead of joining it again.
    pub policy_key: std::sync::OnceLock<Box<str>>,
}

impl Caller {
    pub fn is_root(&self) -> bool {
        matches!(self.identity, Identity::Root)
    }

    /// The user's name for a user, `None` for any other identity.
    pub fn user_name(&self) -> Option<&str> {
        match &self.identity {
            Identity::User { name, .. } => Some(name),
            _ => None,
        }
    }

    /// For a role session, the role's ARN.
    pub fn role_arn(&self) -> Option<String> {
        match &self.identity {
            Identity::AssumedRole {
                role_name,
                role_path,
                ..
            } => Some(portcullis_store::arn::role_arn(
                &self.account_id,
                role_path,
                role_name,
            )),
            _ => None,
        }
    }

    fn from_session(claims: SessionClaims) -> Self {
        let identity = match &claims.principal {
            SessionPrincipal::Role {
                role_id,
                role_name,
                role_path,
                session_name,
            } => Identity::AssumedRole {
                role_id: role_id.clone(),
                role_name: role_name.clone(),
                role_path: role_path.clone(),
                session_name: session_name.clone(),
            },
            SessionPrincipal::User {
                user_id,
                user_name,
                user_path,
            } => Identity::User {
                id: user_id.clone(),
                name: user_name.clone(),
                path: user_path.clone(),
            },
            SessionPrincipal::Root => Identity::Root,
            SessionPrincipal::FederatedUser {
                name,
                parent_user_id,
                parent_user_name,
            } => Identity::FederatedUser {
                name: name.clone(),
                parent_user_id: parent_user_id.clone(),
                parent_user_name: parent_user_name.clone(),
            },
        };
        Caller {
            account_id: claims.account.clone(),
            arn: claims.arn(),
            user_id: claims.user_id(),
            identity,
            access_key_id: claims.access_key_id.clone(),
            session: Some(Arc::new(claims)),
            policy_key: std::sync::OnceLock::new(),
        }
    }
}

/// Proof that a request's signature verified, with what authentication
/// learnt about it.
#[derive(Debug, Clone)]
pub struct Authenticated {
    caller: Arc<Caller>,
    service: Service,
    region: Cow<'static, str>,
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

    /// The proof for a federation call: made only by `federation`, once the
    /// token or assertion verified.
    pub(crate) fn federated(caller: Caller, region: &str) -> Self {
        Authenticated {
            caller: Arc::new(caller),
            service: Service::Sts,
            region: region_text(region),
        }
    }
}

/// A credential scope's region, borrowed from the list of AWS's regions
/// when it is one of them (nearly every call), copied when not: it is kept
/// for the whole call (`aws:RequestedRegion`).
fn region_text(region: &str) -> Cow<'static, str> {
    /// The regions of the `aws`, `aws-cn` and `aws-us-gov` partitions.
    const REGIONS: [&str; 41] = [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-south-1",
        "ap-south-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-south-1",
        "eu-south-2",
        "eu-north-1",
        "il-central-1",
        "me-south-1",
        "me-central-1",
        "mx-central-1",
        "sa-east-1",
        "us-gov-east-1",
        "us-gov-west-1",
        "cn-north-1",
        "cn-northwest-1",
        "aws-global",
        "aws-cn-global",
        "aws-us-gov-global",
    ];
    match REGIONS.iter().find(|known| **known == region) {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(region.to_owned()),
    }
}

/// What the key cache holds for one access key.
#[derive(Debug)]
pub struct CachedKey {
    caller: Arc<Caller>,
    secret: SecretKey,
    /// For temporary credentials: the token they were opened from, which
    /// a later request must present again to reuse this entry.
    token: Option<String>,
}

pub type KeyCache = EpochCache<String, Arc<CachedKey>>;

/// The facts about the connection that a request's context needs, and
/// when the request arrived.
#[derive(Debug, Clone, Copy)]
pub struct Transport {
    pub source_ip: IpAddr,
    pub secure: bool,
    /// The service clock when the request arrived: the one reading of the
    /// clock a call makes (its signature's age, its context's time keys
    /// and its audit record all use it).
    pub at: OffsetDateTime,
}

impl Transport {
    /// The source address as text (`aws:SourceIp`).
    pub fn source_ip_text(&self) -> String {
        IpText::of(self.source_ip).as_str().to_owned()
    }
}

/// An address as `Display` writes it, on the stack. IPv4 is written by
/// hand: `Display` goes through the formatting machinery, about 650
/// instructions, and every call needs the text (its audit line, and
/// `aws:SourceIp` where a policy reads it).
#[derive(Debug, Clone, Copy)]
pub struct IpText {
    text: [u8; IpText::CAPACITY],
    len: usize,
}

impl IpText {
    /// The longest text an IPv6 address has (RFC 4291's form with an
    /// embedded IPv4 address, `INET6_ADDRSTRLEN` less its NUL); `Display`
    /// writes at most 39 bytes (eight full groups).
    const CAPACITY: usize = 45;

    pub fn of(ip: IpAddr) -> Self {
        let mut out = IpText {
            text: [0; IpText::CAPACITY],
            len: 0,
        };
        match ip {
            IpAddr::V4(v4) => {
                for (i, octet) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    if octet >= 100 {
                        out.push(b'0' + octet / 100);
                    }
                    if octet >= 10 {
                        out.push(b'0' + octet / 10 % 10);
                    }
                    out.push(b'0' + octet % 10);
                }
            }
            IpAddr::V6(v6) => {
                use std::io::Write as _;
                let mut rest = &mut out.text[..];
                let before = rest.len();
                // 45 bytes hold any IPv6 address's text.
                let _ = write!(rest, "{v6}");
                out.len = before - rest.len();
            }
        }
        out
    }

    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.text.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    /// The text as bytes, where bytes serve: [`IpText::as_str`] checks them.
    pub fn as_bytes(&self) -> &[u8] {
        self.text.get(..self.len).unwrap_or_default()
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever written.
        std::str::from_utf8(self.text.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
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
    now: OffsetDateTime,
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
    let region = region_text(scope.region);
    let key = if parsed.access_key_id().starts_with("ASIA") {
        resolve_session(state, parsed.access_key_id(), parsed.session_token(), now).await?
    } else {
        resolve_key(state, parsed.access_key_id()).await?
    };
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
    if key.token.is_none() {
        record_use(state, &key.caller.access_key_id, now, service, &region);
    }
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
            session: None,
            policy_key: std::sync::OnceLock::new(),
        }),
        secret: SecretKey::new(secret),
        token: None,
    });
    state
        .keys
        .insert(access_key_id.to_owned(), cached.clone(), epoch);
    Ok(cached)
}

/// Temporary credentials: the token carries the secret and the claims, so
/// no store read is needed (except to learn of a token key another node
/// made since this one last looked).
async fn resolve_session(
    state: &AppState,
    access_key_id: &str,
    token: Option<&str>,
    now: OffsetDateTime,
) -> Result<Arc<CachedKey>, ApiError> {
    let invalid = || sigv4_error(SigV4Error::InvalidClientTokenId);
    let token = token.ok_or_else(invalid)?;
    let epoch = state.epoch.current();
    if let Some(hit) = state.keys.get(access_key_id, epoch)
        && hit.token.as_deref() == Some(token)
    {
        let expired = hit
            .caller
            .session
            .as_ref()
            .is_none_or(|c| now.unix_timestamp() >= c.expires);
        if expired {
            return Err(sigv4_error(SigV4Error::ExpiredToken));
        }
        return Ok(hit);
    }
    if let Some(generation) = TokenKeys::generation_of(token)
        && !state.token_keys.has_generation(generation)
    {
        // Another node may have rotated: look once more before refusing.
        if let Err(e) = state
            .token_keys
            .reload(state.store.as_ref(), &state.master_key)
            .await
        {
            tracing::warn!(error = %e, "cannot reload session token keys");
        }
    }
    let claims = state
        .token_keys
        .open(access_key_id, token, now)
        .map_err(|e| match e {
            TokenError::Expired => sigv4_error(SigV4Error::ExpiredToken),
            _ => invalid(),
        })?;
    let secret = SecretKey::new(&claims.secret);
    let cached = Arc::new(CachedKey {
        caller: Arc::new(Caller::from_session(claims)),
        secret,
        token: Some(token.to_owned()),
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
    type Written = HashMap<String, OffsetDateTime, foldhash::fast::RandomState>;
    static LAST_WRITTEN: Mutex<Option<Written>> = Mutex::new(None);
    // A steady client's requests land on the same workers: each remembers
    // the last key it saw written, and skips the shared map (a lock and a
    // hash) while that key's last write is recent. It keeps the time the
    // write is recent until: a comparison per call instead of a subtraction
    // of dates.
    thread_local! {
        static SEEN: RefCell<Option<(String, OffsetDateTime)>> = const { RefCell::new(None) };
    }
    let recent = |last: OffsetDateTime| now - last < LAST_USED_GRANULARITY;
    if SEEN.with_borrow(|seen| {
        seen.as_ref()
            .is_some_and(|(id, until)| id == access_key_id && now < *until)
    }) {
        return;
    }
    {
        let Ok(mut guard) = LAST_WRITTEN.lock() else {
            return;
        };
        let map = guard.get_or_insert_with(Written::default);
        if map.len() > 100_000 {
            map.clear();
        }
        let (last, write) = match map.get(access_key_id) {
            Some(&last) if recent(last) => (last, false),
            _ => {
                map.insert(access_key_id.to_owned(), now);
                (now, true)
            }
        };
        SEEN.with_borrow_mut(|seen| {
            *seen = Some((access_key_id.to_owned(), last + LAST_USED_GRANULARITY));
        });
        if !write {
            return;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_shared_when_known_and_kept_whole_when_not() {
        assert!(matches!(
            region_text("us-east-1"),
            Cow::Borrowed("us-east-1")
        ));
        assert!(matches!(
            region_text("eu-west-3"),
            Cow::Borrowed("eu-west-3")
        ));
        let odd = region_text("moon-base-1");
        assert!(matches!(odd, Cow::Owned(_)));
        assert_eq!(odd, "moon-base-1");
        // Not a prefix match.
        assert_eq!(region_text("us-east-10"), "us-east-10");
    }

    #[test]
    fn source_ip_text_is_what_display_writes() {
        let mut addresses: Vec<IpAddr> = [0u8, 1, 9, 10, 99, 100, 199, 200, 255]
            .iter()
            .flat_map(|&a| {
                [0u8, 7, 42, 255]
                    .iter()
                    .map(move |&b| IpAddr::from([a, b, 100 - a % 100, 255 - a]))
            })
            .collect();
        addresses.push(IpAddr::from([0xfe80, 0, 0, 0, 0, 0, 0, 1u16]));
        addresses.push(IpAddr::from(std::net::Ipv6Addr::LOCALHOST));
        // The longest texts: eight full groups, and an IPv4-mapped address.
        addresses.push(IpAddr::from([0xffff_u16; 8]));
        addresses.push(IpAddr::from(
            std::net::Ipv4Addr::new(255, 255, 255, 255).to_ipv6_mapped(),
        ));
        for ip in addresses {
            let transport = Transport {
                source_ip: ip,
                secure: false,
                at: OffsetDateTime::UNIX_EPOCH,
            };
            assert_eq!(transport.source_ip_text(), ip.to_string());
        }
    }
}
