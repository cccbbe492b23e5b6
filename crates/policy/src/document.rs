//! The wire model of a policy document: what the JSON says, with the byte span of
//! every element, checked against the grammar and the rules of its [`PolicyKind`].
//! Evaluation never runs on this model; [`crate::Policy::compile`] turns it into the
//! compiled form. [`PolicyDocument::to_json`] prints it back canonically, and parsing
//! that text gives an equal document.

use std::collections::HashSet;
use std::fmt;

use serde::Serialize;

use crate::condition::{Operator, OperatorFamily};
use crate::error::{AwsErrorCode, Diagnostic, Error, Position, Span};
use crate::json::{self, Member, Node, NodeKind};

/// Hard cap on the raw text, whatever the kind. It bounds the work done on hostile
/// input while leaving room for the largest AWS managed policy (about 135 KB, far
/// above any customer quota).
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// What a document is used as. It decides which elements are required or forbidden
/// and which size quota applies by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum PolicyKind {
    /// Identity-based: inline or managed, attached to a user, group or role.
    Identity,
    /// Resource-based (bucket policy, key policy, ...): `Principal` required.
    Resource,
    /// A role trust policy: `Principal` required, `Resource` prohibited.
    Trust,
    /// A managed policy used as a permissions boundary.
    Boundary,
    /// A session policy passed to AssumeRole* or GetFederationToken.
    Session,
    /// A service control policy of AWS Organizations.
    Scp,
}

impl PolicyKind {
    /// The quota IAM applies when nothing more specific is known.
    #[must_use]
    pub fn default_quota(self) -> SizeQuota {
        match self {
            Self::Identity | Self::Boundary => SizeQuota::ManagedPolicy,
            Self::Trust => SizeQuota::TrustPolicy,
            Self::Session => SizeQuota::SessionPolicy,
            Self::Scp => SizeQuota::Scp,
            Self::Resource => SizeQuota::Unlimited,
        }
    }

    fn principal_rule(self) -> Rule {
        match self {
            Self::Resource | Self::Trust => Rule::Required,
            Self::Identity | Self::Boundary | Self::Session | Self::Scp => Rule::Forbidden,
        }
    }

    fn resource_rule(self) -> Rule {
        match self {
            Self::Trust => Rule::Forbidden,
            // SCP statements may leave Resource out; it then means `*`.
            Self::Scp => Rule::Optional,
            Self::Identity | Self::Boundary | Self::Session | Self::Resource => Rule::Required,
        }
    }

    /// IAM (not S3, KMS or Organizations) insists on alphanumeric statement ids.
    fn alphanumeric_sid(self) -> bool {
        matches!(self, Self::Identity | Self::Boundary | Self::Trust)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Rule {
    Required,
    Optional,
    Forbidden,
}

/// The AWS size quotas for policy documents (IAM and STS quotas, Organizations quotas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SizeQuota {
    /// Customer managed policy (also boundaries): 6,144 characters, whitespace not counted.
    ManagedPolicy,
    /// All inline policies of a user together: 2,048 characters, whitespace not counted.
    UserInline,
    /// All inline policies of a role together: 10,240 characters, whitespace not counted.
    RoleInline,
    /// All inline policies of a group together: 5,120 characters, whitespace not counted.
    GroupInline,
    /// Role trust policy: 2,048 characters by default (raisable to 8,192), whitespace not counted.
    TrustPolicy,
    /// Service control policy: 5,120 characters, whitespace counted.
    Scp,
    /// Inline session policy: 2,048 characters of plaintext.
    SessionPolicy,
    /// Any other limit (a raised trust-policy quota, a service's resource policy limit).
    Custom {
        /// Maximum characters.
        max_chars: usize,
        /// Whether whitespace outside strings counts.
        counts_whitespace: bool,
    },
    /// No quota beyond [`MAX_DOCUMENT_BYTES`].
    Unlimited,
}

impl SizeQuota {
    /// The maximum number of characters, if any.
    #[must_use]
    pub fn max_chars(self) -> Option<usize> {
        match self {
            Self::ManagedPolicy => Some(6_144),
            Self::UserInline | Self::TrustPolicy | Self::SessionPolicy => Some(2_048),
            Self::RoleInline => Some(10_240),
            Self::GroupInline | Self::Scp => Some(5_120),
            Self::Custom { max_chars, .. } => Some(max_chars),
            Self::Unlimited => None,
        }
    }

    /// Whether whitespace outside strings counts against the quota.
    #[must_use]
    pub fn counts_whitespace(self) -> bool {
        match self {
            Self::Scp | Self::SessionPolicy => true,
            Self::Custom {
                counts_whitespace, ..
            } => counts_whitespace,
            _ => false,
        }
    }

    fn aws_message(self, max: usize) -> String {
        match self {
            Self::ManagedPolicy => format!("Cannot exceed quota for PolicySize: {max}"),
            Self::TrustPolicy => format!("Cannot exceed quota for ACLSizePerRole: {max}"),
            Self::UserInline | Self::RoleInline | Self::GroupInline => {
                format!("Maximum policy size of {max} bytes exceeded")
            }
            Self::SessionPolicy => "Packed policy consumes more than the maximum size".to_owned(),
            Self::Scp | Self::Custom { .. } | Self::Unlimited => {
                format!("Policy document exceeds the maximum size of {max} characters")
            }
        }
    }
}

/// How to parse: the kind, and the quota when it differs from the kind's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// What the document is used as.
    pub kind: PolicyKind,
    /// The size quota; `None` = [`PolicyKind::default_quota`].
    pub quota: Option<SizeQuota>,
}

