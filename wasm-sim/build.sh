#!/usr/bin/env bash
# Builds the in-browser simulator bundle, static/sim/, from the wasm-sim crate.
#
#   bash wasm-sim/build.sh           # build and (re)write static/sim/simulator.js + simulator_bg.wasm
#   bash wasm-sim/build.sh --check   # build into a temporary directory and fail if static/sim differs
#                                    # (tests/run.sh runs this, so a stale bundle fails CI)
#
# static/sim/ is committed: `cargo run --release` embeds it (rust-embed, like the rest of static/),
# so a fresh clone serves the simulator without any wasm tooling. After changing wasm-sim (or the
# broker core it uses), run this script and commit static/sim.
#
# Steps (the rustwasm book's "without a bundler" flow; STYLE.md section 9):
#   1. wasm-bindgen-cli, the exact version of the `wasm-bindgen = "=X"` pin in the root Cargo.toml
#      (CLI and library must match exactly), installed once with `cargo install --locked` into
#      target/tools/wasm-bindgen-X/ and reused after that (the first run takes a few minutes).
#      Bump both by editing that one line and running this script.
#   2. cargo build -p wasm-sim --target wasm32-unknown-unknown --profile wasm-release, with every
#      absolute path of this machine (repo, target dir, cargo registry, toolchain) remapped so the
#      .wasm is byte-for-byte the same on any machine; the script fails if one is left.
#   3. wasm-bindgen --target web --no-typescript --out-name simulator: an ES module the page imports
#      directly, plus the .wasm it fetches (without the name and producers sections; the profile
#      keeps them because `strip = true` would also drop the target_features wasm-bindgen reads).
#   4. Raw and gzipped sizes of both files; fails if the gzipped total is over 250 kB (1 kB = 1000
#      bytes), the product's budget for the simulator download.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

out_dir=static/sim
max_gzip_bytes=250000
wasm_target=wasm32-unknown-unknown
profile=wasm-release

check=false
case "${1:-}" in
    "") ;;
    --check) check=true ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "usage: bash wasm-sim/build.sh [--check]" >&2
        exit 2
        ;;
esac

# --- 1. The wasm-bindgen CLI, the same version as the library ----------------------------------
# The one place the version is written: the workspace dependency in the root Cargo.toml.
version=$(sed -n 's/^wasm-bindgen = "=\([0-9][0-9.]*\)".*/\1/p' Cargo.toml)
if [[ ! $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo 'error: no exact pin wasm-bindgen = "=X.Y.Z" in the root Cargo.toml' >&2
    exit 1
fi
tool_root=$repo/target/tools/wasm-bindgen-$version
wasm_bindgen=$tool_root/bin/wasm-bindgen
if [[ "$("$wasm_bindgen" --version 2>/dev/null)" != "wasm-bindgen $version" ]]; then
    echo "installing wasm-bindgen-cli $version into ${tool_root#"$repo"/} (once; a few minutes)"
    # Only the `wasm-bindgen` binary, without the test runner's TLS stack (rustls, ring's C code):
    # the features change how wasm-bindgen-test-runner downloads webdrivers, not the bindings.
    install=(cargo install --quiet --force wasm-bindgen-cli --version "$version" --no-default-features
        --bin wasm-bindgen --root "$tool_root")
    if ! "${install[@]}" --locked; then
        # A registry mirror may lack a version the CLI's Cargo.lock names. The build then takes the
        # newest compatible dependencies instead (the CLI pins its own wasm-bindgen crates with
        # `=`), and --check below still compares the result with the committed bundle byte for byte.
        echo "warning: cargo install --locked failed; retrying without --locked" >&2
        "${install[@]}"
    fi
fi

# --- 2. The wasm module ---------------------------------------------------------------------------
# rust-toolchain.toml lists the target, so rustup normally installs it with the toolchain.
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed 2>/dev/null | grep -qx "$wasm_target"; then
    rustup target add "$wasm_target"
fi

target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
cargo_home=${CARGO_HOME:-${HOME:-}/.cargo}
cargo_home=$(cd "$cargo_home" 2>/dev/null && pwd -P || echo "$cargo_home")
sysroot=$(rustc --print sysroot)
# rustc applies the last matching prefix, so the more specific ones come after the repo.
remaps=(
    "$repo=."
    "$(cd "$repo" && pwd -P)=."
    "$target_dir=/target"
    "$cargo_home/registry/src=/cargo/registry/src"
    "$cargo_home/git/checkouts=/cargo/git/checkouts"
    "$sysroot=/rustc/sysroot"
)
flags=()
for remap in "${remaps[@]}"; do
    flags+=("--remap-path-prefix=$remap")
done
# CARGO_ENCODED_RUSTFLAGS (0x1f-separated) survives spaces in paths and overrides any RUSTFLAGS
# or build.rustflags of the caller's environment, which would change the output.
CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f' && echo "${flags[*]}")
export CARGO_ENCODED_RUSTFLAGS
unset RUSTFLAGS
cargo build --quiet --locked -p wasm-sim --target "$wasm_target" --profile "$profile"
module=$target_dir/$wasm_target/$profile/wasm_sim.wasm

# --- 3. The JS bindings ---------------------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$wasm_bindgen" --target web --no-typescript --remove-name-section --remove-producers-section \
    --out-dir "$tmp/sim" --out-name simulator "$module"

# Nothing of this machine may remain: no home, no checkout, no target dir, no temporary dir.
leaks=()
for path in /root/ /home/ /work/ /tmp/ /Users/ "${HOME:-}" "$repo" "$cargo_home" "$target_dir"; do
    [[ ${#path} -gt 1 ]] || continue
    for file in "$tmp"/sim/*; do
        if LC_ALL=C grep -qaF -- "$path" "$file"; then
            leaks+=("${file##*/}: $path")
        fi
    done
done
if ((${#leaks[@]})); then
    printf 'error: the bundle contains paths of this machine:\n' >&2
    printf '  %s\n' "${leaks[@]}" >&2
    exit 1
fi

# --- 4. Sizes and the budget ------------------------------------------------------------------------
total_gzip=0
for file in simulator_bg.wasm simulator.js; do
    raw=$(wc -c <"$tmp/sim/$file")
    gz=$(gzip -9 -n -c "$tmp/sim/$file" | wc -c)
    total_gzip=$((total_gzip + gz))
    printf '%-18s %8d bytes raw, %8d bytes gzipped\n' "$file" "$raw" "$gz"
done
printf 'total gzipped: %d.%d kB (budget %d kB)\n' $((total_gzip / 1000)) $((total_gzip % 1000 / 100)) $((max_gzip_bytes / 1000))
if ((total_gzip > max_gzip_bytes)); then
    echo "error: the simulator bundle is over its budget of $((max_gzip_bytes / 1000)) kB gzipped" >&2
    exit 1
fi

# --- Check or write -------------------------------------------------------------------------------
if $check; then
    if ! diff -rq "$tmp/sim" "$out_dir" >"$tmp/diff" 2>&1; then
        sed "s|$tmp/sim|(fresh build)|g" "$tmp/diff" >&2
        echo "static/sim is stale: run bash wasm-sim/build.sh and commit static/sim" >&2
        exit 1
    fi
    echo "static/sim is up to date"
else
    rm -rf "$out_dir"
    mkdir -p "$(dirname "$out_dir")"
    cp -R "$tmp/sim" "$out_dir"
    echo "wrote $out_dir/"
fi
