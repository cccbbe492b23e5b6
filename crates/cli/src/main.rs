//! `portcullis`: the one binary.
//!
//! - `portcullis serve`: the IAM and STS service (see `serve.rs`).
//! - `portcullis policy …`: offline policy tools (see `policy.rs`).
//! - `portcullis metadata`: the instance metadata service of one machine
//!   (see `metadata.rs`); `portcullis credential-process` prints its
//!   credentials for the SDKs' `credential_process` setting.
//! - `portcullis master-key generate|reseal`: master key rotation (see
//!   `master_key.rs`).

mod credential_process;
mod master_key;
mod metadata;
mod policy;
mod serve;

use clap::{Parser, Subcommand};

/// mimalloc rather than the C library's allocator: the service makes many
/// small, short-lived allocations per request, which mimalloc serves from
/// thread-local pages (BENCHMARKS.md has the difference).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about = "Self-hosted AWS IAM and STS")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the IAM and STS service.
    Serve(serve::ServeArgs),
    /// Validate, simulate and explain policies offline.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Serve instance metadata and container credentials for one machine.
    Metadata(metadata::MetadataArgs),
    /// Print a metadata service's role credentials for `credential_process`.
    CredentialProcess(credential_process::CredentialProcessArgs),
    /// Make a master key, or re-seal stored secrets under the current one.
    #[command(subcommand)]
    MasterKey(master_key::MasterKeyCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Policy(cmd) => policy::run(cmd),
        Command::Metadata(args) => metadata::run(args),
        Command::CredentialProcess(args) => credential_process::run(args),
        Command::MasterKey(cmd) => master_key::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
