#!/usr/bin/env python3
"""Kafka benchmark: Streamlab's broker against librdkafka's mock cluster, same client, same run.

Driven by tests/bench/kafka.sh (which builds and starts the broker and measures its memory); it
can also run alone against any broker, or against the mock cluster only:

    tests/.venv/bin/python tests/bench/kafka.py --streamlab 127.0.0.1:9092 --records 200000
    tests/.venv/bin/python tests/bench/kafka.py --systems mock --records 100000

For each run × acks × partitions × system it creates a fresh topic and produces N records of 100
bytes with confluent-kafka (null keys, so librdkafka's sticky partitioner spreads them over the
partitions; linger.ms=5, other batching settings at librdkafka's defaults), timing from the first
produce() to the end of flush(). Per record it takes the produce→ack latency: time.perf_counter()
in the delivery callback minus time.perf_counter() at produce() (callbacks run only inside
poll()/flush(), so this includes linger and the wait for the Python loop to poll; librdkafka's
Message.latency() measures the same thing). The produce request round trip comes from librdkafka's
statistics (brokers[].rtt). Then one consumer reads the records back with assign() at fixed offsets
(no consumer group: Streamlab has none yet) and consume() in batches, timed from assign(), with
fetch.queue.backoff.ms lowered to 10 ms for both systems (see new_consumer()).

The reference is librdkafka's mock cluster (what `test.mock.num.brokers=1` starts), created through
the C API of the librdkafka bundled with confluent-kafka (ctypes), so that the topic can have 1 or 6
partitions (`rd_kafka_mock_topic_create`; the mock implements no CreateTopics request) and so that
producer, consumer and settings are the same for both systems: only bootstrap.servers differs. The
mock is an in-memory Kafka-protocol broker in a thread of this Python process, reached over loopback
TCP. It never writes to disk (acks=all costs it nothing, whereas Streamlab answers acks=all after
its group-commit fsync), and it keeps at most 5 MiB or 100,000 batches per partition (hard-coded in
rdkafka_mock.c), dropping the oldest, so of a large run it can only serve the tail. Consumption is
therefore measured two ways: "consume" reads all N records from offset 0 (Streamlab; the mock only
when it kept them all), and "window" reads the tail that the mock retained (the mock from its
log start, Streamlab the same number of last records per partition), median of several passes, each
with a new consumer; the consume ratio compares window reads, so both systems serve about the same
records, with nothing beyond them for the consumer to read ahead.

Prints figures, never passes or fails on them; exits non-zero only when it cannot run.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import glob
import json
import math
import os
import statistics
import sys
import time
import uuid

try:
    import confluent_kafka
    from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError as exc:  # pragma: no cover - depends on the venv
    sys.exit(f"error: confluent-kafka is not importable ({exc}); run through tests/bench/kafka.sh")

CLK_TCK = os.sysconf("SC_CLK_TCK")
STATS_INTERVAL_MS = 200
FETCH_QUEUE_BACKOFF_MS = 10


def banner(text: str) -> None:
    print(f"\n==== {text} ====", flush=True)


# --------------------------------------------------------------------------------------------
# CPU accounting from /proc (user + system time, in seconds)


def proc_cpu(pid: int | str) -> float | None:
    """CPU seconds of a whole process (live and exited threads)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def thread_cpu(name: str) -> float:
    """CPU seconds of this process's live threads called `name` (e.g. librdkafka's rdk:mock)."""
    total = 0.0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                if f.read().strip() != name:
                    continue
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        except (OSError, IndexError, ValueError):
            continue
    return total


class CpuMeter:
    """Splits CPU time during a phase between the client (this process, minus the mock thread) and
    the broker (the Streamlab process, or the mock cluster's thread in this process)."""

    def __init__(self, broker_pid: int | None, mock: bool):
        self.broker_pid = broker_pid
        self.mock = mock

    def _sample(self) -> tuple[float, float, float | None]:
        now = time.perf_counter()
        me = proc_cpu("self") or 0.0
        if self.mock:
            broker = thread_cpu("rdk:mock")
            return now, me - broker, broker
        broker = proc_cpu(self.broker_pid) if self.broker_pid else None
        return now, me, broker

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> tuple[float, float | None]:
        """Returns (client %, broker %) of one core over the phase."""
        end = self._sample()
        wall = max(end[0] - self._start[0], 1e-9)
        client = 100 * (end[1] - self._start[1]) / wall
        broker = None
        if end[2] is not None and self._start[2] is not None:
            broker = 100 * (end[2] - self._start[2]) / wall
        return client, broker


