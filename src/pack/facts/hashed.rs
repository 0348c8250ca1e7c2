//! Items keyed by a 128-bit hash, sorted once and then looked up through a bucket index on
//! the top bits of the hash.
//!
//! A binary search over a million sorted hashes (16 MB and more) misses the cache on most of
//! its twenty steps; the bucket of a hash holds a handful of items, so a look-up touches two
//! or three cache lines. The index costs a `usize` per four items at most, and a filter of
//! about a byte per item answers most look-ups of hashes that are not there at once.

/// An item with the hash it is looked up by.
pub trait Hashed {
    fn hash(&self) -> u128;
}

impl Hashed for u128 {
    fn hash(&self) -> u128 {
        *self
    }
}

/// Items sorted by their hash after [`SortedHashes::finish`]; until then a look-up finds
/// nothing reliable, so every owner finishes before it looks up.
#[derive(Debug)]
pub struct SortedHashes<T> {
    items: Vec<T>,
    /// `starts[b]`: the first item whose hash's top `bits` bits are `b` or more (one more
    /// entry than buckets); empty until finished.
    starts: Vec<usize>,
    bits: u32,
    /// A bit for every eight items (a power of two of them), set for the low bits of each
    /// item's hash: a hash whose bit is clear is in no bucket. Most look-ups of a person's
    /// consents by username find nothing, and this answers them from 1 MB per million items
    /// instead of two cache misses in the index and the items. Empty until finished.
    filter: Vec<u64>,
}

impl<T> Default for SortedHashes<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            starts: Vec::new(),
            bits: 0,
            filter: Vec::new(),
        }
    }
}

/// The most bits a bucket index uses: 2^22 buckets (32 MB of index) hold 16 million items.
const MAX_BITS: u32 = 22;

impl<T: Hashed + Send> SortedHashes<T> {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn push(&mut self, item: T) {
        self.starts.clear();
        self.filter.clear();
        self.items.push(item);
    }

    /// The items (sorted by hash once finished).
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// Makes room for `n` more items, exactly.
    pub fn reserve(&mut self, n: usize) {
        self.items.reserve_exact(n);
    }

    /// How many items there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// How many more items fit without growing.
    pub fn room(&self) -> usize {
        self.items.capacity() - self.items.len()
    }

    /// Takes the items out, leaving the table empty (to merge them into another table).
    pub fn take(&mut self) -> Vec<T> {
        self.starts.clear();
        self.filter.clear();
        std::mem::take(&mut self.items)
    }

    /// Sorts the items by hash (in place: a stable sort would need half their size again;
    /// items of one hash come in any order) and builds the bucket index.
    pub fn finish(&mut self) {
        use rayon::prelude::*;
        self.items.par_sort_unstable_by_key(Hashed::hash);
        self.index();
    }

    /// Sorts the items and keeps one of each hash.
    pub fn finish_distinct(&mut self) {
        use rayon::prelude::*;
        self.items.par_sort_unstable_by_key(Hashed::hash);
        self.items.dedup_by_key(|item| item.hash());
        self.index();
    }

    /// Sorts the items and keeps one of each hash that occurs more than once, dropping the
    /// rest and the room they took: what remains answers "is this hash repeated?" in a
    /// table that fits the cache (a million identities take 16 MB; their duplicates, few).
    pub fn finish_repeated(&mut self) {
        use rayon::prelude::*;
        self.items.par_sort_unstable_by_key(Hashed::hash);
        let mut kept = 0;
        let mut at = 0;
        while at < self.items.len() {
            let hash = self.items.get(at).map(Hashed::hash);
            let run = self
                .items
                .get(at..)
                .unwrap_or_default()
                .iter()
                .take_while(|item| Some(item.hash()) == hash)
                .count();
            if run > 1 {
                self.items.swap(kept, at);
                kept += 1;
            }
            at += run;
        }
        self.items.truncate(kept);
        self.items.shrink_to_fit();
        self.index();
    }

