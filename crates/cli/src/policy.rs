//! `portcullis policy …`: offline policy tools.

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {}

pub fn run(cmd: PolicyCommand) -> anyhow::Result<std::process::ExitCode> {
    match cmd {}
}
