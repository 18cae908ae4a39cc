//! Replays the decoder fuzz target's corpus (`fuzz/corpus/decoder/`) and a seed of every packet
//! kind through the same code the fuzzer runs: what once made it fail stays fixed.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

use broker_bridge::fuzzing::exercise;

#[test]
fn the_committed_corpus_replays_without_a_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decoder");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the corpus folder exists") {
        let path = entry.unwrap().path();
        exercise(&std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(
        count >= 14,
        "expected at least the 14 seed inputs in {}",
        dir.display()
    );
}
