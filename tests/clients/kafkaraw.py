"""A tiny raw Kafka protocol client, for looking at what the broker stored and for requests that
the real clients never send on purpose (a retried duplicate, a sequence gap).

Only old, non-flexible request versions (header v1), which the broker advertises:
Fetch v4, Produce v3, InitProducerId v0. Record batches are built with kafka-python's
DefaultRecordBatchBuilder and read back header by header (the 61-byte v2 batch header).
"""

from __future__ import annotations

import itertools
import socket
import struct
from dataclasses import dataclass

import crc32c

CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
CODEC_IDS = {name: cid for cid, name in CODECS.items()}

FETCH, PRODUCE, METADATA, INIT_PRODUCER_ID = 1, 0, 3, 22

_correlation = itertools.count(1)


class KafkaRawError(Exception):
    pass


def _string(s: str | None) -> bytes:
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def _bytes(b: bytes | None) -> bytes:
    if b is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(b)) + bytes(b)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise KafkaRawError(f"short response: need {size} bytes at {self.pos}, have {len(self.data)}")
        vals = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return vals if len(vals) > 1 else vals[0]

    def string(self) -> str | None:
        n = self.take(">h")
        if n < 0:
            return None
        s = self.data[self.pos : self.pos + n].decode()
        self.pos += n
        return s

    def bytes(self) -> bytes | None:
        n = self.take(">i")
        if n < 0:
            return None
        b = self.data[self.pos : self.pos + n]
        self.pos += n
        return b


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise KafkaRawError(f"connection closed by the broker after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def request(bootstrap: str, api_key: int, version: int, body: bytes, timeout: float = 10.0) -> bytes:
    """Send one request on a fresh connection; return the response body (after the correlation id)."""
    host, port = bootstrap.rsplit(":", 1)
    corr = next(_correlation)
    header = struct.pack(">hhi", api_key, version, corr) + _string("streamlab-raw")
    frame = header + body
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(struct.pack(">i", len(frame)) + frame)
        (length,) = struct.unpack(">i", _recv_exact(sock, 4))
        resp = _recv_exact(sock, length)
    (got,) = struct.unpack_from(">i", resp, 0)
    if got != corr:
        raise KafkaRawError(f"correlation id {got} != {corr}")
    return resp[4:]


@dataclass
class Batch:
    base_offset: int
    last_offset_delta: int
    record_count: int
    attributes: int
    partition_leader_epoch: int
    magic: int
    crc: int
    crc_ok: bool
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    size: int

    @property
    def codec(self) -> str:
        return CODECS.get(self.attributes & 0x07, f"unknown({self.attributes & 0x07})")

    @property
    def next_offset(self) -> int:
        return self.base_offset + self.last_offset_delta + 1

    @property
    def transactional(self) -> bool:
        return bool(self.attributes & 0x10)

    @property
    def control(self) -> bool:
        return bool(self.attributes & 0x20)


def parse_batches(records: bytes) -> list[Batch]:
    """Batch headers of a Fetch `records` blob (a trailing partial batch is ignored, as clients do)."""
    out = []
    pos = 0
    while pos + 61 <= len(records):
        base_offset, batch_length = struct.unpack_from(">qi", records, pos)
        end = pos + 12 + batch_length
        if end > len(records):
            break
        (leader_epoch, magic, crc, attributes, last_delta, base_ts, max_ts, pid, epoch, base_seq, count) = (
            struct.unpack_from(">ibIhiqqqhii", records, pos + 12)
        )
        crc_ok = crc32c.crc32c(records[pos + 21 : end]) == crc
        out.append(
            Batch(
                base_offset, last_delta, count, attributes, leader_epoch, magic, crc, crc_ok,
                base_ts, max_ts, pid, epoch, base_seq, end - pos,
            )
        )
        pos = end
    return out


@dataclass
class FetchResult:
    error_code: int
    high_watermark: int
    last_stable_offset: int
    records: bytes


def leader(bootstrap: str, topic: str, partition: int, timeout: float = 10.0) -> str:
    """The `host:port` of the partition's leader, from Metadata v1: Fetch and Produce go there
    (the cluster has several brokers; the others answer NOT_LEADER_OR_FOLLOWER)."""
    body = struct.pack(">i", 1) + _string(topic)
    r = _Reader(request(bootstrap, METADATA, 1, body, timeout))
    brokers = {}
    for _ in range(r.take(">i")):
        node_id = r.take(">i")
        host = r.string()
        port = r.take(">i")
        r.string()  # rack
        brokers[node_id] = f"{host}:{port}"
    r.take(">i")  # controller_id
    for _ in range(r.take(">i")):
        r.take(">h")
        name = r.string()
        r.take(">b")  # is_internal
        for _ in range(r.take(">i")):
            _error, index, leader_id = r.take(">hii")
            for _ in range(2):  # replicas, isr
                for _ in range(r.take(">i")):
                    r.take(">i")
            if name == topic and index == partition and leader_id in brokers:
                return brokers[leader_id]
    raise KafkaRawError(f"no leader for {topic}[{partition}] in the Metadata response")


def fetch(bootstrap: str, topic: str, partition: int, offset: int, max_bytes: int = 8 << 20,
          max_wait_ms: int = 0, timeout: float = 10.0) -> FetchResult:
    """One Fetch v4 (read_uncommitted) of one partition from `offset`, from its leader."""
    body = struct.pack(">iiiib", -1, max_wait_ms, 0, max_bytes, 0)
    body += struct.pack(">i", 1) + _string(topic) + struct.pack(">i", 1)
    body += struct.pack(">iqi", partition, offset, max_bytes)
    r = _Reader(request(leader(bootstrap, topic, partition, timeout), FETCH, 4, body, timeout))
    r.take(">i")  # throttle_time_ms
    for _ in range(r.take(">i")):
        name = r.string()
        for _ in range(r.take(">i")):
            index, error, hw, lso = r.take(">ihqq")
            n_aborted = r.take(">i")
            for _ in range(max(n_aborted, 0)):
                r.take(">qq")
            records = r.bytes() or b""
            if name == topic and index == partition:
                return FetchResult(error, hw, lso, records)
    raise KafkaRawError(f"no {topic}[{partition}] in the Fetch response")


def stored_batches(bootstrap: str, topic: str, partition: int, start: int = 0) -> list[Batch]:
    """Every batch of a partition from `start` up to its high watermark, as the broker serves them."""
    batches: list[Batch] = []
    offset = start
    for _ in range(10_000):
        res = fetch(bootstrap, topic, partition, offset)
        if res.error_code != 0:
            raise KafkaRawError(f"Fetch {topic}[{partition}]@{offset}: error code {res.error_code}")
        got = parse_batches(res.records)
        if not got:
            if offset < res.high_watermark:
                raise KafkaRawError(
                    f"Fetch {topic}[{partition}]@{offset} returned no whole batch below HW {res.high_watermark}"
                )
            return batches
        batches.extend(got)
        offset = got[-1].next_offset
        if offset >= res.high_watermark:
            return batches
    raise KafkaRawError("too many fetches")


def build_batch(values: list[bytes], *, producer_id: int = -1, producer_epoch: int = -1,
                base_sequence: int = -1, codec: str = "none", timestamp_ms: int = 1_700_000_000_000,
                keys: list[bytes | None] | None = None) -> bytes:
    """A v2 record batch (base offset 0) built by kafka-python's own batch builder."""
    from kafka.record.default_records import DefaultRecordBatchBuilder

    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=CODEC_IDS[codec], is_transactional=False,
        producer_id=producer_id, producer_epoch=producer_epoch, base_sequence=base_sequence,
        batch_size=1 << 20,
    )
    for i, value in enumerate(values):
        key = keys[i] if keys else None
        builder.append(i, timestamp=timestamp_ms + i, key=key, value=value, headers=[])
    return bytes(builder.build())


