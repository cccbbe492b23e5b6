//! Action patterns. Actions compare case-insensitively; the service prefix is compared
//! whole, so `s3:*` never matches `s3express:CreateSession`.
//!
//! A statement's patterns are stored lowercased in the statement's byte block (see
//! [`crate::block`]), grouped by service:
//!
//! ```text
//! [n][tag text]...n        patterns without a plain service (`*`, `s3*:Get*`)
//! [service][len][body]...  one group per service; body: [tag name]...
//! ```
//!
//! A service's name is written once however many of its actions the statement lists,
//! and a request looks only at the group of its own service: every other group is
//! skipped by one length compare, so a statement listing hundreds of actions of
//! other services costs little. Within a group, wildcard names come first.

use crate::block;
use crate::pattern::glob_bytes;

/// `*`.
const ANY: u8 = 0;
/// A pattern whose service part has wildcards (or no colon): matched whole.
const WHOLE: u8 = 1;
/// A name without wildcards.
const EXACT: u8 = 2;
/// `prefix*` (the common form: `s3:*`, `ec2:Describe*`), stored without the `*`.
const PREFIX: u8 = 3;
/// Any other name pattern.
const GLOB: u8 = 4;

/// A compiled action pattern, borrowed from its statement's block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActionPattern<'a> {
    /// `*`.
    Any,
    /// A service prefix with wildcards (`s3*:Get*`): matched as one string.
    Whole(&'a [u8]),
    /// `service:Name` without wildcards.
    Exact { service: &'a [u8], name: &'a [u8] },
    /// `service:prefix*`.
    ServicePrefix { service: &'a [u8], prefix: &'a [u8] },
    /// `service:name-pattern`: the service compared whole, the name as a pattern.
    Service { service: &'a [u8], name: &'a [u8] },
}

/// Appends the compiled form of a statement's action patterns to its block.
pub(crate) fn encode_all<'a>(patterns: impl Iterator<Item = &'a str>, out: &mut Vec<u8>) {
    let mut whole: Vec<(u8, String)> = Vec::new();
    let mut groups: Vec<(String, Vec<(u8, String)>)> = Vec::new();
    for p in patterns {
        let lower = p.to_ascii_lowercase();
        if lower == "*" {
            whole.push((ANY, String::new()));
            continue;
        }
        match lower.split_once(':') {
            Some((service, name)) if !service.contains(['*', '?']) => {
                let entry = if !name.contains(['*', '?']) {
                    (EXACT, name.to_owned())
                } else {
                    match name.strip_suffix('*') {
                        Some(prefix) if !prefix.contains(['*', '?']) => (PREFIX, prefix.to_owned()),
                        _ => (GLOB, name.to_owned()),
                    }
                };
                match groups.iter_mut().find(|(s, _)| s == service) {
                    Some((_, entries)) => entries.push(entry),
                    None => groups.push((service.to_owned(), vec![entry])),
                }
            }
            _ => whole.push((WHOLE, lower)),
        }
    }
    block::put_varint(out, whole.len());
    for (tag, text) in &whole {
        out.push(*tag);
        block::put_bytes(out, text.as_bytes());
    }
    let mut body = Vec::new();
    for (service, mut entries) in groups {
        // Wildcard names first: they match more requests than any one exact name.
        entries.sort_by_key(|(tag, _)| *tag == EXACT);
        body.clear();
        for (tag, name) in &entries {
            body.push(*tag);
            block::put_bytes(&mut body, name.as_bytes());
        }
        block::put_bytes(out, service.as_bytes());
        block::put_bytes(out, &body);
    }
}

/// Whether any of the patterns in `bytes` covers the action (`service`/`name` are
/// its halves). The hot path: no allocation, one pass.
#[inline]
pub(crate) fn matches_any(bytes: &[u8], action: &str, service: &str, name: &str) -> bool {
    matches_any_inner(bytes, action, service, name).unwrap_or(false)
}

fn matches_any_inner(bytes: &[u8], action: &str, service: &str, name: &str) -> Option<bool> {
    let (n, mut rest) = block::get_varint(bytes)?;
    for _ in 0..n {
        let (&tag, after) = rest.split_first()?;
        let (text, after) = block::get_bytes(after)?;
        if tag == ANY || glob_bytes(text, action.as_bytes(), true) {
            return Some(true);
        }
        rest = after;
    }
    while !rest.is_empty() {
        let (s, after) = block::get_bytes(rest)?;
        let (body, after) = block::get_bytes(after)?;
        if s.eq_ignore_ascii_case(service.as_bytes()) {
            // A service has one group.
            return group_matches(body, name.as_bytes());
        }
        rest = after;
    }
    Some(false)
}

fn group_matches(mut body: &[u8], name: &[u8]) -> Option<bool> {
    while let Some((&tag, after)) = body.split_first() {
        let (text, after) = block::get_bytes(after)?;
        let hit = match tag {
            EXACT => text.eq_ignore_ascii_case(name),
            PREFIX => name
                .get(..text.len())
                .is_some_and(|n| n.eq_ignore_ascii_case(text)),
            _ => glob_bytes(text, name, true),
        };
        if hit {
            return Some(true);
        }
        body = after;
    }
    Some(false)
}

