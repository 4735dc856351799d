"""Kafka's wire format by hand, for the hostile suite: frames, a few requests in their
non-flexible versions, their responses, and record batches (v2) whose every field a case may
make lie.

Kafka protocol guide: https://kafka.apache.org/protocol (request header v1, "Record Batch").
Only what tests/hostile/attacks.py sends is here; real clients (kcat, confluent-kafka) do the
rest of the suite's talking.
"""

from __future__ import annotations

import socket
import struct
import zlib

import crc32c  # tests/clients/requirements.txt (kafka-python's codec dependency)

# Kafka's error codes (protocol guide, "Error Codes").
NONE = 0
CORRUPT_MESSAGE = 2
MESSAGE_TOO_LARGE = 10
INVALID_TIMESTAMP = 32
INVALID_REQUEST = 42
POLICY_VIOLATION = 44
UNSUPPORTED_COMPRESSION_TYPE = 76
MEMBER_ID_REQUIRED = 79
GROUP_MAX_SIZE_REACHED = 81
INVALID_RECORD = 87

# Record batch attribute bits.
GZIP, SNAPPY, LZ4, ZSTD = 1, 2, 3, 4
LOG_APPEND_TIME = 0x08
TRANSACTIONAL = 0x10
CONTROL = 0x20

CLIENT_ID = b"streamlab-hostile"


# --- Primitive encoders ---------------------------------------------------------------------------


def i8(v: int) -> bytes:
    return struct.pack(">b", v)


def i16(v: int) -> bytes:
    return struct.pack(">h", v)


def i32(v: int) -> bytes:
    return struct.pack(">i", v)


def i64(v: int) -> bytes:
    return struct.pack(">q", v)


def string(s: str | bytes | None) -> bytes:
    if s is None:
        return i16(-1)
    raw = s.encode() if isinstance(s, str) else s
    return i16(len(raw)) + raw


def blob(b: bytes | None) -> bytes:
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def array(items: list[bytes] | None) -> bytes:
    if items is None:
        return i32(-1)
    return i32(len(items)) + b"".join(items)


def varint(value: int) -> bytes:
    """A zigzag varlong, as Kafka's ByteUtils.writeVarlong."""
    raw = ((value << 1) ^ (value >> 63)) & 0xFFFF_FFFF_FFFF_FFFF
    out = bytearray()
    while raw >= 0x80:
        out.append((raw & 0x7F) | 0x80)
        raw >>= 7
    out.append(raw)
    return bytes(out)


def frame(body: bytes) -> bytes:
    return i32(len(body)) + body


def header(api_key: int, version: int, correlation_id: int = 7) -> bytes:
    """Request header v1: api key, version, correlation id, client id."""
    return i16(api_key) + i16(version) + i32(correlation_id) + string(CLIENT_ID)


# --- Requests (non-flexible versions) -------------------------------------------------------------

API_PRODUCE, API_LIST_OFFSETS, API_METADATA = 0, 2, 3
API_FIND_COORDINATOR, API_JOIN_GROUP, API_API_VERSIONS, API_CREATE_TOPICS = 10, 11, 18, 19


def api_versions() -> tuple[int, int, bytes]:
    return API_API_VERSIONS, 0, b""


def metadata(topics: list[str] | None = None) -> tuple[int, int, bytes]:
    """Metadata v1 (null: every topic)."""
    return API_METADATA, 1, array(None if topics is None else [string(t) for t in topics])


def produce(
    topic: str, partition: int, records: bytes, acks: int = -1, timeout_ms: int = 30_000
) -> tuple[int, int, bytes]:
    """Produce v8: the last non-flexible version, with record_errors and error_message (KIP-467)."""
    data = i32(partition) + blob(records)
    body = string(None) + i16(acks) + i32(timeout_ms) + array([string(topic) + array([data])])
    return API_PRODUCE, 8, body


