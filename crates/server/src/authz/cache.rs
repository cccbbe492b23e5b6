//! Caches that must never outlive a change: every entry remembers the
//! epoch it was built at and is ignored once the epoch has moved.
//!
//! The epoch moves when this node commits a change that can affect an
//! authorisation (see `request.rs`), when the store announces one, and when
//! another node's change is noticed; moving it drops every entry at once.
//! That is coarse, but it is obviously correct, and rebuilding one
//! principal's set costs one store read.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// A counter that moves whenever cached authorisation data may be stale.
#[derive(Debug, Default)]
pub struct Epoch(AtomicU64);

impl Epoch {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    pub fn advance(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// A bounded map whose entries are valid for one epoch.
///
/// Hashed with foldhash, seeded at random for each map: every request
/// looks up one to three of these, and SipHash cost a thousand
/// instructions of GetUser. Only entries that were found in the store are
/// inserted, so a client cannot fill a map with keys of its choosing.
#[derive(Debug)]
pub struct EpochCache<K, V> {
    entries: RwLock<HashMap<K, (u64, V), foldhash::fast::RandomState>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> EpochCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        EpochCache {
            entries: RwLock::new(HashMap::default()),
            capacity,
        }
    }

    pub fn get<Q>(&self, key: &Q, epoch: u64) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self.entries.read().ok()?;
        match entries.get(key) {
            Some((e, v)) if *e == epoch => Some(v.clone()),
            _ => None,
        }
    }

    /// Stores `value` as built at `epoch`. A full cache is emptied first:
    /// simpler than an LRU and, at this capacity, rare.
    pub fn insert(&self, key: K, value: V, epoch: u64) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= self.capacity {
                entries.retain(|_, (e, _)| *e == epoch);
                if entries.len() >= self.capacity {
                    entries.clear();
                }
            }
            entries.insert(key, (epoch, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_die_with_their_epoch() {
        let epoch = Epoch::default();
        let cache = EpochCache::new(4);
        cache.insert("a".to_string(), 1, epoch.current());
        assert_eq!(cache.get("a", epoch.current()), Some(1));
        epoch.advance();
        assert_eq!(cache.get("a", epoch.current()), None);
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = EpochCache::new(2);
        for i in 0..10 {
            cache.insert(i, i, 0);
        }
        assert!(cache.entries.read().unwrap().len() <= 2);
        assert_eq!(cache.get(&9, 0), Some(9));
    }
}
