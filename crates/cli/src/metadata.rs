//! `portcullis metadata`: the instance metadata service of one machine.
//!
//! It speaks the protocols the AWS SDKs' default credential chains use, so
//! an unmodified program on the machine finds role credentials:
//!
//! - EC2's instance metadata service (IMDSv2: `PUT /latest/api/token`, then
//!   requests carrying `X-aws-ec2-metadata-token`; IMDSv1 only with
//!   `--imdsv1`), reached through `AWS_EC2_METADATA_SERVICE_ENDPOINT`;
//! - the container credentials protocol (`GET /v2/credentials` with
//!   `Authorization: <token>`), reached through
//!   `AWS_CONTAINER_CREDENTIALS_FULL_URI` and
//!   `AWS_CONTAINER_AUTHORIZATION_TOKEN`, when `--container-token` is set.
//!
//! At start it associates the instance profile with this machine, signing
//! with the AWS credentials of whoever starts it (they need `iam:PassRole`
//! on the profile's role), and keeps only the machine token the server
//! answers with; or it takes a machine token made elsewhere from
//! `PORTCULLIS_MACHINE_TOKEN`, so the machine never holds IAM credentials.
//! It then keeps role credentials fresh: it fetches them at start and again
//! when less than `--refresh-before` seconds remain (AWS rotates at least
//! five minutes ahead). Old credentials stay valid until their own expiry,
//! so a program that still holds them is never cut off. When the server
//! refuses (the role left the profile, the trust policy changed), the
//! machine has no role any more and the credentials paths answer 404, as
//! EC2's do for an instance without a profile.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, bail};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use base64::Engine as _;
use clap::Args;
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;
use zeroize::Zeroizing;

/// IMDSv2 token lifetimes EC2 accepts, in seconds.
const TOKEN_TTL_RANGE: std::ops::RangeInclusive<u64> = 1..=21_600;
/// The header that asks for (and reports) a token's lifetime.
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
/// How soon to try again after a failed refresh (doubling up to a minute).
const FIRST_RETRY: Duration = Duration::from_secs(2);
const LAST_RETRY: Duration = Duration::from_secs(60);
/// The shortest pause between two refreshes, whatever `--refresh-before`
/// says: a refresh window longer than the credentials' life must not spin.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Args)]
pub struct MetadataArgs {
    /// The Portcullis server (e.g. http://127.0.0.1:4566).
    #[arg(long, env = "PORTCULLIS_ENDPOINT")]
    endpoint: String,
    /// The instance profile to associate with this machine, with the AWS
    /// credentials of the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    /// AWS_SESSION_TOKEN), which need iam:PassRole on its role. Not needed
    /// when PORTCULLIS_MACHINE_TOKEN holds a token from an earlier association.
    #[arg(long, required = false)]
    instance_profile: Option<String>,
    /// The machine's id (`i-` and 8 or 17 hex digits; 32 hex digits for a
    /// task); generated when absent.
    #[arg(long)]
    instance_id: Option<String>,
    /// The service the role is passed to: its trust policy must allow it.
    #[arg(long, default_value = "ec2.amazonaws.com", value_parser = ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"])]
    service: String,
    /// Where to serve the metadata (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The machine's region (the association is signed in it).
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Also answer requests without an IMDSv2 token (IMDSv1).
    #[arg(long)]
    imdsv1: bool,
    /// Refresh the credentials when fewer than this many seconds remain.
    #[arg(long, default_value_t = 300)]
    refresh_before: u64,
    /// How long each set of credentials lasts (900 up to the role's
    /// MaxSessionDuration, at most 21600); the server's default when absent.
    #[arg(long)]
    duration_seconds: Option<u32>,
    /// Serve container credentials at /v2/credentials to requests whose
    /// Authorization header is this token.
    #[arg(long, env = "PORTCULLIS_CONTAINER_TOKEN", hide_env_values = true)]
    container_token: Option<String>,
}

