//! Who asks, for what, and the request context. Context keys are lowercased once at
//! construction (keys are case-insensitive in IAM) and every value is pre-parsed into
//! each type it can be read as, so that evaluating a condition never parses or
//! allocates.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::condition::{decode_base64, parse_date, parse_number};
use crate::error::Error;

/// The kind of identity making the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// The account's root user: bound only by SCPs and resource-policy denies.
    Root,
    /// An IAM user.
    User,
    /// An assumed-role session (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    RoleSession,
    /// A federated user session (GetFederationToken).
    FederatedUser,
    /// An AWS service principal (`ec2.amazonaws.com`): `arn` holds the service name.
    Service,
    /// An unauthenticated caller. Also the caller of AssumeRoleWithWebIdentity and
    /// AssumeRoleWithSAML, with [`Principal::federated_provider`] set: the role's trust
    /// policy must name that provider.
    Anonymous,
}

/// The identity making a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// What kind of identity.
    pub kind: PrincipalKind,
    /// Its ARN (for a role session: the assumed-role ARN; for a service: its name).
    pub arn: String,
    /// Its account id.
    pub account: String,
    /// For a role session: the role's ARN.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// Its unique id (AIDA..., AROA...), which IAM writes into policies in place of
    /// deleted principals.
    #[serde(default)]
    pub unique_id: Option<String>,
    /// For a web-identity or SAML session: the identity provider.
    #[serde(default)]
    pub federated_provider: Option<String>,
    /// The S3 canonical user id.
    #[serde(default)]
    pub canonical_user: Option<String>,
}

impl Principal {
    /// A principal of `kind` with `arn`, its account taken from the ARN.
    #[must_use]
    pub fn new(kind: PrincipalKind, arn: impl Into<String>) -> Self {
        let arn = arn.into();
        let account = crate::arn::Arn::parse(&arn)
            .map(|a| a.account.to_owned())
            .unwrap_or_default();
        let role_arn = if kind == PrincipalKind::RoleSession {
            role_arn_of_session(&arn)
        } else {
            None
        };
        Self {
            kind,
            arn,
            account,
            role_arn,
            unique_id: None,
            federated_provider: None,
            canonical_user: None,
        }
    }
}

/// `arn:aws:sts::A:assumed-role/R/S` → `arn:aws:iam::A:role/R` (the path is not in
/// the session ARN; callers that know it set `role_arn` themselves).
fn role_arn_of_session(arn: &str) -> Option<String> {
    let a = crate::arn::Arn::parse(arn)?;
    let rest = a.resource.strip_prefix("assumed-role/")?;
    let role = rest.split('/').next()?;
    Some(format!(
        "arn:{}:iam::{}:role/{}",
        a.partition, a.account, role
    ))
}

/// The type of a context entry, as in iam:SimulateCustomPolicy's `ContextKeyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ContextType {
    /// `string`
    String,
    /// `stringList`
    StringList,
    /// `numeric`
    Numeric,
    /// `numericList`
    NumericList,
    /// `boolean`
    Boolean,
    /// `booleanList`
    BooleanList,
    /// `ip`
    Ip,
    /// `ipList`
    IpList,
    /// `binary` (base64 text)
    Binary,
    /// `binaryList`
    BinaryList,
    /// `date` (ISO 8601 or epoch seconds)
    Date,
    /// `dateList`
    DateList,
}

impl ContextType {
    /// Whether the key is multivalued.
    #[must_use]
    pub fn is_list(self) -> bool {
        matches!(
            self,
            Self::StringList
                | Self::NumericList
                | Self::BooleanList
                | Self::IpList
                | Self::BinaryList
                | Self::DateList
        )
    }
}

/// One context entry as a caller supplies it (the shape of SimulateCustomPolicy's
/// `ContextEntries`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextEntry {
    /// The key, any case.
    pub key: String,
    /// The value type.
    #[serde(rename = "type")]
    pub ty: ContextType,
    /// The values as text.
    pub values: Vec<String>,
}

/// One context value with every reading of it computed up front.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextValue {
    /// Shared, so that a value read once is inserted into many contexts
    /// without copying its text.
    text: Arc<str>,
    number: Option<f64>,
    date: Option<i128>,
    ip: Option<IpAddr>,
    boolean: Option<bool>,
    binary: Binary,
}

