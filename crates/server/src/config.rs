//! How a `portcullis serve` process is configured: from flags and
//! environment in the CLI, or directly by tests.

use std::net::SocketAddr;
use std::path::PathBuf;

use zeroize::Zeroizing;

/// The account id a fresh data directory gets when none is given.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

/// The largest request body accepted. IAM's largest parameter is a policy
/// document of 131,072 characters, which URL-encoding can triple.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// The SQLite database, the master key, the root credentials and the
    /// audit log live here.
    pub data_dir: PathBuf,
    /// The account the root identity owns (12 digits).
    pub account_id: String,
    /// More accounts on the same server (for cross-account set-ups); each
    /// gets generated root credentials in `DATA_DIR/root-credentials-ID`.
    pub additional_accounts: Vec<String>,
    /// PostgreSQL instead of the embedded SQLite database.
    pub database_url: Option<String>,
    /// Root access keys to install instead of generating them.
    pub root_credentials: Option<RootCredentials>,
    /// The master key (base64) instead of `DATA_DIR/master.key`.
    pub master_key: Option<Zeroizing<String>>,
    /// Previous master keys (comma-separated base64), which open but never
    /// seal, instead of `DATA_DIR/master.key.previous`: the overlap of a
    /// rotation (see `secrets`).
    pub previous_master_keys: Option<Zeroizing<String>>,
    /// HTTPS: a PEM certificate chain and private key.
    pub tls: Option<TlsConfig>,
    pub max_body_bytes: usize,
    /// The service's external URL (`https://iam.example.com`), the base of
    /// the OIDC issuer (`PUBLIC_URL/oidc`) and the sign-in portal; `None`
    /// means `http://LISTEN` (`https://LISTEN` with TLS).
    pub public_url: Option<String>,
    /// AccessDenied errors carry an encoded authorization message for
    /// sts:DecodeAuthorizationMessage (AWS's IAM API does not; off by default).
    pub encoded_authorization_messages: bool,
}

#[derive(Clone)]
pub struct RootCredentials {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
}

impl std::fmt::Debug for RootCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Config {
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Config {
            listen,
            data_dir,
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            additional_accounts: Vec::new(),
            database_url: None,
            root_credentials: None,
            master_key: None,
            previous_master_keys: None,
            tls: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            public_url: None,
            encoded_authorization_messages: false,
        }
    }
}
