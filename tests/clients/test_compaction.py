"""Log compaction seen by confluent-kafka: after the broker's cleaner has run, a consumer reading
from the beginning gets the latest value of each key at its original offset, and a deleted key
(tombstone) is gone once delete.retention.ms has passed; keyless records are refused; a kill -9
while the cleaner is busy loses no acknowledged record. (The exact crash points of a swap are
tested on the log itself: broker/src/log/cleaner/tests.rs.)
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition
from confluent_kafka.admin import NewTopic

from conftest import Broker
from support import wait_until
from test_confluent import TIMEOUT, admin, consume_to_end, consumer, producer

# Every batch in a segment of its own once segment.ms has passed; any dirty byte makes a log due.
TOPIC_CONFIGS = {"cleanup.policy": "compact", "segment.ms": "100", "min.cleanable.dirty.ratio": "0.01",
                 "delete.retention.ms": "0"}


@pytest.fixture
def compacting_broker(request, tmp_path):
    b = Broker(tmp_path / "data", tmp_path / "broker.log",
               extra_args=["--override", "log.cleaner.backoff.ms=50"]).start()
    try:
        yield b
    finally:
        b.stop()
        request.node.add_report_section("teardown", "broker log", b.log()[-20_000:])


def produce_one(p, topic: str, key: bytes | None, value: bytes | None) -> int:
    """Produce one record in a batch of its own; its offset."""
    delivered = []
    p.produce(topic, key=key, value=value, on_delivery=lambda err, msg: delivered.append((err, msg)))
    assert p.flush(TIMEOUT) == 0
    err, msg = delivered[0]
    assert err is None, err
    return msg.offset()


def read_all(broker, topic: str) -> list[tuple[int, bytes, bytes | None]]:
    c = consumer(broker)
    try:
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        return [(r.offset, r.key, r.value) for r in consume_to_end(c, {0})]
    finally:
        c.close()


def test_compaction_end_state_with_a_real_client(compacting_broker, topic_name):
    broker = compacting_broker
    topic = topic_name()
    a = admin(broker)  # keep the handle alive until the future resolves
    fs = a.create_topics([NewTopic(topic, 1, 1, config=TOPIC_CONFIGS)], operation_timeout=TIMEOUT)
    fs[topic].result(TIMEOUT)
    p = producer(broker, **{"linger.ms": 0})
    written = []
    for i in range(60):
        key = b"k%d" % (i % 7)
        written.append((produce_one(p, topic, key, b"v%d" % i), key, b"v%d" % i))
    written.append((produce_one(p, topic, b"k3", None), b"k3", None))  # delete k3

    # A record after segment.ms seals everything before it.
    time.sleep(0.3)
    end = produce_one(p, topic, b"end", b"1")
    latest = {}
    for offset, key, value in written:
        latest[key] = (offset, key, value)
    with_tombstone = sorted(latest.values()) + [(end, b"end", b"1")]
    wait_until(lambda: read_all(broker, topic) == with_tombstone, TIMEOUT, "the first clean")

    # The next clean (more dirty data) is past the tombstone's delete horizon: k3 is gone.
    time.sleep(0.3)
    end2 = produce_one(p, topic, b"end", b"2")
    without_k3 = [r for r in sorted(latest.values()) if r[1] != b"k3"] + [(end, b"end", b"1"), (end2, b"end", b"2")]
    wait_until(lambda: read_all(broker, topic) == without_k3, TIMEOUT, "the tombstone to go")

    # Keyless records are refused on a compacted topic (INVALID_RECORD, as Kafka's LogValidator).
    errors = []
    p.produce(topic, value=b"no key", on_delivery=lambda err, msg: errors.append(err))
    p.flush(TIMEOUT)
    assert errors and errors[0] is not None and errors[0].code() == KafkaError.INVALID_RECORD, errors


def test_a_kill_9_while_the_cleaner_is_busy_loses_nothing(compacting_broker, topic_name):
    broker = compacting_broker
    topic = topic_name()
    configs = {**TOPIC_CONFIGS, "segment.bytes": "65536"}
    a = admin(broker)  # keep the handle alive until the future resolves
    a.create_topics([NewTopic(topic, 1, 1, config=configs)], operation_timeout=TIMEOUT)[topic].result(TIMEOUT)
    # Batches well below segment.bytes (librdkafka's batch.size is 1 MB).
    p = producer(broker, **{"linger.ms": 5, "batch.size": 16384})
    latest = {}
    offsets = []
    for i in range(20_000):
        key = b"key-%d" % (i % 300)
        p.produce(topic, key=key, value=b"value-%06d-" % i + b"x" * 80,
                  on_delivery=lambda err, msg: offsets.append((err, msg.offset(), msg.key(), msg.value())))
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(TIMEOUT) == 0
    assert [err for err, *_ in offsets if err is not None] == []
    for _, offset, key, value in sorted(offsets, key=lambda d: d[1]):
        latest[key] = (offset, key, value)
    time.sleep(0.3)
    end = produce_one(p, topic, b"end", b"1")
    # The cleaner has been at work since the first segments rolled (it recopies the log from
    # its start each round): crash the broker while it may be in the middle of one.
    time.sleep(0.05)
    broker.restart(crash=True)

    expected = sorted(latest.values()) + [(end, b"end", b"1")]
    # Nothing acknowledged is lost, and the clean completes after the restart.
    wait_until(lambda: read_all(broker, topic) == expected, 30, "the compacted end state after kill -9")
