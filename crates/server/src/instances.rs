//! Credentials for workloads: how a machine (or a container task) gets the
//! credentials of the role in an instance profile, as EC2 and ECS give
//! theirs.
//!
//! AWS does this in two steps, and so do we, with two JSON endpoints of
//! Portcullis's own (AWS's first step is EC2's `AssociateIamInstanceProfile`,
//! an API this service does not serve):
//!
//! 1. `POST /_portcullis/v1/instances/associate`, SigV4-signed (scope `iam`)
//!    by whoever sets the machine up. As in AWS, the caller needs
//!    `iam:PassRole` on the profile's role, with `iam:PassedToService` and
//!    `iam:AssociatedResourceARN` in the request context, decided by the same
//!    engine as every API call; and the role's trust policy must let the
//!    service principal (`ec2.amazonaws.com`, `ecs-tasks.amazonaws.com`)
//!    assume it. The answer is a *machine token*: the association sealed
//!    (AES-256-GCM under the master key, bound to its purpose) — account,
//!    profile name and id, instance id, service, region. There is no table
//!    of associations: the token is the association.
//! 2. `POST /_portcullis/v1/instances/credentials` with
//!    `Authorization: Bearer <machine token>` gives a role session named
//!    after the machine (`assumed-role/ROLE/i-…`), carrying
//!    `ec2:SourceInstanceARN` for the policies that ask for it. Everything is
//!    checked again on each call — the profile still exists and is the same
//!    one (its id, so a deleted and re-created profile does not revive old
//!    tokens), it still holds a role, the role still trusts the service — so
//!    removing the role from the profile stops new credentials at once.
//!
//! `PassRole` is not checked again on each call, as in AWS: passing a role
//! is a decision taken when the machine is set up. A leaked machine token
//! is revoked by removing the role from the profile or deleting the profile.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::routing::post;
use base64::Engine as _;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use portcullis_policy::{
    self as policy, Context, ContextType, Decision, PolicyKind, PolicySet, Principal, PrincipalKind,
};
use portcullis_store::StoreError;
use portcullis_store::model::{InstanceProfile, Role};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::audit::AuditRecord;
use crate::authn::{self, Service, Transport};
use crate::authz::actions::{RequestKey, ResourceRef, Target};
use crate::authz::{self, Verdict};
use crate::error::{ApiError, store_error};
use crate::ops::sts::credentials::{self, NewSession};
use crate::protocol::xml::Timestamp;
use crate::secrets::random_bytes;
use crate::sessions::SessionPrincipal;
use crate::state::AppState;

pub const ASSOCIATE_PATH: &str = "/_portcullis/v1/instances/associate";
pub const CREDENTIALS_PATH: &str = "/_portcullis/v1/instances/credentials";

/// The requests are a few short JSON fields.
const MAX_BODY_BYTES: usize = 16 * 1024;
/// EC2 hands out instance credentials for about six hours.
pub const MAX_SESSION_SECONDS: i64 = 6 * 3600;
/// AWS's floor for every role session.
pub const MIN_SESSION_SECONDS: i64 = 900;
/// Machine tokens start with this, so a token is recognisable in a config
/// file (and the format can change).
const TOKEN_PREFIX: &str = "pcmt1.";
/// The associated data of every machine token's seal: a ciphertext made
/// under the master key for another purpose does not open as a token.
const TOKEN_CONTEXT: &str = "portcullis-machine-token:v1";

/// The routes, with their full paths (they take part in SigV4's canonical
/// request, so they must not be nested under a prefix that strips them).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(ASSOCIATE_PATH, post(associate))
        .route(CREDENTIALS_PATH, post(credentials))
}

/// The AWS service a workload's credentials are for: the principal the
/// role's trust policy must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Workload {
    #[serde(rename = "ec2.amazonaws.com")]
    Ec2Instance,
    #[serde(rename = "ecs-tasks.amazonaws.com")]
    EcsTask,
}

impl Workload {
    pub fn parse(service: &str) -> Option<Self> {
        match service {
            "ec2.amazonaws.com" => Some(Workload::Ec2Instance),
            "ecs-tasks.amazonaws.com" => Some(Workload::EcsTask),
            _ => None,
        }
    }

