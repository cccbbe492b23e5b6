//! Action patterns. Actions compare case-insensitively; the service prefix is compared
//! whole, so `s3:*` never matches `s3express:CreateSession`.

use crate::pattern::Glob;

/// A compiled action pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ActionPattern {
    /// `*`.
    Any,
    /// `service:Name` without wildcards, lowercased whole: one string, one compare.
    Exact(Box<str>),
    /// `service:name-pattern`, service lowercased.
    /// Boxed: rarer than [`Self::Exact`], and it keeps every pattern at 24 bytes.
    Service(Box<(Box<str>, Glob)>),
    /// A service prefix with wildcards (`s3*:Get*`): matched as one string.
    Whole(Box<Glob>),
}

impl ActionPattern {
    pub(crate) fn compile(pattern: &str) -> Self {
        if pattern == "*" {
            return Self::Any;
        }
        match pattern.split_once(':') {
            Some((service, name))
                if !service.contains(['*', '?']) && !name.contains(['*', '?']) =>
            {
                Self::Exact(pattern.to_ascii_lowercase().into())
            }
            Some((service, name)) if !service.contains(['*', '?']) => Self::Service(Box::new((
                service.to_ascii_lowercase().into(),
                Glob::compile(name, true),
            ))),
            _ => Self::Whole(Box::new(Glob::compile(pattern, true))),
        }
    }

    /// `action` is `service:Name` as requested; `service`/`name` are its halves.
    pub(crate) fn matches(&self, action: &str, service: &str, name: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(full) => full.eq_ignore_ascii_case(action),
            Self::Service(sn) => sn.0.eq_ignore_ascii_case(service) && sn.1.matches(name, true),
            Self::Whole(g) => g.matches(action, true),
        }
    }
}

/// Splits `service:Name`; an action without a colon has an empty service.
pub(crate) fn split_action(action: &str) -> (&str, &str) {
    action.split_once(':').unwrap_or(("", action))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, a: &str) -> bool {
        let (s, n) = split_action(a);
        ActionPattern::compile(p).matches(a, s, n)
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
    }
}
