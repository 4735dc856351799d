"""Fixtures of the Kafka client compatibility suite.

`broker`: a real `streamlab broker` ($STREAMLAB_BIN, default target/release/streamlab) on a free
127.0.0.1 port with a fresh data dir, stopped (SIGTERM, then SIGKILL) after the test; its log is
attached to the report of a failing test. `broker.restart()` restarts it on the same port and
data dir.

`server`: `streamlab serve` the same way, for tests that stop and start brokers through the lab
API (`server.stop_broker(id)`, `server.start_broker(id)`, `server.cluster()`); extra command-line
arguments come from @pytest.mark.server_args(...).

Every test is bounded: SIGALRM fails it after its time limit (60 s, or @pytest.mark.time_limit(S)),
and a faulthandler watchdog dumps all threads and exits 30 s later if even that does not end it.
"""

from __future__ import annotations

import atexit
import faulthandler
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TIME_LIMIT = 60.0
ANSI = re.compile(r"\x1b\[[0-9;]*m")

_live: set[subprocess.Popen] = set()


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_live):
        if proc.poll() is None:
            proc.kill()


def streamlab_bin() -> Path:
    return (REPO_ROOT / os.environ.get("STREAMLAB_BIN", "target/release/streamlab")).resolve()


def free_port(count: int = 3) -> int:
    """A port that was free a moment ago, with the `count - 1` after it free too: broker i of
    the cluster listens on the port + (i - 1)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count > 65535:
            continue
        try:
            for offset in range(1, count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
    raise RuntimeError(f"no {count} consecutive free ports")


class BrokerError(Exception):
    pass


class Broker:
    """One `streamlab broker` process (restartable on the same port and data dir)."""

    def __init__(self, data_dir: Path, log_path: Path, port: int | None = None, extra_args=()):
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.exit_codes: list[int | None] = []

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def args(self) -> list[str]:
        return [str(streamlab_bin()), "broker", "--kafka", self.bootstrap,
                "--data-dir", str(self.data_dir), *self.extra_args]

    def log(self) -> str:
        try:
            return ANSI.sub("", self.log_path.read_text(errors="replace"))
        except FileNotFoundError:
            return "(no log)"

    def start(self, timeout: float = 20.0) -> "Broker":
        if self.proc is not None and self.proc.poll() is None:
            raise BrokerError("already running")
        binary = streamlab_bin()
        if not binary.exists():
            raise BrokerError(f"{binary} does not exist: build it with `cargo build --release -p server` "
                              "or set STREAMLAB_BIN")
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n---- start #{self.starts}: {' '.join(self.args)}\n".encode())
            log.flush()
            env = {**os.environ, "NO_COLOR": "1"}
            env.setdefault("RUST_LOG", "info")
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT)
        _live.add(self.proc)
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                _live.discard(self.proc)
                raise BrokerError(f"the broker exited with {code} before accepting connections\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise BrokerError(f"the broker did not accept connections within {timeout} s\n{self.log()}")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code (None when not running)."""
        proc = self.proc
        if proc is None:
            return None
        self.proc = None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        _live.discard(proc)
        self.exit_codes.append(proc.returncode)
        return proc.returncode

    def kill(self) -> None:
        """SIGKILL (a crash: nothing gets flushed on the way out)."""
        proc = self.proc
        if proc is None:
            return
        self.proc = None
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        _live.discard(proc)
        self.exit_codes.append(proc.returncode)

    def restart(self, crash: bool = False) -> "Broker":
        """Stop cleanly (or SIGKILL with crash=True) and start again on the same port and data dir."""
        if crash:
            self.kill()
        else:
            code = self.stop()
            if code != 0:
                raise BrokerError(f"the broker exited with {code} on SIGTERM\n{self.log()}")
        for attempt in range(50):
            try:
                return self.start()
            except BrokerError as err:
                if "Address already in use" not in str(err) or attempt == 49:
                    raise
                time.sleep(0.1)
        raise AssertionError("unreachable")


