//! The crate's one error type. Every variant maps to an AWS error code so that the
//! server can answer exactly as IAM would; the diagnostics keep our own precise detail
//! (JSON path, line and column) next to AWS's wording.

use std::fmt;

use serde::Serialize;

/// The AWS error code an error is reported under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AwsErrorCode {
    /// `MalformedPolicyDocument` (HTTP 400).
    MalformedPolicyDocument,
    /// `LimitExceeded` (HTTP 409): the document is larger than the quota of its kind.
    LimitExceeded,
    /// `InvalidInput` (HTTP 400): a request or context value that is not well formed.
    InvalidInput,
}

impl AwsErrorCode {
    /// The code as it appears on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedPolicyDocument => "MalformedPolicyDocument",
            Self::LimitExceeded => "LimitExceeded",
            Self::InvalidInput => "InvalidInput",
        }
    }
}

impl fmt::Display for AwsErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A byte range in the policy text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Self {
        Self {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }
}

/// A 1-based line and column (in characters) in the policy text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
}

impl Position {
    /// Computes the position of byte `offset` in `text`.
    #[must_use]
    pub fn of(text: &str, offset: usize) -> Self {
        let mut line = 1u32;
        let mut column = 1u32;
        for (i, c) in text.char_indices() {
            if i >= offset {
                break;
            }
            if c == '\n' {
                line = line.saturating_add(1);
                column = 1;
            } else {
                column = column.saturating_add(1);
            }
        }
        Self { line, column }
    }
}

/// One problem found in a policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The AWS error code this problem is reported under.
    pub code: AwsErrorCode,
    /// AWS's own message for this problem (what IAM answers).
    pub aws_message: String,
    /// Our precise description, with user input in backticks.
    pub detail: String,
    /// JSON path of the offending node, e.g. `Statement[0].Effect`.
    pub path: String,
    /// Where the offending node starts.
    pub position: Position,
    /// The offending node's byte range.
    pub span: Span,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({}) at {}line {}, column {}",
            self.code,
            self.aws_message,
            self.detail,
            if self.path.is_empty() {
                String::new()
            } else {
                format!("{} ", self.path)
            },
            self.position.line,
            self.position.column
        )
    }
}

/// The errors of this crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A policy document that IAM would reject. Holds every problem found (at least one).
    #[error("{}", display_diagnostics(.0))]
    Policy(Vec<Diagnostic>),
    /// A request context entry that cannot be read as its declared type.
    #[error("InvalidInput: context key `{key}`: {detail}")]
    InvalidContext {
        /// The context key as given.
        key: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A request that cannot be evaluated (bad action name, too many SCP levels, ...).
    #[error("InvalidInput: {0}")]
    InvalidRequest(String),
}

fn display_diagnostics(d: &[Diagnostic]) -> String {
    d.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// The AWS error code to answer with.
    #[must_use]
    pub fn code(&self) -> AwsErrorCode {
        match self {
            Self::Policy(d) => {
                // Size first: IAM checks the quota before the grammar.
                if d.iter().any(|x| x.code == AwsErrorCode::LimitExceeded) {
                    AwsErrorCode::LimitExceeded
                } else {
                    AwsErrorCode::MalformedPolicyDocument
                }
            }
            Self::InvalidContext { .. } | Self::InvalidRequest(_) => AwsErrorCode::InvalidInput,
        }
    }

    /// The message AWS would send with [`Error::code`].
    #[must_use]
    pub fn aws_message(&self) -> String {
        match self {
            Self::Policy(d) => d
                .iter()
                .find(|x| x.code == self.code())
                .map(|x| x.aws_message.clone())
                .unwrap_or_default(),
            other => other.to_string(),
        }
    }

    /// The diagnostics of a policy error (empty for other errors).
    #[must_use]
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Self::Policy(d) => d,
            _ => &[],
        }
    }
}
