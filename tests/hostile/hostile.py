#!/usr/bin/env python3
"""The hostile suite: attacks on `streamlab serve`, each class measured while it runs.

Driven by tests/hostile/run.sh (which finds the binary, kcat and the venv); alone:

    tests/.venv/bin/python tests/hostile/hostile.py --bin target/release/streamlab --tmp /tmp/x [--quick]

For each class of attack (tests/hostile/attacks.py) a monitor samples the server's RSS
(/proc/PID/status VmRSS) every 100 ms and, every ~200 ms, times a GET of the home page and a
`kcat -L -m 5` against broker 1. The table at the end gives per class: cases tried, functional
failures, peak RSS growth over the class's starting RSS, and the worst page and kcat -L
latencies, next to the targets of issue 11 (256 MB; 1 s; RSS under 100 MB within 60 s).

Exit status: non-zero on a functional failure only (a malformed batch accepted, the process dead,
a restart that fails, an acknowledged record lost or duplicated, a probe with no answer within
10 s). Latency and RSS figures are printed next to their targets, marked "over target" when
over, and never fail the run: timings belong in benchmarks.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

RSS_GROWTH_TARGET_MB = 256
LATENCY_TARGET_MS = 1000
RSS_SETTLED_TARGET_MB = 100
SETTLE_WAIT_S = 60
PROBE_GIVE_UP_S = 10


def log(message: str) -> None:
    print(message, flush=True)


def free_port_block(count: int) -> int:
    """The first of `count` consecutive free ports on 127.0.0.1 (a small race until used)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count > 65535:
            continue
        try:
            for offset in range(1, count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        return base
    raise RuntimeError("no free ports")


def raise_fd_limit() -> int:
    """Raises this process's open-files limit to its hard limit (the floods need thousands of
    sockets; the server, started from here, inherits it). Returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Server:
    """One `streamlab serve` process on free ports; kept ports across restarts."""

    def __init__(self, bin_path: str, data_dir: str, log_path: str, pid_file: str, extra: list[str] = ()):
        self.bin, self.data_dir, self.log_path, self.pid_file = bin_path, data_dir, log_path, pid_file
        self.extra = list(extra)
        self.kafka_port = free_port_block(3)
        self.http_port = free_port_block(1)
        while self.kafka_port <= self.http_port < self.kafka_port + 3:
            self.http_port = free_port_block(1)
        self.proc: subprocess.Popen | None = None
        self.nofile: int | None = None

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.kafka_port + i}" for i in range(3))

    @property
    def kafka(self) -> tuple[str, int]:
        return ("127.0.0.1", self.kafka_port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def args(self) -> list[str]:
        return [
            self.bin, "serve", "--http", f"127.0.0.1:{self.http_port}", "--kafka", f"127.0.0.1:{self.kafka_port}",
            "--data-dir", self.data_dir, *self.extra,
        ]

    def start(self, nofile: int | None = None, wait_s: float = 60) -> None:
        """Starts the process (under an open-files limit of `nofile` if given) and waits until
        both the site and broker 1 accept connections."""
        self.nofile = nofile

        def limit() -> None:
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        out = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        out.write(f"\n---- start: {' '.join(self.args())} (nofile {nofile or 'inherited'})\n".encode())
        out.flush()
        self.proc = subprocess.Popen(self.args(), stdout=out, stderr=subprocess.STDOUT, preexec_fn=limit)
        out.close()
        with open(self.pid_file, "a") as f:
            f.write(f"{self.proc.pid}\n")
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlab exited with {self.proc.returncode} at start; log: {self.log_path}")
            if self.accepts(self.http_port) and self.accepts(self.kafka_port):
                return
            time.sleep(0.1)
        raise RuntimeError(f"streamlab did not accept connections within {wait_s:g} s; log: {self.log_path}")

    @staticmethod
    def accepts(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self) -> int:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    def kill9(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def stop(self) -> None:
        if not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log("note: streamlab did not exit within 15 s of SIGTERM; SIGKILL")
            self.kill9()

    def exit_note(self) -> str:
        if self.proc is None or self.proc.poll() is None:
            return "running"
        code = self.proc.returncode
        return f"exited with signal {-code}" if code < 0 else f"exited with status {code}"


@dataclass
class Measures:
    """What a monitor saw."""

    rss_start_kib: int = 0
    rss_peak_kib: int = 0
    page_worst_ms: float = 0.0
    kcat_worst_ms: float = 0.0
    page_probes: int = 0
    kcat_probes: int = 0
    no_answer: list[str] = field(default_factory=list)

    def merge(self, other: Measures) -> None:
        if not self.rss_start_kib:
            self.rss_start_kib = other.rss_start_kib
        growth = max(self.rss_peak_kib - self.rss_start_kib, other.rss_peak_kib - other.rss_start_kib)
        self.rss_peak_kib = self.rss_start_kib + growth
        self.page_worst_ms = max(self.page_worst_ms, other.page_worst_ms)
        self.kcat_worst_ms = max(self.kcat_worst_ms, other.kcat_worst_ms)
        self.page_probes += other.page_probes
        self.kcat_probes += other.kcat_probes
        self.no_answer += other.no_answer


class Monitor:
    """Samples RSS every 100 ms and probes the page and `kcat -L` about every 200 ms, each in its
    own thread, until stopped. Use as a context manager around an attack."""

    def __init__(self, server: Server, kcat: str):
        self.server, self.kcat = server, kcat
        self.measures = Measures()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def __enter__(self) -> Monitor:
        rss = self.server.rss_kib()
        self.measures.rss_start_kib = self.measures.rss_peak_kib = rss
        for target in (self.sample_rss, self.probe_page, self.probe_kcat):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=PROBE_GIVE_UP_S + 5)

    def sample_rss(self) -> None:
        while not self.stopping.is_set():
            rss = self.server.rss_kib()
            with self.lock:
                self.measures.rss_peak_kib = max(self.measures.rss_peak_kib, rss)
            self.stopping.wait(0.1)

    def every(self, period_s: float, probe) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            probe()
            self.stopping.wait(max(0.0, period_s - (time.monotonic() - started)))

    def probe_page(self) -> None:
        def once() -> None:
            started = time.monotonic()
            try:
                with urllib.request.urlopen(self.server.base_url + "/", timeout=PROBE_GIVE_UP_S) as r:
                    r.read()
                failure = None
            except (OSError, urllib.error.URLError) as exc:
                failure = f"page GET / got no answer within {PROBE_GIVE_UP_S} s ({exc})"
            elapsed_ms = (time.monotonic() - started) * 1000
            with self.lock:
                self.measures.page_probes += 1
                self.measures.page_worst_ms = max(self.measures.page_worst_ms, elapsed_ms)
                if failure:
                    self.measures.no_answer.append(failure)

        self.every(0.2, once)

    def probe_kcat(self) -> None:
        def once() -> None:
            started = time.monotonic()
            command = [self.kcat, "-L", "-b", f"127.0.0.1:{self.server.kafka_port}", "-m", str(PROBE_GIVE_UP_S)]
            try:
                done = subprocess.run(command, capture_output=True, timeout=PROBE_GIVE_UP_S)
                last = (done.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
                failure = None if done.returncode == 0 else f"kcat -L: no metadata in {PROBE_GIVE_UP_S} s: {last[:150]}"
            except subprocess.TimeoutExpired:
                failure = f"kcat -L got no answer within {PROBE_GIVE_UP_S} s"
            elapsed_ms = (time.monotonic() - started) * 1000
            with self.lock:
                self.measures.kcat_probes += 1
                self.measures.kcat_worst_ms = max(self.measures.kcat_worst_ms, elapsed_ms)
                if failure:
                    self.measures.no_answer.append(failure)

        self.every(0.2, once)


@dataclass
class ClassResult:
    """One class of attack: its cases, functional failures and what the monitor saw."""

    name: str
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    measures: Measures = field(default_factory=Measures)
    notes: list[str] = field(default_factory=list)
    monitored: bool = False

    def case(self, ok: bool, failure: str = "") -> None:
        """Counts a case; a failed one with its reason."""
        self.cases += 1
        if not ok:
            self.fail(failure)

    def fail(self, failure: str) -> None:
        self.failures.append(failure)
        log(f"  FAILURE: {failure}")

    def note(self, message: str) -> None:
        self.notes.append(message)
        log(f"  {message}")

    def watch(self, monitor: Monitor) -> None:
        self.monitored = True
        self.measures.merge(monitor.measures)
        for failure in dict.fromkeys(monitor.measures.no_answer):
            self.fail(f"probe: {failure}")


class Suite:
    """What every class gets: the server, kcat, the options, and a monitor factory."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.quick = args.quick
        self.tmp = args.tmp
        self.kcat = args.kcat
        self.pid_file = os.path.join(args.tmp, "pids")
        self.results: list[ClassResult] = []
        self.server = self.new_server("main", args.server_args.split())

    def new_server(self, name: str, extra: list[str]) -> Server:
        data = os.path.join(self.tmp, name)
        return Server(self.args.bin, data, os.path.join(self.tmp, f"{name}.log"), self.pid_file, extra)

    def monitor(self, server: Server | None = None) -> Monitor:
        return Monitor(server or self.server, self.kcat)

    def scale(self, quick: int, full: int) -> int:
        return quick if self.quick else full


def mb(kib: int) -> float:
    return kib / 1024


def print_table(results: list[ClassResult], settled: str) -> None:
    log("")
    log("==== hostile suite: per class of attack ====")
    headers = ["class", "cases", "failures", "peak RSS growth MB", "worst page ms", "worst kcat -L ms"]
    rows = []
    for r in sorted(results, key=lambda r: int(r.name.split(".")[0])):
        m = r.measures
        if r.monitored:
            growth = mb(m.rss_peak_kib - m.rss_start_kib)
            growth_cell = f"{growth:.0f}" + (" OVER TARGET" if growth > RSS_GROWTH_TARGET_MB else "")
            page = f"{m.page_worst_ms:.0f}" + (" over target" if m.page_worst_ms > LATENCY_TARGET_MS else "")
            kcat = f"{m.kcat_worst_ms:.0f}" + (" over target" if m.kcat_worst_ms > LATENCY_TARGET_MS else "")
        else:
            growth_cell = page = kcat = "-"
        rows.append([r.name, str(r.cases), str(len(r.failures)), growth_cell, page, kcat])
    rows.append(["target", "", "0", f"<= {RSS_GROWTH_TARGET_MB}", f"<= {LATENCY_TARGET_MS}", f"<= {LATENCY_TARGET_MS}"])
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    log(line)
    log("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        log("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    log(settled)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the streamlab binary")
    ap.add_argument("--tmp", required=True, help="a scratch directory (data dirs, logs); the caller removes it")
    ap.add_argument("--kcat", default="kcat")
    ap.add_argument("--quick", action="store_true", help="fewer and smaller cases (the test command's run)")
    ap.add_argument("--only", default="", help="comma-separated class numbers to run (default: all)")
    ap.add_argument("--server-args", default="", help="extra flags for the main server (to reproduce a finding "
                    "with a limit changed), split on spaces")
    args = ap.parse_args()

    import attacks  # noqa: PLC0415 - beside this file; imported after argparse so --help works anywhere

    fd_limit = raise_fd_limit()
    suite = Suite(args)
    only = {int(n) for n in args.only.split(",") if n}
    started = time.monotonic()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    log(f"mode: {'quick' if args.quick else 'full'}; cpus: {os.cpu_count()}; open-files limit: {fd_limit}; "
        f"load average: {load}")
    suite.server.start()
    flags = f"flags: {args.server_args}" if args.server_args else "default flags"
    log(f"streamlab serve: pid {suite.server.pid}, site {suite.server.base_url}, brokers {suite.server.bootstrap}, "
        f"{flags}; idle RSS {mb(suite.server.rss_kib()):.0f} MB")

    settled = "RSS after the suite: not measured (the attacks on the main server did not run)"
    try:
        for number, title, run in attacks.ON_MAIN_SERVER:
            if only and number not in only:
                continue
            result = run_class(suite, number, title, run)
            if not suite.server.alive():
                result.fail(f"the process is dead after class {number}: {suite.server.exit_note()}")
                break
        if suite.server.alive() and (not only or only & {n for n, _, _ in attacks.ON_MAIN_SERVER}):
            settled = wait_for_rss(suite.server, suite.scale(5, SETTLE_WAIT_S))
        suite.server.stop()
        for number, title, run in attacks.OWN_SERVERS:
            if only and number not in only:
                continue
            run_class(suite, number, title, run)
    finally:
        suite.server.kill9()
        for server in attacks.started_servers:
            server.kill9()

    print_table(suite.results, settled)
    failures = [(r.name, f) for r in suite.results for f in r.failures]
    log(f"ran in {time.monotonic() - started:.0f} s; logs in {args.tmp} (removed by run.sh)")
    if failures:
        log(f"\nFAILED: {len(failures)} functional failure(s):")
        for name, failure in failures:
            log(f"  [{name}] {failure}")
        return 1
    log("\nno functional failure (figures above are measurements, not verdicts)")
    return 0


def run_class(suite: Suite, number: int, title: str, run) -> ClassResult:
    result = ClassResult(f"{number}. {title}")
    suite.results.append(result)
    log(f"\n==== class {number}: {title} ====")
    started = time.monotonic()
    try:
        run(suite, result)
    except Exception as exc:  # noqa: BLE001 - a class that cannot finish is a failure, not a crash
        result.fail(f"the class stopped early: {type(exc).__name__}: {exc}")
    m = result.measures
    log(f"  {result.cases} cases, {len(result.failures)} failures in {time.monotonic() - started:.1f} s; "
        f"RSS {mb(m.rss_start_kib):.0f} -> peak {mb(m.rss_peak_kib):.0f} MB; worst page {m.page_worst_ms:.0f} ms, "
        f"worst kcat -L {m.kcat_worst_ms:.0f} ms ({m.page_probes} and {m.kcat_probes} probes)")
    return result


def wait_for_rss(server: Server, wait_s: int) -> str:
    """Waits up to `wait_s` for the RSS to fall under the target; says how it went."""
    started = time.monotonic()
    rss = server.rss_kib()
    while mb(rss) >= RSS_SETTLED_TARGET_MB and time.monotonic() - started < wait_s:
        time.sleep(0.5)
        rss = server.rss_kib()
    waited = time.monotonic() - started
    if mb(rss) < RSS_SETTLED_TARGET_MB:
        return (f"RSS after the attacks on the main server: {mb(rss):.0f} MB after {waited:.1f} s "
                f"(target: under {RSS_SETTLED_TARGET_MB} MB within {SETTLE_WAIT_S} s)")
    verdict = "over target" if wait_s >= SETTLE_WAIT_S else f"quick mode waits {wait_s} s only"
    return (f"RSS after the attacks on the main server: still {mb(rss):.0f} MB after {wait_s} s, {verdict} "
            f"(target: under {RSS_SETTLED_TARGET_MB} MB within {SETTLE_WAIT_S} s)")


if __name__ == "__main__":
    sys.exit(main())
