//! The audit trail: one JSON line per call in `DATA_DIR/audit.log` — who,
//! what, on which resource, the decision and the statement that decided it.
//!
//! Records go through a channel to a writer thread, so a request never
//! waits for the disk. The thread wakes for the first record after a quiet
//! spell, then gathers for [`GATHER`] before it writes and flushes
//! everything that came: under load that is one wake-up and one `write` per
//! batch instead of per request (a thread switch per request was a third
//! of the server's CPU time on one core). A record reaches the file at most
//! [`GATHER`] after its request (plus the time to write); a crash of the
//! process can lose that much of the trail.
//! Nothing secret is recorded: access key ids are, secrets and tokens never.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::sync::mpsc;

use serde::Serialize;

#[derive(Debug, Clone, Serialize, Default)]
pub struct AuditRecord {
    pub time: String,
    pub request_id: String,
    pub service: &'static str,
    pub source_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    pub action: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resource: String,
    /// `Allow`, `Root` (bypasses policies), `NotRequired`, `Deny`, or
    /// `Unauthenticated`.
    pub decision: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
}

/// How long the writer gathers records before a write.
pub const GATHER: std::time::Duration = std::time::Duration::from_millis(20);

#[derive(Debug)]
pub struct AuditLog {
    tx: Option<mpsc::Sender<AuditRecord>>,
}

impl AuditLog {
    /// Appends to `path`, creating it (owner-only) if needed.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = options.open(path)?;
        let (tx, rx) = mpsc::channel::<AuditRecord>();
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || {
                let mut out = BufWriter::new(file);
                while let Ok(first) = rx.recv() {
                    // Senders do not wake a receiver that is not waiting:
                    // records sent meanwhile cost no system call.
                    std::thread::sleep(GATHER);
                    let mut next = Some(first);
                    while let Some(record) = next {
                        if serde_json::to_writer(&mut out, &record).is_ok() {
                            let _ = out.write_all(b"\n");
                        }
                        next = rx.try_recv().ok();
                    }
                    if let Err(e) = out.flush() {
                        tracing::error!(error = %e, "cannot write the audit log");
                    }
                }
            })?;
        Ok(AuditLog { tx: Some(tx) })
    }

    /// A log that records nothing (for in-process tests that don't read it).
    pub fn disabled() -> Self {
        AuditLog { tx: None }
    }

    pub fn record(&self, record: AuditRecord) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_become_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path).unwrap();
        log.record(AuditRecord {
            request_id: "r1".into(),
            action: "iam:GetUser".into(),
            decision: "Allow",
            ..Default::default()
        });
        drop(log);
        let mut text = String::new();
        for _ in 0..100 {
            text = std::fs::read_to_string(&path).unwrap();
            if !text.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(line["action"], "iam:GetUser");
        assert_eq!(line["decision"], "Allow");
    }
}
