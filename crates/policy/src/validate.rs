//! Validation beyond syntax, as IAM Access Analyzer's `ValidatePolicy` does: findings
//! of four severities, each with an issue code, a message, the JSON path and the line
//! and column of what it is about.
//!
//! [`validate`] parses the document ([`crate::document::parse`]); every parse error is
//! an [`Severity::Error`] finding, and a document that does not parse gets no further
//! checks. A parsed document is then checked against the [action
//! catalog](crate::catalog): service prefixes, actions (wildcards that match nothing
//! included), whether an action can act on the resources named, condition keys (known
//! at all, and supported by the statement's actions), operators against the types of
//! keys and values, and a few patterns that are valid but risky or useless.
//!
//! Issue codes are Access Analyzer's wherever it has a check for the same thing (see
//! its "policy check reference"); severities follow it, except where IAM itself
//! rejects the document (then: error). Codes Access Analyzer does not have:
//!
//! - `UNSUPPORTED_RESOURCE_ARN_IN_POLICY` (warning) is reused for an action none of
//!   whose resource types matches any `Resource` of its statement, so that the
//!   statement grants nothing for it (Access Analyzer uses the code, as an error, for
//!   resource policies of particular resource types). Not an error: IAM accepts such
//!   statements, and 350 of them sit in AWS's own managed policies, most listing
//!   actions of several resource types together.
//! - `CONDITION_KEY_NOT_SUPPORTED` (warning): a service key that none of the
//!   statement's actions of that service supports, so requests never carry it.
//! - `ALLOW_WITH_NOT_ACTION_AND_STAR_RESOURCE` (security warning): allows every
//!   action but a few, on everything.
//! - `NOT_IN_CATALOG` (warning): a name AWS's own policies use that the catalog
//!   snapshot lacks ([`crate::catalog::NOT_IN_CATALOG`]).
//! - `MALFORMED_POLICY_DOCUMENT` (error): a parse error no more specific code fits.
//!
//! Size: an identity policy or boundary over 6,144 characters is a warning
//! (`POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA`, as Access Analyzer: the document may
//! be an inline policy of a role, whose quota is larger); other kinds over their quota
//! are errors.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use crate::catalog::{self, Catalog, KeyType};
use crate::condition::{
    Cidr, Op, OperatorFamily, Qualifier, decode_base64, parse_date, parse_number,
};
use crate::document::{
    self, ConditionEntry, ConditionOperatorBlock, Effect, ListElement, ParseOptions,
    PolicyDocument, PolicyKind, PrincipalValue, SizeQuota, Spanned, Statement, StringList, Version,
};
use crate::error::{AwsErrorCode, Diagnostic, Position, Span};
use crate::pattern::glob_str;

/// How serious a finding is (Access Analyzer's finding types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// The policy is invalid, or a part of it can never work.
    Error,
    /// The policy grants more than its author probably meant.
    SecurityWarning,
    /// Valid, but not what it seems (or against AWS's best practices).
    Warning,
    /// Valid; could be simpler.
    Suggestion,
}

impl Severity {
    /// The name as Access Analyzer writes it (`SECURITY_WARNING`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "ERROR",
            Self::SecurityWarning => "SECURITY_WARNING",
            Self::Warning => "WARNING",
            Self::Suggestion => "SUGGESTION",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// The issue code (`INVALID_ACTION`).
    pub code: &'static str,
    /// What is wrong, naming the offending text.
    pub message: String,
    /// JSON path of the node it is about (`Statement[0].Action[2]`).
    pub path: String,
    /// Where that node starts.
    pub position: Position,
    /// That node's byte range.
    pub span: Span,
}

/// Validates a policy document used as `kind`. Findings come in document order.
#[must_use]
pub fn validate(text: &str, kind: PolicyKind) -> Vec<Finding> {
    let lines = Lines::new(text);
    let mut v = Validator {
        lines: &lines,
        kind,
        cat: Catalog::get(),
        out: Vec::new(),
        variables: false,
    };
    if let Some(doc) = v.parse(text) {
        v.document(&doc);
    }
    let mut out = v.out;
    out.sort_by(|a, b| (a.span.start, a.severity, a.code).cmp(&(b.span.start, b.severity, b.code)));
    out.dedup();
    out
}

/// As [`validate`], for bytes that may not be UTF-8.
#[must_use]
pub fn validate_bytes(bytes: &[u8], kind: PolicyKind) -> Vec<Finding> {
    match std::str::from_utf8(bytes) {
        Ok(text) => validate(text, kind),
        Err(_) => match document::parse_bytes(bytes, kind) {
            Err(e) => e
                .diagnostics()
                .iter()
                .map(|d| Finding {
                    severity: Severity::Error,
                    code: "JSON_SYNTAX_ERROR",
                    message: d.detail.clone(),
                    path: d.path.clone(),
                    position: d.position,
                    span: d.span,
                })
                .collect(),
            Ok(_) => Vec::new(),
        },
    }
}

// ---------------------------------------------------------------------------
// Positions

/// Line starts, so that a finding's position costs a binary search and a short scan.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }

    fn position(&self, offset: usize) -> Position {
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset.min(self.text.len()))
            .map_or(0, |s| s.chars().count());
        Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }
}

// ---------------------------------------------------------------------------
// The checks

struct Validator<'a> {
    lines: &'a Lines<'a>,
    kind: PolicyKind,
    cat: &'static Catalog,
    out: Vec<Finding>,
    /// Whether policy variables are substituted (Version 2012-10-17).
    variables: bool,
}

/// What one action element entry covers, by catalog index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expansion {
    /// `*`.
    All,
    /// These (service, action) pairs, sorted; never empty.
    Set(Vec<(usize, usize)>),
    /// Nothing the catalog knows (already reported).
    Unknown,
}

/// What a statement's action element covers, for its other checks.
struct Actions {
    negated: bool,
    entries: Vec<Expansion>,
}

impl Actions {
    /// Every (service, action) pair, when every entry is known and none is `*`.
    fn pairs(&self) -> Option<BTreeSet<(usize, usize)>> {
        let mut out = BTreeSet::new();
        for e in &self.entries {
            match e {
                Expansion::Set(s) => out.extend(s.iter().copied()),
                Expansion::All | Expansion::Unknown => return None,
            }
        }
        Some(out)
    }
}

fn statement_path(doc: &PolicyDocument, i: usize) -> String {
    if doc.statement_is_array {
        format!("Statement[{i}]")
    } else {
        "Statement".to_owned()
    }
}

fn item_path(base: &str, element: &str, list: &StringList, j: usize) -> String {
    if list.array {
        format!("{base}.{element}[{j}]")
    } else {
        format!("{base}.{element}")
    }
}

fn action_element(a: &ListElement) -> &'static str {
    if a.negated { "NotAction" } else { "Action" }
}

fn resource_element(r: &ListElement) -> &'static str {
    if r.negated { "NotResource" } else { "Resource" }
}