# --------------------------------------------------------------------------------------------
# librdkafka's mock cluster through its C API


class MockCluster:
    """An in-process librdkafka mock cluster with `brokers` brokers (what test.mock.num.brokers=N
    starts), made directly so that topics can be created with a partition count and a replication
    factor."""

    _lib = None

    @classmethod
    def lib(cls):
        if cls._lib is None:
            pkg = os.path.dirname(confluent_kafka.__file__)
            candidates = sorted(glob.glob(os.path.join(pkg, os.pardir, "confluent_kafka.libs", "librdkafka*.so*")))
            if not candidates:
                raise RuntimeError("cannot find the librdkafka bundled with confluent-kafka (confluent_kafka.libs/)")
            lib = ctypes.CDLL(candidates[0])
            vp, cp, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
            lib.rd_kafka_conf_new.restype = vp
            lib.rd_kafka_conf_set.argtypes = [vp, cp, cp, cp, ctypes.c_size_t]
            lib.rd_kafka_conf_set.restype = i
            lib.rd_kafka_new.argtypes = [i, vp, cp, ctypes.c_size_t]
            lib.rd_kafka_new.restype = vp
            lib.rd_kafka_destroy.argtypes = [vp]
            lib.rd_kafka_mock_cluster_new.argtypes = [vp, i]
            lib.rd_kafka_mock_cluster_new.restype = vp
            lib.rd_kafka_mock_cluster_bootstraps.argtypes = [vp]
            lib.rd_kafka_mock_cluster_bootstraps.restype = cp
            lib.rd_kafka_mock_topic_create.argtypes = [vp, cp, i, i]
            lib.rd_kafka_mock_topic_create.restype = i
            lib.rd_kafka_mock_cluster_destroy.argtypes = [vp]
            lib.rd_kafka_version_str.restype = cp
            cls._lib = lib
        return cls._lib

    def __init__(self, brokers: int = 1) -> None:
        lib = self.lib()
        err = ctypes.create_string_buffer(512)
        conf = lib.rd_kafka_conf_new()
        lib.rd_kafka_conf_set(conf, b"log_level", b"3", err, len(err))
        # The mock cluster needs a client handle to belong to; this producer never produces.
        self._rk = lib.rd_kafka_new(0, conf, err, len(err))  # RD_KAFKA_PRODUCER
        if not self._rk:
            raise RuntimeError(f"rd_kafka_new failed: {err.value.decode(errors='replace')}")
        self._mc = lib.rd_kafka_mock_cluster_new(self._rk, brokers)
        if not self._mc:
            lib.rd_kafka_destroy(self._rk)
            raise RuntimeError("rd_kafka_mock_cluster_new failed")
        self.bootstrap = lib.rd_kafka_mock_cluster_bootstraps(self._mc).decode()

    def create_topic(self, topic: str, partitions: int, replication_factor: int = 1) -> None:
        code = self.lib().rd_kafka_mock_topic_create(self._mc, topic.encode(), partitions, replication_factor)
        if code != 0:
            raise RuntimeError(f"rd_kafka_mock_topic_create({topic}, {partitions}) returned error {code}")

    def close(self) -> None:
        lib = self.lib()
        if self._mc:
            lib.rd_kafka_mock_cluster_destroy(self._mc)
            self._mc = None
        if self._rk:
            lib.rd_kafka_destroy(self._rk)
            self._rk = None


# --------------------------------------------------------------------------------------------
# One case: fresh topic, produce N, consume them back


