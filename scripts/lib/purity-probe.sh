#!/usr/bin/env bash
# The core's purity, checked by the compiler and clippy rather than by scanning text:
#  1. eda-core's dependency tree, native and wasm32, holds no browser crate
#     (web-sys, js-sys, gloo, yew, wasm-bindgen);
#  2. clippy refuses a clock read added to the core: with the `purity-probe` feature the core
#     compiles core/src/purity_probe.rs (an aliased `Instant::now`, a `SystemTime::now`), and
#     clippy must fail naming each.
# Exit status 0 when both hold.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

status=0
for target in "" "--target wasm32-unknown-unknown"; do
  # shellcheck disable=SC2086
  tree="$(cargo tree -p eda-core -e normal --prefix none $target 2>&1)" || {
    echo "cargo tree failed: $tree"
    exit 1
  }
  found="$(grep -E '^(web-sys|js-sys|gloo[a-z-]*|yew[a-z-]*|wasm-bindgen[a-z-]*) ' <<<"$tree" | sort -u)"
  if [[ -n "$found" ]]; then
    echo "FAIL: eda-core depends on browser crates (${target:-native}):"
    echo "$found"
    status=1
  else
    echo "ok: eda-core's dependency tree (${target:-native}) holds no browser crate ($(wc -l <<<"$tree") lines)"
  fi
done

out="$(cargo clippy -p eda-core --features purity-probe --lib -- -D warnings 2>&1)"
if [[ $? -eq 0 ]]; then
  echo "FAIL: clippy accepted clock reads in the core"
  status=1
fi
for refused in 'std::time::Instant::now' 'std::time::SystemTime::now'; do
  if grep -q "disallowed method \`$refused\`" <<<"$out"; then
    echo "ok: clippy refuses $refused in the core"
  else
    echo "FAIL: clippy did not name $refused; it printed:"
    echo "$out" | tail -20
    status=1
  fi
done
exit $status
