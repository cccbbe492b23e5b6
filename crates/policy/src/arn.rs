//! ARNs and ARN patterns. An ARN is `arn:partition:service:region:account:resource`;
//! the resource part (after the fifth colon) may itself hold colons and slashes and
//! is matched as one unit. Matching is case-sensitive and segment by segment: a `*`
//! in the region never eats into the account.

use crate::pattern::{Glob, Tok};

/// A parsed ARN, borrowing from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: &'a str,
    /// Service namespace (`s3`, `iam`, ...).
    pub service: &'a str,
    /// Region, empty for global services.
    pub region: &'a str,
    /// Account id, empty for S3 buckets.
    pub account: &'a str,
    /// Everything after the fifth colon.
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits an ARN into its six parts; `None` if it is not one.
    #[must_use]
    pub fn parse(text: &'a str) -> Option<Self> {
        let rest = text.strip_prefix("arn:")?;
        let (partition, rest) = crate::action::split_colon(rest)?;
        let (service, rest) = crate::action::split_colon(rest)?;
        let (region, rest) = crate::action::split_colon(rest)?;
        let (account, resource) = crate::action::split_colon(rest)?;
        Some(Self {
            partition,
            service,
            region,
            account,
            resource,
        })
    }
}

/// Whether `s` looks like an ARN IAM accepts as an `AWS` principal.
pub(crate) fn principal_arn_is_valid(s: &str) -> bool {
    Arn::parse(s).is_some_and(|a| {
        (a.service == "iam" || a.service == "sts") && a.region.is_empty() && !a.resource.is_empty()
    })
}

/// A compiled ARN pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArnPattern {
    Any,
    /// The common case, kept small: the pattern text once, the byte offsets of its
    /// first five colons, and which of the six parts hold `*` or `?`.
    Compact {
        text: Box<str>,
        colons: [u16; 5],
        wild: u8,
    },
    /// Parts with literal `*`/`?` (from `${*}`, `${?}` or substituted values): five
    /// segment globs and the resource glob.
    Parts(Box<[Glob; 6]>),
    /// Not six colon-separated parts: matched as one string.
    Whole(Glob),
}

impl ArnPattern {
    #[cfg(test)]
    pub(crate) fn compile(pattern: &str) -> Self {
        Self::from_tokens(crate::pattern::tokenize(pattern))
    }

    /// Builds the pattern from tokens, splitting literals on the first five colons.
    pub(crate) fn from_tokens(toks: Vec<Tok>) -> Self {
        if matches!(toks.as_slice(), [Tok::Star]) {
            return Self::Any;
        }
        if let Some(c) = Self::compact(&toks) {
            return c;
        }
        let mut parts: Vec<Vec<Tok>> = vec![Vec::new()];
        for t in &toks {
            match t {
                Tok::Lit(s) => {
                    let mut rest: &str = s;
                    while parts.len() < 6 {
                        let Some(i) = rest.find(':') else { break };
                        if let Some(head) = rest.get(..i).filter(|h| !h.is_empty()) {
                            push(&mut parts, Tok::Lit(head.into()));
                        }
                        parts.push(Vec::new());
                        rest = rest.get(i + 1..).unwrap_or_default();
                    }
                    if !rest.is_empty() {
                        push(&mut parts, Tok::Lit(rest.into()));
                    }
                }
                other => push(&mut parts, other.clone()),
            }
        }
        let first_is_arn =
            matches!(parts.first().map(Vec::as_slice), Some([Tok::Lit(s)]) if &**s == "arn");
        if parts.len() != 6 || !first_is_arn {
            return Self::Whole(Glob::from_tokens(toks, false));
        }
        let mut it = parts
            .into_iter()
            .skip(1)
            .map(|p| Glob::from_tokens(p, false));
        let mut g = || it.next().unwrap_or(Glob::Any);
        // Slot 0 (the literal `arn`) is checked by `Arn::parse`; keep the layout simple.
        Self::Parts(Box::new([Glob::Any, g(), g(), g(), g(), g()]))
    }

    /// The compact form, when every wildcard in the text is a real one.
    fn compact(toks: &[Tok]) -> Option<Self> {
        if toks
            .iter()
            .any(|t| matches!(t, Tok::Lit(s) if s.contains(['*', '?'])))
        {
            return None;
        }
        let text = crate::pattern::literal_text(toks);
        if !text.starts_with("arn:") {
            return None;
        }
        let mut colons = [0u16; 5];
        let mut found = text.match_indices(':').map(|(i, _)| u16::try_from(i).ok());
        for c in &mut colons {
            *c = found.next()??;
        }
        let mut wild = 0u8;
        let mut start = 0usize;
        for (i, end) in colons
            .iter()
            .map(|c| *c as usize)
            .chain([text.len()])
            .enumerate()
        {
            if text.get(start..end)?.contains(['*', '?']) {
                wild |= 1 << i;
            }
            start = end + 1;
        }
        Some(Self::Compact {
            text: text.into(),
            colons,
            wild,
        })
    }

    pub(crate) fn matches(&self, text: &str) -> bool {
        match self {
            Self::Any | Self::Whole(_) => self.matches_parsed(text, None),
            Self::Compact { .. } | Self::Parts(_) => {
                self.matches_parsed(text, Arn::parse(text).as_ref())
            }
        }
    }

