// kafkajs 2.2.4 consumer groups against the streamlab broker: two members split the partitions, a
// third joins, the first leaves (rebalances); explicit commits and a restarted consumer resuming
// from them; group admin (list / describe / delete).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, sleep } from './broker.js';
import { Partitioners, createTopic, makeKafka, topicName } from './kafka.js';

const LIMIT = { timeout: 90_000 };
const PARTITIONS = 6;

let broker;
let kafka;

before(async () => {
  broker = await startBroker();
  kafka = makeKafka(broker.bootstrap);
});

after(async () => {
  const status = await broker?.stop();
  if (status && status.code !== 0) throw new Error(`broker exit on SIGTERM: ${JSON.stringify(status)}\n${broker.log()}`);
});

async function waitUntil(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** A group member: its current assignment (from GROUP_JOIN events) and what it consumed. */
async function startMember(groupId, topic, name, options = {}) {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
    rebalanceTimeout: 20_000,
    maxWaitTimeInMs: 200,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
    ...options.consumer,
  });
  const m = { name, consumer, assignment: new Set(), history: [], records: [], errors: [] };
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const parts = payload.memberAssignment[topic] ?? [];
    m.assignment = new Set(parts);
    m.history.push(`gen ${payload.groupId}/${payload.memberId}: ${JSON.stringify([...parts].sort())}${payload.isLeader ? ' (leader)' : ''}`);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => m.errors.push(`crash: ${payload.error?.message ?? payload.error}`));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: options.autoCommit ?? false,
    eachMessage: async ({ partition, message }) => {
      m.records.push({ partition, offset: Number(message.offset), value: message.value?.toString() });
    },
  });
  m.stop = async () => {
    await consumer.disconnect(); // LeaveGroup (and a final commit with autoCommit)
  };
  m.describe = () => `${name}: now ${JSON.stringify([...m.assignment].sort())}; ${m.history.join(' | ')}; errors ${m.errors.join('; ')}`;
  return m;
}

async function waitForSplit(members, timeoutMs = 30_000) {
  try {
    await waitUntil(() => {
      const sets = members.map((m) => m.assignment);
      const union = new Set(sets.flatMap((s) => [...s]));
      return sets.every((s) => s.size > 0) && sets.reduce((n, s) => n + s.size, 0) === union.size && union.size === PARTITIONS;
    }, timeoutMs, `the partitions to be split among ${members.map((m) => m.name).join(', ')}`);
  } catch (err) {
    err.message += `\n${members.map((m) => m.describe()).join('\n')}`;
    throw err;
  }
  return Object.fromEntries(members.map((m) => [m.name, [...m.assignment].sort()]));
}

function withLogs(fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (err) {
      err.message += `\n--- kafkajs warnings ---\n${kafka.logs.slice(-40).join('\n')}` +
        `\n--- broker log (tail) ---\n${broker.log().slice(-8000)}`;
      throw err;
    }
  };
}

async function produce(topic, messages) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

async function seedTwoPartitions(topic) {
  await createTopic(kafka, topic, 2);
  await produce(topic, Array.from({ length: 20 }, (_, i) => ({ value: `p${i % 2}-${Math.floor(i / 2)}`, partition: i % 2 })));
}

async function committed(admin, groupId, topic) {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return Object.fromEntries(entry.partitions.map(({ partition, offset }) => [partition, Number(offset)]));
}

