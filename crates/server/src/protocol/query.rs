//! The request side of the Query protocol: a form body of `Key=Value`
//! pairs, with lists flattened as `Name.member.N[.Field]` and maps as
//! `Name.entry.N.key` / `Name.entry.N.value`.
//!
//! Generated `decode` functions walk their shape with a [`Decoder`], which
//! checks every constraint of the model (required, length, pattern, enum,
//! range) and collects the failures in AWS's `ValidationError` wording, so
//! one response names every bad parameter, as AWS does.

use std::borrow::Cow;
use std::sync::LazyLock;

use base64::Engine as _;
use regex::Regex;

use crate::error::ApiError;
use crate::protocol::form;
use crate::protocol::xml::{Blob, Sensitive, Timestamp};

/// The decoded form parameters of one request.
#[derive(Debug, Default, Clone)]
pub struct QueryParams<'a> {
    // Sorted by key, one pair per key, so that a lookup is a binary search
    // and "is there any key under this prefix" (which list decoding needs
    // for lists of structures) is one as well. A request has a handful of
    // pairs, which a vector sorts and searches faster than a tree builds.
    // Text without escapes is borrowed from the request, not copied.
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> QueryParams<'a> {
    /// Parses an `application/x-www-form-urlencoded` body (or query string).
    /// A repeated key keeps its last value.
    pub fn parse(form: &'a [u8]) -> Self {
        let mut params = QueryParams::default();
        params.extend(form);
        params
    }

    /// Adds the pairs of a form that may not be UTF-8.
    pub fn extend(&mut self, form: &'a [u8]) {
        self.pairs.extend(form::pairs_of_bytes(form));
        self.settle();
    }

    /// Adds the pairs of a form; those without escapes (nearly all) stay
    /// borrowed from it.
    pub fn extend_text(&mut self, form: &'a str) {
        self.pairs.extend(form::pairs(form));
        self.settle();
    }

    /// Sorts by key and keeps the last value of a repeated key. Clients
    /// send their pairs in a fixed order, often already sorted.
    fn settle(&mut self) {
        if !self.pairs.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable, so a repeated key's values stay in request order.
            self.pairs.sort_by(|a, b| a.0.cmp(&b.0));
            // `later` is removed when it repeats `kept`'s key; its value
            // replaces `kept`'s first, so the last one wins.
            self.pairs.dedup_by(|later, kept| {
                let repeated = later.0 == kept.0;
                if repeated {
                    std::mem::swap(&mut later.1, &mut kept.1);
                }
                repeated
            });
        }
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.pairs.binary_search_by(|(k, _)| (**k).cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        let at = self.position(key).ok()?;
        self.pairs.get(at).map(|(_, v)| &**v)
    }

    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key: String = key.into();
        let value = Cow::Owned(value.into());
        match self.position(&key) {
            Ok(at) => {
                if let Some(pair) = self.pairs.get_mut(at) {
                    pair.1 = value;
                }
            }
            Err(at) => self.pairs.insert(at, (Cow::Owned(key), value)),
        }
    }

    /// True when `key` itself or any `key.…` is present.
    fn has_under(&self, key: &str) -> bool {
        let at = match self.position(key) {
            Ok(_) => return true,
            Err(at) => at,
        };
        // Every key that starts with `key.` sorts right after `key`, but
        // so may others (`key-…`), so look at each following key with the
        // prefix.
        self.pairs
            .get(at..)
            .unwrap_or_default()
            .iter()
            .take_while(|(k, _)| k.starts_with(key))
            .any(|(k, _)| k.get(key.len()..).is_some_and(|rest| rest.starts_with('.')))
    }
}

/// The constraints the model puts on a string shape.
#[derive(Debug)]
pub struct StringRules {
    pub min: Option<usize>,
    pub max: Option<usize>,
    /// The pattern as the model writes it (for the error message) and the
    /// compiled, anchored equivalent.
    pub pattern: Option<(&'static str, &'static LazyLock<Pattern>)>,
    pub enum_values: &'static [&'static str],
    pub sensitive: bool,
}

impl StringRules {
    pub const NONE: StringRules = StringRules {
        min: None,
        max: None,
        pattern: None,
        enum_values: &[],
        sensitive: false,
    };
}