@dataclass
class ProduceResult:
    error_code: int
    base_offset: int
    log_append_time: int


def produce(bootstrap: str, topic: str, partition: int, batch: bytes, acks: int = -1,
            timeout: float = 10.0) -> ProduceResult:
    """One Produce v3 of one batch to one partition, to its leader."""
    body = _string(None) + struct.pack(">hi", acks, 10_000)
    body += struct.pack(">i", 1) + _string(topic) + struct.pack(">i", 1)
    body += struct.pack(">i", partition) + _bytes(batch)
    r = _Reader(request(leader(bootstrap, topic, partition, timeout), PRODUCE, 3, body, timeout))
    for _ in range(r.take(">i")):
        name = r.string()
        for _ in range(r.take(">i")):
            index, error, base_offset, append_time = r.take(">ihqq")
            if name == topic and index == partition:
                return ProduceResult(error, base_offset, append_time)
    raise KafkaRawError(f"no {topic}[{partition}] in the Produce response")


def init_producer_id(bootstrap: str, timeout: float = 10.0) -> tuple[int, int, int]:
    """InitProducerId v0 without a transactional id: (error_code, producer_id, producer_epoch)."""
    body = _string(None) + struct.pack(">i", 60_000)
    r = _Reader(request(bootstrap, INIT_PRODUCER_ID, 0, body, timeout))
    _throttle, error, pid, epoch = r.take(">ihqh")
    return error, pid, epoch
