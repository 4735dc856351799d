# shellcheck shell=bash
# Shared helpers for tests/run.sh and tests/bench/*.sh. Source it, don't run it:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Print a banner that is easy to spot in a long CI log.
sl_banner() {
    printf '\n==== %s ====\n' "$*"
}

# Print a message to stderr.
sl_log() {
    printf '%s\n' "$*" >&2
}

# Run a command as root: directly when we already are root, through sudo otherwise.
sl_as_root() {
    if [[ ${EUID:-$(id -u)} -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        sl_log "error: need root (or sudo) to run: $*"
        return 1
    fi
}

# True when the Debian package is installed.
sl_dpkg_installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

# Install the Debian packages that are missing, and only those.
# Each argument is PACKAGE or PACKAGE:COMMAND; with a COMMAND the package counts as present when
# the command is on PATH (even if it came from somewhere else), otherwise when dpkg says it is
# installed. `apt-get update` runs only when something has to be installed.
#   sl_ensure_apt chromium:chromium wrk:wrk kcat:kcat
sl_ensure_apt() {
    local spec pkg cmd
    local -a missing=()
    for spec in "$@"; do
        pkg=${spec%%:*}
        cmd=
        [[ $spec == *:* ]] && cmd=${spec#*:}
        if [[ -n $cmd ]] && command -v "$cmd" >/dev/null 2>&1; then
            continue
        fi
        if sl_dpkg_installed "$pkg"; then
            continue
        fi
        missing+=("$pkg")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        return 0
    fi
    sl_log "installing missing Debian packages: ${missing[*]}"
    sl_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sl_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Print a free TCP port on 127.0.0.1 (the kernel picks it; there is a small race until it is used).
sl_free_port() {
    python3 - <<'PY' 2>/dev/null && return 0
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
    # Fallback without python: a random port in the ephemeral range that nothing listens on.
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# The Python venv with the Kafka clients (tests/clients/requirements.txt), at tests/.venv.
# Created when missing, reinstalled when the requirements change (stamp file); prints its path.
#   venv=$(sl_ensure_python_venv)
sl_ensure_python_venv() {
    local venv=tests/.venv requirements=tests/clients/requirements.txt
    local stamp=$venv/.streamlab-requirements-stamp want
    want="$(sha256sum "$requirements" | cut -d' ' -f1) $(python3 --version 2>&1)"
    if [[ -x $venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
        echo "$venv"
        return 0
    fi
    if ! python3 -m venv --help >/dev/null 2>&1; then
        sl_ensure_apt python3-venv >&2
    fi
    sl_log "creating the Python venv $venv from $requirements"
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" >&2
    printf '%s\n' "$want" >"$stamp"
    echo "$venv"
}

# `npm ci` in DIR when its node_modules is missing or package-lock.json / the node version changed
# (stamp file in node_modules, like the browser tests' step in tests/run.sh).
#   sl_ensure_npm_ci tests/clients/js
sl_ensure_npm_ci() {
    local dir=$1
    local stamp=$dir/node_modules/.streamlab-npm-stamp want
    want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1) node-$(node --version)"
    if [[ -d $dir/node_modules && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
        echo "up to date (package-lock.json unchanged)"
        return 0
    fi
    (cd "$dir" && npm ci --no-audit --no-fund)
    printf '%s\n' "$want" >"$stamp"
}

# Print the first of COUNT consecutive free TCP ports on 127.0.0.1 (broker i of the embedded
# cluster listens on the --kafka port + (i - 1)); a small race until they are used, as above.
#   port=$(sl_free_ports 3)
sl_free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
count = int(sys.argv[1])
for _ in range(100):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        base = s.getsockname()[1]
    try:
        for offset in range(1, count):
            with socket.socket() as s:
                s.bind(("127.0.0.1", base + offset))
    except OSError:
        continue
    if base + count <= 65536:
        print(base)
        sys.exit(0)
sys.exit(1)
PY
}

# Start a streamlab command in the background (output to LOG) and wait until PORT accepts
# connections; sets sl_streamlab_pid. Stop it with sl_stop_streamlab (an EXIT trap is the place).
#   sl_start_streamlab "$bin" "$tmp/log" "$port" broker --kafka "127.0.0.1:$port" --data-dir "$tmp/data"
sl_streamlab_pid=
sl_start_streamlab() {
    local bin=$1 log=$2 port=$3
    shift 3
    "$bin" "$@" >"$log" 2>&1 &
    sl_streamlab_pid=$!
    for _ in $(seq 1 300); do
        if ! kill -0 "$sl_streamlab_pid" 2>/dev/null; then break; fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    sl_log "error: streamlab $1 did not accept connections on 127.0.0.1:$port within 30 s; its output:"
    cat "$log" >&2
    return 1
}

# The streamlab binary a benchmark runs: $STREAMLAB_BIN as it is, else the release build,
# (re)built first (cargo's output goes to stderr, the path to stdout).
sl_streamlab_bin() {
    if [[ -n ${STREAMLAB_BIN:-} ]]; then
        echo "$STREAMLAB_BIN"
    else
        cargo build --release -p server >&2 || return 1
        echo "${CARGO_TARGET_DIR:-target}/release/streamlab"
    fi
}

# SIGTERM the process sl_start_streamlab started, SIGKILL after 10 s; a no-op when none runs.
sl_stop_streamlab() {
    local pid=$sl_streamlab_pid
    [[ -n $pid ]] || return 0
    sl_streamlab_pid=
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        sl_log "note: streamlab did not exit within 10 s of SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}
