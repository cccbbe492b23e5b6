//! The audit trail: one JSON line per call in `DATA_DIR/audit.log` — who,
//! what, on which resource, the decision and the statement that decided it.
//!
//! A request writes its record's line into a shared buffer, and a writer
//! thread writes the buffer to the file, so a request never waits for the
//! disk. The thread wakes for the first record after a quiet spell, then
//! gathers for [`GATHER`] before it writes everything that came: under load
//! that is one wake-up and one `write` per batch instead of per request (a
//! thread switch per request was a third of the server's CPU time on one
//! core). A record reaches the file at most
//! [`GATHER`] after its request (plus the time to write); a crash of the
//! process can lose that much of the trail.
//! Nothing secret is recorded: access key ids are, secrets and tokens never.

use std::borrow::Cow;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

use serde::Serialize;

use crate::authn::{Caller, IpText};
use crate::protocol::scan::Specials;
use crate::protocol::xml::Timestamp;
use crate::request::RequestId;

fn source_ip_text<S: serde::Serializer>(ip: &Option<IpAddr>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(ip.map(IpText::of).as_ref().map_or("", IpText::as_str))
}

/// One call's line. The time and the source address are kept as values and
/// written as text only into the line: every call makes a record, and two
/// strings built, scanned for escapes and freed per call were measurable.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AuditRecord {
    pub time: Timestamp,
    pub request_id: RequestId,
    pub service: &'static str,
    /// `None` only where no connection is known (written as "").
    #[serde(serialize_with = "source_ip_text")]
    pub source_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<CallerText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<CallerText>,
    /// The IAM action (`iam:GetUser`, from the actions table), or the
    /// `Action` parameter as sent when the call was refused before it was
    /// decoded.
    pub action: Cow<'static, str>,
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

/// The caller's ARN or access key id in a record: shared with the
/// request's authenticated caller where there is one, rather than copied
/// (two strings made and freed per call), or text of its own.
#[derive(Debug, Clone)]
pub enum CallerText {
    /// The caller's ARN.
    Arn(Arc<Caller>),
    /// The caller's access key id.
    AccessKeyId(Arc<Caller>),
    Owned(String),
}

impl CallerText {
    pub fn as_str(&self) -> &str {
        match self {
            CallerText::Arn(caller) => &caller.arn,
            CallerText::AccessKeyId(caller) => &caller.access_key_id,
            CallerText::Owned(text) => text,
        }
    }
}

impl From<String> for CallerText {
    fn from(text: String) -> Self {
        CallerText::Owned(text)
    }
}

impl Serialize for CallerText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl AuditRecord {
    /// Names `caller` as the record's caller and, when it signed with one,
    /// its access key id.
    pub fn set_caller(&mut self, caller: &Arc<Caller>) {
        self.caller = Some(CallerText::Arn(Arc::clone(caller)));
        self.access_key_id =
            (!caller.access_key_id.is_empty()).then(|| CallerText::AccessKeyId(Arc::clone(caller)));
    }

    /// The record as one JSON object, the same text `serde_json` makes of
    /// it (a test holds the two together) at a fraction of the cost: this
    /// runs for every request, and escaping field by field through serde
    /// was a tenth of a GetCallerIdentity's instructions.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        // The time, the request id and the address are digits, hex digits
        // and `-:.TZ`: nothing to escape.
        out.extend_from_slice(b"{\"time\":\"");
        self.time.write_iso8601(out);
        out.extend_from_slice(b"\",\"request_id\":\"");
        out.extend_from_slice(self.request_id.as_bytes());
        out.push(b'"');
        out.extend_from_slice(b",\"service\":");
        json_string(out, self.service);
        out.extend_from_slice(b",\"source_ip\":\"");
        if let Some(ip) = self.source_ip {
            out.extend_from_slice(IpText::of(ip).as_bytes());
        }
        out.push(b'"');
        if let Some(caller) = &self.caller {
            out.extend_from_slice(b",\"caller\":");
            json_string(out, caller.as_str());
        }
        if let Some(key) = &self.access_key_id {
            out.extend_from_slice(b",\"access_key_id\":");
            json_string(out, key.as_str());
        }
        out.extend_from_slice(b",\"action\":");
        json_string(out, &self.action);
        if !self.resource.is_empty() {
            out.extend_from_slice(b",\"resource\":");
            json_string(out, &self.resource);
        }
        out.extend_from_slice(b",\"decision\":");
        json_string(out, self.decision);
        if !self.statements.is_empty() {
            out.extend_from_slice(b",\"statements\":[");
            for (i, statement) in self.statements.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_string(out, statement);
            }
            out.push(b']');
        }
        if let Some(code) = self.error_code {
            out.extend_from_slice(b",\"error_code\":");
            json_string(out, code);
        }
        out.push(b'}');
    }
}

