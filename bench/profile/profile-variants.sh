#!/usr/bin/env bash
# Builds the page's .wasm under variations of [profile.release] (through CARGO_PROFILE_RELEASE_*
# environment variables, Cargo.toml untouched) and prints raw and gzip -9 bytes of each, after
# the same wasm-bindgen + wasm-opt -Oz steps Trunk runs (verified: the baseline gives the same
# byte count as `trunk build --release`).
#
#   bench/profile/profile-variants.sh [variant …]     # default: all of them
#   variants: base opt-s opt-3 lto-thin lto-off cgu16 unwind
#
# Each variant has its own target dir under ${EDA_VARIANT_TARGETS:-/tmp/eda-variants}
# (a full release build each: a few minutes on two cores). wasm-opt comes from node_modules.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export PATH=$PWD/node_modules/.bin:$PATH
root=${EDA_VARIANT_TARGETS:-/tmp/eda-variants}
variants=("$@")
[[ ${#variants[@]} -gt 0 ]] || variants=(base opt-s opt-3 lto-thin lto-off cgu16 unwind)
for v in "${variants[@]}"; do
  env=()
  case $v in
    base) ;;
    opt-s) env=(CARGO_PROFILE_RELEASE_OPT_LEVEL=s) ;;
    opt-3) env=(CARGO_PROFILE_RELEASE_OPT_LEVEL=3) ;;
    lto-thin) env=(CARGO_PROFILE_RELEASE_LTO=thin) ;;
    lto-off) env=(CARGO_PROFILE_RELEASE_LTO=off) ;;
    cgu16) env=(CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16) ;;
    unwind) env=(CARGO_PROFILE_RELEASE_PANIC=unwind) ;;
    *) echo "unknown variant $v" >&2; exit 2 ;;
  esac
  dir=$root/$v
  mkdir -p "$dir/out"
  start=$(date +%s)
  env "${env[@]}" CARGO_TARGET_DIR="$dir/target" cargo build --release --quiet \
    --target wasm32-unknown-unknown -p frontend --bin eda-playground
  wasm-bindgen --target web --no-typescript --out-dir "$dir/out" --out-name app \
    "$dir/target/wasm32-unknown-unknown/release/eda-playground.wasm"
  wasm-opt -Oz "$dir/out/app_bg.wasm" -o "$dir/out/app_oz.wasm"
  printf '%-9s %s  bindgen %9d B (gz %7d)  -Oz %9d B (gz -9 %7d)  js gz %6d  %ss\n' "$v" "${env[*]:-default}" \
    "$(wc -c <"$dir/out/app_bg.wasm")" "$(gzip -9 <"$dir/out/app_bg.wasm" | wc -c)" \
    "$(wc -c <"$dir/out/app_oz.wasm")" "$(gzip -9 <"$dir/out/app_oz.wasm" | wc -c)" \
    "$(gzip -9 <"$dir/out/app.js" | wc -c)" "$(($(date +%s) - start))"
done