/// How a value reads as bytes: a binary value's are its decoded base64 (kept
/// decoded), any other value's are its text's own (no copy).
#[derive(Debug, Clone, PartialEq)]
enum Binary {
    Text,
    Decoded(Option<Box<[u8]>>),
}

/// `text` as an IP address, as `IpAddr`'s parser reads it. Every address
/// that parser accepts is made of hex digits, dots and colons only, so any
/// other byte answers at once: most context values (names, ARNs, dates,
/// regions) are not addresses, and trying both address families on each
/// was a fifth of building a request's context.
fn parse_ip(text: &str) -> Option<IpAddr> {
    if text.is_empty()
        || !text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
    {
        return None;
    }
    text.parse().ok()
}

impl ContextValue {
    /// `text` read as a value of type `ty`, for [`Context::insert_values`].
    /// Every reading (number, date, address, boolean) is made here, once.
    #[must_use]
    pub fn read(text: &str, ty: ContextType) -> Self {
        Self::new(text, ty)
    }

    fn new(text: &str, ty: ContextType) -> Self {
        let binary = if matches!(ty, ContextType::Binary | ContextType::BinaryList) {
            Binary::Decoded(decode_base64(text).map(Vec::into_boxed_slice))
        } else {
            Binary::Text
        };
        Self {
            text: text.into(),
            number: parse_number(text),
            date: parse_date(text),
            ip: parse_ip(text),
            boolean: if text.eq_ignore_ascii_case("true") {
                Some(true)
            } else if text.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            },
            binary,
        }
    }

    /// The value as text.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }
    pub(crate) fn number(&self) -> Option<f64> {
        self.number
    }
    pub(crate) fn date(&self) -> Option<i128> {
        self.date
    }
    pub(crate) fn ip(&self) -> Option<IpAddr> {
        self.ip
    }
    pub(crate) fn boolean(&self) -> Option<bool> {
        self.boolean
    }
    pub(crate) fn binary(&self) -> Option<&[u8]> {
        match &self.binary {
            Binary::Text => Some(self.text.as_bytes()),
            Binary::Decoded(bytes) => bytes.as_deref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    key: Cow<'static, str>,
    display: Cow<'static, str>,
    ty: ContextType,
    values: Vec<ContextValue>,
}

/// A condition key named before any request (`aws:SourceIp`), kept in a
/// `static` by the caller: a context stores it by reference, so inserting
/// it copies no key text.
#[derive(Debug)]
pub struct ContextKey {
    display: &'static str,
    lowercase: String,
}

impl ContextKey {
    /// The key as written; lookups ignore ASCII case, as for any key.
    #[must_use]
    pub fn new(display: &'static str) -> Self {
        Self {
            display,
            lowercase: display.to_ascii_lowercase(),
        }
    }
}

/// The request context: typed values under case-insensitive keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Context {
    /// Sorted by lowercased key.
    entries: Vec<Entry>,
    /// Keys shared by many requests (those of one principal, say), built
    /// once and read beneath this context's own: a key here hides the same
    /// key there.
    base: Option<Arc<Context>>,
}

impl Context {
    /// An empty context.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty context over `base`: reads fall through to `base` for every
    /// key this one does not set. A service keeps the keys that only change
    /// with the principal in a base and adds a request's own keys on top,
    /// instead of building (and parsing) every key on every request.
    #[must_use]
    pub fn over(base: Arc<Context>) -> Self {
        Self {
            // No room reserved: a service that sets only the keys its
            // policies read often sets none.
            entries: Vec::new(),
            base: Some(base),
        }
    }