def list_offsets(topic: str, partition: int, timestamp: int = -1) -> tuple[int, int, bytes]:
    """ListOffsets v1 (-1: the log end offset)."""
    body = i32(-1) + array([string(topic) + array([i32(partition) + i64(timestamp)])])
    return API_LIST_OFFSETS, 1, body


def create_topics(
    topics: list[tuple[str, int, int, dict[str, str]]], validate_only: bool = False
) -> tuple[int, int, bytes]:
    """CreateTopics v4: (name, partitions, replication factor, configs) each."""
    encoded = []
    for name, partitions, replication, configs in topics:
        config_items = [string(k) + string(v) for k, v in configs.items()]
        encoded.append(string(name) + i32(partitions) + i16(replication) + array([]) + array(config_items))
    body = array(encoded) + i32(60_000) + i8(1 if validate_only else 0)
    return API_CREATE_TOPICS, 4, body


def find_coordinator(group: str) -> tuple[int, int, bytes]:
    return API_FIND_COORDINATOR, 1, string(group) + i8(0)


def join_group(group: str, member_id: str, metadata_bytes: bytes, session_ms: int = 10_000) -> tuple[int, int, bytes]:
    """JoinGroup v5 with one protocol ("range") carrying `metadata_bytes`."""
    protocols = array([string("range") + blob(metadata_bytes)])
    body = (
        string(group) + i32(session_ms) + i32(session_ms) + string(member_id) + string(None) + string("consumer")
        + protocols
    )
    return API_JOIN_GROUP, 5, body


# --- Responses ------------------------------------------------------------------------------------


