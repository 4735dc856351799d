"""The classes of attack of the hostile suite (tests/hostile/hostile.py runs them).

Each `run_*` takes the suite and its ClassResult, tries its cases while a monitor samples RSS and
probes the page and `kcat -L`, and records a failure for what must never happen: a malformed
batch accepted, a bound not enforced, the process dead, a restart that fails, an acknowledged
record lost or duplicated. How long anything took is measured, never judged here.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import re
import select
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import wire
import zstandard

# Servers started by classes 6 and 10, killed by hostile.py's cleanup whatever happens.
started_servers: list = []

SEED = 11  # issue 11; the random cases are the same on every run

# Attacks that count connections come from another loopback address than the probes, which
# stand for everyone else: a per-address cap (max.connections.per.ip) is meant to stop the
# attacker, not the people sharing a machine with the suite.
ATTACKER = "127.0.0.2"


def still_serving(suite, result, server=None) -> None:
    """A failure unless the process lives and answers ApiVersions on a new connection."""
    server = server or suite.server
    if not server.alive():
        result.fail(f"the process died: {server.exit_note()}")
        return
    try:
        with wire.Conn(server.kafka, timeout=10) as conn:
            conn.request(wire.api_versions())
    except (OSError, wire.Closed) as exc:
        result.fail(f"ApiVersions on a new connection failed after the attack: {exc}")


def make_topic(server, name: str, partitions: int = 1, replication: int = 3, configs: dict | None = None) -> None:
    with wire.Conn(server.kafka) as conn:
        body = conn.request(wire.create_topics([(name, partitions, replication, configs or {})]))
    for topic, code, message in wire.create_topics_errors(body):
        if code not in (0, 36):  # 36: TOPIC_ALREADY_EXISTS
            raise RuntimeError(f"creating {topic}: error {code} {message}")


def metadata_of(server, topics: list[str] | None) -> tuple[dict, dict]:
    """Brokers {id: (host, port)} and partition leaders {(topic, partition): leader} from
    Metadata v1 (`None`: every topic; v1 creates none that is not named)."""
    with wire.Conn(server.kafka) as conn:
        r = wire.Reader(conn.request(wire.metadata(topics)))
    brokers = {}
    for _ in range(r.i32()):
        node, host, port = r.i32(), r.string(), r.i32()
        r.string()  # rack
        brokers[node] = (host, port)
    r.i32()  # controller
    leaders = {}
    for _ in range(r.i32()):
        r.i16()
        name = r.string() or ""
        r.take(">b")  # internal
        for _ in range(r.i32()):
            r.i16()
            partition, leader = r.i32(), r.i32()
            for _ in range(r.i32()):  # replicas
                r.i32()
            for _ in range(r.i32()):  # isr
                r.i32()
            leaders[(name, partition)] = leader
    return brokers, leaders


def leader_conn(server, topic: str, partition: int = 0, timeout_s: float = 30) -> wire.Conn:
    """A connection to the leader of `topic`'s `partition`, once it has one that answers
    ListOffsets (just after a start or a restart it may not yet)."""
    deadline = time.monotonic() + timeout_s
    last = "no leader"
    while time.monotonic() < deadline:
        brokers, leaders = metadata_of(server, [topic])
        leader = leaders.get((topic, partition), -1)
        if leader in brokers:
            conn = wire.Conn(brokers[leader])
            code, _ = wire.list_offsets_offset(conn.request(wire.list_offsets(topic, partition)))
            if code == 0:
                return conn
            conn.close()
            last = f"leader {leader} answers ListOffsets with error {code}"
        time.sleep(0.1)
    raise RuntimeError(f"{topic}-{partition} not served after {timeout_s:g} s: {last}")


def wait_for_leader(server, topic: str, partition: int = 0, timeout_s: float = 30) -> None:
    leader_conn(server, topic, partition, timeout_s).close()


def topic_names(server) -> set[str]:
    return {topic for topic, _ in metadata_of(server, None)[1]}


# --- 1. Garbage and mutated frames ----------------------------------------------------------------


def valid_requests() -> list[tuple[int, int, bytes]]:
    good = wire.batch(wire.record())
    return [
        wire.api_versions(),
        wire.metadata(None),
        wire.metadata(["hostile-frames"]),
        wire.list_offsets("hostile-frames", 0),
        wire.produce("hostile-frames", 0, good, acks=1),
        wire.create_topics([("hostile-frames-v", 1, 1, {})], validate_only=True),
        wire.find_coordinator("hostile-group"),
        wire.join_group("hostile-group", "", b"\x00\x01"),
    ]


def send_case(address, data: bytes, wait_s: float) -> str:
    try:
        with socket.create_connection(address, timeout=10) as sock:
            sock.sendall(data)
            return wire.outcome(sock, wait_s)
    except (ConnectionResetError, BrokenPipeError):
        return "closed"


def run_frames(suite, result) -> None:
    server = suite.server
    make_topic(server, "hostile-frames")
    rng = random.Random(SEED)
    tally: dict[str, dict[str, int]] = {}

    def count(kind: str, what: str) -> None:
        tally.setdefault(kind, {}).setdefault(what, 0)
        tally[kind][what] += 1

    # Sizes and counts Kafka refuses: each must close its connection (or be answered), never hang.
    must_close = [
        ("size -1", wire.i32(-1)),
        ("size -5", wire.i32(-5)),
        ("size -2^31", wire.i32(-(2**31))),
        ("size 2^31-1", wire.i32(2**31 - 1)),
        ("size 8 MiB + 1", wire.i32(8 * 1024 * 1024 + 1)),
        ("size 1 GiB", wire.i32(1 << 30)),
        ("a 2-byte frame", wire.frame(b"\x00\x03")),
        ("api key 999", wire.frame(wire.header(999, 0))),
        ("Metadata v99", wire.frame(wire.header(3, 99))),
        ("Metadata v4, 2^31-1 topics", wire.frame(wire.header(3, 4) + wire.i32(2**31 - 1) + b"\x00\x00")),
        ("Produce v8, 2^31-1 topics", wire.frame(wire.header(0, 8) + wire.string(None) + wire.i16(1)
                                                 + wire.i32(1000) + wire.i32(2**31 - 1))),
        ("Produce v8, records of 2^31-1 bytes", wire.frame(
            wire.header(0, 8) + wire.string(None) + wire.i16(1) + wire.i32(1000) + wire.i32(1)
            + wire.string("hostile-frames") + wire.i32(1) + wire.i32(0) + wire.i32(2**31 - 1) + b"x" * 64)),
        ("CreateTopics v4, 2^31-1 topics", wire.frame(wire.header(19, 4) + wire.i32(2**31 - 1))),
        ("JoinGroup v5, 2^31-1 protocols", wire.frame(
            wire.header(11, 5) + wire.string("g") + wire.i32(10_000) + wire.i32(10_000) + wire.string("")
            + wire.string(None) + wire.string("consumer") + wire.i32(2**31 - 1))),
        ("ApiVersions v3, a client name claiming 32767 bytes", wire.frame(
            wire.header(18, 3) + b"\x00" + b"\x80\x80\x02" + b"a" * 100)),
    ]
    for name, data in must_close:
        what = send_case(server.kafka, data, wait_s=5)
        count("hostile sizes and counts", what)
        result.case(what != "silent", f"{name}: neither answered nor closed within 5 s")

    # Thousands of random and mutated frames, from several connections at once.
    n_random = suite.scale(300, 3000)
    valid = valid_requests()
    cases = []
    for n in range(n_random):
        kind = n % 3
        if kind == 0:  # random bytes, unframed: the first four are taken as a size
            cases.append(("random bytes", bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 4, 9, 64, 512])))))
        elif kind == 1:  # a valid header, then a random body
            api_key, version, _ = rng.choice(valid)
            body = bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 7, 64, 700, 4096])))
            cases.append(("random bodies", wire.frame(wire.header(api_key, version) + body)))
        else:  # a valid request with 1 to 8 bits flipped after the size
            api_key, version, body = rng.choice(valid)
            data = bytearray(wire.header(api_key, version) + body)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            cases.append(("bit-flipped valid requests", wire.frame(bytes(data))))

    def one(case):
        kind, data = case
        return kind, send_case(server.kafka, data, wait_s=1.0)

    with suite.monitor() as monitor, ThreadPoolExecutor(16) as pool:
        for kind, what in pool.map(one, cases):
            count(kind, what)
            result.cases += 1
    result.watch(monitor)
    for kind, outcomes in tally.items():
        result.note(f"{kind}: " + ", ".join(f"{v} {k}" for k, v in sorted(outcomes.items())))
    still_serving(suite, result)


# --- 2. Malformed record batches ------------------------------------------------------------------


def malformed_batches() -> list[tuple[str, bytes]]:
    good_record = wire.record()
    good = wire.batch(good_record)
    two = wire.record(0, value=b"a") + wire.record(1, value=b"b")
    cases = []

    def flipped(data: bytes, index: int, bit: int = 0x01) -> bytes:
        out = bytearray(data)
        out[index] ^= bit
        return bytes(out)

    longer = bytearray(good)
    longer[8:12] = wire.i32(len(good) - 12 + 10)
    cases.append(("batchLength past the bytes", bytes(longer)))
    tiny = bytearray(good)
    tiny[8:12] = wire.i32(13)
    cases.append(("batchLength 13", bytes(tiny)))
    cases.append(("bytes after the batch", good + b"\x00\x00\x00"))
    cases.append(("no bytes at all", b""))
    cases.append(("magic 1", flipped(good, 16, 0x03)))
    cases.append(("magic 3", flipped(good, 16, 0x01)))
    cases.append(("a wrong CRC", flipped(good, 17)))
    cases.append(("a flipped record byte", flipped(good, len(good) - 1, 0x40)))
    cases.append(("record count 3, two records", wire.batch(two, count=3, last_offset_delta=2)))
    cases.append(("record count 1, two records", wire.batch(two, count=1)))
    cases.append(("lastOffsetDelta 3, count 2", wire.batch(two, count=2, last_offset_delta=3)))
    cases.append(("record count 2^31-1", wire.batch(good_record, count=2**31 - 1)))
    cases.append(("offset deltas 0, 5", wire.batch(wire.record(0) + wire.record(5), count=2)))
    cases.append(("a record length 40 too long", wire.batch(wire.record(length_delta=40))))
    cases.append(("a record length 3 too short", wire.batch(wire.record(value=b"value", length_delta=-3))))
    cases.append(("a record length of -5", wire.batch(wire.record(length=-5))))
    cases.append(("key length -7", wire.batch(wire.record(key=b"", key_len=-7))))
    cases.append(("value length -3", wire.batch(wire.record(value=b"", value_len=-3))))
    cases.append(("header count 2^31-1", wire.batch(wire.record(header_count=2**31 - 1))))
    cases.append(("header count -4", wire.batch(wire.record(header_count=-4))))
    cases.append(("a header value length -2", wire.batch(wire.record(headers=[(1, b"h", -2, b"")]))))
    cases.append(("a null header key", wire.batch(wire.record(headers=[(-1, b"", 1, b"v")]))))
    cases.append(("a length varint that never ends", wire.batch(b"\xff" * 8)))
    for codec in (5, 6, 7):
        cases.append((f"codec {codec}", wire.batch(good_record, attributes=codec)))
    garbage = b"this is not what the codec flag says it is, not at all" * 3
    for codec, name in ((wire.GZIP, "gzip"), (wire.SNAPPY, "snappy"), (wire.LZ4, "lz4"), (wire.ZSTD, "zstd")):
        cases.append((f"a {name} flag over garbage", wire.batch(garbage, attributes=codec)))
    cases.append(("a gzip stream cut short", wire.batch(wire.gzip_bytes(good_record * 50)[:-12], attributes=wire.GZIP)))
    zstd = zstandard.ZstdCompressor().compress(good_record * 50)
    cases.append(("a zstd frame cut short", wire.batch(zstd[:-6], attributes=wire.ZSTD)))
    cases.append(("gzip over a lying record", wire.batch(wire.gzip_bytes(wire.record(key=b"", key_len=-7)),
                                                         attributes=wire.GZIP)))
    cases.append(("zstd over header count 2^31-1", wire.batch(
        zstandard.ZstdCompressor().compress(wire.record(header_count=2**31 - 1)), attributes=wire.ZSTD)))
    cases.append(("the control bit from a producer", wire.batch(good_record, attributes=wire.CONTROL)))
    cases.append(("the transactional bit", wire.batch(good_record, attributes=wire.TRANSACTIONAL)))
    cases.append(("a producer id without a sequence", wire.batch(good_record, producer_id=42)))
    cases.append(("LogAppendTime from a producer", wire.batch(good_record, attributes=wire.LOG_APPEND_TIME,
                                                              max_timestamp=-1)))
    return cases


def run_batches(suite, result) -> None:
    server = suite.server
    topic = "hostile-batches"
    make_topic(server, topic)
    wait_for_leader(server, topic)
    with suite.monitor() as monitor, leader_conn(server, topic) as conn:
        def end_offset() -> int:
            code, offset = wire.list_offsets_offset(conn.request(wire.list_offsets(topic, 0)))
            if code:
                raise RuntimeError(f"ListOffsets: error {code}")
            return offset

        # The harness's own batches must be right, or every refusal below proves nothing.
        for name, good in (
            ("uncompressed", wire.batch(wire.record())),
            ("gzip", wire.batch(wire.gzip_bytes(wire.record()), attributes=wire.GZIP)),
            ("zstd", wire.batch(zstandard.ZstdCompressor().compress(wire.record()), attributes=wire.ZSTD)),
        ):
            before = end_offset()
            code, message = wire.produce_error(conn.request(wire.produce(topic, 0, good)))
            if code != 0 or end_offset() != before + 1:
                raise RuntimeError(f"a well-formed {name} batch was refused ({code} {message}): the harness is wrong")
        codes: dict[int, int] = {}
        for name, data in malformed_batches():
            before = end_offset()
            code, message = wire.produce_error(conn.request(wire.produce(topic, 0, data)))
            after = end_offset()
            codes[code] = codes.get(code, 0) + 1
            if code == 0:
                result.case(False, f"{name}: accepted (error 0), log end offset {before} -> {after}")
            else:
                result.case(after == before, f"{name}: refused with {code} but the log grew {before} -> {after}")
    result.watch(monitor)
    result.note("error codes: " + ", ".join(f"{c} x{n}" for c, n in sorted(codes.items())))
    still_serving(suite, result)


# --- 3. Decompression bombs -----------------------------------------------------------------------


def zstd_bomb(value_bytes: int) -> bytes:
    """A zstd frame of one record whose value claims `value_bytes`, then 128 KiB run-length blocks
    of 'a' (RFC 8878: a 4-byte RLE block stands for a whole block of one byte): about 33 bytes per
    MiB inflated, built in milliseconds."""
    block = 128 * 1024
    body = b"\x00" + wire.varint(0) + wire.varint(0) + wire.varint(-1) + wire.varint(value_bytes)
    prefix = wire.varint(len(body) + value_bytes + 1) + body

    def block_header(size: int, kind: int, last: bool) -> bytes:
        value = (size << 3) | (kind << 1) | int(last)
        return bytes([value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF])

    frame = bytearray(b"\x28\xb5\x2f\xfd\x00" + bytes([7 << 3]))
    frame += block_header(len(prefix), 0, False) + prefix
    blocks = value_bytes // block + 1
    for n in range(blocks):
        frame += block_header(block, 1, n == blocks - 1) + b"a"
    return wire.batch(bytes(frame), attributes=wire.ZSTD)


def gzip_bomb(value_bytes: int) -> bytes:
    """A gzip stream of one record whose value is `value_bytes` zeros (deflate: about 1 KB per MiB)."""
    body = b"\x00" + wire.varint(0) + wire.varint(0) + wire.varint(-1) + wire.varint(value_bytes)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [c.compress(wire.varint(len(body) + value_bytes + 1) + body)]
    chunk = bytes(1 << 20)
    for _ in range(value_bytes >> 20):
        out.append(c.compress(chunk))
    out.append(c.compress(b"\x00"))  # header count
    out.append(c.flush())
    return wire.batch(b"".join(out), attributes=wire.GZIP)


def run_bombs(suite, result) -> None:
    server = suite.server
    topic = "hostile-bombs"
    make_topic(server, topic)
    wait_for_leader(server, topic)
    gib = 1 << 30
    bombs = [
        ("zstd, 2 GB inflated", zstd_bomb(2_000_000_000)),
        ("gzip, " + ("256 MiB" if suite.quick else "1 GiB") + " inflated", gzip_bomb(suite.scale(gib // 4, gib))),
    ]
    for name, data in bombs:
        result.note(f"{name}: {len(data) / 1024:.0f} KiB on the wire")
    parallel = suite.scale(2, 4)
    rounds = suite.scale(2, 5)

    def attack(n: int) -> list[tuple[str, int, int, int]]:
        out = []
        with leader_conn(server, topic) as conn:
            for _ in range(rounds):
                for name, data in bombs:
                    before = wire.list_offsets_offset(conn.request(wire.list_offsets(topic, 0)))[1]
                    code, _ = wire.produce_error(conn.request(wire.produce(topic, 0, data)))
                    after = wire.list_offsets_offset(conn.request(wire.list_offsets(topic, 0)))[1]
                    out.append((name, code, before, after))
        return out

    with suite.monitor() as monitor, ThreadPoolExecutor(parallel) as pool:
        outcomes = [o for batch in pool.map(attack, range(parallel)) for o in batch]
    result.watch(monitor)
    codes = {}
    for name, code, before, after in outcomes:
        codes[code] = codes.get(code, 0) + 1
        result.case(code != 0 and after == before, f"{name}: error {code}, log end offset {before} -> {after}")
    result.note(f"{len(outcomes)} bombs from {parallel} connections at once; error codes: "
                + ", ".join(f"{c} x{n}" for c, n in sorted(codes.items())))
    still_serving(suite, result)


# --- 4. Memory held by unfinished requests --------------------------------------------------------


ANNOUNCED = 8 * 1024 * 1024 - 1024  # just under socket.request.max.bytes (8 MiB)


def hold_unfinished(suite, result, n: int, body_bytes: int, push_s: int) -> list[socket.socket]:
    """`n` connections from the attacker's address, each announcing a Produce request of
    ANNOUNCED bytes and sending `body_bytes` of it for up to `push_s` s, then idling; the
    monitor runs from the first connection to at least 12 s later (a probe started during the
    attack has its whole 10 s to be answered while it lasts). Returns the sockets, still open."""
    header = wire.i32(ANNOUNCED) + wire.header(0, 8) + wire.string(None) + wire.i16(1) + wire.i32(30_000)
    chunk = bytes(256 * 1024)
    socks, sent = [], {}
    with suite.monitor() as monitor:
        started = time.monotonic()
        for _ in range(n):
            s = socket.create_connection(suite.server.kafka, timeout=10, source_address=(ATTACKER, 0))
            s.setblocking(False)
            s.send(header)
            socks.append(s)
            sent[s] = 0
        deadline = time.monotonic() + push_s
        while time.monotonic() < deadline:
            pending = [s for s in socks if sent[s] < body_bytes]
            if not pending:
                break
            _, writable, _ = select.select([], pending, [], 0.2)
            for s in writable:
                try:
                    sent[s] += s.send(chunk[: body_bytes - sent[s]])
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    sent[s] = body_bytes  # closed by the broker
        total = sum(sent.values())
        time.sleep(max(3.0, 12.0 - (time.monotonic() - started)))
    result.watch(monitor)
    result.cases += n
    result.note(f"{n} connections announced {ANNOUNCED / 2**20:.1f} MiB each and sent {total / 2**20:.1f} MiB of "
                f"bodies in all (what the kernel took; the broker reads within its budget), then idled")
    return socks


def wait_closed(result, socks: list[socket.socket], what: str) -> None:
    """A failure unless the broker closes every socket within 45 s (--request-read-timeout-ms:
    30 s after a request's first bytes)."""
    deadline = time.monotonic() + 45
    open_socks = list(socks)
    while open_socks and time.monotonic() < deadline:
        readable, _, _ = select.select(open_socks, [], [], 1.0)
        for s in readable:
            try:
                if not s.recv(65536):
                    open_socks.remove(s)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                open_socks.remove(s)
    if open_socks:
        result.fail(f"{what}: {len(open_socks)} of {len(socks)} still open 45 s after their first bytes "
                    "(--request-read-timeout-ms is 30 s)")
    else:
        result.note(f"{what}: all {len(socks)} closed by the broker within 45 s of their first bytes")
    for s in socks:
        s.close()


def run_unfinished(suite, result) -> None:
    # The case: most of each request sent (memory held), from many connections.
    socks = hold_unfinished(suite, result, suite.scale(40, 200), 7 * 1024 * 1024, suite.scale(6, 15))
    if suite.quick:
        result.note("quick mode: closed by the suite, not waited for the 30 s request read timeout")
        for s in socks:
            s.close()
    else:
        wait_closed(result, socks, "mostly sent")
    # A slow loris: the size and a request header, nothing more, from a few connections.
    socks = hold_unfinished(suite, result, 16, 0, 0)
    if suite.quick:
        for s in socks:
            s.close()
    else:
        wait_closed(result, socks, "announced only")
    still_serving(suite, result)


# --- 5. Connection floods -------------------------------------------------------------------------


def open_many(address, count: int, source: str | None = None) -> tuple[list[socket.socket], int]:
    """Opens up to `count` connections (non-blocking connects); returns them and how many failed."""
    socks, failed = [], 0
    for _ in range(count):
        s = socket.socket()
        try:
            if source:
                s.bind((source, 0))
            s.settimeout(5)
            s.connect(address)
            socks.append(s)
        except OSError:
            failed += 1
            s.close()
    return socks, failed


def closed_count(socks: list[socket.socket]) -> int:
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return closed


def run_floods(suite, result) -> None:
    server = suite.server
    per_ip = 1000  # --max-connections-per-ip's default, per broker
    kafka_n = suite.scale(1200, 3500)
    http_n = suite.scale(600, 2000)
    # Kafka: from one address to broker 1, past the per-IP cap.
    with suite.monitor() as monitor:
        socks, failed = open_many(server.kafka, kafka_n, source=ATTACKER)
        time.sleep(suite.scale(1, 2))
        closed = closed_count(socks)
        time.sleep(suite.scale(1, 5))
    result.watch(monitor)
    result.cases += 1
    result.note(f"{kafka_n} idle Kafka connections to broker 1 from {ATTACKER}: {len(socks)} connected, "
                f"{failed} refused, {closed} closed by the broker (per-IP cap {per_ip})")
    if closed < kafka_n - per_ip - failed - 5:
        result.fail(f"only {closed} of {kafka_n} connections from one address closed past "
                    f"max.connections.per.ip {per_ip}")
    for s in socks:
        s.close()

    if not suite.quick:
        # From four addresses: 3,600 connections to broker 1 (under max.connections 4096).
        with suite.monitor() as monitor:
            socks = []
            for n in range(3, 7):
                got, _ = open_many(server.kafka, 900, source=f"127.0.0.{n}")
                socks += got
            time.sleep(5)
        result.watch(monitor)
        result.cases += 1
        result.note(f"3600 idle Kafka connections to broker 1 from 127.0.0.3-6: {len(socks)} connected, "
                    f"{closed_count(socks)} closed by the broker")
        for s in socks:
            s.close()

    # HTTP: idle sockets that never send a request line (closed after the 30 s header-read timeout).
    with suite.monitor() as monitor:
        socks, failed = open_many(("127.0.0.1", server.http_port), http_n, source=ATTACKER)
        time.sleep(suite.scale(2, 12))
    result.watch(monitor)
    result.cases += 1
    result.note(f"{http_n} idle HTTP sockets from {ATTACKER}: {len(socks)} connected, {failed} refused "
                "(--http-max-connections 1024)")
    for s in socks:
        s.close()
    still_serving(suite, result)


# --- 6. Partition exhaustion, then a restart under ulimit -n 256 ----------------------------------


def run_partitions(suite, result) -> None:
    budget = suite.scale(600, 3000)
    server = suite.new_server("partitions", ["--max-partition-replicas", str(budget),
                                             "--broker-session-timeout-ms", "3000"])
    started_servers.append(server)
    server.start()
    per_topic = 100
    created, refused, names = 0, None, []
    with suite.monitor(server) as monitor, wire.Conn(server.kafka, timeout=120) as conn:
        for n in range(budget // (per_topic * 3) + 2):
            name = f"exhaust-{n}"
            errors = wire.create_topics_errors(conn.request(wire.create_topics([(name, per_topic, 3, {})])))
            _, code, message = errors[0]
            result.cases += 1
            if code == 0:
                created += per_topic * 3
                names.append(name)
            else:
                refused = (code, message)
                break
    result.watch(monitor)
    if refused is None or refused[0] != wire.POLICY_VIOLATION:
        result.fail(f"topics past --max-partition-replicas {budget}: {refused or 'never refused'}; "
                    "expected POLICY_VIOLATION (44)")
        return
    result.note(f"{created} partition replicas in {len(names)} topics, then POLICY_VIOLATION: {refused[1][:120]}")
    # A record in each topic's partition 0, acks=all, to find again after the restart.
    for name in names:
        wait_for_leader(server, name)
        with leader_conn(server, name) as conn:
            code, message = wire.produce_error(conn.request(wire.produce(name, 0, wire.batch(wire.record()))))
        if code:
            result.fail(f"produce to {name}-0 before the restart: {code} {message}")
    log_files = sum(len(files) for _, _, files in os.walk(os.path.join(server.data_dir, "kafka")))
    server.kill9()
    result.note(f"killed with SIGKILL; {log_files} files under kafka/; restarting under ulimit -n 256")
    restarted_at = time.monotonic()
    result.cases += 1
    try:
        server.start(nofile=256, wait_s=90)
    except RuntimeError as exc:
        result.fail(f"the restart under ulimit -n 256 failed: {exc}")
        return
    try:
        with suite.monitor(server) as monitor:
            for name in names:
                with leader_conn(server, name, timeout_s=90) as conn:
                    code, end = wire.list_offsets_offset(conn.request(wire.list_offsets(name, 0)))
                    again = wire.produce(name, 0, wire.batch(wire.record()))
                    produced, message = wire.produce_error(conn.request(again))
                result.case(code == 0 and end >= 1 and produced == 0,
                            f"{name}-0 after the restart: log end offset {end} (error {code}), "
                            f"produce {produced} {message}")
        result.watch(monitor)
        result.note(f"restarted under ulimit -n 256; every topic served again {time.monotonic() - restarted_at:.1f} s "
                    "after the start")
    except (OSError, RuntimeError, wire.Closed) as exc:
        result.fail(f"serving after the restart under ulimit -n 256: {exc}")
    still_serving(suite, result, server)
    server.stop()


# --- 7. The console -------------------------------------------------------------------------------


class Http:
    """A client of the site that keeps the learner cookie and sends the Origin of the site."""

    def __init__(self, server):
        self.server = server
        self.cookie = None

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             timeout: float = 10) -> tuple[int, bytes, float]:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.http_port, timeout=timeout)
        h = {"Host": f"127.0.0.1:{self.server.http_port}"}
        if self.cookie:
            h["Cookie"] = self.cookie
        h.update(headers or {})
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=h)
            response = conn.getresponse()
            data = response.read()
            cookie = response.getheader("Set-Cookie")
            if cookie and not self.cookie:
                self.cookie = cookie.split(";", 1)[0]
            return response.status, data, time.monotonic() - started
        finally:
            conn.close()

    def console(self, script: str, timeout: float = 10) -> tuple[int, bytes, float]:
        headers = {"Content-Type": "application/json", "Origin": self.server.base_url,
                   "Sec-Fetch-Site": "same-origin"}
        return self.call("POST", "/api/console", json.dumps({"script": script}).encode(), headers, timeout)


