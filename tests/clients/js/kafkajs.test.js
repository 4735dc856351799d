// kafkajs 2.2.4 against the streamlab broker: metadata, topic admin, keyed/unkeyed produce, the
// four codecs, acks, reading from the beginning / the end / a timestamp, and a restart.
// kafkajs has no partition-assignment consumer, so records are read with kafkajs's own Fetch
// (kafka.js readPartitions); its group consumer is covered by groups.test.js.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { startBroker } from './broker.js';
import {
  CODECS, Partitioners, ZSTD_MISSING, createTopic, makeKafka, readPartitions, readTopic, storedBatches, topicName,
  watermarks,
} from './kafka.js';

const { ConfigResourceTypes } = kafkajs;
const LIMIT = { timeout: 60_000 };

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

/** Wrap a test body: on failure, append the kafkajs warnings and the broker log tail. */
function withLogs(fn, getBroker = () => broker, getKafka = () => kafka) {
  return async (t) => {
    try {
      await fn(t);
    } catch (err) {
      err.message += `\n--- kafkajs warnings ---\n${getKafka().logs.slice(-30).join('\n')}` +
        `\n--- broker log (tail) ---\n${getBroker().log().slice(-6000)}`;
      throw err;
    }
  };
}

async function withProducer(k, options, fn) {
  const producer = k.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...options });
  await producer.connect();
  try {
    return await fn(producer);
  } finally {
    await producer.disconnect();
  }
}

async function withAdmin(k, fn) {
  const admin = k.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

function compressible(i) {
  return `record ${String(i).padStart(5, '0')} ${'streamlab '.repeat(28)}`;
}

const str = (b) => (b == null ? null : b.toString());
const byPartition = (recs) => {
  const out = {};
  for (const r of [...recs].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    (out[r.partition] ||= []).push(r);
  }
  return out;
};
function assertDense(recs, start = {}) {
  for (const [p, list] of Object.entries(byPartition(recs))) {
    const first = start[p] ?? 0;
    assert.deepEqual(list.map((r) => r.offset), list.map((_, i) => first + i), `partition ${p} offsets`);
  }
}

test('metadata: the broker and a topic\'s partitions', LIMIT, withLogs(async () => {
  const topic = topicName('metadata');
  await createTopic(kafka, topic, 4);
  await withAdmin(kafka, async (admin) => {
    const cluster = await admin.describeCluster();
    // The default cluster: three brokers on consecutive ports.
    const brokers = [...cluster.brokers].sort((a, b) => a.nodeId - b.nodeId);
    assert.deepEqual(brokers, [1, 2, 3].map((nodeId) => ({ nodeId, host: '127.0.0.1', port: broker.port + nodeId - 1 })));
    assert.equal(cluster.controller, 1);
    assert.ok(cluster.clusterId, 'no cluster id');
    assert.ok((await admin.listTopics()).includes(topic));
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(topics.length, 1);
    const parts = [...topics[0].partitions].sort((a, b) => a.partitionId - b.partitionId);
    assert.deepEqual(parts.map((p) => p.partitionId), [0, 1, 2, 3]);
    // One replica each, placed round-robin: partition p on broker p % 3 + 1, which leads it.
    for (const p of parts) {
      const home = (p.partitionId % 3) + 1;
      assert.equal(p.partitionErrorCode, 0);
      assert.equal(p.leader, home);
      assert.deepEqual(p.replicas, [home]);
      assert.deepEqual(p.isr, [home]);
    }
  });
}));

test('admin: create, create again, describe configs, delete', LIMIT, withLogs(async () => {
  const topic = topicName('admin');
  await withAdmin(kafka, async (admin) => {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] }), true);
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] }), false,
      'a second createTopics of the same topic should resolve to false (TOPIC_ALREADY_EXISTS)');
    const { resources } = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false,
    });
    assert.equal(resources[0].errorCode, 0);
    const entries = Object.fromEntries(resources[0].configEntries.map((e) => [e.configName, e.configValue]));
    assert.equal(entries['cleanup.policy'], 'delete');
    assert.ok(Number(entries['retention.ms']) > 0);
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
    const deadline = Date.now() + 10_000;
    while ((await admin.listTopics()).includes(topic)) {
      assert.ok(Date.now() < deadline, `${topic} still listed 10 s after deleteTopics`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
}));

