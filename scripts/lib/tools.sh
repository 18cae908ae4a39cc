# shellcheck shell=bash
# Tool installation helpers, sourced by scripts/play, scripts/test and scripts/bench.
#
# Every ensure_* function installs what is missing and skips what is present, printing one
# line either way. They are safe under `set -euo pipefail` and work from any cwd: paths are
# taken relative to the repository root ($EDA_ROOT), found from this file's location.
#
# Pinned versions, and why:
#   - trunk 0.21.14 (0.22 needs a newer rustc than the one we support)
#   - wasm-bindgen-cli: exactly the `wasm-bindgen = "=X"` pin of the workspace Cargo.toml
#   - wasm-opt: npm's binaryen (package.json), Debian's is too old to read current wasm

EDA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export EDA_ROOT

EDA_TRUNK_VERSION=0.21.14
EDA_WASM_TARGET=wasm32-unknown-unknown

# cargo-installed tools live in ~/.cargo/bin; Debian puts mosquitto in /usr/sbin, which is not
# on a normal user's PATH.
_eda_path_prepend() {
  case ":$PATH:" in
    *":$1:"*) ;;
    *) PATH="$1:$PATH" ;;
  esac
}
_eda_path_append() {
  case ":$PATH:" in
    *":$1:"*) ;;
    *) PATH="$PATH:$1" ;;
  esac
}
_eda_path_prepend "${CARGO_HOME:-$HOME/.cargo}/bin"
_eda_path_append /usr/sbin
export PATH

say() { printf '%s\n' "$*"; }
ok() { printf '✓ %s\n' "$*"; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

have_cmd() { command -v "$1" >/dev/null 2>&1; }

require_cmd() {
  have_cmd "$1" || die "'$1' not found. $2"
}

# ---------------------------------------------------------------------------------------------
# Rust

ensure_wasm_target() {
  require_cmd rustup "Install Rust with rustup (https://rustup.rs), then run this again."
  local installed
  installed="$(rustup target list --installed)"
  if grep -qx "$EDA_WASM_TARGET" <<<"$installed"; then
    ok "rust target $EDA_WASM_TARGET present"
  else
    say "adding rust target $EDA_WASM_TARGET…"
    rustup target add "$EDA_WASM_TARGET"
  fi
}

ensure_rust_components() {
  require_cmd rustup "Install Rust with rustup (https://rustup.rs), then run this again."
  if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
    ok "rustfmt and clippy present"
  else
    say "adding rustup components rustfmt and clippy…"
    rustup component add rustfmt clippy
  fi
}

# The second word of `<tool> --version`, or nothing if the tool is missing.
_eda_tool_version() {
  local out
  have_cmd "$1" || return 0
  out="$("$1" --version 2>/dev/null || true)"
  read -r _ out _ <<<"$out" || true
  printf '%s' "$out"
}

ensure_trunk() {
  local have
  have="$(_eda_tool_version trunk)"
  if [[ $have == "$EDA_TRUNK_VERSION" ]]; then
    ok "trunk $EDA_TRUNK_VERSION present"
  else
    [[ -n $have ]] && say "found trunk $have, the project needs $EDA_TRUNK_VERSION"
    say "installing trunk $EDA_TRUNK_VERSION (about 12 min on 2 cores)…"
    cargo install trunk --version "$EDA_TRUNK_VERSION" --locked
  fi
}

# The exact wasm-bindgen version pinned in the workspace Cargo.toml (`wasm-bindgen = "=X"`).
wasm_bindgen_version() {
  local v
  v="$(sed -nE '/^[[:space:]]*wasm-bindgen[[:space:]]*=[[:space:]]*"=[^"]+"/{s/^[^"]*"=([^"]+)".*/\1/p;q;}' \
    "$EDA_ROOT/Cargo.toml")"
  [[ -n $v ]] || die "no line 'wasm-bindgen = \"=X\"' in $EDA_ROOT/Cargo.toml"
  printf '%s' "$v"
}

ensure_wasm_bindgen() {
  local want have
  want="$(wasm_bindgen_version)"
  have="$(_eda_tool_version wasm-bindgen)"
  if [[ $have == "$want" ]] && have_cmd wasm-bindgen-test-runner; then
    ok "wasm-bindgen-cli $want present"
  else
    [[ -n $have ]] && say "found wasm-bindgen $have, Cargo.toml pins $want"
    say "installing wasm-bindgen-cli $want (about 3 min on 2 cores)…"
    # No --locked: the crate's lockfile names a version the registry does not serve.
    cargo install wasm-bindgen-cli --version "=$want"
  fi
}

# ---------------------------------------------------------------------------------------------
# Node packages (wasm-opt for Trunk, the end-to-end suite)

_eda_npm_stamp() {
  cat "$EDA_ROOT/package.json" "$EDA_ROOT/package-lock.json" | sha256sum | cut -d' ' -f1
}

ensure_npm_packages() {
  require_cmd node "Install Node.js 20 or newer (https://nodejs.org), then run this again."
  require_cmd npm "Install npm (it comes with Node.js 20 or newer), then run this again."
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  ((major >= 20)) || die "Node.js $(node --version) is too old: the tools need Node.js 20 or newer."

  local stamp_file="$EDA_ROOT/node_modules/.eda-stamp"
  if [[ -f $EDA_ROOT/package-lock.json && -f $stamp_file && "$(<"$stamp_file")" == "$(_eda_npm_stamp)" ]]; then
    ok "npm packages present (binaryen, playwright-core, mqtt, the OTLP reader)"
  else
    say "installing npm packages (binaryen, playwright-core, mqtt, the OTLP reader)…"
    if [[ -f $EDA_ROOT/package-lock.json ]]; then
      (cd "$EDA_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    else
      (cd "$EDA_ROOT" && npm install --no-audit --no-fund --loglevel=error)
    fi
    _eda_npm_stamp >"$stamp_file"
  fi
  # Trunk looks for wasm-opt on PATH.
  _eda_path_prepend "$EDA_ROOT/node_modules/.bin"
  export PATH
}

# ---------------------------------------------------------------------------------------------
# Debian packages

_eda_apt_updated=0

# Without dpkg, judge a package by a command it provides.
_eda_pkg_command() {
  case "$1" in
    mosquitto) echo mosquitto ;;
    mosquitto-clients) echo mosquitto_sub ;;
    chromium) echo chromium ;;
    chromium-driver) echo chromedriver ;;
    redis-server) echo redis-server ;;
    *) echo "$1" ;;
  esac
}

