//! `portcullis credential-process --metadata-url URL`: the role credentials
//! of a `portcullis metadata` service, printed in the form of the SDKs'
//! `credential_process` setting, for tools that read credentials that way:
//!
//! ```ini
//! [default]
//! credential_process = portcullis credential-process --metadata-url http://127.0.0.1:8169
//! ```
//!
//! It asks as an SDK would: an IMDSv2 token first, then the role's name,
//! then its credentials.

use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use serde::Deserialize;
use zeroize::Zeroizing;

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    /// The `portcullis metadata` service (its printed address).
    #[arg(long, env = "AWS_EC2_METADATA_SERVICE_ENDPOINT")]
    metadata_url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImdsCredentials {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    token: Zeroizing<String>,
    expiration: String,
}

pub fn run(args: CredentialProcessArgs) -> anyhow::Result<std::process::ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let creds = runtime.block_on(fetch(&args.metadata_url))?;
    let out = Zeroizing::new(
        serde_json::json!({
            "Version": 1,
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key.as_str(),
            "SessionToken": creds.token.as_str(),
            "Expiration": creds.expiration,
        })
        .to_string(),
    );
    println!("{}", out.as_str());
    Ok(std::process::ExitCode::SUCCESS)
}

async fn fetch(base: &str) -> anyhow::Result<ImdsCredentials> {
    let base =
        reqwest::Url::parse(base).with_context(|| format!("--metadata-url {base} is not a URL"))?;
    // The metadata service is local: no proxy stands between.
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .context("cannot make an HTTP client")?;
    let url = |path: &str| {
        base.join(path)
            .with_context(|| format!("cannot make a URL from {base} and {path}"))
    };
    let response = client
        .put(url("/latest/api/token")?)
        .header("x-aws-ec2-metadata-token-ttl-seconds", "60")
        .send()
        .await
        .with_context(|| format!("cannot reach the metadata service at {base}"))?;
    if !response.status().is_success() {
        bail!(
            "the metadata service refused a token: {}",
            response.status()
        );
    }
    let token = Zeroizing::new(response.text().await?);
    let get = |path: String| {
        let client = client.clone();
        let token = token.clone();
        let url = url(&path);
        async move {
            let response = client
                .get(url?)
                .header("x-aws-ec2-metadata-token", token.as_str())
                .send()
                .await
                .context("cannot reach the metadata service")?;
            let status = response.status();
            if status == reqwest::StatusCode::NOT_FOUND {
                bail!(
                    "this machine has no role credentials now (the metadata service answered 404)"
                );
            }
            if !status.is_success() {
                bail!("the metadata service answered {status} for {path}");
            }
            anyhow::Ok(response.text().await?)
        }
    };
    let role = get("/latest/meta-data/iam/security-credentials/".to_owned()).await?;
    let role = role.lines().next().unwrap_or_default().trim().to_owned();
    if role.is_empty() {
        bail!("the metadata service names no role");
    }
    let body =
        Zeroizing::new(get(format!("/latest/meta-data/iam/security-credentials/{role}")).await?);
    serde_json::from_str(&body).context("the metadata service's credentials are not JSON")
}