test('keyed records stay on one partition; unkeyed records are all there', LIMIT, withLogs(async () => {
  const topic = topicName('keyed');
  await createTopic(kafka, topic, 3);
  const keys = Array.from({ length: 12 }, (_, k) => `account-${k}`);
  const keyed = [];
  for (let n = 0; n < 5; n++) for (const key of keys) keyed.push({ key, value: `${key}:${n}`, headers: { n: String(n) } });
  const unkeyed = Array.from({ length: 30 }, (_, i) => ({ value: `plain-${i}` }));
  await withProducer(kafka, {}, async (producer) => {
    const meta = await producer.send({ topic, acks: -1, messages: keyed });
    for (const m of meta) assert.equal(m.errorCode, 0);
    await producer.send({ topic, messages: unkeyed });
  });
  const recs = await readTopic(kafka, topic);
  assert.equal(recs.length, keyed.length + unkeyed.length);
  assertDense(recs);
  const partitionsOf = {};
  for (const r of recs.filter((r) => r.key != null)) (partitionsOf[str(r.key)] ||= new Set()).add(r.partition);
  assert.deepEqual(Object.keys(partitionsOf).sort(), [...keys].sort());
  for (const [key, parts] of Object.entries(partitionsOf)) assert.equal(parts.size, 1, `${key} on partitions ${[...parts]}`);
  assert.ok(new Set(Object.values(partitionsOf).map((s) => [...s][0])).size >= 2, 'all keys on one partition');
  for (const key of keys) {
    const mine = recs.filter((r) => str(r.key) === key).sort((a, b) => a.offset - b.offset);
    assert.deepEqual(mine.map((r) => str(r.value)), [0, 1, 2, 3, 4].map((n) => `${key}:${n}`));
    assert.deepEqual(mine.map((r) => str(r.headers.n)), ['0', '1', '2', '3', '4']);
  }
  assert.deepEqual(recs.filter((r) => r.key == null).map((r) => str(r.value)).sort(), unkeyed.map((u) => u.value).sort());
}));

