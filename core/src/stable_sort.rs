//! One stable sort for the whole crate.
//!
//! `slice::sort_by_key` is generic over the element and the key: each call site compiles its own
//! copy of the standard library's sort (about 3.5 KB of wasm each, fifteen of them in the page).
//! Here every call shares one: the indices are sorted through a `dyn` comparison, then the
//! elements are moved into place. Same result as `sort_by_key` / `sort_by` (stable: equal keys
//! keep their order), at the price of an indirect call per comparison.

use std::cmp::Ordering;

/// Sorts `items` by `key`, keeping the order of equal keys (as `slice::sort_by_key`).
pub fn by_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    by(items, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `items` by `compare`, keeping the order of equal elements (as `slice::sort_by`).
pub fn by<T>(items: &mut [T], compare: impl Fn(&T, &T) -> Ordering) {
    let order = sorted_indices(items.len(), &|a, b| compare(&items[a], &items[b]));
    permute(items, order);
}

/// `0..len` sorted stably by `compare`: the one instantiation of the standard library's sort.
#[inline(never)]
fn sorted_indices(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| compare(a, b));
    order
}

/// Puts at position `i` the element that was at `order[i]` (the standard library's
/// `sort_by_cached_key` does the same): each swap settles one position, following the chain of
/// moves when the wanted element has already left.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for i in 0..order.len() {
        let mut from = order[i];
        while from < i {
            from = order[from];
        }
        order[i] = from;
        items.swap(i, from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_the_standard_library_and_keeps_ties_in_order() {
        // Pairs (key, original position): a stable sort by key keeps positions increasing.
        let mut seed = 7u32;
        for len in [0usize, 1, 2, 3, 5, 8, 20, 33, 100, 257] {
            let items: Vec<(u32, usize)> = (0..len)
                .map(|i| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    ((seed >> 16) % 7, i)
                })
                .collect();
            let mut ours = items.clone();
            by_key(&mut ours, |&(k, _)| k);
            let mut std = items.clone();
            std.sort_by_key(|&(k, _)| k);
            assert_eq!(ours, std, "len {len}");
            let mut reversed = items;
            by(&mut reversed, |a, b| b.0.cmp(&a.0));
            let mut expected = std.clone();
            expected.sort_by_key(|b| std::cmp::Reverse(b.0));
            assert_eq!(reversed, expected, "len {len}, reversed");
        }
    }

    #[test]
    fn moves_owned_elements_without_losing_any() {
        let mut words: Vec<String> = ["pear", "fig", "apple", "kiwi", "date", "plum"]
            .map(String::from)
            .to_vec();
        by_key(&mut words, |w| w.len());
        assert_eq!(words, ["fig", "pear", "kiwi", "date", "plum", "apple"]);
    }
}