class Reader:
    """Reads big-endian fields off a response body."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def i16(self) -> int:
        return self.take(">h")

    def i32(self) -> int:
        return self.take(">i")

    def i64(self) -> int:
        return self.take(">q")

    def string(self) -> str | None:
        n = self.i16()
        if n < 0:
            return None
        value = self.data[self.pos:self.pos + n].decode(errors="replace")
        self.pos += n
        return value

    def blob(self) -> bytes | None:
        n = self.i32()
        if n < 0:
            return None
        value = self.data[self.pos:self.pos + n]
        self.pos += n
        return value


def produce_error(body: bytes) -> tuple[int, str]:
    """(error code, error message) of the one partition of a Produce v8 response."""
    r = Reader(body)
    r.i32()  # topics
    r.string()
    r.i32()  # partitions
    r.i32()  # index
    code = r.i16()
    r.i64(), r.i64(), r.i64()  # base offset, log append time, log start offset
    for _ in range(r.i32()):  # record_errors
        r.i32()
        r.string()
    return code, r.string() or ""


def list_offsets_offset(body: bytes) -> tuple[int, int]:
    """(error code, offset) of the one partition of a ListOffsets v1 response."""
    r = Reader(body)
    r.i32()
    r.string()
    r.i32()
    r.i32()  # partition
    code = r.i16()
    r.i64()  # timestamp
    return code, r.i64()


def create_topics_errors(body: bytes) -> list[tuple[str, int, str]]:
    r = Reader(body)
    r.i32()  # throttle
    return [(r.string() or "", r.i16(), r.string() or "") for _ in range(r.i32())]


def find_coordinator_address(body: bytes) -> tuple[int, str, int]:
    r = Reader(body)
    r.i32()  # throttle
    code = r.i16()
    r.string()
    r.i32()  # node id
    return code, r.string() or "", r.i32()


def join_group_result(body: bytes) -> tuple[int, str]:
    """(error code, member id) of a JoinGroup v5 response."""
    r = Reader(body)
    r.i32()  # throttle
    code = r.i16()
    r.i32()  # generation
    r.string()  # protocol
    r.string()  # leader
    return code, r.string() or ""


# --- A connection ---------------------------------------------------------------------------------


class Closed(Exception):
    """The broker closed the connection (or reset it)."""


class Conn:
    """One Kafka connection: sends a request, reads its response frame."""

    def __init__(self, address: tuple[str, int], timeout: float = 30.0):
        self.sock = socket.create_connection(address, timeout=timeout)
        self.correlation = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, request: tuple[int, int, bytes]) -> int:
        api_key, version, body = request
        self.correlation += 1
        self.sock.sendall(frame(header(api_key, version, self.correlation) + body))
        return self.correlation

    def read_frame(self) -> bytes:
        size = struct.unpack(">i", self.read_exactly(4))[0]
        return self.read_exactly(size)

    def read_exactly(self, n: int) -> bytes:
        chunks, left = [], n
        while left:
            try:
                chunk = self.sock.recv(min(left, 1 << 20))
            except ConnectionResetError as exc:
                raise Closed("reset") from exc
            if not chunk:
                raise Closed("closed")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def request(self, request: tuple[int, int, bytes]) -> bytes:
        """Sends `request` and returns its response body (after the correlation id)."""
        correlation = self.send(request)
        response = self.read_frame()
        got = struct.unpack_from(">i", response)[0]
        if got != correlation:
            raise RuntimeError(f"correlation id {got}, expected {correlation}")
        return response[4:]


def outcome(sock: socket.socket, wait_s: float) -> str:
    """What the broker did with what was just written: "closed", "answered" (a frame came back,
    or some bytes) or "silent" (nothing within `wait_s`)."""
    sock.settimeout(wait_s)
    try:
        data = sock.recv(65536)
    except (ConnectionResetError, BrokenPipeError):
        return "closed"
    except TimeoutError:
        return "silent"
    except OSError:
        return "closed"
    return "answered" if data else "closed"


# --- Record batches (magic 2) ---------------------------------------------------------------------


def record(
    offset_delta: int = 0,
    key: bytes | None = b"k",
    value: bytes | None = b"v",
    key_len: int | None = None,
    value_len: int | None = None,
    header_count: int | None = None,
    headers: list[tuple[int, bytes, int, bytes]] = (),
    length_delta: int = 0,
    length: int | None = None,
) -> bytes:
    """One record with its length in front; every length may be given to make it lie."""
    body = bytearray(b"\x00")  # attributes
    body += varint(0)  # timestampDelta
    body += varint(offset_delta)
    body += varint(key_len if key_len is not None else (-1 if key is None else len(key)))
    body += key or b""
    body += varint(value_len if value_len is not None else (-1 if value is None else len(value)))
    body += value or b""
    body += varint(header_count if header_count is not None else len(headers))
    for hk_len, hk, hv_len, hv in headers:
        body += varint(hk_len) + hk + varint(hv_len) + hv
    n = length if length is not None else len(body) + length_delta
    return varint(n) + bytes(body)


def batch(
    records: bytes,
    count: int = 1,
    attributes: int = 0,
    last_offset_delta: int | None = None,
    max_timestamp: int = 1,
    producer_id: int = -1,
    base_sequence: int = -1,
    magic: int = 2,
) -> bytes:
    """A v2 batch header in front of `records` (already encoded, compressed or not), right CRC."""
    delta = count - 1 if last_offset_delta is None else last_offset_delta
    out = bytearray()
    out += i64(0)  # baseOffset
    out += i32(49 + len(records))  # batchLength
    out += i32(0)  # partitionLeaderEpoch
    out += i8(magic)
    out += b"\x00\x00\x00\x00"  # crc, below
    out += i16(attributes) + i32(delta) + i64(1) + i64(max_timestamp)
    out += i64(producer_id) + i16(0) + i32(base_sequence) + i32(count)
    out += records
    fix_crc(out)
    return bytes(out)


def fix_crc(b: bytearray) -> None:
    """Recomputes the CRC-32C over bytes 21.. after a case changed covered bytes."""
    b[17:21] = struct.pack(">I", crc32c.crc32c(bytes(b[21:])))


def gzip_bytes(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()