def hostile_scripts(quick: bool) -> list[tuple[str, str, bool]]:
    """(name, script, must_fail)."""
    kib64 = 64 * 1024 - 64
    scripts = [
        ("64 KiB unclosed double quote", 'kafka-topics.sh --create --topic "' + "a" * kib64, True),
        ("64 KiB unclosed single quote over many lines", "kafka-topics.sh --list '" + "a b\n" * (kib64 // 4), True),
        ("64 KiB of line continuations", "kafka-topics.sh \\\n" * (kib64 // 18), False),
        ("quotes nested 20,000 deep", "echo " + "\"'" * 20_000, True),
        ("$( nested 20,000 deep", "echo " + "$(" * 20_000, False),
        ("8,000 lines of unknown commands", "nope --x\n" * 8_000, True),
        ("one 64 KiB word", "kafka-topics.sh --describe --topic " + "t" * kib64, False),
        ("a script past the 64 KiB limit", "kafka-topics.sh --list " + "x" * (70 * 1024), True),
        ("NUL bytes and control characters", "kafka-topics.sh --list \x00\x01\x1b[31m\x7f" * 500, False),
    ]
    return scripts[:6] if quick else scripts


def run_console(suite, result) -> None:
    site = Http(suite.server)
    site.call("GET", "/")  # the learner cookie
    site.call("GET", "/")  # came back: a stored learner, as a real one
    scripts = hostile_scripts(suite.quick)
    parallel = 4

    def post(case):
        name, script, must_fail = case
        try:
            status, body, elapsed = site.console(script)
        except OSError as exc:
            return name, None, f"no answer within 10 s ({exc})", 0.0
        ok = None
        if status == 200:
            try:
                ok = json.loads(body).get("ok")
            except ValueError:
                return name, status, "a 200 that is not JSON", elapsed
        if status >= 500:
            return name, status, f"HTTP {status}", elapsed
        if must_fail and status == 200 and ok:
            return name, status, "answered ok: true", elapsed
        return name, status, None, elapsed

    answers = []
    rounds = 0
    with suite.monitor() as monitor, ThreadPoolExecutor(parallel) as pool:
        # Each script four times at once (the freeze needed four), round after round for a
        # few seconds so that the probes run during the attack.
        until = time.monotonic() + suite.scale(1, 5)
        while time.monotonic() < until or not rounds:
            answers += pool.map(post, [s for s in scripts for _ in range(parallel)])
            rounds += 1
    result.watch(monitor)
    slowest: dict[str, float] = {}
    for name, _status, failure, elapsed in answers:
        result.case(failure is None, f"console script {name}: {failure}")
        slowest[name] = max(slowest.get(name, 0.0), elapsed)
    result.note(f"{rounds} rounds of every script, 4 at once")
    for name, elapsed in slowest.items():
        result.note(f"{name}: slowest answer {elapsed * 1000:.0f} ms")
    still_serving(suite, result)


# --- 8. Group floods ------------------------------------------------------------------------------


def run_groups(suite, result) -> None:
    server = suite.server
    with wire.Conn(server.kafka) as conn:
        code, host, port = wire.find_coordinator_address(conn.request(wire.find_coordinator("hostile-flood")))
    if code:
        raise RuntimeError(f"FindCoordinator: error {code}")
    coordinator = (host, port)
    with suite.monitor() as monitor:
        # (a) metadata over 1 MiB per member: INVALID_REQUEST (once the member id is known: the first
        # JoinGroup of a new member only hands out its id, KIP-394).
        big = bytes(1024 * 1024 + 1)
        for n in range(suite.scale(5, 20)):
            with wire.Conn(coordinator, timeout=15) as conn:
                group = f"hostile-big-{n}"
                code, member_id = wire.join_group_result(conn.request(wire.join_group(group, "", big)))
                if code == wire.MEMBER_ID_REQUIRED:
                    try:
                        code, _ = wire.join_group_result(conn.request(wire.join_group(group, member_id, big)))
                    except (OSError, wire.Closed) as exc:
                        code = f"no answer ({exc})"
            result.case(code == wire.INVALID_REQUEST, f"JoinGroup with 1 MiB + 1 of metadata: {code}, "
                        f"expected INVALID_REQUEST ({wire.INVALID_REQUEST})")
        # (b) member ids handed out without joining, past group.max.size (1000).
        codes_b: dict[int, int] = {}
        with wire.Conn(coordinator) as conn:
            for _ in range(suite.scale(1050, 3000)):
                code, _ = wire.join_group_result(conn.request(wire.join_group("hostile-ids", "", b"\x00" * 64)))
                codes_b[code] = codes_b.get(code, 0) + 1
        result.cases += sum(codes_b.values())
        result.note("JoinGroup without a member id, over and over: "
                    + ", ".join(f"{c} x{n}" for c, n in sorted(codes_b.items())))
        if not codes_b.get(wire.GROUP_MAX_SIZE_REACHED):
            result.fail(f"{sum(codes_b.values())} member ids handed out in one group without "
                        "GROUP_MAX_SIZE_REACHED (group.max.size 1000)")
        # (c) members with 512 KiB of metadata each, joining for real, past 32 MiB in all.
        members = suite.scale(70, 120)
        metadata = bytes(random.Random(SEED).getrandbits(8) for _ in range(512 * 1024))
        conns, codes_c = [], {}
        for _ in range(members):
            conn = wire.Conn(coordinator, timeout=60)
            code, member_id = wire.join_group_result(conn.request(wire.join_group("hostile-fat", "", metadata, 6000)))
            if code == wire.MEMBER_ID_REQUIRED:
                conn.send(wire.join_group("hostile-fat", member_id, metadata, 6000))
                conns.append(conn)
            else:
                codes_c[code] = codes_c.get(code, 0) + 1
                conn.close()
        for conn in conns:
            try:
                code, _ = wire.join_group_result(conn.read_frame()[4:])
            except (OSError, wire.Closed):
                code = -1
            codes_c[code] = codes_c.get(code, 0) + 1
            conn.close()
    result.watch(monitor)
    result.cases += members
    result.note(f"{members} members with 512 KiB of metadata each: "
                + ", ".join(f"{c} x{n}" for c, n in sorted(codes_c.items())))
    if not codes_c.get(wire.GROUP_MAX_SIZE_REACHED):
        result.fail(f"{members} members with 512 KiB of metadata ({members / 2:.0f} MiB) joined one group without "
                    "GROUP_MAX_SIZE_REACHED (32 MiB of member metadata at most)")
    still_serving(suite, result)


# --- 9. HTTP: crawlers and cross-site posts -------------------------------------------------------


def database_bytes(server) -> int:
    path = os.path.join(server.data_dir, "streamlab.db")
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))


def run_http(suite, result) -> None:
    server = suite.server
    site = Http(server)
    _, home, _ = site.call("GET", "/")
    slugs = sorted(set(re.findall(rb'href="/lessons/([a-z0-9-]+)"', home)))[:20] or [b"intro"]
    paths = ["/"] + [f"/lessons/{s.decode()}" for s in slugs]
    before = database_bytes(server)
    crawls = suite.scale(300, 2000)
    statuses: dict[int, int] = {}

    def crawl(n: int) -> int:
        request = urllib.request.Request(server.base_url + paths[n % len(paths)],
                                         headers={"User-Agent": "hostile-crawler"})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                r.read()
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return -1

    with suite.monitor() as monitor:
        with ThreadPoolExecutor(8) as pool:
            for status in pool.map(crawl, range(crawls)):
                statuses[status] = statuses.get(status, 0) + 1
        time.sleep(1)
        after = database_bytes(server)
        # Cross-site form posts: every state-changing route, with each header a browser would send.
        lesson = paths[1] if len(paths) > 1 else "/lessons/intro"
        victim = Http(server)
        victim.call("GET", "/")
        victim.call("GET", "/")
        posts = [
            (f"{lesson}/complete", b"", "application/x-www-form-urlencoded"),
            ("/api/console", b'{"script": "kafka-topics.sh --create --topic hostile-csrf"}', "application/json"),
            ("/api/cluster/brokers/2/stop", b"", "application/x-www-form-urlencoded"),
            ("/api/exercises/x/check", b"{}", "application/json"),
            ("/api/simulator/x/verify", b"{}", "application/json"),
        ]
        origins = [
            {"Origin": "http://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
            {"Sec-Fetch-Site": "same-site", "Origin": f"http://sub.127.0.0.1:{server.http_port}"},
        ]
        for path, body, content_type in posts:
            for extra in origins:
                status, text, _ = victim.call("POST", path, body, {"Content-Type": content_type, **extra})
                result.case(status == 403, f"cross-site POST {path} with {extra}: HTTP {status} {text[:80]!r}")
    result.watch(monitor)
    result.cases += crawls
    bad = {s: n for s, n in statuses.items() if s != 200}
    if bad:
        result.fail(f"crawler requests not answered 200: {bad}")
    result.note(f"{crawls} cookie-less requests over {len(paths)} pages: database {before} -> {after} bytes")
    if after > before:
        result.fail(f"the database grew from {before} to {after} bytes under cookie-less crawling")
    if "hostile-csrf" in topic_names(server):
        result.fail("a cross-site console post created the topic hostile-csrf")
    still_serving(suite, result)


# --- 10. Durability: kill -9 under acks=all idempotent produce ------------------------------------


def run_durability(suite, result) -> None:
    from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: PLC0415 - the venv's

    server = suite.new_server("durability", ["--broker-session-timeout-ms", "3000"])
    started_servers.append(server)
    server.start()
    topic, partitions = "durable", 3
    make_topic(server, topic, partitions, 3, {"min.insync.replicas": "2"})
    for p in range(partitions):
        wait_for_leader(server, topic, p)
    acked: dict[str, tuple[int, int]] = {}
    failed_deliveries = 0
    lock = threading.Lock()
    kills = suite.scale(1, 5)
    rng = random.Random(SEED)
    for trial in range(kills):
        def delivered(err, msg) -> None:
            nonlocal failed_deliveries
            with lock:
                if err is None:
                    acked[msg.value().decode()] = (msg.partition(), msg.offset())
                else:
                    failed_deliveries += 1

        producer = Producer({
            "bootstrap.servers": server.bootstrap, "enable.idempotence": True, "acks": "all",
            "linger.ms": 2, "message.timeout.ms": 8000, "socket.timeout.ms": 4000, "log_level": 0,
        })
        stop = threading.Event()

        def produce(producer=producer, trial=trial, delivered=delivered, stop=stop) -> None:
            n = 0
            while not stop.is_set():
                try:
                    producer.produce(topic, key=str(n).encode(), value=f"{trial}-{n}".encode(), on_delivery=delivered)
                    n += 1
                except BufferError:
                    pass
                producer.poll(0.001 if n % 50 else 0.01)

        thread = threading.Thread(target=produce, daemon=True)
        with suite.monitor(server) as monitor:
            thread.start()
            time.sleep(rng.uniform(2.0, 5.0))
            with lock:
                acked_before_kill = len(acked)
        result.watch(monitor)
        server.kill9()
        stop.set()
        thread.join()
        producer.flush(10)  # what was in flight fails: the process is gone
        del producer
        result.note(f"kill -9 #{trial + 1}: {len(acked)} acknowledged so far ({acked_before_kill} before the kill)")
        result.cases += 1
        try:
            server.start(wait_s=90)
        except RuntimeError as exc:
            result.fail(f"restart after kill -9 #{trial + 1}: {exc}")
            return
        for p in range(partitions):
            wait_for_leader(server, topic, p, timeout_s=90)

    # Read everything back once every acknowledged offset is below the high watermark.
    ends = {p: 0 for p in range(partitions)}
    for partition, offset in acked.values():
        ends[partition] = max(ends[partition], offset + 1)
    found = read_back(server, topic, ends, Consumer, TopicPartition)
    server.stop()
    result.note(f"{len(acked)} acknowledged over {kills} kill(s), {failed_deliveries} deliveries failed "
                "(in flight at a kill)")
    check_read_back(result, acked, found)


# --- 11. Disk full under acks=all ----------------------------------------------------------------

# Runs in a user and mount namespace (no root needed where unprivileged user namespaces are
# allowed, as on Debian): mounts a small tmpfs, fills part of it with a reserve file, then starts
# the command each time the suite asks (ctl/go.N), freeing the reserve first if ctl/free.N exists.
DISK_WRAPPER = r"""
set -u
mnt=$1 ctl=$2 size=$3 reserve=$4
shift 4
mount -t tmpfs -o "size=$size" tmpfs "$mnt" || exit 90
head -c "$reserve" /dev/zero >"$mnt/reserve"
n=0
while :; do
    while [ ! -e "$ctl/go.$n" ]; do
        [ -d "$ctl" ] || exit 0 # the suite's scratch directory is gone: nobody will ask again
        sleep 0.05
    done
    [ -e "$ctl/quit.$n" ] && exit 0
    [ -e "$ctl/free.$n" ] && rm -f "$mnt/reserve"
    df -k "$mnt" | tail -1 >"$ctl/df.$n"
    "$@" >>"$ctl/server.log" 2>&1 &
    echo $! >"$ctl/pid.$n.tmp" && mv "$ctl/pid.$n.tmp" "$ctl/pid.$n"
    wait $!
    echo $? >"$ctl/exit.$n"
    n=$((n + 1))
done
"""


class NsServer:
    """`streamlab serve` with its data directory on a small tmpfs, started through DISK_WRAPPER;
    what the monitor needs of hostile.Server (pid, rss_kib, ports, addresses)."""

    def __init__(self, suite, size: str, reserve: str):
        base = suite.new_server("diskfull", ["--broker-session-timeout-ms", "3000"])
        self.kafka_port, self.http_port = base.kafka_port, base.http_port
        self.bootstrap, self.base_url, self.kafka = base.bootstrap, base.base_url, base.kafka
        self.root = os.path.join(suite.tmp, "diskfull")
        self.mnt, self.ctl = os.path.join(self.root, "mnt"), os.path.join(self.root, "ctl")
        os.makedirs(self.mnt)
        os.makedirs(self.ctl)
        self.pid_file = suite.pid_file
        command = base.args()
        command[command.index("--data-dir") + 1] = os.path.join(self.mnt, "data")
        self.wrapper = subprocess.Popen(
            ["unshare", "--user", "--map-root-user", "--mount", "bash", "-c", DISK_WRAPPER, "wrapper",
             self.mnt, self.ctl, size, reserve, *command],
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.run = -1
        self.pid = 0

    def start(self, free: bool = False, wait_s: float = 60) -> bool:
        """Starts the next run; True once both ports accept, False if it exited first."""
        self.run += 1
        if free:
            Path(self.ctl, f"free.{self.run}").touch()
        Path(self.ctl, f"go.{self.run}").touch()
        pid_path = os.path.join(self.ctl, f"pid.{self.run}")
        deadline = time.monotonic() + wait_s
        while not os.path.exists(pid_path):
            if self.wrapper.poll() is not None:
                raise RuntimeError(f"the tmpfs wrapper exited with {self.wrapper.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("the tmpfs wrapper did not start streamlab")
            time.sleep(0.05)
        self.pid = int(Path(pid_path).read_text())
        with open(self.pid_file, "a") as f:
            f.write(f"{self.pid}\n")
        while time.monotonic() < deadline:
            if not self.alive():
                return False
            if all(hostile_accepts(p) for p in (self.http_port, self.kafka_port)):
                return True
            time.sleep(0.1)
        return False

    def alive(self) -> bool:
        return self.pid > 0 and not os.path.exists(os.path.join(self.ctl, f"exit.{self.run}"))

    def rss_kib(self) -> int:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                return next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError):
            return 0

    def signal(self, sig: int, wait_s: float = 20) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)
        deadline = time.monotonic() + wait_s
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)

    def kill9(self) -> None:
        self.signal(9)

    def stop(self) -> None:
        self.signal(15)
        self.kill9()

    def df(self) -> str:
        fields = Path(self.ctl, f"df.{self.run}").read_text().split()
        return f"{int(fields[2]) // 1024} MiB used of {int(fields[1]) // 1024} MiB" if len(fields) > 3 else "?"

    def log_tail(self) -> str:
        """The server log's last error line (or last line), without colours."""
        try:
            text = Path(self.ctl, "server.log").read_text(errors="replace")
        except OSError:
            return ""
        lines = re.sub(r"\x1b\[[0-9;]*m", "", text).strip().splitlines() or [""]
        errors = [line for line in lines if "ERROR" in line or "rror:" in line]
        return re.sub(r"^\S+Z\s+", "", (errors or lines)[-1])[:240]

    def close(self) -> None:
        self.kill9()
        if self.wrapper.poll() is None:
            os.killpg(self.wrapper.pid, 9)
            self.wrapper.wait()


def hostile_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def produce_until_full(server, topic: str) -> tuple[object, dict, dict]:
    """An idempotent acks=all producer of 4 KiB records until no record has been acknowledged
    for 4 s (the disk is full). Returns the producer (still holding what is in flight), the
    acknowledged records and the delivery errors by name."""
    from confluent_kafka import Producer  # noqa: PLC0415 - the venv's

    acked, errors = {}, {}
    lock = threading.Lock()

    def delivered(err, msg) -> None:
        with lock:
            if err is None:
                acked[msg.value()[:24].decode()] = (msg.partition(), msg.offset())
            else:
                errors[err.name()] = errors.get(err.name(), 0) + 1

    producer = Producer({"bootstrap.servers": server.bootstrap, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 5, "message.timeout.ms": 10_000, "log_level": 0})
    padding = b"x" * 4096
    n, last_ack, last_count = 0, time.monotonic(), 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            producer.produce(topic, value=f"{n:024d}".encode() + padding, on_delivery=delivered)
            n += 1
        except BufferError:
            producer.poll(0.05)
        producer.poll(0.002 if len(producer) > 2000 else 0)
        with lock:
            if len(acked) != last_count:
                last_count, last_ack = len(acked), time.monotonic()
        if last_count and time.monotonic() - last_ack > 4:
            break
    return producer, acked, errors


def run_disk_full(suite, result) -> None:
    from confluent_kafka import Consumer, TopicPartition  # noqa: PLC0415 - the venv's

    if suite.quick:
        result.note("full run only (it fills a disk and restarts twice: half a minute)")
        return
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        result.note("SKIPPED: a small filesystem needs a user and mount namespace (`unshare --user --mount`), "
                    f"which this machine refuses ({probe.stderr.decode().strip()[:120]}); no disk-full trial ran")
        return
    size_mb, reserve_mb = 160, 8
    server = NsServer(suite, f"{size_mb}m", f"{reserve_mb}m")
    started_servers.append(server)
    try:
        if not server.start():
            result.fail(f"streamlab did not start on a {size_mb} MiB tmpfs: {server.log_tail()}")
            return
        topic = "full"
        make_topic(server, topic, 3, 3, {"min.insync.replicas": "2"})
        for p in range(3):
            wait_for_leader(server, topic, p)
        with suite.monitor(server) as monitor:
            producer, acked, errors = produce_until_full(server, topic)
            # What the broker answers a produce on the full disk (librdkafka retries it unseen).
            with leader_conn(server, topic) as conn:
                full = wire.batch(wire.record(value=b"x" * 4096))
                code, message = wire.produce_error(conn.request(wire.produce(topic, 0, full, timeout_ms=5000)))
        result.watch(monitor)
        server.kill9()
        producer.flush(12)
        del producer
        result.note(f"{size_mb} MiB tmpfs ({reserve_mb} MiB of it a reserve file): {len(acked)} records of 4 KiB "
                    f"acknowledged, then none for 4 s; a produce then: error {code} {message[:80]}; killed with "
                    f"SIGKILL; deliveries failed: {', '.join(f'{k} x{v}' for k, v in sorted(errors.items()))}")
        # On the full disk (the issue: it could not start; Kafka starts with the log dir offline).
        result.cases += 1
        started = server.start(wait_s=30)
        result.note(f"restart on the full disk ({server.df()}): "
                    + ("started" if started else f"did not start: {server.log_tail()}"))
        server.kill9()
        # With the reserve freed: every acknowledged record must be there.
        result.cases += 1
        if not server.start(free=True, wait_s=90):
            result.fail(f"no restart after freeing {reserve_mb} MiB ({server.df()}): {server.log_tail()}")
            return
        ends = {p: 0 for p in range(3)}
        for partition, offset in acked.values():
            ends[partition] = max(ends[partition], offset + 1)
        found = read_back(server, topic, ends, Consumer, TopicPartition)
        server.stop()
        check_read_back(result, acked, found)
    finally:
        server.close()


def read_back(server, topic: str, ends: dict, consumer_class, partition_class) -> dict:
    """Every record of `topic` {partition: {offset: value}}, once every partition's high watermark
    reached `ends` (or 90 s passed)."""
    consumer = consumer_class({"bootstrap.servers": server.bootstrap, "group.id": "hostile-read-back",
                               "enable.auto.commit": False, "enable.partition.eof": True, "log_level": 0})
    found: dict[int, dict[int, str]] = {p: {} for p in ends}
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            highs = {p: consumer.get_watermark_offsets(partition_class(topic, p), timeout=10)[1] for p in ends}
            if all(highs[p] >= ends[p] for p in ends):
                break
            time.sleep(0.5)
        consumer.assign([partition_class(topic, p, 0) for p in ends])
        eof: set[int] = set()
        while len(eof) < len(ends) and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == -191:  # _PARTITION_EOF
                    eof.add(msg.partition())
                continue
            found[msg.partition()][msg.offset()] = msg.value()[:24].decode()
    finally:
        consumer.close()
    return found


def check_read_back(result, acked: dict, found: dict) -> None:
    """0 acknowledged missing, 0 duplicates, contiguous offsets, each at its acknowledged offset."""
    values = [v for by_offset in found.values() for v in by_offset.values()]
    duplicates = len(values) - len(set(values))
    present = set(values)
    missing = [v for v in acked if v not in present]
    moved = [v for v, (p, o) in acked.items() if found[p].get(o, v) != v]
    gaps = sum(max(b) + 1 - len(b) for b in found.values() if b)
    result.note(f"read back {len(values)}: {len(missing)} acknowledged missing, {duplicates} duplicates, "
                f"{gaps} offset gaps, {len(moved)} at another offset than acknowledged")
    result.cases += len(acked)
    if not acked:
        result.fail("no record was acknowledged: the trial proves nothing")
    if missing:
        result.fail(f"{len(missing)} acknowledged records missing, e.g. {missing[:5]}")
    if duplicates:
        result.fail(f"{duplicates} duplicate records")
    if gaps:
        result.fail(f"{gaps} offsets missing inside the partitions")
    if moved:
        result.fail(f"{len(moved)} acknowledged records found at another offset, e.g. {moved[:3]}")


ON_MAIN_SERVER = [
    (1, "garbage and mutated frames", run_frames),
    (2, "malformed record batches", run_batches),
    (3, "decompression bombs", run_bombs),
    (4, "unfinished requests", run_unfinished),
    (5, "connection floods", run_floods),
    (7, "console scripts", run_console),
    (8, "group floods", run_groups),
    (9, "HTTP crawlers, cross-site posts", run_http),
]
OWN_SERVERS = [
    (6, "partition exhaustion, restart at 256 fds", run_partitions),
    (10, "kill -9 under acks=all", run_durability),
    (11, "disk full under acks=all", run_disk_full),
]