/// Reads the patterns back (for the index and for debugging: allocates).
pub(crate) fn decode(bytes: &[u8]) -> Vec<ActionPattern<'_>> {
    let mut out = Vec::new();
    let Some((n, mut rest)) = block::get_varint(bytes) else {
        return out;
    };
    for _ in 0..n {
        let Some((&tag, after)) = rest.split_first() else {
            return out;
        };
        let Some((text, after)) = block::get_bytes(after) else {
            return out;
        };
        out.push(if tag == ANY {
            ActionPattern::Any
        } else {
            ActionPattern::Whole(text)
        });
        rest = after;
    }
    while let Some((service, after)) = block::get_bytes(rest) {
        let Some((mut body, after)) = block::get_bytes(after) else {
            return out;
        };
        while let Some((&tag, after)) = body.split_first() {
            let Some((name, after)) = block::get_bytes(after) else {
                return out;
            };
            out.push(match tag {
                EXACT => ActionPattern::Exact { service, name },
                PREFIX => ActionPattern::ServicePrefix {
                    service,
                    prefix: name,
                },
                _ => ActionPattern::Service { service, name },
            });
            body = after;
        }
        rest = after;
    }
    out
}

/// Splits `service:Name`; an action without a colon has an empty service.
#[inline]
pub(crate) fn split_action(action: &str) -> (&str, &str) {
    split_colon(action).unwrap_or(("", action))
}

/// `s.split_once(':')` by a plain byte scan: the strings are short, and a colon is
/// one byte, so the halves are on character boundaries.
#[inline]
pub(crate) fn split_colon(s: &str) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == b':')?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, a: &str) -> bool {
        let (s, n) = split_action(a);
        let mut bytes = Vec::new();
        encode_all([p].into_iter(), &mut bytes);
        matches_any(&bytes, a, s, n)
    }

    #[test]
    fn actions() {
        assert!(m("*", "s3:GetObject"));
        assert!(m("s3:*", "S3:getobject"));
        assert!(!m("s3:*", "s3express:CreateSession"));
        assert!(m("s3:Get*", "s3:GetObjectAcl"));
        assert!(!m("s3:Get*", "s3:PutObject"));
        assert!(m("iam:?etUser", "iam:GetUser"));
        assert!(m("IAM:GETUSER", "iam:GetUser"));
        assert!(m("s3*:Get*", "s3express:GetObject"));
        assert!(!m("s3:GetObject", "s3:GetObjectAcl"));
        assert!(m("ec2:*Tags", "ec2:CreateTags"));
        assert!(!m("ec2:*Tags", "ec2:CreateTag"));
        assert!(m("ec2:Describe*", "EC2:describeinstances"));
        assert!(m("ec2:Describe*", "ec2:Describe"));
        assert!(!m("ec2:Describe*", "ec2:Describ"));
        assert!(!m("ec2:Describe*", "ec2x:DescribeInstances"));
        assert!(m("ec2:Describe*?", "ec2:DescribeX"));
        assert!(!m("ec2:Describe*?", "ec2:Describe"));
        assert!(m("a:b:c", "a:B:c"));
        assert!(m("no-colon", "NO-COLON"));
        assert!(!m("no-colon", "x:no-colon"));
    }

    #[test]
    fn grouped_by_service() {
        let patterns = [
            "S3:GetObject",
            "*",
            "ec2:RunInstances",
            "s3:Get*",
            "s3:*Acl",
            "s3*:x",
            "no-colon",
        ];
        let mut bytes = Vec::new();
        encode_all(patterns.into_iter(), &mut bytes);
        // Whole patterns, then one group per service, wildcard names first.
        assert_eq!(
            decode(&bytes),
            vec![
                ActionPattern::Any,
                ActionPattern::Whole(b"s3*:x"),
                ActionPattern::Whole(b"no-colon"),
                ActionPattern::ServicePrefix {
                    service: b"s3",
                    prefix: b"get"
                },
                ActionPattern::Service {
                    service: b"s3",
                    name: b"*acl"
                },
                ActionPattern::Exact {
                    service: b"s3",
                    name: b"getobject"
                },
                ActionPattern::Exact {
                    service: b"ec2",
                    name: b"runinstances"
                },
            ]
        );
        // The service is written once per group: a count byte; `*` (2 bytes),
        // `s3*:x` (7), `no-colon` (10); the s3 group: service (3), body length (1),
        // `get` (5), `*acl` (6), `getobject` (11); the ec2 group: service (4), body
        // length (1), `runinstances` (14).
        assert_eq!(
            bytes.len(),
            1 + 2 + 7 + 10 + (3 + 1 + 5 + 6 + 11) + (4 + 1 + 14)
        );
    }

    #[test]
    fn several_groups_and_wholes() {
        let mut bytes = Vec::new();
        encode_all(
            ["ec2:Describe*", "s3:GetObject", "iam:Get*", "S3:PutObject"].into_iter(),
            &mut bytes,
        );
        let hit = |a: &str| {
            let (s, n) = split_action(a);
            matches_any(&bytes, a, s, n)
        };
        assert!(hit("s3:putobject"));
        assert!(hit("iam:GetRole"));
        assert!(hit("ec2:DescribeVpcs"));
        assert!(!hit("s3:DeleteObject"));
        assert!(!hit("sqs:GetQueueUrl"));
        assert!(!matches_any(&[], "s3:x", "s3", "x"));
    }
}