    fn index(&mut self) {
        // About four items per bucket: log2(len / 4), at least 0.
        let n = self.items.len();
        self.bits = (usize::BITS - (n / 4).leading_zeros()).min(MAX_BITS);
        let buckets = 1usize << self.bits;
        self.starts = Vec::with_capacity(buckets + 1);
        let mut at = 0;
        for b in 0..buckets {
            while self
                .items
                .get(at)
                .is_some_and(|item| self.bucket(item.hash()) < b)
            {
                at += 1;
            }
            self.starts.push(at);
        }
        self.starts.push(n);
        let words = (n / 8).next_power_of_two();
        self.filter = vec![0; words];
        for item in &self.items {
            let (word, bit) = filter_bit(item.hash(), words);
            if let Some(w) = self.filter.get_mut(word) {
                *w |= bit;
            }
        }
    }

    /// Whether an item may have the hash `hash` (never false for one that has; always
    /// false before [`SortedHashes::finish`]).
    fn may_contain(&self, hash: u128) -> bool {
        let (word, bit) = filter_bit(hash, self.filter.len());
        self.filter.get(word).is_some_and(|w| w & bit != 0)
    }

    fn bucket(&self, hash: u128) -> usize {
        match self.bits {
            0 => 0,
            bits => usize::try_from(hash >> (128 - bits)).unwrap_or(usize::MAX),
        }
    }

    /// The items whose hash is `hash`: none before [`SortedHashes::finish`], and none after
    /// items are added until it is called again.
    pub fn equal(&self, hash: u128) -> &[T] {
        if !self.may_contain(hash) {
            return &[];
        }
        let b = self.bucket(hash);
        let (Some(&lo), Some(&hi)) = (self.starts.get(b), self.starts.get(b + 1)) else {
            return &[];
        };
        let bucket = self.items.get(lo..hi).unwrap_or_default();
        let start = bucket.partition_point(|item| item.hash() < hash);
        let rest = bucket.get(start..).unwrap_or_default();
        let len = rest.iter().take_while(|item| item.hash() == hash).count();
        rest.get(..len).unwrap_or_default()
    }

    /// Whether an item has the hash `hash`.
    pub fn contains(&self, hash: u128) -> bool {
        !self.equal(hash).is_empty()
    }

    /// Brings the memory that look-ups of `hashes` touch into the cache, all of them at once:
    /// first every bucket's start, then every bucket's first item. The loads of one round do
    /// not depend on each other, so their cache misses overlap instead of stalling one after
    /// the other as in [`SortedHashes::equal`] (a table of a million items is far larger
    /// than the cache, and each look-up misses it twice). Finds nothing; the look-ups that
    /// follow find what they would have found.
    pub fn warm(&self, hashes: &[u128]) {
        if self.starts.is_empty() {
            return;
        }
        let mut sum = 0u128;
        // Only hashes the filter lets through are looked up further.
        let mut wanted = hashes.iter().filter(|h| self.may_contain(**h));
        loop {
            let mut at = [0usize; WARM_AT_ONCE];
            let mut n = 0;
            for (slot, hash) in at.iter_mut().zip(wanted.by_ref()) {
                *slot = self.starts.get(self.bucket(*hash)).copied().unwrap_or(0);
                n += 1;
            }
            for start in at.iter().take(n) {
                sum ^= self.items.get(*start).map_or(0, Hashed::hash);
            }
            if n < WARM_AT_ONCE {
                break;
            }
        }
        std::hint::black_box(sum);
    }
}

/// The word of a filter of `words` words (a power of two) and the bit in it that stand for
/// `hash`: its low bits (the bucket index takes the top ones).
fn filter_bit(hash: u128, words: usize) -> (usize, u64) {
    let low = usize::try_from(hash & u128::from(u32::MAX)).unwrap_or(0);
    ((low >> 6) & words.saturating_sub(1), 1u64 << (low & 63))
}

/// Look-ups warmed together by [`SortedHashes::warm`] (about as many misses as a core keeps
/// in flight).
const WARM_AT_ONCE: usize = 16;

