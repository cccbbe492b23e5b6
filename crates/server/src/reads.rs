//! Entity reads served from memory between changes.
//!
//! `GetUser` is the read clients repeat most (`aws iam get-user` is how many
//! tools ask "who am I"). A store read costs a database round trip (on
//! SQLite a hop to sqlx's worker thread and back), tens of microseconds,
//! while the answer only changes when the account does. So a user read is
//! kept for the current [`Epoch`](crate::authz::cache::Epoch), the same
//! rule the authorisation caches follow: every change this node commits,
//! every change the store announces and every generation move another node
//! makes drops it.
//!
//! One field moves without a change: `PasswordLastUsed` is bookkeeping and
//! bumps no generation (see `portcullis_store::change`). This node moves the
//! epoch when it records a sign-in; a sign-in on another node shows here
//! within [`MAX_AGE`], after which an entry is read again regardless.

use std::sync::Arc;
use std::time::Duration;

use portcullis_store::model::User;
use time::OffsetDateTime;

use crate::authz::cache::EpochCache;
use crate::state::AppState;

/// How long an entry may serve, however quiet the account.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// How many users are kept; a full cache starts again (see [`EpochCache`]).
const CAPACITY: usize = 10_000;

/// Users by (account, lower-cased name).
#[derive(Debug)]
pub struct EntityReads {
    /// Each entry with the time of the request that read it.
    users: EpochCache<String, (OffsetDateTime, Arc<User>)>,
}

impl Default for EntityReads {
    fn default() -> Self {
        EntityReads {
            users: EpochCache::new(CAPACITY),
        }
    }
}

/// Names are unique case-insensitively, so `Alice` and `alice` share an entry.
/// Neither account ids (digits) nor user names (`[\w+=,.@-]+`) hold a `/`.
fn user_key(account: &str, name: &str) -> String {
    let mut key = String::with_capacity(account.len() + 1 + name.len());
    key.push_str(account);
    key.push('/');
    if name.is_ascii() {
        // Every name the service accepts; one pass instead of a Unicode
        // case table lookup per character.
        key.extend(name.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        key.extend(name.chars().flat_map(char::to_lowercase));
    }
    key
}

/// The user `name` of `account`, from memory when it is current. `now` is
/// the request's time: its one clock reading serves here too, as a clock
/// read costs over 100 ns on some virtual machines.
pub async fn user(
    state: &AppState,
    account: &str,
    name: &str,
    now: OffsetDateTime,
) -> Result<Arc<User>, portcullis_store::StoreError> {
    let key = user_key(account, name);
    // The epoch is read before the store: a change that commits during the
    // read moves it, and the entry is then born stale.
    let epoch = state.epoch.current();
    if let Some((born, user)) = state.reads.users.get(&key, epoch)
        && now - born < MAX_AGE
    {
        return Ok(user);
    }
    let user = Arc::new(state.store.get_user(account, name).await?);
    state.reads.users.insert(key, (now, user.clone()), epoch);
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_differ_only_in_case_share_a_key() {
        assert_eq!(user_key("1", "Alice"), user_key("1", "alice"));
        assert_ne!(user_key("1", "alice"), user_key("2", "alice"));
        assert_eq!(user_key("1", "Ab-C.d@E_9"), "1/ab-c.d@e_9");
        assert_eq!(user_key("1", "ÉLODIE"), user_key("1", "élodie"));
    }
}