    /// Builds a context from entries.
    ///
    /// # Errors
    /// [`Error::InvalidContext`] when a value is not of its declared type, or a
    /// single-valued type has several values.
    pub fn from_entries<'a>(
        entries: impl IntoIterator<Item = &'a ContextEntry>,
    ) -> Result<Self, Error> {
        let mut c = Self::new();
        for e in entries {
            c.insert(&e.key, e.ty, e.values.iter().map(String::as_str))?;
        }
        Ok(c)
    }

    /// Adds (or replaces) a key.
    ///
    /// # Errors
    /// As [`Context::from_entries`].
    pub fn insert<'a>(
        &mut self,
        key: &str,
        ty: ContextType,
        values: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Error> {
        // Each value is read as every type once; its declared type's reading
        // must have succeeded (no second parse to validate).
        let values = values
            .into_iter()
            .map(|v| ContextValue::new(v, ty))
            .collect();
        self.insert_values(key, ty, values)
    }

    /// Adds (or replaces) a key whose values were read already
    /// ([`ContextValue::read`]): a value that many requests share (the
    /// current time, say) is read once and inserted into each of them.
    ///
    /// # Errors
    /// As [`Context::from_entries`]; also when a value was read as binary
    /// for a key that is not, or the other way round.
    pub fn insert_values(
        &mut self,
        key: &str,
        ty: ContextType,
        values: Vec<ContextValue>,
    ) -> Result<(), Error> {
        Self::check_values(key, ty, &values)?;
        self.insert_entry(Entry {
            key: key.to_ascii_lowercase().into(),
            display: key.to_owned().into(),
            ty,
            values,
        });
        Ok(())
    }

    /// Each value must have the reading its key's type needs, and a
    /// single-valued type takes one value.
    fn check_values(key: &str, ty: ContextType, values: &[ContextValue]) -> Result<(), Error> {
        let invalid = |detail: String| Error::InvalidContext {
            key: key.to_owned(),
            detail,
        };
        if !ty.is_list() && values.len() > 1 {
            return Err(invalid(format!(
                "type {ty:?} takes one value, not {}",
                values.len()
            )));
        }
        for v in values {
            let ok = match ty {
                ContextType::String | ContextType::StringList => true,
                ContextType::Numeric | ContextType::NumericList => v.number.is_some(),
                ContextType::Date | ContextType::DateList => v.date.is_some(),
                ContextType::Boolean | ContextType::BooleanList => v.boolean.is_some(),
                ContextType::Ip | ContextType::IpList => v.ip.is_some(),
                ContextType::Binary | ContextType::BinaryList => {
                    matches!(v.binary, Binary::Decoded(Some(_)))
                }
            };
            if !ok {
                return Err(invalid(format!("`{}` is not a valid {ty:?} value", v.text)));
            }
            let read_as_binary = matches!(v.binary, Binary::Decoded(_));
            if read_as_binary != matches!(ty, ContextType::Binary | ContextType::BinaryList) {
                return Err(invalid(format!(
                    "`{}` was read for another type than {ty:?}",
                    v.text
                )));
            }
        }
        Ok(())
    }

    /// As [`Context::insert_values`], for a key named in advance: no key
    /// text is copied.
    ///
    /// # Errors
    /// As [`Context::insert_values`].
    pub fn insert_key(
        &mut self,
        key: &'static ContextKey,
        ty: ContextType,
        values: Vec<ContextValue>,
    ) -> Result<(), Error> {
        Self::check_values(key.display, ty, &values)?;
        self.insert_entry(Entry {
            key: Cow::Borrowed(&key.lowercase),
            display: Cow::Borrowed(key.display),
            ty,
            values,
        });
        Ok(())
    }

    fn insert_entry(&mut self, entry: Entry) {
        match self.entries.binary_search_by(|e| e.key.cmp(&entry.key)) {
            Ok(i) => {
                if let Some(slot) = self.entries.get_mut(i) {
                    *slot = entry;
                }
            }
            Err(i) => self.entries.insert(i, entry),
        }
    }

    /// The values of `key`, in any case (keys are stored lowercased and compared
    /// ignoring ASCII case, without allocating). `None` when the key is absent.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&[ContextValue]> {
        self.find(key).map(|e| e.values.as_slice())
    }

    /// The hot path's lookup: `key` is already lowercase (policies lowercase their
    /// keys when compiled), so a plain byte comparison does.
    pub(crate) fn get_lowercase(&self, key: &str) -> Option<&[ContextValue]> {
        match self.entries.binary_search_by(|e| (*e.key).cmp(key)) {
            Ok(i) => self.entries.get(i).map(|e| e.values.as_slice()),
            Err(_) => self.base.as_deref()?.get_lowercase(key),
        }
    }

    fn find(&self, key: &str) -> Option<&Entry> {
        let found = self.entries.binary_search_by(|e| {
            e.key
                .bytes()
                .cmp(key.bytes().map(|b| b.to_ascii_lowercase()))
        });
        match found {
            Ok(i) => self.entries.get(i),
            Err(_) => self.base.as_deref()?.find(key),
        }
    }

    /// Every entry, this context's and the base's it does not hide, in
    /// lowercase key order.
    fn all_entries(&self) -> Vec<&Entry> {
        let mut all: Vec<&Entry> = self.entries.iter().collect();
        if let Some(base) = &self.base {
            for e in base.all_entries() {
                if self
                    .entries
                    .binary_search_by(|o| o.key.cmp(&e.key))
                    .is_err()
                {
                    all.push(e);
                }
            }
            all.sort_by(|a, b| a.key.cmp(&b.key));
        }
        all
    }

    /// The keys as given, in lowercase order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.all_entries().into_iter().map(|e| &*e.display)
    }

    /// The declared type of a key, in any case.
    #[must_use]
    pub fn type_of(&self, key: &str) -> Option<ContextType> {
        self.find(key).map(|e| e.ty)
    }
}

