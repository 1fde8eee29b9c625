//! Duplicate detection: property keys, array indices, and SameValueZero for Map keys and Set
//! values.

use super::*;

/// Duplicate detection: a linear scan while small, a hash set beyond.
// Boxed so open frames stay small (they are moved on every push and pop); rare anyway.
#[allow(clippy::box_collection)]
pub(super) struct Seen<T: Hash + Eq>(Option<Box<HashSet<T>>>);

impl<T: Hash + Eq + Clone> Seen<T> {
    pub(super) fn new() -> Self {
        Seen(None)
    }
    /// True if `key` was new. `existing` are the keys so far, for the linear phase.
    pub(super) fn insert<'k>(
        &mut self,
        key: &T,
        existing: impl ExactSizeIterator<Item = &'k T>,
    ) -> bool
    where
        T: 'k,
    {
        if let Some(set) = &mut self.0 {
            return set.insert(key.clone());
        }
        if existing.len() < 16 {
            let mut existing = existing;
            return !existing.any(|k| k == key);
        }
        let mut set: HashSet<T> = existing.cloned().collect();
        let fresh = set.insert(key.clone());
        self.0 = Some(Box::new(set));
        fresh
    }
}

/// SameValueZero identity of a Map key or Set value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) enum Svz {
    Undefined,
    Null,
    Bool(bool),
    Number(u64),
    BigInt(JsBigInt),
    String(JsString),
    Object(ObjectId),
}

pub(super) fn svz(v: &Value) -> Svz {
    match v {
        Value::Undefined => Svz::Undefined,
        Value::Null => Svz::Null,
        Value::Bool(b) => Svz::Bool(*b),
        Value::Number(n) => Svz::Number(if *n == 0.0 {
            0
        } else {
            canonical(*n).to_bits()
        }),
        Value::BigInt(b) => Svz::BigInt(b.clone()),
        Value::String(s) => Svz::String(s.clone()),
        Value::Object(id) => Svz::Object(*id),
    }
}

/// SameValueZero duplicate detection for Map keys and Set values: a scan while small, a hash
/// map (built once) beyond. Returns the position of the earlier equal entry, if any; otherwise
/// records `v` as the entry at position `existing.len()`.
#[allow(clippy::box_collection)]
pub(super) fn earlier<'v>(
    seen: &mut Option<Box<HashMap<Svz, usize>>>,
    existing: impl ExactSizeIterator<Item = &'v Value>,
    v: &Value,
) -> Option<usize> {
    let n = existing.len();
    if let Some(map) = seen {
        return match map.entry(svz(v)) {
            Entry::Occupied(e) => Some(*e.get()),
            Entry::Vacant(e) => {
                e.insert(n);
                None
            }
        };
    }
    let key = svz(v);
    if n < 16 {
        let mut existing = existing;
        return existing.position(|x| svz(x) == key);
    }
    let mut map: HashMap<Svz, usize> = existing.enumerate().map(|(i, x)| (svz(x), i)).collect();
    let found = map.get(&key).copied();
    if found.is_none() {
        map.insert(key, n);
    }
    *seen = Some(Box::new(map));
    found
}
