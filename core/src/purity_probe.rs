//! Clock reads the core must not make, compiled only with the `purity-probe` feature so that
//! `scripts/lib/purity-probe.sh` can show clippy refusing each (`clippy.toml`). A read hidden
//! behind an alias is refused too: clippy resolves the path, it does not scan the text.

use std::time::Instant as I;

/// Reads the monotonic clock through an alias.
pub fn aliased_instant() -> std::time::Duration {
    I::now().elapsed()
}

/// Reads the wall clock.
pub fn system_time() -> bool {
    std::time::SystemTime::now() > std::time::UNIX_EPOCH
}