    pub fn principal(self) -> &'static str {
        match self {
            Workload::Ec2Instance => "ec2.amazonaws.com",
            Workload::EcsTask => "ecs-tasks.amazonaws.com",
        }
    }

    /// A new id in the service's format: `i-` and 17 hex digits for an
    /// instance, 32 hex digits for a task.
    fn new_id(self) -> Result<String, ApiError> {
        let bytes = random_bytes::<16>().map_err(|_| ApiError::internal())?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(match self {
            Workload::Ec2Instance => format!("i-{}", hex.get(..17).unwrap_or(&hex)),
            Workload::EcsTask => hex,
        })
    }

    fn check_id(self, id: &str) -> Result<(), Failure> {
        let hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let ok = match self {
            Workload::Ec2Instance => id
                .strip_prefix("i-")
                .is_some_and(|rest| matches!(rest.len(), 8 | 17) && hex(rest)),
            Workload::EcsTask => id.len() == 32 && hex(id),
        };
        if ok {
            return Ok(());
        }
        Err(match self {
            Workload::Ec2Instance => Failure::new(
                StatusCode::BAD_REQUEST,
                "InvalidInstanceID.Malformed",
                format!("Invalid id: \"{id}\" (expecting \"i-...\")"),
            ),
            Workload::EcsTask => Failure::new(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValue",
                format!("Invalid task id: \"{id}\" (expecting 32 lowercase hexadecimal digits)"),
            ),
        })
    }

    /// The workload's own ARN: `aws:SourceArn` of the role assumption and,
    /// for an instance, `ec2:SourceInstanceARN` of its session.
    pub fn arn(self, region: &str, account: &str, id: &str) -> String {
        match self {
            Workload::Ec2Instance => format!("arn:aws:ec2:{region}:{account}:instance/{id}"),
            Workload::EcsTask => format!("arn:aws:ecs:{region}:{account}:task/default/{id}"),
        }
    }

    /// The context keys its sessions carry. AWS documents
    /// `ec2:SourceInstanceARN` for instance credentials and no such key for
    /// task credentials, so tasks get none.
    fn session_context(self, arn: &str) -> Vec<(String, String)> {
        match self {
            Workload::Ec2Instance => vec![("ec2:SourceInstanceARN".to_owned(), arn.to_owned())],
            Workload::EcsTask => Vec::new(),
        }
    }

    /// The refusal when the role's trust policy does not let the service in,
    /// in the words EC2's metadata service and ECS use.
    fn untrusted(self, role: &Role) -> Failure {
        let message = match self {
            Workload::Ec2Instance => format!(
                "EC2 cannot assume the role {}: its trust policy does not allow the service \
                 principal ec2.amazonaws.com to perform sts:AssumeRole.",
                role.name
            ),
            Workload::EcsTask => format!(
                "ECS was unable to assume the role '{}' that was provided for this task: its trust \
                 policy does not allow the service principal ecs-tasks.amazonaws.com to perform \
                 sts:AssumeRole.",
                role.arn
            ),
        };
        Failure::new(
            StatusCode::FORBIDDEN,
            "AssumeRoleUnauthorizedAccess",
            message,
        )
    }
}

/// What a machine token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct MachineClaims {
    account: String,
    profile_name: String,
    /// The profile's `AIPA…` id when the token was made.
    profile_id: String,
    instance_id: String,
    service: Workload,
    /// The region of the association's signature, used in the workload's ARN.
    region: String,
    /// Unix seconds.
    issued: i64,
}

fn seal_token(state: &AppState, claims: &MachineClaims) -> Result<Zeroizing<String>, ApiError> {
    let plain = Zeroizing::new(serde_json::to_vec(claims).map_err(|_| ApiError::internal())?);
    let sealed = state
        .master_key
        .seal(TOKEN_CONTEXT, &plain)
        .map_err(|_| ApiError::internal())?;
    Ok(Zeroizing::new(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed)
    )))
}

/// The claims of a token this service sealed, or `None` for anything else.
fn open_token(state: &AppState, token: &str) -> Option<MachineClaims> {
    let body = token.strip_prefix(TOKEN_PREFIX)?;
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .ok()?;
    let plain = state.master_key.open(TOKEN_CONTEXT, &sealed).ok()?;
    serde_json::from_slice(&plain).ok()
}

/// A refusal, answered as JSON (`Code`, `Message`, `RequestId`) with its
/// HTTP status.
#[derive(Debug)]
struct Failure {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Failure {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            status,
            code,
            message: message.into(),
        }
    }

    fn validation(message: impl Into<String>) -> Self {
        Failure::new(StatusCode::BAD_REQUEST, "ValidationError", message)
    }

    fn no_such_profile(name: &str) -> Self {
        Failure::new(
            StatusCode::NOT_FOUND,
            "NoSuchEntity",
            format!("Instance Profile {name} cannot be found."),
        )
    }

    fn no_role(profile: &str) -> Self {
        Failure::new(
            StatusCode::NOT_FOUND,
            "NoSuchEntity",
            format!("Instance Profile {profile} holds no role."),
        )
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure {
            status: StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
            code: e.code().as_str(),
            message: e.message().to_owned(),
        }
    }
}

fn json_response(status: StatusCode, body: String, request_id: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // Credentials must not be kept by anything between us and the machine.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

fn failure_response(f: &Failure, request_id: &str) -> Response<Body> {
    let body = serde_json::json!({
        "Code": f.code,
        "Message": f.message,
        "RequestId": request_id,
    });
    json_response(f.status, body.to_string(), request_id)
}

fn source_ip(req: &Request<Body>) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip())
}

async fn read_body(body: Body) -> Result<bytes::Bytes, Failure> {
    axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("The request body is larger than the {MAX_BODY_BYTES} bytes this endpoint accepts."),
        )
    })
}

/// A JSON body, or `{}` when there is none.
fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Failure> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| Failure::validation(format!("The request body is not valid: {e}")))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct AssociateInput {
    instance_profile_name: String,
    #[serde(default)]
    instance_id: Option<String>,
    /// `ec2.amazonaws.com` (the default) or `ecs-tasks.amazonaws.com`.
    #[serde(default)]
    service: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct CredentialsInput {
    #[serde(default)]
    duration_seconds: Option<i64>,
}

/// IAM's pattern and length for instance profile names.
fn check_profile_name(name: &str) -> Result<(), Failure> {
    let ok = (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Failure::validation(format!(
            "1 validation error detected: Value '{name}' at 'instanceProfileName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length \
             between 1 and 128"
        )))
    }
}