impl Validator<'_> {
    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        path: String,
        span: Span,
        message: String,
    ) {
        self.out.push(Finding {
            severity,
            code,
            message,
            path,
            position: self.lines.position(span.start as usize),
            span,
        });
    }

    /// Parses under the kind's quota; a document over it is reported and parsed again
    /// without it, so that the rest of it is still checked.
    fn parse(&mut self, text: &str) -> Option<PolicyDocument> {
        let quota = self.kind.default_quota();
        let err = match document::parse(
            text,
            ParseOptions {
                kind: self.kind,
                quota: Some(quota),
            },
        ) {
            Ok(doc) => return Some(doc),
            Err(e) => e,
        };
        let (size, other): (Vec<&Diagnostic>, Vec<&Diagnostic>) = err
            .diagnostics()
            .iter()
            .partition(|d| d.code == AwsErrorCode::LimitExceeded);
        if text.len() > document::MAX_DOCUMENT_BYTES {
            if let Some(d) = size.first() {
                self.push(
                    Severity::Error,
                    "POLICY_SIZE_EXCEEDS_QUOTA",
                    String::new(),
                    d.span,
                    d.detail.clone(),
                );
            }
            return None;
        }
        for d in &size {
            let (severity, code) = match self.kind {
                PolicyKind::Identity | PolicyKind::Boundary => (
                    Severity::Warning,
                    "POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA",
                ),
                PolicyKind::Scp => (Severity::Error, "POLICY_SIZE_EXCEEDS_SCP_QUOTA"),
                PolicyKind::Trust | PolicyKind::Session | PolicyKind::Resource => {
                    (Severity::Error, "POLICY_SIZE_EXCEEDS_QUOTA")
                }
            };
            self.push(
                severity,
                code,
                String::new(),
                d.span,
                format!("{} ({})", d.detail, d.aws_message),
            );
        }
        if !other.is_empty() {
            for d in other {
                self.push(
                    Severity::Error,
                    parse_code(d, self.kind),
                    d.path.clone(),
                    d.span,
                    parse_message(d),
                );
            }
            return None;
        }
        match document::parse(
            text,
            ParseOptions {
                kind: self.kind,
                quota: Some(SizeQuota::Unlimited),
            },
        ) {
            Ok(doc) => Some(doc),
            Err(e) => {
                for d in e.diagnostics() {
                    if d.code != AwsErrorCode::LimitExceeded {
                        self.push(
                            Severity::Error,
                            parse_code(d, self.kind),
                            d.path.clone(),
                            d.span,
                            parse_message(d),
                        );
                    }
                }
                None
            }
        }
    }

    fn document(&mut self, doc: &PolicyDocument) {
        self.variables = doc.variables_enabled();
        match &doc.version {
            None => self.push(
                Severity::Warning,
                "MISSING_VERSION",
                String::new(),
                Span::new(0, 0),
                "The policy has no `Version`: it is read as 2008-10-17, where policy variables are literal text. Add \"Version\": \"2012-10-17\"."
                    .to_owned(),
            ),
            Some(Spanned { value: Version::V2008_10_17, .. }) | Some(Spanned { value: Version::V2012_10_17, .. }) => {}
        }
        let mut summaries = Vec::with_capacity(doc.statements.len());
        for (i, st) in doc.statements.iter().enumerate() {
            let path = statement_path(doc, i);
            summaries.push(self.statement(&path, st));
        }
        self.redundant_statements(doc, &summaries);
    }

    fn statement(&mut self, path: &str, st: &Statement) -> Option<BTreeSet<(usize, usize)>> {
        if let Some(sid) = &st.sid
            && sid.value.is_empty()
        {
            self.push(
                Severity::Suggestion,
                "EMPTY_SID_VALUE",
                format!("{path}.Sid"),
                sid.span,
                "The `Sid` is empty: give the statement a name or remove the element.".to_owned(),
            );
        }
        if let Some(p) = &st.principal
            && p.negated
            && st.effect.value == Effect::Allow
        {
            let span = match &p.value {
                PrincipalValue::Map(m) => m
                    .first()
                    .and_then(|(_, l)| l.items.first())
                    .map_or(st.span, |s| s.span),
                PrincipalValue::Wildcard => st.span,
            };
            self.push(
                Severity::SecurityWarning,
                "ALLOW_WITH_NOT_PRINCIPAL",
                format!("{path}.NotPrincipal"),
                span,
                "`Allow` with `NotPrincipal` grants to every principal not listed, anonymous callers included. Name the principals in `Principal` instead."
                    .to_owned(),
            );
        }
        let actions = self.actions(path, &st.action);
        if let Some(r) = &st.resource {
            self.resources(path, r);
        }
        self.actions_on_resources(path, st, &actions);
        self.broad_allows(path, st, &actions);
        self.conditions(path, st, &actions);
        if actions.negated
            || st.resource.as_ref().is_some_and(|r| r.negated)
            || st.principal.as_ref().is_some_and(|p| p.negated)
        {
            None
        } else {
            actions.pairs()
        }
    }

    // --- Actions -----------------------------------------------------------

    fn expand(&self, action: &str) -> Expansion {
        if action == "*" {
            return Expansion::All;
        }
        let Some((prefix, name)) = action.split_once(':') else {
            return Expansion::Unknown;
        };
        let mut set = Vec::new();
        if prefix.contains(['*', '?']) {
            for s in self.cat.services_matching(prefix) {
                set.extend(s.matching(name).map(|a| (s.index(), a)));
            }
        } else if let Some(s) = self.cat.service(prefix) {
            if name.contains(['*', '?']) {
                set.extend(s.matching(name).map(|a| (s.index(), a)));
            } else if let Some(a) = s.action_index(name) {
                set.push((s.index(), a));
            }
        }
        set.sort_unstable();
        set.dedup();
        if set.is_empty() {
            Expansion::Unknown
        } else {
            Expansion::Set(set)
        }
    }

    fn actions(&mut self, path: &str, element: &ListElement) -> Actions {
        let name = action_element(element);
        let list = &element.values;
        let mut entries = Vec::with_capacity(list.items.len());
        for (j, item) in list.items.iter().enumerate() {
            let e = self.expand(&item.value);
            if e == Expansion::Unknown {
                self.unknown_action(&item_path(path, name, list, j), item);
            } else if let Some((prefix, _)) = item.value.split_once(':')
                && prefix.contains(['*', '?'])
            {
                self.push(
                    Severity::Suggestion,
                    "WILDCARD_IN_SERVICE_NAME",
                    item_path(path, name, list, j),
                    item.span,
                    format!("`{}` has wildcards in its service prefix: it will also match services AWS adds later with similar names.", item.value),
                );
            }
            entries.push(e);
        }
        self.redundant_actions(path, name, list, &entries);
        Actions {
            negated: element.negated,
            entries,
        }
    }

    fn unknown_action(&mut self, path: &str, item: &Spanned<String>) {
        let action = item.value.as_str();
        let Some((prefix, name)) = action.split_once(':') else {
            return; // the parser reported it
        };
        if catalog::not_in_catalog(action) {
            self.push(
                Severity::Warning,
                "NOT_IN_CATALOG",
                path.to_owned(),
                item.span,
                format!("`{action}` is not in the action catalog, but AWS managed policies use it: it is retired, newer than the catalog, or undocumented."),
            );
            return;
        }
        if prefix.contains(['*', '?']) {
            self.push(
                Severity::Error,
                "INVALID_ACTION",
                path.to_owned(),
                item.span,
                format!("`{action}` matches no action of any service."),
            );
            return;
        }
        let Some(service) = self.cat.service(prefix) else {
            let hint = did_you_mean(prefix, self.cat.prefixes())
                .map(|s| format!(" Did you mean `{s}`?"))
                .unwrap_or_default();
            self.push(
                Severity::Error,
                "INVALID_SERVICE_IN_ACTION",
                path.to_owned(),
                item.span,
                format!("The service `{prefix}` specified in the action `{action}` does not exist.{hint}"),
            );
            return;
        };
        let message = if name.contains(['*', '?']) {
            format!("`{action}` matches no {} action.", service.prefix())
        } else {
            let hint = did_you_mean(name, service.actions().iter().map(|a| a.name()))
                .map(|s| format!(" Did you mean `{}:{s}`?", service.prefix()))
                .unwrap_or_default();
            format!("The action `{action}` does not exist.{hint}")
        };
        self.push(
            Severity::Error,
            "INVALID_ACTION",
            path.to_owned(),
            item.span,
            message,
        );
    }

    /// An entry whose actions another entry of the same element already covers.
    fn redundant_actions(
        &mut self,
        path: &str,
        name: &str,
        list: &StringList,
        entries: &[Expansion],
    ) {
        let star = entries.iter().position(|e| *e == Expansion::All);
        // Entries by the services they touch, so that only overlapping ones are compared.
        let mut by_service: HashMap<usize, Vec<usize>> = HashMap::new();
        for (j, e) in entries.iter().enumerate() {
            if let Expansion::Set(s) = e {
                let mut last = None;
                for (svc, _) in s {
                    if last != Some(*svc) {
                        by_service.entry(*svc).or_default().push(j);
                        last = Some(*svc);
                    }
                }
            }
        }
        for (j, e) in entries.iter().enumerate() {
            let Expansion::Set(s) = e else {
                if *e == Expansion::All && star.is_some_and(|k| k < j) {
                    self.redundant_action(path, name, list, j, star);
                }
                continue;
            };
            if star.is_some() {
                self.redundant_action(path, name, list, j, star);
                continue;
            }
            let Some((first_service, _)) = s.first() else {
                continue;
            };
            let cover = by_service
                .get(first_service)
                .into_iter()
                .flatten()
                .copied()
                .find(|&k| {
                    k != j
                        && matches!(entries.get(k), Some(Expansion::Set(o))
                            if is_subset(s, o) && (s.len() < o.len() || k < j))
                });
            if cover.is_some() {
                self.redundant_action(path, name, list, j, cover);
            }
        }
    }

    fn redundant_action(
        &mut self,
        path: &str,
        name: &str,
        list: &StringList,
        j: usize,
        cover: Option<usize>,
    ) {
        let (Some(item), Some(by)) = (list.items.get(j), cover.and_then(|k| list.items.get(k)))
        else {
            return;
        };
        self.push(
            Severity::Suggestion,
            "REDUNDANT_ACTION",
            item_path(path, name, list, j),
            item.span,
            format!("`{}` is redundant: `{}` in the same element already covers every action it matches.", item.value, by.value),
        );
    }

    // --- Resources ---------------------------------------------------------

    fn resources(&mut self, path: &str, element: &ListElement) {
        let name = resource_element(element);
        let list = &element.values;
        for (j, item) in list.items.iter().enumerate() {
            let p = item_path(path, name, list, j);
            let r = item.value.as_str();
            if r == "*" || (self.kind == PolicyKind::Resource && !r.starts_with("arn:")) {
                continue;
            }
            if !self.variables && has_variable(r) {
                self.push(
                    Severity::Warning,
                    "VARIABLE_UNSUPPORTED_IN_VERSION",
                    p.clone(),
                    item.span,
                    format!("`{r}` holds a policy variable, but variables need \"Version\": \"2012-10-17\": it is matched as literal text."),
                );
            }
            let masked = mask_variables(r);
            let parts: Vec<&str> = masked.splitn(6, ':').collect();
            let &[_, partition, service, _, account, _] = parts.as_slice() else {
                self.push(
                    Severity::Error,
                    "MISSING_ARN_FIELD",
                    p,
                    item.span,
                    format!("`{r}` is not an ARN: resource ARNs have six fields, arn:partition:service:region:account:resource."),
                );
                continue;
            };
            if !is_wild(partition) && !PARTITIONS.contains(&partition) {
                self.push(
                    Severity::Error,
                    "INVALID_PARTITION",
                    p.clone(),
                    item.span,
                    format!("`{partition}` in `{r}` is not an AWS partition (aws, aws-cn, aws-us-gov, ...)."),
                );
            }
            if !is_wild(service) && service.bytes().any(|b| b.is_ascii_uppercase()) {
                self.push(
                    Severity::Error,
                    "INVALID_ARN_SERVICE_CASE",
                    p.clone(),
                    item.span,
                    format!("The service `{service}` in `{r}` must be lowercase: ARNs match case-sensitively."),
                );
            }
            let account_ok = is_wild(account)
                || account.is_empty()
                || account == "aws"
                || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
            if !account_ok {
                self.push(
                    Severity::Error,
                    "INVALID_ARN_ACCOUNT",
                    p,
                    item.span,
                    format!("The account `{account}` in `{r}` is not a 12-digit account id."),
                );
            }
        }
        // Redundant entries: covered by another entry of the element.
        let tokens: Vec<(bool, Vec<Tok>)> = list
            .items
            .iter()
            .map(|i| {
                let wild = i.value.contains(['*', '?', '$']);
                (wild, pattern_tokens(&mask_variables(&i.value)))
            })
            .collect();
        let covers_at = |k: usize, j: usize| -> bool {
            match (
                tokens.get(k),
                tokens.get(j),
                list.items.get(k),
                list.items.get(j),
            ) {
                (Some((wild, a)), Some((_, b)), Some(x), Some(y)) => {
                    x.value == y.value || x.value == "*" || (*wild && covers_tokens(a, b))
                }
                _ => false,
            }
        };
        for (j, item) in list.items.iter().enumerate() {
            let cover = list
                .items
                .iter()
                .enumerate()
                .find(|(k, _)| *k != j && covers_at(*k, j) && (*k < j || !covers_at(j, *k)));
            if let Some((_, by)) = cover {
                self.push(
                    Severity::Suggestion,
                    "REDUNDANT_RESOURCE",
                    item_path(path, name, list, j),
                    item.span,
                    format!(
                        "`{}` is redundant: `{}` in the same element already covers it.",
                        item.value, by.value
                    ),
                );
            }
        }
    }

    /// Actions that cannot act on any resource the statement names.
    fn actions_on_resources(&mut self, path: &str, st: &Statement, actions: &Actions) {
        let Some(resource) = &st.resource else { return };
        if actions.negated || resource.negated {
            return;
        }
        let mut patterns = Vec::with_capacity(resource.values.items.len());
        for item in &resource.values.items {
            if item.value == "*" {
                return;
            }
            let masked = mask_variables(&item.value);
            let parts: Vec<&str> = masked.splitn(6, ':').collect();
            if parts.len() != 6 || parts.first() != Some(&"arn") {
                return;
            }
            patterns.push(parts.into_iter().map(pattern_tokens).collect::<Vec<_>>());
        }
        // Per service: which of its resource types some Resource can be.
        let mut hits: HashMap<usize, Vec<bool>> = HashMap::new();
        let name = action_element(&st.action);
        let list = &st.action.values;
        let mut flagged = Vec::new();
        let mut any_ok = false;
        for (j, e) in actions.entries.iter().enumerate() {
            let Expansion::Set(set) = e else { continue };
            let mut ok = false;
            let mut types: Vec<String> = Vec::new();
            for &(svc, a) in set {
                let Some(service) = self.cat.service_at(svc) else {
                    ok = true;
                    break;
                };
                let Some(action) = service.actions().get(a) else {
                    ok = true;
                    break;
                };
                if !action.has_resource_types() {
                    // Such actions take `*`; AWS's own policies name ARNs for them
                    // (`s3:ListAllMyBuckets` on `arn:aws:s3:::*`), so it is not flagged.
                    ok = true;
                    break;
                }
                let hit = hits.entry(svc).or_insert_with(|| {
                    service
                        .resource_types()
                        .iter()
                        .map(|t| arn_format_intersects(&patterns, t.arn_format()))
                        .collect()
                });
                if service
                    .resources_of(action)
                    .any(|(i, _, _)| hit.get(i).copied().unwrap_or(false))
                {
                    ok = true;
                    break;
                }
                if types.len() < 4 {
                    for (_, t, _) in service.resources_of(action) {
                        let s = format!("{} ({})", t.name(), t.arn_format());
                        if !types.contains(&s) && types.len() < 4 {
                            types.push(s);
                        }
                    }
                }
            }
            if ok {
                any_ok = true;
            } else {
                flagged.push((j, types));
            }
        }
        // A warning, not an error: IAM accepts the statement, and AWS's own policies
        // list actions of several resource types in one statement, each Resource
        // serving some of them (hundreds of AWS managed policies do).
        let whole = !any_ok
            && actions
                .entries
                .iter()
                .all(|e| matches!(e, Expansion::Set(_)));
        for (j, types) in flagged {
            let Some(item) = list.items.get(j) else {
                continue;
            };
            let tail = if whole {
                " No other action of the statement can either: the statement grants nothing."
            } else {
                ""
            };
            self.push(
                Severity::Warning,
                "UNSUPPORTED_RESOURCE_ARN_IN_POLICY",
                item_path(path, name, list, j),
                item.span,
                format!(
                    "`{}` cannot act on any `Resource` of this statement, so the statement grants nothing for it: it acts on {}.{tail}",
                    item.value,
                    types.join(", ")
                ),
            );
        }
    }

    // --- Broad grants ------------------------------------------------------

    fn broad_allows(&mut self, path: &str, st: &Statement, actions: &Actions) {
        if st.effect.value != Effect::Allow {
            return;
        }
        let star_resource: Option<&Spanned<String>> = match &st.resource {
            Some(r) if !r.negated => r.values.items.iter().find(|i| i.value == "*"),
            _ => None,
        };
        let resource_absent_means_all = st.resource.is_none() && self.kind == PolicyKind::Scp;
        if actions.negated && (star_resource.is_some() || resource_absent_means_all) {
            let span = star_resource.map_or(st.span, |s| s.span);
            self.push(
                Severity::SecurityWarning,
                "ALLOW_WITH_NOT_ACTION_AND_STAR_RESOURCE",
                format!("{path}.Resource"),
                span,
                "`Allow` with `NotAction` on `\"Resource\": \"*\"` grants every action of every service, present and future, except those listed. List the actions to allow instead."
                    .to_owned(),
            );
        }
        self.pass_role(path, st, actions, star_resource);
    }

    fn pass_role(
        &mut self,
        path: &str,
        st: &Statement,
        actions: &Actions,
        star_resource: Option<&Spanned<String>>,
    ) {
        // `iam:PassedToService` is the remedy Access Analyzer recommends.
        let restricted = st.condition.iter().any(|b| {
            b.entries
                .iter()
                .any(|e| e.key.value.eq_ignore_ascii_case("iam:PassedToService"))
        });
        if restricted {
            return;
        }
        let list = &st.action.values;
        let matches_pass_role =
            |pattern: &str| glob_str(&pattern.to_ascii_lowercase(), "iam:passrole");
        let (covered, exact) = if actions.negated {
            (
                !list.items.iter().any(|i| matches_pass_role(&i.value)),
                false,
            )
        } else {
            match list.items.iter().find(|i| matches_pass_role(&i.value)) {
                Some(i) => (true, i.value.eq_ignore_ascii_case("iam:PassRole")),
                None => (false, false),
            }
        };
        if !covered {
            return;
        }
        let Some(resource) = &st.resource else { return };
        let (code, span, rpath, message) = if resource.negated {
            let code = match (actions.negated, exact) {
                (true, _) => "PASS_ROLE_WITH_NOT_ACTION_AND_NOT_RESOURCE",
                (false, true) => "PASS_ROLE_WITH_NOT_RESOURCE",
                (false, false) => "PASS_ROLE_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE",
            };
            let span = resource.values.items.first().map_or(st.span, |s| s.span);
            (
                code,
                span,
                format!("{path}.NotResource"),
                "Allowing iam:PassRole with `NotResource` lets the principal pass almost any role to a service. Name the roles in `Resource`, or add an iam:PassedToService condition.",
            )
        } else {
            let star = star_resource.or_else(|| {
                resource
                    .values
                    .items
                    .iter()
                    .find(|i| covers_any_role(&i.value))
            });
            let Some(star) = star else { return };
            let code = match (actions.negated, exact) {
                (true, _) => "PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION",
                (false, true) => "PASS_ROLE_WITH_STAR_IN_RESOURCE",
                (false, false) => "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE",
            };
            (
                code,
                star.span,
                format!("{path}.Resource"),
                "Allowing iam:PassRole on every role lets the principal give any role, and its permissions, to a service it controls. Name the roles in `Resource`, or add an iam:PassedToService condition.",
            )
        };
        self.push(
            Severity::SecurityWarning,
            code,
            rpath,
            span,
            message.to_owned(),
        );
    }

    // --- Conditions --------------------------------------------------------

    fn conditions(&mut self, path: &str, st: &Statement, actions: &Actions) {
        let cpath = format!("{path}.Condition");
        if st.has_condition && st.condition.is_empty() {
            self.push(
                Severity::Suggestion,
                "EMPTY_OBJECT_CONDITION",
                cpath.clone(),
                st.span,
                "The `Condition` element is empty: remove it or add conditions.".to_owned(),
            );
        }
        let pairs = if actions.negated {
            None
        } else {
            actions.pairs()
        };
        for block in &st.condition {
            let bpath = format!("{cpath}.{}", block.operator.value);
            if block.entries.is_empty() {
                self.push(
                    Severity::Suggestion,
                    "EMPTY_OBJECT_CONDITION",
                    bpath.clone(),
                    block.operator.span,
                    format!(
                        "The `{}` block has no condition keys: remove it or add keys.",
                        block.operator.value
                    ),
                );
            }
            let mut seen: HashMap<String, &str> = HashMap::new();
            for entry in &block.entries {
                let k = entry.key.value.as_str();
                match seen.get(&k.to_ascii_lowercase()) {
                    Some(first) if *first != k => self.push(
                        Severity::Error,
                        "DUPLICATE_KEYS_WITH_DIFFERENT_CASE",
                        format!("{bpath}.{k}"),
                        entry.key.span,
                        format!("The condition key `{k}` appears more than once in `{}` (also as `{first}`); keys are case-insensitive, so remove one.", block.operator.value),
                    ),
                    _ => {
                        seen.insert(k.to_ascii_lowercase(), k);
                    }
                }
                let kpath = format!("{bpath}.{k}");
                let ty = self.condition_key(&kpath, entry, pairs.as_ref());
                self.operator_and_values(&kpath, block, entry, ty);
            }
        }
    }

    /// Checks that the key exists; returns its type when known.
    fn condition_key(
        &mut self,
        path: &str,
        entry: &ConditionEntry,
        pairs: Option<&BTreeSet<(usize, usize)>>,
    ) -> Option<KeyType> {
        let key = entry.key.value.as_str();
        let span = entry.key.span;
        let (prefix, _) = key.split_once(':')?;
        if prefix.eq_ignore_ascii_case("aws") {
            if let Some(t) = catalog::global_key(key) {
                return Some(t);
            }
            if let Some((_, instead)) = catalog::DEPRECATED_GLOBAL_KEYS
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
            {
                self.push(
                    Severity::Warning,
                    "DEPRECATED_GLOBAL_CONDITION_KEY",
                    path.to_owned(),
                    span,
                    format!("The condition key `{key}` is deprecated: use {instead}."),
                );
                return None;
            }
            if catalog::GLOBAL_TAG_KEYS
                .iter()
                .any(|p| p.eq_ignore_ascii_case(key))
            {
                self.push(
                    Severity::Error,
                    "MISSING_TAG_KEY_IN_CONDITION",
                    path.to_owned(),
                    span,
                    format!("The condition key `{key}` needs a tag key after the slash."),
                );
                return None;
            }
            if catalog::not_in_catalog(key) {
                self.not_in_catalog(path, span, key);
                return None;
            }
            self.push(
                Severity::Error,
                "INVALID_GLOBAL_CONDITION_KEY",
                path.to_owned(),
                span,
                format!("The condition key `{key}` does not exist: it is not one of the global `aws:` keys."),
            );
            return None;
        }
        if let Some(t) = catalog::global_key(key) {
            return Some(t);
        }
        if let Some(ck) = self.cat.condition_key(key) {
            let ty = ck.key_type();
            self.key_supported(path, span, key, prefix, pairs);
            return (ty != KeyType::Unknown).then_some(ty);
        }
        if prefix.contains(['.', '/']) {
            // A web identity or OIDC provider's key (`token.actions.githubusercontent.com:sub`).
            return None;
        }
        if catalog::not_in_catalog(key) {
            self.not_in_catalog(path, span, key);
            return None;
        }
        if self.cat.is_key_prefix(prefix) {
            let service = self.cat.service(prefix).map_or(prefix, |s| s.prefix());
            self.push(
                Severity::Error,
                "INVALID_SERVICE_CONDITION_KEY",
                path.to_owned(),
                span,
                format!("The condition key `{key}` does not exist in the service `{service}`."),
            );
        } else {
            let hint = did_you_mean(prefix, self.cat.prefixes())
                .map(|s| format!(" Did you mean `{s}`?"))
                .unwrap_or_default();
            self.push(
                Severity::Error,
                "INVALID_SERVICE",
                path.to_owned(),
                span,
                format!(
                    "The service `{prefix}` of the condition key `{key}` does not exist.{hint}"
                ),
            );
        }
        None
    }

    fn not_in_catalog(&mut self, path: &str, span: Span, name: &str) {
        self.push(
            Severity::Warning,
            "NOT_IN_CATALOG",
            path.to_owned(),
            span,
            format!("`{name}` is not in the action catalog, but AWS managed policies use it: it is retired, newer than the catalog, or undocumented."),
        );
    }

    /// A service key that none of the statement's actions of that service supports.
    fn key_supported(
        &mut self,
        path: &str,
        span: Span,
        key: &str,
        prefix: &str,
        pairs: Option<&BTreeSet<(usize, usize)>>,
    ) {
        let Some(pairs) = pairs else { return };
        let Some(service) = self.cat.service(prefix) else {
            return;
        };
        let of_service: Vec<usize> = pairs
            .iter()
            .filter(|(s, _)| *s == service.index())
            .map(|(_, a)| *a)
            .collect();
        if of_service.is_empty() {
            return;
        }
        let supported = of_service.iter().any(|a| {
            service
                .actions()
                .get(*a)
                .is_some_and(|action| service.keys_of(action).any(|k| k.matches(key)))
        });
        if supported {
            return;
        }
        let mut names: Vec<String> = of_service
            .iter()
            .take(3)
            .filter_map(|a| service.actions().get(*a))
            .map(|a| format!("{}:{}", service.prefix(), a.name()))
            .collect();
        if of_service.len() > 3 {
            names.push(format!("and {} more", of_service.len() - 3));
        }
        self.push(
            Severity::Warning,
            "CONDITION_KEY_NOT_SUPPORTED",
            path.to_owned(),
            span,
            format!("None of the statement's {} actions ({}) supports the condition key `{key}`: requests for them do not carry it.", service.prefix(), names.join(", ")),
        );
    }

    fn operator_and_values(
        &mut self,
        path: &str,
        block: &ConditionOperatorBlock,
        entry: &ConditionEntry,
        ty: Option<KeyType>,
    ) {
        let op = block.parsed;
        let key = entry.key.value.as_str();
        let span = entry.key.span;
        if let Some(t) = ty {
            if op.qualifier == Qualifier::ForAllValues && !t.is_multivalued() {
                self.push(
                    Severity::SecurityWarning,
                    "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
                    path.to_owned(),
                    span,
                    format!("`ForAllValues` with the single-valued key `{key}` is true when the request lacks the key: use the operator without `ForAllValues:`."),
                );
            }
            if op.qualifier == Qualifier::None
                && t.is_multivalued()
                && op.family != OperatorFamily::Null
            {
                self.push(
                    Severity::Warning,
                    "MISSING_QUALIFIER",
                    path.to_owned(),
                    span,
                    format!("The key `{key}` can have several values in a request ({}): use `ForAnyValue:` or `ForAllValues:` with `{}`.", t.as_str(), block.operator.value),
                );
            }
            self.operator_type(path, span, block, key, t);
        }
        if entry.values.is_empty() {
            let (code, message) = match (op.qualifier, op.if_exists) {
                (Qualifier::ForAllValues, _) => (
                    "EMPTY_ARRAY_CONDITION_FORALLVALUES",
                    format!(
                        "`{key}` has no values: with `ForAllValues` the condition holds only when the request lacks the key; use `Null` to test that."
                    ),
                ),
                (Qualifier::ForAnyValue, _) => (
                    "EMPTY_ARRAY_CONDITION_FORANYVALUE",
                    format!("`{key}` has no values: with `ForAnyValue` the condition never holds."),
                ),
                (Qualifier::None, true) => (
                    "EMPTY_ARRAY_CONDITION_IFEXISTS",
                    format!(
                        "`{key}` has no values: with `IfExists` the condition holds only when the request lacks the key; use `Null` to test that."
                    ),
                ),
                (Qualifier::None, false) => (
                    "EMPTY_ARRAY_CONDITION",
                    format!(
                        "`{key}` has no values: the condition does nothing useful. Give it values."
                    ),
                ),
            };
            self.push(Severity::Suggestion, code, path.to_owned(), span, message);
            return;
        }
        if op.op == Op::Bool && entry.values.len() > 1 {
            self.push(
                Severity::Error,
                "INVALID_CONDITION_MULTIPLE_BOOLEAN",
                path.to_owned(),
                span,
                format!("`{key}` has several Boolean values: give one."),
            );
        }
        for (i, v) in entry.values.iter().enumerate() {
            let vpath = if entry.array {
                format!("{path}[{i}]")
            } else {
                path.to_owned()
            };
            self.value(&vpath, block, v.value.as_text(), v.span);
        }
    }

    fn operator_type(
        &mut self,
        path: &str,
        span: Span,
        block: &ConditionOperatorBlock,
        key: &str,
        t: KeyType,
    ) {
        let family = block.parsed.family;
        if family == OperatorFamily::Null {
            return;
        }
        let scalar = t.scalar();
        let epoch = key.eq_ignore_ascii_case("aws:EpochTime");
        let (ok, want, severity) = match scalar {
            KeyType::String => (
                family == OperatorFamily::String,
                "String",
                Severity::Warning,
            ),
            KeyType::Arn if family == OperatorFamily::String => {
                (false, "ARN", Severity::Suggestion)
            }
            KeyType::Arn => (family == OperatorFamily::Arn, "ARN", Severity::Warning),
            KeyType::Date => (
                family == OperatorFamily::Date || (epoch && family == OperatorFamily::Numeric),
                "Date",
                Severity::Warning,
            ),
            KeyType::Numeric => (
                family == OperatorFamily::Numeric,
                "Numeric",
                Severity::Warning,
            ),
            KeyType::Bool => (family == OperatorFamily::Bool, "Bool", Severity::Warning),
            KeyType::IpAddress => (family == OperatorFamily::Ip, "IpAddress", Severity::Warning),
            _ => (true, "", Severity::Warning),
        };
        if !ok {
            self.push(
                severity,
                "TYPE_MISMATCH",
                path.to_owned(),
                span,
                format!("Use a {want} operator instead of `{}` for the condition key `{key}`, whose values are of type {}.", block.operator.value, t.as_str()),
            );
        }
    }

    fn value(&mut self, path: &str, block: &ConditionOperatorBlock, text: &str, span: Span) {
        let op = block.parsed;
        let family = op.family;
        let operator = block.operator.value.as_str();
        if has_variable(text) {
            if !self.variables {
                if matches!(family, OperatorFamily::String | OperatorFamily::Arn) {
                    self.push(
                        Severity::Warning,
                        "VARIABLE_UNSUPPORTED_IN_VERSION",
                        path.to_owned(),
                        span,
                        format!("`{text}` holds a policy variable, but variables need \"Version\": \"2012-10-17\": it is compared as literal text."),
                    );
                }
            } else if !matches!(family, OperatorFamily::String | OperatorFamily::Arn) {
                self.push(
                    Severity::Error,
                    "INVALID_VARIABLE_FOR_OPERATOR",
                    path.to_owned(),
                    span,
                    format!("`{text}` holds a policy variable, but variables work only with String and ARN operators, not `{operator}`."),
                );
                return;
            } else {
                return;
            }
        }
        let mismatch =
            |what: &str| format!("`{text}` is not {what}, so `{operator}` never matches it.");
        match family {
            OperatorFamily::Date => {
                if parse_date(text).is_none() {
                    self.push(
                        Severity::Warning,
                        "TYPE_MISMATCH_DATE",
                        path.to_owned(),
                        span,
                        mismatch("a date (YYYY-MM-DD, another ISO 8601 form, or epoch seconds)"),
                    );
                } else if text.trim().bytes().all(|b| b.is_ascii_digit()) && text.trim().len() < 9 {
                    self.push(
                        Severity::Warning,
                        "INVALID_DATE_VALUE",
                        path.to_owned(),
                        span,
                        format!("`{text}` is read as epoch seconds, a moment in 1970 or 1971: write dates as YYYY-MM-DD."),
                    );
                }
            }
            OperatorFamily::Numeric => {
                if parse_number(text).is_none() {
                    self.push(
                        Severity::Warning,
                        "TYPE_MISMATCH_NUMBER",
                        path.to_owned(),
                        span,
                        mismatch("a number"),
                    );
                }
            }
            OperatorFamily::Bool => {
                if !text.eq_ignore_ascii_case("true") && !text.eq_ignore_ascii_case("false") {
                    self.push(
                        Severity::Warning,
                        "TYPE_MISMATCH_BOOLEAN",
                        path.to_owned(),
                        span,
                        mismatch("`true` or `false`"),
                    );
                }
            }
            OperatorFamily::Binary => {
                if decode_base64(text).is_none() {
                    self.push(
                        Severity::Warning,
                        "TYPE_MISMATCH_STRING",
                        path.to_owned(),
                        span,
                        mismatch("base64"),
                    );
                }
            }
            OperatorFamily::Ip => match Cidr::parse(text) {
                None => self.push(
                    Severity::Warning,
                    "TYPE_MISMATCH_IP_RANGE",
                    path.to_owned(),
                    span,
                    mismatch("an IP address or CIDR block"),
                ),
                Some(_) => {
                    if let Some(better) = masked_network(text) {
                        self.push(
                            Severity::Suggestion,
                            "IMPROVE_IP_RANGE",
                            path.to_owned(),
                            span,
                            format!("The bits of `{text}` after the prefix are ignored: write `{better}`."),
                        );
                    }
                }
            },
            OperatorFamily::String => {
                let like = matches!(op.op, Op::StringLike | Op::StringNotLike);
                if !like && text.contains(['*', '?']) {
                    self.push(
                        Severity::Warning,
                        "WILDCARD_WITHOUT_LIKE_OPERATOR",
                        path.to_owned(),
                        span,
                        format!("`{text}` has a `*` or `?`, which `{operator}` compares literally: use `StringLike` if it is a wildcard."),
                    );
                }
            }
            OperatorFamily::Arn | OperatorFamily::Null => {}
        }
    }

    // --- Whole statements --------------------------------------------------

    /// A statement whose grant another statement with the same effect, principal and
    /// conditions already makes.
    fn redundant_statements(
        &mut self,
        doc: &PolicyDocument,
        summaries: &[Option<BTreeSet<(usize, usize)>>],
    ) {
        for (j, sj) in doc.statements.iter().enumerate() {
            let Some(aj) = summaries.get(j).and_then(Option::as_ref) else {
                continue;
            };
            for (i, si) in doc.statements.iter().enumerate() {
                if i == j {
                    continue;
                }
                let Some(ai) = summaries.get(i).and_then(Option::as_ref) else {
                    continue;
                };
                if si.effect.value != sj.effect.value
                    || si.principal != sj.principal
                    || si.condition != sj.condition
                    || !aj.is_subset(ai)
                    || !resources_cover(si, sj)
                {
                    continue;
                }
                // Two identical statements: only the later one is redundant.
                if i > j && ai.is_subset(aj) && resources_cover(sj, si) {
                    continue;
                }
                self.push(
                    Severity::Suggestion,
                    "REDUNDANT_STATEMENT",
                    statement_path(doc, j),
                    sj.span,
                    format!("{} is redundant: {} grants everything it does, with the same effect, principal and conditions.", statement_path(doc, j), statement_path(doc, i)),
                );
                break;
            }
        }
    }
}

