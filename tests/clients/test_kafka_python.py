"""kafka-python 3.0.12 (pure Python, flexible request versions) against the broker.

kafka-python's producer is idempotent by default (InitProducerId, acks=all): the tests use that
default, except the acks=0/1 ones (idempotence needs acks=all); test_idempotence.py checks the
producer ids and sequences it writes. Consumers use assign(), not consumer groups (test_groups.py).
"""

from __future__ import annotations

import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import TopicAlreadyExistsError

from support import (CODECS, Rec, assert_key_affinity, assert_offsets_dense, assert_stored_codec, by_partition,
                     compressible_value, wait_until)

TIMEOUT_MS = 15_000


def admin(broker) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=TIMEOUT_MS)


def create(broker, name: str, partitions: int):
    a = admin(broker)
    try:
        a.create_topics({name: {"num_partitions": partitions, "replication_factor": 1}}, wait_for_metadata=True)
    finally:
        a.close()


def producer(broker, **conf) -> KafkaProducer:
    base = dict(bootstrap_servers=broker.bootstrap, linger_ms=50,
                request_timeout_ms=TIMEOUT_MS, max_block_ms=TIMEOUT_MS, delivery_timeout_ms=30_000)
    return KafkaProducer(**{**base, **conf})


def produce_all(p: KafkaProducer, topic: str, records: list[dict], close: bool = True) -> list[tuple[int, int]]:
    """send() every record (kwargs of KafkaProducer.send), wait for every ack; (partition, offset) in order."""
    futures = [p.send(topic, **rec) for rec in records]
    p.flush(timeout=TIMEOUT_MS / 1000)
    out = []
    for f in futures:
        md = f.get(timeout=TIMEOUT_MS / 1000)
        out.append((md.partition, md.offset))
    if close:
        p.close(timeout=10)
    return out


def consumer(broker, **conf) -> KafkaConsumer:
    base = dict(bootstrap_servers=broker.bootstrap, group_id=None, enable_auto_commit=False,
                auto_offset_reset="earliest", request_timeout_ms=TIMEOUT_MS + 5000, fetch_max_wait_ms=100)
    return KafkaConsumer(**{**base, **conf})


def to_rec(m) -> Rec:
    return Rec(m.partition, m.offset, m.key, m.value, tuple((k, v) for k, v in (m.headers or [])), m.timestamp)


def consume_until(c: KafkaConsumer, ends: dict[TopicPartition, int], timeout: float = 15.0) -> list[Rec]:
    """Poll until the position of every partition reaches its end offset in `ends`."""
    out: list[Rec] = []
    deadline = time.monotonic() + timeout
    while any(c.position(tp, timeout_ms=TIMEOUT_MS) < end for tp, end in ends.items()):
        if time.monotonic() > deadline:
            pos = {f"{tp.topic}[{tp.partition}]": (c.position(tp), end) for tp, end in ends.items()}
            raise AssertionError(f"positions (now, wanted) {pos} after {timeout} s; got {len(out)} records")
        for batch in c.poll(timeout_ms=500).values():
            out.extend(to_rec(m) for m in batch)
    return out


def read_topic(broker, topic: str, partitions: int) -> list[Rec]:
    c = consumer(broker)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        return consume_until(c, c.end_offsets(tps, timeout_ms=TIMEOUT_MS))
    finally:
        c.close()


def test_metadata(broker, topic_name):
    topic = topic_name()
    create(broker, topic, 4)
    a = admin(broker)
    try:
        cluster = a.describe_cluster()
        brokers = sorted((b["broker_id"], b["host"], b["port"]) for b in cluster["brokers"])
        assert brokers == [(i, "127.0.0.1", broker.port + i - 1) for i in (1, 2, 3)]
        assert cluster["controller_id"] == 1
        assert cluster["cluster_id"]
        assert topic in a.list_topics()
        [t] = a.describe_topics([topic])
        assert t["error_code"] == 0
        parts = sorted(t["partitions"], key=lambda p: p["partition_index"])
        assert [p["partition_index"] for p in parts] == [0, 1, 2, 3]
        # One replica each, placed round-robin: partition p on broker p % 3 + 1, which leads it.
        for p in parts:
            home = p["partition_index"] % 3 + 1
            assert (p["leader_id"], p["replica_nodes"], p["isr_nodes"]) == (home, [home], [home])
    finally:
        a.close()


def test_admin_topic_lifecycle(broker, topic_name):
    topic = topic_name()
    create(broker, topic, 3)
    a = admin(broker)
    try:
        with pytest.raises(TopicAlreadyExistsError):
            a.create_topics({topic: {"num_partitions": 3, "replication_factor": 1}})
        configs = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all")
        topic_configs = configs["topic"][topic]
        assert topic_configs["cleanup.policy"]["value"] == "delete"
        assert int(topic_configs["retention.ms"]["value"]) > 0
        a.delete_topics([topic])
        wait_until(lambda: topic not in a.list_topics(), 10, f"{topic} to disappear from the metadata")
    finally:
        a.close()


def test_keyed_and_unkeyed_records(broker, topic_name):
    topic = topic_name()
    create(broker, topic, 3)
    keys = [f"device-{k}".encode() for k in range(12)]
    keyed = [{"key": k, "value": b"%s:%d" % (k, n), "headers": [("n", str(n).encode())]}
             for n in range(5) for k in keys]
    p = producer(broker)
    delivered = produce_all(p, topic, keyed, close=False)
    unkeyed = [{"value": b"plain-%d" % i} for i in range(30)]
    produce_all(p, topic, unkeyed)

    recs = read_topic(broker, topic, 3)
    assert len(recs) == len(keyed) + len(unkeyed)
    assert_offsets_dense(recs)
    assert_key_affinity([r for r in recs if r.key is not None], expect_keys=len(keys))
    got = {(r.partition, r.offset): r for r in recs}
    for rec, where in zip(keyed, delivered):
        r = got[where]
        assert (r.key, r.value, r.headers) == (rec["key"], rec["value"], tuple(rec["headers"]))
    assert sorted(r.value for r in recs if r.key is None) == sorted(u["value"] for u in unkeyed)


