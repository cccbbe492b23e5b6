//! Virtual MFA devices.

use time::OffsetDateTime;

use super::{Ciphertext, Tag};

/// A virtual (TOTP) MFA device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaDevice {
    /// Serial number: `arn:aws:iam::ACCOUNT:mfa/PATH/NAME`.
    pub serial_number: String,
    /// Owning account.
    pub account_id: String,
    /// The user it is enabled for; `None` while unassigned.
    pub user_name: Option<String>,
    /// The TOTP seed, encrypted by the server.
    pub seed_ciphertext: Ciphertext,
    /// Creation time.
    pub create_date: OffsetDateTime,
    /// When it was enabled for its user.
    pub enable_date: Option<OffsetDateTime>,
    /// Last TOTP time step accepted; a code of this step or older is a replay.
    pub last_used_step: Option<u64>,
    /// Tags; filled by `get_mfa_device`.
    pub tags: Vec<Tag>,
}

/// Arguments of `CreateVirtualMFADevice`.
#[derive(Debug, Clone)]
pub struct NewVirtualMfaDevice {
    /// Device name.
    pub name: String,
    /// Path.
    pub path: String,
    /// The seed, encrypted by the server.
    pub seed_ciphertext: Ciphertext,
    /// Initial tags.
    pub tags: Vec<Tag>,
}