/// Whether every resource of `b` is covered by a resource of `a`.
fn resources_cover(a: &Statement, b: &Statement) -> bool {
    let items = |s: &Statement| -> Vec<String> {
        match &s.resource {
            Some(r) => r.values.items.iter().map(|i| i.value.clone()).collect(),
            None => vec!["*".to_owned()],
        }
    };
    let (ra, rb) = (items(a), items(b));
    rb.iter().all(|r| ra.iter().any(|o| covers(o, r)))
}

// ---------------------------------------------------------------------------
// Parse errors as findings

/// The Access Analyzer code for a parse diagnostic.
fn parse_code(d: &Diagnostic, kind: PolicyKind) -> &'static str {
    let aws = d.aws_message.as_str();
    let detail = d.detail.as_str();
    if d.code == AwsErrorCode::LimitExceeded {
        return "POLICY_SIZE_EXCEEDS_QUOTA";
    }
    if detail.starts_with("invalid JSON")
        || detail.starts_with("invalid UTF-8")
        || detail.contains("duplicate key")
        || detail.contains("too deep")
    {
        "JSON_SYNTAX_ERROR"
    } else if detail.starts_with("unknown element") {
        "INVALID_POLICY_ELEMENT"
    } else if detail.starts_with("missing required element `Statement`") {
        "MISSING_STATEMENT"
    } else if detail.starts_with("`Version` must be") {
        "INVALID_VERSION"
    } else if detail.starts_with("`Effect` must be") {
        "INVALID_EFFECT"
    } else if aws.starts_with("Missing required field Effect") {
        "MISSING_EFFECT"
    } else if aws.starts_with("Policy statement must contain actions") {
        if detail.contains("is empty") {
            "EMPTY_ARRAY_ACTION"
        } else {
            "MISSING_ACTION"
        }
    } else if aws.starts_with("Policy statement must contain resources") {
        if detail.contains("is empty") {
            "EMPTY_ARRAY_RESOURCE"
        } else {
            "MISSING_RESOURCE"
        }
    } else if aws.starts_with("Missing required field Principal") {
        "MISSING_PRINCIPAL"
    } else if aws.starts_with("Policy document should not specify a principal") {
        if kind == PolicyKind::Scp {
            "SCP_SYNTAX_ERROR_PRINCIPAL"
        } else {
            "UNSUPPORTED_PRINCIPAL"
        }
    } else if aws.starts_with("Has prohibited field") {
        "INVALID_POLICY_ELEMENT"
    } else if detail.contains(", not both") {
        "UNSUPPORTED_ELEMENT_COMBINATION"
    } else if detail.starts_with("condition key") && aws.contains("prefaced by a vendor") {
        "INVALID_CONDITION_KEY_FORMAT"
    } else if aws.contains("prefaced by a vendor") || aws.contains("only one colon") {
        "INVALID_ACTION"
    } else if aws.contains("must be in ARN format") {
        "INVALID_ARN_PREFIX"
    } else if aws.starts_with("Invalid principal") {
        if detail.starts_with("unknown principal type") {
            "INVALID_PRINCIPAL_KEY"
        } else if detail.contains("lists no principal") {
            "EMPTY_ARRAY_PRINCIPAL"
        } else if detail.contains("map is empty") {
            "EMPTY_OBJECT_PRINCIPAL"
        } else {
            "INVALID_PRINCIPAL_FORMAT"
        }
    } else if aws.contains("(SID) in a single policy must be unique") {
        "UNIQUE_SIDS_REQUIRED"
    } else if aws.contains("must be alpha-numeric") {
        "UNSUPPORTED_SID"
    } else if detail.starts_with("unknown condition operator") {
        let lower = detail.to_ascii_lowercase();
        if lower.contains("nullifexists") {
            "NULL_WITH_IF_EXISTS"
        } else if lower.contains("values:null") || lower.contains("value:null") {
            "NULL_WITH_QUALIFIER"
        } else {
            "INVALID_CONDITION_OPERATOR"
        }
    } else if detail.contains(" must be ") || detail.contains("takes `true` or `false`") {
        "DATA_TYPE_MISMATCH"
    } else {
        "MALFORMED_POLICY_DOCUMENT"
    }
}

