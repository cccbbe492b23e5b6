//! The action index: which statements can match a requested action. Exact action
//! names go in a hash map (keys lowercased; the request's action is lowercased into a
//! stack buffer, so lookups do not allocate), `service:pattern` statements in a
//! per-service list, and everything else (`*`, `NotAction`, wildcard services) in one
//! list always looked at. Each statement sits in exactly one of the three places for a
//! given action, so no statement is looked at twice.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::action::ActionPattern;
use crate::policy::CStatement;

/// A small fast hasher for short ASCII keys (FxHash's multiply-rotate). The keys are
/// action names from policies, not attacker-chosen in bulk, so no DoS resistance is
/// needed.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(SEED);
        }
        for b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(SEED);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Keyed by lowercased bytes: a lookup lowercases the action into a stack
/// buffer and needs no UTF-8 check to look it up.
type FxMap<V> = HashMap<Box<[u8]>, V, BuildHasherDefault<FxHasher>>;

/// Candidate statements per action. `T` names a statement (an index, or a
/// (policy, statement) pair in a policy set).
#[derive(Debug, Clone)]
pub(crate) struct ActionIndex<T> {
    exact: FxMap<Vec<T>>,
    service: FxMap<Vec<T>>,
    global: Vec<T>,
}

impl<T> Default for ActionIndex<T> {
    fn default() -> Self {
        Self {
            exact: FxMap::default(),
            service: FxMap::default(),
            global: Vec::new(),
        }
    }
}

/// Where the candidates of one lookup come from: `exact` ones are known to match the
/// action; the others still need the action check.
pub(crate) struct Candidates<'a, T> {
    pub exact: &'a [T],
    pub others: [&'a [T]; 2],
}

impl<T: Copy> ActionIndex<T> {
    pub(crate) fn insert(&mut self, s: &CStatement, t: T) {
        let actions = s.actions();
        if s.actions_negated()
            || actions
                .iter()
                .any(|a| matches!(a, ActionPattern::Any | ActionPattern::Whole(_)))
        {
            self.global.push(t);
            return;
        }
        // Patterns are stored lowercased, and came from `&str`: valid UTF-8.
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let services: HashSet<String> = actions
            .iter()
            .filter_map(|a| match a {
                ActionPattern::Service { service, .. }
                | ActionPattern::ServicePrefix { service, .. } => Some(text(service)),
                _ => None,
            })
            .collect();
        let keys: HashSet<String> = actions
            .iter()
            .filter_map(|a| match a {
                ActionPattern::Exact { service, name } if !services.contains(&text(service)) => {
                    Some(format!("{}:{}", text(service), text(name)))
                }
                _ => None,
            })
            .collect();
        for k in keys {
            self.exact
                .entry(k.into_bytes().into_boxed_slice())
                .or_default()
                .push(t);
        }
        for sv in services {
            self.service
                .entry(sv.into_bytes().into_boxed_slice())
                .or_default()
                .push(t);
        }
    }

    /// Puts the statements for which `first` holds at the front of every list, keeping
    /// their order otherwise (the authorizer puts denies first: a matching deny ends
    /// the evaluation, and allows after the first per policy type are skipped).
    pub(crate) fn prioritize(&mut self, first: impl Fn(&T) -> bool) {
        let lists = self
            .exact
            .values_mut()
            .chain(self.service.values_mut())
            .chain([&mut self.global]);
        for list in lists {
            list.sort_by_key(|t| !first(t));
        }
    }

    /// The statements that can match `action`.
    pub(crate) fn lookup(&self, action: &str) -> Candidates<'_, T> {
        let mut buf = [0u8; 128];
        let owned;
        let lower: &[u8] = match buf.get_mut(..action.len()) {
            Some(b) => {
                b.copy_from_slice(action.as_bytes());
                b.make_ascii_lowercase();
                b
            }
            None => {
                owned = action.to_ascii_lowercase();
                owned.as_bytes()
            }
        };
        let service = lower
            .iter()
            .position(|&b| b == b':')
            .and_then(|i| lower.get(..i))
            .unwrap_or_default();
        Candidates {
            exact: self.exact.get(lower).map_or(&[], Vec::as_slice),
            others: [
                self.service.get(service).map_or(&[], Vec::as_slice),
                &self.global,
            ],
        }
    }
}
