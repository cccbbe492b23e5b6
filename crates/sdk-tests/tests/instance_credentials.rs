//! The AWS SDK for Rust on a machine that `portcullis metadata` serves: the
//! default chain of `aws-config`, with nothing but
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT` in its environment, finds the
//! role's credentials (and the region) through the instance metadata
//! protocol, and `GetCallerIdentity` answers with the role session of the
//! machine.
//!
//! The SDK reads the real process environment, which a test cannot clear
//! for itself; so the client half runs in a child process (this same test
//! binary, running only the ignored `client_in_a_clean_environment`) whose
//! environment holds the metadata endpoint and nothing else.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failed set-up step must fail the test that needed it, loudly"
)]

#[allow(
    dead_code,
    reason = "the shared harness has helpers that only the main SDK test binary uses"
)]
#[path = "sdk/harness.rs"]
mod harness;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use aws_config::BehaviorVersion;

/// Set in the child's environment: where the STS endpoint is.
const CHILD_ENDPOINT: &str = "PORTCULLIS_TEST_STS_ENDPOINT";
const REGION: &str = "eu-west-3";

/// A `portcullis metadata` process, stopped when dropped.
struct Metadata {
    child: Child,
    endpoint: String,
    instance_id: String,
}

impl Drop for Metadata {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> std::path::PathBuf {
    std::env::var_os("PORTCULLIS_BIN").map_or_else(
        || {
            let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
                || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
                std::path::PathBuf::from,
            );
            target.join("debug").join("portcullis")
        },
        std::path::PathBuf::from,
    )
}

/// Starts the metadata service for `profile`, associated with root's
/// credentials, and reads the address it prints.
fn start_metadata(profile: &str) -> Metadata {
    let mut child = Command::new(binary())
        .args(["metadata", "--endpoint", &harness::server().endpoint])
        .args(["--instance-profile", profile, "--listen", "127.0.0.1:0"])
        .args(["--region", REGION])
        .env_clear()
        .env("AWS_ACCESS_KEY_ID", harness::ROOT_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", harness::ROOT_SECRET)
        .env("PORTCULLIS_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start portcullis metadata");
    let mut stdout = BufReader::new(child.stdout.take().expect("its stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read its first line");
    // Keep reading what else it says, so that it never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    // "Portcullis metadata for i-… (arn:…) at http://127.0.0.1:PORT"
    let (Some(instance_id), Some((_, endpoint))) =
        (line.split_whitespace().nth(3), line.rsplit_once(" at "))
    else {
        let _ = child.kill();
        panic!("portcullis metadata did not start: {line:?}");
    };
    Metadata {
        instance_id: instance_id.to_owned(),
        endpoint: endpoint.trim().to_owned(),
        child,
    }
}

#[tokio::test]
async fn the_default_chain_gets_the_role_session_through_imds() {
    let root = harness::root().await;
    let role = harness::unique("EmployeeWebAppRole");
    let profile = harness::unique("EmployeeWebAppProfile");
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    });
    let created = root
        .iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("CreateRole");
    let role_id = created.role().expect("a role").role_id().to_owned();
    root.iam
        .create_instance_profile()
        .instance_profile_name(&profile)
        .send()
        .await
        .expect("CreateInstanceProfile");
    root.iam
        .add_role_to_instance_profile()
        .instance_profile_name(&profile)
        .role_name(&role)
        .send()
        .await
        .expect("AddRoleToInstanceProfile");

    let metadata = start_metadata(&profile);
    let home = tempfile::tempdir().expect("a home directory");
    let output = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "--exact",
            "client_in_a_clean_environment",
            "--ignored",
            "--nocapture",
        ])
        .env_clear()
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &metadata.endpoint)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("HOME", home.path())
        .env(CHILD_ENDPOINT, &harness::server().endpoint)
        .stdin(Stdio::null())
        .output()
        .expect("run the client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in the client's output:\n{stdout}"))
            .to_owned()
    };
    assert_eq!(
        field("ARN="),
        format!(
            "arn:aws:sts::{}:assumed-role/{role}/{}",
            harness::ACCOUNT_ID,
            metadata.instance_id
        )
    );
    assert_eq!(
        field("USERID="),
        format!("{role_id}:{}", metadata.instance_id)
    );
    assert!(field("KEY=").starts_with("ASIA"));
    assert_eq!(field("REGION="), REGION, "the region comes from IMDS too");
}

/// The client half: run only by the test above, in a clean environment.
#[tokio::test]
#[ignore = "the client half of the_default_chain_gets_the_role_session_through_imds, which runs it"]
async fn client_in_a_clean_environment() {
    let endpoint = std::env::var(CHILD_ENDPOINT)
        .expect("run by the_default_chain_gets_the_role_session_through_imds");
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .load()
        .await;
    let region = config.region().map(ToString::to_string).unwrap_or_default();
    let sts = aws_sdk_sts::Client::new(&config);
    let who = sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with the default chain");
    let credentials = aws_sdk_sts::config::ProvideCredentials::provide_credentials(
        config
            .credentials_provider()
            .expect("a credentials provider")
            .as_ref(),
    )
    .await
    .expect("credentials from the default chain");
    println!("ARN={}", who.arn().unwrap_or_default());
    println!("USERID={}", who.user_id().unwrap_or_default());
    println!("KEY={}", credentials.access_key_id());
    println!("REGION={region}");
}