    /// As [`Self::matches`], with `text` already split (`arn`: `Arn::parse(text)`), so
    /// that a request's resource is split once, not once per statement.
    pub(crate) fn matches_parsed(&self, text: &str, arn: Option<&Arn<'_>>) -> bool {
        match self {
            Self::Any => true,
            Self::Compact {
                text: p,
                colons,
                wild,
            } => {
                let Some(a) = arn else {
                    return false;
                };
                let values = [a.partition, a.service, a.region, a.account, a.resource];
                let mut start = colons[0] as usize + 1;
                for (i, value) in values.iter().enumerate() {
                    let end = colons.get(i + 1).map_or(p.len(), |c| *c as usize);
                    let seg = p.get(start..end).unwrap_or_default();
                    let ok = if wild & (1 << (i + 1)) == 0 {
                        seg == *value
                    } else {
                        crate::pattern::glob_str(seg, value)
                    };
                    if !ok {
                        return false;
                    }
                    start = end + 1;
                }
                true
            }
            Self::Whole(g) => g.matches(text, false),
            Self::Parts(p) => {
                let Some(a) = arn else {
                    return false;
                };
                let [_, partition, service, region, account, resource] = &**p;
                partition.matches(a.partition, false)
                    && service.matches(a.service, false)
                    && region.matches(a.region, false)
                    && account.matches(a.account, false)
                    && resource.matches(a.resource, false)
            }
        }
    }
}

/// Matches a split ARN against the compact form of a pattern ([`ArnPattern::Compact`])
/// kept as its text and wildcard-part bits only (bit `i` for part `i`, the literal
/// `arn` being part 0), finding the colons as it goes: the form of a compiled
/// statement's block, where five offsets would cost more than the scan.
pub(crate) fn compact_text_matches(p: &[u8], wild: u8, a: &Arn<'_>) -> bool {
    let Some(mut rest) = p.strip_prefix(b"arn:") else {
        return false;
    };
    for (i, value) in [a.partition, a.service, a.region, a.account]
        .iter()
        .enumerate()
    {
        let Some(colon) = rest.iter().position(|b| *b == b':') else {
            return false;
        };
        let (seg, after) = rest.split_at(colon);
        if !part_matches(seg, value, wild & (1 << (i + 1)) != 0) {
            return false;
        }
        rest = after.get(1..).unwrap_or_default();
    }
    part_matches(rest, a.resource, wild & (1 << 5) != 0)
}

fn part_matches(pattern: &[u8], value: &str, wild: bool) -> bool {
    if wild {
        crate::pattern::glob_bytes(pattern, value.as_bytes(), false)
    } else {
        pattern == value.as_bytes()
    }
}

fn push(parts: &mut [Vec<Tok>], t: Tok) {
    if let Some(last) = parts.last_mut() {
        last.push(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        ArnPattern::compile(p).matches(t)
    }

    #[test]
    fn parse_arn() {
        let a = Arn::parse("arn:aws:s3:::bucket/a:b").unwrap();
        assert_eq!(a.resource, "bucket/a:b");
        assert_eq!(a.account, "");
        assert!(Arn::parse("arn:aws:s3").is_none());
        assert!(Arn::parse("*").is_none());
    }

    /// The statement-block form (colons found while matching) agrees with the
    /// compiled form.
    #[test]
    fn compact_text_form_agrees() {
        let patterns = [
            "arn:aws:s3:::bucket/*",
            "arn:aws:ec2:*:*:instance/*",
            "arn:aws:ec2:*:111122223333:instance/*",
            "arn:*:iam::*:role/aws-service-role/*",
            "arn:aws:s3:::b/?",
            "arn:aws:logs:*:*:log-group:/aws/x/*:log-stream:*",
            "arn:aws:sqs:us-east-1:111122223333:q",
        ];
        let texts = [
            "arn:aws:s3:::bucket/a/b:c",
            "arn:aws:s3:::bucket2/a",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
            "arn:aws:ec2:us-east-1:999:111122223333:instance/i-1",
            "arn:aws-cn:iam::1:role/aws-service-role/x",
            "arn:aws:s3:::b/x",
            "arn:aws:s3:::b/xy",
            "arn:aws:logs:eu-west-1:1:log-group:/aws/x/g:log-stream:s",
            "arn:aws:sqs:us-east-1:111122223333:q",
            "arn:aws:sqs:us-east-1:111122223333",
        ];
        for p in patterns {
            let ArnPattern::Compact { text, wild, .. } = ArnPattern::compile(p) else {
                panic!("{p} is not compact");
            };
            for t in texts {
                let expected = m(p, t);
                let by_scan = Arn::parse(t)
                    .as_ref()
                    .is_some_and(|a| compact_text_matches(text.as_bytes(), wild, a));
                assert_eq!(by_scan, expected, "{p} vs {t}");
            }
        }
    }

    #[test]
    fn segment_matching() {
        assert!(m("*", "anything"));
        assert!(m("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c"));
        assert!(!m("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket2/a"));
        assert!(m(
            "arn:aws:ec2:*:*:instance/*",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-1"
        ));
        // A `*` in the region does not cross into the account.
        assert!(!m(
            "arn:aws:ec2:*:111122223333:instance/*",
            "arn:aws:ec2:us-east-1:999:111122223333:instance/i-1"
        ));
        assert!(m("arn:aws:iam::*", "arn:aws:iam::111122223333:user/a"));
        // Case-sensitive.
        assert!(!m("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/x"));
        assert!(m(
            "arn:aws:iam::111122223333:user/*",
            "arn:aws:iam::111122223333:user/path/alice"
        ));
        assert!(m("arn:aws:s3:::b/?", "arn:aws:s3:::b/x"));
        assert!(m("arn:*:s3:::b", "arn:aws-cn:s3:::b"));
        assert!(!m("arn:aws:s3:::b", "arn:aws:s3:::b/x"));
    }
}
