"""Idempotent producers (InitProducerId, per-partition sequence numbers, duplicate detection).

- kafka-python's *default* producer (enable_idempotence=True out of the box);
- confluent-kafka with enable.idempotence=true;
- raw Produce requests replaying a batch, as a client retry after a lost response would: the
  broker must answer with the original offsets and append nothing (Kafka remembers the last 5
  batches of each producer per partition), and reject a sequence gap.

The stored batches are read back raw (kafkaraw) to check that the producers really were
idempotent: producer id >= 0 and consecutive base sequences from 0.
"""

from __future__ import annotations

import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from kafka import KafkaProducer

import kafkaraw
from support import create_topic, compressible_value

NONE, OUT_OF_ORDER_SEQUENCE_NUMBER, DUPLICATE_SEQUENCE_NUMBER = 0, 45, 46


def assert_idempotent_batches(bootstrap: str, topic: str, partitions: int, expect_records: int):
    """Every stored batch carries a producer id/epoch; per partition the sequences run on from 0."""
    total = 0
    pids = set()
    for p in range(partitions):
        batches = kafkaraw.stored_batches(bootstrap, topic, p)
        seq = 0
        for b in batches:
            assert b.crc_ok
            assert b.producer_id >= 0 and b.producer_epoch >= 0, f"partition {p}: non-idempotent batch {b}"
            assert b.base_sequence == seq, f"partition {p}: base sequence {b.base_sequence}, expected {seq}: {b}"
            seq += b.record_count
            pids.add((b.producer_id, b.producer_epoch))
        total += seq
    assert total == expect_records
    assert len(pids) == 1, f"several producer ids/epochs in one producer's batches: {pids}"


def consume_values(bootstrap: str, topic: str, partitions: int, timeout: float = 15.0) -> list[bytes]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "assign-only-never-joins",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    out, eof = [], set()
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        deadline = time.monotonic() + timeout
        while len(eof) < partitions:
            assert time.monotonic() < deadline, f"no EOF on every partition after {timeout} s"
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
                eof.add(m.partition())
                continue
            eof.discard(m.partition())
            out.append(m.value())
    finally:
        c.close()
    return out


def test_kafka_python_default_producer(broker, topic_name):
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 2)
    p = KafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=20, request_timeout_ms=15_000,
                      max_block_ms=15_000)  # defaults: enable_idempotence=True, acks=all
    try:
        futures = [p.send(topic, key=b"k%d" % (i % 4), value=b"v%d" % i) for i in range(100)]
        p.flush(timeout=15)
        metas = [f.get(timeout=15) for f in futures]
    finally:
        p.close(timeout=10)
    assert sorted((m.partition, m.offset) for m in metas) == sorted(
        (part, off) for part in {m.partition for m in metas}
        for off in range(sum(1 for m in metas if m.partition == part)))
    assert_idempotent_batches(broker.bootstrap, topic, 2, 100)
    assert sorted(consume_values(broker.bootstrap, topic, 2)) == sorted(b"v%d" % i for i in range(100))


def test_confluent_enable_idempotence(broker, topic_name):
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 3)
    errors, client_errors = [], []

    def on_error(err):
        client_errors.append(err)

    p = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "linger.ms": 20,
                  "compression.type": "lz4", "message.timeout.ms": 15000,
                  "error_cb": on_error})

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)

    for i in range(300):
        p.produce(topic, key=b"k%d" % (i % 7), value=compressible_value(i), on_delivery=on_delivery)
        p.poll(0)
    try:
        remaining = p.flush(15)
    except (KafkaException, SystemError) as e:  # a fatal producer error surfaces from flush()
        raise AssertionError(f"producer failed: {e!r} (cause {e.__cause__!r}); errors {client_errors}") from e
    assert not client_errors, f"producer errors: {client_errors}"
    assert remaining == 0
    assert not errors, errors[:5]
    assert_idempotent_batches(broker.bootstrap, topic, 3, 300)
    assert sorted(consume_values(broker.bootstrap, topic, 3)) == sorted(compressible_value(i) for i in range(300))


def _init(bootstrap):
    err, pid, epoch = kafkaraw.init_producer_id(bootstrap)
    assert err == NONE, f"InitProducerId error {err}"
    assert pid >= 0 and epoch >= 0
    return pid, epoch