impl From<PolicyKind> for ParseOptions {
    fn from(kind: PolicyKind) -> Self {
        Self { kind, quota: None }
    }
}

/// A value with the byte range it came from. Equality ignores the span, so that a
/// printed and re-parsed document equals the original.
#[derive(Debug, Clone, Serialize)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was in the text.
    pub span: Span,
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> Spanned<T> {
    /// A value without a source (built in code).
    pub fn new(value: T) -> Self {
        Self {
            value,
            span: Span::default(),
        }
    }
}

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Version {
    /// `2012-10-17`: the current language, with policy variables.
    V2012_10_17,
    /// `2008-10-17`: the old language; `${...}` is literal text.
    V2008_10_17,
}

impl Version {
    /// The version string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2012_10_17 => "2012-10-17",
            Self::V2008_10_17 => "2008-10-17",
        }
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

impl Effect {
    /// The wire text.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "Allow",
            Self::Deny => "Deny",
        }
    }
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyDocument {
    /// What the document was parsed as.
    pub kind: PolicyKind,
    /// `Version`, if present.
    pub version: Option<Spanned<Version>>,
    /// `Id`, if present.
    pub id: Option<Spanned<String>>,
    /// The statements, in order.
    pub statements: Vec<Statement>,
    /// Whether `Statement` was an array (rather than one object).
    pub statement_is_array: bool,
}

/// One statement.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    /// `Sid`.
    pub sid: Option<Spanned<String>>,
    /// `Effect`.
    pub effect: Spanned<Effect>,
    /// `Principal` or `NotPrincipal`.
    pub principal: Option<PrincipalElement>,
    /// `Action` or `NotAction` (always present once parsed).
    pub action: ListElement,
    /// `Resource` or `NotResource` (absent in trust policies, optional in SCPs).
    pub resource: Option<ListElement>,
    /// `Condition`: operators in document order.
    pub condition: Vec<ConditionOperatorBlock>,
    /// Whether a `Condition` element was present (even empty).
    pub has_condition: bool,
    /// The statement object's span.
    pub span: Span,
}

impl PartialEq for Statement {
    /// Equality of meaning and form, ignoring where the statement was in the text.
    fn eq(&self, o: &Self) -> bool {
        self.sid == o.sid
            && self.effect == o.effect
            && self.principal == o.principal
            && self.action == o.action
            && self.resource == o.resource
            && self.condition == o.condition
            && self.has_condition == o.has_condition
    }
}

/// A string-or-array element (`Action`, `NotAction`, `Resource`, `NotResource`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListElement {
    /// `true` for the `Not...` form.
    pub negated: bool,
    /// The values.
    pub values: StringList,
}

/// One string or an array of strings, remembering which it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StringList {
    /// The strings.
    pub items: Vec<Spanned<String>>,
    /// Whether the JSON had an array.
    pub array: bool,
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrincipalElement {
    /// `true` for `NotPrincipal`.
    pub negated: bool,
    /// The value.
    pub value: PrincipalValue,
}

/// The value of a principal element.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum PrincipalValue {
    /// `"*"`: everyone, anonymous included.
    Wildcard,
    /// `{"AWS": ..., "Service": ..., ...}` in document order.
    Map(Vec<(PrincipalType, StringList)>),
}

/// The keys of a principal map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PrincipalType {
    /// `AWS`: accounts, users, roles, sessions.
    Aws,
    /// `Service`: AWS service principals.
    Service,
    /// `Federated`: identity providers.
    Federated,
    /// `CanonicalUser`: S3 canonical user ids.
    CanonicalUser,
}

impl PrincipalType {
    /// The wire key.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aws => "AWS",
            Self::Service => "Service",
            Self::Federated => "Federated",
            Self::CanonicalUser => "CanonicalUser",
        }
    }
}

/// One condition operator with its keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionOperatorBlock {
    /// The operator as written.
    pub operator: Spanned<String>,
    /// The operator, parsed.
    pub parsed: Operator,
    /// Its keys, in order.
    pub entries: Vec<ConditionEntry>,
}

/// One condition key with its values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionEntry {
    /// The key as written (keys compare case-insensitively).
    pub key: Spanned<String>,
    /// The values.
    pub values: Vec<Spanned<ConditionValue>>,
    /// Whether the JSON had an array.
    pub array: bool,
}

/// A condition value as written: AWS accepts bare numbers and booleans too.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ConditionValue {
    /// A JSON string.
    String(String),
    /// A JSON number, as written.
    Number(String),
    /// A JSON boolean.
    Bool(bool),
}

