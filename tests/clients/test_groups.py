"""Consumer groups (classic protocol) with kcat -G, confluent-kafka and kafka-python.

For each client:
- rebalance: two members split a 6-partition topic, a third joins (three-way split), the first
  leaves (the other two take over its partitions); records produced afterwards reach the owner
  of their partition;
- commit/resume: a member commits explicit offsets, closes; a restarted member of the same group
  resumes exactly there (and auto-commit on close records the new position);
- group admin (list / describe / delete) where the client has it;
- static membership (confluent-kafka): a member with a group.instance.id that restarts takes its
  old place and partitions back without a rebalance.

Members run their poll loops in threads (kcat: a subprocess) and report their assignments through
rebalance callbacks.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaError, TopicPartition as CTP
from confluent_kafka.admin import AdminClient
from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, TopicPartition as KTP

from support import Background, Rec, create_topic, parse_kcat_json, produce_records, wait_until

pytestmark = pytest.mark.time_limit(90)

PARTITIONS = 6
# Short heartbeats so that members notice a rebalance quickly; Kafka's default minimum session timeout is 6 s.
SESSION_MS, HEARTBEAT_MS = 10_000, 500
REBALANCE_WAIT = 30.0
# kafka-python poll() timeout of the group members. kafka-python 3.0.12 loses a JoinGroup/SyncGroup
# round trip that outlasts one poll() call when the leader's metadata changed meanwhile (the
# assignment refreshes its snapshot, need_rejoin() turns False and the finished join is never
# consumed: no assignment, no heartbeats, evicted after session.timeout.ms). A broker that answers
# the first JoinGroup at once (no initial rebalance delay) makes that likely with short timeouts;
# STREAMLAB_KP_POLL_MS=100 reproduces it.
KP_POLL_MS = int(os.environ.get("STREAMLAB_KP_POLL_MS", "1000"))


class Member:
    """What the tests need of a group member, whatever the client."""

    name: str

    def __init__(self, name: str):
        self.name = name
        self.assignment: frozenset[int] = frozenset()
        self.history: list[tuple[str, tuple[int, ...]]] = []
        self.records: list[Rec] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def _assigned(self, parts):
        parts = list(parts)
        with self._lock:
            self.assignment = frozenset(parts)
            self.history.append(("assigned", tuple(sorted(parts))))

    def _revoked(self, parts):
        parts = list(parts)
        with self._lock:
            self.assignment = self.assignment - set(parts)
            self.history.append(("revoked", tuple(sorted(parts))))

    def refresh(self):
        """Bring assignment/records up to date (a no-op for in-process clients)."""

    def describe(self) -> str:
        self.refresh()
        return f"{self.name}: now {sorted(self.assignment)}, history {self.history}, errors {self.errors[-5:]}"

    def close(self):
        raise NotImplementedError


class ConfluentMember(Member):
    def __init__(self, bootstrap, group, topic, name, **conf):
        super().__init__(name)
        self.consumer = Consumer({
            "bootstrap.servers": bootstrap, "group.id": group, "client.id": name,
            "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": HEARTBEAT_MS,
            "auto.offset.reset": "earliest", "enable.auto.commit": False, "enable.partition.eof": True,
            "error_cb": lambda err: self.errors.append(str(err)), **conf,
        })
        self.eof: set[int] = set()
        self._stop = threading.Event()
        self._closed = threading.Event()
        self._calls: list = []  # functions to run on the poll thread (the consumer is not thread-safe)
        self._thread = threading.Thread(target=self._run, args=(topic,), daemon=True, name=name)
        self._thread.start()

    def _run(self, topic):
        c = self.consumer
        try:
            c.subscribe([topic], on_assign=lambda _c, ps: self._assigned(p.partition for p in ps),
                        on_revoke=lambda _c, ps: self._revoked(p.partition for p in ps),
                        on_lost=lambda _c, ps: self._revoked(p.partition for p in ps))
            while not self._stop.is_set():
                while self._calls:
                    fn, done = self._calls.pop(0)
                    try:
                        done.append(("ok", fn(c)))
                    except Exception as e:  # noqa: BLE001 - handed back to the caller
                        done.append(("err", e))
                msg = c.poll(0.1)
                if msg is None:
                    continue
                if msg.error():
                    if msg.error().code() == KafkaError._PARTITION_EOF:
                        self.eof.add(msg.partition())
                    else:
                        self.errors.append(str(msg.error()))
                    continue
                self.eof.discard(msg.partition())
                self.records.append(Rec(msg.partition(), msg.offset(), msg.key(), msg.value()))
        except Exception as e:  # noqa: BLE001
            self.errors.append(f"poll loop died: {e!r}")
        finally:
            try:
                c.close()  # leaves the group (and commits, with enable.auto.commit)
            except Exception as e:  # noqa: BLE001
                self.errors.append(f"close: {e!r}")
            self._closed.set()

    def call(self, fn, timeout=20.0):
        """Run fn(consumer) on the poll thread; return its result."""
        done: list = []
        self._calls.append((fn, done))
        wait_until(lambda: done, timeout, f"{self.name}: call to run on the poll thread")
        kind, value = done[0]
        if kind == "err":
            raise value
        return value

    def close(self, timeout=30.0):
        self._stop.set()
        assert self._closed.wait(timeout), f"{self.name} did not close in {timeout} s"
        failed = [e for e in self.errors if e.startswith(("close:", "poll loop died"))]
        assert not failed, f"{self.name}: {failed}"


class KafkaPythonMember(Member):
    def __init__(self, bootstrap, group, topic, name, **conf):
        super().__init__(name)
        member = self

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                member._revoked(tp.partition for tp in revoked)

            def on_partitions_assigned(self, assigned):
                member._assigned(tp.partition for tp in assigned)

        self.consumer = KafkaConsumer(**{
            "bootstrap_servers": bootstrap, "group_id": group, "client_id": name,
            "session_timeout_ms": SESSION_MS, "heartbeat_interval_ms": HEARTBEAT_MS,
            "auto_offset_reset": "earliest", "enable_auto_commit": False, "request_timeout_ms": 30_000,
            "fetch_max_wait_ms": 100, **conf})
        self.consumer.subscribe(topics=[topic], listener=Listener())
        self._stop = threading.Event()
        self._closed = threading.Event()
        self._calls: list = []
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)
        self._thread.start()

    def _run(self):
        c = self.consumer
        try:
            while not self._stop.is_set():
                while self._calls:
                    fn, done = self._calls.pop(0)
                    try:
                        done.append(("ok", fn(c)))
                    except Exception as e:  # noqa: BLE001
                        done.append(("err", e))
                # poll() with a typical 1 s timeout. With short timeouts (100 ms) kafka-python 3.0.12 can
                # lose a rejoin that spans two poll() calls (see KP_POLL_MS below and the suite README).
                for batch in c.poll(timeout_ms=KP_POLL_MS).values():
                    self.records.extend(Rec(m.partition, m.offset, m.key, m.value) for m in batch)
        except Exception as e:  # noqa: BLE001
            self.errors.append(f"poll loop died: {e!r}")
        finally:
            try:
                c.close(timeout_ms=10_000)
            except Exception as e:  # noqa: BLE001
                self.errors.append(f"close: {e!r}")
            self._closed.set()

    call = ConfluentMember.call
    close = ConfluentMember.close


REBALANCED = re.compile(r"% Group (\S+) rebalanced \(memberid [^)]*\): (assigned|revoked): ?(.*)$")


class KcatMember(Member):
    def __init__(self, bootstrap, group, topic, name, *extra):
        super().__init__(name)
        self.topic = topic
        self.proc = Background([
            "kcat", "-b", bootstrap, "-G", group, "-J", "-u", "-X", f"client.id={name}",
            "-X", f"session.timeout.ms={SESSION_MS}", "-X", f"heartbeat.interval.ms={HEARTBEAT_MS}",
            "-X", "auto.offset.reset=earliest", *extra, topic])
        self._seen = 0

    def refresh(self):
        """Fold new kcat output into assignment/records (kcat reports through its stderr and stdout)."""
        lines = self.proc.stderr[self._seen:]
        self._seen += len(lines)
        for line in lines:
            m = REBALANCED.search(line)
            if m:
                parts = [int(x) for x in re.findall(rf"{re.escape(self.topic)} \[(\d+)\]", m.group(3))]
                (self._assigned if m.group(2) == "assigned" else self._revoked)(parts)
            elif line.startswith("%") and ("ERROR" in line or "FAIL" in line):
                self.errors.append(line)
        self.records = parse_kcat_json("\n".join(self.proc.stdout).encode())

    def close(self, timeout=30.0):
        self.proc.stop(signal.SIGTERM)  # kcat leaves the group (and commits) on SIGTERM
        code = self.proc.wait(timeout)
        self.refresh()
        assert code == 0, f"{self.name} exited {code}: {self.proc.stderr[-10:]}"


def wait_for_split(members: list[Member], partitions: int = PARTITIONS, timeout: float = REBALANCE_WAIT):
    """Every member owns something, nobody shares, together they own every partition."""
    def ok():
        for m in members:
            m.refresh()
        sets = [m.assignment for m in members]
        union = frozenset().union(*sets)
        return (all(sets) and sum(len(s) for s in sets) == len(union) and union == frozenset(range(partitions)))

    try:
        wait_until(ok, timeout, "the partitions to be split among " + ", ".join(m.name for m in members))
    except AssertionError as e:
        raise AssertionError(f"{e}\n" + "\n".join(m.describe() for m in members)) from None
    return {m.name: sorted(m.assignment) for m in members}


def run_rebalance_scenario(broker, topic_name, make_member):
    topic = topic_name()
    group = f"g-{topic}"
    create_topic(broker.bootstrap, topic, PARTITIONS)
    members: list[Member] = []
    try:
        a = make_member(broker.bootstrap, group, topic, "member-a")
        members.append(a)
        wait_for_split([a])
        b = make_member(broker.bootstrap, group, topic, "member-b")
        members.append(b)
        wait_for_split([a, b])
        c = make_member(broker.bootstrap, group, topic, "member-c")
        members.append(c)
        wait_for_split([a, b, c])
        a.close()
        members.remove(a)
        split = wait_for_split([b, c])

        # Records produced now go to the owner of their partition, and only to it.
        produce_all_records = [{"value": b"final-%d" % p, "partition": p} for p in range(PARTITIONS)]
        produce_records(broker.bootstrap, topic, produce_all_records)
        owner = {p: m for m in (b, c) for p in split[m.name]}

        def delivered():
            for m in (b, c):
                m.refresh()
            return all(any(r.value == b"final-%d" % p and r.partition == p for r in owner[p].records)
                       for p in range(PARTITIONS))

        wait_until(delivered, 20, "each final record to reach its partition's owner")
        for m in (b, c):
            m.refresh()
            strays = [r for r in m.records if r.value.startswith(b"final-") and r.partition not in split[m.name]]
            assert not strays, f"{m.name} got records of partitions it does not own: {strays}"
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- members ---\n" + "\n".join(m.describe() for m in members)) from None
    finally:
        for m in members:
            try:
                m.close()
            except AssertionError:
                pass


def seed_two_partitions(broker, topic):
    create_topic(broker.bootstrap, topic, 2)
    produce_records(broker.bootstrap, topic, [{"value": b"p%d-%d" % (i % 2, i // 2), "partition": i % 2}
                                              for i in range(20)])


def expected_after(commits: dict[int, int]) -> list[tuple[int, int]]:
    return sorted((p, o) for p, start in commits.items() for o in range(start, 10))


# --- rebalances ---------------------------------------------------------------------------------------

def test_confluent_rebalance(broker, topic_name):
    run_rebalance_scenario(broker, topic_name, ConfluentMember)


def test_kafka_python_rebalance(broker, topic_name):
    run_rebalance_scenario(broker, topic_name, KafkaPythonMember)


def test_kcat_rebalance(broker, topic_name):
    run_rebalance_scenario(broker, topic_name, KcatMember)


# --- static membership (KIP-345) ----------------------------------------------------------------------

def test_confluent_static_member_comes_back_to_its_partitions_without_a_rebalance(broker, topic_name):
    """A member with a group.instance.id that restarts within session.timeout.ms takes its old
    place (KIP-345): it gets the same partitions back and the other member is not revoked."""
    topic = topic_name()
    group = f"g-{topic}"
    create_topic(broker.bootstrap, topic, PARTITIONS)
    members: list[Member] = []
    try:
        a = ConfluentMember(broker.bootstrap, group, topic, "static-a", **{"group.instance.id": "pod-a"})
        members.append(a)
        wait_for_split([a])
        b = ConfluentMember(broker.bootstrap, group, topic, "static-b", **{"group.instance.id": "pod-b"})
        members.append(b)
        before = wait_for_split([a, b])
        time.sleep(1)  # a late rebalance callback would land in the history now
        history_a = list(a.history)

        # A static member sends no LeaveGroup on close: its place is kept until its session expires.
        b.close()
        members.remove(b)
        back = ConfluentMember(broker.bootstrap, group, topic, "static-b-again", **{"group.instance.id": "pod-b"})
        members.append(back)
        wait_until(lambda: back.assignment == frozenset(before["static-b"]), REBALANCE_WAIT,
                   "the returning instance to get its partitions back")
        time.sleep(1)
        assert a.history == history_a, "the other member went through no rebalance"
        assert not a.errors and not back.errors, (a.errors, back.errors)

        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        desc = admin.describe_consumer_groups([group], request_timeout=15)[group].result(15)
        by_instance = {m.group_instance_id: m for m in desc.members}
        assert sorted(by_instance) == ["pod-a", "pod-b"]
        # The returning instance has a new member id; like Kafka (`ClassicGroup.replaceStaticMember`),
        # the group keeps the first incarnation's client id and host.
        assert by_instance["pod-b"].member_id == back.call(lambda c: c.memberid())
        assert by_instance["pod-b"].client_id == "static-b"
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- members ---\n" + "\n".join(m.describe() for m in members)) from None
    finally:
        for m in members:
            try:
                m.close()
            except AssertionError:
                pass


# --- commits ------------------------------------------------------------------------------------------

def confluent_committed(broker, group, topic) -> dict[int, int]:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [CTP(topic, 0), CTP(topic, 1)])], request_timeout=15)
    result = futures[group].result(15)
    return {tp.partition: tp.offset for tp in result.topic_partitions}


def test_confluent_commit_and_resume(broker, topic_name):
    topic = topic_name()
    group = f"g-{topic}"
    seed_two_partitions(broker, topic)
    commits = {0: 4, 1: 7}

    first = ConfluentMember(broker.bootstrap, group, topic, "first")
    try:
        wait_until(lambda: len(first.records) >= 20, 30, "the first member to read all 20 records")
        first.call(lambda c: c.commit(offsets=[CTP(topic, p, o) for p, o in commits.items()], asynchronous=False))
        got = first.call(lambda c: c.committed([CTP(topic, 0), CTP(topic, 1)], timeout=10))
        assert {tp.partition: tp.offset for tp in got} == commits
    finally:
        first.close()
    assert not first.errors, first.errors
    assert confluent_committed(broker, group, topic) == commits

    # A restarted consumer resumes at the commits; auto-commit on close records where it got to.
    second = ConfluentMember(broker.bootstrap, group, topic, "second", **{"enable.auto.commit": True})
    try:
        wait_until(lambda: second.assignment == {0, 1} and second.eof >= {0, 1}, 30,
                   "the restarted member to reach the end of both partitions")
    finally:
        second.close()
    assert sorted((r.partition, r.offset) for r in second.records) == expected_after(commits)
    assert confluent_committed(broker, group, topic) == {0: 10, 1: 10}


def test_confluent_committed_offsets_survive_broker_restart(broker, topic_name):
    topic = topic_name()
    group = f"g-{topic}"
    seed_two_partitions(broker, topic)
    commits = {0: 3, 1: 8}
    first = ConfluentMember(broker.bootstrap, group, topic, "first")
    try:
        wait_until(lambda: len(first.records) >= 20, 30, "the first member to read all 20 records")
        first.call(lambda c: c.commit(offsets=[CTP(topic, p, o) for p, o in commits.items()], asynchronous=False))
    finally:
        first.close()

    broker.restart()

    assert confluent_committed(broker, group, topic) == commits
    second = ConfluentMember(broker.bootstrap, group, topic, "second")
    try:
        wait_until(lambda: second.assignment == {0, 1} and second.eof >= {0, 1}, 30,
                   "the member to reach the end of both partitions")
    finally:
        second.close()
    assert sorted((r.partition, r.offset) for r in second.records) == expected_after(commits)


def test_kafka_python_commit_and_resume(broker, topic_name):
    topic = topic_name()
    group = f"g-{topic}"
    seed_two_partitions(broker, topic)
    commits = {0: 4, 1: 7}
    from kafka import OffsetAndMetadata

    first = KafkaPythonMember(broker.bootstrap, group, topic, "first")
    try:
        wait_until(lambda: len(first.records) >= 20, 30, "the first member to read all 20 records")
        first.call(lambda c: c.commit({KTP(topic, p): OffsetAndMetadata(o, "", -1) for p, o in commits.items()}))
        assert first.call(lambda c: {p: c.committed(KTP(topic, p)) for p in (0, 1)}) == commits
    finally:
        first.close()
    assert not first.errors, first.errors

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=15_000)
    try:
        offsets = admin.list_group_offsets({group: None})[group]
        assert {tp.partition: om.offset for tp, om in offsets.items() if tp.topic == topic} == commits

        second = KafkaPythonMember(broker.bootstrap, group, topic, "second", enable_auto_commit=True)
        try:
            wait_until(lambda: len(second.records) >= 9, 30, "the restarted member to read the 9 records left")
            time.sleep(1)  # anything extra (a re-read from an earlier offset) would show up now
        finally:
            second.close()
        assert sorted((r.partition, r.offset) for r in second.records) == expected_after(commits)
        offsets = admin.list_group_offsets({group: None})[group]
        assert {tp.partition: om.offset for tp, om in offsets.items() if tp.topic == topic} == {0: 10, 1: 10}
    finally:
        admin.close()


def test_kcat_commit_and_resume(broker, topic_name):
    """kcat -G commits what it consumed when it exits (auto-commit); a second run picks up from there."""
    topic = topic_name()
    group = f"g-{topic}"
    seed_two_partitions(broker, topic)
    base = ["kcat", "-b", broker.bootstrap, "-G", group, "-J", "-X", "auto.offset.reset=earliest",
            "-X", f"session.timeout.ms={SESSION_MS}", "-X", f"heartbeat.interval.ms={HEARTBEAT_MS}"]
    first = Background([*base, "-c", "8", topic])
    try:
        assert first.wait(40) == 0, "\n".join(first.stderr[-20:])
    finally:
        first.stop()
    got1 = parse_kcat_json("\n".join(first.stdout).encode())
    assert len(got1) == 8
    second = Background([*base, "-e", topic])
    try:
        assert second.wait(40) == 0, "\n".join(second.stderr[-20:])
    finally:
        second.stop()
    got2 = parse_kcat_json("\n".join(second.stdout).encode())
    offsets1 = {(r.partition, r.offset) for r in got1}
    offsets2 = {(r.partition, r.offset) for r in got2}
    assert not offsets1 & offsets2, f"re-delivered after the commit: {sorted(offsets1 & offsets2)}"
    assert sorted(offsets1 | offsets2) == expected_after({0: 0, 1: 0})
    assert len(got2) == 12


# --- group admin --------------------------------------------------------------------------------------

def test_confluent_group_admin(broker, topic_name):
    topic = topic_name()
    group = f"g-{topic}"
    create_topic(broker.bootstrap, topic, PARTITIONS)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    members = [ConfluentMember(broker.bootstrap, group, topic, f"m{i}") for i in range(2)]
    try:
        wait_for_split(members)
        listed = admin.list_consumer_groups(request_timeout=15).result(15)
        assert group in {g.group_id for g in listed.valid}, listed
        desc = admin.describe_consumer_groups([group], request_timeout=15)[group].result(15)
        assert desc.group_id == group
        assert str(desc.state).endswith("STABLE"), desc.state
        assert not desc.is_simple_consumer_group
        assert desc.partition_assignor in ("range", "roundrobin"), desc.partition_assignor
        assert sorted(m.client_id for m in desc.members) == ["m0", "m1"]
        owned = sorted(tp.partition for m in desc.members for tp in m.assignment.topic_partitions)
        assert owned == list(range(PARTITIONS))
    finally:
        for m in members:
            m.close()
    admin.delete_consumer_groups([group], request_timeout=15)[group].result(15)
    listed = admin.list_consumer_groups(request_timeout=15).result(15)
    assert group not in {g.group_id for g in listed.valid}


def test_kafka_python_group_admin(broker, topic_name):
    topic = topic_name()
    group = f"g-{topic}"
    create_topic(broker.bootstrap, topic, PARTITIONS)
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=15_000)
    members = [KafkaPythonMember(broker.bootstrap, group, topic, f"m{i}") for i in range(2)]
    try:
        wait_for_split(members)
        groups = admin.list_groups()
        assert group in [g["group_id"] if isinstance(g, dict) else g[0] for g in groups], groups
        desc = admin.describe_groups([group])[group]
        assert desc["group_state"] == "Stable", desc
        assert desc["protocol_type"] == "consumer"
        assert sorted(m["client_id"] for m in desc["members"]) == ["m0", "m1"]
    finally:
        for m in members:
            m.close()
        try:
            assert admin.delete_groups([group]) == {group: "OK"}
            groups = admin.list_groups()
            assert group not in [g["group_id"] if isinstance(g, dict) else g[0] for g in groups]
        finally:
            admin.close()