def create_streamlab_topic(bootstrap: str, topic: str, partitions: int, timeout: float, replication_factor: int = 1,
                           min_insync_replicas: int | None = None) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    config = {} if min_insync_replicas is None else {"min.insync.replicas": str(min_insync_replicas)}
    new = NewTopic(topic, num_partitions=partitions, replication_factor=replication_factor, config=config)
    for future in admin.create_topics([new]).values():
        future.result(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        md = admin.list_topics(topic, timeout=timeout)
        t = md.topics.get(topic)
        if t is not None and t.error is None and len(t.partitions) == partitions:
            return
        time.sleep(0.05)
    raise RuntimeError(f"topic {topic} did not show {partitions} partitions in metadata within {timeout} s")


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = math.ceil(q / 100 * len(sorted_values)) - 1
    return sorted_values[min(len(sorted_values) - 1, max(0, k))]


def med(values):
    values = [v for v in values if v is not None and v == v]  # drop None and NaN
    return statistics.median(values) if values else float("nan")


def produce_phase(bootstrap, topic, n, acks, payload, args, meter):
    rtt_windows: list[tuple[float, float]] = []

    def on_stats(text):
        for b in json.loads(text).get("brokers", {}).values():
            if b.get("nodeid", -1) >= 0 and b.get("rtt", {}).get("cnt", 0) > 0:
                rtt_windows.append((b["rtt"]["p50"] / 1000, b["rtt"]["p99"] / 1000))

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": acks,
            "linger.ms": args.linger_ms,
            "enable.idempotence": False,
            "client.id": "streamlab-bench-producer",
            "statistics.interval.ms": STATS_INTERVAL_MS,
            "stats_cb": on_stats,
        }
    )
    # Connect and fetch metadata before the clock starts.
    producer.list_topics(topic, timeout=10)

    lat: list[float] = []
    errors: list[str] = []
    now = time.perf_counter

    def delivered(t0, err, msg):
        if err is None:
            lat.append(now() - t0)
        else:
            errors.append(str(err))

    produce = producer.produce
    poll = producer.poll
    poll_every = args.poll_every
    partial = functools.partial
    buffer_full = 0
    deadline = time.monotonic() + args.timeout

    meter.start()
    start = now()
    for i in range(n):
        while True:
            try:
                produce(topic, payload, on_delivery=partial(delivered, now()))
                break
            except BufferError:
                buffer_full += 1
                poll(0.1)
                if time.monotonic() > deadline:
                    raise RuntimeError(f"produce stalled: the local queue was still full after {args.timeout:g} s, at record {i}")
        if i % poll_every == 0:
            poll(0)
    remaining = producer.flush(max(1.0, deadline - time.monotonic()))
    end = now()
    cpu = meter.stop()
    del producer

    lat.sort()
    return {
        "produce_rps": n / (end - start),
        "produce_s": end - start,
        "acked": len(lat),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:3],
        "unflushed": remaining,
        "buffer_full": buffer_full,
        "ack_p50": 1000 * percentile(lat, 50),
        "ack_p99": 1000 * percentile(lat, 99),
        "rtt_p50": med([w[0] for w in rtt_windows]),
        "rtt_p99": med([w[1] for w in rtt_windows]),
        "produce_cpu": cpu,
    }


def new_consumer(bootstrap):
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            # confluent-kafka insists on a group.id; with assign() and no commits the group is never
            # joined and no offsets are committed.
            "group.id": f"streamlab-bench-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "error",
            # librdkafka pauses a partition's fetching for fetch.queue.backoff.ms (default 1000 ms)
            # whenever its local queue holds more than queued.min.messages (100,000). A Python loop
            # drains slower than librdkafka fetches over loopback, so with the default a full read
            # stalls for ~1 s after every ~100-200k records, whichever broker serves it.
            "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
            "client.id": "streamlab-bench-consumer",
        }
    )


def watermarks(bootstrap, topic, partitions):
    consumer = new_consumer(bootstrap)
    try:
        return [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in range(partitions)]
    finally:
        consumer.close()


def consume_pass(bootstrap, topic, starts, count, args, meter):
    """One consumer reads `count` records, assigned at `starts` (one offset per partition). It has
    connected (a ListOffsets round trip) before the clock starts at assign()."""
    consumer = new_consumer(bootstrap)
    for p in range(len(starts)):
        consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
    got = nbytes = 0
    errors: list[str] = []
    now = time.perf_counter
    batch = args.consume_batch
    stalled = False
    meter.start()
    start = last_progress = now()
    consumer.assign([TopicPartition(topic, p, off) for p, off in enumerate(starts)])
    while got < count:
        # consume() waits until it has num_messages or the timeout passes: never ask for more than remain.
        msgs = consumer.consume(min(batch, count - got), 1.0)
        if msgs:
            for m in msgs:
                if m.error() is None:
                    got += 1
                    nbytes += len(m.value())
                else:
                    errors.append(str(m.error()))
            last_progress = now()
        elif now() - last_progress > args.stall:
            stalled = True
            break
    end = now()
    cpu = meter.stop()
    consumer.close()
    return {"rps": got / (end - start) if got else 0.0, "got": got, "bytes": nbytes,
            "errors": sorted(set(errors))[:3], "stalled": stalled, "cpu": cpu}


