//! A service's bounded memory: the newest entries by key, the oldest forgotten first, so a
//! long-running page holds a fixed amount whatever arrives.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// How many orders a service remembers.
pub const ORDERS_REMEMBERED: usize = 10_000;

/// The newest `capacity` entries by key; inserting past it forgets the oldest.
#[derive(Debug, Clone)]
pub struct Recent<K, V> {
    entries: HashMap<K, V>,
    order: VecDeque<K>,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> Recent<K, V> {
    /// An empty memory of at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        Recent {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Remembers `value` under `key`, replacing what was there (which keeps its place).
    pub fn insert(&mut self, key: K, value: V) {
        if self.entries.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
            if self.order.len() > self.capacity {
                if let Some(old) = self.order.pop_front() {
                    self.entries.remove(&old);
                }
            }
        }
    }

    /// What is remembered under `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    /// What is remembered under `key`, to change it.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.entries.get_mut(key)
    }

    /// Forgets what is remembered under `key`, and returns it.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let value = self.entries.remove(key)?;
        self.order.retain(|k| k != key);
        Some(value)
    }

    /// Whether anything is remembered under `key`.
    pub fn contains(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_is_forgotten_first_and_a_replacement_keeps_its_place() {
        let mut memory = Recent::new(2);
        memory.insert(1, "a");
        memory.insert(2, "b");
        memory.insert(1, "a2");
        memory.insert(3, "c");
        assert_eq!(
            (memory.get(&1), memory.get(&2), memory.get(&3)),
            (None, Some(&"b"), Some(&"c"))
        );
        assert_eq!(memory.entries.len(), 2);
        if let Some(v) = memory.get_mut(&2) {
            *v = "b2";
        }
        assert!(memory.contains(&2) && memory.get(&2) == Some(&"b2"));
    }
}