/// A JSON string as `serde_json` writes it: `"` and `\` escaped, control
/// characters as their short escape or `\u00XX`, everything else as is.
fn json_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // The bytes JSON escapes, found eight at a time: every request's record
    // goes through here.
    static SPECIAL: Specials<2> = Specials::new([b'"', b'\\'], 0x20);
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some(found) = bytes.get(start..).and_then(|rest| SPECIAL.first_in(rest)) {
        let i = start + found;
        let b = bytes.get(i).copied().unwrap_or_default();
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            _ => b"",
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

/// How long the writer gathers records before a write.
pub const GATHER: std::time::Duration = std::time::Duration::from_millis(20);

/// The lines written by requests and not yet by the writer.
#[derive(Debug, Default)]
struct Pending {
    lines: Vec<u8>,
    /// The log was dropped: write what is left and stop.
    closed: bool,
}

#[derive(Debug, Default)]
struct Shared {
    pending: Mutex<Pending>,
    /// Signalled by the record that finds `lines` empty, and on close.
    wake: Condvar,
}

#[derive(Debug)]
pub struct AuditLog {
    shared: Option<Arc<Shared>>,
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
        let mut file = options.open(path)?;
        let shared = Arc::new(Shared::default());
        let writer = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || {
                // The two buffers trade places: requests fill one while
                // this thread writes the other, and neither is reallocated
                // once it has grown to a batch.
                let mut batch = Vec::new();
                loop {
                    let Ok(mut pending) = writer.pending.lock() else {
                        return;
                    };
                    while pending.lines.is_empty() && !pending.closed {
                        let Ok(woken) = writer.wake.wait(pending) else {
                            return;
                        };
                        pending = woken;
                    }
                    if pending.lines.is_empty() {
                        return; // closed, and everything written
                    }
                    let closed = pending.closed;
                    drop(pending);
                    if !closed {
                        // Records that come meanwhile wake nobody.
                        std::thread::sleep(GATHER);
                    }
                    if let Ok(mut pending) = writer.pending.lock() {
                        std::mem::swap(&mut pending.lines, &mut batch);
                    }
                    if let Err(e) = file.write_all(&batch) {
                        tracing::error!(error = %e, "cannot write the audit log");
                    }
                    batch.clear();
                }
            })?;
        Ok(AuditLog {
            shared: Some(shared),
        })
    }

    /// A log that records nothing (for in-process tests that don't read it).
    pub fn disabled() -> Self {
        AuditLog { shared: None }
    }

    /// Writes the record's line into the pending batch, on the request's
    /// own thread: its strings are then freed where they were allocated (a
    /// free from the writer's thread cost more than the writing), and only
    /// bytes cross to the writer.
    pub fn record(&self, record: AuditRecord) {
        let Some(shared) = &self.shared else {
            return;
        };
        let Ok(mut pending) = shared.pending.lock() else {
            return;
        };
        let first = pending.lines.is_empty();
        record.write_json(&mut pending.lines);
        pending.lines.push(b'\n');
        drop(pending);
        if first {
            shared.wake.notify_one();
        }
    }
}

impl Drop for AuditLog {
    /// The writer writes what is pending, then stops.
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            if let Ok(mut pending) = shared.pending.lock() {
                pending.closed = true;
            }
            shared.wake.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_written_as_serde_json_writes_them() {
        let full = AuditRecord {
            time: Timestamp::from_unix(1_795_903_200).unwrap(),
            request_id: RequestId::new(),
            service: "iam",
            source_ip: Some(IpAddr::from([127, 0, 0, 1])),
            caller: Some(CallerText::Owned(
                "arn:aws:iam::123456789012:user/a\"b\\c".into(),
            )),
            access_key_id: Some(CallerText::Owned("AKIAEXAMPLE".into())),
            action: "iam:GetUser".into(),
            resource: "arn:aws:iam::123456789012:user/é漢🙂".into(),
            decision: "Allow",
            statements: vec![
                "inline/x:0".into(),
                "ctl\u{0}\u{1f}\u{7f}\n\r\t\u{8}\u{c}".into(),
            ],
            error_code: Some("AccessDenied"),
        };
        let v6 = AuditRecord {
            source_ip: Some(IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0xabcd, 1u16])),
            ..full.clone()
        };
        for record in [full, v6, AuditRecord::default()] {
            let mut ours = Vec::new();
            record.write_json(&mut ours);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&record).unwrap()
            );
        }
    }

    #[test]
    fn records_become_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path).unwrap();
        log.record(AuditRecord {
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