fn parse_message(d: &Diagnostic) -> String {
    if d.detail.is_empty() {
        d.aws_message.clone()
    } else {
        format!("{} (IAM: {})", d.detail, d.aws_message)
    }
}

// ---------------------------------------------------------------------------
// Helpers

const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// Stands for a masked policy variable: matches anything, like `*`.
const VARIABLE: char = '\u{1}';

fn is_wild(s: &str) -> bool {
    s.contains(['*', '?', VARIABLE])
}

/// Whether `text` holds a policy variable (`${key}`; `${*}`, `${?}` and `${$}` are
/// escapes, not variables).
fn has_variable(text: &str) -> bool {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = rest.get(start + 2..).unwrap_or_default();
        if let Some(end) = after.find('}') {
            let inner = after.get(..end).unwrap_or_default().trim();
            if !inner.is_empty() && !matches!(inner, "*" | "?" | "$") {
                return true;
            }
        }
        rest = after;
    }
    false
}

/// Replaces each `${...}` by [`VARIABLE`], so that a variable's own colon does not
/// split an ARN.
fn mask_variables(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = rest.get(start + 2..).unwrap_or_default();
        let Some(end) = after.find('}') else { break };
        out.push_str(rest.get(..start).unwrap_or_default());
        out.push(VARIABLE);
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    One,
    Star,
}

