//! `portcullis master-key`: make a new master key, and re-seal the stored
//! secrets under the current one (step 3 of a rotation; see the README's
//! "Rotating the master key").

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use portcullis_server::secrets::MasterKey;
use portcullis_server::secrets::reseal::{self, DEFAULT_PAGE_SIZE, Mode};

#[derive(Debug, Subcommand)]
pub enum MasterKeyCommand {
    /// Print a new random master key (base64) on stdout.
    Generate,
    /// Re-seal stored secrets under the current master key.
    ///
    /// Every stored secret not sealed under the current key is re-sealed.
    /// Same key configuration as `serve` (PORTCULLIS_MASTER_KEY and
    /// PORTCULLIS_PREVIOUS_MASTER_KEYS, or DATA_DIR/master.key and
    /// DATA_DIR/master.key.previous). Safe while nodes serve; exits 1 if a
    /// stored value opens under no key of the ring.
    Reseal(ResealArgs),
}

#[derive(Debug, Args)]
pub struct ResealArgs {
    /// The data directory `serve` uses (its SQLite database and key files).
    #[arg(long, default_value = "./portcullis-data", env = "PORTCULLIS_DATA_DIR")]
    data_dir: PathBuf,
    /// The PostgreSQL URL `serve` uses, instead of the SQLite database.
    #[arg(long, env = "PORTCULLIS_DATABASE_URL")]
    database_url: Option<String>,
    /// Change nothing; exit 1 if any value is still sealed under a previous
    /// key (or under no key of the ring).
    #[arg(long)]
    check: bool,
    /// Values read per page (each re-sealed in its own transaction).
    #[arg(long, default_value_t = DEFAULT_PAGE_SIZE, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    page_size: u32,
}

pub fn run(command: MasterKeyCommand) -> anyhow::Result<ExitCode> {
    match command {
        MasterKeyCommand::Generate => {
            let key = MasterKey::generate_base64()?;
            println!("{}", key.as_str());
            Ok(ExitCode::SUCCESS)
        }
        MasterKeyCommand::Reseal(args) => reseal(args),
    }
}

fn reseal(args: ResealArgs) -> anyhow::Result<ExitCode> {
    let (current, previous) = crate::serve::master_key_env();
    let ring = MasterKey::load(
        &args.data_dir,
        current.as_deref().map(String::as_str),
        previous.as_deref().map(String::as_str),
        false,
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mode = if args.check {
        Mode::Check
    } else {
        Mode::Reseal
    };
    let report = runtime.block_on(async {
        let store = reseal::open_store(&args.data_dir, args.database_url.as_deref()).await?;
        let report = reseal::run(&store, &ring, mode, args.page_size).await;
        store.close().await;
        report
    })?;

    let previous: Vec<String> = ring
        .previous_ids()
        .iter()
        .map(ToString::to_string)
        .collect();
    println!(
        "master key {} (previous: {})",
        ring.current_id(),
        if previous.is_empty() {
            "none".to_owned()
        } else {
            previous.join(", ")
        }
    );
    for (kind, c) in &report.kinds {
        let mut line = format!(
            "{kind}: {} scanned, {} under the current key, {} resealed, {} under a previous key",
            c.scanned, c.current, c.resealed, c.under_previous
        );
        if c.retired_unopenable > 0 {
            line.push_str(&format!(
                ", {} retired and unopenable (ignored)",
                c.retired_unopenable
            ));
        }
        println!("{line}");
    }
    println!("resealed: {}", report.resealed());
    println!("under previous keys: {}", report.under_previous());
    for record in &report.unopenable {
        eprintln!("error: {record}");
    }
    if !report.unopenable.is_empty() {
        eprintln!(
            "error: {} stored value(s) open under no key of the ring: add the key they were sealed under to the previous keys",
            report.unopenable.len()
        );
    } else if report.under_previous() > 0 {
        eprintln!(
            "{} value(s) are still under a previous key{}",
            report.under_previous(),
            if args.check {
                ": run `portcullis master-key reseal`"
            } else {
                " (they kept changing while re-sealing): run it again"
            }
        );
    }
    Ok(
        if !report.unopenable.is_empty() || report.under_previous() > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        },
    )
}