pub fn run(args: MetadataArgs) -> anyhow::Result<std::process::ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PORTCULLIS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    if args.container_token.as_deref().is_some_and(str::is_empty) {
        bail!("--container-token must not be empty");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))?;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn serve(args: MetadataArgs) -> anyhow::Result<()> {
    let endpoint = reqwest::Url::parse(&args.endpoint)
        .with_context(|| format!("--endpoint {} is not a URL", args.endpoint))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot make an HTTP client")?;
    let machine_token = match std::env::var("PORTCULLIS_MACHINE_TOKEN") {
        Ok(token) if !token.is_empty() => Zeroizing::new(token),
        _ => {
            let Some(profile) = &args.instance_profile else {
                bail!("--instance-profile is required (or PORTCULLIS_MACHINE_TOKEN)");
            };
            associate(&client, &endpoint, &args, profile).await?
        }
    };
    let server = Server {
        client,
        endpoint,
        machine_token,
        duration_seconds: args.duration_seconds,
    };
    let first = server
        .fetch()
        .await
        .map_err(|e| anyhow::anyhow!("cannot get the role's credentials: {e}"))?;
    let lifetime = (first.expiration - OffsetDateTime::now_utc()).whole_seconds();
    if args.refresh_before >= u64::try_from(lifetime).unwrap_or(0) {
        tracing::warn!(
            refresh_before = args.refresh_before,
            lifetime,
            "--refresh-before is not shorter than the credentials' life: they are refreshed every second"
        );
    }
    let agent = Arc::new(Agent::new(
        first,
        args.imdsv1,
        args.container_token.map(Zeroizing::new),
    )?);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    announce(&agent.about(), addr, agent.container_token.is_some());
    tokio::spawn(keep_fresh(
        server,
        Arc::clone(&agent),
        Duration::from_secs(args.refresh_before),
    ));
    axum::serve(listener, router(agent))
        .with_graceful_shutdown(crate::serve::shutdown_signal())
        .await?;
    Ok(())
}

/// Says where the service is. Whoever started us may have stopped reading
/// (a test that read the first line): that must not stop the service, so
/// write errors are ignored.
fn announce(about: &About, addr: SocketAddr, container: bool) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Portcullis metadata for {} ({}) at http://{addr}",
        about.instance_id, about.profile_arn
    );
    let _ = writeln!(out, "  role:   {}", about.role_arn);
    let _ = writeln!(
        out,
        "  export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://{addr}"
    );
    if container {
        let _ = writeln!(
            out,
            "  export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://{addr}/v2/credentials"
        );
    }
    let _ = out.flush();
}

/// The AWS credentials of the environment, for signing the association.
struct EnvCredentials {
    access_key_id: String,
    secret: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
}

impl EnvCredentials {
    fn from_env() -> anyhow::Result<Self> {
        let get = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(access_key_id), Some(secret)) =
            (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"))
        else {
            bail!(
                "associating an instance profile needs AWS credentials in the environment \
                 (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for temporary ones, AWS_SESSION_TOKEN)"
            );
        };
        Ok(EnvCredentials {
            access_key_id,
            secret: Zeroizing::new(secret),
            session_token: get("AWS_SESSION_TOKEN").map(Zeroizing::new),
        })
    }
}

