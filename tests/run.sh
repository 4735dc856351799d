#!/usr/bin/env bash
# The test command of Streamlab: `bash tests/run.sh` (CI runs it through .ci/run).
#
# Works on a fresh Debian clone with only the Rust toolchain: it installs what is missing
# (Debian packages, the browser tests' npm packages) and skips that work on a re-run.
# Steps, in order: system packages, the browser tests' npm packages, no merge markers, front-end
# format and lint (Biome), Kafka client setup, rustfmt, clippy, the broker core's wasm32 build, the
# simulator bundle's freshness, Rust tests, release build, deterministic simulation (release),
# browser tests, Kafka client tests, benchmark smoke, the hostile suite's quick run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=tests/lib.sh
. tests/lib.sh

start_seconds=$SECONDS
current_step="setup"
on_exit() {
    local status=$?
    local elapsed=$((SECONDS - start_seconds))
    if [[ $status -eq 0 ]]; then
        printf '\n==== tests/run.sh: all steps passed in %dm%02ds ====\n' $((elapsed / 60)) $((elapsed % 60))
    else
        printf '\n==== tests/run.sh: FAILED at step "%s" (exit %d) after %dm%02ds ====\n' \
            "$current_step" "$status" $((elapsed / 60)) $((elapsed % 60))
    fi
}
trap on_exit EXIT

step() {
    current_step=$1
    sl_banner "$1"
}

# --- System packages --------------------------------------------------------------------------
step "system packages"
# chromium: the browser tests drive Debian's /usr/bin/chromium through playwright-core.
# (Later: kcat for the Kafka client tests, wrk for tests/bench/.)
sl_ensure_apt chromium:chromium
echo "ok"

# --- Browser test dependencies ----------------------------------------------------------------
step "npm ci (tests/browser)"
browser_dir=tests/browser
stamp=$browser_dir/node_modules/.streamlab-npm-stamp
want_stamp="$(sha256sum "$browser_dir/package-lock.json" | cut -d' ' -f1) node-$(node --version)"
if [[ -d $browser_dir/node_modules && -f $stamp && "$(cat "$stamp")" == "$want_stamp" ]]; then
    echo "up to date (package-lock.json unchanged)"
else
    (cd "$browser_dir" && npm ci --no-audit --no-fund)
    printf '%s\n' "$want_stamp" >"$stamp"
fi

# --- Merge markers ------------------------------------------------------------------------------
# A leftover conflict marker breaks a file quietly (in CSS it drops the rule that follows it), so
# no tracked file may carry one. Markdown is exempt: `=======` underlines a setext heading there.
step "no merge markers in tracked files"
if git grep -nE '^(<<<<<<<|=======|>>>>>>>)( |$)' -- ':!*.md'; then
    echo "merge markers found (above)" >&2
    exit 1
fi
echo "ok"

