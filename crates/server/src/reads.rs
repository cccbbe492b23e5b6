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
    /// Keyed by [`UserKey`]'s bytes; each entry is kept with the time it is
    /// fresh until (a comparison per hit, where an age would be a
    /// subtraction of dates).
    users: EpochCache<Box<[u8]>, (OffsetDateTime, Arc<User>)>,
}

impl Default for EntityReads {
    fn default() -> Self {
        EntityReads {
            users: EpochCache::new(CAPACITY),
        }
    }
}

/// Room for an account id, `/` and the longest user name IAM accepts (64
/// characters): every ordinary key is made on the stack.
const KEY_INLINE: usize = 96;

/// The cache key of user `name` in `account`: `account/name`, the name
/// lowercased, as names are unique case-insensitively (`Alice` and `alice`
/// share an entry); neither account ids (digits) nor user names
/// (`[\w+=,.@-]+`) hold a `/`. Made on the stack when it is short and ASCII
/// (every name the service accepts), as it is made for every call that
/// reads a user and kept only when the cache misses.
struct UserKey {
    inline: [u8; KEY_INLINE],
    len: usize,
    long: Option<String>,
}

impl UserKey {
    fn new(account: &str, name: &str) -> Self {
        let mut key = UserKey {
            inline: [0; KEY_INLINE],
            len: 0,
            long: None,
        };
        let len = account.len() + 1 + name.len();
        match key.inline.get_mut(..len) {
            Some(dst) if account.is_ascii() && name.is_ascii() => {
                let (head, tail) = dst.split_at_mut(account.len());
                head.copy_from_slice(account.as_bytes());
                if let Some((slash, lower)) = tail.split_first_mut() {
                    *slash = b'/';
                    for (d, s) in lower.iter_mut().zip(name.bytes()) {
                        *d = s.to_ascii_lowercase();
                    }
                }
                key.len = len;
            }
            _ => {
                let mut long = String::with_capacity(len);
                long.push_str(account);
                long.push('/');
                long.extend(name.chars().flat_map(char::to_lowercase));
                key.long = Some(long);
            }
        }
        key
    }

    /// The key's UTF-8 text, as bytes: the cache needs no more, and
    /// a `&str` would cost a check.
    fn as_bytes(&self) -> &[u8] {
        match &self.long {
            Some(long) => long.as_bytes(),
            None => self.inline.get(..self.len).unwrap_or_default(),
        }
    }
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
    let key = UserKey::new(account, name);
    // The epoch is read before the store: a change that commits during the
    // read moves it, and the entry is then born stale.
    let epoch = state.epoch.current();
    if let Some((fresh_until, user)) = state.reads.users.get(key.as_bytes(), epoch)
        && now < fresh_until
    {
        return Ok(user);
    }
    let user = Arc::new(state.store.get_user(account, name).await?);
    state.reads.users.insert(
        Box::from(key.as_bytes()),
        (now + MAX_AGE, user.clone()),
        epoch,
    );
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_key(account: &str, name: &str) -> String {
        String::from_utf8(UserKey::new(account, name).as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn names_that_differ_only_in_case_share_a_key() {
        assert_eq!(user_key("1", "Alice"), user_key("1", "alice"));
        assert_ne!(user_key("1", "alice"), user_key("2", "alice"));
        assert_eq!(user_key("1", "Ab-C.d@E_9"), "1/ab-c.d@e_9");
        assert_eq!(user_key("1", "ÉLODIE"), user_key("1", "élodie"));
        assert_eq!(user_key("1", "ÉLODIE"), "1/élodie");
    }

    #[test]
    fn keys_too_long_for_the_stack_are_whole() {
        let name = "N".repeat(200);
        let key = user_key("123456789012", &name);
        assert_eq!(key, format!("123456789012/{}", "n".repeat(200)));
        // The longest that fits inline, and one past it.
        for len in [KEY_INLINE - 13, KEY_INLINE - 12] {
            let name = "A".repeat(len);
            assert_eq!(
                user_key("123456789012", &name),
                format!("123456789012/{}", "a".repeat(len))
            );
        }
    }
}
