//! `portcullis serve`: starts the service on its embedded SQLite database
//! (or PostgreSQL) and serves until interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use portcullis_server::bootstrap::{self, RootKeyNotice};
use portcullis_server::config::{Config, DEFAULT_ACCOUNT_ID, RootCredentials, TlsConfig};
use zeroize::Zeroizing;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4566", env = "PORTCULLIS_LISTEN")]
    listen: SocketAddr,
    /// Where the database, master key, root credentials and audit log live.
    #[arg(long, default_value = "./portcullis-data", env = "PORTCULLIS_DATA_DIR")]
    data_dir: PathBuf,
    /// The account id of the root identity (12 digits).
    #[arg(long, default_value = DEFAULT_ACCOUNT_ID, env = "PORTCULLIS_ACCOUNT_ID")]
    account_id: String,
    /// More accounts on this server (repeatable), each with generated root
    /// credentials in DATA_DIR/root-credentials-ACCOUNT.
    #[arg(long = "additional-account", value_name = "ACCOUNT_ID")]
    additional_accounts: Vec<String>,
    /// A PostgreSQL URL instead of the embedded SQLite database.
    #[arg(long, env = "PORTCULLIS_DATABASE_URL")]
    database_url: Option<String>,
    /// PEM certificate chain: serve HTTPS.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The URL clients reach this service at (scheme, host, port, optional
    /// path): the OIDC issuer is PUBLIC_URL/oidc and the sign-in portal
    /// PUBLIC_URL/portal/. Default: http://LISTEN (https:// with TLS).
    #[arg(long, env = "PORTCULLIS_PUBLIC_URL", value_parser = parse_public_url)]
    public_url: Option<String>,
    /// AccessDenied errors carry an encoded authorization message that
    /// sts:DecodeAuthorizationMessage decodes (AWS's own IAM API does not).
    #[arg(long, env = "PORTCULLIS_ENCODED_AUTHORIZATION_MESSAGES",
          value_parser = clap::builder::BoolishValueParser::new())]
    encoded_authorization_messages: bool,
}

/// An absolute http(s) URL without query or fragment; a trailing `/` is
/// dropped so that `PUBLIC_URL/oidc` is the one spelling of the issuer.
fn parse_public_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or("the public URL must start with https:// or http://")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("the public URL has no host".to_owned());
    }
    if text.contains(['?', '#']) || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the public URL must not have a query, a fragment or spaces".to_owned());
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// The master key ring's environment: `PORTCULLIS_MASTER_KEY` and
/// `PORTCULLIS_PREVIOUS_MASTER_KEYS` (the data directory's files otherwise).
/// Environment only, no flags: a key on a command line is visible to every
/// user of the machine.
pub fn master_key_env() -> (Option<Zeroizing<String>>, Option<Zeroizing<String>>) {
    let read = |name| std::env::var(name).ok().map(Zeroizing::new);
    (
        read(portcullis_server::secrets::MASTER_KEY_ENV),
        read(portcullis_server::secrets::PREVIOUS_KEYS_ENV),
    )
}

pub fn run(args: ServeArgs) -> anyhow::Result<std::process::ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PORTCULLIS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut config = Config::new(args.listen, args.data_dir);
    config.account_id = args.account_id;
    config.additional_accounts = args.additional_accounts;
    config.database_url = args.database_url;
    config.public_url = args.public_url;
    config.encoded_authorization_messages = args.encoded_authorization_messages;
    config.tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsConfig { cert, key }),
        _ => None,
    };
    (config.master_key, config.previous_master_keys) = master_key_env();
    config.root_credentials = match (
        std::env::var("PORTCULLIS_ROOT_ACCESS_KEY_ID"),
        std::env::var("PORTCULLIS_ROOT_SECRET_ACCESS_KEY"),
    ) {
        (Ok(id), Ok(secret)) => Some(RootCredentials {
            access_key_id: id,
            secret_access_key: Zeroizing::new(secret),
        }),
        _ => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let data_dir = config.data_dir.clone();
        let (state, notice) = bootstrap::start(config).await?;
        let listener = tokio::net::TcpListener::bind(state.config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", state.config.listen))?;
        let addr = listener.local_addr()?;
        let scheme = if state.config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let endpoint = format!("{scheme}://{addr}");
        println!("Portcullis is serving IAM and STS at {endpoint}");
        println!("  account: {}", state.config.account_id);
        println!("  data:    {}", data_dir.display());
        let public = portcullis_server::idp::public_url(&state.config);
        println!("  portal:  {public}/portal/ (OIDC issuer {public}/oidc)");
        let previous = state.master_key.previous_ids();
        if previous.is_empty() {
            println!("  master key: {}", state.master_key.current_id());
        } else {
            let previous: Vec<String> = previous.iter().map(ToString::to_string).collect();
            println!(
                "  master key: {} (previous, open only: {})",
                state.master_key.current_id(),
                previous.join(", ")
            );
        }
        match notice {
            RootKeyNotice::Generated(creds) => {
                println!(
                    "Root credentials were generated (shown once; also in {}):",
                    data_dir.join("root-credentials").display()
                );
                println!("  export AWS_ACCESS_KEY_ID={}", creds.access_key_id);
                println!(
                    "  export AWS_SECRET_ACCESS_KEY={}",
                    creds.secret_access_key.as_str()
                );
            }
            RootKeyNotice::FromEnvironment { access_key_id } => {
                println!("Root access key {access_key_id} (from PORTCULLIS_ROOT_ACCESS_KEY_ID).");
            }
            RootKeyNotice::Existing => {
                println!(
                    "Root credentials: see {} (written at first start).",
                    data_dir.join("root-credentials").display()
                );
            }
        }
        println!("Use it with the AWS CLI:");
        println!("  aws --endpoint-url {endpoint} --region us-east-1 iam list-users");
        println!("  aws --endpoint-url {endpoint} --region us-east-1 sts get-caller-identity");
        use std::io::Write as _;
        std::io::stdout().flush()?;
        let shutdown = shutdown_signal();
        portcullis_server::http::serve(state, listener, shutdown).await?;
        anyhow::Ok(())
    })?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Completes on Ctrl-C or SIGTERM, so that service managers stop the
/// service gracefully.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