impl ConditionValue {
    /// The value as text (how AWS compares it).
    #[must_use]
    pub fn as_text(&self) -> &str {
        match self {
            Self::String(s) | Self::Number(s) => s,
            Self::Bool(true) => "true",
            Self::Bool(false) => "false",
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing

/// Parses a policy document as `options` (a [`PolicyKind`] or [`ParseOptions`]).
///
/// # Errors
/// [`Error::Policy`] with every problem found, each with AWS's message, a JSON path
/// and a line and column.
pub fn parse(text: &str, options: impl Into<ParseOptions>) -> Result<PolicyDocument, Error> {
    let options = options.into();
    let quota = options
        .quota
        .unwrap_or_else(|| options.kind.default_quota());
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::Policy(vec![Diagnostic {
            code: AwsErrorCode::LimitExceeded,
            aws_message: quota.aws_message(quota.max_chars().unwrap_or(MAX_DOCUMENT_BYTES)),
            detail: format!(
                "the document is {} bytes, more than the {MAX_DOCUMENT_BYTES} accepted",
                text.len()
            ),
            path: String::new(),
            position: Position { line: 1, column: 1 },
            span: Span::new(0, text.len()),
        }]));
    }
    let (root, stats) = json::parse(text).map_err(|e| {
        Error::Policy(vec![Diagnostic {
            code: AwsErrorCode::MalformedPolicyDocument,
            aws_message: SYNTAX.to_owned(),
            detail: format!("invalid JSON: {}", e.message),
            path: String::new(),
            position: Position::of(text, e.offset),
            span: Span::new(e.offset, e.offset),
        }])
    })?;
    let mut cx = Cx {
        text,
        kind: options.kind,
        diags: Vec::new(),
    };
    if let Some(max) = quota.max_chars() {
        let size = if quota.counts_whitespace() {
            text.chars().count()
        } else {
            stats.significant_chars
        };
        if size > max {
            cx.diags.push(Diagnostic {
                code: AwsErrorCode::LimitExceeded,
                aws_message: quota.aws_message(max),
                detail: format!("the document has {size} characters, more than the {max} of its quota ({quota:?})"),
                path: String::new(),
                position: Position { line: 1, column: 1 },
                span: root.span,
            });
        }
    }
    let doc = cx.document(&root);
    if cx.diags.is_empty() {
        doc.ok_or_else(|| Error::Policy(Vec::new()))
    } else {
        Err(Error::Policy(cx.diags))
    }
}

/// Parses bytes that may not be UTF-8 (policy text from the wire).
///
/// # Errors
/// As [`parse`], plus a `MalformedPolicyDocument` for invalid UTF-8.
pub fn parse_bytes(
    bytes: &[u8],
    options: impl Into<ParseOptions>,
) -> Result<PolicyDocument, Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text, options),
        Err(e) => {
            let valid = bytes
                .get(..e.valid_up_to())
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or("");
            Err(Error::Policy(vec![Diagnostic {
                code: AwsErrorCode::MalformedPolicyDocument,
                aws_message: SYNTAX.to_owned(),
                detail: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
                path: String::new(),
                position: Position::of(valid, valid.len()),
                span: Span::new(e.valid_up_to(), e.valid_up_to()),
            }]))
        }
    }
}

const SYNTAX: &str = "Syntax errors in policy.";

/// A JSON path built on the stack; formatted only when an error needs it.
#[derive(Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    seg: Seg<'a>,
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    const ROOT: Path<'static> = Path {
        parent: None,
        seg: Seg::Root,
    };

    fn key(&'a self, k: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            seg: Seg::Key(k),
        }
    }

    fn index(&'a self, i: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            seg: Seg::Index(i),
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.parent {
            p.fmt(f)?;
        }
        match self.seg {
            Seg::Root => Ok(()),
            Seg::Index(i) => write!(f, "[{i}]"),
            Seg::Key(k) => {
                if matches!(self.parent, Some(Path { seg: Seg::Root, .. })) {
                    write!(f, "{k}")
                } else {
                    write!(f, ".{k}")
                }
            }
        }
    }
}

struct Cx<'t> {
    text: &'t str,
    kind: PolicyKind,
    diags: Vec<Diagnostic>,
}