_eda_pkg_installed() {
  if have_cmd dpkg-query; then
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
  else
    have_cmd "$(_eda_pkg_command "$1")"
  fi
}

ensure_debian_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    _eda_pkg_installed "$pkg" || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    ok "packages present: $*"
    return 0
  fi
  if ! have_cmd apt-get; then
    die "missing packages: ${missing[*]}. Install them (Debian/Ubuntu names; e.g. 'apt-get install ${missing[*]}') and run this again."
  fi
  local sudo=()
  if ((EUID != 0)); then
    if have_cmd sudo; then
      sudo=(sudo)
    else
      die "missing packages: ${missing[*]}. As root, run: apt-get update && apt-get install -y ${missing[*]}"
    fi
  fi
  say "installing ${missing[*]} with apt-get…"
  if ((_eda_apt_updated == 0)); then
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update
    _eda_apt_updated=1
  fi
  # With recommends: Chromium needs its fonts and libraries to render pages headless.
  ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y "${missing[@]}"
}

# ---------------------------------------------------------------------------------------------
# The eda-bench crate's wasm for JavaScript: the benchmark's exports and JsClient, the binding
# the interoperability tests drive (bench/src/lib.rs)

# build_bench_pkg PROFILE OUT_DIR [CARGO_ARGS…]: builds eda-bench's cdylib for wasm32 (PROFILE
# `dev` or `release`, plus CARGO_ARGS, e.g. `--example client_only`) and writes wasm-bindgen's
# `--target web` output to OUT_DIR (emptied first): OUT_DIR/eda_bench.js and eda_bench_bg.wasm.
# Needs ensure_wasm_target and ensure_wasm_bindgen first.
build_bench_pkg() {
  local profile=$1 out=$2 dir
  shift 2
  case $profile in
    dev) dir=debug ;;
    release) dir=release ;;
    *) die "build_bench_pkg: profile must be dev or release, not '$profile'" ;;
  esac
  (cd "$EDA_ROOT" &&
    cargo build -p eda-bench --profile "$profile" --target "$EDA_WASM_TARGET" --lib "$@") || return
  rm -rf "$out"
  wasm-bindgen --target web --out-dir "$out" \
    "${CARGO_TARGET_DIR:-$EDA_ROOT/target}/$EDA_WASM_TARGET/$dir/eda_bench.wasm"
}