async fn associate(State(state): State<Arc<AppState>>, req: Request<Body>) -> Response<Body> {
    let request_id = crate::request::RequestId::new();
    let mut record = AuditRecord {
        time: Timestamp(state.clock.now()),
        request_id,
        service: Service::Iam.signing_name(),
        source_ip: Some(source_ip(&req)),
        action: "iam:PassRole".into(),
        decision: "Unauthenticated",
        ..AuditRecord::default()
    };
    let transport = Transport {
        source_ip: source_ip(&req),
        secure: state.config.tls.is_some(),
        at: state.clock.now(),
    };
    let response = match run_associate(&state, req, transport, &mut record).await {
        Ok(body) => json_response(StatusCode::OK, body.to_string(), &request_id),
        Err(f) => {
            record.error_code = Some(f.code);
            failure_response(&f, &request_id)
        }
    };
    state.audit.record(record);
    response
}

async fn run_associate(
    state: &Arc<AppState>,
    req: Request<Body>,
    transport: Transport,
    record: &mut AuditRecord,
) -> Result<serde_json::Value, Failure> {
    let (parts, body) = req.into_parts();
    let body = read_body(body).await?;
    let auth = authn::authenticate(state, &parts, &body, transport.at).await?;
    record.set_caller(auth.caller());
    if auth.service() != Service::Iam {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "Credential should be scoped to correct service: 'iam'.",
        ));
    }
    let input: AssociateInput = parse_json(&body)?;
    check_profile_name(&input.instance_profile_name)?;
    let service = input.service.as_deref().unwrap_or("ec2.amazonaws.com");
    let workload = Workload::parse(service).ok_or_else(|| {
        Failure::validation(format!(
            "Service must be ec2.amazonaws.com or ecs-tasks.amazonaws.com, not '{service}'."
        ))
    })?;
    let instance_id = match input.instance_id {
        Some(id) => {
            workload.check_id(&id)?;
            id
        }
        None => workload.new_id()?,
    };
    let account = auth.caller().account_id.clone();
    let region = auth.region().to_owned();
    let workload_arn = workload.arn(&region, &account, &instance_id);

    let profile = get_profile(state, &account, &input.instance_profile_name).await?;
    let role = profile
        .roles
        .first()
        .ok_or_else(|| Failure::no_role(&profile.name))?;
    record.resource = role.arn.clone();

    // iam:PassRole on the role, through the one engine.
    let target = Target::custom(
        "iam:PassRole",
        ResourceRef::Role(&role.name),
        vec![
            RequestKey::String("iam:PassedToService", workload.principal()),
            RequestKey::String("iam:AssociatedResourceARN", &workload_arn),
        ],
    );
    let authorized = match authz::authorize(state, auth, Some(&target), transport).await {
        Ok(a) => a,
        Err(denied) => {
            record.decision = "Deny";
            record.statements = denied.statement.into_iter().collect();
            return Err(denied.error.into());
        }
    };
    match authorized.verdict() {
        Verdict::Root => record.decision = "Root",
        Verdict::NotRequired => record.decision = "NotRequired",
        Verdict::Allowed(statements) => {
            record.decision = "Allow";
            record.statements = statements.clone();
        }
    }

    let now = state.clock.now();
    if !service_may_assume(state, role, workload, &workload_arn, now)? {
        return Err(workload.untrusted(role));
    }
    let claims = MachineClaims {
        account,
        profile_name: profile.name.clone(),
        profile_id: profile.id.clone(),
        instance_id: instance_id.clone(),
        service: workload,
        region,
        issued: now.unix_timestamp(),
    };
    let token = seal_token(state, &claims)?;
    Ok(serde_json::json!({
        "InstanceId": instance_id,
        "InstanceProfileArn": profile.arn,
        "InstanceProfileId": profile.id,
        "RoleArn": role.arn,
        "Service": workload.principal(),
        "MachineToken": token.as_str(),
    }))
}

async fn get_profile(
    state: &AppState,
    account: &str,
    name: &str,
) -> Result<InstanceProfile, Failure> {
    match state.store.get_instance_profile(account, name).await {
        Ok(p) => Ok(p),
        Err(StoreError::NoSuchEntity(_)) => Err(Failure::no_such_profile(name)),
        Err(e) => Err(store_error(e).into()),
    }
}

/// Whether the role's trust policy lets `workload`'s service principal
/// assume it, evaluated by the policy engine with the context AWS gives a
/// service acting for a resource of the account.
fn service_may_assume(
    state: &AppState,
    role: &Role,
    workload: Workload,
    source_arn: &str,
    now: OffsetDateTime,
) -> Result<bool, ApiError> {
    let trust = state.compiled.get_or_compile(
        &format!("{}/trust", role.arn),
        &role.assume_role_policy_document,
        PolicyKind::Trust,
    )?;
    let principal = Principal::new(PrincipalKind::Service, workload.principal());
    let mut context = Context::new();
    let mut put = |key: &str, ty: ContextType, value: &str| {
        // Our own well-formed values; a failed insert would only drop a key,
        // which makes a condition on it fail closed.
        let _ = context.insert(key, ty, [value]);
    };
    put(
        "aws:CurrentTime",
        ContextType::Date,
        &Timestamp(now).to_iso8601(),
    );
    put(
        "aws:EpochTime",
        ContextType::Date,
        &now.unix_timestamp().to_string(),
    );
    put("aws:PrincipalIsAWSService", ContextType::Boolean, "true");
    put(
        "aws:PrincipalServiceName",
        ContextType::String,
        workload.principal(),
    );
    put("aws:SourceAccount", ContextType::String, &role.account_id);
    put("aws:SourceArn", ContextType::String, source_arn);
    let request = policy::Request {
        principal: &principal,
        action: "sts:AssumeRole",
        resource: &role.arn,
        resource_account: Some(&role.account_id),
        context: &context,
    };
    Ok(policy::authorize(&PolicySet::empty(), Some(&trust), &request).decision == Decision::Allow)
}

