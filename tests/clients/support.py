"""Helpers shared by the client tests: waiting, payloads, record comparison, kcat, raw checks."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field

import kafkaraw

CODECS = ["gzip", "snappy", "lz4", "zstd"]


def wait_until(predicate, timeout: float, message: str, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy (returned); AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def compressible_value(i: int) -> bytes:
    """~300 bytes that compress well (clients skip compression when it does not pay off)."""
    return (f"record {i:05d} " + "streamlab " * 28).encode()


@dataclass(frozen=True, order=True)
class Rec:
    """A consumed record, normalised across clients."""
    partition: int
    offset: int
    key: bytes | None = None
    value: bytes | None = None
    headers: tuple = ()
    timestamp: int | None = None


def by_partition(records) -> dict[int, list[Rec]]:
    out: dict[int, list[Rec]] = {}
    for r in sorted(records):
        out.setdefault(r.partition, []).append(r)
    return out


def assert_key_affinity(records, expect_keys: int, min_partitions: int = 2):
    """Every key lands in a single partition, in produce order; keys spread over partitions."""
    partitions_of: dict[bytes, set[int]] = {}
    for r in records:
        if r.key is not None:
            partitions_of.setdefault(r.key, set()).add(r.partition)
    assert len(partitions_of) == expect_keys, f"keys seen: {sorted(partitions_of)}"
    split = {k: sorted(p) for k, p in partitions_of.items() if len(p) != 1}
    assert not split, f"same key, different partitions: {split}"
    used = {next(iter(p)) for p in partitions_of.values()}
    assert len(used) >= min_partitions, f"all {expect_keys} keys went to partitions {sorted(used)}"


def assert_offsets_dense(records, start: dict[int, int] | None = None):
    """Per partition, offsets are consecutive (from `start[p]`, default 0) with no gap or duplicate."""
    for p, recs in by_partition(records).items():
        offsets = [r.offset for r in recs]
        first = (start or {}).get(p, 0)
        assert offsets == list(range(first, first + len(offsets))), f"partition {p} offsets {offsets}"


def assert_stored_codec(bootstrap: str, topic: str, partitions, codec: str, expect_records: int):
    """What the broker serves: valid CRCs, every batch compressed with `codec`, multi-record batches."""
    batches = []
    for p in partitions:
        batches += kafkaraw.stored_batches(bootstrap, topic, p)
    assert batches, f"no batches stored in {topic}"
    assert all(b.crc_ok for b in batches), f"bad CRC in {[b for b in batches if not b.crc_ok]}"
    assert all(b.magic == 2 for b in batches)
    codecs = {b.codec for b in batches}
    assert codecs == {codec}, f"stored batch codecs {codecs}, expected {codec}"
    assert sum(b.record_count for b in batches) == expect_records
    assert max(b.record_count for b in batches) > 1, "every batch held one record: batching was not exercised"
    return batches


# --- kcat -------------------------------------------------------------------------------------------

KCAT = "kcat"


def kcat(bootstrap: str, *args: str, input: bytes | None = None, timeout: float = 30.0,
         check: bool = True) -> subprocess.CompletedProcess:
    cmd = [KCAT, "-b", bootstrap, *args]
    try:
        proc = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{' '.join(cmd)} did not finish in {timeout} s\nstderr: "
                             f"{(e.stderr or b'').decode(errors='replace')}") from None
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}\nstderr: "
                             f"{proc.stderr.decode(errors='replace')}")
    return proc


def parse_kcat_json(stdout: bytes) -> list[Rec]:
    out = []
    for line in stdout.decode().splitlines():
        if not line.strip():
            continue
        m = json.loads(line)
        h = m.get("headers") or []
        headers = tuple((h[i], h[i + 1].encode() if h[i + 1] is not None else None) for i in range(0, len(h), 2))
        out.append(Rec(
            m["partition"], m["offset"],
            m["key"].encode() if m.get("key") is not None else None,
            m["payload"].encode() if m.get("payload") is not None else None,
            headers, m.get("ts"),
        ))
    return out


def kcat_consume(bootstrap: str, topic: str, *args: str, timeout: float = 30.0) -> list[Rec]:
    """kcat -C -J -e (exits at the end of every partition) with extra args, e.g. -o beginning."""
    return parse_kcat_json(kcat(bootstrap, "-C", "-t", topic, "-J", "-e", *args, timeout=timeout).stdout)


class Background:
    """A subprocess whose stdout and stderr lines are collected by threads."""

    def __init__(self, cmd: list[str], stdin=subprocess.DEVNULL):
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.events: queue.Queue[str] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, stream, sink):
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            sink.append(line)
            self.events.put(line)

    def wait_for_stderr(self, pattern: str, timeout: float, start: int = 0) -> re.Match:
        rx = re.compile(pattern)

        def find():
            for line in self.stderr[start:]:
                m = rx.search(line)
                if m:
                    return m
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.cmd} exited {self.proc.returncode} before /{pattern}/:\n"
                                     + "\n".join(self.stderr[-40:]))
            return None

        return wait_until(find, timeout, f"/{pattern}/ on the stderr of {' '.join(self.cmd)}")

    def wait(self, timeout: float) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"{' '.join(self.cmd)} did not exit in {timeout} s; stderr tail:\n"
                                 + "\n".join(self.stderr[-40:])) from None
        for t in self._threads:
            t.join(5)
        return code

    def stop(self, sig=None):
        if self.proc.poll() is None:
            if sig is None:
                self.proc.kill()
            else:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for t in self._threads:
            t.join(5)


# --- admin through confluent-kafka (for kcat, which cannot create topics) ---------------------------

def create_topic(bootstrap: str, name: str, partitions: int, timeout: float = 15.0):
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                                  operation_timeout=timeout, request_timeout=timeout)
    futures[name].result(timeout)


def produce_records(bootstrap: str, topic: str, records: list[dict], timeout: float = 15.0):
    """Produce with confluent-kafka (kwargs of Producer.produce per record), wait for every ack."""
    from confluent_kafka import Producer

    errors = []

    def on_delivery(err, _msg):
        if err is not None:
            errors.append(err)

    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "message.timeout.ms": int(timeout * 1000)})
    for rec in records:
        p.produce(topic, on_delivery=on_delivery, **rec)
        p.poll(0)
    assert p.flush(timeout) == 0, f"records not delivered in {timeout} s"
    assert not errors, errors[:5]


@dataclass
class Window:
    """Wall-clock bookkeeping for timestamp tests."""
    marks: dict = field(default_factory=dict)

    def mark(self, name: str) -> int:
        time.sleep(0.02)
        self.marks[name] = int(time.time() * 1000)
        time.sleep(0.02)
        return self.marks[name]


# --- failover: a partition leader stopped mid-stream (with the `server` fixture) --------------------

FAILOVER_TIMEOUT = 60.0


def create_replicated_topic(bootstrap: str, name: str, partitions: int = 1, min_insync: int = 2,
                            timeout: float = 15.0):
    """Replication factor 3 and min.insync.replicas=2: with one broker stopped, acks=all still
    needs a second copy of every record, so an acknowledged record is never on one broker only."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = NewTopic(name, num_partitions=partitions, replication_factor=3,
                     config={"min.insync.replicas": str(min_insync)})
    futures = admin.create_topics([topic], operation_timeout=timeout, request_timeout=timeout)
    futures[name].result(timeout)