# ---------------------------------------------------------------------------------------------
# The development broker of scripts/play

# True if something accepts a TCP connection on host:port.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

EDA_PLAY_BROKER_PID=""
EDA_PLAY_BROKER_TCP_PORT=1883

# Starts Mosquitto with static/mosquitto.conf in the background, logging to
# target/mosquitto-play.log, and waits (at most ~10 s) until its websockets port 9001 accepts
# connections. Sets EDA_PLAY_BROKER_PID; stop it with stop_play_broker.
start_play_broker() {
  local conf="$EDA_ROOT/static/mosquitto.conf"
  local log="$EDA_ROOT/target/mosquitto-play.log"
  mkdir -p "$EDA_ROOT/target"
  require_cmd mosquitto "Install the Debian package 'mosquitto'."

  EDA_PLAY_BROKER_TCP_PORT=1883
  if port_open 127.0.0.1 1883; then
    # Typically the system's mosquitto service (Debian starts one on 127.0.0.1:1883 when the
    # package is installed). Keep the project's config but move its TCP listener.
    local alt=1884
    while port_open 127.0.0.1 "$alt" && ((alt < 1900)); do alt=$((alt + 1)); done
    say "port 1883 is taken (a system mosquitto service?); the play broker's TCP listener uses 127.0.0.1:$alt instead"
    conf="$EDA_ROOT/target/mosquitto-play.conf"
    sed -E "s/^listener[[:space:]]+1883([[:space:]].*)?$/listener $alt 127.0.0.1/" \
      "$EDA_ROOT/static/mosquitto.conf" >"$conf"
    EDA_PLAY_BROKER_TCP_PORT=$alt
  fi

  # static/mosquitto.conf persists sessions and retained messages here. Started as root,
  # Mosquitto writes as the mosquitto user, so the folder must be writable by it.
  mkdir -p "$EDA_ROOT/target/mosquitto-data"
  chmod 0777 "$EDA_ROOT/target/mosquitto-data"
  say "starting mosquitto -c ${conf#"$EDA_ROOT"/} (log: target/mosquitto-play.log)"
  # Mosquitto's stdout is block-buffered into a file; stdbuf makes the log appear line by line.
  local linebuf=()
  have_cmd stdbuf && linebuf=(stdbuf -oL -eL)
  ${linebuf[@]+"${linebuf[@]}"} mosquitto -c "$conf" >"$log" 2>&1 &
  EDA_PLAY_BROKER_PID=$!

  local tries=0
  until port_open 127.0.0.1 9001; do
    if ! kill -0 "$EDA_PLAY_BROKER_PID" 2>/dev/null; then
      wait "$EDA_PLAY_BROKER_PID" 2>/dev/null || true
      EDA_PLAY_BROKER_PID=""
      printf 'error: mosquitto exited during startup. Last lines of %s:\n' "$log" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    tries=$((tries + 1))
    if ((tries > 50)); then
      printf 'error: mosquitto did not listen on port 9001 within 10 s. Last lines of %s:\n' "$log" >&2
      tail -n 20 "$log" >&2
      stop_play_broker
      return 1
    fi
    sleep 0.2
  done
  ok "mosquitto listening: ws://localhost:9001 (websockets), 127.0.0.1:$EDA_PLAY_BROKER_TCP_PORT (tcp)"
}

stop_play_broker() {
  if [[ -n $EDA_PLAY_BROKER_PID ]]; then
    kill "$EDA_PLAY_BROKER_PID" 2>/dev/null || true
    wait "$EDA_PLAY_BROKER_PID" 2>/dev/null || true
    EDA_PLAY_BROKER_PID=""
  fi
}