/// The constraints the model puts on an integer shape.
#[derive(Debug)]
pub struct IntRules {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

/// A model's pattern, compiled. Most patterns of names are one character
/// class repeated (`^(?:[0-9A-Za-z_+=,.@-]+)$`); for those, text that is
/// all ASCII is checked against a table of the class, a byte at a time,
/// and only other text goes to the regex. Every request with a name in it
/// checks one, and the regex engine's set-up cost more than the check.
#[derive(Debug)]
pub struct Pattern {
    class: Option<ByteClass>,
    regex: Regex,
}

/// `^(?:[class]+)$` or `^(?:[class]*)$` over ASCII characters.
#[derive(Debug)]
struct ByteClass {
    allowed: [bool; 128],
    empty_matches: bool,
}

impl ByteClass {
    /// The class of `anchored` when it is exactly one bracketed class of
    /// ASCII literals and ranges (no escapes, no negation), repeated.
    fn of(anchored: &str) -> Option<Self> {
        let inner = anchored.strip_prefix("^(?:[")?.strip_suffix(")$")?;
        let (class, empty_matches) = match inner.strip_suffix("]+") {
            Some(class) => (class, false),
            None => (inner.strip_suffix("]*")?, true),
        };
        let bytes = class.as_bytes();
        if bytes.is_empty()
            || bytes.first() == Some(&b'^')
            || bytes
                .iter()
                .any(|&b| !(0x20..0x7f).contains(&b) || matches!(b, b'\\' | b'[' | b']'))
        {
            return None;
        }
        let mut allowed = [false; 128];
        let mut i = 0;
        while let Some(&first) = bytes.get(i) {
            // `a-z` is a range; a `-` first or last is itself.
            match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(b'-'), Some(&last)) => {
                    if last < first {
                        return None;
                    }
                    for b in first..=last {
                        *allowed.get_mut(usize::from(b))? = true;
                    }
                    i += 3;
                }
                _ => {
                    *allowed.get_mut(usize::from(first))? = true;
                    i += 1;
                }
            }
        }
        Some(ByteClass {
            allowed,
            empty_matches,
        })
    }

    /// `Some(whether it matches)`, or `None` at a byte that is not ASCII
    /// (left to the regex) before any that is outside the class.
    fn check(&self, text: &str) -> Option<bool> {
        for b in text.bytes() {
            match self.allowed.get(usize::from(b)) {
                Some(true) => {}
                Some(false) => return Some(false),
                None => return None,
            }
        }
        Some(self.empty_matches || !text.is_empty())
    }
}

impl Pattern {
    /// Whether a table of the class answers for this pattern.
    #[cfg(test)]
    pub(crate) fn has_class(&self) -> bool {
        self.class.is_some()
    }

    pub fn is_match(&self, text: &str) -> bool {
        match self.class.as_ref().and_then(|class| class.check(text)) {
            Some(matches) => matches,
            None => self.regex.is_match(text),
        }
    }
}

/// Builds a pattern the code generator has already made valid for the
/// `regex` crate. A pattern that fails to compile (which a test rules out
/// for every generated pattern) matches everything rather than taking the
/// service down.
pub fn compile_pattern(anchored: &str) -> Pattern {
    match Regex::new(anchored) {
        Ok(regex) => Pattern {
            class: ByteClass::of(anchored),
            regex,
        },
        Err(_) => Pattern {
            class: None,
            regex: match_anything(),
        },
    }
}

#[expect(clippy::expect_used, reason = "the empty pattern always compiles")]
fn match_anything() -> Regex {
    Regex::new("").expect("the empty pattern compiles")
}

/// Joins a parameter key: `Tags.member.1` + `Key`. A top-level member's key
/// is its name, borrowed: most requests have only those.
pub fn key<'a>(prefix: &str, name: &'a str) -> Cow<'a, str> {
    if prefix.is_empty() {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("{prefix}.{name}"))
    }
}

/// Joins a validation path as AWS writes it: `tags.1.member.key`. `name` is
/// already in that spelling (the generator lowercases its first letter), so
/// a top-level member's path is borrowed too: it is read only when a check
/// fails.
pub fn path<'a>(prefix: &str, name: &'a str) -> Cow<'a, str> {
    key(prefix, name)
}

/// Walks the parameters of one request, collecting validation failures.
#[derive(Debug)]
pub struct Decoder<'a> {
    params: &'a QueryParams<'a>,
    errors: Vec<String>,
}

impl<'a> Decoder<'a> {
    pub fn new(params: &'a QueryParams) -> Self {
        Decoder {
            params,
            errors: Vec::new(),
        }
    }

