"""Clients that fail over: the leader of a partition stops (a crash, through the lab API of
`streamlab serve`) while a real client produces with acks=all, and the client keeps producing.

Each test creates a topic with replication factor 3 and min.insync.replicas=2 (one partition, so
that "the leader" is one broker), produces numbered records (`seq-000000`, ...) continuously,
stops the leader mid-stream, keeps producing until records produced after the stop are
acknowledged, then reads the partition from the beginning: every acknowledged record is there,
in produce order (and, from an idempotent producer, once). The lab API must show a new leader
from the old ISR with a higher leader epoch and the stopped broker offline and out of the ISR;
the client's own Metadata must show the new leader; started again, the broker rejoins the ISR.

The cluster fences a broker after `broker.session.timeout.ms` without a heartbeat (Kafka's default
9 s); these tests shorten it so that a stop is noticed in about 2 s.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KpTopicPartition

from support import (FAILOVER_TIMEOUT, Background, LeaderStop, Rec, assert_every_ack_in_log, create_replicated_topic,
                     kcat, kcat_consume, keep_producing, seq_of, seq_value, wait_until)

pytestmark = [pytest.mark.server_args("--broker-session-timeout-ms", "2000"), pytest.mark.time_limit(150)]

# Records acknowledged before the stop, and produced after it and acknowledged, in each test.
ACKED_BEFORE = 30
ACKED_AFTER = 30


def acked_after(acked: list[bytes], first_seq: int) -> int:
    return sum(seq_of(v) >= first_seq for v in acked)


# --- confluent-kafka ----------------------------------------------------------------------------

def confluent_producer(server, **conf) -> Producer:
    # message.timeout.ms: a record waits out the election instead of failing.
    base = {"bootstrap.servers": server.bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5,
            "message.timeout.ms": int(FAILOVER_TIMEOUT * 1000)}
    return Producer({**base, **conf})


class ConfluentSequence:
    """A confluent-kafka producer sending numbered values to partition 0 of `topic`, one per
    `step()`, keeping what it produced, what was acknowledged and the delivery errors."""

    def __init__(self, server, topic: str):
        self.topic = topic
        self.produced: list[bytes] = []
        self.acked: list[bytes] = []
        self.errors: list = []
        self.producer = confluent_producer(server)

    def _on_delivery(self, err, msg):
        if err is not None:
            self.errors.append(err)
        else:
            self.acked.append(msg.value())

    def step(self):
        self.produced.append(seq_value(len(self.produced)))
        self.producer.produce(self.topic, self.produced[-1], partition=0, on_delivery=self._on_delivery)
        self.producer.poll(0)


def confluent_read(server, topic: str, partition: int = 0) -> list[Rec]:
    """Every record of one partition, from the beginning to the high watermark."""
    c = Consumer({"bootstrap.servers": server.bootstrap, "group.id": "unused", "enable.auto.commit": False})
    try:
        _, high = c.get_watermark_offsets(TopicPartition(topic, partition), timeout=15)
        c.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
        out: list[Rec] = []

        def caught_up():
            for m in c.consume(1000, 0.5):
                assert m.error() is None, m.error()
                out.append(Rec(m.partition(), m.offset(), m.key(), m.value()))
            return bool(out) and out[-1].offset >= high - 1

        wait_until(caught_up, FAILOVER_TIMEOUT, f"{topic}[{partition}] read up to offset {high}", interval=0)
        return out
    finally:
        c.close()


def test_confluent_kafka_keeps_producing_through_a_leader_stop(server, topic_name):
    topic = topic_name()
    create_replicated_topic(server.bootstrap, topic)
    stop = LeaderStop(server, topic)
    seq = ConfluentSequence(server, topic)
    produced, acked, errors, p, step = seq.produced, seq.acked, seq.errors, seq.producer, seq.step

    keep_producing(step, lambda: len(acked) >= ACKED_BEFORE, FAILOVER_TIMEOUT, f"{ACKED_BEFORE} acks")
    stop.stop_leader()
    first_after = len(produced)
    keep_producing(step, lambda: acked_after(acked, first_after) >= ACKED_AFTER, FAILOVER_TIMEOUT,
                   f"{ACKED_AFTER} acks of records produced after stopping broker {stop.stopped}")
    assert p.flush(FAILOVER_TIMEOUT) == 0
    assert not errors, f"delivery errors: {errors[:5]}"
    after = stop.assert_failed_over()
    wait_until(lambda: p.list_topics(topic, timeout=10).topics[topic].partitions[0].leader == after["leader"],
               FAILOVER_TIMEOUT, f"confluent-kafka's Metadata naming broker {after['leader']} leader")

    log = confluent_read(server, topic)
    assert_every_ack_in_log(acked, log, allow_duplicates=False)
    assert len(acked) == len(produced)
    stop.start_and_rejoin()


# A longer soak: STREAMLAB_FAILOVER_ROUNDS=100 pytest tests/clients/test_failover.py -k ten_leader
ROUNDS = int(os.environ.get("STREAMLAB_FAILOVER_ROUNDS", "10"))


@pytest.mark.server_args("--broker-session-timeout-ms", "1000")
@pytest.mark.time_limit(60 + 15 * ROUNDS)  # a round takes about 3 s here
def test_confluent_idempotent_producer_through_ten_leader_stops_and_starts(server, topic_name):
    """The issue's reliability check: ten leader stops and starts during an idempotent acks=all
    produce; no acknowledged record lost, none duplicated. Each stopped broker is started and
    back in the ISR before the next stop, so min.insync.replicas=2 holds throughout."""
    topic = topic_name()
    create_replicated_topic(server.bootstrap, topic)
    seq = ConfluentSequence(server, topic)
    produced, acked, errors, p, step = seq.produced, seq.acked, seq.errors, seq.producer, seq.step

    leaders = []
    keep_producing(step, lambda: len(acked) >= 20, FAILOVER_TIMEOUT, "20 acks")
    for round_ in range(ROUNDS):
        stop = LeaderStop(server, topic)
        stop.stop_leader()
        first_after = len(produced)
        keep_producing(step, lambda: acked_after(acked, first_after) >= 20, FAILOVER_TIMEOUT,
                       f"round {round_ + 1}: acks after stopping broker {stop.stopped}")
        leaders.append((stop.stopped, stop.assert_failed_over()["leader"], stop.after["leader_epoch"]))
        # Records keep flowing while the stopped broker recovers and catches up.
        rejoined = []
        keep_producing(step, lambda: rejoined or rejoined.append(stop.start_and_rejoin()), FAILOVER_TIMEOUT,
                       f"round {round_ + 1}: broker {stop.stopped} back in the ISR")
    assert p.flush(FAILOVER_TIMEOUT) == 0
    assert not errors, f"delivery errors: {errors[:5]}"
    epochs = [epoch for _, _, epoch in leaders]
    assert epochs == sorted(set(epochs)), f"(stopped, new leader, epoch) per round: {leaders}"

    log = confluent_read(server, topic)
    assert_every_ack_in_log(acked, log, allow_duplicates=False)
    assert len(log) == len(acked) == len(produced), (len(log), len(acked), len(produced))


# --- kafka-python -------------------------------------------------------------------------------

def test_kafka_python_keeps_producing_through_a_leader_stop(server, topic_name):
    topic = topic_name()
    create_replicated_topic(server.bootstrap, topic)
    stop = LeaderStop(server, topic)
    produced: list[bytes] = []
    acked: list[bytes] = []
    errors = []
    timeout_ms = int(FAILOVER_TIMEOUT * 1000)
    # kafka-python's default producer is idempotent with acks=all (test_kafka_python.py).
    p = KafkaProducer(bootstrap_servers=server.bootstrap.split(","), acks="all", enable_idempotence=True,
                      linger_ms=5, request_timeout_ms=15_000, delivery_timeout_ms=timeout_ms, max_block_ms=timeout_ms)

    def step():
        value = seq_value(len(produced))
        produced.append(value)
        future = p.send(topic, value=value, partition=0)
        future.add_callback(lambda _md, value=value: acked.append(value))
        future.add_errback(errors.append)

    try:
        keep_producing(step, lambda: len(acked) >= ACKED_BEFORE, FAILOVER_TIMEOUT, f"{ACKED_BEFORE} acks")
        stop.stop_leader()
        first_after = len(produced)
        keep_producing(step, lambda: acked_after(acked, first_after) >= ACKED_AFTER, FAILOVER_TIMEOUT,
                       f"{ACKED_AFTER} acks of records produced after stopping broker {stop.stopped}")
        p.flush(timeout=FAILOVER_TIMEOUT)
    finally:
        p.close(timeout=10)
    assert not errors, f"delivery errors: {errors[:5]}"
    assert len(acked) == len(produced)
    after = stop.assert_failed_over()

    a = KafkaAdminClient(bootstrap_servers=server.bootstrap.split(","), request_timeout_ms=15_000)
    try:
        def metadata_failed_over():
            [t] = a.describe_topics([topic])
            [part] = t["partitions"]
            seen = (part["leader_id"], part["leader_epoch"], stop.stopped in part["offline_replicas"])
            return seen == (after["leader"], after["leader_epoch"], True)

        wait_until(metadata_failed_over, FAILOVER_TIMEOUT, f"kafka-python's Metadata: leader {after['leader']} "
                   f"in epoch {after['leader_epoch']}, broker {stop.stopped} offline")
    finally:
        a.close()

    c = KafkaConsumer(bootstrap_servers=server.bootstrap.split(","), group_id=None, enable_auto_commit=False,
                      request_timeout_ms=20_000, fetch_max_wait_ms=100)
    try:
        tp = KpTopicPartition(topic, 0)
        c.assign([tp])
        c.seek_to_beginning(tp)
        high = c.end_offsets([tp])[tp]
        log: list[Rec] = []

        def caught_up():
            for m in c.poll(timeout_ms=500).get(tp, []):
                log.append(Rec(m.partition, m.offset, m.key, m.value))
            return c.position(tp) >= high

        wait_until(caught_up, FAILOVER_TIMEOUT, f"{topic}[0] read up to offset {high}", interval=0)
    finally:
        c.close()
    assert_every_ack_in_log(acked, log, allow_duplicates=False)
    stop.start_and_rejoin()


# --- kcat ---------------------------------------------------------------------------------------

def test_kcat_keeps_producing_through_a_leader_stop(server, topic_name):
    """kcat -P reads records from its stdin; with -v -v it reports each delivery on stderr
    ("Message delivered to partition 0 (offset N)" or "Delivery failed"), and librdkafka delivers
    the reports of a partition in produce order, so the i-th report is the i-th line's."""
    topic = topic_name()
    create_replicated_topic(server.bootstrap, topic)
    stop = LeaderStop(server, topic)
    producer = Background(["kcat", "-b", server.bootstrap, "-P", "-t", topic, "-p", "0", "-v", "-v",
                           "-X", "acks=all", "-X", "enable.idempotence=true", "-X", "linger.ms=5",
                           "-X", f"message.timeout.ms={int(FAILOVER_TIMEOUT * 1000)}"], stdin=subprocess.PIPE)
    produced: list[bytes] = []

    def reports() -> list[int | None]:
        """Per delivery report in order: the offset, or None for a failed delivery."""
        out = []
        for line in list(producer.stderr):
            if "Message delivered to partition" in line:
                out.append(int(line.split("(offset ")[1].split(")")[0]))
            elif "Delivery failed" in line:
                out.append(None)
        return out

    def acked() -> list[bytes]:
        return [produced[i] for i, offset in enumerate(reports()) if offset is not None]

    def step():
        produced.append(seq_value(len(produced)))
        producer.proc.stdin.write(produced[-1] + b"\n")
        producer.proc.stdin.flush()

    try:
        keep_producing(step, lambda: len(acked()) >= ACKED_BEFORE, FAILOVER_TIMEOUT, f"{ACKED_BEFORE} acks")
        stop.stop_leader()
        first_after = len(produced)
        keep_producing(step, lambda: acked_after(acked(), first_after) >= ACKED_AFTER, FAILOVER_TIMEOUT,
                       f"{ACKED_AFTER} acks of records produced after stopping broker {stop.stopped}")
        producer.proc.stdin.close()
        assert producer.wait(FAILOVER_TIMEOUT) == 0, "\n".join(producer.stderr[-40:])
    finally:
        producer.stop()
    delivered = reports()
    assert len(delivered) == len(produced), f"{len(delivered)} delivery reports for {len(produced)} records"
    assert None not in delivered, "\n".join(line for line in producer.stderr if "Delivery failed" in line)
    after = stop.assert_failed_over()

    def kcat_leader():
        meta = json.loads(kcat(server.bootstrap, "-L", "-J", "-t", topic).stdout)
        [t] = meta["topics"]
        return t["partitions"][0]["leader"] == after["leader"]

    wait_until(kcat_leader, FAILOVER_TIMEOUT, f"kcat -L naming broker {after['leader']} leader")

    log = kcat_consume(server.bootstrap, topic, "-p", "0", "-o", "beginning", timeout=FAILOVER_TIMEOUT)
    assert_every_ack_in_log(acked(), log, allow_duplicates=False)
    # The offset each report gave holds that record.
    at = {r.offset: r.value for r in log}
    wrong = [(offset, produced[i], at.get(offset)) for i, offset in enumerate(delivered) if at.get(offset) != produced[i]]
    assert not wrong, f"(reported offset, record, what the log holds there): {wrong[:5]}"
    stop.start_and_rejoin()
