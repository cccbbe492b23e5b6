//! Secrets, signing-key derivation and the signing-key cache.
//!
//! The signing key is `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region),
//! service), "aws4_request")`: four HMACs that depend only on the access key
//! and the credential scope, not on the request. A steady client therefore
//! pays them once per day and region; [`SigningKeyCache`] keeps the result so
//! that a cached verification costs one SHA-256 of the canonical request and
//! one HMAC of the string to sign.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use aws_lc_rs::hmac;
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, Zeroizing};

/// A secret access key. Wiped from memory on drop, redacted in `Debug`,
/// compared only in constant time.
pub struct SecretKey {
    /// `"AWS4"` followed by the secret: the key of the first derivation step,
    /// stored that way so deriving needs no temporary copy of the secret.
    prefixed: Box<[u8]>,
}

impl SecretKey {
    /// Wraps a secret access key.
    #[must_use]
    pub fn new(secret: &str) -> Self {
        let mut prefixed = Vec::with_capacity(4 + secret.len());
        prefixed.extend_from_slice(b"AWS4");
        prefixed.extend_from_slice(secret.as_bytes());
        Self {
            prefixed: prefixed.into_boxed_slice(),
        }
    }

    /// The secret itself, for the few places that must have it (encrypting it
    /// at rest, returning it once from `CreateAccessKey`).
    #[must_use]
    pub fn expose(&self) -> &str {
        // Built from a `&str` after an ASCII prefix, so always UTF-8.
        std::str::from_utf8(self.prefixed.get(4..).unwrap_or_default()).unwrap_or_default()
    }
}

impl SecretKey {
    /// Constant-time equality, eight bytes a step (see
    /// [`crate::signature::ct_eq_bytes`]): cheaper than aws-lc's
    /// byte-at-a-time `CRYPTO_memcmp` on the cache's hot path.
    fn same_as(&self, other: &Self) -> bool {
        crate::signature::ct_eq_bytes(&self.prefixed, &other.prefixed)
    }
}

impl From<String> for SecretKey {
    fn from(mut s: String) -> Self {
        let key = Self::new(&s);
        s.zeroize();
        key
    }
}

impl Clone for SecretKey {
    fn clone(&self) -> Self {
        Self {
            prefixed: self.prefixed.clone(),
        }
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.prefixed.zeroize();
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(** redacted **)")
    }
}

impl ConstantTimeEq for SecretKey {
    fn ct_eq(&self, other: &Self) -> Choice {
        // Slices of different lengths compare unequal without looking at the
        // bytes; the length of a secret is not itself secret.
        self.prefixed.ct_eq(&other.prefixed)
    }
}

/// A derived signing key for one (secret, date, region, service).
pub struct SigningKey {
    key: hmac::Key,
}

impl SigningKey {
    /// Derives the signing key: four chained HMAC-SHA256 steps.
    #[must_use]
    pub fn derive(secret: &SecretKey, date: &str, region: &str, service: &str) -> Self {
        let k_date = hmac32(&secret.prefixed, date.as_bytes());
        let k_region = hmac32(&k_date[..], region.as_bytes());
        let k_service = hmac32(&k_region[..], service.as_bytes());
        let k_signing = hmac32(&k_service[..], b"aws4_request");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &k_signing[..]),
        }
    }

    /// HMAC-SHA256 of `data` under this key.
    #[must_use]
    pub fn sign(&self, data: &[u8]) -> [u8; 32] {
        let tag = hmac::sign(&self.key, data);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(** redacted **)")
    }
}

fn hmac32(key: &[u8], data: &[u8]) -> Zeroizing<[u8; 32]> {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&k, data);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(tag.as_ref());
    out
}

/// A bounded, sharded, least-recently-used cache of signing keys, keyed by
/// access key id and credential scope (date, region, service).
///
/// Each entry also keeps the secret it was derived from and is used only when
/// the caller's secret matches it (in constant time), so a rotated or
/// mismatched secret can never be served a stale key.
///
/// Each thread also remembers the entry it used last (with the same id and
/// secret checks): a client that sends request after request, the common
/// case, is served without a lock or any write to memory other threads
/// share. Such a hit does not refresh the entry's place in the LRU order; an
/// entry evicted while still in use is derived again at the next miss.
pub struct SigningKeyCache {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
    /// The key of [`Self::hash`].
    keys: [u64; 3],
    /// Tells this cache's entries in a thread's memo from another cache's.
    instance: u64,
}