async fn credentials(State(state): State<Arc<AppState>>, req: Request<Body>) -> Response<Body> {
    let request_id = crate::request::RequestId::new();
    let mut record = AuditRecord {
        time: Timestamp(state.clock.now()),
        request_id,
        service: Service::Sts.signing_name(),
        source_ip: Some(source_ip(&req)),
        action: "sts:AssumeRole".into(),
        decision: "Unauthenticated",
        ..AuditRecord::default()
    };
    let response = match run_credentials(&state, req, &mut record).await {
        Ok(body) => json_response(StatusCode::OK, body.to_string(), &request_id),
        Err(f) => {
            record.error_code = Some(f.code);
            failure_response(&f, &request_id)
        }
    };
    state.audit.record(record);
    response
}

fn bearer(headers: &HeaderMap) -> Result<&str, Failure> {
    let missing = || {
        Failure::new(
            StatusCode::UNAUTHORIZED,
            "MissingAuthenticationToken",
            "The request must carry a machine token: Authorization: Bearer <token>.",
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(missing());
    }
    Ok(token.trim())
}

async fn run_credentials(
    state: &Arc<AppState>,
    req: Request<Body>,
    record: &mut AuditRecord,
) -> Result<serde_json::Value, Failure> {
    let (parts, body) = req.into_parts();
    let body = read_body(body).await?;
    let token = bearer(&parts.headers)?;
    let claims = open_token(state, token).ok_or_else(|| {
        Failure::new(
            StatusCode::UNAUTHORIZED,
            "InvalidMachineToken",
            "The machine token is not one this service issued, or it was altered.",
        )
    })?;
    let workload_arn = claims
        .service
        .arn(&claims.region, &claims.account, &claims.instance_id);
    record.caller = Some(workload_arn.clone().into());
    let input: CredentialsInput = parse_json(&body)?;

    // The association holds only while the profile it named is still there
    // (the same one, not a namesake) and still holds a role.
    let profile = get_profile(state, &claims.account, &claims.profile_name).await?;
    if profile.id != claims.profile_id {
        return Err(Failure::no_such_profile(&claims.profile_name));
    }
    let role = profile
        .roles
        .first()
        .ok_or_else(|| Failure::no_role(&profile.name))?;
    record.resource = role.arn.clone();
    let now = state.clock.now();
    if !service_may_assume(state, role, claims.service, &workload_arn, now)? {
        record.decision = "Deny";
        return Err(claims.service.untrusted(role));
    }
    record.decision = "Allow";

    let max = i64::from(role.max_session_duration).min(MAX_SESSION_SECONDS);
    let seconds = input.duration_seconds.unwrap_or(max);
    if seconds < MIN_SESSION_SECONDS {
        return Err(Failure::validation(format!(
            "1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to satisfy \
             constraint: Member must have value greater than or equal to {MIN_SESSION_SECONDS}"
        )));
    }
    if seconds > max {
        return Err(Failure::validation(format!(
            "The requested DurationSeconds exceeds the {max} seconds that credentials of the role {} \
             may last (its MaxSessionDuration, at most {MAX_SESSION_SECONDS} for workloads).",
            role.name
        )));
    }
    let (creds, session) = credentials::issue_at(
        state,
        now,
        NewSession {
            account: role.account_id.clone(),
            principal: SessionPrincipal::Role {
                role_id: role.id.clone(),
                role_name: role.name.clone(),
                role_path: role.path.clone(),
                session_name: claims.instance_id.clone(),
            },
            session_policies: None,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            mfa_auth_time: None,
            source_identity: None,
            chained: false,
            context: claims.service.session_context(&workload_arn),
        },
        seconds,
    )?;
    record.access_key_id = Some(creds.access_key_id.clone().into());
    if let Err(e) = state
        .store
        .record_role_use(&role.account_id, &role.name, now, &claims.region)
        .await
    {
        tracing::warn!(role = %role.arn, error = %e, "cannot record role use");
    }
    Ok(serde_json::json!({
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key.expose(),
        "Token": creds.session_token,
        "Expiration": Timestamp(session.expires_at()).to_iso8601(),
        "LastUpdated": Timestamp(now).to_iso8601(),
        "RoleArn": role.arn,
        "AssumedRoleArn": session.arn(),
        "InstanceProfileArn": profile.arn,
        "InstanceProfileId": profile.id,
        "InstanceId": claims.instance_id,
        "Service": claims.service.principal(),
        "Region": claims.region,
        "AccountId": claims.account,
    }))
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    use aws_smithy_runtime_api::client::identity::Identity;
    use portcullis_store::ids::{IdKind, new_id};
    use portcullis_store::model::{
        Ciphertext, KeyOwner, NewInstanceProfile, NewRole, NewUser, PolicyOwner,
    };
    use tower::ServiceExt as _;

    use super::*;
    use crate::bootstrap;
    use crate::config::{Config, DEFAULT_ACCOUNT_ID, RootCredentials};

    const ROOT_ID: &str = "AKIAPORTCULLISINST01";
    const ROOT_SECRET: &str = "root-secret-for-instance-tests";
    const ACCOUNT: &str = DEFAULT_ACCOUNT_ID;

    struct Creds {
        id: String,
        secret: String,
        token: Option<String>,
    }

    fn root() -> Creds {
        Creds {
            id: ROOT_ID.into(),
            secret: ROOT_SECRET.into(),
            token: None,
        }
    }

    async fn start() -> (tempfile::TempDir, Arc<AppState>) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new("127.0.0.1:0".parse().unwrap(), dir.path().join("data"));
        config.root_credentials = Some(RootCredentials {
            access_key_id: ROOT_ID.into(),
            secret_access_key: Zeroizing::new(ROOT_SECRET.into()),
        });
        let (state, _) = bootstrap::start(config).await.unwrap();
        (dir, state)
    }

    async fn send(
        state: &Arc<AppState>,
        request: Request<Body>,
    ) -> (StatusCode, serde_json::Value, String) {
        let response = crate::http::app(Arc::clone(state))
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        (status, json, text)
    }

    /// A SigV4-signed POST (at the service's clock), as the metadata agent sends it.
    fn signed(
        state: &AppState,
        path: &str,
        service: &str,
        creds: &Creds,
        body: &str,
        content_type: &str,
    ) -> Request<Body> {
        let identity: Identity =
            Credentials::new(&creds.id, &creds.secret, creds.token.clone(), None, "test").into();
        let now: SystemTime = crate::authn::to_system_time(state.clock.now());
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-west-2")
            .name(service)
            .time(now)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let url = format!("http://localhost{path}");
        let headers = [("host", "localhost"), ("content-type", content_type)];
        let signable = SignableRequest::new(
            "POST",
            &url,
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut request = Request::builder().method("POST").uri(&url);
        for (k, v) in headers {
            request = request.header(k, v);
        }
        let mut request = request.body(Body::from(body.to_owned())).unwrap();
        instructions.apply_to_request_http1x(&mut request);
        request
    }

    async fn associate_as(
        state: &Arc<AppState>,
        creds: &Creds,
        body: serde_json::Value,
    ) -> (StatusCode, serde_json::Value) {
        let request = signed(
            state,
            ASSOCIATE_PATH,
            "iam",
            creds,
            &body.to_string(),
            "application/json",
        );
        let (status, json, _) = send(state, request).await;
        (status, json)
    }

    async fn fetch(
        state: &Arc<AppState>,
        token: &str,
        body: &str,
    ) -> (StatusCode, serde_json::Value) {
        let request = Request::builder()
            .method("POST")
            .uri(CREDENTIALS_PATH)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from(body.to_owned()))
            .unwrap();
        let (status, json, _) = send(state, request).await;
        (status, json)
    }

    /// A Query-protocol call signed with `creds`: (status, body).
    async fn query(
        state: &Arc<AppState>,
        service: &str,
        creds: &Creds,
        body: &str,
    ) -> (StatusCode, String) {
        let request = signed(
            state,
            "/",
            service,
            creds,
            body,
            "application/x-www-form-urlencoded; charset=utf-8",
        );
        let (status, _, text) = send(state, request).await;
        (status, text)
    }

    fn trust(service: &str) -> String {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        })
        .to_string()
    }

    /// A role trusting `service`, in a profile of the same name.
    async fn role_in_profile(state: &AppState, name: &str, trust_policy: &str, max_session: u32) {
        let now = state.clock.now();
        let role = NewRole {
            name: name.into(),
            path: "/".into(),
            assume_role_policy_document: trust_policy.into(),
            max_session_duration: max_session,
            ..NewRole::default()
        };
        state.store.create_role(ACCOUNT, &role, now).await.unwrap();
        let profile = NewInstanceProfile {
            name: name.into(),
            path: "/".into(),
            tags: Vec::new(),
        };
        state
            .store
            .create_instance_profile(ACCOUNT, &profile, now)
            .await
            .unwrap();
        state
            .store
            .add_role_to_instance_profile(ACCOUNT, name, name)
            .await
            .unwrap();
        state.epoch.advance();
    }

    /// A user with `policy` inline and an access key.
    async fn user(state: &AppState, name: &str, policy: serde_json::Value) -> Creds {
        let now = state.clock.now();
        let new = NewUser {
            name: name.into(),
            path: "/".into(),
            ..NewUser::default()
        };
        state.store.create_user(ACCOUNT, &new, now).await.unwrap();
        state
            .store
            .put_inline_policy(
                ACCOUNT,
                &PolicyOwner::User(name.into()),
                "inline",
                &policy.to_string(),
            )
            .await
            .unwrap();
        let id = new_id(IdKind::AccessKey);
        let secret = format!("secret-of-{name}-0123456789");
        let sealed = state.master_key.seal(&id, secret.as_bytes()).unwrap();
        state
            .store
            .create_access_key(
                ACCOUNT,
                &KeyOwner::User(name.into()),
                &id,
                &Ciphertext::new(sealed),
                now,
            )
            .await
            .unwrap();
        state.epoch.advance();
        Creds {
            id,
            secret,
            token: None,
        }
    }

    fn pass_role(condition: Option<serde_json::Value>) -> serde_json::Value {
        let mut statement =
            serde_json::json!({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"});
        if let Some(c) = condition {
            statement["Condition"] = c;
        }
        serde_json::json!({"Version": "2012-10-17", "Statement": [statement]})
    }

    fn session_of(json: &serde_json::Value) -> Creds {
        Creds {
            id: json["AccessKeyId"].as_str().unwrap().into(),
            secret: json["SecretAccessKey"].as_str().unwrap().into(),
            token: Some(json["Token"].as_str().unwrap().into()),
        }
    }

    const WHO: &str = "Action=GetCallerIdentity&Version=2011-06-15";

    #[tokio::test]
    async fn an_associated_machine_gets_a_session_named_after_it() {
        let (_dir, state) = start().await;
        role_in_profile(&state, "web", &trust("ec2.amazonaws.com"), 3600).await;
        let (status, assoc) = associate_as(
            &state,
            &root(),
            serde_json::json!({"InstanceProfileName": "web", "InstanceId": "i-0123456789abcdef0"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{assoc}");
        assert_eq!(assoc["InstanceId"], "i-0123456789abcdef0");
        assert_eq!(
            assoc["InstanceProfileArn"],
            format!("arn:aws:iam::{ACCOUNT}:instance-profile/web")
        );
        assert!(
            assoc["InstanceProfileId"]
                .as_str()
                .unwrap()
                .starts_with("AIPA")
        );
        let token = assoc["MachineToken"].as_str().unwrap();
        assert!(token.starts_with(TOKEN_PREFIX));

        let (status, creds) = fetch(&state, token, "").await;
        assert_eq!(status, StatusCode::OK, "{creds}");
        assert!(creds["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
        assert_eq!(creds["RoleArn"], format!("arn:aws:iam::{ACCOUNT}:role/web"));
        assert_eq!(creds["Region"], "us-west-2");
        // The default duration is the role's MaxSessionDuration (1 h here).
        let issued = OffsetDateTime::parse(
            creds["LastUpdated"].as_str().unwrap(),
            &time::format_description::well_known::Iso8601::DEFAULT,
        )
        .unwrap();
        let expires = OffsetDateTime::parse(
            creds["Expiration"].as_str().unwrap(),
            &time::format_description::well_known::Iso8601::DEFAULT,
        )
        .unwrap();
        assert_eq!((expires - issued).whole_seconds(), 3600);

        let session = session_of(&creds);
        let (status, body) = query(&state, "sts", &session, WHO).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            body.contains(&format!(
                "<Arn>arn:aws:sts::{ACCOUNT}:assumed-role/web/i-0123456789abcdef0</Arn>"
            )),
            "{body}"
        );
        // The session vouches for the instance it was made for.
        let claims = state
            .token_keys
            .open(
                &session.id,
                session.token.as_deref().unwrap(),
                state.clock.now(),
            )
            .unwrap();
        assert_eq!(
            claims.context,
            vec![(
                "ec2:SourceInstanceARN".to_owned(),
                format!("arn:aws:ec2:us-west-2:{ACCOUNT}:instance/i-0123456789abcdef0")
            )]
        );
    }

    #[tokio::test]
    async fn instance_ids_are_generated_or_checked() {
        let (_dir, state) = start().await;
        role_in_profile(&state, "web", &trust("ec2.amazonaws.com"), 3600).await;
        let (status, assoc) = associate_as(
            &state,
            &root(),
            serde_json::json!({"InstanceProfileName": "web"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{assoc}");
        let id = assoc["InstanceId"].as_str().unwrap();
        assert!(Workload::Ec2Instance.check_id(id).is_ok(), "{id}");
        assert_eq!(id.len(), 19);

        for bad in ["web-1", "i-XYZ", "i-0123", ""] {
            let (status, json) = associate_as(
                &state,
                &root(),
                serde_json::json!({"InstanceProfileName": "web", "InstanceId": bad}),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {json}");
            assert_eq!(json["Code"], "InvalidInstanceID.Malformed");
        }
        let (status, json) = associate_as(
            &state,
            &root(),
            serde_json::json!({"InstanceProfileName": "web", "Service": "lambda.amazonaws.com"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(json["Code"], "ValidationError");
        let (status, json) = associate_as(
            &state,
            &root(),
            serde_json::json!({"InstanceProfile": "web"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
        assert_eq!(json["Code"], "ValidationError");
    }

    #[tokio::test]
    async fn association_needs_pass_role_for_that_service() {
        let (_dir, state) = start().await;
        role_in_profile(&state, "web", &trust("ec2.amazonaws.com"), 3600).await;
        let body = serde_json::json!({"InstanceProfileName": "web"});

        let nobody = user(&state, "nobody", serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iam:GetInstanceProfile", "Resource": "*"}],
        }))
        .await;
        let (status, json) = associate_as(&state, &nobody, body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
        assert_eq!(json["Code"], "AccessDenied");
        assert_eq!(
            json["Message"],
            format!(
                "User: arn:aws:iam::{ACCOUNT}:user/nobody is not authorized to perform: iam:PassRole on resource: \
                 arn:aws:iam::{ACCOUNT}:role/web because no identity-based policy allows the iam:PassRole action"
            )
        );

        // PassRole only towards ECS does not pass the role to EC2.
        let ecs_only = user(
            &state,
            "ecs-only",
            pass_role(Some(serde_json::json!(
                {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
            ))),
        )
        .await;
        let (status, json) = associate_as(&state, &ecs_only, body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
        assert_eq!(json["Code"], "AccessDenied");

        let ec2 = user(&state, "ec2", pass_role(Some(serde_json::json!({
            "StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"},
            "ArnLike": {"iam:AssociatedResourceARN": format!("arn:aws:ec2:us-west-2:{ACCOUNT}:instance/*")},
        }))))
        .await;
        let (status, json) = associate_as(&state, &ec2, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{json}");

        // An explicit deny wins over the allow.
        let denied = user(&state, "denied", serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
                {"Effect": "Deny", "Action": "iam:PassRole", "Resource": format!("arn:aws:iam::{ACCOUNT}:role/web")},
            ],
        }))
        .await;
        let (status, json) = associate_as(&state, &denied, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
        assert!(
            json["Message"]
                .as_str()
                .unwrap()
                .contains("with an explicit deny"),
            "{json}"
        );
    }

    #[tokio::test]
    async fn association_needs_a_signature_in_the_iam_scope() {
        let (_dir, state) = start().await;
        role_in_profile(&state, "web", &trust("ec2.amazonaws.com"), 3600).await;
        let unsigned = Request::builder()
            .method("POST")
            .uri(ASSOCIATE_PATH)
            .body(Body::from(r#"{"InstanceProfileName":"web"}"#))
            .unwrap();
        let (status, json, _) = send(&state, unsigned).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
        assert_eq!(json["Code"], "MissingAuthenticationToken");

        let request = signed(
            &state,
            ASSOCIATE_PATH,
            "sts",
            &root(),
            r#"{"InstanceProfileName":"web"}"#,
            "application/json",
        );
        let (status, json, _) = send(&state, request).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
        assert_eq!(json["Code"], "SignatureDoesNotMatch");

        let wrong = Creds {
            secret: "not-the-secret".into(),
            ..root()
        };
        let (status, json) = associate_as(
            &state,
            &wrong,
            serde_json::json!({"InstanceProfileName": "web"}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
        assert_eq!(json["Code"], "SignatureDoesNotMatch");
    }

    #[tokio::test]
    async fn the_trust_policy_must_allow_the_service() {
        let (_dir, state) = start().await;
        let lambda_only = trust("lambda.amazonaws.com");
        role_in_profile(&state, "lambda", &lambda_only, 3600).await;
        let (status, json) = associate_as(
            &state,
            &root(),
            serde_json::json!({"InstanceProfileName": "lambda"}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
        assert_eq!(json["Code"], "AssumeRoleUnauthorizedAccess");
        assert!(
            json["Message"]
                .as_str()
                .unwrap()
                .starts_with("EC2 cannot assume the role lambda"),
            "{json}"
        );

        // A role for tasks serves tasks, not instances.
        role_in_profile(&state, "tasks", &trust("ecs-tasks.amazonaws.com"), 3600).await;
        let (status, _) = associate_as(
            &state,
            &root(),
            serde_json::json!({"InstanceProfileName": "tasks"}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, json) = associate_as(
            &state,
            &root(),
            serde_json::json!({"InstanceProfileName": "tasks", "Service": "ecs-tasks.amazonaws.com"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{json}");
        let task = json["InstanceId"].as_str().unwrap().to_owned();
        assert_eq!(task.len(), 32);
        let (status, creds) = fetch(&state, json["MachineToken"].as_str().unwrap(), "").await;
        assert_eq!(status, StatusCode::OK, "{creds}");
        assert_eq!(
            creds["AssumedRoleArn"],
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/tasks/{task}")
        );

        // Conditions on the service's context are honoured: aws:SourceAccount.
        let conditional = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}},
            }],
        });
        role_in_profile(&state, "elsewhere", &conditional.to_string(), 3600).await;
        let (status, _) = associate_as(
            &state,
            &root(),
            serde_json::json!({"InstanceProfileName": "elsewhere"}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn every_fetch_checks_the_profile_its_role_and_the_trust_again() {
        let (_dir, state) = start().await;
        role_in_profile(&state, "web", &trust("ec2.amazonaws.com"), 3600).await;
        let (_, assoc) = associate_as(
            &state,
            &root(),
            serde_json::json!({"InstanceProfileName": "web"}),
        )
        .await;
        let token = assoc["MachineToken"].as_str().unwrap().to_owned();
        assert_eq!(fetch(&state, &token, "").await.0, StatusCode::OK);

        // The trust policy stops allowing EC2.
        state
            .store
            .update_assume_role_policy(ACCOUNT, "web", &trust("lambda.amazonaws.com"))
            .await
            .unwrap();
        let (status, json) = fetch(&state, &token, "").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
        assert_eq!(json["Code"], "AssumeRoleUnauthorizedAccess");
        state
            .store
            .update_assume_role_policy(ACCOUNT, "web", &trust("ec2.amazonaws.com"))
            .await
            .unwrap();
        assert_eq!(fetch(&state, &token, "").await.0, StatusCode::OK);

        // The role leaves the profile: no new credentials.
        state
            .store
            .remove_role_from_instance_profile(ACCOUNT, "web", "web")
            .await
            .unwrap();
        let (status, json) = fetch(&state, &token, "").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{json}");
        assert_eq!(json["Code"], "NoSuchEntity");
        assert_eq!(json["Message"], "Instance Profile web holds no role.");

        // A profile deleted and made again under the same name is another
        // profile: the old association does not come back with it.
        state
            .store
            .delete_instance_profile(ACCOUNT, "web")
            .await
            .unwrap();
        let (status, _) = fetch(&state, &token, "").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let now = state.clock.now();
        state
            .store
            .create_instance_profile(
                ACCOUNT,
                &NewInstanceProfile {
                    name: "web".into(),
                    path: "/".into(),
                    tags: Vec::new(),
                },
                now,
            )
            .await
            .unwrap();
        state
            .store
            .add_role_to_instance_profile(ACCOUNT, "web", "web")
            .await
            .unwrap();
        let (status, json) = fetch(&state, &token, "").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{json}");
        assert_eq!(json["Message"], "Instance Profile web cannot be found.");
    }

    #[tokio::test]
    async fn machine_tokens_are_checked() {
        let (_dir, state) = start().await;
        role_in_profile(&state, "web", &trust("ec2.amazonaws.com"), 3600).await;
        let (_, assoc) = associate_as(
            &state,
            &root(),
            serde_json::json!({"InstanceProfileName": "web"}),
        )
        .await;
        let token = assoc["MachineToken"].as_str().unwrap().to_owned();

        let no_header = Request::builder()
            .method("POST")
            .uri(CREDENTIALS_PATH)
            .body(Body::empty())
            .unwrap();
        let (status, json, _) = send(&state, no_header).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(json["Code"], "MissingAuthenticationToken");

        // One character changed anywhere in the sealed part is refused.
        let mut tampered = token.clone().into_bytes();
        let i = tampered.len() - 5;
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        for bad in [
            tampered.as_str(),
            "pcmt1.",
            "garbage",
            &token[TOKEN_PREFIX.len()..],
        ] {
            let (status, json) = fetch(&state, bad, "").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad}: {json}");
            assert_eq!(json["Code"], "InvalidMachineToken");
        }
        // A token is not a secret sealed for another purpose, and vice versa.
        let sealed = state
            .master_key
            .seal("AKIAEXAMPLE", br#"{"account":"000000000000"}"#)
            .unwrap();
        let foreign = format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed)
        );
        assert_eq!(
            fetch(&state, &foreign, "").await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(fetch(&state, &token, "").await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn durations_follow_the_role_within_aws_limits_and_expire() {
        let (_dir, state) = start().await;
        role_in_profile(&state, "long", &trust("ec2.amazonaws.com"), 43200).await;
        let (_, assoc) = associate_as(
            &state,
            &root(),
            serde_json::json!({"InstanceProfileName": "long"}),
        )
        .await;
        let token = assoc["MachineToken"].as_str().unwrap().to_owned();

        let seconds = |json: &serde_json::Value| {
            let parse = |k: &str| {
                OffsetDateTime::parse(
                    json[k].as_str().unwrap(),
                    &time::format_description::well_known::Iso8601::DEFAULT,
                )
                .unwrap()
            };
            (parse("Expiration") - parse("LastUpdated")).whole_seconds()
        };
        let (status, json) = fetch(&state, &token, "{}").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            seconds(&json),
            MAX_SESSION_SECONDS,
            "12 h roles still give 6 h credentials"
        );
        let (status, json) = fetch(&state, &token, r#"{"DurationSeconds": 900}"#).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(seconds(&json), 900);
        for bad in [
            r#"{"DurationSeconds": 899}"#,
            r#"{"DurationSeconds": 21601}"#,
            r#"{"Duration": 900}"#,
            "[1",
        ] {
            let (status, json) = fetch(&state, &token, bad).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {json}");
            assert_eq!(json["Code"], "ValidationError");
        }

        // The server enforces the expiry.
        let session = session_of(&json);
        assert_eq!(query(&state, "sts", &session, WHO).await.0, StatusCode::OK);
        state.clock.advance(901);
        let (status, body) = query(&state, "sts", &session, WHO).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("<Code>ExpiredToken</Code>"), "{body}");
    }

    #[tokio::test]
    async fn role_sessions_have_the_roles_permissions() {
        let (_dir, state) = start().await;
        role_in_profile(&state, "reader", &trust("ec2.amazonaws.com"), 3600).await;
        state
            .store
            .put_inline_policy(
                ACCOUNT,
                &PolicyOwner::Role("reader".into()),
                "read",
                &serde_json::json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
                        "Condition": {"ArnLike": {"ec2:SourceInstanceARN": "arn:aws:ec2:*:*:instance/i-0000000a"}},
                    }],
                })
                .to_string(),
            )
            .await
            .unwrap();
        state.epoch.advance();
        let mut sessions = Vec::new();
        for id in ["i-0000000a", "i-0000000b"] {
            let (_, assoc) = associate_as(
                &state,
                &root(),
                serde_json::json!({"InstanceProfileName": "reader", "InstanceId": id}),
            )
            .await;
            let (_, creds) = fetch(&state, assoc["MachineToken"].as_str().unwrap(), "").await;
            sessions.push(session_of(&creds));
        }
        let list = "Action=ListUsers&Version=2010-05-08";
        let (status, body) = query(&state, "iam", &sessions[0], list).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = query(&state, "iam", &sessions[1], list).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "the condition names the other instance: {body}"
        );
        let (status, _) = query(
            &state,
            "iam",
            &sessions[0],
            "Action=ListRoles&Version=2010-05-08",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