# --- Front end ----------------------------------------------------------------------------------
# Biome (pinned in tests/browser/package.json, configured by tests/browser/biome.json) formats and
# lints the page scripts, the stylesheet and the browser tests: `biome check --write` fixes most.
step "front-end format and lint (biome ci: static/*.js, static/*.css, tests/browser)"
(cd "$browser_dir" && node_modules/.bin/biome ci --colors=off ../../static/*.js ../../static/*.css .)

# --- Python venv / Kafka clients ---------------------------------------------------------------
# The Kafka client compatibility suite (tests/clients/) runs after the release build: kcat (Debian),
# confluent-kafka + kafka-python + pytest in tests/.venv (tests/clients/requirements.txt), kafkajs
# and its codecs in tests/clients/js (npm ci; zstd-napi is built from source once, then stamped).
step "Kafka clients: kcat, tests/.venv, npm ci (tests/clients/js)"
sl_ensure_apt kcat:kcat
venv=$(sl_ensure_python_venv)
echo "venv: $venv ($("$venv/bin/python" -c 'import confluent_kafka, kafka; print("confluent-kafka", confluent_kafka.__version__, "librdkafka", confluent_kafka.libversion()[0], "kafka-python", kafka.__version__)'))"
sl_ensure_npm_ci tests/clients/js

# --- Rust --------------------------------------------------------------------------------------
step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# The broker's sans-IO core must stay free of tokio, sockets, clocks and C code: it will run in
# the browser. Building it for wasm32 with the runtime feature off proves that on every run.
step "broker core builds for wasm32-unknown-unknown"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
cargo build -p broker --no-default-features --target wasm32-unknown-unknown

# static/sim/ (the simulator's wasm + JS, embedded by `cargo run --release`) is committed; it must
# be what wasm-sim builds to today. The first run installs the pinned wasm-bindgen CLI into
# target/tools/ (a few minutes); later runs reuse it.
step "simulator bundle is up to date (bash wasm-sim/build.sh --check)"
bash wasm-sim/build.sh --check

if cargo nextest --version >/dev/null 2>&1; then
    step "cargo nextest run --workspace"
    cargo nextest run --workspace --no-tests=warn
    step "cargo test --workspace --doc"
    cargo test --workspace --doc
else
    step "cargo test --workspace"
    cargo test --workspace
fi

step "cargo build --release -p server"
cargo build --release -p server

# Deterministic simulation testing: random clusters, faults and actions with invariant checkers
# (broker/tests/sim_dst.rs). The debug run above was a short smoke; this is the real one, in
# release. A failure prints the seed that reproduces it.
step "deterministic simulation: 2000 seeds (cargo test --release -p broker --test sim_dst)"
STREAMLAB_DST_SEEDS=2000 cargo test --release -p broker --test sim_dst -- --nocapture 2>&1 | grep -v '^running\|^$'

# --- Browser tests -----------------------------------------------------------------------------
step "browser tests (node --test tests/browser)"
# Relative paths are taken from the repo root; honours CARGO_TARGET_DIR.
export STREAMLAB_BIN=${STREAMLAB_BIN:-${CARGO_TARGET_DIR:-target}/release/streamlab}
(cd "$browser_dir" && node --test)

# --- Kafka client compatibility tests ------------------------------------------------------------
# Real clients against `streamlab broker` (each test starts its own on a free port): kcat,
# confluent-kafka and kafka-python under pytest, kafkajs under node --test. Both halves run even if
# the first fails, so one CI log shows every client's state.
step "Kafka client tests (pytest tests/clients, node --test tests/clients/js)"
clients_failed=0
"$venv/bin/python" -m pytest tests/clients --durations=5 || clients_failed=1
(cd tests/clients/js && node --test) || clients_failed=1
[[ $clients_failed -eq 0 ]]

# --- Benchmark smoke ------------------------------------------------------------------------------
# The benchmarks print figures and never judge them; this only proves that each still runs, at a
# size that takes a few seconds (the real runs: bash tests/bench/<name>.sh).
step "benchmark smoke (tests/bench: memory, kcat, failover)"
BENCH_IDLE=1 bash tests/bench/memory.sh
BENCH_RECORDS=20000 BENCH_RUNS=1 bash tests/bench/kcat.sh
BENCH_STOPS=1 BENCH_SESSION_TIMEOUT_MS=1000 bash tests/bench/failover.sh

# --- Hostile suite (quick) ---------------------------------------------------------------------------
# Issue 11's attacks, fewer and smaller (the full run: bash tests/hostile/run.sh). It fails on what
# must never happen (a malformed batch accepted, the process dead, a failed restart, an acknowledged
# record lost, a page or kcat -L probe with no answer in 10 s); RSS and latency are only printed.
step "hostile suite, quick (HOSTILE_QUICK=1 bash tests/hostile/run.sh)"
HOSTILE_QUICK=1 bash tests/hostile/run.sh

current_step="done"