/// A policy pattern: `*`, `?` and masked variables are wildcards.
fn pattern_tokens(s: &str) -> Vec<Tok> {
    s.chars()
        .map(|c| match c {
            '*' | VARIABLE => Tok::Star,
            '?' => Tok::One,
            c => Tok::Lit(c),
        })
        .collect()
}

/// A catalog ARN format: each `${Placeholder}` is any text.
fn format_tokens(s: &str) -> Vec<Tok> {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.extend(rest.get(..start).unwrap_or_default().chars().map(Tok::Lit));
        let after = rest.get(start..).unwrap_or_default();
        match after.find('}') {
            Some(end) => {
                out.push(Tok::Star);
                rest = after.get(end + 1..).unwrap_or_default();
            }
            None => {
                out.extend(after.chars().map(Tok::Lit));
                rest = "";
            }
        }
    }
    out.extend(rest.chars().map(Tok::Lit));
    out
}

/// Whether some text matches both token sequences.
fn intersects(a: &[Tok], b: &[Tok]) -> bool {
    let compatible = |x: &Tok, y: &Tok| match (x, y) {
        (Tok::Lit(p), Tok::Lit(q)) => p == q,
        _ => true,
    };
    // Literal heads and tails settle most pairs without the table.
    let (mut a, mut b) = (a, b);
    while let (Some((x, ra)), Some((y, rb))) = (a.split_first(), b.split_first()) {
        if *x == Tok::Star || *y == Tok::Star {
            break;
        }
        if !compatible(x, y) {
            return false;
        }
        (a, b) = (ra, rb);
    }
    while let (Some((x, ra)), Some((y, rb))) = (a.split_last(), b.split_last()) {
        if *x == Tok::Star || *y == Tok::Star {
            break;
        }
        if !compatible(x, y) {
            return false;
        }
        (a, b) = (ra, rb);
    }
    if a == [Tok::Star] || b == [Tok::Star] || (a.is_empty() && b.is_empty()) {
        return true;
    }
    let (n, m) = (a.len(), b.len());
    let width = m + 1;
    let mut reach = vec![false; (n + 1) * width];
    if let Some(r) = reach.first_mut() {
        *r = true;
    }
    let char_like = |t: Option<&Tok>| matches!(t, Some(Tok::Lit(_) | Tok::One));
    for i in 0..=n {
        for j in 0..=m {
            if !reach.get(i * width + j).copied().unwrap_or(false) {
                continue;
            }
            let (ta, tb) = (a.get(i), b.get(j));
            let mut mark = |ii: usize, jj: usize| {
                if let Some(r) = reach.get_mut(ii * width + jj) {
                    *r = true;
                }
            };
            if ta == Some(&Tok::Star) {
                mark(i + 1, j);
                if char_like(tb) {
                    mark(i, j + 1);
                }
            }
            if tb == Some(&Tok::Star) {
                mark(i, j + 1);
                if char_like(ta) {
                    mark(i + 1, j);
                }
            }
            if let (Some(x), Some(y)) = (ta, tb) {
                let compatible = match (x, y) {
                    (Tok::Lit(p), Tok::Lit(q)) => p == q,
                    (Tok::One, Tok::Lit(_) | Tok::One) | (Tok::Lit(_), Tok::One) => true,
                    _ => false,
                };
                if compatible {
                    mark(i + 1, j + 1);
                }
            }
        }
    }
    reach.get(n * width + m).copied().unwrap_or(false)
}