/// One authorisation request. Borrowed throughout so that building one is free.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Who asks.
    pub principal: &'a Principal,
    /// `service:Action`.
    pub action: &'a str,
    /// The resource ARN (or `*` for actions without a resource).
    pub resource: &'a str,
    /// The account owning the resource; `None` = the principal's account.
    pub resource_account: Option<&'a str>,
    /// The request context.
    pub context: &'a Context,
}

impl Request<'_> {
    /// Whether principal and resource are in the same account.
    #[must_use]
    pub fn same_account(&self) -> bool {
        self.resource_account
            .is_none_or(|a| a == self.principal.account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The shortcuts before the parsers change no reading: an address
        /// or a date is read exactly as the parsers alone read it.
        #[test]
        fn shortcuts_read_as_the_parsers_do(
            text in proptest::string::string_regex(
                "[ 0-9a-fA-F:.%/\\-+TtZz]{0,40}|[0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9a-f:]{2,40}|-?[0-9]{1,12}(\\.[0-9]{0,3})?|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?)?Z?"
            ).unwrap()
        ) {
            proptest::prop_assert_eq!(parse_ip(&text), text.parse::<IpAddr>().ok());
            proptest::prop_assert_eq!(
                crate::condition::parse_date(&text),
                crate::condition::parse_date_forms(text.trim())
            );
        }
    }

    #[test]
    fn values_read_once_insert_as_text_does() {
        let mut by_text = Context::new();
        by_text
            .insert(
                "aws:CurrentTime",
                ContextType::Date,
                ["2026-11-29T01:00:00Z"],
            )
            .unwrap();
        let mut by_value = Context::new();
        let value = ContextValue::read("2026-11-29T01:00:00Z", ContextType::Date);
        by_value
            .insert_values("aws:CurrentTime", ContextType::Date, vec![value.clone()])
            .unwrap();
        assert_eq!(by_text, by_value);
        static CURRENT_TIME: std::sync::LazyLock<ContextKey> =
            std::sync::LazyLock::new(|| ContextKey::new("aws:CurrentTime"));
        let mut by_key = Context::new();
        by_key
            .insert_key(&CURRENT_TIME, ContextType::Date, vec![value.clone()])
            .unwrap();
        assert_eq!(by_text, by_key);
        assert_eq!(by_key.keys().collect::<Vec<_>>(), ["aws:CurrentTime"]);
        assert!(by_key.get("AWS:CURRENTTIME").is_some());
        // A value must suit its key's type, as with text.
        let name = ContextValue::read("alice", ContextType::String);
        assert!(
            by_value
                .insert_values("aws:EpochTime", ContextType::Date, vec![name])
                .is_err()
        );
        assert!(
            by_value
                .insert_values(
                    "aws:CurrentTime",
                    ContextType::Date,
                    vec![value.clone(), value]
                )
                .is_err()
        );
        let binary = ContextValue::read("YWJj", ContextType::Binary);
        assert!(
            by_value
                .insert_values("k", ContextType::String, vec![binary.clone()])
                .is_err()
        );
        assert!(
            by_value
                .insert_values("k", ContextType::Binary, vec![binary])
                .is_ok()
        );
        let text = ContextValue::read("YWJj", ContextType::String);
        assert!(
            by_value
                .insert_values("k", ContextType::Binary, vec![text])
                .is_err()
        );
    }

    #[test]
    fn addresses_and_dates_that_the_shortcuts_must_let_through() {
        for ip in [
            "127.0.0.1",
            "::1",
            "::",
            "::ffff:192.0.2.1",
            "2001:DB8::1",
            "fe80::1:2:3:4",
            "0.0.0.0",
        ] {
            assert_eq!(parse_ip(ip), Some(ip.parse().unwrap()), "{ip}");
        }
        for not_ip in [
            "",
            "1.2.3",
            "fe80::1%eth0",
            "10.0.0.0/8",
            " 127.0.0.1",
            "[::1]",
            "us-east-1",
        ] {
            assert_eq!(parse_ip(not_ip), None, "{not_ip}");
        }
        let value = ContextValue::new("2026-11-29T00:58:00Z", ContextType::Date);
        assert!(value.date().is_some() && value.ip().is_none() && value.number().is_none());
        let epoch = ContextValue::new("1764377880", ContextType::Date);
        assert_eq!(epoch.date(), Some(1_764_377_880_000_000_000));
        assert_eq!(epoch.number(), Some(1_764_377_880.0));
        assert_eq!(
            ContextValue::new(" -5", ContextType::Date).date(),
            Some(-5_000_000_000)
        );
        assert_eq!(
            ContextValue::new("AIDAEXAMPLE", ContextType::Date).date(),
            None
        );
    }

    #[test]
    fn keys_are_case_insensitive_and_typed() {
        let mut c = Context::new();
        c.insert("aws:SourceIp", ContextType::Ip, ["203.0.113.7"])
            .unwrap();
        c.insert("AWS:PrincipalTag/Team", ContextType::String, ["blue"])
            .unwrap();
        assert_eq!(c.get("aws:principaltag/team").unwrap()[0].text(), "blue");
        assert!(c.get("aws:sourceip").unwrap()[0].ip().is_some());
        assert!(c.get("AWS:SOURCEIP").is_some());
        assert!(c.get("aws:SourceIpx").is_none());
        assert!(c.insert("aws:SourceIp", ContextType::Ip, ["nope"]).is_err());
        assert!(c.insert("k:x", ContextType::String, ["a", "b"]).is_err());
        assert!(
            c.insert("k:x", ContextType::Date, ["2026-01-01T00:00:00Z"])
                .is_ok()
        );
    }

    #[test]
    fn a_context_over_a_base_reads_through_and_hides_what_it_sets() {
        let mut base = Context::new();
        base.insert("aws:PrincipalTag/team", ContextType::String, ["blue"])
            .unwrap();
        base.insert("aws:username", ContextType::String, ["alice"])
            .unwrap();
        let base = Arc::new(base);
        let mut c = Context::over(base.clone());
        c.insert("aws:PrincipalTag/Team", ContextType::String, ["red"])
            .unwrap();
        c.insert("aws:SourceIp", ContextType::Ip, ["203.0.113.7"])
            .unwrap();
        // Own keys first, in any case; the base's where this one is silent.
        assert_eq!(c.get("AWS:PRINCIPALTAG/TEAM").unwrap()[0].text(), "red");
        assert_eq!(
            c.get_lowercase("aws:principaltag/team").unwrap()[0].text(),
            "red"
        );
        assert_eq!(c.get("aws:UserName").unwrap()[0].text(), "alice");
        assert_eq!(c.get_lowercase("aws:username").unwrap()[0].text(), "alice");
        assert_eq!(c.type_of("aws:username"), Some(ContextType::String));
        assert!(c.get("aws:SourceIp").unwrap()[0].ip().is_some());
        assert!(c.get("aws:nothing").is_none());
        // Each key once, the hidden one not at all, in lowercase order.
        assert_eq!(
            c.keys().collect::<Vec<_>>(),
            ["aws:PrincipalTag/Team", "aws:SourceIp", "aws:username"]
        );
        // The base is shared, not changed.
        assert_eq!(base.get("aws:principaltag/team").unwrap()[0].text(), "blue");
        assert!(base.get("aws:sourceip").is_none());
    }

    #[test]
    fn only_binary_values_read_as_decoded_bytes() {
        let mut c = Context::new();
        c.insert("k:bin", ContextType::Binary, ["aGk="]).unwrap();
        c.insert("k:text", ContextType::String, ["aGk="]).unwrap();
        assert_eq!(c.get("k:bin").unwrap()[0].binary(), Some(&b"hi"[..]));
        assert_eq!(c.get("k:text").unwrap()[0].binary(), Some(&b"aGk="[..]));
    }

    #[test]
    fn role_session_principal() {
        let p = Principal::new(
            PrincipalKind::RoleSession,
            "arn:aws:sts::111122223333:assumed-role/Admin/bob",
        );
        assert_eq!(p.account, "111122223333");
        assert_eq!(
            p.role_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/Admin")
        );
    }
}
