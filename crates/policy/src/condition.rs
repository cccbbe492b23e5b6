//! Condition operators and their evaluation.
//!
//! The rules (IAM User Guide, "Condition operators" and "Conditions with multiple
//! context keys or values"): several operators AND, several keys AND, several values
//! of one key OR — and for a negated operator, the values NOR. A key absent from the
//! request makes a condition false, except for negated operators (true), `...IfExists`
//! (true), `Null` (which tests presence) and `ForAllValues` (true, vacuously).
//! `ForAnyValue` needs at least one request value to match; `ForAllValues` needs every
//! request value to match.
//!
//! Policy values are parsed when the policy is compiled; request values when the
//! [`Context`] is built. Evaluation compares pre-parsed values and does not allocate,
//! except to substitute policy variables.

use std::net::IpAddr;

use serde::Serialize;

use crate::arn::ArnPattern;
use crate::context::{Context, ContextValue};
use crate::document::{ConditionEntry, ConditionOperatorBlock};
use crate::pattern::{self, Glob, TTok};

/// `ForAllValues:` / `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Qualifier {
    /// No set operator.
    None,
    /// `ForAllValues:`: every request value must match (true when there are none).
    ForAllValues,
    /// `ForAnyValue:`: at least one request value must match.
    ForAnyValue,
}

/// Operator families, which decide how values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum OperatorFamily {
    /// `String*`
    String,
    /// `Numeric*`
    Numeric,
    /// `Date*`
    Date,
    /// `Bool`
    Bool,
    /// `BinaryEquals`
    Binary,
    /// `IpAddress`, `NotIpAddress`
    Ip,
    /// `Arn*`
    Arn,
    /// `Null`
    Null,
}

/// The base operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[expect(missing_docs, reason = "the variants are AWS's operator names")]
pub enum Op {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const OPS: [(&str, Op); 27] = [
    ("StringEquals", Op::StringEquals),
    ("StringNotEquals", Op::StringNotEquals),
    ("StringEqualsIgnoreCase", Op::StringEqualsIgnoreCase),
    ("StringNotEqualsIgnoreCase", Op::StringNotEqualsIgnoreCase),
    ("StringLike", Op::StringLike),
    ("StringNotLike", Op::StringNotLike),
    ("NumericEquals", Op::NumericEquals),
    ("NumericNotEquals", Op::NumericNotEquals),
    ("NumericLessThan", Op::NumericLessThan),
    ("NumericLessThanEquals", Op::NumericLessThanEquals),
    ("NumericGreaterThan", Op::NumericGreaterThan),
    ("NumericGreaterThanEquals", Op::NumericGreaterThanEquals),
    ("DateEquals", Op::DateEquals),
    ("DateNotEquals", Op::DateNotEquals),
    ("DateLessThan", Op::DateLessThan),
    ("DateLessThanEquals", Op::DateLessThanEquals),
    ("DateGreaterThan", Op::DateGreaterThan),
    ("DateGreaterThanEquals", Op::DateGreaterThanEquals),
    ("Bool", Op::Bool),
    ("BinaryEquals", Op::BinaryEquals),
    ("IpAddress", Op::IpAddress),
    ("NotIpAddress", Op::NotIpAddress),
    ("ArnEquals", Op::ArnEquals),
    ("ArnLike", Op::ArnLike),
    ("ArnNotEquals", Op::ArnNotEquals),
    ("ArnNotLike", Op::ArnNotLike),
    ("Null", Op::Null),
];

impl Op {
    /// The operator's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        OPS.iter().find(|(_, o)| *o == self).map_or("", |(n, _)| n)
    }

    /// The family.
    #[must_use]
    pub fn family(self) -> OperatorFamily {
        use Op::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => OperatorFamily::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => OperatorFamily::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => OperatorFamily::Date,
            Bool => OperatorFamily::Bool,
            BinaryEquals => OperatorFamily::Binary,
            IpAddress | NotIpAddress => OperatorFamily::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => OperatorFamily::Arn,
            Null => OperatorFamily::Null,
        }
    }

    /// Whether the operator is the negation of a matching operator (`...Not...`):
    /// such operators are true when no value matches, and when the key is absent.
    #[must_use]
    pub fn negated(self) -> bool {
        use Op::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }
}

/// A parsed operator name such as `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Operator {
    /// The set operator.
    pub qualifier: Qualifier,
    /// The base operator.
    pub op: Op,
    /// `...IfExists`.
    pub if_exists: bool,
    /// The family of `op`.
    pub family: OperatorFamily,
}