impl Cx<'_> {
    fn error(&mut self, aws: &str, detail: String, path: &Path<'_>, span: Span) {
        self.diags.push(Diagnostic {
            code: AwsErrorCode::MalformedPolicyDocument,
            aws_message: aws.to_owned(),
            detail,
            path: path.to_string(),
            position: Position::of(self.text, span.start as usize),
            span,
        });
    }

    /// Reports duplicate keys of an object (IAM rejects them; JSON parsers differ on
    /// which one wins, which is exactly the ambiguity an attacker would use).
    fn check_duplicates(&mut self, members: &[Member], path: &Path<'_>) {
        // Policy objects are small: comparing pairs beats hashing and allocates
        // nothing. Large (hostile) objects get a set, to stay linear.
        let mut seen = (members.len() > 16).then(HashSet::new);
        for (i, m) in members.iter().enumerate() {
            let duplicate = match &mut seen {
                Some(set) => !set.insert(m.key.as_str()),
                None => members.iter().take(i).any(|earlier| earlier.key == m.key),
            };
            if duplicate {
                let p = path.key(&m.key);
                self.error(SYNTAX, format!("duplicate key `{}`", m.key), &p, m.key_span);
            }
        }
    }

    fn object<'n>(&mut self, node: &'n Node, path: &Path<'_>, what: &str) -> Option<&'n [Member]> {
        if let NodeKind::Object(m) = &node.kind {
            self.check_duplicates(m, path);
            Some(m)
        } else {
            self.error(
                SYNTAX,
                format!("{what} must be an object, not {}", node.kind.type_name()),
                path,
                node.span,
            );
            None
        }
    }

    fn string(&mut self, node: &Node, path: &Path<'_>, what: &str) -> Option<Spanned<String>> {
        if let NodeKind::String(s) = &node.kind {
            Some(Spanned {
                value: s.clone(),
                span: node.span,
            })
        } else {
            self.error(
                SYNTAX,
                format!("{what} must be a string, not {}", node.kind.type_name()),
                path,
                node.span,
            );
            None
        }
    }

    fn string_list(&mut self, node: &Node, path: &Path<'_>, what: &str) -> Option<StringList> {
        match &node.kind {
            NodeKind::String(s) => Some(StringList {
                items: vec![Spanned {
                    value: s.clone(),
                    span: node.span,
                }],
                array: false,
            }),
            NodeKind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let p = path.index(i);
                    if let Some(s) = self.string(item, &p, what) {
                        out.push(s);
                    }
                }
                Some(StringList {
                    items: out,
                    array: true,
                })
            }
            other => {
                self.error(
                    SYNTAX,
                    format!(
                        "{what} must be a string or an array of strings, not {}",
                        other.type_name()
                    ),
                    path,
                    node.span,
                );
                None
            }
        }
    }

    fn document(&mut self, root: &Node) -> Option<PolicyDocument> {
        let path = Path::ROOT;
        let members = self.object(root, &path, "the policy document")?;
        let mut version = None;
        let mut id = None;
        let mut statements = None;
        for m in members {
            let p = path.key(&m.key);
            match m.key.as_str() {
                "Version" => {
                    if let Some(s) = self.string(&m.value, &p, "`Version`") {
                        match s.value.as_str() {
                            "2012-10-17" => {
                                version = Some(Spanned {
                                    value: Version::V2012_10_17,
                                    span: s.span,
                                })
                            }
                            "2008-10-17" => {
                                version = Some(Spanned {
                                    value: Version::V2008_10_17,
                                    span: s.span,
                                })
                            }
                            other => self.error(
                                SYNTAX,
                                format!(
                                    "`Version` must be `2012-10-17` or `2008-10-17`, not `{other}`"
                                ),
                                &p,
                                s.span,
                            ),
                        }
                    }
                }
                "Id" => id = self.string(&m.value, &p, "`Id`"),
                "Statement" => statements = Some((&m.value, m.key_span)),
                other => self.error(SYNTAX, format!("unknown element `{other}`"), &p, m.key_span),
            }
        }
        let Some((stmt_node, _)) = statements else {
            self.error(
                SYNTAX,
                "missing required element `Statement`".to_owned(),
                &path,
                root.span,
            );
            return None;
        };
        let sp = path.key("Statement");
        let (nodes, statement_is_array): (Vec<&Node>, bool) = match &stmt_node.kind {
            NodeKind::Array(items) => (items.iter().collect(), true),
            NodeKind::Object(_) => (vec![stmt_node], false),
            other => {
                self.error(
                    SYNTAX,
                    format!(
                        "`Statement` must be an object or an array, not {}",
                        other.type_name()
                    ),
                    &sp,
                    stmt_node.span,
                );
                return None;
            }
        };
        let mut out = Vec::with_capacity(nodes.len());
        let mut sids = HashSet::new();
        for (i, n) in nodes.into_iter().enumerate() {
            let p = if statement_is_array { sp.index(i) } else { sp };
            if let Some(st) = self.statement(n, &p) {
                if let Some(sid) = &st.sid
                    && !sid.value.is_empty()
                    && !sids.insert(sid.value.clone())
                {
                    let sidp = p.key("Sid");
                    self.error(
                        "Statement IDs (SID) in a single policy must be unique.",
                        format!("`Sid` `{}` appears more than once", sid.value),
                        &sidp,
                        sid.span,
                    );
                }
                out.push(st);
            }
        }
        Some(PolicyDocument {
            kind: self.kind,
            version,
            id,
            statements: out,
            statement_is_array,
        })
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one match arm per statement element reads best in one place"
    )]
    fn statement(&mut self, node: &Node, path: &Path<'_>) -> Option<Statement> {
        let members = self.object(node, path, "a statement")?;
        let mut sid = None;
        let mut effect = None;
        let mut principal: Option<PrincipalElement> = None;
        let mut action: Option<ListElement> = None;
        let mut resource: Option<ListElement> = None;
        let mut condition = Vec::new();
        let mut has_condition = false;
        let mut ok = true;
        for m in members {
            let p = path.key(&m.key);
            match m.key.as_str() {
                "Sid" => {
                    sid = self.string(&m.value, &p, "`Sid`");
                    if let Some(s) = &sid
                        && self.kind.alphanumeric_sid()
                        && !s.value.chars().all(|c| c.is_ascii_alphanumeric())
                    {
                        self.error(
                                "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*",
                                format!("`Sid` `{}` is not alphanumeric", s.value),
                                &p,
                                s.span,
                            );
                    }
                }
                "Effect" => {
                    if let Some(s) = self.string(&m.value, &p, "`Effect`") {
                        match s.value.as_str() {
                            "Allow" => {
                                effect = Some(Spanned {
                                    value: Effect::Allow,
                                    span: s.span,
                                })
                            }
                            "Deny" => {
                                effect = Some(Spanned {
                                    value: Effect::Deny,
                                    span: s.span,
                                })
                            }
                            other => {
                                ok = false;
                                self.error(
                                    SYNTAX,
                                    format!("`Effect` must be `Allow` or `Deny`, not `{other}`"),
                                    &p,
                                    s.span,
                                );
                            }
                        }
                    } else {
                        ok = false;
                    }
                }
                "Principal" | "NotPrincipal" => {
                    let negated = m.key == "NotPrincipal";
                    if principal.is_some() {
                        self.error(
                            SYNTAX,
                            "a statement may have `Principal` or `NotPrincipal`, not both"
                                .to_owned(),
                            &p,
                            m.key_span,
                        );
                    }
                    if self.kind.principal_rule() == Rule::Forbidden {
                        self.error(
                            "Policy document should not specify a principal.",
                            format!(
                                "`{}` is not allowed in {} policies",
                                m.key,
                                kind_name(self.kind)
                            ),
                            &p,
                            m.key_span,
                        );
                    }
                    if let Some(value) = self.principal(&m.value, &p) {
                        principal = Some(PrincipalElement { negated, value });
                    }
                }
                "Action" | "NotAction" => {
                    let negated = m.key == "NotAction";
                    if action.is_some() {
                        self.error(
                            SYNTAX,
                            "a statement may have `Action` or `NotAction`, not both".to_owned(),
                            &p,
                            m.key_span,
                        );
                    }
                    if let Some(values) = self.string_list(&m.value, &p, "an action") {
                        for (i, v) in values.items.iter().enumerate() {
                            let ip = if values.array { p.index(i) } else { p };
                            self.check_action(v, &ip);
                        }
                        if values.items.is_empty() {
                            self.error(
                                "Policy statement must contain actions.",
                                format!("`{}` is empty", m.key),
                                &p,
                                m.value.span,
                            );
                        }
                        action = Some(ListElement { negated, values });
                    } else {
                        ok = false;
                    }
                }
                "Resource" | "NotResource" => {
                    let negated = m.key == "NotResource";
                    if resource.is_some() {
                        self.error(
                            SYNTAX,
                            "a statement may have `Resource` or `NotResource`, not both".to_owned(),
                            &p,
                            m.key_span,
                        );
                    }
                    if self.kind.resource_rule() == Rule::Forbidden {
                        self.error(
                            &format!("Has prohibited field {}", m.key),
                            format!(
                                "`{}` is not allowed in {} policies",
                                m.key,
                                kind_name(self.kind)
                            ),
                            &p,
                            m.key_span,
                        );
                    }
                    if let Some(values) = self.string_list(&m.value, &p, "a resource") {
                        for (i, v) in values.items.iter().enumerate() {
                            let ip = if values.array { p.index(i) } else { p };
                            self.check_resource(v, &ip);
                        }
                        if values.items.is_empty() {
                            self.error(
                                "Policy statement must contain resources.",
                                format!("`{}` is empty", m.key),
                                &p,
                                m.value.span,
                            );
                        }
                        resource = Some(ListElement { negated, values });
                    } else {
                        ok = false;
                    }
                }
                "Condition" => {
                    has_condition = true;
                    if let Some(c) = self.condition(&m.value, &p) {
                        condition = c;
                    } else {
                        ok = false;
                    }
                }
                other => self.error(
                    SYNTAX,
                    format!("unknown element `{other}` in a statement"),
                    &p,
                    m.key_span,
                ),
            }
        }
        if effect.is_none() && ok {
            ok = false;
            self.error(
                "Missing required field Effect",
                "the statement has no `Effect`".to_owned(),
                path,
                node.span,
            );
        }
        if action.is_none() && ok {
            ok = false;
            self.error(
                "Policy statement must contain actions.",
                "the statement has no `Action` or `NotAction`".to_owned(),
                path,
                node.span,
            );
        }
        if resource.is_none() && self.kind.resource_rule() == Rule::Required && ok {
            ok = false;
            self.error(
                "Policy statement must contain resources.",
                "the statement has no `Resource` or `NotResource`".to_owned(),
                path,
                node.span,
            );
        }
        if principal.is_none() && self.kind.principal_rule() == Rule::Required && ok {
            ok = false;
            self.error(
                "Missing required field Principal",
                format!(
                    "{} policies need `Principal` or `NotPrincipal` in every statement",
                    kind_name(self.kind)
                ),
                path,
                node.span,
            );
        }
        let (Some(effect), Some(action), true) = (effect, action, ok) else {
            return None;
        };
        Some(Statement {
            sid,
            effect,
            principal,
            action,
            resource,
            condition,
            has_condition,
            span: node.span,
        })
    }

    fn check_action(&mut self, v: &Spanned<String>, path: &Path<'_>) {
        let s = v.value.as_str();
        if s == "*" {
            return;
        }
        let colons = s.bytes().filter(|b| *b == b':').count();
        if colons == 0 {
            self.error(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
                format!("action `{s}` has no service prefix"),
                path,
                v.span,
            );
        } else if colons > 1 {
            self.error(
                "Actions/Condition can contain only one colon.",
                format!("action `{s}` has more than one colon"),
                path,
                v.span,
            );
        } else if s.starts_with(':') {
            self.error(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
                format!("action `{s}` has an empty service prefix"),
                path,
                v.span,
            );
        }
    }

    fn check_resource(&mut self, v: &Spanned<String>, path: &Path<'_>) {
        let s = v.value.as_str();
        if s == "*" || s.starts_with("arn:") || (self.kind == PolicyKind::Resource && !s.is_empty())
        {
            return;
        }
        self.error(
            &format!("Resource {s} must be in ARN format or \"*\"."),
            format!("resource `{s}` is neither `*` nor an ARN"),
            path,
            v.span,
        );
    }

    fn principal(&mut self, node: &Node, path: &Path<'_>) -> Option<PrincipalValue> {
        match &node.kind {
            NodeKind::String(s) if s == "*" => Some(PrincipalValue::Wildcard),
            NodeKind::Object(members) => {
                self.check_duplicates(members, path);
                let mut out = Vec::with_capacity(members.len());
                for m in members {
                    let p = path.key(&m.key);
                    let ty = match m.key.as_str() {
                        "AWS" => PrincipalType::Aws,
                        "Service" => PrincipalType::Service,
                        "Federated" => PrincipalType::Federated,
                        "CanonicalUser" => PrincipalType::CanonicalUser,
                        other => {
                            self.error(
                                "Invalid principal in policy",
                                format!("unknown principal type `{other}`"),
                                &p,
                                m.key_span,
                            );
                            continue;
                        }
                    };
                    if let Some(list) = self.string_list(&m.value, &p, "a principal") {
                        for (i, v) in list.items.iter().enumerate() {
                            let ip = if list.array { p.index(i) } else { p };
                            self.check_principal(ty, v, &ip);
                        }
                        if list.items.is_empty() {
                            self.error(
                                "Invalid principal in policy",
                                format!("`{}` lists no principal", m.key),
                                &p,
                                m.value.span,
                            );
                        }
                        out.push((ty, list));
                    }
                }
                if members.is_empty() {
                    self.error(
                        "Invalid principal in policy",
                        "the principal map is empty".to_owned(),
                        path,
                        node.span,
                    );
                }
                Some(PrincipalValue::Map(out))
            }
            other => {
                self.error(
                    "Invalid principal in policy",
                    format!("a principal must be `\"*\"` or an object such as `{{\"AWS\": ...}}`, not {}", describe(other)),
                    path,
                    node.span,
                );
                None
            }
        }
    }

    fn check_principal(&mut self, ty: PrincipalType, v: &Spanned<String>, path: &Path<'_>) {
        let s = v.value.as_str();
        let valid = match ty {
            PrincipalType::Aws => {
                s == "*"
                    || (s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()))
                    || crate::arn::principal_arn_is_valid(s)
                    // Unique ids (AIDA..., AROA...): IAM rewrites the ARN of a deleted entity to them.
                    || (s.len() >= 16 && s.starts_with('A') && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
            }
            PrincipalType::Service | PrincipalType::Federated | PrincipalType::CanonicalUser => {
                !s.is_empty()
            }
        };
        if !valid {
            self.error(
                &format!("Invalid principal in policy: \"{}\":\"{}\"", ty.as_str(), s),
                format!("`{s}` is not a valid {} principal", ty.as_str()),
                path,
                v.span,
            );
        }
    }

    fn condition(&mut self, node: &Node, path: &Path<'_>) -> Option<Vec<ConditionOperatorBlock>> {
        let members = self.object(node, path, "`Condition`")?;
        let mut out = Vec::with_capacity(members.len());
        for m in members {
            let p = path.key(&m.key);
            let Some(parsed) = Operator::parse(&m.key) else {
                self.error(
                    SYNTAX,
                    format!("unknown condition operator `{}`", m.key),
                    &p,
                    m.key_span,
                );
                continue;
            };
            let Some(keys) = self.object(&m.value, &p, "a condition operator's value") else {
                continue;
            };
            let mut entries = Vec::with_capacity(keys.len());
            for k in keys {
                let kp = p.key(&k.key);
                if !k.key.contains(':') || k.key.starts_with(':') {
                    self.error(
                        "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
                        format!("condition key `{}` has no service prefix", k.key),
                        &kp,
                        k.key_span,
                    );
                }
                let (items, array) = match &k.value.kind {
                    NodeKind::Array(a) => (a.iter().collect::<Vec<_>>(), true),
                    _ => (vec![&k.value], false),
                };
                let mut values = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    let ip = if array { kp.index(i) } else { kp };
                    let v = match &item.kind {
                        NodeKind::String(s) => ConditionValue::String(s.clone()),
                        NodeKind::Number(n) => ConditionValue::Number(n.clone()),
                        NodeKind::Bool(b) => ConditionValue::Bool(*b),
                        other => {
                            self.error(
                                SYNTAX,
                                format!(
                                    "a condition value must be a string, number or boolean, not {}",
                                    other.type_name()
                                ),
                                &ip,
                                item.span,
                            );
                            continue;
                        }
                    };
                    if let Err(detail) = check_condition_value(parsed.family, v.as_text()) {
                        self.error(SYNTAX, detail, &ip, item.span);
                        continue;
                    }
                    values.push(Spanned {
                        value: v,
                        span: item.span,
                    });
                }
                entries.push(ConditionEntry {
                    key: Spanned {
                        value: k.key.clone(),
                        span: k.key_span,
                    },
                    values,
                    array,
                });
            }
            out.push(ConditionOperatorBlock {
                operator: Spanned {
                    value: m.key.clone(),
                    span: m.key_span,
                },
                parsed,
                entries,
            });
        }
        Some(out)
    }
}