#[derive(Default)]
struct Shard {
    /// Keyed by the cache's hash of the id.
    map: HashMap<u64, Slot, BuildHasherDefault<PreHashed>>,
    tick: u64,
}

struct Slot {
    entry: Arc<Entry>,
    used: u64,
}

struct Entry {
    /// `akid/date/region/service`.
    id: Box<str>,
    secret: SecretKey,
    key: Arc<SigningKey>,
}

impl Entry {
    fn is_for(&self, id: &str, secret: &SecretKey) -> bool {
        crate::swar::same(self.id.as_bytes(), id.as_bytes()) && self.secret.same_as(secret)
    }
}

/// The entry a thread used last, and the cache it is from.
struct Memo {
    cache: u64,
    entry: Arc<Entry>,
}

thread_local! {
    static LAST_USED: RefCell<Option<Memo>> = const { RefCell::new(None) };
}

/// The next [`SigningKeyCache::instance`].
static INSTANCES: AtomicU64 = AtomicU64::new(0);

const SHARDS: usize = 16;

impl SigningKeyCache {
    /// A cache that holds at most about `capacity` keys (rounded up to a
    /// multiple of its shard count).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let shard_count = SHARDS.min(capacity.max(1));
        Self::with_layout(shard_count, capacity.max(1).div_ceil(shard_count))
    }

    fn with_layout(shard_count: usize, per_shard: usize) -> Self {
        Self {
            shards: (0..shard_count).map(|_| Mutex::default()).collect(),
            per_shard,
            keys: random_keys(),
            instance: INSTANCES.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The most keys this cache will hold.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.per_shard * self.shards.len()
    }

    /// How many keys it holds now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).map.len())
            .sum()
    }

    /// Whether it holds no key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The signing key for `access_key_id` in the scope `date/region/service`,
    /// derived from `secret` unless a matching one is cached.
    #[must_use]
    pub fn signing_key(
        &self,
        access_key_id: &str,
        secret: &SecretKey,
        date: &str,
        region: &str,
        service: &str,
    ) -> Arc<SigningKey> {
        let mut id = String::with_capacity(
            access_key_id.len() + date.len() + region.len() + service.len() + 3,
        );
        for (i, part) in [access_key_id, date, region, service]
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                id.push('/');
            }
            id.push_str(part);
        }
        self.get_or_derive(&id, secret, || {
            SigningKey::derive(secret, date, region, service)
        })
    }

    /// As [`Self::signing_key`], with the cache id already joined as
    /// `akid/date/region/service` (a prefix of the credential, so the hot
    /// path does not allocate).
    pub(crate) fn get_or_derive(
        &self,
        id: &str,
        secret: &SecretKey,
        derive: impl FnOnce() -> SigningKey,
    ) -> Arc<SigningKey> {
        self.with_key(id, secret, derive, Arc::clone)
    }

    /// The key this thread used last, if it is for `id` and `secret`, passed
    /// to `read`.
    #[inline]
    fn with_last_used<R>(
        &self,
        id: &str,
        secret: &SecretKey,
        read: impl FnOnce(&Arc<SigningKey>) -> R,
    ) -> Option<R> {
        LAST_USED
            .try_with(|last| {
                // Shared: `read` could only reach here again, never the
                // update below, which gives way when this is borrowed.
                let last = last.try_borrow().ok()?;
                let memo = last.as_ref()?;
                (memo.cache == self.instance && memo.entry.is_for(id, secret))
                    .then(|| read(&memo.entry.key))
            })
            .ok()
            .flatten()
    }

    /// Remembers `entry` as this thread's last used.
    fn remember(&self, entry: &Arc<Entry>) {
        // Neither fails but while the thread exits or `read` runs.
        let _ = LAST_USED.try_with(|last| {
            if let Ok(mut last) = last.try_borrow_mut() {
                *last = Some(Memo {
                    cache: self.instance,
                    entry: Arc::clone(entry),
                });
            }
        });
    }

    /// Calls `read` with the signing key for `id` (derived from `secret`
    /// unless a matching one is cached) and returns what it returns. On a
    /// hit `read` runs under the shard's lock.
    pub(crate) fn with_key<R>(
        &self,
        id: &str,
        secret: &SecretKey,
        derive: impl FnOnce() -> SigningKey,
        read: impl Fn(&Arc<SigningKey>) -> R,
    ) -> R {
        if let Some(r) = self.with_last_used(id, secret, &read) {
            return r;
        }
        // One keyed hash of the id picks the shard (top bits) and is the key
        // within it, so a hit hashes the id once.
        let hash = self.hash(id.as_bytes());
        let shard_index = usize::try_from((hash >> 32) % (self.shards.len() as u64)).unwrap_or(0);
        let Some(shard) = self.shards.get(shard_index) else {
            return read(&Arc::new(derive()));
        };
        {
            let mut guard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            let shard = &mut *guard;
            shard.tick += 1;
            if let Some(slot) = shard.map.get_mut(&hash)
                && slot.entry.is_for(id, secret)
            {
                slot.used = shard.tick;
                self.remember(&slot.entry);
                return read(&slot.entry.key);
            }
        }
        // Derive outside the lock: four HMACs are the slow part.
        let key = Arc::new(derive());
        let mut guard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        let shard = &mut *guard;
        shard.tick += 1;
        if !shard.map.contains_key(&hash) && shard.map.len() >= self.per_shard {
            let oldest = shard
                .map
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(h, _)| *h);
            if let Some(oldest) = oldest {
                shard.map.remove(&oldest);
            }
        }
        // A different id with the same 64-bit hash (or a rotated secret)
        // is replaced: the cache then misses more, never answers wrongly.
        let entry = Arc::new(Entry {
            id: id.into(),
            secret: secret.clone(),
            key,
        });
        shard.map.insert(
            hash,
            Slot {
                entry: Arc::clone(&entry),
                used: shard.tick,
            },
        );
        drop(guard);
        self.remember(&entry);
        read(&entry.key)
    }

    /// A keyed hash of a cache id: eight bytes a step, each folded in with
    /// one 64×64→128-bit multiply (the scheme of `foldhash`), with a random
    /// key per cache. An id is about 40 bytes, which SipHash takes several
    /// times as long over. Ids are only those of valid access keys with a
    /// scope that passed its checks, and a collision only replaces an entry
    /// (entries are compared by id and secret), so the hash need not resist
    /// more than chance.
    fn hash(&self, id: &[u8]) -> u64 {
        let [k0, k1, k2] = self.keys;
        let mut h = k0 ^ (id.len() as u64);
        let mut words = id.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            h = fold_mul(h ^ u64::from_le_bytes(b), k1);
        }
        let rest = words.remainder();
        let mut b = [0u8; 8];
        if let Some(dst) = b.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        fold_mul(h ^ u64::from_le_bytes(b), k2)
    }
}