/// Whether one of the (six-part, tokenized) resource patterns can name a resource of
/// `format`, part by part as ARNs match (a `*` in the region never eats into the
/// account).
fn arn_format_intersects(patterns: &[Vec<Vec<Tok>>], format: &str) -> bool {
    let parts: Vec<Vec<Tok>> = format.splitn(6, ':').map(format_tokens).collect();
    if parts.len() != 6 {
        return format == "*";
    }
    patterns
        .iter()
        .any(|p| p.iter().zip(&parts).all(|(a, b)| intersects(a, b)))
}

/// Whether the pattern `a` matches every text the pattern `b` matches (a sufficient
/// test: `a` matches `b` read as text, with `a`'s `?` never standing for `b`'s `*`).
fn covers(a: &str, b: &str) -> bool {
    if a == b || a == "*" {
        return true;
    }
    if !a.contains(['*', '?', '$']) {
        return false;
    }
    covers_tokens(
        &pattern_tokens(&mask_variables(a)),
        &pattern_tokens(&mask_variables(b)),
    )
}

/// Glob matching of `p` over the tokens of `t`: `p`'s `*` takes any run of them,
/// `p`'s `?` one literal or `?`, `p`'s literal the same literal. Greedy, with one
/// backtrack point, as for text.
fn covers_tokens(p: &[Tok], t: &[Tok]) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        match p.get(pi) {
            Some(Tok::Star) => {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Some(Tok::One) if matches!(t.get(ti), Some(Tok::Lit(_) | Tok::One)) => {
                pi += 1;
                ti += 1;
                continue;
            }
            Some(Tok::Lit(c)) if t.get(ti) == Some(&Tok::Lit(*c)) => {
                pi += 1;
                ti += 1;
                continue;
            }
            None if ti == t.len() => return true,
            _ => {}
        }
        match star {
            Some((sp, st)) if st < t.len() => {
                star = Some((sp, st + 1));
                pi = sp;
                ti = st + 1;
            }
            _ => return false,
        }
    }
}