/// The one value IAM checks when the policy is written: the `Null` operator's
/// boolean. Numbers, dates, addresses and base64 that do not parse are accepted and
/// never match (Access Analyzer reports them; IAM stores the policy).
fn check_condition_value(family: OperatorFamily, v: &str) -> Result<(), String> {
    if family == OperatorFamily::Null
        && !v.eq_ignore_ascii_case("true")
        && !v.eq_ignore_ascii_case("false")
    {
        return Err(format!(
            "the `Null` operator takes `true` or `false`, not `{v}`"
        ));
    }
    Ok(())
}

fn kind_name(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Identity => "identity-based",
        PolicyKind::Resource => "resource-based",
        PolicyKind::Trust => "trust",
        PolicyKind::Boundary => "permissions boundary",
        PolicyKind::Session => "session",
        PolicyKind::Scp => "service control",
    }
}

fn describe(kind: &NodeKind) -> String {
    match kind {
        NodeKind::String(s) => format!("`\"{s}\"`"),
        other => other.type_name().to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Printing

impl PolicyDocument {
    /// The document as canonical JSON text: elements in the grammar's order, no
    /// insignificant whitespace. Parsing the result gives an equal document.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut o = String::with_capacity(256);
        o.push('{');
        let mut first = true;
        if let Some(v) = &self.version {
            o.push_str("\"Version\":");
            json::write_string(&mut o, v.value.as_str());
            first = false;
        }
        if let Some(id) = &self.id {
            if !first {
                o.push(',');
            }
            o.push_str("\"Id\":");
            json::write_string(&mut o, &id.value);
            first = false;
        }
        if !first {
            o.push(',');
        }
        o.push_str("\"Statement\":");
        if self.statement_is_array {
            o.push('[');
        }
        for (i, s) in self.statements.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            s.write_json(&mut o);
        }
        if self.statement_is_array {
            o.push(']');
        }
        o.push('}');
        o
    }

    /// Whether policy variables are substituted (only under `2012-10-17`).
    #[must_use]
    pub fn variables_enabled(&self) -> bool {
        matches!(
            self.version,
            Some(Spanned {
                value: Version::V2012_10_17,
                ..
            })
        )
    }
}

