//! `portcullis policy validate`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use portcullis_policy::PolicyKind;
use portcullis_policy::validate::{Finding, Severity, validate_bytes};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// How the documents are used: the rules (Principal required or
    /// forbidden, size quota) depend on it.
    #[arg(long, value_enum, default_value_t = Kind::Identity)]
    kind: Kind,
    /// Print the findings as one JSON array instead of lines.
    #[arg(long)]
    json: bool,
    /// Policy documents (JSON files).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    Identity,
    Resource,
    Trust,
    Boundary,
    Session,
    Scp,
}

impl From<Kind> for PolicyKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Identity => PolicyKind::Identity,
            Kind::Resource => PolicyKind::Resource,
            Kind::Trust => PolicyKind::Trust,
            Kind::Boundary => PolicyKind::Boundary,
            Kind::Session => PolicyKind::Session,
            Kind::Scp => PolicyKind::Scp,
        }
    }
}

pub fn run(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let kind = PolicyKind::from(args.kind);
    let mut unreadable = false;
    let mut any_error = false;
    let mut json = Vec::new();
    let mut out = std::io::stdout().lock();
    for file in &args.files {
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                // Keep going: the other files still get their findings.
                eprintln!("error: cannot read {}: {e}", file.display());
                unreadable = true;
                continue;
            }
        };
        let findings = validate_bytes(&bytes, kind);
        any_error |= findings.iter().any(|f| f.severity == Severity::Error);
        let name = file.display().to_string();
        for f in &findings {
            if args.json {
                json.push(finding_json(&name, f));
            } else {
                writeln!(out, "{}", finding_line(&name, f)).context("cannot write to stdout")?;
            }
        }
    }
    if args.json {
        let text = serde_json::to_string_pretty(&json).context("cannot render JSON")?;
        writeln!(out, "{text}").context("cannot write to stdout")?;
    }
    Ok(if unreadable {
        ExitCode::from(2)
    } else if any_error {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `FILE:LINE:COL: SEVERITY CODE: message (path)`, as compilers print
/// diagnostics, so that editors jump to the place.
fn finding_line(file: &str, f: &Finding) -> String {
    let mut line = format!(
        "{file}:{}:{}: {} {}: {}",
        f.position.line, f.position.column, f.severity, f.code, f.message
    );
    if !f.path.is_empty() {
        line.push_str(&format!(" ({})", f.path));
    }
    line
}

fn finding_json(file: &str, f: &Finding) -> serde_json::Value {
    serde_json::json!({
        "file": file,
        "line": f.position.line,
        "column": f.position.column,
        "severity": f.severity.as_str(),
        "code": f.code,
        "message": f.message,
        "path": f.path,
    })
}
