#!/usr/bin/env bash
# Fuzz the broker's request path (broker/fuzz/fuzz_targets/request_path.rs) with libFuzzer.
#
#   bash tests/fuzz.sh                 # 10 minutes
#   FUZZ_SECONDS=3600 bash tests/fuzz.sh
#
# cargo-fuzz needs nightly-only compiler flags (-Zsanitizer); the project pins one stable
# toolchain, so this sets RUSTC_BOOTSTRAP=1 for the fuzz build only. New interesting inputs are
# added to broker/fuzz/corpus/request_path/ (commit them: they are the regression seeds); a crash
# leaves its input in broker/fuzz/artifacts/ and fails the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${FUZZ_SECONDS:-600}
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --version 0.13.2 --locked
fi
cd broker
RUSTC_BOOTSTRAP=1 cargo fuzz run request_path fuzz/corpus/request_path -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -print_final_stats=1
