//! A fast, unkeyed hasher for maps whose keys come from configuration or are capped, looked up
//! on a per-message path: the trap DB's OID tables (a lookup per variable, several per climb
//! to the nearest object) and the trap counters' capped label maps. SipHash, std's default, is
//! keyed against hash flooding, which matters only where a sender can insert keys without a
//! bound; those maps keep it.
//!
//! The mixing: each word is xored in and the state multiplied by an odd constant, which
//! carries every bit upwards only; `finish` mixes the result down again, because hashbrown
//! picks the bucket from the low bits.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// See the module doc.
#[derive(Clone, Copy, Default)]
pub struct FastHasher(u64);

/// An odd constant with well-spread bits (the golden ratio's, 2^64 / φ, made odd).
const K: u64 = 0x9e37_79b9_7f4a_7c15;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            // the length keeps "ab" and "ab\0" apart
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, v: u8) {
        self.add(u64::from(v));
    }

    #[inline]
    fn write_u16(&mut self, v: u16) {
        self.add(u64::from(v));
    }

    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.add(u64::from(v));
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }

    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }

    /// MurmurHash3's 64-bit finaliser: every input bit reaches the low bits hashbrown uses.
    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::hash::{BuildHasher, Hash};

    fn hash<T: Hash + ?Sized>(v: &T) -> u64 {
        BuildHasherDefault::<FastHasher>::default().hash_one(v)
    }

    #[test]
    fn oid_prefixes_and_byte_strings_hash_apart() {
        // every prefix of a long OID, and its neighbours, as the trap DB climbs them
        let arcs: Vec<u32> = vec![1, 3, 6, 1, 4, 1, 9, 9, 41, 2, 0, 1, 7, 300, 65_535];
        let mut seen = HashSet::new();
        for len in 1..=arcs.len() {
            assert!(seen.insert(hash(&arcs[..len])));
            let mut next = arcs[..len].to_vec();
            *next.last_mut().unwrap() += 1;
            assert!(seen.insert(hash(&next[..])));
        }
        assert_ne!(hash(b"ab".as_slice()), hash(b"ab\0".as_slice()));
        assert_ne!(hash("a"), hash("b"));
    }

    #[test]
    fn spreads_small_keys_over_the_low_bits() {
        // hashbrown takes the bucket from the low bits: sequential keys must not share them
        let buckets: HashSet<u64> = (0u32..1024)
            .map(|i| hash(&[1, 3, 6, i][..]) & 1023)
            .collect();
        assert!(buckets.len() > 600, "{} of 1024 buckets", buckets.len());
    }

    #[test]
    fn a_map_works_as_usual() {
        let mut m: FastMap<Box<[u32]>, &str> = FastMap::default();
        m.insert(vec![1, 3, 6].into(), "a");
        m.insert(vec![1, 3, 7].into(), "b");
        assert_eq!(m.get(&[1u32, 3, 6][..]), Some(&"a"));
        assert_eq!(m.get(&[1u32, 3][..]), None);
    }
}
