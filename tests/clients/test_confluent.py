"""confluent-kafka 2.16.1 (bundled librdkafka 2.16.0) against the broker.

Consumers here use partition assignment (assign), not consumer groups: see test_groups.py.
librdkafka needs a group.id even for assign(); it is never used to join (no subscribe, no commit).
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import (OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, NewTopic,
                                   ResourceType)

from support import (CODECS, Rec, assert_key_affinity, assert_offsets_dense, assert_stored_codec, by_partition,
                     compressible_value, wait_until)

TIMEOUT = 15.0


def admin(broker) -> AdminClient:
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def create(broker, name: str, partitions: int):
    a = admin(broker)  # keep the handle alive until the future resolves
    fs = a.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                         operation_timeout=TIMEOUT, request_timeout=TIMEOUT)
    fs[name].result(TIMEOUT)


def producer(broker, **conf) -> Producer:
    base = {"bootstrap.servers": broker.bootstrap, "linger.ms": 50, "message.timeout.ms": 15000,
            "acks": "all"}
    return Producer({**base, **conf})


def produce_all(p: Producer, topic: str, records: list[dict]) -> list[tuple[int, int]]:
    """Produce every record (kwargs of Producer.produce), flush, return (partition, offset) in order."""
    results: list = [None] * len(records)
    errors = []

    def on_delivery(i):
        def cb(err, msg):
            if err is not None:
                errors.append((i, err))
            else:
                results[i] = (msg.partition(), msg.offset())
        return cb

    for i, rec in enumerate(records):
        p.produce(topic, on_delivery=on_delivery(i), **rec)
        p.poll(0)
    remaining = p.flush(TIMEOUT)
    assert remaining == 0, f"{remaining} records not delivered in {TIMEOUT} s"
    assert not errors, f"delivery errors: {errors[:5]}"
    return results


def to_rec(msg) -> Rec:
    headers = tuple((k, v) for k, v in (msg.headers() or []))
    return Rec(msg.partition(), msg.offset(), msg.key(), msg.value(), headers, msg.timestamp()[1])


def consumer(broker, **conf) -> Consumer:
    base = {"bootstrap.servers": broker.bootstrap, "group.id": "assign-only-never-joins",
            "enable.auto.commit": False, "enable.partition.eof": True, "auto.offset.reset": "error"}
    return Consumer({**base, **conf})


def consume_to_end(c: Consumer, partitions: set[int], timeout: float = TIMEOUT) -> list[Rec]:
    """Poll until every partition in `partitions` has reported EOF after its last record."""
    out: list[Rec] = []
    at_eof: set[int] = set()
    deadline = time.monotonic() + timeout
    while at_eof != partitions:
        if time.monotonic() > deadline:
            raise AssertionError(f"no EOF on partitions {sorted(partitions - at_eof)} after {timeout} s; "
                                 f"got {len(out)} records")
        msg = c.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                at_eof.add(msg.partition())
                continue
            raise AssertionError(f"consumer error: {msg.error()}")
        at_eof.discard(msg.partition())
        out.append(to_rec(msg))
    return out


def read_topic(broker, topic: str, partitions: int, **conf) -> list[Rec]:
    c = consumer(broker, **conf)
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        return consume_to_end(c, set(range(partitions)))
    finally:
        c.close()


def test_metadata(broker, topic_name):
    topic = topic_name()
    create(broker, topic, 4)
    md = admin(broker).list_topics(timeout=TIMEOUT)
    # The default cluster: three brokers on consecutive ports; KRaft names a broker as controller.
    assert sorted(md.brokers) == [1, 2, 3]
    for i in (1, 2, 3):
        b = md.brokers[i]
        assert (b.id, b.host, b.port) == (i, "127.0.0.1", broker.port + i - 1)
    assert md.controller_id == 1
    assert md.cluster_id, "no cluster id"
    t = md.topics[topic]
    assert t.error is None
    assert sorted(t.partitions) == [0, 1, 2, 3]
    # One replica each, placed round-robin: partition p on broker p % 3 + 1, which leads it.
    for p, pm in t.partitions.items():
        assert (pm.leader, pm.replicas, pm.isrs, pm.error) == (p % 3 + 1, [p % 3 + 1], [p % 3 + 1], None)
    one = admin(broker).list_topics(topic, timeout=TIMEOUT)
    assert list(one.topics) == [topic]


def test_admin_topic_lifecycle(broker, topic_name):
    topic = topic_name()
    create(broker, topic, 3)
    with pytest.raises(KafkaException) as exc:
        create(broker, topic, 3)
    assert exc.value.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS

    a = admin(broker)
    [fut] = a.describe_configs([ConfigResource("topic", topic)], request_timeout=TIMEOUT).values()
    configs = fut.result(TIMEOUT)
    assert configs["cleanup.policy"].value == "delete"
    assert int(configs["retention.ms"].value) > 0

    fs = a.delete_topics([topic], operation_timeout=TIMEOUT, request_timeout=TIMEOUT)
    fs[topic].result(TIMEOUT)
    wait_until(lambda: topic not in admin(broker).list_topics(timeout=TIMEOUT).topics, 10,
               f"{topic} to disappear from the metadata")


def test_dynamic_broker_configs(broker, topic_name):
    """kafka-configs.sh --entity-type brokers --entity-name N, through the admin client: a broker's
    own log.retention.ms becomes a topic's retention.ms unless the topic sets its own. (librdkafka
    cannot name the cluster-wide default: it refuses an empty broker resource name, so
    `ConfigResource(BROKER, "")` raises ValueError before anything is sent; the Rust tests cover it.)"""
    plain, own = topic_name(), topic_name()
    a = admin(broker)
    fs = a.create_topics([NewTopic(plain, num_partitions=1, replication_factor=1),
                          NewTopic(own, num_partitions=1, replication_factor=1, config={"retention.ms": "1000"})],
                         operation_timeout=TIMEOUT, request_timeout=TIMEOUT)
    for fut in fs.values():
        fut.result(TIMEOUT)
    brokers = sorted(admin(broker).list_topics(timeout=TIMEOUT).brokers)

    def alter(entries: list[ConfigEntry], broker_ids=brokers):
        # Each broker's own resource goes to that broker (librdkafka routes it by id).
        for broker_id in broker_ids:
            resource = ConfigResource(ResourceType.BROKER, str(broker_id), incremental_configs=entries)
            [fut] = a.incremental_alter_configs([resource], request_timeout=TIMEOUT).values()
            fut.result(TIMEOUT)

    def described(resource: ConfigResource, name: str):
        [fut] = a.describe_configs([resource], request_timeout=TIMEOUT).values()
        entry = fut.result(TIMEOUT)[name]
        return entry.value, entry.source

    def retention(topic: str):
        return described(ConfigResource(ResourceType.TOPIC, topic), "retention.ms")

    assert retention(plain) == ("604800000", ConfigSource.DEFAULT_CONFIG.value)
    alter([ConfigEntry("log.retention.ms", "5000", incremental_operation=AlterConfigOpType.SET)])
    # Whichever broker describes the topic, the value is its own.
    assert retention(plain) == ("5000", ConfigSource.DYNAMIC_BROKER_CONFIG.value)
    assert retention(own) == ("1000", ConfigSource.DYNAMIC_TOPIC_CONFIG.value)
    for broker_id in brokers:
        assert described(ConfigResource(ResourceType.BROKER, str(broker_id)), "log.retention.ms") == \
            ("5000", ConfigSource.DYNAMIC_BROKER_CONFIG.value)

    alter([ConfigEntry("log.retention.ms", None, incremental_operation=AlterConfigOpType.DELETE)])
    assert retention(plain) == ("604800000", ConfigSource.DEFAULT_CONFIG.value)
    with pytest.raises(KafkaException) as exc:
        alter([ConfigEntry("broker.session.timeout.ms", "1000", incremental_operation=AlterConfigOpType.SET)],
              brokers[:1])
    error = exc.value.args[0]
    assert error.code() == KafkaError.INVALID_REQUEST
    assert "Cannot update these configs dynamically: Set(broker.session.timeout.ms)" in error.str()


def test_keyed_and_unkeyed_records(broker, topic_name):
    topic = topic_name()
    create(broker, topic, 3)
    p = producer(broker)
    keys = [f"order-{k}".encode() for k in range(12)]
    keyed = [{"key": k, "value": b"%s:%d" % (k, n), "headers": [("n", str(n).encode()), ("src", b"ck")]}
             for n in range(5) for k in keys]
    delivered = produce_all(p, topic, keyed)
    unkeyed = [{"value": b"plain-%d" % i} for i in range(30)]
    produce_all(p, topic, unkeyed)

    # Delivery reports already show the affinity; the consumed records must agree.
    for rec, (part, _off) in zip(keyed, delivered):
        assert part == delivered[keys.index(rec["key"])][0]
    recs = read_topic(broker, topic, 3)
    assert len(recs) == len(keyed) + len(unkeyed)
    assert_offsets_dense(recs)
    assert_key_affinity([r for r in recs if r.key is not None], expect_keys=len(keys))
    got = {(r.partition, r.offset): r for r in recs}
    for rec, (part, off) in zip(keyed, delivered):
        r = got[(part, off)]
        assert (r.key, r.value, r.headers) == (rec["key"], rec["value"], tuple(rec["headers"]))
    assert sorted(r.value for r in recs if r.key is None) == sorted(u["value"] for u in unkeyed)


@pytest.mark.parametrize("codec", CODECS)
def test_compressed_batches(broker, topic_name, codec):
    topic = topic_name(codec)
    create(broker, topic, 2)
    p = producer(broker, **{"compression.type": codec, "linger.ms": 200})
    records = [{"key": b"k%d" % (i % 5), "value": compressible_value(i), "partition": i % 2} for i in range(300)]
    produce_all(p, topic, records)
    recs = read_topic(broker, topic, 2)
    assert sorted((r.partition, r.key, r.value) for r in recs) == sorted(
        (r["partition"], r["key"], r["value"]) for r in records)
    for part, got in by_partition(recs).items():  # order within a partition is produce order
        assert [r.value for r in got] == [r["value"] for r in records if r["partition"] == part]
    assert_stored_codec(broker.bootstrap, topic, [0, 1], codec, len(records))


@pytest.mark.parametrize("acks", ["0", "1", "all"])
def test_acks(broker, topic_name, acks):
    topic = topic_name()
    create(broker, topic, 1)
    produce_all(producer(broker, acks=acks), topic, [{"value": b"a%d" % i} for i in range(20)])
    recs = read_topic(broker, topic, 1)
    assert [r.value for r in recs] == [b"a%d" % i for i in range(20)]


def test_watermarks_and_consume_from_end(broker, topic_name):
    topic = topic_name()
    create(broker, topic, 2)
    produce_all(producer(broker), topic, [{"value": b"old-%d" % i, "partition": i % 2} for i in range(9)])
    c = consumer(broker)
    try:
        assert c.get_watermark_offsets(TopicPartition(topic, 0), timeout=TIMEOUT) == (0, 5)
        assert c.get_watermark_offsets(TopicPartition(topic, 1), timeout=TIMEOUT) == (0, 4)
        c.assign([TopicPartition(topic, 0, OFFSET_END), TopicPartition(topic, 1, OFFSET_END)])
        # EOF on both partitions: the end offsets are resolved and fetching has started there.
        assert consume_to_end(c, {0, 1}) == []
        produce_all(producer(broker), topic, [{"value": b"new-%d" % i, "partition": i % 2} for i in range(4)])
        recs = consume_to_end(c, {0, 1})
    finally:
        c.close()
    assert sorted((r.partition, r.offset, r.value) for r in recs) == [
        (0, 5, b"new-0"), (0, 6, b"new-2"), (1, 4, b"new-1"), (1, 5, b"new-3")]


def test_consume_from_timestamp(broker, topic_name):
    topic = topic_name()
    create(broker, topic, 3)
    base = int(time.time() * 1000) - 600_000
    early = [{"value": b"early-%d" % i, "partition": i % 3, "timestamp": base + i} for i in range(9)]
    late = [{"value": b"late-%d" % i, "partition": i % 3, "timestamp": base + 300_000 + i} for i in range(6)]
    produce_all(producer(broker), topic, early)
    produce_all(producer(broker), topic, late)

    c = consumer(broker)
    try:
        query = [TopicPartition(topic, p, base + 300_000) for p in range(3)]
        found = c.offsets_for_times(query, timeout=TIMEOUT)
        assert [(tp.partition, tp.offset, tp.error) for tp in found] == [(0, 3, None), (1, 3, None), (2, 3, None)]
        # Exactly at the second late record of partition 0 (timestamp base+300_003).
        [tp] = c.offsets_for_times([TopicPartition(topic, 0, base + 300_003)], timeout=TIMEOUT)
        assert tp.offset == 4
        # Before everything: offset 0. After everything: -1 (no such record).
        [first] = c.offsets_for_times([TopicPartition(topic, 1, 0)], timeout=TIMEOUT)
        assert first.offset == 0
        [none] = c.offsets_for_times([TopicPartition(topic, 2, base + 900_000)], timeout=TIMEOUT)
        assert none.offset == OFFSET_END

        c.assign(found)
        recs = consume_to_end(c, {0, 1, 2})
    finally:
        c.close()
    assert sorted((r.value, r.timestamp) for r in recs) == sorted((r["value"], r["timestamp"]) for r in late)


def test_data_survives_restart(broker, topic_name):
    topic = topic_name()
    create(broker, topic, 3)
    produce_all(producer(broker, **{"compression.type": "zstd"}), topic,
                [{"key": b"k%d" % (i % 10), "value": compressible_value(i), "headers": [("i", b"%d" % i)],
                  "timestamp": 1_700_000_000_000 + i} for i in range(150)])
    before = read_topic(broker, topic, 3)
    assert len(before) == 150

    broker.restart()

    md = admin(broker).list_topics(topic, timeout=TIMEOUT)
    assert sorted(md.topics[topic].partitions) == [0, 1, 2]
    after = read_topic(broker, topic, 3)
    assert sorted(after) == sorted(before)
    ends = {p: len(r) for p, r in by_partition(before).items()}
    c = consumer(broker)
    try:
        for p in range(3):
            assert c.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT) == (0, ends.get(p, 0))
    finally:
        c.close()
    more = produce_all(producer(broker), topic, [{"key": b"k%d" % i, "value": b"later"} for i in range(10)])
    for part, off in more:
        assert off >= ends.get(part, 0), f"offset {off} on partition {part} reused after restart"


def test_acked_records_survive_sigkill(broker, topic_name):
    """A crash (SIGKILL) after acks=all must not lose acknowledged records."""
    topic = topic_name()
    create(broker, topic, 2)
    delivered = produce_all(producer(broker, acks="all"), topic,
                            [{"key": b"k%d" % i, "value": b"v%d" % i} for i in range(100)])
    broker.restart(crash=True)
    recs = read_topic(broker, topic, 2)
    assert sorted((r.partition, r.offset) for r in recs) == sorted(delivered)