def _assert_duplicate_ack(res: kafkaraw.ProduceResult, original_base: int):
    # Kafka answers a retried duplicate with NONE and the original offsets; librdkafka also accepts
    # DUPLICATE_SEQUENCE_NUMBER (offset unknown). Either way nothing may be appended.
    assert res.error_code in (NONE, DUPLICATE_SEQUENCE_NUMBER), res
    if res.error_code == NONE:
        assert res.base_offset == original_base, f"duplicate acked at {res.base_offset}, original {original_base}"


def _log_end(bootstrap, topic) -> int:
    return kafkaraw.fetch(bootstrap, topic, 0, 0, max_bytes=1).high_watermark


def test_retried_batch_is_not_appended_twice(broker, topic_name):
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 1)
    pid, epoch = _init(broker.bootstrap)
    batch0 = kafkaraw.build_batch([b"a", b"b", b"c"], producer_id=pid, producer_epoch=epoch, base_sequence=0)
    batch3 = kafkaraw.build_batch([b"d", b"e"], producer_id=pid, producer_epoch=epoch, base_sequence=3)

    first = kafkaraw.produce(broker.bootstrap, topic, 0, batch0)
    assert (first.error_code, first.base_offset) == (NONE, 0)
    _assert_duplicate_ack(kafkaraw.produce(broker.bootstrap, topic, 0, batch0), 0)
    assert _log_end(broker.bootstrap, topic) == 3

    second = kafkaraw.produce(broker.bootstrap, topic, 0, batch3)
    assert (second.error_code, second.base_offset) == (NONE, 3)
    # Replays of the last batch and of an older one (Kafka keeps the last 5 per producer).
    _assert_duplicate_ack(kafkaraw.produce(broker.bootstrap, topic, 0, batch3), 3)
    _assert_duplicate_ack(kafkaraw.produce(broker.bootstrap, topic, 0, batch0), 0)
    assert _log_end(broker.bootstrap, topic) == 5

    # A gap in the sequence is refused and appends nothing.
    gap = kafkaraw.build_batch([b"x"], producer_id=pid, producer_epoch=epoch, base_sequence=10)
    res = kafkaraw.produce(broker.bootstrap, topic, 0, gap)
    assert res.error_code == OUT_OF_ORDER_SEQUENCE_NUMBER, res
    assert _log_end(broker.bootstrap, topic) == 5

    # The next in-order batch still goes in.
    batch5 = kafkaraw.build_batch([b"f"], producer_id=pid, producer_epoch=epoch, base_sequence=5)
    assert (kafkaraw.produce(broker.bootstrap, topic, 0, batch5).error_code) == NONE
    assert consume_values(broker.bootstrap, topic, 1) == [b"a", b"b", b"c", b"d", b"e", b"f"]


def test_two_producers_have_independent_sequences(broker, topic_name):
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 1)
    (pid1, e1), (pid2, e2) = _init(broker.bootstrap), _init(broker.bootstrap)
    assert pid1 != pid2
    for pid, epoch, tag in ((pid1, e1, b"p1"), (pid2, e2, b"p2")):
        res = kafkaraw.produce(broker.bootstrap, topic, 0, kafkaraw.build_batch(
            [tag + b"-0", tag + b"-1"], producer_id=pid, producer_epoch=epoch, base_sequence=0))
        assert res.error_code == NONE, res
    assert _log_end(broker.bootstrap, topic) == 4


def test_duplicate_detected_after_restart(broker, topic_name):
    """Kafka rebuilds producer state from the log: a retry that arrives after a restart is still a duplicate."""
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 1)
    pid, epoch = _init(broker.bootstrap)
    batch0 = kafkaraw.build_batch([b"a", b"b"], producer_id=pid, producer_epoch=epoch, base_sequence=0)
    assert kafkaraw.produce(broker.bootstrap, topic, 0, batch0).error_code == NONE

    broker.restart()

    _assert_duplicate_ack(kafkaraw.produce(broker.bootstrap, topic, 0, batch0), 0)
    assert _log_end(broker.bootstrap, topic) == 2
    batch2 = kafkaraw.build_batch([b"c"], producer_id=pid, producer_epoch=epoch, base_sequence=2)
    res = kafkaraw.produce(broker.bootstrap, topic, 0, batch2)
    assert (res.error_code, res.base_offset) == (NONE, 2)
