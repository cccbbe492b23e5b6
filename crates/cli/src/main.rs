//! `portcullis`: the one binary.
//!
//! - `portcullis serve`: the IAM and STS service (see `serve.rs`).
//! - `portcullis policy …`: offline policy tools (see `policy.rs`).

mod policy;
mod serve;

use clap::{Parser, Subcommand};

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
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Policy(cmd) => policy::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