class Server(Broker):
    """`streamlab serve`: the embedded cluster plus the web server, whose lab API stops (a crash)
    and starts brokers. `bootstrap` lists every broker, so that a client started while broker 1
    is stopped still finds the cluster."""

    def __init__(self, data_dir: Path, log_path: Path, brokers: int = 3, extra_args=()):
        super().__init__(data_dir, log_path, port=free_port(brokers), extra_args=extra_args)
        self.brokers = brokers
        self.http_port = free_port(1)
        # free_port() only checked the brokers' ports: keep the web server out of their range.
        while self.port <= self.http_port < self.port + brokers:
            self.http_port = free_port(1)

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.port + i}" for i in range(self.brokers))

    @property
    def args(self) -> list[str]:
        return [str(streamlab_bin()), "serve", "--http", f"127.0.0.1:{self.http_port}",
                "--kafka", f"127.0.0.1:{self.port}", "--brokers", str(self.brokers),
                "--data-dir", str(self.data_dir), *self.extra_args]

    def start(self, timeout: float = 30.0) -> "Server":
        """Ready when every broker is live (registered and unfenced): a topic with replication
        factor 3 cannot be created before that."""
        super().start(timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                status = self.cluster()
                if sum(b["live"] for b in status["brokers"]) == self.brokers:
                    return self
            except (OSError, ValueError, KeyError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BrokerError(f"the cluster did not have {self.brokers} live brokers within {timeout} s\n"
                                  f"{self.log()}")
            time.sleep(0.1)

    def api(self, method: str, path: str):
        """(HTTP status, JSON body) of a lab API call."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", method=method)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as err:
            return err.code, json.load(err)

    def cluster(self) -> dict:
        """`GET /api/cluster`: nodes, and every partition's leader, epoch, replicas, ISR, offline replicas."""
        status, body = self.api("GET", "/api/cluster")
        assert status == 200, f"GET /api/cluster: {status} {body}"
        return body

    def partition(self, topic: str, partition: int = 0) -> dict | None:
        for p in self.cluster()["partitions"]:
            if (p["topic"], p["partition"]) == (topic, partition):
                return p
        return None

    def stop_broker(self, node_id: int) -> None:
        """A crash of one broker: its tasks end at once and its connections close."""
        status, body = self.api("POST", f"/api/cluster/brokers/{node_id}/stop")
        assert status == 200, f"stopping broker {node_id}: {status} {body}"

    def start_broker(self, node_id: int) -> None:
        """The broker recovers from its data directory and rejoins."""
        status, body = self.api("POST", f"/api/cluster/brokers/{node_id}/start")
        assert status == 200, f"starting broker {node_id}: {status} {body}"


@pytest.fixture
def server(request, tmp_path):
    marker = request.node.get_closest_marker("server_args")
    s = Server(tmp_path / "data", tmp_path / "server.log", extra_args=marker.args if marker else ()).start()
    try:
        yield s
    finally:
        code = s.stop()
        request.node.add_report_section("teardown", "server log", s.log()[-20_000:])
        if code not in (None, 0):
            pytest.fail(f"streamlab serve exited with {code} on SIGTERM (see the server log)")


@pytest.fixture
def broker(request, tmp_path):
    b = Broker(tmp_path / "data", tmp_path / "broker.log").start()
    try:
        yield b
    finally:
        code = b.stop()
        request.node.add_report_section("teardown", "broker log", b.log()[-20_000:])
        if code not in (None, 0):
            # A broker that cannot stop cleanly on SIGTERM is a bug worth a red test.
            pytest.fail(f"the broker exited with {code} on SIGTERM (see the broker log)")


@pytest.fixture
def topic_name(request):
    """A unique topic name per call: t-<test name>-<n>-<random>."""
    base = re.sub(r"[^a-zA-Z0-9]+", "-", request.node.name).strip("-")[:60]
    counter = iter(range(1, 10_000))

    def make(suffix: str = "") -> str:
        name = f"t-{base}-{next(counter)}-{os.urandom(3).hex()}"
        return f"{name}-{suffix}" if suffix else name

    return make


# --- time limits ----------------------------------------------------------------------------------

def pytest_configure(config):
    config.addinivalue_line("markers", "time_limit(seconds): the test's time limit (default 60 s)")
    config.addinivalue_line("markers", "server_args(*args): extra arguments of the `server` fixture's streamlab serve")


class TestTimeLimitExceeded(Exception):
    __test__ = False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    marker = item.get_closest_marker("time_limit")
    limit = float(marker.args[0]) if marker else float(os.environ.get("STREAMLAB_TEST_TIME_LIMIT", DEFAULT_TIME_LIMIT))

    def on_alarm(signum, frame):
        raise TestTimeLimitExceeded(f"{item.nodeid} ran past its time limit of {limit:.0f} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    # Backstop for a test stuck in C code that never returns to Python: dump every thread, exit.
    faulthandler.dump_traceback_later(limit + 30, exit=True, file=sys.stderr)
    try:
        return (yield)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        faulthandler.cancel_dump_traceback_later()
