//! `portcullis policy …`: offline policy tools, the same code the service
//! runs.
//!
//! - `validate`: Access Analyzer-style findings with positions
//!   (`portcullis_policy::validate`).
//! - `simulate`: an `iam:SimulateCustomPolicy` request as the AWS CLI's
//!   `--cli-input-json` takes it, answered by the service's own simulator
//!   (`portcullis_server::ops::iam::simulator::custom`).

mod simulate;
mod validate;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check policy documents as IAM Access Analyzer's ValidatePolicy does.
    ///
    /// Prints one line per finding: FILE:LINE:COL: SEVERITY CODE: message
    /// (JSON path). Exit status 1 when any finding is an ERROR, 2 when a
    /// file cannot be read, 0 otherwise.
    Validate(validate::ValidateArgs),
    /// Answer an iam:SimulateCustomPolicy request offline.
    ///
    /// The input is what `aws iam simulate-custom-policy --cli-input-json`
    /// takes; the output is what that command prints. API errors are
    /// printed to stderr as the AWS CLI prints them, with exit status 2.
    Simulate(simulate::SimulateArgs),
}

pub fn run(cmd: PolicyCommand) -> anyhow::Result<std::process::ExitCode> {
    match cmd {
        PolicyCommand::Validate(args) => validate::run(&args),
        PolicyCommand::Simulate(args) => simulate::run(&args),
    }
}