def run_case(system, acks, partitions, run, args, payload, tail=None):
    """Returns a result dict. `tail` (Streamlab only): the most records the mock cluster retained in
    one partition in the same case; Streamlab's window read takes as many from the end of each
    partition, so that both read the tail of their logs (with nothing beyond it to read ahead)."""
    topic = f"bench-{system}-acks{acks}-p{partitions}-r{run}-{uuid.uuid4().hex[:6]}"
    mock = None
    try:
        if system == "mock":
            # The mock's replicas are bookkeeping only (it copies nothing between its brokers), but
            # with as many brokers as replicas it spreads the partition leaders the same way.
            mock = MockCluster(brokers=args.replication_factor)
            bootstrap = mock.bootstrap
            mock.create_topic(topic, partitions, args.replication_factor)
            meter = CpuMeter(None, mock=True)
        else:
            bootstrap = args.streamlab
            create_streamlab_topic(bootstrap, topic, partitions, timeout=15, replication_factor=args.replication_factor,
                                   min_insync_replicas=args.min_insync_replicas)
            meter = CpuMeter(args.broker_pid, mock=False)
        r = {"system": system, "acks": acks, "partitions": partitions, "run": run}
        r.update(produce_phase(bootstrap, topic, args.records, acks, payload, args, meter))

        marks = watermarks(bootstrap, topic, partitions)
        r["retained"] = sum(high - low for low, high in marks)
        r["log_start"] = sum(low for low, _ in marks)
        problems = []
        # Full read: every record from offset 0, once (the mock can only do this when it kept them all).
        if r["log_start"] == 0:
            full = consume_pass(bootstrap, topic, [0] * partitions, r["retained"], args, meter)
            r.update(consume_rps=full["rps"], consumed=full["got"], consume_cpu=full["cpu"])
            problems += full["errors"] + (["consumer stalled"] if full["stalled"] else [])
            if full["got"] and full["bytes"] != full["got"] * len(payload):
                problems.append(f"read {full['bytes']} bytes for {full['got']} records")
        else:
            r.update(consume_rps=float("nan"), consumed=None, consume_cpu=None)
        # Window read, for the ratio: the mock reads what it retained (from its log start);
        # Streamlab reads the same-sized tail of each partition.
        if system == "mock":
            r["tail"] = max(high - low for low, high in marks)
            starts = [low for low, _ in marks]
        elif tail:
            starts = [max(low, high - tail) for low, high in marks]
        else:
            starts = None
        if starts is not None:
            target = sum(high - start for start, (_, high) in zip(starts, marks))
            # At least --window-passes passes, and more (up to 50) until they add up to
            # --window-seconds: a pass over 1 partition's window lasts only ~50 ms.
            passes, spent = [], 0.0
            while len(passes) < args.window_passes or (spent < args.window_seconds and len(passes) < 50):
                t0 = time.perf_counter()
                passes.append(consume_pass(bootstrap, topic, starts, target, args, meter))
                spent += time.perf_counter() - t0
            r["window"] = target
            r["window_rps"] = med([p["rps"] for p in passes])
            r["window_cpu"] = passes[len(passes) // 2]["cpu"]
            r["window_passes"] = len(passes)
            for p in passes:
                problems += p["errors"] + (["consumer stalled (window)"] if p["stalled"] else [])
                if p["got"] != r["window"]:
                    problems.append(f"window read {p['got']} of {r['window']}")
        else:
            r.update(window=None, window_rps=float("nan"), window_cpu=None, window_passes=0)
        r["consume_problems"] = sorted(set(problems))[:4]
        with open("/proc/loadavg") as f:
            r["load"] = f.read().split()[0]
        return r
    finally:
        if mock is not None:
            mock.close()


# --------------------------------------------------------------------------------------------
# Reporting


def fmt_cpu(cpu) -> str:
    if cpu is None:
        return "-"
    client, broker = cpu
    return f"{client:.0f}/{'-' if broker is None else f'{broker:.0f}'}"


def fmt_rate(v) -> str:
    return "-" if v != v else f"{v:,.0f}"


def fmt_ms(v) -> str:
    return "-" if v != v else f"{v:.2f}"


def print_case(r, n) -> None:
    flags = []
    if r["errors"]:
        flags.append(f"{r['errors']} delivery errors {r['error_samples']}")
    if r["unflushed"]:
        flags.append(f"{r['unflushed']} never acked")
    if r["buffer_full"]:
        flags.append(f"producer queue full {r['buffer_full']}× (waited in poll(0.1))")
    if r["system"] == "streamlab" and r["retained"] != n:
        flags.append(f"log holds {r['retained']} of {n} records")
    if r["system"] == "streamlab" and r["consumed"] is not None and r["consumed"] != n:
        flags.append(f"read back {r['consumed']} of {n}")
    flags += r["consume_problems"]
    window = "-" if not r["window"] else f"{r['window']:,}×{r['window_passes']}"
    print(
        f"{r['run']:<4} {r['system']:<10} {r['acks']:<4} {r['partitions']:>5} "
        f"{r['produce_rps']:>11,.0f} {r['ack_p50']:>7.2f} {r['ack_p99']:>7.2f} {fmt_ms(r['rtt_p50']):>7} {fmt_ms(r['rtt_p99']):>7} "
        f"{fmt_rate(r['consume_rps']):>11} {window:>12} {fmt_rate(r['window_rps']):>11} "
        f"{fmt_cpu(r['produce_cpu']):>9} {fmt_cpu(r['consume_cpu'] or r['window_cpu']):>9} {r['load']:>5}"
        f"{'  ! ' + '; '.join(flags) if flags else ''}",
        flush=True,
    )


def case_header() -> None:
    print(
        f"{'run':<4} {'system':<10} {'acks':<4} {'parts':>5} {'produce/s':>11} {'ack p50':>7} {'ack p99':>7} "
        f"{'rtt p50':>7} {'rtt p99':>7} {'consume/s':>11} {'window×reads':>12} {'window/s':>11} {'cpu prod':>9} {'cpu cons':>9} {'load':>5}"
    )


def fsync_probe(directory: str, seconds: float) -> str:
    """write(4 KiB) + fdatasync in a loop, like performance.md §2.1: how quiet the disk is now."""
    path = os.path.join(directory, f"fsync-probe-{os.getpid()}.bin")
    buf = b"\0" * 4096
    lat = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    try:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            os.write(fd, buf)
            t0 = time.perf_counter()
            os.fdatasync(fd)
            lat.append(time.perf_counter() - t0)
    finally:
        os.close(fd)
        os.unlink(path)
    lat.sort()
    return (
        f"{len(lat) / seconds:,.0f} fdatasyncs/s, p50 {1000 * percentile(lat, 50):.3f} ms, "
        f"p99 {1000 * percentile(lat, 99):.3f} ms (4 KiB appends for {seconds:g} s in {directory})"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--streamlab", metavar="HOST:PORT", help="Streamlab's Kafka address (not needed with --systems mock)")
    ap.add_argument("--broker-pid", type=int, help="the Streamlab broker's pid, to measure its CPU time")
    ap.add_argument("--systems", default="streamlab,mock", help="comma-separated: streamlab, mock (default both)")
    ap.add_argument("--acks", default="1,all", help="comma-separated acks values (default 1,all)")
    ap.add_argument("--partitions", default="1,6", help="comma-separated partition counts (default 1,6)")
    ap.add_argument("--replication-factor", type=int, default=1,
                    help="replicas per partition; the mock cluster gets as many brokers (default 1)")
    ap.add_argument("--min-insync-replicas", type=int,
                    help="Streamlab topics' min.insync.replicas (default: the broker's, 1); the mock ignores it")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--size", type=int, default=100, help="record value size in bytes")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--linger-ms", type=int, default=5)
    ap.add_argument("--poll-every", type=int, default=1000, help="poll(0) after every this many produce() calls")
    ap.add_argument("--consume-batch", type=int, default=10000, help="consume(num_messages=...)")
    ap.add_argument("--window-passes", type=int, default=5, help="least number of window reads (median)")
    ap.add_argument("--window-seconds", type=float, default=2.0, help="repeat window reads until they took this long")
    ap.add_argument("--timeout", type=float, default=300, help="seconds a produce phase may take")
    ap.add_argument("--stall", type=float, default=30, help="seconds without a record before a consumer gives up")
    ap.add_argument("--fsync-probe-dir", help="measure fdatasync latency in this directory before the runs")
    args = ap.parse_args()

    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    acks_list = [a.strip() for a in args.acks.split(",") if a.strip()]
    parts_list = [int(p) for p in args.partitions.split(",") if p.strip()]
    if not systems or not set(systems) <= {"streamlab", "mock"}:
        ap.error("--systems takes streamlab and/or mock")
    if "streamlab" in systems and not args.streamlab:
        ap.error("--streamlab HOST:PORT is needed unless --systems mock")
    if min(args.records, args.runs, args.poll_every, args.window_passes, args.size, *parts_list) < 1:
        ap.error("--records, --runs, --poll-every, --window-passes, --size and --partitions must be positive")
    if not 1 <= args.replication_factor <= 7:
        ap.error("--replication-factor takes 1 to 7")
    # The targets: with one replica, produce ≥ 80% of the mock's rate; with three (acks=all
    # then waits for followers to fetch, which the mock does not do), ≥ 70%. Consume ≥ 90% either way.
    produce_target = 80 if args.replication_factor == 1 else 70
    systems.sort(key=lambda s: s != "mock")  # the mock first: Streamlab's window read follows it

    payload = os.urandom(args.size)

    banner("client")
    print(f"confluent-kafka {confluent_kafka.__version__}, librdkafka {confluent_kafka.libversion()[0]}, "
          f"Python {sys.version.split()[0]}, client pid {os.getpid()}, allowed cpus {sorted(os.sched_getaffinity(0))}")
    rf = args.replication_factor
    print(f"reference: librdkafka {MockCluster.lib().rd_kafka_version_str().decode()} mock cluster, {rf} broker{'s' if rf > 1 else ''} "
          f"(rd_kafka_mock_cluster_new, what test.mock.num.brokers={rf} starts), in-memory, in a thread (rdk:mock) of this "
          "Python process, over loopback TCP; a fresh one per case")
    min_isr = "the broker's default" if args.min_insync_replicas is None else args.min_insync_replicas
    print(f"topics: replication factor {rf}, min.insync.replicas {min_isr} (Streamlab; the mock copies nothing)")
    print(f"producer: acks {'/'.join(acks_list)}, linger.ms {args.linger_ms}, enable.idempotence false, batching at "
          f"librdkafka defaults; {args.records:,} records × {args.size} B, null keys (sticky partitioner); "
          f"poll(0) every {args.poll_every} produce() calls, poll(0.1) on BufferError")
    print(f"consumer: one, assign() at fixed offsets after a ListOffsets round trip, consume({args.consume_batch}, 1.0), "
          f"fetch.queue.backoff.ms {FETCH_QUEUE_BACKOFF_MS} (the default 1000 stalls a Python reader ~1 s per ~100k records), "
          "other settings default, no group, no commits")
    print("the Python client (its thread plus librdkafka's), the broker and, for the mock, its thread all share the "
          f"same {os.cpu_count()} cores, unpinned")
    if args.fsync_probe_dir:
        print(f"disk before the runs: {fsync_probe(args.fsync_probe_dir, 2.0)}")

    banner(f"runs ({args.runs} × {len(acks_list)} acks × {len(parts_list)} partition counts × {len(systems)} systems)")
    legend = [
        "produce/s: N ÷ (first produce() → flush() returns); ack p50/p99 ms: produce() → delivery callback",
        "  (includes linger and the wait for the Python loop to poll); rtt p50/p99 ms: produce request round trip",
        f"  from librdkafka statistics (median over {STATS_INTERVAL_MS} ms windows, '-' if the phase was shorter)",
        "consume/s: all N records from offset 0, one read",
        "window: the records the mock retained (≤ 5 MiB per partition), read from its log start, and for Streamlab",
        "  the same number of last records per partition; ×reads: how many reads, each with a new consumer;",
        f"  window/s: their median read rate (≥ {args.window_passes} reads, more until {args.window_seconds:g} s)",
        "cpu: % of one core, client/broker (for the mock, 'broker' is its rdk:mock thread and the client excludes it);",
        "  load: 1-minute load average after the case",
    ]
    print("\n".join(legend))
    case_header()
    results = []
    for run in range(1, args.runs + 1):
        for acks in acks_list:
            for partitions in parts_list:
                tail = None
                for system in systems:
                    try:
                        r = run_case(system, acks, partitions, run, args, payload, tail)
                    except (KafkaException, RuntimeError) as exc:
                        print(f"{run:<4} {system:<10} {acks:<4} {partitions:>5}  ! failed: {exc}", flush=True)
                        continue
                    if system == "mock":
                        tail = r["tail"]
                    results.append(r)
                    print_case(r, args.records)

    banner(f"results (median of {args.runs} run{'s' if args.runs > 1 else ''}, {args.records:,} records × {args.size} B)")
    print(f"{'system':<10} {'acks':<4} {'parts':>5} {'produce rec/s':>14} {'MB/s':>6} {'ack p50 ms':>10} {'ack p99 ms':>10} "
          f"{'rtt p50/p99 ms':>15} {'consume rec/s':>14} {'window rec/s':>13}")
    summary = {}
    keys = ("produce_rps", "ack_p50", "ack_p99", "rtt_p50", "rtt_p99", "consume_rps", "window_rps", "window")
    for acks in acks_list:
        for partitions in parts_list:
            for system in systems:
                rs = [r for r in results if (r["system"], r["acks"], r["partitions"]) == (system, acks, partitions)]
                if not rs:
                    print(f"{system:<10} {acks:<4} {partitions:>5}   (no successful run)")
                    continue
                s = {k: med([r[k] for r in rs]) for k in keys}
                summary[(system, acks, partitions)] = s
                rtt = f"{fmt_ms(s['rtt_p50'])}/{fmt_ms(s['rtt_p99'])}"
                window = "" if s["window"] != s["window"] else f" ({s['window']:,.0f})"
                print(
                    f"{system:<10} {acks:<4} {partitions:>5} {s['produce_rps']:>14,.0f} {s['produce_rps'] * args.size / 1e6:>6.1f} "
                    f"{s['ack_p50']:>10.2f} {s['ack_p99']:>10.2f} {rtt:>15} {fmt_rate(s['consume_rps']):>14} "
                    f"{fmt_rate(s['window_rps']):>13}{window}"
                )
    print("consume rec/s: all N records read back from offset 0 ('-' for the mock when it no longer held them all);")
    print("window rec/s (records): the read rate over the tail of each partition, as many records as the mock retained;")
    print("the mock keeps at most 5 MiB or 100,000 batches per partition (hard-coded in librdkafka's rdkafka_mock.c).")

    if {"streamlab", "mock"} <= set(systems):
        banner(f"streamlab / mock, same client, replication factor {rf} (targets: produce ≥ {produce_target}%, consume ≥ 90%)")
        print(f"{'acks':<4} {'parts':>5} {'produce':>9} {'':>6} {'consume':>9} {'':>6}  consume compares (mock / streamlab)")
        for acks in acks_list:
            for partitions in parts_list:
                sl, mk = summary.get(("streamlab", acks, partitions)), summary.get(("mock", acks, partitions))
                if not sl or not mk:
                    print(f"{acks:<4} {partitions:>5}   (a system has no successful run)")
                    continue
                p = 100 * sl["produce_rps"] / mk["produce_rps"]
                c = 100 * sl["window_rps"] / mk["window_rps"] if mk["window_rps"] else float("nan")
                basis = "all" if mk["window"] == args.records else "the last"
                verdict = f"{'≥' if p >= produce_target else '<'} {produce_target}%"
                print(f"{acks:<4} {partitions:>5} {p:>8.1f}% {verdict:>6} "
                      f"{c:>8.1f}% {'≥ 90%' if c >= 90 else '< 90%':>6}  window rec/s: {basis} "
                      f"{mk['window']:,.0f} / {sl['window']:,.0f} records")
        print("note: the mock keeps records in memory and never writes to disk; Streamlab writes its log to disk and "
              "answers acks=all after its group-commit fsync.")
    bad = [r for r in results
           if r["errors"] or r["unflushed"] or r["consume_problems"]
           or (r["system"] == "streamlab" and (r["retained"] != args.records or r["consumed"] != args.records))]
    if bad:
        print(f"warning: {len(bad)} case(s) lost records, failed, or did not read every record back (see '!' above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