/// Whether a Resource pattern covers roles of any name (so that iam:PassRole on it is
/// iam:PassRole on `*`). `arn:aws:iam::*:role/Service*` and the like, which AWS's own
/// service roles follow, do not.
fn covers_any_role(resource: &str) -> bool {
    let masked = mask_variables(resource);
    let parts: Vec<&str> = masked.splitn(6, ':').collect();
    let &[_, _, service, _, _, rest] = parts.as_slice() else {
        return false;
    };
    let probe = "role/zz-any-role-zz";
    glob_str(&service.replace(VARIABLE, "*"), "iam")
        && glob_str(&rest.replace(VARIABLE, "*"), probe)
}

/// For `a.b.c.d/n` with bits set after the prefix: the block written properly.
fn masked_network(text: &str) -> Option<String> {
    let (addr, prefix) = text.trim().split_once('/')?;
    let prefix: u32 = prefix.parse().ok()?;
    match addr.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) => {
            let mask = u32::MAX
                .checked_shl(32u32.checked_sub(prefix)?)
                .unwrap_or(0);
            let bits = u32::from(a);
            (bits & !mask != 0)
                .then(|| format!("{}/{prefix}", std::net::Ipv4Addr::from(bits & mask)))
        }
        std::net::IpAddr::V6(a) => {
            let mask = u128::MAX
                .checked_shl(128u32.checked_sub(prefix)?)
                .unwrap_or(0);
            let bits = u128::from(a);
            (bits & !mask != 0)
                .then(|| format!("{}/{prefix}", std::net::Ipv6Addr::from(bits & mask)))
        }
    }
}

/// Whether sorted `a` is a subset of sorted `b`.
fn is_subset(a: &[(usize, usize)], b: &[(usize, usize)]) -> bool {
    let mut it = b.iter();
    a.iter().all(|x| it.by_ref().any(|y| y == x))
}