impl std::fmt::Display for Operator {
    /// The canonical name, e.g. `ForAnyValue:StringLikeIfExists`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.qualifier {
            Qualifier::None => {}
            Qualifier::ForAllValues => f.write_str("ForAllValues:")?,
            Qualifier::ForAnyValue => f.write_str("ForAnyValue:")?,
        }
        f.write_str(self.op.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

impl Operator {
    /// Parses an operator name; `None` if unknown.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        let (qualifier, rest) = if let Some(r) = strip_prefix_ci(name, "ForAllValues:") {
            (Qualifier::ForAllValues, r)
        } else if let Some(r) = strip_prefix_ci(name, "ForAnyValue:") {
            (Qualifier::ForAnyValue, r)
        } else {
            (Qualifier::None, name)
        };
        let (base, if_exists) = match rest
            .len()
            .checked_sub(8)
            .and_then(|i| rest.get(i..).map(|s| (i, s)))
        {
            Some((i, suffix)) if suffix.eq_ignore_ascii_case("IfExists") => {
                (rest.get(..i).unwrap_or_default(), true)
            }
            _ => (rest, false),
        };
        let op = OPS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(base))
            .map(|(_, o)| *o)?;
        if op == Op::Null && (if_exists || qualifier != Qualifier::None) {
            return None;
        }
        Some(Self {
            qualifier,
            op,
            if_exists,
            family: op.family(),
        })
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..).unwrap_or_default())
}

// ---------------------------------------------------------------------------
// Value parsers shared by policy compilation and the request context.

/// A decimal number (integer or fraction, optional exponent). Refuses `inf`/`NaN`,
/// which Rust's float parser would take.
#[must_use]
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// An ISO 8601 date or date-time (W3C profile: `YYYY-MM-DD`, `YYYY-MM-DDThh:mm`,
/// `...:ss`, `...:ss.fff`, with `Z`, `±hh:mm` or no zone = UTC) or epoch seconds.
/// Returns nanoseconds since the epoch.
#[must_use]
pub fn parse_date(s: &str) -> Option<i128> {
    let s = s.trim();
    // Both forms start with a digit (epoch seconds may carry a sign): any
    // other value is refused before the two parses.
    if !s
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'-')
    {
        return None;
    }
    parse_date_forms(s)
}

/// [`parse_date`] of trimmed text, without the first-byte shortcut.
pub(crate) fn parse_date_forms(s: &str) -> Option<i128> {
    if let Some(epoch) = parse_epoch(s) {
        return Some(epoch);
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let year = num(0..4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = num(5..7)?;
    let day = num(8..10)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut nanos: i128 = 0;
    let mut i = 10;
    if i < b.len() {
        if b.get(i) != Some(&b'T') && b.get(i) != Some(&b't') {
            return None;
        }
        let hour = num(11..13)?;
        if b.get(13) != Some(&b':') {
            return None;
        }
        let minute = num(14..16)?;
        i = 16;
        let mut second = 0;
        if b.get(i) == Some(&b':') {
            second = num(17..19)?;
            i = 19;
            if b.get(i) == Some(&b'.') {
                let start = i + 1;
                let mut end = start;
                while b.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                if end == start {
                    return None;
                }
                let frac = s.get(start..end.min(start + 9))?;
                let scale = 10i128.pow(u32::try_from(9 - frac.len()).unwrap_or(0));
                nanos = frac.parse::<i128>().ok()? * scale;
                i = end;
            }
        }
        if hour > 24 || minute > 59 || second > 60 || (hour == 24 && (minute > 0 || second > 0)) {
            return None;
        }
        secs += hour * 3600 + minute * 60 + second;
        match b.get(i) {
            None => {}
            Some(b'Z' | b'z') if i + 1 == b.len() => {}
            Some(sign @ (b'+' | b'-')) => {
                let oh = num(i + 1..i + 3)?;
                let om = match b.get(i + 3) {
                    Some(b':') if b.len() == i + 6 => num(i + 4..i + 6)?,
                    None => 0,
                    Some(_) if b.len() == i + 5 => num(i + 3..i + 5)?,
                    _ => return None,
                };
                if oh > 23 || om > 59 {
                    return None;
                }
                let off = oh * 3600 + om * 60;
                secs += if *sign == b'+' { -off } else { off };
            }
            _ => return None,
        }
    }
    Some(i128::from(secs) * 1_000_000_000 + nanos)
}

/// Epoch seconds, integer or with a fraction, exactly (no float rounding).
fn parse_epoch(s: &str) -> Option<i128> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty()
        || int.len() > 18
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac = frac.get(..frac.len().min(9)).unwrap_or_default();
    let nanos = if frac.is_empty() {
        0
    } else {
        frac.parse::<i128>().ok()? * 10i128.pow(u32::try_from(9 - frac.len()).unwrap_or(0))
    };
    let v = int.parse::<i128>().ok()? * 1_000_000_000 + nanos;
    Some(if neg { -v } else { v })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An IPv4 or IPv6 CIDR block (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `a.b.c.d`, `x::y/n` or `x::y`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 => {
                p.parse::<u8>().ok()?
            }
            Some(_) => return None,
            None => max,
        };
        (prefix <= max).then_some(Self { addr, prefix })
    }

    /// Whether `ip` is inside the block (IPv4 and IPv6 never mix).
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Standard base64, padding optional.
#[must_use]
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    // A single leftover character cannot encode a byte.
    (bits < 6).then_some(out)
}

