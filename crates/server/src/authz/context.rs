//! The request context: the global condition keys AWS sets for every
//! request ("AWS global condition context keys" in the IAM User Guide) and
//! the keys the operation sets itself.

use std::cell::RefCell;
use std::sync::LazyLock;

use portcullis_policy::{Context, ContextKey, ContextType, ContextValue};
use time::OffsetDateTime;

use super::actions::{RequestKey, Target};
use super::{PrincipalPolicies, Resource};
use portcullis_store::model::Tag;

use crate::authn::{Authenticated, Caller, Identity, Transport};

/// The keys that only change with the principal (its ARN, account, type,
/// name and tags): built once per cached [`PrincipalPolicies`] and shared by
/// every request it serves, beneath the request's own keys (see
/// [`Context::over`]). Nothing here may depend on one session of a role, as
/// a role's sessions can share one entry: `aws:userid` is per request.
pub fn principal_base(caller: &Caller, tags: &[Tag]) -> Context {
    let mut c = Context::new();
    // Keys come from our own values, which are always well-formed for
    // their type; an insert that fails would only drop a key, which makes
    // conditions on it fail closed.
    let mut put = |key: &str, ty: ContextType, values: &[&str]| {
        let _ = c.insert(key, ty, values.iter().copied());
    };
    // For a role session, aws:PrincipalArn is the role's ARN, not the
    // session's. An anonymous federation caller has none of these keys.
    if !matches!(caller.identity, Identity::Federated(_)) {
        let principal_arn = caller.role_arn().unwrap_or_else(|| caller.arn.clone());
        put("aws:PrincipalArn", ContextType::String, &[&principal_arn]);
        put(
            "aws:PrincipalAccount",
            ContextType::String,
            &[&caller.account_id],
        );
    }
    let principal_type = match &caller.identity {
        Identity::User { name, .. } => {
            put("aws:username", ContextType::String, &[name]);
            "User"
        }
        Identity::Root => "Account",
        Identity::AssumedRole { .. } => "AssumedRole",
        Identity::FederatedUser { .. } => "FederatedUser",
        Identity::Federated(_) => "Anonymous",
    };
    put("aws:PrincipalType", ContextType::String, &[principal_type]);
    put(
        "aws:PrincipalIsAWSService",
        ContextType::Boolean,
        &["false"],
    );
    put("aws:ViaAWSService", ContextType::Boolean, &["false"]);
    for tag in tags {
        put(
            &format!("aws:PrincipalTag/{}", tag.key),
            ContextType::String,
            &[&tag.value],
        );
    }
    c
}

/// The keys [`build`] sets on every request (or on every request of a
/// session) that a principal's policies may never read. Building one costs
/// more than most decisions, so each is built only when some policy of the
/// principal reads it; the policy crate names every key a policy can read
/// ([`portcullis_policy::PolicySet::context_keys`]), and its property tests
/// check that a context of only those keys decides as the full one does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Gated {
    CurrentTime,
    EpochTime,
    UserId,
    SourceIp,
    SecureTransport,
    RequestedRegion,
    MultiFactorAuthPresent,
    MultiFactorAuthAge,
    TokenIssueTime,
    SourceIdentity,
    /// `aws:ResourceTag/…` and `iam:ResourceTag/…`, any tag.
    ResourceTag,
}

impl Gated {
    const EVERY: [Gated; 11] = [
        Gated::CurrentTime,
        Gated::EpochTime,
        Gated::UserId,
        Gated::SourceIp,
        Gated::SecureTransport,
        Gated::RequestedRegion,
        Gated::MultiFactorAuthPresent,
        Gated::MultiFactorAuthAge,
        Gated::TokenIssueTime,
        Gated::SourceIdentity,
        Gated::ResourceTag,
    ];