/// The closest candidate within two edits (ignoring case), if any.
fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let w: Vec<char> = word.to_lowercase().chars().collect();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let cl: Vec<char> = c.to_lowercase().chars().collect();
        if cl.len().abs_diff(w.len()) > 2 {
            continue;
        }
        let d = edit_distance(&w, &cl);
        if d <= 2 && d < w.len() && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        if let Some(c) = cur.first_mut() {
            *c = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(c) = cur.get_mut(j + 1) {
                *c = sub.min(del).min(ins);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.get(b.len()).copied().unwrap_or(0)
}

/// Renders findings as `file:line:column: SEVERITY CODE: message` lines.
#[must_use]
pub fn render(file: &str, findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(
            out,
            "{file}:{}:{}: {} {}: {}",
            f.position.line, f.position.column, f.severity, f.code, f.message
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_intersection() {
        let i = |a: &str, b: &str| intersects(&pattern_tokens(a), &format_tokens(b));
        assert!(i("*", "key/${KeyId}"));
        assert!(i("key/*", "key/${KeyId}"));
        assert!(i("", "${Account}"));
        assert!(i("?ey/1", "key/${KeyId}"));
        assert!(!i("alias/*", "key/${KeyId}"));
        assert!(!i(":*", "key/${KeyId}"));
        assert!(i(
            "topic/*/*",
            "topic/${ClusterName}/${ClusterUuid}/${TopicName}"
        ));
        assert!(!i("bucket", "${BucketName}/${ObjectName}"));
        // Per part: a `*` in the region does not eat into the account.
        let p: Vec<Vec<Vec<Tok>>> = vec![
            "arn:aws:s3:::b/*"
                .splitn(6, ':')
                .map(pattern_tokens)
                .collect(),
        ];
        assert!(arn_format_intersects(
            &p,
            "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
        ));
        assert!(!arn_format_intersects(
            &p,
            "arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName}/object/${ObjectName}"
        ));
    }

    #[test]
    fn pattern_cover() {
        assert!(covers("arn:aws:s3:::b/*", "arn:aws:s3:::b/x*"));
        assert!(covers("arn:aws:s3:::b/*", "arn:aws:s3:::b/?"));
        assert!(!covers("arn:aws:s3:::b/?", "arn:aws:s3:::b/*"));
        assert!(!covers("arn:aws:s3:::b/x*", "arn:aws:s3:::b/*"));
        assert!(covers("*", "anything"));
        assert!(covers("a${aws:username}", "a${aws:userid}"));
    }

    #[test]
    fn helpers() {
        assert_eq!(
            masked_network("192.0.2.77/24").as_deref(),
            Some("192.0.2.0/24")
        );
        assert_eq!(masked_network("10.0.0.0/8"), None);
        assert_eq!(
            masked_network("2001:db8::1/32").as_deref(),
            Some("2001:db8::/32")
        );
        assert_eq!(masked_network("203.0.113.5"), None);
        assert!(has_variable("a/${aws:username}/b"));
        assert!(!has_variable("a/${*}/${?}/${$}"));
        assert!(!has_variable("a/${unterminated"));
        assert_eq!(
            mask_variables("arn:aws:iam::${aws:PrincipalAccount}:role/x")
                .splitn(6, ':')
                .count(),
            6
        );
        let words = ["GetObject", "PutObject", "ListBucket"];
        assert_eq!(
            did_you_mean("getobjct", words.iter().copied()),
            Some("GetObject")
        );
        assert_eq!(did_you_mean("Frobnicate", words.iter().copied()), None);
        assert!(covers_any_role("arn:aws:iam::111122223333:role/*"));
        assert!(covers_any_role("arn:aws:iam::*:*"));
        assert!(!covers_any_role("arn:aws:iam::*:role/Service*"));
        assert!(!covers_any_role("arn:aws:s3:::*"));
        assert!(is_subset(&[(1, 2), (1, 5)], &[(1, 1), (1, 2), (1, 5)]));
        assert!(!is_subset(&[(1, 2), (1, 6)], &[(1, 2), (1, 5)]));
    }

    #[test]
    fn positions_count_characters() {
        let text = "{\n  \"Sid\": \"é\", \"x\": 1\n}";
        let lines = Lines::new(text);
        let offset = text.find("\"x\"").unwrap();
        // 14 characters (15 bytes: `é` is two) precede `"x"`.
        assert_eq!(
            lines.position(offset),
            Position {
                line: 2,
                column: 15
            }
        );
        assert_eq!(lines.position(0), Position { line: 1, column: 1 });
        assert_eq!(lines.position(text.len()), Position { line: 3, column: 2 });
    }

    /// The codes depend on the parser's wording; this catches a rewording.
    #[test]
    fn parse_diagnostics_map_to_access_analyzer_codes() {
        let code = |text: &str, kind: PolicyKind| -> Vec<&'static str> {
            document::parse(text, kind)
                .unwrap_err()
                .diagnostics()
                .iter()
                .map(|d| parse_code(d, kind))
                .collect()
        };
        let st = |body: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{{{body}}}]}}"#);
        assert_eq!(code("{", PolicyKind::Identity), ["JSON_SYNTAX_ERROR"]);
        assert_eq!(
            code(r#"{"Version":"2012-10-17"}"#, PolicyKind::Identity),
            ["MISSING_STATEMENT"]
        );
        assert_eq!(
            code(
                r#"{"Version":"2012-10-18","Statement":[]}"#,
                PolicyKind::Identity
            ),
            ["INVALID_VERSION"]
        );
        assert_eq!(
            code(
                &st(r#""Effect":"Allow","Action":"s3:*","Resource":"*","Foo":1"#),
                PolicyKind::Identity
            ),
            ["INVALID_POLICY_ELEMENT"]
        );
        assert_eq!(
            code(
                &st(r#""Action":"s3:*","Resource":"*""#),
                PolicyKind::Identity
            ),
            ["MISSING_EFFECT"]
        );
        assert_eq!(
            code(
                &st(r#""Effect":"Allow","Resource":"*""#),
                PolicyKind::Identity
            ),
            ["MISSING_ACTION"]
        );
        assert_eq!(
            code(
                &st(r#""Effect":"Allow","Action":"s3:*""#),
                PolicyKind::Identity
            ),
            ["MISSING_RESOURCE"]
        );
        assert_eq!(
            code(
                &st(r#""Effect":"Allow","Action":"s3:*","Resource":[]"#),
                PolicyKind::Identity
            ),
            ["EMPTY_ARRAY_RESOURCE"]
        );
        assert_eq!(
            code(
                &st(r#""Effect":"Allow","Action":"sts:AssumeRole""#),
                PolicyKind::Trust
            ),
            ["MISSING_PRINCIPAL"]
        );
        assert_eq!(
            code(
                &st(r#""Effect":"Allow","Principal":"*","Action":"s3:*""#),
                PolicyKind::Scp
            ),
            ["SCP_SYNTAX_ERROR_PRINCIPAL"]
        );
        assert_eq!(
            code(
                &st(r#""Effect":"Allow","Action":"s3:*","NotAction":"s3:x","Resource":"*""#),
                PolicyKind::Identity
            ),
            ["UNSUPPORTED_ELEMENT_COMBINATION"]
        );
        assert_eq!(
            code(
                &st(r#""Effect":"Allow","Action":"GetObject","Resource":"*""#),
                PolicyKind::Identity
            ),
            ["INVALID_ACTION"]
        );
        assert_eq!(
            code(
                &st(r#""Effect":"Allow","Action":"s3:*","Resource":"bucket""#),
                PolicyKind::Identity
            ),
            ["INVALID_ARN_PREFIX"]
        );
        assert_eq!(
            code(
                &st(r#""Effect":"Allow","Principal":{"Robot":"x"},"Action":"s3:*","Resource":"*""#),
                PolicyKind::Resource
            ),
            ["INVALID_PRINCIPAL_KEY"]
        );
        assert_eq!(
            code(
                &st(r#""Sid":"a-b","Effect":"Allow","Action":"s3:*","Resource":"*""#),
                PolicyKind::Identity
            ),
            ["UNSUPPORTED_SID"]
        );
        assert_eq!(
            code(
                &st(
                    r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NullIfExists":{"aws:x":"true"}}"#
                ),
                PolicyKind::Identity
            ),
            ["NULL_WITH_IF_EXISTS"]
        );
        assert_eq!(
            code(
                &st(
                    r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:x":"y"}}"#
                ),
                PolicyKind::Identity
            ),
            ["INVALID_CONDITION_OPERATOR"]
        );
        assert_eq!(
            code(
                &st(
                    r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"nocolon":"y"}}"#
                ),
                PolicyKind::Identity
            ),
            ["INVALID_CONDITION_KEY_FORMAT"]
        );
        assert_eq!(
            code(
                &st(r#""Effect":"Allow","Action":1,"Resource":"*""#),
                PolicyKind::Identity
            ),
            ["DATA_TYPE_MISMATCH"]
        );
        assert_eq!(
            code(
                r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
                PolicyKind::Identity
            ),
            ["UNIQUE_SIDS_REQUIRED"]
        );
    }

    #[test]
    fn huge_and_binary_input() {
        let huge = format!("{{\"Statement\":[{}]}}", "{},".repeat(100_000));
        let f = validate(&huge, PolicyKind::Identity);
        assert_eq!(
            (f.len(), f[0].severity, f[0].code),
            (1, Severity::Error, "POLICY_SIZE_EXCEEDS_QUOTA")
        );
        let f = validate_bytes(b"{\"Statement\":\"\xff\"}", PolicyKind::Identity);
        assert_eq!((f.len(), f[0].code), (1, "JSON_SYNTAX_ERROR"));
    }
}
