#!/usr/bin/env python3
"""Failover benchmark: how long a producer waits when the leader of its partition stops.

Driven by tests/bench/failover.sh (which builds and starts `streamlab serve`); it can also run
alone against a running `streamlab serve`:

    tests/.venv/bin/python tests/bench/failover.py --http 127.0.0.1:8080 --bootstrap 127.0.0.1:9092 \\
        --session-timeout-ms 9000

It creates a topic with one partition, replication factor 3 and min.insync.replicas=2, and keeps
an idempotent acks=all confluent-kafka producer sending a record about every 10 ms (each
poll() between them returns early to run a delivery report, which stamps the time of the ack). Then,
--stops times: stop the partition's leader through the lab API (`POST
/api/cluster/brokers/{id}/stop`, a crash), and time from the moment that call returns to

  - "elected": the first `GET /api/cluster` (polled every 10 ms) naming another leader, and
  - "first ack": the first delivery report of a record produced after the stop (records that
    were already in flight could be answered from the socket buffer; these cannot),

then start the broker again and wait until it is back in the ISR before the next stop (so that
min.insync.replicas=2 holds). The controller notices a crash when the broker's heartbeats stop
for broker.session.timeout.ms, so that is the figure to read the times against.

Prints figures, never passes or fails on them; exits non-zero only when it cannot run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
import uuid

try:
    import confluent_kafka
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError as exc:  # pragma: no cover - depends on the venv
    sys.exit(f"error: confluent-kafka is not importable ({exc}); run through tests/bench/failover.sh")


class Lab:
    """The lab API of `streamlab serve`."""

    def __init__(self, http: str):
        self.base = f"http://{http}"

    def call(self, method: str, path: str) -> dict:
        request = urllib.request.Request(self.base + path, method=method)
        with urllib.request.urlopen(request, timeout=15) as response:
            return json.load(response)

    def partition(self, topic: str) -> dict | None:
        for p in self.call("GET", "/api/cluster")["partitions"]:
            if p["topic"] == topic and p["partition"] == 0:
                return p
        return None


def wait_for(predicate, timeout: float, what: str, interval: float = 0.01, between=None):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")
        if between:
            between(interval)
        else:
            time.sleep(interval)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--http", required=True, metavar="HOST:PORT", help="streamlab serve's web address")
    ap.add_argument("--bootstrap", required=True, help="the brokers' addresses, comma-separated")
    ap.add_argument("--session-timeout-ms", type=int, required=True,
                    help="the broker.session.timeout.ms the cluster runs with (printed next to the times)")
    ap.add_argument("--stops", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=120, help="seconds any one wait may take")
    args = ap.parse_args()
    if args.stops < 1:
        ap.error("--stops must be positive")

    lab = Lab(args.http)
    topic = f"bench-failover-{uuid.uuid4().hex[:6]}"
    # log_level 2: librdkafka logs every refused reconnect to a stopped broker at level 3, which
    # would bury the figures; the stops are deliberate.
    admin = AdminClient({"bootstrap.servers": args.bootstrap, "log_level": 2})
    new = NewTopic(topic, num_partitions=1, replication_factor=3, config={"min.insync.replicas": "2"})
    admin.create_topics([new])[topic].result(30)
    wait_for(lambda: (p := lab.partition(topic)) and len(p["isr"]) == 3, args.timeout, f"{topic} fully in sync")

    acks: list[tuple[float, int]] = []  # (monotonic time of the report, record number)
    errors: list[str] = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            acks.append((time.monotonic(), int(msg.value())))

    producer = Producer({"bootstrap.servers": args.bootstrap, "acks": "all", "enable.idempotence": True,
                         "linger.ms": 1, "message.timeout.ms": int(args.timeout * 1000), "log_level": 2})
    produced = 0

    def produce_for(seconds: float) -> None:
        """Produce a record, serve delivery reports for up to `seconds`: the producer never pauses."""
        nonlocal produced
        producer.produce(topic, str(produced).encode(), partition=0, on_delivery=on_delivery)
        produced += 1
        producer.poll(seconds)

    print(f"confluent-kafka {confluent_kafka.__version__}, librdkafka {confluent_kafka.libversion()[0]}; topic {topic}: "
          "1 partition, replication factor 3, min.insync.replicas 2; idempotent acks=all producer, linger.ms 1, "
          "a record about every 10 ms")
    print(f"broker.session.timeout.ms {args.session_timeout_ms}")
    print(f"{'stop':>4} {'broker':>6} {'new leader':>10} {'epoch':>5} {'elected s':>9} {'first ack s':>11} {'rejoined s':>10}")
    wait_for(lambda: len(acks) >= 100, args.timeout, "100 acks before the first stop", between=produce_for)
    elected_s, ack_s = [], []
    for n in range(1, args.stops + 1):
        before = lab.partition(topic)
        stopped = before["leader"]
        lab.call("POST", f"/api/cluster/brokers/{stopped}/stop")
        t0 = time.monotonic()
        first_after = produced
        after = wait_for(lambda: (p := lab.partition(topic)) and p["leader"] not in (-1, stopped) and p,
                         args.timeout, f"a new leader after stopping broker {stopped}", between=produce_for)
        elected = time.monotonic() - t0
        seen = len(acks)
        first = wait_for(lambda: next((t for t, i in acks[seen:] if i >= first_after), None), args.timeout,
                         "an ack after the stop", between=produce_for)
        lab.call("POST", f"/api/cluster/brokers/{stopped}/start")
        t1 = time.monotonic()
        wait_for(lambda: (p := lab.partition(topic)) and stopped in p["isr"], args.timeout,
                 f"broker {stopped} back in the ISR", between=produce_for)
        elected_s.append(elected)
        ack_s.append(first - t0)
        print(f"{n:>4} {stopped:>6} {after['leader']:>10} {after['leader_epoch']:>5} {elected:>9.2f} {first - t0:>11.2f} "
              f"{time.monotonic() - t1:>10.2f}", flush=True)
    remaining = producer.flush(args.timeout)

    print(f"\n==== failover over {args.stops} leader stops (broker.session.timeout.ms {args.session_timeout_ms}) ====")
    for label, values in (("stop → new leader in /api/cluster", elected_s), ("stop → first ack of a new record", ack_s)):
        print(f"{label}: p50 {statistics.median(values):.2f} s, max {max(values):.2f} s "
              f"(session timeout {args.session_timeout_ms / 1000:g} s)")
    print(f"records: {produced:,} produced, {len(acks):,} acknowledged, {len(errors)} delivery errors"
          f"{', ' + str(remaining) + ' never acknowledged' if remaining else ''}{' ' + str(sorted(set(errors))[:3]) if errors else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