def keep_producing(step, until, timeout: float, message: str, interval: float = 0.005):
    """Call `step()` (produce one record, serve callbacks) every `interval` until `until()`."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s producing until {message}")
        step()
        time.sleep(interval)


class LeaderStop:
    """Stops the leader of one partition through the lab API and checks what the cluster then
    reports: a new leader, a higher leader epoch, the stopped broker among the offline replicas
    and out of the ISR; `start_and_rejoin()` starts it again and waits for it back in the ISR."""

    def __init__(self, server, topic: str, partition: int = 0):
        self.server = server
        self.topic = topic
        self.partition = partition
        self.before: dict | None = None
        self.after: dict | None = None
        self.stopped_at: float | None = None

    def state(self) -> dict:
        return wait_until(lambda: self.server.partition(self.topic, self.partition), FAILOVER_TIMEOUT,
                          f"{self.topic}[{self.partition}] in /api/cluster")

    @property
    def stopped(self) -> int:
        return self.before["leader"]

    def stop_leader(self) -> int:
        self.before = self.state()
        assert self.before["leader"] >= 0, f"no leader to stop: {self.before}"
        assert sorted(self.before["isr"]) == sorted(self.before["replicas"]) and len(self.before["isr"]) == 3, \
            f"stop only a fully replicated partition: {self.before}"
        self.stopped_at = time.monotonic()
        self.server.stop_broker(self.stopped)
        return self.stopped

    def _state_if(self, predicate) -> dict | None:
        p = self.server.partition(self.topic, self.partition)
        return p if p and predicate(p) else None

    def assert_failed_over(self) -> dict:
        """Waits for a new leader with the stopped broker offline and out of the ISR (the ISR
        shrink and the election may be separate metadata records), then checks the epoch."""
        stopped = self.stopped
        self.after = wait_until(
            lambda: self._state_if(lambda p: p["leader"] >= 0 and p["leader"] != stopped
                                   and stopped in p["offline_replicas"] and stopped not in p["isr"]),
            FAILOVER_TIMEOUT, f"a new leader of {self.topic}[{self.partition}] with broker {stopped} offline")
        assert self.after["leader_epoch"] > self.before["leader_epoch"], (self.before, self.after)
        assert self.after["leader"] in self.before["isr"], f"the new leader was not in sync: {self.before} → {self.after}"
        assert self.after["replicas"] == self.before["replicas"], (self.before, self.after)
        return self.after

    def start_and_rejoin(self) -> dict:
        stopped = self.stopped
        self.server.start_broker(stopped)
        return wait_until(lambda: self._state_if(lambda p: stopped in p["isr"] and not p["offline_replicas"]),
                          FAILOVER_TIMEOUT, f"broker {stopped} back in the ISR of {self.topic}[{self.partition}]")


def assert_every_ack_in_log(acked: list[bytes], log: list[Rec], allow_duplicates: bool):
    """Every acknowledged value is in the log (one partition's records, in offset order), in the
    order it was produced; without `allow_duplicates` (an idempotent producer) each one once.
    Values are `seq_value(i)`, so produce order is the order of their sequence numbers."""
    offsets = [r.offset for r in log]
    assert offsets == sorted(offsets), "records out of offset order"
    seen: dict[bytes, int] = {}
    duplicated = []
    for r in log:
        if r.value in seen:
            duplicated.append((r.value, seen[r.value], r.offset))
        else:
            seen[r.value] = r.offset
    lost = [v for v in acked if v not in seen]
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged records are missing, e.g. {lost[:5]}"
    if not allow_duplicates:
        assert not duplicated, f"{len(duplicated)} records written twice (value, offsets), e.g. {duplicated[:5]}"
    # In first occurrences: a non-idempotent retry may append a copy later, but never a record
    # before one produced ahead of it.
    firsts = [seq_of(r.value) for r in log if seen[r.value] == r.offset]
    assert firsts == sorted(firsts), f"records out of produce order: {firsts[:50]}"


def seq_value(i: int) -> bytes:
    return f"seq-{i:06d}".encode()


def seq_of(value: bytes) -> int:
    return int(value.decode().removeprefix("seq-"))
