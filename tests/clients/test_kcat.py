"""kcat 1.7.1 (Debian's, on librdkafka 2.0.2: the oldest client of the matrix) against the broker.

kcat cannot create topics: multi-partition topics are created with the confluent-kafka admin
client; the rest are auto-created on first use, as a learner's kcat -P would do.
"""

from __future__ import annotations

import json
import re

import pytest

from support import (CODECS, Background, Window, assert_key_affinity, assert_offsets_dense, assert_stored_codec,
                     by_partition, compressible_value, create_topic, kcat, kcat_consume, parse_kcat_json)

# Fail fast instead of librdkafka's 5-minute default when the broker does not answer.
PRODUCE_OPTS = ["-X", "message.timeout.ms=15000", "-X", "linger.ms=100"]


def kcat_produce(broker, topic, lines, *args):
    data = "".join(f"{line}\n" for line in lines).encode()
    kcat(broker.bootstrap, "-P", "-t", topic, *PRODUCE_OPTS, *args, input=data)


def test_metadata_lists_broker_and_topics(broker, topic_name):
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 3)
    md = json.loads(kcat(broker.bootstrap, "-L", "-J").stdout)
    assert md["brokers"] == [{"id": i, "name": f"127.0.0.1:{broker.port + i - 1}"} for i in (1, 2, 3)]
    assert md["controllerid"] == 1
    topics = {t["topic"]: t for t in md["topics"]}
    assert topic in topics, f"topics listed: {sorted(topics)}"
    parts = sorted(topics[topic]["partitions"], key=lambda p: p["partition"])
    assert [p["partition"] for p in parts] == [0, 1, 2]
    # One replica each, placed round-robin: partition p on broker p % 3 + 1, which leads it.
    for p in parts:
        home = p["partition"] % 3 + 1
        assert p["leader"] == home
        assert [r["id"] for r in p["replicas"]] == [home]
        assert [r["id"] for r in p["isrs"]] == [home]


def test_produce_auto_creates_topic(broker, topic_name):
    topic = topic_name()
    kcat_produce(broker, topic, ["one", "two", "three"])
    md = json.loads(kcat(broker.bootstrap, "-L", "-J", "-t", topic).stdout)
    [t] = md["topics"]
    assert t["topic"] == topic and len(t["partitions"]) == 1 and "error" not in t
    recs = kcat_consume(broker.bootstrap, topic, "-o", "beginning")
    assert [(r.partition, r.offset, r.value) for r in recs] == [(0, 0, b"one"), (0, 1, b"two"), (0, 2, b"three")]


def test_keyed_and_unkeyed_records(broker, topic_name):
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 3)
    keys = [f"user-{k}" for k in range(12)]
    keyed = [f"{key}:{key}-event-{n}" for n in range(4) for key in keys]
    kcat_produce(broker, topic, keyed, "-K:", "-H", "source=kcat", "-H", "kind=keyed")
    unkeyed = [f"plain-{n}" for n in range(20)]
    kcat_produce(broker, topic, unkeyed)

    recs = kcat_consume(broker.bootstrap, topic, "-o", "beginning")
    assert len(recs) == len(keyed) + len(unkeyed)
    assert_offsets_dense(recs)
    with_key = [r for r in recs if r.key is not None]
    assert len(with_key) == len(keyed)
    assert_key_affinity(with_key, expect_keys=len(keys))
    for r in with_key:
        assert r.headers == (("source", b"kcat"), ("kind", b"keyed")), r
        assert r.value.decode().startswith(r.key.decode() + "-event-")
    for key in keys:  # per-key order is the produce order
        values = [r.value.decode() for r in sorted(with_key) if r.key == key.encode()]
        assert values == [f"{key}-event-{n}" for n in range(4)]
    without = sorted(r.value.decode() for r in recs if r.key is None)
    assert without == sorted(unkeyed)
    assert all(r.headers == () for r in recs if r.key is None)


@pytest.mark.parametrize("codec", CODECS)
def test_compressed_batches(broker, topic_name, codec):
    topic = topic_name(codec)
    values = [compressible_value(i).decode() for i in range(200)]
    kcat_produce(broker, topic, values, "-z", codec, "-p", "0")
    recs = kcat_consume(broker.bootstrap, topic, "-o", "beginning")
    assert [r.value.decode() for r in recs] == values
    assert_offsets_dense(recs)
    assert_stored_codec(broker.bootstrap, topic, [0], codec, len(values))