    /// Whether reading the (lowercase) key `read` reads this one.
    fn is_read_by(self, read: &str) -> bool {
        let name = match self {
            Gated::CurrentTime => "aws:currenttime",
            Gated::EpochTime => "aws:epochtime",
            Gated::UserId => "aws:userid",
            Gated::SourceIp => "aws:sourceip",
            Gated::SecureTransport => "aws:securetransport",
            Gated::RequestedRegion => "aws:requestedregion",
            Gated::MultiFactorAuthPresent => "aws:multifactorauthpresent",
            Gated::MultiFactorAuthAge => "aws:multifactorauthage",
            Gated::TokenIssueTime => "aws:tokenissuetime",
            Gated::SourceIdentity => "aws:sourceidentity",
            Gated::ResourceTag => {
                return ["aws:resourcetag/", "iam:resourcetag/"]
                    .iter()
                    .any(|prefix| starts_with_ignore_case(read, prefix));
            }
        };
        read.eq_ignore_ascii_case(name)
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Which [`Gated`] keys a request's context must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reads(u16);

impl Reads {
    /// Every key: for a decision that also reads a resource policy, and for
    /// the context a denial reports.
    pub const ALL: Reads = Reads(u16::MAX);

    /// The gated keys among `keys`, the keys some policy reads.
    pub fn of(keys: &[&str]) -> Reads {
        let mut bits = 0;
        for gated in Gated::EVERY {
            if keys.iter().any(|k| gated.is_read_by(k)) {
                bits |= 1 << gated as u16;
            }
        }
        Reads(bits)
    }

    fn has(self, key: Gated) -> bool {
        self.0 & (1 << key as u16) != 0
    }
}

static CURRENT_TIME: LazyLock<ContextKey> = LazyLock::new(|| ContextKey::new("aws:CurrentTime"));
static EPOCH_TIME: LazyLock<ContextKey> = LazyLock::new(|| ContextKey::new("aws:EpochTime"));

/// `aws:CurrentTime` and `aws:EpochTime` (whole seconds, both) as read
/// values. They change once a second, so each worker thread reads them
/// once a second instead of writing and parsing both on every request.
fn time_values(now: OffsetDateTime) -> (ContextValue, ContextValue) {
    thread_local! {
        static TIME: RefCell<Option<(i64, ContextValue, ContextValue)>> =
            const { RefCell::new(None) };
    }
    let second = now.unix_timestamp();
    TIME.with_borrow_mut(|slot| match slot {
        Some((at, current, epoch)) if *at == second => (current.clone(), epoch.clone()),
        _ => {
            let iso = crate::protocol::xml::Timestamp(now).to_iso8601();
            let current = ContextValue::read(&iso, ContextType::Date);
            let epoch = ContextValue::read(&second.to_string(), ContextType::Date);
            *slot = Some((second, current.clone(), epoch.clone()));
            (current, epoch)
        }
    })
}

/// The keys every request sets besides the time, whose values a worker
/// sees again and again (one client's id, address, transport and region).
#[derive(Debug, Clone, Copy)]
enum Recent {
    UserId,
    SourceIp,
    SecureTransport,
    RequestedRegion,
}

impl Recent {
    const COUNT: usize = 4;

    fn name_and_type(self) -> (&'static ContextKey, ContextType) {
        static USER_ID: LazyLock<ContextKey> = LazyLock::new(|| ContextKey::new("aws:userid"));
        static SOURCE_IP: LazyLock<ContextKey> = LazyLock::new(|| ContextKey::new("aws:SourceIp"));
        static SECURE_TRANSPORT: LazyLock<ContextKey> =
            LazyLock::new(|| ContextKey::new("aws:SecureTransport"));
        static REQUESTED_REGION: LazyLock<ContextKey> =
            LazyLock::new(|| ContextKey::new("aws:RequestedRegion"));
        match self {
            Recent::UserId => (&USER_ID, ContextType::String),
            Recent::SourceIp => (&SOURCE_IP, ContextType::Ip),
            Recent::SecureTransport => (&SECURE_TRANSPORT, ContextType::Boolean),
            Recent::RequestedRegion => (&REQUESTED_REGION, ContextType::String),
        }
    }
}

/// `text` read as `key`'s type. Each worker thread keeps the value it read
/// last for each key and reads again only when the text differs: reading a
/// value (as a number, a date, an address…) cost more than the decision.
fn recent_value(key: Recent, text: &str) -> ContextValue {
    thread_local! {
        static LAST: RefCell<[Option<ContextValue>; Recent::COUNT]> =
            const { RefCell::new([None, None, None, None]) };
    }
    let read = || ContextValue::read(text, key.name_and_type().1);
    LAST.with_borrow_mut(|last| match last.get_mut(key as usize) {
        Some(Some(value)) if value.text() == text => value.clone(),
        Some(slot) => slot.insert(read()).clone(),
        None => read(),
    })
}

/// Builds the context of one request over its principal's keys
/// ([`principal_base`]), with the gated keys that `reads` names.
/// `mfa_now` is `Some` when the request itself proved MFA (a `SerialNumber`
/// and `TokenCode` that verified).
pub fn build(
    auth: &Authenticated,
    policies: &PrincipalPolicies,
    resource: &Resource,
    target: &Target<'_>,
    transport: Transport,
    mfa_now: Option<()>,
    reads: Reads,
) -> Context {
    let caller = auth.caller();
    let mut c = Context::over(policies.base_context.clone());
    // As in `principal_base`: an insert that fails drops a key, and
    // conditions on it fail closed.
    let now = transport.at;
    if reads.has(Gated::CurrentTime) || reads.has(Gated::EpochTime) {
        let (current_time, epoch_time) = time_values(now);
        if reads.has(Gated::CurrentTime) {
            let _ = c.insert_key(&CURRENT_TIME, ContextType::Date, vec![current_time]);
        }
        if reads.has(Gated::EpochTime) {
            let _ = c.insert_key(&EPOCH_TIME, ContextType::Date, vec![epoch_time]);
        }
    }
    let mut recent = |key: Recent, text: &str| {
        let (name, ty) = key.name_and_type();
        let _ = c.insert_key(name, ty, vec![recent_value(key, text)]);
    };
    if reads.has(Gated::UserId) && !matches!(caller.identity, Identity::Federated(_)) {
        recent(Recent::UserId, &caller.user_id);
    }
    if reads.has(Gated::SourceIp) {
        recent(Recent::SourceIp, &transport.source_ip_text());
    }
    if reads.has(Gated::SecureTransport) {
        recent(
            Recent::SecureTransport,
            if transport.secure { "true" } else { "false" },
        );
    }
    if reads.has(Gated::RequestedRegion) {
        recent(Recent::RequestedRegion, auth.region());
    }
    let mut put = |key: &str, ty: ContextType, values: &[&str]| {
        let _ = c.insert(key, ty, values.iter().copied());
    };

    // MFA keys exist only for temporary credentials (and requests that
    // prove MFA themselves); a long-term key has neither.
    let mfa_time = mfa_now
        .map(|()| now.unix_timestamp())
        .or_else(|| caller.session.as_ref().and_then(|s| s.mfa_auth_time));
    if (caller.session.is_some() || mfa_now.is_some()) && reads.has(Gated::MultiFactorAuthPresent) {
        put(
            "aws:MultiFactorAuthPresent",
            ContextType::Boolean,
            &[if mfa_time.is_some() { "true" } else { "false" }],
        );
    }
    if let Some(at) = mfa_time
        && reads.has(Gated::MultiFactorAuthAge)
    {
        put(
            "aws:MultiFactorAuthAge",
            ContextType::Numeric,
            &[&(now.unix_timestamp() - at).max(0).to_string()],
        );
    }
    if let Some(session) = &caller.session {
        if reads.has(Gated::TokenIssueTime) {
            put(
                "aws:TokenIssueTime",
                ContextType::Date,
                &[&session.issued.to_string()],
            );
        }
        if let Some(id) = &session.source_identity
            && reads.has(Gated::SourceIdentity)
        {
            put("aws:SourceIdentity", ContextType::String, &[id]);
        }
        for (key, value) in &session.context {
            put(key, ContextType::String, &[value]);
        }
    }
    // What the provider's token or assertion says (`PROVIDER:sub`, `saml:aud`…).
    if let Identity::Federated(federated) = &caller.identity {
        for k in &federated.keys {
            let values: Vec<&str> = k.values.iter().map(String::as_str).collect();
            let ty = if k.multivalued {
                ContextType::StringList
            } else {
                ContextType::String
            };
            put(&k.key, ty, &values);
        }
    }

    let resource_tags = if reads.has(Gated::ResourceTag) {
        &resource.tags[..]
    } else {
        &[]
    };
    for tag in resource_tags {
        put(
            &format!("aws:ResourceTag/{}", tag.key),
            ContextType::String,
            &[&tag.value],
        );
        put(
            &format!("iam:ResourceTag/{}", tag.key),
            ContextType::String,
            &[&tag.value],
        );
    }
    for key in &target.keys {
        match key {
            RequestKey::PermissionsBoundary(arn) => {
                put("iam:PermissionsBoundary", ContextType::String, &[arn])
            }
            RequestKey::PolicyArn(arn) => put("iam:PolicyARN", ContextType::String, &[arn]),
            RequestKey::Tags(tags) => {
                for (k, v) in tags {
                    put(&format!("aws:RequestTag/{k}"), ContextType::String, &[v]);
                }
                let keys: Vec<&str> = tags.iter().map(|(k, _)| *k).collect();
                put("aws:TagKeys", ContextType::StringList, &keys);
            }
            RequestKey::TagKeys(keys) => {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                put("aws:TagKeys", ContextType::StringList, &keys);
            }
            RequestKey::String(key, value) => put(key, ContextType::String, &[value]),
            RequestKey::StringList(key, values) => {
                let values: Vec<&str> = values.iter().map(String::as_str).collect();
                put(key, ContextType::StringList, &values);
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_the_gated_keys_that_policies_read() {
        let reads = Reads::of(&[
            "aws:currenttime",
            "aws:resourcetag/team",
            "aws:username",
            "s3:prefix",
        ]);
        let have: Vec<Gated> = Gated::EVERY.into_iter().filter(|g| reads.has(*g)).collect();
        assert_eq!(have, [Gated::CurrentTime, Gated::ResourceTag]);
        assert_eq!(
            Reads::of(&["iam:ResourceTag/env"]),
            Reads::of(&["aws:resourcetag/x"])
        );
        assert!(Gated::EVERY.iter().all(|g| Reads::ALL.has(*g)));
        assert!(Gated::EVERY.iter().all(|g| !Reads::of(&[]).has(*g)));
        // Every gated key is named by its own key and by no other's.
        for g in Gated::EVERY {
            let named: Vec<Gated> = Gated::EVERY
                .into_iter()
                .filter(|other| {
                    [
                        "aws:CurrentTime",
                        "aws:EpochTime",
                        "aws:userid",
                        "aws:SourceIp",
                        "aws:SecureTransport",
                        "aws:RequestedRegion",
                        "aws:MultiFactorAuthPresent",
                        "aws:MultiFactorAuthAge",
                        "aws:TokenIssueTime",
                        "aws:SourceIdentity",
                        "aws:ResourceTag/k",
                    ]
                    .get(g as usize)
                    .is_some_and(|k| other.is_read_by(k))
                })
                .collect();
            assert_eq!(named, [g]);
        }
    }
}