impl<T> Extend<T> for SortedHashes<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.starts.clear();
        self.filter.clear();
        self.items.extend(iter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nothing_is_found_before_finishing_or_in_an_empty_table() {
        let mut t = SortedHashes::<u128>::default();
        assert!(t.equal(7).is_empty());
        t.push(7);
        assert!(t.equal(7).is_empty(), "looked up before finish");
        t.finish();
        assert_eq!(t.equal(7), &[7]);
        t.push(8);
        assert!(t.equal(7).is_empty(), "a pushed item unsorts the table");
        t.finish();
        t.extend([7]);
        assert!(t.equal(7).is_empty(), "more items unsort the table");
        t.finish();
        assert_eq!(t.equal(7), &[7, 7]);
        assert_eq!(t.items.len(), 3);
    }

    #[test]
    fn repeated_keeps_one_of_each_hash_seen_twice() {
        let mut t = SortedHashes::<u128>::default();
        t.extend([5, 9, 5, 1, 9, 9, 7, u128::MAX, u128::MAX]);
        t.finish_repeated();
        assert_eq!(t.items, vec![5, 9, u128::MAX]);
        for (hash, repeated) in [
            (5, true),
            (9, true),
            (u128::MAX, true),
            (1, false),
            (7, false),
        ] {
            assert_eq!(t.contains(hash), repeated, "hash {hash}");
        }
        let mut none = SortedHashes::<u128>::default();
        none.extend([3, 2, 1]);
        none.finish_repeated();
        assert!(none.is_empty() && !none.contains(2));
    }

    #[test]
    fn the_filter_passes_every_item_and_few_others() {
        use crate::record::hash128;
        let mut t = SortedHashes::default();
        t.extend((0..10_000).map(|i| hash128(format!("P{i}"))));
        t.finish();
        assert!((0..10_000).all(|i| t.may_contain(hash128(format!("P{i}")))));
        let passed = (0..10_000)
            .filter(|i| t.may_contain(hash128(format!("user{i}"))))
            .count();
        // Eight bits an item, one set each: about one in nine absent hashes passes.
        assert!(passed < 2_000, "{passed} of 10,000 absent hashes passed");
        t.push(1);
        assert!(
            !t.may_contain(hash128("P1")),
            "an unsorted table filters everything"
        );
    }

    proptest! {
        /// A table finished for repeats contains exactly the hashes a scan finds more than
        /// once.
        #[test]
        fn repeated_hashes_are_those_a_scan_finds_twice(
            items in proptest::collection::vec(0u128..60, 0..300),
        ) {
            let mut t = SortedHashes::default();
            t.extend(items.iter().copied());
            t.finish_repeated();
            for probe in 0u128..61 {
                let seen = items.iter().filter(|h| **h == probe).count();
                prop_assert_eq!(t.contains(probe), seen > 1, "hash {}", probe);
                prop_assert!(t.equal(probe).len() <= 1);
            }
        }

        /// Every look-up finds exactly the items a linear scan finds, with hashes spread
        /// over the whole range and clustered in one bucket.
        #[test]
        fn lookups_find_what_a_scan_finds(
            spread in proptest::collection::vec(any::<u128>(), 0..300),
            clustered in proptest::collection::vec(0u128..40, 0..300),
            distinct in proptest::bool::ANY,
        ) {
            for items in [spread, clustered] {
                let mut t = SortedHashes::default();
                t.extend(items.iter().copied());
                if distinct { t.finish_distinct() } else { t.finish() }
                for probe in items.iter().copied().chain([0, 1, 39, u128::MAX, u128::MAX / 3]) {
                    let expected = match items.iter().filter(|h| **h == probe).count() {
                        n if distinct => n.min(1),
                        n => n,
                    };
                    let found = t.equal(probe);
                    prop_assert_eq!(found.len(), expected, "hash {}", probe);
                    prop_assert!(found.iter().all(|h| *h == probe));
                    prop_assert_eq!(t.contains(probe), expected > 0);
                }
            }
        }
    }
}