test('rebalances: two members split, a third joins, the first leaves', LIMIT, withLogs(async () => {
  const topic = topicName('rebalance');
  const groupId = `g-${topic}`;
  await createTopic(kafka, topic, PARTITIONS);
  const members = [];
  try {
    const a = await startMember(groupId, topic, 'member-a');
    members.push(a);
    await waitForSplit([a]);
    const b = await startMember(groupId, topic, 'member-b');
    members.push(b);
    await waitForSplit([a, b]);
    const c = await startMember(groupId, topic, 'member-c');
    members.push(c);
    await waitForSplit([a, b, c]);
    await a.stop();
    members.splice(members.indexOf(a), 1);
    const split = await waitForSplit([b, c]);

    await produce(topic, Array.from({ length: PARTITIONS }, (_, p) => ({ value: `final-${p}`, partition: p })));
    const owner = {};
    for (const m of [b, c]) for (const p of split[m.name]) owner[p] = m;
    await waitUntil(() => [...Array(PARTITIONS).keys()].every(
      (p) => owner[p].records.some((r) => r.partition === p && r.value === `final-${p}`)),
    20_000, "each final record to reach its partition's owner");
    for (const m of [b, c]) {
      const strays = m.records.filter((r) => r.value.startsWith('final-') && !split[m.name].includes(r.partition));
      assert.deepEqual(strays, [], `${m.name} got records of partitions it does not own`);
    }
  } catch (err) {
    err.message += `\n--- members ---\n${members.map((m) => m.describe()).join('\n')}`;
    throw err;
  } finally {
    for (const m of members) await m.stop().catch(() => {});
  }
}));

test('commit, then a restarted consumer resumes from the commit', LIMIT, withLogs(async () => {
  const topic = topicName('commit');
  const groupId = `g-${topic}`;
  await seedTwoPartitions(topic);
  const commits = { 0: 4, 1: 7 };
  const admin = kafka.admin();
  await admin.connect();
  try {
    const first = await startMember(groupId, topic, 'first');
    try {
      await waitUntil(() => first.records.length >= 20, 30_000, 'the first member to read all 20 records');
      await first.consumer.commitOffsets(Object.entries(commits).map(([partition, offset]) => (
        { topic, partition: Number(partition), offset: String(offset) })));
    } finally {
      await first.stop();
    }
    assert.deepEqual(first.errors, []);
    assert.deepEqual(await committed(admin, groupId, topic), commits);

    const second = await startMember(groupId, topic, 'second', { autoCommit: true });
    try {
      await waitUntil(() => second.records.length >= 9, 30_000, 'the restarted member to read the 9 records left');
      await sleep(1000); // a re-read from an earlier offset would show up now
    } finally {
      await second.stop();
    }
    const got = second.records.map((r) => [r.partition, r.offset]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    const want = [];
    for (const [p, start] of Object.entries(commits)) for (let o = start; o < 10; o++) want.push([Number(p), o]);
    assert.deepEqual(got, want);
    assert.deepEqual(await committed(admin, groupId, topic), { 0: 10, 1: 10 });
  } finally {
    await admin.disconnect();
  }
}));

test('group admin: list, describe, delete', LIMIT, withLogs(async () => {
  const topic = topicName('groupadmin');
  const groupId = `g-${topic}`;
  await createTopic(kafka, topic, PARTITIONS);
  const admin = kafka.admin();
  await admin.connect();
  const members = [];
  try {
    members.push(await startMember(groupId, topic, 'm0'), await startMember(groupId, topic, 'm1'));
    await waitForSplit(members);
    const { groups } = await admin.listGroups();
    const listed = groups.find((g) => g.groupId === groupId);
    assert.ok(listed, `${groupId} not in ${JSON.stringify(groups)}`);
    assert.equal(listed.protocolType, 'consumer');
    const { groups: [desc] } = await admin.describeGroups([groupId]);
    assert.equal(desc.errorCode, 0);
    assert.equal(desc.state, 'Stable');
    assert.equal(desc.protocolType, 'consumer');
    assert.equal(desc.members.length, 2);
    for (const m of members) await m.stop();
    members.length = 0;
    const deleted = await admin.deleteGroups([groupId]);
    assert.deepEqual(deleted.map((d) => [d.groupId, d.errorCode]), [[groupId, 0]]);
    const after = await admin.listGroups();
    assert.ok(!after.groups.some((g) => g.groupId === groupId), 'group still listed after deleteGroups');
  } finally {
    for (const m of members) await m.stop().catch(() => {});
    await admin.disconnect();
  }
}));
