//! A set of packet identifiers as a sorted `Vec`: the few a session holds at a time (QoS 2
//! messages between PUBREC and PUBREL, at most the receive maximum) need no B-tree, whose
//! code for one more key type costs the page about 5 KB of wasm.

/// Packet identifiers, each at most once, each with the digest ([`digest`]) of the message
/// it was taken for, when known.
#[derive(Debug, Clone, Default)]
pub(super) struct PacketIdSet(Vec<(u16, Option<u64>)>);

impl PacketIdSet {
    /// Adds `id`; false if it was already there (as `BTreeSet::insert`).
    pub(super) fn insert(&mut self, id: u16) -> bool {
        self.insert_with(id, None)
    }

    /// Adds `id`, taken for a message whose [`digest`] is `digest`; false (and nothing
    /// changed) if it was already there.
    pub(super) fn insert_with(&mut self, id: u16, digest: Option<u64>) -> bool {
        match self.0.binary_search_by_key(&id, |(i, _)| *i) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, (id, digest));
                true
            }
        }
    }

    /// The digest of the message `id` was taken for: `None` if `id` is not there, `Some(None)`
    /// if it was added without one.
    pub(super) fn digest(&self, id: u16) -> Option<Option<u64>> {
        let at = self.0.binary_search_by_key(&id, |(i, _)| *i).ok()?;
        Some(self.0[at].1)
    }

    /// Removes `id`; false if it was not there (as `BTreeSet::remove`).
    pub(super) fn remove(&mut self, id: &u16) -> bool {
        match self.0.binary_search_by_key(id, |(i, _)| *i) {
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

/// A 64-bit FNV-1a digest of a PUBLISH's topic and payload: tells a QoS 2 message sent again
/// (the same) from a new one under the same packet id. Not cryptographic: a broker that reused
/// an id for a message with the same topic and payload would be taken as re-sending it.
pub(super) fn digest(topic: &str, payload: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = topic.bytes().chain([0xff]).chain(payload.iter().copied());
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
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
        assert_eq!(
            ids.0.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [1, 3, 65535]
        );
        ids.clear();
        assert_eq!(ids.len(), 0);
        assert!(ids.insert(3), "gone after clear");
    }
}