@pytest.mark.parametrize("acks", ["0", "1", "all"])
def test_acks(broker, topic_name, acks):
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 1)
    kcat_produce(broker, topic, [f"acks-{acks}-{i}" for i in range(10)], "-X", f"acks={acks}")
    recs = kcat_consume(broker.bootstrap, topic, "-o", "beginning")
    assert [r.value for r in recs] == [f"acks-{acks}-{i}".encode() for i in range(10)]


def test_consume_from_end_gets_only_new_records(broker, topic_name):
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 2)
    kcat_produce(broker, topic, [f"old-{i}" for i in range(6)], "-p", "0")
    kcat_produce(broker, topic, [f"old-{i}" for i in range(6, 10)], "-p", "1")
    consumer = Background(["kcat", "-b", broker.bootstrap, "-C", "-t", topic, "-o", "end", "-J",
                           "-c", "4", "-d", "fetch"])
    try:
        # librdkafka's fetch debug line says where the end offset resolved to.
        m0 = consumer.wait_for_stderr(rf"Fetch topic {re.escape(topic)} \[0\] at offset (\d+)", 20)
        m1 = consumer.wait_for_stderr(rf"Fetch topic {re.escape(topic)} \[1\] at offset (\d+)", 20)
        assert (int(m0.group(1)), int(m1.group(1))) == (6, 4)
        kcat_produce(broker, topic, ["new-0", "new-1"], "-p", "0")
        kcat_produce(broker, topic, ["new-2", "new-3"], "-p", "1")
        assert consumer.wait(20) == 0, "\n".join(consumer.stderr[-20:])
    finally:
        consumer.stop()
    recs = parse_kcat_json("\n".join(consumer.stdout).encode())
    assert sorted((r.partition, r.offset, r.value) for r in recs) == [
        (0, 6, b"new-0"), (0, 7, b"new-1"), (1, 4, b"new-2"), (1, 5, b"new-3")]


def test_consume_from_timestamp(broker, topic_name):
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 1)
    clock = Window()
    kcat_produce(broker, topic, [f"before-{i}" for i in range(5)])
    ts = clock.mark("between")
    kcat_produce(broker, topic, [f"after-{i}" for i in range(5)])
    after_all = clock.mark("after")

    recs = kcat_consume(broker.bootstrap, topic, "-o", f"s@{ts}")
    assert [(r.offset, r.value) for r in recs] == [(5 + i, f"after-{i}".encode()) for i in range(5)]
    assert all(r.timestamp >= ts for r in recs)
    everything = kcat_consume(broker.bootstrap, topic, "-o", "beginning")
    assert all(r.timestamp < ts for r in everything[:5]), everything[:5]

    # -Q asks ListOffsets by timestamp directly.
    out = kcat(broker.bootstrap, "-Q", "-t", f"{topic}:0:{ts}").stdout.decode()
    assert re.search(rf"{re.escape(topic)} \[0\] offset 5\b", out), out
    # A timestamp after every record: no offset (Kafka answers -1, librdkafka prints the end).
    out = kcat(broker.bootstrap, "-Q", "-t", f"{topic}:0:{after_all}").stdout.decode()
    assert re.search(rf"{re.escape(topic)} \[0\] offset (-1|10)\b", out), out
    # A timestamp before every record: the first offset.
    out = kcat(broker.bootstrap, "-Q", "-t", f"{topic}:0:1").stdout.decode()
    assert re.search(rf"{re.escape(topic)} \[0\] offset 0\b", out), out


def test_data_survives_restart(broker, topic_name):
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 3)
    kcat_produce(broker, topic, [f"k{i % 7}:value-{i}" for i in range(60)], "-K:", "-H", "h=1", "-z", "lz4")
    kcat_produce(broker, topic, [f"k{i % 7}:plain-{i}" for i in range(30)], "-K:")
    before = kcat_consume(broker.bootstrap, topic, "-o", "beginning")
    assert len(before) == 90

    broker.restart()

    after = kcat_consume(broker.bootstrap, topic, "-o", "beginning")
    assert sorted(after) == sorted(before)
    ends = {p: len(recs) for p, recs in by_partition(before).items()}
    kcat_produce(broker, topic, [f"k{i % 7}:later-{i}" for i in range(14)], "-K:")
    later = [r for r in kcat_consume(broker.bootstrap, topic, "-o", "beginning") if r.value.startswith(b"later")]
    assert len(later) == 14
    for p, recs in by_partition(later).items():
        assert [r.offset for r in recs] == list(range(ends.get(p, 0), ends.get(p, 0) + len(recs)))