/// The headers that sign a JSON POST to `url` for IAM in `region`.
fn sign_json_post(
    url: &reqwest::Url,
    body: &[u8],
    creds: &EnvCredentials,
    region: &str,
    now: SystemTime,
) -> anyhow::Result<Vec<(String, String)>> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    let identity: aws_smithy_runtime_api::client::identity::Identity =
        aws_credential_types::Credentials::new(
            &creds.access_key_id,
            creds.secret.as_str(),
            creds.session_token.as_ref().map(|t| t.to_string()),
            None,
            "environment",
        )
        .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("iam")
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .context("cannot make SigV4 signing parameters")?
        .into();
    let host = url.host_str().context("the endpoint has no host")?;
    // What the HTTP client sends as Host: the port only when it is not the
    // scheme's default.
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let mut headers = vec![
        ("host".to_owned(), host),
        ("content-type".to_owned(), "application/json".to_owned()),
    ];
    let signable = SignableRequest::new(
        "POST",
        url.as_str(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .context("cannot sign the association request")?;
    let (instructions, _) = sign(signable, &params)
        .context("cannot sign the association request")?
        .into_parts();
    headers.extend(
        instructions
            .headers()
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    Ok(headers)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorBody {
    code: String,
    message: String,
}

async fn error_of(response: reqwest::Response) -> String {
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(e) => format!("{} ({status}): {}", e.code, e.message),
        Err(_) => format!("the server answered {status}"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Association {
    instance_id: String,
    instance_profile_arn: String,
    machine_token: Zeroizing<String>,
}

async fn associate(
    client: &reqwest::Client,
    endpoint: &reqwest::Url,
    args: &MetadataArgs,
    profile: &str,
) -> anyhow::Result<Zeroizing<String>> {
    let creds = EnvCredentials::from_env()?;
    let url = endpoint
        .join("/_portcullis/v1/instances/associate")
        .context("cannot make the association URL")?;
    let mut body = serde_json::json!({
        "InstanceProfileName": profile,
        "Service": args.service,
    });
    if let Some(id) = &args.instance_id {
        body["InstanceId"] = serde_json::Value::String(id.clone());
    }
    let body = body.to_string().into_bytes();
    let headers = sign_json_post(&url, &body, &creds, &args.region, SystemTime::now())?;
    let mut request = client.post(url.clone()).body(body);
    for (name, value) in headers.iter().filter(|(k, _)| k != "host") {
        request = request.header(name, value);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {endpoint}"))?;
    if !response.status().is_success() {
        bail!(
            "the association of instance profile {profile} was refused: {}",
            error_of(response).await
        );
    }
    let association: Association = response
        .json()
        .await
        .context("the association answer is not what this version expects")?;
    tracing::info!(
        instance_id = %association.instance_id,
        instance_profile = %association.instance_profile_arn,
        "associated"
    );
    Ok(association.machine_token)
}

/// The server side: fetching credentials with the machine token.
struct Server {
    client: reqwest::Client,
    endpoint: reqwest::Url,
    machine_token: Zeroizing<String>,
    duration_seconds: Option<u32>,
}

/// Why a refresh failed.
#[derive(Debug)]
enum FetchError {
    /// The server said no: the machine has no role any more.
    Refused(String),
    /// The server could not be asked or answered strangely: keep what we
    /// have and try again.
    Unavailable(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Refused(m) | FetchError::Unavailable(m) => f.write_str(m),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CredentialsBody {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    token: Zeroizing<String>,
    expiration: String,
    role_arn: String,
    instance_profile_arn: String,
    instance_profile_id: String,
    instance_id: String,
    region: String,
    account_id: String,
}

impl Server {
    async fn fetch(&self) -> Result<Arc<RoleCredentials>, FetchError> {
        let url = self
            .endpoint
            .join("/_portcullis/v1/instances/credentials")
            .map_err(|e| FetchError::Unavailable(e.to_string()))?;
        let body = match self.duration_seconds {
            Some(s) => serde_json::json!({ "DurationSeconds": s }).to_string(),
            None => String::new(),
        };
        let response = self
            .client
            .post(url)
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.machine_token.as_str()),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| FetchError::Unavailable(format!("cannot reach the server: {e}")))?;
        let status = response.status();
        if status.is_client_error() {
            return Err(FetchError::Refused(error_of(response).await));
        }
        if !status.is_success() {
            return Err(FetchError::Unavailable(error_of(response).await));
        }
        let body: CredentialsBody = response
            .json()
            .await
            .map_err(|e| FetchError::Unavailable(format!("unexpected answer: {e}")))?;
        let expiration = OffsetDateTime::parse(&body.expiration, &Iso8601::DEFAULT)
            .map_err(|e| FetchError::Unavailable(format!("unexpected expiration: {e}")))?;
        let role_name = body
            .role_arn
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        Ok(Arc::new(RoleCredentials {
            access_key_id: body.access_key_id,
            secret: body.secret_access_key,
            token: body.token,
            expiration,
            expiration_text: body.expiration,
            last_updated: iso(OffsetDateTime::now_utc()),
            role_arn: body.role_arn,
            role_name,
            about: About {
                instance_id: body.instance_id,
                region: body.region,
                account_id: body.account_id,
                profile_arn: body.instance_profile_arn,
                profile_id: body.instance_profile_id,
                role_arn: String::new(),
            },
        }))
    }
}

/// `2024-05-16T16:25:20Z`: whole seconds, as IMDS writes them (botocore
/// parses exactly this form).
fn iso(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// What the machine is: from the server's answers.
#[derive(Debug, Clone)]
struct About {
    instance_id: String,
    region: String,
    account_id: String,
    profile_arn: String,
    profile_id: String,
    role_arn: String,
}

/// One set of role credentials.
struct RoleCredentials {
    access_key_id: String,
    secret: Zeroizing<String>,
    token: Zeroizing<String>,
    expiration: OffsetDateTime,
    expiration_text: String,
    last_updated: String,
    role_arn: String,
    role_name: String,
    about: About,
}

impl std::fmt::Debug for RoleCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"<redacted>")
            .field("token", &"<redacted>")
            .field("expiration", &self.expiration_text)
            .field("role_arn", &self.role_arn)
            .finish()
    }
}

/// What the role paths serve now.
#[derive(Debug, Clone)]
enum Served {
    Credentials(Arc<RoleCredentials>),
    /// The server refused at `at`: the machine has no role.
    Refused {
        message: String,
        at: String,
    },
}

/// The metadata service's state.
struct Agent {
    served: RwLock<Served>,
    /// The machine's facts, from the last answer that carried them.
    about: RwLock<About>,
    /// Signs IMDSv2 tokens (random per process: a restart ends them all).
    token_key: hmac::Key,
    imdsv1: bool,
    container_token: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("imdsv1", &self.imdsv1)
            .field("container", &self.container_token.is_some())
            .finish_non_exhaustive()
    }
}

impl Agent {
    fn new(
        first: Arc<RoleCredentials>,
        imdsv1: bool,
        container_token: Option<Zeroizing<String>>,
    ) -> anyhow::Result<Self> {
        let mut key = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(key.as_mut())
            .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
        let mut about = first.about.clone();
        about.role_arn = first.role_arn.clone();
        Ok(Agent {
            served: RwLock::new(Served::Credentials(first)),
            about: RwLock::new(about),
            token_key: hmac::Key::new(hmac::HMAC_SHA256, key.as_ref()),
            imdsv1,
            container_token,
        })
    }

    fn about(&self) -> About {
        match self.about.read() {
            Ok(a) => a.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn served(&self) -> Served {
        match self.served.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The credentials to hand out: none once they have expired.
    fn credentials(&self) -> Option<Arc<RoleCredentials>> {
        match self.served() {
            Served::Credentials(c) if c.expiration > OffsetDateTime::now_utc() => Some(c),
            _ => None,
        }
    }

    fn set(&self, served: Served) {
        if let Served::Credentials(c) = &served
            && let Ok(mut about) = self.about.write()
        {
            *about = About {
                role_arn: c.role_arn.clone(),
                ..c.about.clone()
            };
        }
        match self.served.write() {
            Ok(mut s) => *s = served,
            Err(poisoned) => *poisoned.into_inner() = served,
        }
    }

    /// A new IMDSv2 token: its expiry and a nonce, MACed.
    fn new_token(&self, ttl: u64) -> Option<String> {
        let expires = u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).ok()? + ttl;
        let mut nonce = [0u8; 16];
        SystemRandom::new().fill(&mut nonce).ok()?;
        let mut body = Vec::with_capacity(8 + 16 + 32);
        body.extend_from_slice(&expires.to_be_bytes());
        body.extend_from_slice(&nonce);
        let tag = hmac::sign(&self.token_key, &body);
        body.extend_from_slice(tag.as_ref());
        Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body))
    }

    /// Whether `token` is one of ours and has not expired.
    fn token_is_valid(&self, token: &str) -> bool {
        let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim())
        else {
            return false;
        };
        let Some((body, tag)) = bytes.split_at_checked(24) else {
            return false;
        };
        if hmac::verify(&self.token_key, body, tag).is_err() {
            return false;
        }
        let Some(expires) = body
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
        else {
            return false;
        };
        u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).is_ok_and(|now| now < expires)
    }
}

/// Refreshes the credentials before they expire, for as long as the
/// process runs.
async fn keep_fresh(server: Server, agent: Arc<Agent>, refresh_before: Duration) {
    let mut retry = FIRST_RETRY;
    loop {
        let wait = match agent.served() {
            Served::Credentials(c) => {
                let left = (c.expiration - OffsetDateTime::now_utc()).whole_seconds();
                let left = Duration::from_secs(u64::try_from(left).unwrap_or(0));
                left.saturating_sub(refresh_before)
                    .max(MIN_REFRESH_INTERVAL)
            }
            Served::Refused { .. } => retry,
        };
        tokio::time::sleep(wait).await;
        loop {
            match server.fetch().await {
                Ok(c) => {
                    tracing::info!(access_key_id = %c.access_key_id, expiration = %c.expiration_text, "credentials refreshed");
                    agent.set(Served::Credentials(c));
                    retry = FIRST_RETRY;
                    break;
                }
                Err(FetchError::Refused(message)) => {
                    tracing::warn!(%message, "the server refused credentials: this machine has no role now");
                    agent.set(Served::Refused {
                        message,
                        at: iso(OffsetDateTime::now_utc()),
                    });
                    retry = (retry * 2).min(LAST_RETRY);
                    break;
                }
                Err(FetchError::Unavailable(message)) => {
                    // Keep serving what is still valid; try again soon.
                    tracing::warn!(%message, "cannot refresh the credentials; retrying");
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(LAST_RETRY);
                }
            }
        }
    }
}

fn router(agent: Arc<Agent>) -> Router {
    Router::new()
        .route("/latest/api/token", put(put_token))
        .route("/v2/credentials", get(container_credentials))
        .fallback(get_metadata)
        .with_state(agent)
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    let mut response = (status, body.into()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

fn not_found() -> Response {
    text(StatusCode::NOT_FOUND, "Not Found")
}

fn unauthorized() -> Response {
    text(StatusCode::UNAUTHORIZED, "Unauthorized")
}

async fn put_token(State(agent): State<Arc<Agent>>, headers: HeaderMap) -> Response {
    // EC2 refuses token requests that went through a proxy, so that a
    // forwarding proxy on the machine cannot hand tokens out.
    if headers.contains_key("x-forwarded-for") {
        return text(StatusCode::FORBIDDEN, "Forbidden");
    }
    let ttl = headers
        .get(TTL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ttl| TOKEN_TTL_RANGE.contains(ttl));
    let Some(ttl) = ttl else {
        return text(StatusCode::BAD_REQUEST, "Bad Request");
    };
    let Some(token) = agent.new_token(ttl) else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let mut response = text(StatusCode::OK, token);
    response
        .headers_mut()
        .insert(TTL_HEADER, HeaderValue::from(ttl));
    response
}

async fn get_metadata(
    State(agent): State<Arc<Agent>>,
    method: http::Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method != http::Method::GET && method != http::Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    match headers.get(TOKEN_HEADER).map(|v| v.to_str()) {
        Some(Ok(token)) if agent.token_is_valid(token) => {}
        Some(_) => return unauthorized(),
        None if agent.imdsv1 => {}
        None => return unauthorized(),
    }
    let about = agent.about();
    let path = uri.path();
    let path = path.strip_suffix('/').unwrap_or(path);
    let json = |v: serde_json::Value| {
        text(
            StatusCode::OK,
            serde_json::to_string_pretty(&v).unwrap_or_default(),
        )
    };
    match path {
        "/latest" => text(StatusCode::OK, "api\ndynamic\nmeta-data"),
        "/latest/meta-data" => text(StatusCode::OK, "iam/\ninstance-id\nplacement/"),
        "/latest/meta-data/instance-id" => text(StatusCode::OK, about.instance_id),
        "/latest/meta-data/placement" => text(StatusCode::OK, "availability-zone\nregion"),
        "/latest/meta-data/placement/region" => text(StatusCode::OK, about.region),
        // Portcullis has no zones: every machine is in its region's first.
        "/latest/meta-data/placement/availability-zone" => {
            text(StatusCode::OK, format!("{}a", about.region))
        }
        "/latest/dynamic" => text(StatusCode::OK, "instance-identity/"),
        "/latest/dynamic/instance-identity" => text(StatusCode::OK, "document"),
        "/latest/dynamic/instance-identity/document" => json(serde_json::json!({
            "accountId": about.account_id,
            "availabilityZone": format!("{}a", about.region),
            "instanceId": about.instance_id,
            "region": about.region,
            "version": "2017-09-30",
        })),
        "/latest/meta-data/iam" => match agent.served() {
            Served::Credentials(_) => text(StatusCode::OK, "info\nsecurity-credentials/"),
            Served::Refused { .. } => text(StatusCode::OK, "info"),
        },
        "/latest/meta-data/iam/info" => match agent.served() {
            Served::Credentials(c) => json(serde_json::json!({
                "Code": "Success",
                "LastUpdated": c.last_updated,
                "InstanceProfileArn": about.profile_arn,
                "InstanceProfileId": about.profile_id,
            })),
            Served::Refused { message, at } => json(serde_json::json!({
                "Code": "AssumeRoleUnauthorizedAccess",
                "Message": message,
                "LastUpdated": at,
            })),
        },
        "/latest/meta-data/iam/security-credentials" => match agent.credentials() {
            Some(c) => text(StatusCode::OK, c.role_name.clone()),
            None => not_found(),
        },
        _ => match path.strip_prefix("/latest/meta-data/iam/security-credentials/") {
            Some(role) => match agent.credentials() {
                Some(c) if c.role_name == role => json(serde_json::json!({
                    "Code": "Success",
                    "LastUpdated": c.last_updated,
                    "Type": "AWS-HMAC",
                    "AccessKeyId": c.access_key_id,
                    "SecretAccessKey": c.secret.as_str(),
                    "Token": c.token.as_str(),
                    "Expiration": c.expiration_text,
                })),
                _ => not_found(),
            },
            None => not_found(),
        },
    }
}

async fn container_credentials(State(agent): State<Arc<Agent>>, headers: HeaderMap) -> Response {
    let Some(expected) = &agent.container_token else {
        return not_found();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if !bool::from(subtle::ConstantTimeEq::ct_eq(given, expected.as_bytes())) {
        return json_error(
            StatusCode::UNAUTHORIZED,
            "The Authorization header is not the container token.",
        );
    }
    match agent.credentials() {
        Some(c) => {
            let body = serde_json::json!({
                "AccessKeyId": c.access_key_id,
                "SecretAccessKey": c.secret.as_str(),
                "Token": c.token.as_str(),
                "Expiration": c.expiration_text,
                "RoleArn": c.role_arn,
            });
            let mut response = (StatusCode::OK, body.to_string()).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        None => json_error(
            StatusCode::NOT_FOUND,
            "This machine has no role credentials now.",
        ),
    }
}

fn json_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "code": status.canonical_reason(), "message": message });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt as _;

    fn creds(role: &str, expires_in: i64) -> Arc<RoleCredentials> {
        let expiration = OffsetDateTime::now_utc() + time::Duration::seconds(expires_in);
        Arc::new(RoleCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret: Zeroizing::new("secret".into()),
            token: Zeroizing::new("token".into()),
            expiration,
            expiration_text: iso(expiration),
            last_updated: iso(OffsetDateTime::now_utc()),
            role_arn: format!("arn:aws:iam::123456789012:role/{role}"),
            role_name: role.into(),
            about: About {
                instance_id: "i-0123456789abcdef0".into(),
                region: "eu-west-1".into(),
                account_id: "123456789012".into(),
                profile_arn: "arn:aws:iam::123456789012:instance-profile/web".into(),
                profile_id: "AIPAEXAMPLE".into(),
                role_arn: String::new(),
            },
        })
    }

    fn agent(imdsv1: bool) -> Arc<Agent> {
        Arc::new(
            Agent::new(
                creds("web", 3600),
                imdsv1,
                Some(Zeroizing::new("ctoken".into())),
            )
            .unwrap(),
        )
    }

    async fn call(
        agent: &Arc<Agent>,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let mut request = http::Request::builder().method(method).uri(path);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = router(Arc::clone(agent))
            .oneshot(request.body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    async fn token(agent: &Arc<Agent>, ttl: &str) -> String {
        let (status, token) = call(agent, "PUT", "/latest/api/token", &[(TTL_HEADER, ttl)]).await;
        assert_eq!(status, StatusCode::OK);
        token
    }

    #[tokio::test]
    async fn imdsv2_tokens_are_required_and_checked() {
        let agent = agent(false);
        let path = "/latest/meta-data/instance-id";
        assert_eq!(
            call(&agent, "GET", path, &[]).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            call(&agent, "GET", path, &[(TOKEN_HEADER, "made-up")])
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        let t = token(&agent, "60").await;
        assert_eq!(
            call(&agent, "GET", path, &[(TOKEN_HEADER, &t)]).await,
            (StatusCode::OK, "i-0123456789abcdef0".to_owned())
        );
        // Another process's token (another key) is refused.
        let other = agent_token_from_another_process().await;
        assert_eq!(
            call(&agent, "GET", path, &[(TOKEN_HEADER, &other)]).await.0,
            StatusCode::UNAUTHORIZED
        );
        // A token whose expiry was altered no longer verifies.
        let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&t)
            .unwrap();
        bytes[7] ^= 1;
        let altered = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(
            call(&agent, "GET", path, &[(TOKEN_HEADER, &altered)])
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }

    async fn agent_token_from_another_process() -> String {
        token(&agent(false), "60").await
    }

    #[tokio::test]
    async fn token_ttls_are_bounded_and_proxies_refused() {
        let agent = agent(false);
        for bad in ["0", "21601", "-1", "soon"] {
            let (status, _) = call(&agent, "PUT", "/latest/api/token", &[(TTL_HEADER, bad)]).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        }
        assert_eq!(
            call(&agent, "PUT", "/latest/api/token", &[]).await.0,
            StatusCode::BAD_REQUEST
        );
        let (status, _) = call(
            &agent,
            "PUT",
            "/latest/api/token",
            &[(TTL_HEADER, "60"), ("x-forwarded-for", "10.0.0.1")],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        token(&agent, "21600").await;
        token(&agent, "1").await;
    }

    #[tokio::test]
    async fn imdsv1_only_when_enabled() {
        let agent = agent(true);
        assert_eq!(
            call(&agent, "GET", "/latest/meta-data/placement/region", &[]).await,
            (StatusCode::OK, "eu-west-1".to_owned())
        );
        // A bad token is refused even where IMDSv1 is allowed.
        assert_eq!(
            call(
                &agent,
                "GET",
                "/latest/meta-data/placement/region",
                &[(TOKEN_HEADER, "x")]
            )
            .await
            .0,
            StatusCode::UNAUTHORIZED
        );
    }

    #[tokio::test]
    async fn role_paths_serve_the_credentials_until_refused() {
        let agent = agent(false);
        let t = token(&agent, "60").await;
        let h = [(TOKEN_HEADER, t.as_str())];
        let (status, role) = call(
            &agent,
            "GET",
            "/latest/meta-data/iam/security-credentials/",
            &h,
        )
        .await;
        assert_eq!((status, role.as_str()), (StatusCode::OK, "web"));
        let (status, body) = call(
            &agent,
            "GET",
            "/latest/meta-data/iam/security-credentials/web",
            &h,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["Code"], "Success");
        assert_eq!(v["Type"], "AWS-HMAC");
        assert_eq!(v["AccessKeyId"], "ASIAEXAMPLE");
        assert!(v["Expiration"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            call(
                &agent,
                "GET",
                "/latest/meta-data/iam/security-credentials/other",
                &h
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );
        let (_, info) = call(&agent, "GET", "/latest/meta-data/iam/info", &h).await;
        let info: serde_json::Value = serde_json::from_str(&info).unwrap();
        assert_eq!(
            info["InstanceProfileArn"],
            "arn:aws:iam::123456789012:instance-profile/web"
        );
        assert_eq!(info["InstanceProfileId"], "AIPAEXAMPLE");
        let (_, doc) = call(
            &agent,
            "GET",
            "/latest/dynamic/instance-identity/document",
            &h,
        )
        .await;
        let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(doc["accountId"], "123456789012");
        assert_eq!(doc["region"], "eu-west-1");

        agent.set(Served::Refused {
            message: "NoSuchEntity".into(),
            at: iso(OffsetDateTime::now_utc()),
        });
        assert_eq!(
            call(
                &agent,
                "GET",
                "/latest/meta-data/iam/security-credentials/",
                &h
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            call(
                &agent,
                "GET",
                "/latest/meta-data/iam/security-credentials/web",
                &h
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );
        let (_, info) = call(&agent, "GET", "/latest/meta-data/iam/info", &h).await;
        assert!(info.contains("AssumeRoleUnauthorizedAccess"), "{info}");
    }

    #[tokio::test]
    async fn expired_credentials_are_never_served() {
        let agent = Arc::new(Agent::new(creds("web", -1), false, None).unwrap());
        let t = token(&agent, "60").await;
        assert_eq!(
            call(
                &agent,
                "GET",
                "/latest/meta-data/iam/security-credentials/web",
                &[(TOKEN_HEADER, &t)]
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn container_credentials_need_the_token() {
        let agent = agent(false);
        assert_eq!(
            call(&agent, "GET", "/v2/credentials", &[]).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            call(
                &agent,
                "GET",
                "/v2/credentials",
                &[("authorization", "ctoken2")]
            )
            .await
            .0,
            StatusCode::UNAUTHORIZED
        );
        let (status, body) = call(
            &agent,
            "GET",
            "/v2/credentials",
            &[("authorization", "ctoken")],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["RoleArn"], "arn:aws:iam::123456789012:role/web");
        assert_eq!(v["Token"], "token");
        // Without --container-token the endpoint does not exist.
        let closed = Arc::new(Agent::new(creds("web", 3600), false, None).unwrap());
        assert_eq!(
            call(&closed, "GET", "/v2/credentials", &[("authorization", "")])
                .await
                .0,
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn iso_timestamps_have_whole_seconds() {
        let t = OffsetDateTime::from_unix_timestamp(1_336_520_041).unwrap();
        assert_eq!(iso(t), "2012-05-08T23:34:01Z");
    }
}