// ---------------------------------------------------------------------------
// Compiled conditions

/// A string value that may hold policy variables.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StrValue {
    Static(Glob),
    Dynamic(Box<[TTok]>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ArnValue {
    Static(ArnPattern),
    Dynamic(Box<[TTok]>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Values {
    Str(Box<[StrValue]>),
    /// `None`: a value that is not a number, which matches nothing (IAM accepts the
    /// policy; Access Analyzer reports it).
    Num(Box<[Option<f64>]>),
    Date(Box<[Option<i128>]>),
    /// `None`: neither `true` nor `false`, which matches nothing.
    Bool(Box<[Option<bool>]>),
    Bin(Box<[Option<Box<[u8]>>]>),
    Ip(Box<[Option<Cidr>]>),
    Arn(Box<[ArnValue]>),
    Null(Box<[bool]>),
}

/// One (operator, key, values) triple.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    pub operator: Operator,
    /// The key lowercased (for the allocation-free exact lookup of the hot path) then
    /// as written (for explanations), in one string: ASCII lowercasing keeps the
    /// length, so each is one half.
    keys: Box<str>,
    pub values: Values,
}

impl Condition {
    /// Compiles one key of an operator block. `variables`: whether `${...}` is
    /// substituted (Version 2012-10-17).
    pub(crate) fn compile(
        block: &ConditionOperatorBlock,
        entry: &ConditionEntry,
        variables: bool,
    ) -> Option<Self> {
        let op = block.parsed;
        let texts = entry.values.iter().map(|v| v.value.as_text());
        let values = match op.family {
            OperatorFamily::String => {
                let wildcards = matches!(op.op, Op::StringLike | Op::StringNotLike);
                let ci = matches!(
                    op.op,
                    Op::StringEqualsIgnoreCase | Op::StringNotEqualsIgnoreCase
                );
                Values::Str(
                    texts
                        .map(|t| {
                            let toks = if variables {
                                pattern::parse_template(t, wildcards)
                            } else {
                                pattern::parse_template_literal(t, wildcards)
                            };
                            if pattern::has_vars(&toks) {
                                StrValue::Dynamic(toks.into_boxed_slice())
                            } else if ci {
                                StrValue::Static(Glob::Exact(
                                    pattern::literal_text(&pattern::plain_tokens(toks))
                                        .to_lowercase()
                                        .into(),
                                ))
                            } else {
                                StrValue::Static(Glob::from_tokens(
                                    pattern::plain_tokens(toks),
                                    false,
                                ))
                            }
                        })
                        .collect(),
                )
            }
            OperatorFamily::Arn => Values::Arn(
                texts
                    .map(|t| {
                        let toks = if variables {
                            pattern::parse_template(t, true)
                        } else {
                            pattern::parse_template_literal(t, true)
                        };
                        if pattern::has_vars(&toks) {
                            ArnValue::Dynamic(toks.into_boxed_slice())
                        } else {
                            ArnValue::Static(ArnPattern::from_tokens(pattern::plain_tokens(toks)))
                        }
                    })
                    .collect(),
            ),
            OperatorFamily::Numeric => Values::Num(texts.map(parse_number).collect()),
            OperatorFamily::Date => Values::Date(texts.map(parse_date).collect()),
            OperatorFamily::Ip => Values::Ip(texts.map(Cidr::parse).collect()),
            OperatorFamily::Binary => Values::Bin(
                texts
                    .map(|t| decode_base64(t).map(Vec::into_boxed_slice))
                    .collect(),
            ),
            OperatorFamily::Bool => Values::Bool(
                texts
                    .map(|t| {
                        if t.eq_ignore_ascii_case("true") {
                            Some(true)
                        } else if t.eq_ignore_ascii_case("false") {
                            Some(false)
                        } else {
                            None
                        }
                    })
                    .collect(),
            ),
            OperatorFamily::Null => {
                Values::Null(texts.map(|t| t.eq_ignore_ascii_case("true")).collect())
            }
        };
        Some(Self {
            operator: op,
            keys: [
                entry.key.value.to_ascii_lowercase().as_str(),
                &entry.key.value,
            ]
            .concat()
            .into(),
            values,
        })
    }

    /// The key, lowercased.
    pub(crate) fn key(&self) -> &str {
        self.keys.get(..self.keys.len() / 2).unwrap_or_default()
    }

    /// The key as the policy wrote it.
    pub(crate) fn key_text(&self) -> &str {
        self.keys.get(self.keys.len() / 2..).unwrap_or_default()
    }

    /// The keys this condition reads: its own and those of the policy
    /// variables in its values.
    pub(crate) fn context_keys<'s>(&'s self, out: &mut Vec<&'s str>) {
        out.push(self.key());
        match &self.values {
            Values::Str(v) => {
                for x in v {
                    if let StrValue::Dynamic(toks) = x {
                        pattern::variable_keys(toks, out);
                    }
                }
            }
            Values::Arn(v) => {
                for x in v {
                    if let ArnValue::Dynamic(toks) = x {
                        pattern::variable_keys(toks, out);
                    }
                }
            }
            _ => {}
        }
    }

    pub(crate) fn uses_variables(&self) -> bool {
        match &self.values {
            Values::Str(v) => v.iter().any(|x| matches!(x, StrValue::Dynamic(_))),
            Values::Arn(v) => v.iter().any(|x| matches!(x, ArnValue::Dynamic(_))),
            _ => false,
        }
    }

    /// Evaluates the condition against the request context.
    pub(crate) fn eval(&self, ctx: &Context) -> bool {
        let present = ctx.get_lowercase(self.key()).filter(|v| !v.is_empty());
        if let Values::Null(expect_absent) = &self.values {
            return expect_absent
                .iter()
                .any(|absent| *absent == present.is_none());
        }
        let negated = self.operator.op.negated();
        let Some(values) = present else {
            return self.operator.if_exists
                || match self.operator.qualifier {
                    Qualifier::ForAllValues => true,
                    Qualifier::ForAnyValue => false,
                    Qualifier::None => negated,
                };
        };
        // `hit(v)`: the request value satisfies the operator (for a negated operator:
        // it matches none of the policy values).
        let hit = |v: &ContextValue| self.matches_any(v, ctx) != negated;
        match self.operator.qualifier {
            Qualifier::ForAllValues => values.iter().all(hit),
            Qualifier::ForAnyValue => values.iter().any(hit),
            Qualifier::None => {
                if negated {
                    values.iter().all(hit)
                } else {
                    values.iter().any(hit)
                }
            }
        }
    }

    /// Whether the request value matches at least one policy value under the
    /// operator's positive form.
    fn matches_any(&self, v: &ContextValue, ctx: &Context) -> bool {
        use Op::*;
        match &self.values {
            Values::Str(ps) => {
                let ci = matches!(
                    self.operator.op,
                    StringEqualsIgnoreCase | StringNotEqualsIgnoreCase
                );
                ps.iter().any(|p| match p {
                    StrValue::Static(Glob::Exact(s)) if ci => eq_ignore_case(v.text(), s),
                    StrValue::Static(g) => g.matches(v.text(), false),
                    StrValue::Dynamic(toks) => match pattern::resolve(toks, ctx) {
                        None => false,
                        Some(resolved) if ci => eq_ignore_case(
                            v.text(),
                            &pattern::literal_text(&resolved).to_lowercase(),
                        ),
                        Some(resolved) => pattern::match_tokens(&resolved, v.text(), false),
                    },
                })
            }
            Values::Arn(ps) => ps.iter().any(|p| match p {
                ArnValue::Static(a) => a.matches(v.text()),
                ArnValue::Dynamic(toks) => pattern::resolve(toks, ctx)
                    .is_some_and(|r| ArnPattern::from_tokens(r).matches(v.text())),
            }),
            Values::Num(ns) => v.number().is_some_and(|x| {
                ns.iter().flatten().any(|n| match self.operator.op {
                    NumericEquals | NumericNotEquals => x == *n,
                    NumericLessThan => x < *n,
                    NumericLessThanEquals => x <= *n,
                    NumericGreaterThan => x > *n,
                    _ => x >= *n,
                })
            }),
            Values::Date(ds) => v.date().is_some_and(|x| {
                ds.iter().flatten().any(|d| match self.operator.op {
                    DateEquals | DateNotEquals => x == *d,
                    DateLessThan => x < *d,
                    DateLessThanEquals => x <= *d,
                    DateGreaterThan => x > *d,
                    _ => x >= *d,
                })
            }),
            Values::Bool(bs) => v.boolean().is_some_and(|x| bs.contains(&Some(x))),
            Values::Bin(bs) => v
                .binary()
                .is_some_and(|x| bs.iter().flatten().any(|b| **b == *x)),
            Values::Ip(cs) => v
                .ip()
                .is_some_and(|ip| cs.iter().flatten().any(|c| c.contains(ip))),
            Values::Null(_) => false,
        }
    }
}

/// Unicode case-insensitive equality; `lower` is already lowercase.
fn eq_ignore_case(text: &str, lower: &str) -> bool {
    text.chars().flat_map(char::to_lowercase).eq(lower.chars())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ContextType;

    #[test]
    fn operator_names() {
        let o = Operator::parse("ForAnyValue:StringLikeIfExists").unwrap();
        assert_eq!(o.to_string(), "ForAnyValue:StringLikeIfExists");
        assert_eq!(
            (o.qualifier, o.op, o.if_exists),
            (Qualifier::ForAnyValue, Op::StringLike, true)
        );
        assert_eq!(
            Operator::parse("stringequals").unwrap().op,
            Op::StringEquals
        );
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("StringEqualz").is_none());
        assert!(Operator::parse("IfExists").is_none());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date("1970-01-02"), Some(86_400_000_000_000));
        assert_eq!(parse_date("86400"), Some(86_400_000_000_000));
        assert_eq!(parse_date("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_date("1970-01-01T00:00:00.5Z"), Some(500_000_000));
        assert_eq!(
            parse_date("2020-02-29T12:00Z"),
            parse_date("2020-02-29T12:00:00Z")
        );
        assert!(parse_date("2021-02-29").is_none());
        assert!(parse_date("yesterday").is_none());
        assert!(parse_date("2020-13-01").is_none());
        assert!(parse_date("1584000000") > parse_date("2020-01-01"));
    }

    #[test]
    fn cidrs_and_base64() {
        let c = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(c.contains("203.0.113.7".parse().unwrap()));
        assert!(!c.contains("203.0.114.7".parse().unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("1.2.3.4".parse().unwrap())
        );
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8::1".parse().unwrap()));
        assert!(!v6.contains("1.2.3.4".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("10.0.0.0/").is_none());
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVsbG8").unwrap(), b"hello");
        assert!(decode_base64("a").is_none());
        assert!(decode_base64("!!").is_none());
        assert!(parse_number("inf").is_none());
        assert_eq!(parse_number("1.5"), Some(1.5));
    }

    fn cond(json: &str) -> Condition {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{json}}}}}"#
        );
        let doc = crate::document::parse(&text, crate::document::PolicyKind::Identity).unwrap();
        let block = &doc.statements[0].condition[0];
        Condition::compile(block, &block.entries[0], true).unwrap()
    }

    fn ctx(entries: &[(&str, ContextType, &[&str])]) -> Context {
        let mut c = Context::new();
        for (k, t, v) in entries {
            c.insert(k, *t, v.iter().copied()).unwrap();
        }
        c
    }

    #[test]
    fn missing_key_rules() {
        let empty = Context::new();
        assert!(!cond(r#"{"StringEquals":{"aws:x":"a"}}"#).eval(&empty));
        assert!(cond(r#"{"StringNotEquals":{"aws:x":"a"}}"#).eval(&empty));
        assert!(cond(r#"{"StringEqualsIfExists":{"aws:x":"a"}}"#).eval(&empty));
        assert!(cond(r#"{"ForAllValues:StringEquals":{"aws:x":"a"}}"#).eval(&empty));
        assert!(!cond(r#"{"ForAnyValue:StringEquals":{"aws:x":"a"}}"#).eval(&empty));
        assert!(cond(r#"{"Null":{"aws:x":"true"}}"#).eval(&empty));
        assert!(!cond(r#"{"Null":{"aws:x":"false"}}"#).eval(&empty));
    }

    #[test]
    fn set_operators() {
        let c = ctx(&[("aws:TagKeys", ContextType::StringList, &["a", "b"])]);
        assert!(cond(r#"{"ForAllValues:StringEquals":{"aws:tagkeys":["a","b","c"]}}"#).eval(&c));
        assert!(!cond(r#"{"ForAllValues:StringEquals":{"aws:tagkeys":["a"]}}"#).eval(&c));
        assert!(cond(r#"{"ForAnyValue:StringEquals":{"aws:tagkeys":["b"]}}"#).eval(&c));
        assert!(cond(r#"{"ForAnyValue:StringNotEquals":{"aws:tagkeys":["a"]}}"#).eval(&c));
        assert!(!cond(r#"{"ForAllValues:StringNotEquals":{"aws:tagkeys":["a"]}}"#).eval(&c));
    }

    #[test]
    fn negated_values_nor() {
        let c = ctx(&[("aws:username", ContextType::String, &["bob"])]);
        assert!(!cond(r#"{"StringNotEquals":{"aws:username":["alice","bob"]}}"#).eval(&c));
        assert!(cond(r#"{"StringNotEquals":{"aws:username":["alice","carol"]}}"#).eval(&c));
        assert!(cond(r#"{"StringEqualsIgnoreCase":{"AWS:UserName":"BOB"}}"#).eval(&c));
        assert!(!cond(r#"{"StringEquals":{"aws:username":"BOB"}}"#).eval(&c));
    }

    #[test]
    fn typed_operators() {
        let c = ctx(&[
            ("aws:SourceIp", ContextType::Ip, &["10.1.2.3"]),
            (
                "aws:CurrentTime",
                ContextType::Date,
                &["2026-06-01T00:00:00Z"],
            ),
            ("s3:max-keys", ContextType::Numeric, &["10"]),
            ("aws:SecureTransport", ContextType::Boolean, &["true"]),
            ("k:bin", ContextType::Binary, &["aGVsbG8="]),
            (
                "aws:SourceArn",
                ContextType::String,
                &["arn:aws:sns:us-east-1:111122223333:topic"],
            ),
        ]);
        assert!(cond(r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#).eval(&c));
        assert!(!cond(r#"{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}"#).eval(&c));
        assert!(cond(r#"{"DateLessThan":{"aws:CurrentTime":"2027-01-01"}}"#).eval(&c));
        assert!(
            !cond(r#"{"DateGreaterThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}"#).eval(&c)
        );
        assert!(cond(r#"{"NumericLessThanEquals":{"s3:max-keys":10}}"#).eval(&c));
        assert!(!cond(r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#).eval(&c));
        assert!(cond(r#"{"Bool":{"aws:SecureTransport":"TRUE"}}"#).eval(&c));
        assert!(!cond(r#"{"Bool":{"aws:SecureTransport":"yes"}}"#).eval(&c));
        assert!(cond(r#"{"BinaryEquals":{"k:bin":"aGVsbG8="}}"#).eval(&c));
        assert!(cond(r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}}"#).eval(&c));
        assert!(
            cond(r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:topic"}}"#)
                .eval(&c)
        );
        assert!(!cond(r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sqs:*"}}"#).eval(&c));
        // A value of the wrong type for the family matches nothing.
        assert!(!cond(r#"{"NumericEquals":{"aws:SourceArn":"1"}}"#).eval(&c));
    }

    #[test]
    fn variables_in_condition_values() {
        let c = ctx(&[
            ("aws:username", ContextType::String, &["bob"]),
            ("s3:prefix", ContextType::String, &["home/bob/x"]),
        ]);
        assert!(cond(r#"{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}"#).eval(&c));
        assert!(!cond(r#"{"StringLike":{"s3:prefix":"home/${aws:userid}/*"}}"#).eval(&c));
        assert!(cond(r#"{"StringNotLike":{"s3:prefix":"home/${aws:userid}/*"}}"#).eval(&c));
        assert!(cond(r#"{"StringLike":{"s3:prefix":"home/${aws:userid, 'bob'}/*"}}"#).eval(&c));
    }
}