/// The 128-bit product of `a` and `b`, its halves folded together.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    // Truncation intended: the low and high halves are xored.
    #[allow(clippy::cast_possible_truncation, reason = "the halves of a u128")]
    let (lo, hi) = (p as u64, (p >> 64) as u64);
    lo ^ hi
}

/// Three random words (the odd multipliers never zero), from the standard
/// library's per-process random hashing keys.
fn random_keys() -> [u64; 3] {
    let state = RandomState::new();
    let word = |i: u64| state.hash_one(i);
    [word(0), word(1) | 1, word(2) | 1]
}

/// The hasher of a shard's map, whose keys are already keyed hashes.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; fold anything else in rather than drop it.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::HexBuf;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    #[test]
    fn derivation_matches_the_aws_documentation_example() {
        // "Example: Calculating the signature" in the AWS General Reference
        // (secret above, 20150830/us-east-1/iam): the string to sign for the
        // IAM ListUsers example signs to this value.
        let sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n\
                   f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
        let key = SigningKey::derive(&SecretKey::new(SECRET), "20150830", "us-east-1", "iam");
        assert_eq!(
            HexBuf::of(&key.sign(sts.as_bytes())).as_str(),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn secret_is_redacted_and_exposed_on_request() {
        let s = SecretKey::new(SECRET);
        assert_eq!(s.expose(), SECRET);
        let debug = format!("{s:?}");
        assert!(!debug.contains("wJalr"), "{debug}");
        assert!(bool::from(s.ct_eq(&SecretKey::new(SECRET))));
        assert!(!bool::from(s.ct_eq(&SecretKey::new("other"))));
    }

    #[test]
    fn cache_reuses_keys_and_stays_bounded() {
        let cache = SigningKeyCache::new(32);
        let secret = SecretKey::new(SECRET);
        let a = cache.signing_key("AKID", &secret, "20150830", "us-east-1", "iam");
        let b = cache.signing_key("AKID", &secret, "20150830", "us-east-1", "iam");
        assert!(Arc::ptr_eq(&a, &b));
        for i in 0..1000 {
            let _ = cache.signing_key(&format!("AKID{i}"), &secret, "20150830", "us-east-1", "iam");
        }
        assert!(
            cache.len() <= cache.capacity(),
            "{} > {}",
            cache.len(),
            cache.capacity()
        );
        assert_eq!(cache.capacity(), 32);
    }

    #[test]
    fn cache_never_serves_a_key_derived_from_another_secret() {
        let cache = SigningKeyCache::new(8);
        let first = cache.signing_key(
            "AKID",
            &SecretKey::new("one"),
            "20150830",
            "us-east-1",
            "iam",
        );
        let second = cache.signing_key(
            "AKID",
            &SecretKey::new("two"),
            "20150830",
            "us-east-1",
            "iam",
        );
        assert!(!Arc::ptr_eq(&first, &second));
        let expected = SigningKey::derive(&SecretKey::new("two"), "20150830", "us-east-1", "iam");
        assert_eq!(second.sign(b"x"), expected.sign(b"x"));
    }

    #[test]
    fn a_threads_last_key_serves_only_its_cache_and_secret() {
        let secret = SecretKey::new(SECRET);
        let one = SigningKeyCache::new(8);
        let two = SigningKeyCache::new(8);
        let key = |c: &SigningKeyCache, s: &SecretKey| {
            c.signing_key("AKID", s, "20150830", "us-east-1", "iam")
        };
        let a = key(&one, &secret);
        // The same id in another cache is that cache's own entry.
        let b = key(&two, &secret);
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(two.len(), 1);
        // Back to the first: its entry, not the other's.
        assert!(Arc::ptr_eq(&a, &key(&one, &secret)));
        assert!(Arc::ptr_eq(&a, &key(&one, &secret)));
        // Another secret for the same id is never served the remembered key.
        let other = SecretKey::new("other");
        let c = key(&one, &other);
        assert!(!Arc::ptr_eq(&a, &c));
        let expected = SigningKey::derive(&other, "20150830", "us-east-1", "iam");
        assert_eq!(c.sign(b"x"), expected.sign(b"x"));
        // Another thread finds the entry in the cache.
        std::thread::scope(|s| {
            s.spawn(|| assert!(Arc::ptr_eq(&c, &key(&one, &other))));
        });
    }

    #[test]
    fn least_recently_used_entry_is_evicted_first() {
        // One shard of two entries makes the eviction order observable.
        let cache = SigningKeyCache::with_layout(1, 2);
        let s = SecretKey::new(SECRET);
        let key = |id: &str| cache.signing_key(id, &s, "20150830", "r", "s");
        let a = key("A");
        let b = key("B");
        let _ = key("A"); // A is now more recent than B
        let _c = key("C"); // evicts B
        assert!(
            Arc::ptr_eq(&a, &key("A")),
            "A was used recently and must stay"
        );
        assert!(
            !Arc::ptr_eq(&b, &key("B")),
            "B was least recently used and must go"
        );
        assert_eq!(cache.len(), 2);
    }
}