impl fmt::Display for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl Statement {
    fn write_json(&self, o: &mut String) {
        o.push('{');
        if let Some(sid) = &self.sid {
            o.push_str("\"Sid\":");
            json::write_string(o, &sid.value);
            o.push(',');
        }
        o.push_str("\"Effect\":");
        json::write_string(o, self.effect.value.as_str());
        if let Some(p) = &self.principal {
            o.push_str(if p.negated {
                ",\"NotPrincipal\":"
            } else {
                ",\"Principal\":"
            });
            match &p.value {
                PrincipalValue::Wildcard => o.push_str("\"*\""),
                PrincipalValue::Map(entries) => {
                    o.push('{');
                    for (i, (ty, list)) in entries.iter().enumerate() {
                        if i > 0 {
                            o.push(',');
                        }
                        json::write_string(o, ty.as_str());
                        o.push(':');
                        write_list(o, list);
                    }
                    o.push('}');
                }
            }
        }
        o.push_str(if self.action.negated {
            ",\"NotAction\":"
        } else {
            ",\"Action\":"
        });
        write_list(o, &self.action.values);
        if let Some(r) = &self.resource {
            o.push_str(if r.negated {
                ",\"NotResource\":"
            } else {
                ",\"Resource\":"
            });
            write_list(o, &r.values);
        }
        if self.has_condition {
            o.push_str(",\"Condition\":{");
            for (i, block) in self.condition.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                json::write_string(o, &block.operator.value);
                o.push_str(":{");
                for (j, e) in block.entries.iter().enumerate() {
                    if j > 0 {
                        o.push(',');
                    }
                    json::write_string(o, &e.key.value);
                    o.push(':');
                    if e.array {
                        o.push('[');
                    }
                    for (k, v) in e.values.iter().enumerate() {
                        if k > 0 {
                            o.push(',');
                        }
                        match &v.value {
                            ConditionValue::String(s) => json::write_string(o, s),
                            ConditionValue::Number(n) => o.push_str(n),
                            ConditionValue::Bool(b) => {
                                o.push_str(if *b { "true" } else { "false" })
                            }
                        }
                    }
                    if e.array {
                        o.push(']');
                    }
                }
                o.push('}');
            }
            o.push('}');
        }
        o.push('}');
    }
}

