#!/usr/bin/env bash
# Simulated events per second: natively (the server's replay, the DST suite) and in the browser
# bundle (static/sim, in Node's V8), for the same workload, in the same run. Medians of 3.
#
#   bash tests/bench/sim.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

cargo test --release -p broker --test sim_bench -- --ignored --nocapture 2>/dev/null | grep '^native:'
node tests/bench/sim-node.mjs
