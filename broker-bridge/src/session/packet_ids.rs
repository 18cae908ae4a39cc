//! A set of packet identifiers as a sorted `Vec`: the few a session holds at a time (QoS 2
//! messages between PUBREC and PUBREL, at most the receive maximum) need no B-tree, whose
//! code for one more key type costs the page about 5 KB of wasm.

/// Packet identifiers, each at most once.
#[derive(Debug, Clone, Default)]
pub(super) struct PacketIdSet(Vec<u16>);

impl PacketIdSet {
    /// Adds `id`; false if it was already there (as `BTreeSet::insert`).
    pub(super) fn insert(&mut self, id: u16) -> bool {
        match self.0.binary_search(&id) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, id);
                true
            }
        }
    }

    /// Removes `id`; false if it was not there (as `BTreeSet::remove`).
    pub(super) fn remove(&mut self, id: &u16) -> bool {
        match self.0.binary_search(id) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::PacketIdSet;

    #[test]
    fn behaves_as_a_set() {
        let mut ids = PacketIdSet::default();
        assert!(ids.insert(7) && ids.insert(3) && ids.insert(65535) && ids.insert(1));
        assert!(!ids.insert(3), "already there");
        assert_eq!(ids.len(), 4);
        assert!(ids.remove(&7) && !ids.remove(&7) && !ids.remove(&2));
        assert_eq!(ids.0, [1, 3, 65535]);
        ids.clear();
        assert_eq!(ids.len(), 0);
        assert!(ids.insert(3), "gone after clear");
    }
}