for (const [name, type] of Object.entries(CODECS)) {
  const options = { ...LIMIT, skip: name === 'zstd' && ZSTD_MISSING ? ZSTD_MISSING : false };
  test(`${name} batches round-trip and are stored compressed`, options, withLogs(async () => {
    const topic = topicName(name);
    await createTopic(kafka, topic, 2);
    const messages = Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 5}`, value: compressible(i), partition: i % 2 }));
    await withProducer(kafka, {}, async (producer) => {
      const meta = await producer.send({ topic, compression: type, messages });
      assert.deepEqual(meta.map((m) => m.errorCode), [0, 0]);
    });
    const recs = await readTopic(kafka, topic);
    assert.equal(recs.length, messages.length);
    for (const [p, list] of Object.entries(byPartition(recs))) {
      assert.deepEqual(list.map((r) => [str(r.key), str(r.value)]),
        messages.filter((m) => m.partition === Number(p)).map((m) => [m.key, m.value]));
    }
    const batches = [...await storedBatches(broker.bootstrap, topic, 0), ...await storedBatches(broker.bootstrap, topic, 1)];
    assert.ok(batches.every((b) => b.crcOk && b.magic === 2), JSON.stringify(batches));
    assert.deepEqual([...new Set(batches.map((b) => b.codec))], [name]);
    assert.equal(batches.reduce((n, b) => n + b.recordCount, 0), messages.length);
    assert.ok(Math.max(...batches.map((b) => b.recordCount)) > 1);
  }));
}

for (const acks of [0, 1, -1]) {
  test(`produce with acks=${acks}`, LIMIT, withLogs(async () => {
    const topic = topicName(`acks${acks}`);
    await createTopic(kafka, topic, 1);
    const values = Array.from({ length: 20 }, (_, i) => `a${i}`);
    await withProducer(kafka, {}, async (producer) => {
      await producer.send({ topic, acks, messages: values.map((value) => ({ value })) });
    });
    // acks=0 gets no answer: wait until the records are visible.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const marks = await withAdmin(kafka, (admin) => watermarks(admin, topic));
      if (marks[0].high === 20) break;
      assert.ok(Date.now() < deadline, `high watermark ${marks[0].high} after 10 s, expected 20`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const recs = await readTopic(kafka, topic);
    assert.deepEqual(recs.map((r) => str(r.value)), values);
  }));
}

test('reading from the end gets only new records', LIMIT, withLogs(async () => {
  const topic = topicName('end');
  await createTopic(kafka, topic, 2);
  await withProducer(kafka, {}, (p) => p.send({ topic, messages: Array.from({ length: 9 }, (_, i) => ({ value: `old-${i}`, partition: i % 2 })) }));
  const ends = await withAdmin(kafka, (admin) => watermarks(admin, topic));
  assert.deepEqual(ends, { 0: { low: 0, high: 5 }, 1: { low: 0, high: 4 } });
  await withProducer(kafka, {}, (p) => p.send({ topic, messages: Array.from({ length: 4 }, (_, i) => ({ value: `new-${i}`, partition: i % 2 })) }));
  const recs = await readPartitions(kafka, topic, { 0: 5, 1: 4 }, { 0: 7, 1: 6 });
  assert.deepEqual(recs.map((r) => [r.partition, r.offset, str(r.value)]).sort(),
    [[0, 5, 'new-0'], [0, 6, 'new-2'], [1, 4, 'new-1'], [1, 5, 'new-3']]);
}));

test('reading from a timestamp (fetchTopicOffsetsByTimestamp)', LIMIT, withLogs(async () => {
  const topic = topicName('timestamp');
  await createTopic(kafka, topic, 3);
  const base = Date.now() - 600_000;
  const early = Array.from({ length: 9 }, (_, i) => ({ value: `early-${i}`, partition: i % 3, timestamp: String(base + i) }));
  const late = Array.from({ length: 6 }, (_, i) => ({ value: `late-${i}`, partition: i % 3, timestamp: String(base + 300_000 + i) }));
  await withProducer(kafka, {}, async (p) => {
    await p.send({ topic, messages: early });
    await p.send({ topic, messages: late });
  });
  await withAdmin(kafka, async (admin) => {
    const found = await admin.fetchTopicOffsetsByTimestamp(topic, base + 300_000);
    assert.deepEqual(found.map(({ partition, offset }) => [partition, Number(offset)]).sort(), [[0, 3], [1, 3], [2, 3]]);
    const exact = await admin.fetchTopicOffsetsByTimestamp(topic, base + 300_003);
    assert.equal(Number(exact.find((o) => o.partition === 0).offset), 4);
    const first = await admin.fetchTopicOffsetsByTimestamp(topic, 0);
    assert.deepEqual(first.map((o) => Number(o.offset)), [0, 0, 0]);
    // After every record: kafkajs maps ListOffsets' -1 to the high watermark.
    const beyond = await admin.fetchTopicOffsetsByTimestamp(topic, base + 900_000);
    assert.deepEqual(beyond.map((o) => Number(o.offset)), [5, 5, 5]);
    const start = Object.fromEntries(found.map(({ partition, offset }) => [partition, Number(offset)]));
    const recs = await readPartitions(kafka, topic, start, { 0: 5, 1: 5, 2: 5 });
    assert.deepEqual(recs.map((r) => [str(r.value), r.timestamp]).sort(),
      late.map((m) => [m.value, Number(m.timestamp)]).sort());
  });
}));

test('data survives a broker restart', LIMIT, async () => {
  const own = await startBroker();
  const k = makeKafka(own.bootstrap);
  try {
    await withLogs(async () => {
      const topic = topicName('restart');
      await createTopic(k, topic, 3);
      const messages = Array.from({ length: 150 }, (_, i) => ({
        key: `k${i % 10}`, value: compressible(i), headers: { i: String(i) }, timestamp: String(1_700_000_000_000 + i),
      }));
      await withProducer(k, {}, (p) => p.send({ topic, compression: CODECS.gzip, messages }));
      const before = await readTopic(k, topic);
      assert.equal(before.length, 150);

      await own.restart();

      const k2 = makeKafka(own.bootstrap, { logs: k.logs });
      const after = await readTopic(k2, topic);
      const norm = (recs) => recs.map((r) => JSON.stringify([r.partition, r.offset, str(r.key), str(r.value), str(r.headers.i), r.timestamp])).sort();
      assert.deepEqual(norm(after), norm(before));
      const ends = Object.fromEntries(Object.entries(byPartition(before)).map(([p, l]) => [p, l.length]));
      const meta = await withProducer(k2, {}, (p) => p.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: 'later' })) }));
      for (const m of meta) assert.equal(Number(m.baseOffset), ends[m.partition] ?? 0, `partition ${m.partition} base offset after restart`);
    }, () => own, () => k)();
  } finally {
    await own.stop();
  }
});