@pytest.mark.parametrize("codec", CODECS)
def test_compressed_batches(broker, topic_name, codec):
    topic = topic_name(codec)
    create(broker, topic, 2)
    records = [{"key": b"k%d" % (i % 5), "value": compressible_value(i), "partition": i % 2} for i in range(300)]
    produce_all(producer(broker, compression_type=codec, linger_ms=200), topic, records)
    recs = read_topic(broker, topic, 2)
    for part, got in by_partition(recs).items():
        assert [(r.key, r.value) for r in got] == [(r["key"], r["value"]) for r in records if r["partition"] == part]
    assert len(recs) == len(records)
    assert_stored_codec(broker.bootstrap, topic, [0, 1], codec, len(records))


@pytest.mark.parametrize("acks", [0, 1, "all"])
def test_acks(broker, topic_name, acks):
    topic = topic_name()
    create(broker, topic, 1)
    p = producer(broker, acks=acks, enable_idempotence=acks == "all")
    for f in [p.send(topic, value=b"a%d" % i) for i in range(20)]:
        f.get(timeout=TIMEOUT_MS / 1000)
    p.close(timeout=10)
    tp = TopicPartition(topic, 0)
    c = consumer(broker)
    try:
        c.assign([tp])
        wait_until(lambda: c.end_offsets([tp])[tp] == 20, 10, "all 20 records to be visible")
        recs = consume_until(c, {tp: 20})
    finally:
        c.close()
    assert [r.value for r in recs] == [b"a%d" % i for i in range(20)]


def test_consume_from_end(broker, topic_name):
    topic = topic_name()
    create(broker, topic, 2)
    produce_all(producer(broker), topic, [{"value": b"old-%d" % i, "partition": i % 2} for i in range(9)])
    tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
    c = consumer(broker)
    try:
        assert c.beginning_offsets(tps) == {tps[0]: 0, tps[1]: 0}
        assert c.end_offsets(tps) == {tps[0]: 5, tps[1]: 4}
        c.assign(tps)
        c.seek_to_end(*tps)
        assert [c.position(tp, timeout_ms=TIMEOUT_MS) for tp in tps] == [5, 4]
        assert c.poll(timeout_ms=300) == {}
        produce_all(producer(broker), topic, [{"value": b"new-%d" % i, "partition": i % 2} for i in range(4)])
        recs = consume_until(c, {tps[0]: 7, tps[1]: 6})
    finally:
        c.close()
    assert sorted((r.partition, r.offset, r.value) for r in recs) == [
        (0, 5, b"new-0"), (0, 6, b"new-2"), (1, 4, b"new-1"), (1, 5, b"new-3")]


def test_consume_from_timestamp(broker, topic_name):
    topic = topic_name()
    create(broker, topic, 3)
    base = int(time.time() * 1000) - 600_000
    early = [{"value": b"early-%d" % i, "partition": i % 3, "timestamp_ms": base + i} for i in range(9)]
    late = [{"value": b"late-%d" % i, "partition": i % 3, "timestamp_ms": base + 300_000 + i} for i in range(6)]
    produce_all(producer(broker), topic, early + late)
    tps = [TopicPartition(topic, p) for p in range(3)]
    c = consumer(broker)
    try:
        found = c.offsets_for_times({tp: base + 300_000 for tp in tps}, timeout_ms=TIMEOUT_MS)
        assert {tp.partition: (o.offset, o.timestamp) for tp, o in found.items()} == {
            0: (3, base + 300_000), 1: (3, base + 300_001), 2: (3, base + 300_002)}
        exact = c.offsets_for_times({tps[0]: base + 300_003}, timeout_ms=TIMEOUT_MS)[tps[0]]
        assert (exact.offset, exact.timestamp) == (4, base + 300_003)
        first = c.offsets_for_times({tps[1]: 0}, timeout_ms=TIMEOUT_MS)[tps[1]]
        assert (first.offset, first.timestamp) == (0, base + 1)
        assert c.offsets_for_times({tps[2]: base + 900_000}, timeout_ms=TIMEOUT_MS)[tps[2]] is None

        c.assign(tps)
        for tp, o in found.items():
            c.seek(tp, o.offset)
        recs = consume_until(c, {tp: 5 for tp in tps})
    finally:
        c.close()
    assert sorted((r.value, r.timestamp) for r in recs) == sorted((r["value"], r["timestamp_ms"]) for r in late)


def test_data_survives_restart(broker, topic_name):
    topic = topic_name()
    create(broker, topic, 3)
    produce_all(producer(broker, compression_type="gzip"), topic,
                [{"key": b"k%d" % (i % 10), "value": compressible_value(i), "headers": [("i", b"%d" % i)],
                  "timestamp_ms": 1_700_000_000_000 + i} for i in range(150)])
    before = read_topic(broker, topic, 3)
    assert len(before) == 150

    broker.restart()

    a = admin(broker)
    try:
        [t] = a.describe_topics([topic])
        assert len(t["partitions"]) == 3
    finally:
        a.close()
    after = read_topic(broker, topic, 3)
    assert sorted(after) == sorted(before)
    ends = {p: len(r) for p, r in by_partition(before).items()}
    more = produce_all(producer(broker), topic, [{"key": b"k%d" % i, "value": b"later"} for i in range(10)])
    for part, off in more:
        assert off >= ends.get(part, 0), f"offset {off} on partition {part} reused after restart"