fn write_list(o: &mut String, list: &StringList) {
    if list.array {
        o.push('[');
    }
    for (i, s) in list.items.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        json::write_string(o, &s.value);
    }
    if list.array {
        o.push(']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(text: &str, kind: PolicyKind) -> Vec<Diagnostic> {
        parse(text, kind).unwrap_err().diagnostics().to_vec()
    }

    #[test]
    fn parses_every_element() {
        let text = r#"{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"A1","Effect":"Allow",
            "Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:root"],"Service":"ec2.amazonaws.com"},
            "NotAction":"s3:Delete*","Resource":["arn:aws:s3:::b/*"],
            "Condition":{"NumericLessThan":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":true}}}]}"#;
        let doc = parse(text, PolicyKind::Resource).unwrap();
        assert_eq!(doc.statements.len(), 1);
        let s = &doc.statements[0];
        assert!(s.action.negated);
        assert_eq!(s.condition.len(), 2);
        assert_eq!(
            s.condition[0].entries[0].values[0].value,
            ConditionValue::Number("10".into())
        );
        let again = parse(&doc.to_json(), PolicyKind::Resource).unwrap();
        assert_eq!(doc, again);
    }

    #[test]
    fn statement_object_form_round_trips() {
        let text = r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{}}}"#;
        let doc = parse(text, PolicyKind::Identity).unwrap();
        assert!(!doc.statement_is_array);
        assert_eq!(doc.to_json(), text);
    }

    #[test]
    fn principal_forbidden_in_identity_policies() {
        let d = errs(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
            PolicyKind::Identity,
        );
        assert_eq!(
            d[0].aws_message,
            "Policy document should not specify a principal."
        );
        assert_eq!(d[0].path, "Statement[0].Principal");
        assert_eq!(
            d[0].position,
            Position {
                line: 1,
                column: 33
            }
        );
    }

    #[test]
    fn trust_policy_rules() {
        let d = errs(
            r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#,
            PolicyKind::Trust,
        );
        assert_eq!(d[0].aws_message, "Missing required field Principal");
        let d = errs(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}"#,
            PolicyKind::Trust,
        );
        assert_eq!(d[0].aws_message, "Has prohibited field Resource");
    }

    #[test]
    fn collects_several_errors_with_paths() {
        let text = "{\"Version\":\"2012-10-17\",\"Statement\":[\n {\"Effect\":\"allow\",\"Action\":\"s3:Get\",\"Resource\":\"*\"},\n {\"Effect\":\"Allow\",\"Action\":\"GetObject\",\"Resource\":\"*\",\"Foo\":1}]}";
        let d = errs(text, PolicyKind::Identity);
        let paths: Vec<_> = d.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "Statement[0].Effect",
                "Statement[1].Action",
                "Statement[1].Foo"
            ]
        );
        assert_eq!(d[1].position.line, 3);
        assert_eq!(
            d[1].aws_message,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
        );
    }

    #[test]
    fn missing_elements() {
        let d = errs(
            r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
            PolicyKind::Identity,
        );
        assert_eq!(d[0].aws_message, "Policy statement must contain actions.");
        let d = errs(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#,
            PolicyKind::Identity,
        );
        assert_eq!(d[0].aws_message, "Policy statement must contain resources.");
        let d = errs(
            r#"{"Statement":[{"Action":"s3:*","Resource":"*"}]}"#,
            PolicyKind::Identity,
        );
        assert_eq!(d[0].aws_message, "Missing required field Effect");
        assert!(
            parse(
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#,
                PolicyKind::Scp
            )
            .is_ok()
        );
    }

    #[test]
    fn duplicate_keys_and_sids() {
        let d = errs(
            r#"{"Statement":[{"Effect":"Allow","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
            PolicyKind::Identity,
        );
        assert!(d[0].detail.contains("duplicate key `Effect`"), "{d:?}");
        let d = errs(
            r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
            PolicyKind::Identity,
        );
        assert_eq!(
            d[0].aws_message,
            "Statement IDs (SID) in a single policy must be unique."
        );
        // Large objects take the hashed path.
        let keys: Vec<String> = (0..20).map(|i| format!("\"k:{i}\":\"v\"")).collect();
        let text = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{{"StringEquals":{{{},"k:7":"w"}}}}}}]}}"#,
            keys.join(",")
        );
        let d = errs(&text, PolicyKind::Identity);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "Statement[0].Condition.StringEquals.k:7");
    }

    #[test]
    fn bad_version_and_condition_values() {
        let d = errs(
            r#"{"Version":"2012-10-18","Statement":[]}"#,
            PolicyKind::Identity,
        );
        assert_eq!(d[0].path, "Version");
        let d = errs(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Null":{"aws:SourceIp":["true","maybe"]}}}]}"#,
            PolicyKind::Identity,
        );
        assert_eq!(d[0].path, "Statement[0].Condition.Null.aws:SourceIp[1]");
        // A value that is not an address is accepted by IAM and never matches.
        assert!(
            parse(
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.300"}}}]}"#,
                PolicyKind::Identity
            )
            .is_ok()
        );
        let d = errs(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:x":"y"}}}]}"#,
            PolicyKind::Identity,
        );
        assert!(d[0].detail.contains("StringEqualz"));
    }

    #[test]
    fn size_quotas() {
        let big = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":[{}]}}]}}"#,
            (0..300)
                .map(|i| format!("\"arn:aws:s3:::bucket-{i}/*\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        let e = parse(&big, PolicyKind::Identity).unwrap_err();
        assert_eq!(e.code(), AwsErrorCode::LimitExceeded);
        assert_eq!(e.aws_message(), "Cannot exceed quota for PolicySize: 6144");
        assert!(
            parse(
                &big,
                ParseOptions {
                    kind: PolicyKind::Identity,
                    quota: Some(SizeQuota::RoleInline)
                }
            )
            .is_ok()
        );
        // Whitespace does not count for IAM.
        let spaced = format!(
            r#"{{"Statement":[{}{{"Effect":"Allow","Action":"s3:*","Resource":"*"}}]}}"#,
            " ".repeat(7000)
        );
        assert!(parse(&spaced, PolicyKind::Identity).is_ok());
        assert_eq!(
            parse(&spaced, PolicyKind::Scp).unwrap_err().code(),
            AwsErrorCode::LimitExceeded
        );
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let huge = format!("{{\"Statement\":[{}]}}", "{},".repeat(400_000));
        assert_eq!(
            parse(&huge, PolicyKind::Resource).unwrap_err().code(),
            AwsErrorCode::LimitExceeded
        );
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(
            parse(&deep, PolicyKind::Resource)
                .unwrap_err()
                .to_string()
                .contains("too deep")
        );
        let bad = b"{\"Statement\":\"\xff\"}";
        let e = parse_bytes(bad, PolicyKind::Identity).unwrap_err();
        assert!(e.to_string().contains("invalid UTF-8 at byte 14"), "{e}");
        let cidrs = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{{"IpAddress":{{"aws:SourceIp":[{}]}}}}}}]}}"#,
            (0..5000)
                .map(|i| format!("\"10.{}.{}.0/24\"", i / 256, i % 256))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(
            parse(&cidrs, PolicyKind::Identity).unwrap_err().code(),
            AwsErrorCode::LimitExceeded
        );
        let unlimited = ParseOptions {
            kind: PolicyKind::Identity,
            quota: Some(SizeQuota::Unlimited),
        };
        assert!(parse(&cidrs, unlimited).is_ok());
    }
}
