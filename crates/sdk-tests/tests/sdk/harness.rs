//! The real `portcullis` binary, started once per test binary, and SDK
//! clients that talk to it as a user's program would: `endpoint_url`, a
//! static credentials provider, the latest behaviour version.
//!
//! The server is shared by every test of the binary (each test names its
//! entities with [`unique`]). A `static` is never dropped, so the binary
//! runs under a small `sh` guard that holds the read end of a pipe: when
//! this process ends, however it ends, the pipe closes and the guard kills
//! the server and removes its data directory.

use std::io::Read as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig};
use aws_sdk_iam::config::Credentials;

pub const ACCOUNT_ID: &str = "123456789012";
pub const ROOT_KEY_ID: &str = "AKIAPORTCULLISSDK001";
pub const ROOT_SECRET: &str = "portcullis-root-secret-for-sdk-tests-00001";
const REGION: &str = "us-east-1";

/// A running `portcullis serve`.
#[derive(Debug)]
pub struct Portcullis {
    pub endpoint: String,
    log: PathBuf,
    /// Closing this pipe (at process exit) stops the server.
    _guard: Mutex<ChildStdin>,
    _shell: Mutex<Child>,
}

impl Portcullis {
    /// The server's output so far, for failure messages.
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }
}

/// The binary under test: `PORTCULLIS_BIN`, else `target/debug/portcullis`.
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PORTCULLIS_BIN") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("debug").join("portcullis")
}

/// The shared server, started on first use.
pub fn server() -> &'static Portcullis {
    static SERVER: OnceLock<Portcullis> = OnceLock::new();
    SERVER.get_or_init(start)
}

fn start() -> Portcullis {
    let bin = binary();
    assert!(
        bin.is_file(),
        "the portcullis binary is missing at {}: build it first with \
         `cargo build -p portcullis-cli` (or point PORTCULLIS_BIN at one)",
        bin.display()
    );
    let dir = tempfile::Builder::new()
        .prefix("portcullis-sdk-tests-")
        .tempdir()
        .expect("temp dir")
        .keep();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let log = dir.join("server.log");
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(
            r#"dir=$1; shift
"$@" >"$dir/server.log" 2>&1 </dev/null &
pid=$!
read -r _
kill "$pid" 2>/dev/null; wait "$pid"; rm -rf "$dir""#,
        )
        .arg("portcullis-guard")
        .arg(&dir)
        .arg(&bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["--account-id", ACCOUNT_ID])
        .env("PORTCULLIS_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID)
        .env("PORTCULLIS_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET)
        .env("PORTCULLIS_LOG", "warn")
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn sh");
    let guard = shell.stdin.take().expect("guard pipe");
    let server = Portcullis {
        endpoint: format!("http://127.0.0.1:{port}"),
        log,
        _guard: Mutex::new(guard),
        _shell: Mutex::new(shell),
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "portcullis did not listen on {addr} within 60 s; its output:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// An SDK configuration for the shared server, signing with the given
/// credentials (with a session token for temporary ones). Retries are off:
/// a test sees each answer exactly once.
pub async fn sdk_config(key_id: &str, secret: &str, token: Option<&str>) -> SdkConfig {
    let credentials = Credentials::new(
        key_id,
        secret,
        token.map(str::to_owned),
        None,
        "portcullis-sdk-tests",
    );
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(&server().endpoint)
        .credentials_provider(credentials)
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

/// IAM and STS clients of one identity.
#[derive(Debug, Clone)]
pub struct Clients {
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
}

pub async fn clients(key_id: &str, secret: &str, token: Option<&str>) -> Clients {
    let config = sdk_config(key_id, secret, token).await;
    Clients {
        iam: aws_sdk_iam::Client::new(&config),
        sts: aws_sdk_sts::Client::new(&config),
    }
}

/// The account's root user.
pub async fn root() -> Clients {
    clients(ROOT_KEY_ID, ROOT_SECRET, None).await
}

/// An IAM user made by root, with one access key and clients signing as it.
#[derive(Debug)]
pub struct User {
    pub name: String,
    pub arn: String,
    pub key_id: String,
    pub secret: String,
    pub clients: Clients,
}

/// A new user with an access key; with a document, it is the user's inline
/// policy `inline`.
pub async fn make_user(root: &Clients, prefix: &str, policy: Option<serde_json::Value>) -> User {
    let name = unique(prefix);
    let user = root
        .iam
        .create_user()
        .user_name(&name)
        .send()
        .await
        .expect("CreateUser")
        .user
        .expect("a user");
    if let Some(policy) = policy {
        root.iam
            .put_user_policy()
            .user_name(&name)
            .policy_name("inline")
            .policy_document(policy.to_string())
            .send()
            .await
            .expect("PutUserPolicy");
    }
    let key = root
        .iam
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .expect("CreateAccessKey")
        .access_key
        .expect("an access key");
    let clients = clients(key.access_key_id(), key.secret_access_key(), None).await;
    User {
        name,
        arn: user.arn().to_owned(),
        key_id: key.access_key_id().to_owned(),
        secret: key.secret_access_key().to_owned(),
        clients,
    }
}

/// A policy document that allows `actions` on every resource.
pub fn allow(actions: &[&str]) -> serde_json::Value {
    statement("Allow", actions)
}

pub fn deny(actions: &[&str]) -> serde_json::Value {
    statement("Deny", actions)
}

fn statement(effect: &str, actions: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": actions, "Resource": "*"}],
    })
}

/// A document as IAM returns it (URL-encoded), parsed.
pub fn decode_document(encoded: &str) -> serde_json::Value {
    let text = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .expect("a UTF-8 document");
    serde_json::from_str(&text).expect("a JSON document")
}

/// The AWS error code of a failed call, whether or not the SDK models it.
pub fn code_of<E, R>(e: &aws_sdk_iam::error::SdkError<E, R>) -> Option<String>
where
    E: aws_sdk_iam::error::ProvideErrorMetadata,
{
    match e {
        aws_sdk_iam::error::SdkError::ServiceError(s) => s.err().code().map(str::to_owned),
        _ => None,
    }
}

/// The message of a failed call's AWS error.
pub fn message_of<E, R>(e: &aws_sdk_iam::error::SdkError<E, R>) -> String
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match e {
        aws_sdk_iam::error::SdkError::ServiceError(s) => {
            s.err().message().unwrap_or_default().to_owned()
        }
        other => format!("{other:?}"),
    }
}