    /// The decoded value, or AWS's `ValidationError` naming every failure.
    pub fn finish<T>(self, value: T) -> Result<T, ApiError> {
        match self.errors.len() {
            0 => Ok(value),
            1 => Err(ApiError::validation(format!(
                "1 validation error detected: {}",
                self.errors.join("; ")
            ))),
            n => Err(ApiError::validation(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            ))),
        }
    }

    fn fail(&mut self, value: Option<&str>, path: &str, constraint: &str) {
        let value = match value {
            Some(v) => format!("Value '{v}'"),
            None => "Value".to_owned(),
        };
        self.errors.push(format!(
            "{value} at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A required member: records "must not be null" when absent.
    pub fn required<T: Default>(&mut self, value: Option<T>, path: &str) -> T {
        match value {
            Some(v) => v,
            None => {
                self.errors.push(format!(
                    "Value null at '{path}' failed to satisfy constraint: Member must not be null"
                ));
                T::default()
            }
        }
    }

    pub fn string(&mut self, key: &str, path: &str, rules: &StringRules) -> Option<String> {
        let raw = self.params.get(key)?;
        let shown = if rules.sensitive { None } else { Some(raw) };
        let len = raw.chars().count();
        if let Some(min) = rules.min
            && len < min
        {
            self.fail(
                shown,
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if let Some(max) = rules.max
            && len > max
        {
            self.fail(
                shown,
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
        if let Some((source, regex)) = rules.pattern
            && !regex.is_match(raw)
        {
            self.fail(
                shown,
                path,
                &format!("Member must satisfy regular expression pattern: {source}"),
            );
        }
        if !rules.enum_values.is_empty() && !rules.enum_values.contains(&raw) {
            self.fail(
                shown,
                path,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    rules.enum_values.join(", ")
                ),
            );
        }
        Some(raw.to_owned())
    }

    pub fn sensitive(&mut self, key: &str, path: &str, rules: &StringRules) -> Option<Sensitive> {
        self.string(key, path, rules).map(Sensitive)
    }

    pub fn integer(&mut self, key: &str, path: &str, rules: &IntRules) -> Option<i32> {
        let raw = self.params.get(key)?;
        let Ok(v) = raw.trim().parse::<i32>() else {
            self.fail(Some(raw), path, "Member must be a number");
            return None;
        };
        if let Some(min) = rules.min
            && i64::from(v) < min
        {
            self.fail(
                Some(raw),
                path,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if let Some(max) = rules.max
            && i64::from(v) > max
        {
            self.fail(
                Some(raw),
                path,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
        Some(v)
    }

    pub fn boolean(&mut self, key: &str, path: &str) -> Option<bool> {
        let raw = self.params.get(key)?;
        if raw.eq_ignore_ascii_case("true") {
            Some(true)
        } else if raw.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            self.fail(Some(raw), path, "Member must be a boolean (true or false)");
            None
        }
    }

    pub fn timestamp(&mut self, key: &str, path: &str) -> Option<Timestamp> {
        let raw = self.params.get(key)?;
        let parsed = time::OffsetDateTime::parse(
            raw,
            &time::format_description::well_known::Iso8601::DEFAULT,
        )
        .ok()
        .or_else(|| {
            raw.parse::<f64>().ok().and_then(|secs| {
                #[expect(clippy::cast_possible_truncation, reason = "epoch seconds")]
                time::OffsetDateTime::from_unix_timestamp(secs as i64).ok()
            })
        });
        match parsed {
            Some(t) => Some(Timestamp(t)),
            None => {
                self.fail(Some(raw), path, "Member must be an ISO 8601 timestamp");
                None
            }
        }
    }

    pub fn blob(&mut self, key: &str, path: &str) -> Option<Blob> {
        let raw = self.params.get(key)?;
        match base64::engine::general_purpose::STANDARD.decode(raw) {
            Ok(bytes) => Some(Blob(bytes)),
            Err(_) => {
                self.fail(None, path, "Member must be base64-encoded");
                None
            }
        }
    }

    /// A list: `key.member.1`, `key.member.2`, … up to the first gap. An
    /// empty list is sent as `key=` with no members.
    pub fn list<T>(
        &mut self,
        key: &str,
        path: &str,
        min: Option<usize>,
        max: Option<usize>,
        mut item: impl FnMut(&mut Self, &str, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        if !self.params.has_under(key) {
            return None;
        }
        let mut items = Vec::new();
        for n in 1.. {
            let item_key = format!("{key}.member.{n}");
            if !self.params.has_under(&item_key) {
                break;
            }
            let item_path = format!("{path}.{n}.member");
            if let Some(v) = item(self, &item_key, &item_path) {
                items.push(v);
            }
        }
        self.check_len(items.len(), path, min, max);
        Some(items)
    }

    /// A map: `key.entry.N.key` and `key.entry.N.value`.
    pub fn map<K, V>(
        &mut self,
        key: &str,
        path: &str,
        max: Option<usize>,
        mut entry: impl FnMut(&mut Self, &str, &str) -> (Option<K>, Option<V>),
    ) -> Option<Vec<(K, V)>> {
        if !self.params.has_under(key) {
            return None;
        }
        let mut entries = Vec::new();
        for n in 1.. {
            let entry_key = format!("{key}.entry.{n}");
            if !self.params.has_under(&entry_key) {
                break;
            }
            let entry_path = format!("{path}.{n}");
            match entry(self, &entry_key, &entry_path) {
                (Some(k), Some(v)) => entries.push((k, v)),
                _ => self.fail(None, &entry_path, "Map entries must have a key and a value"),
            }
        }
        self.check_len(entries.len(), path, None, max);
        Some(entries)
    }

    /// A nested structure is present when any of its members is.
    pub fn present(&self, key: &str) -> bool {
        self.params.has_under(key)
    }

    fn check_len(&mut self, len: usize, path: &str, min: Option<usize>, max: Option<usize>) {
        if let Some(min) = min
            && len < min
        {
            self.fail(
                None,
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if let Some(max) = max
            && len > max
        {
            self.fail(
                None,
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static NAME_RE: LazyLock<Pattern> =
        LazyLock::new(|| compile_pattern(r"^(?:[0-9A-Za-z_+=,.@-]+)$"));
    static NAME: StringRules = StringRules {
        min: Some(1),
        max: Some(64),
        pattern: Some((r"[\w+=,.@-]+", &NAME_RE)),
        enum_values: &[],
        sensitive: false,
    };

    #[test]
    fn a_repeated_key_keeps_its_last_value_in_any_order() {
        let q = QueryParams::parse(b"b=1&a=x&b=2&c=&b=3");
        assert_eq!(q.get("b"), Some("3"));
        assert_eq!(q.get("a"), Some("x"));
        assert_eq!(q.get("c"), Some(""));
        assert_eq!(q.get("d"), None);
        let mut q = QueryParams::parse(b"a=1");
        q.insert("a", "2");
        q.insert("0", "z");
        assert_eq!((q.get("a"), q.get("0")), (Some("2"), Some("z")));
    }

    #[test]
    fn members_are_found_past_keys_that_sort_between() {
        // `Tags-x` sorts after `Tags` and before `Tags.member.1`.
        let q = QueryParams::parse(b"Tags-x=1&Tags.member.1.Key=k");
        assert!(q.has_under("Tags"));
        assert!(!QueryParams::parse(b"Tags-x=1&TagsX.a=1").has_under("Tags"));
    }

    #[test]
    fn reports_every_failure_in_aws_wording() {
        let q = QueryParams::parse(b"UserName=bad%20name");
        let mut d = Decoder::new(&q);
        let name = d.string("UserName", "userName", &NAME);
        let missing: String = d.required(None, "path");
        assert_eq!(name.as_deref(), Some("bad name"));
        assert_eq!(missing, "");
        let err = d.finish(()).unwrap_err();
        assert_eq!(
            err.message(),
            "2 validation errors detected: Value 'bad name' at 'userName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+; Value null \
             at 'path' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn lists_stop_at_the_first_gap_and_see_structure_members() {
        let q = QueryParams::parse(
            b"Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Key=b&Tags.member.2.Value=2&Tags.member.4.Key=z",
        );
        let mut d = Decoder::new(&q);
        let tags = d.list("Tags", "tags", None, Some(50), |d, k, _| {
            d.string(&key(k, "Key"), "k", &StringRules::NONE)
        });
        assert_eq!(tags, Some(vec!["a".to_string(), "b".to_string()]));
        assert!(d.finish(()).is_ok());
    }

    #[test]
    fn an_empty_list_is_a_bare_key() {
        let q = QueryParams::parse(b"Tags=");
        let mut d = Decoder::new(&q);
        let tags = d.list("Tags", "tags", None, None, |d, k, p| {
            d.string(k, p, &StringRules::NONE)
        });
        assert_eq!(tags, Some(vec![]));
    }

    #[test]
    fn list_length_limits_are_enforced() {
        let q = QueryParams::parse(b"L.member.1=a&L.member.2=b&L.member.3=c");
        let mut d = Decoder::new(&q);
        let _ = d.list("L", "l", None, Some(2), |d, k, p| {
            d.string(k, p, &StringRules::NONE)
        });
        let err = d.finish(()).unwrap_err();
        assert!(
            err.message()
                .contains("Member must have length less than or equal to 2"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn integers_are_range_checked() {
        let q = QueryParams::parse(b"MaxItems=5000&Other=x");
        let mut d = Decoder::new(&q);
        let rules = IntRules {
            min: Some(1),
            max: Some(1000),
        };
        assert_eq!(d.integer("MaxItems", "maxItems", &rules), Some(5000));
        assert_eq!(d.integer("Other", "other", &rules), None);
        let err = d.finish(()).unwrap_err();
        assert!(err.message().starts_with("2 validation errors detected"));
    }
}
