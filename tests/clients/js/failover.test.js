// kafkajs keeps producing through a stop of the partition leader (a crash, through the lab API of
// `streamlab serve`), the same scenario as tests/clients/test_failover.py: RF 3,
// min.insync.replicas=2, one partition, an idempotent acks=all producer sending numbered records
// one after another; every acknowledged record is read back, in order, once; the lab API and
// kafkajs's own Metadata show a new leader with a higher leader epoch and the stopped broker
// offline; started again, the broker rejoins the ISR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, startServer } from './broker.js';
import { makeKafka, readTopic, topicName } from './kafka.js';

const TIMEOUT_MS = 60_000;
const ACKED = 30;

let server;
let kafka;

before(async () => {
  // Fence a stopped broker after 2 s without a heartbeat (Kafka's default is 9 s).
  server = await startServer({ extraArgs: ['--broker-session-timeout-ms', '2000'] });
  kafka = makeKafka(server.bootstrap);
});

after(async () => {
  await server?.stop();
});

/** Poll `predicate` until it returns something truthy (returned); throws after `timeoutMs`. */
async function waitFor(predicate, what, timeoutMs = TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await predicate();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

const seqValue = (i) => `seq-${String(i).padStart(6, '0')}`;

test('kafkajs keeps producing with acks=all through a stop of the partition leader', { timeout: 150_000 }, async () => {
  const topic = topicName('failover');
  try {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: [{
          topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        }],
        waitForLeaders: true,
      });
      assert.ok(created, `createTopics(${topic}) returned false`);
    } finally {
      await admin.disconnect();
    }
    const before = await waitFor(async () => {
      const p = await server.partition(topic);
      return p?.isr.length === 3 && p;
    }, `${topic}[0] with three in-sync replicas`);

    // Retries outlast the election (about 2-3 s here), so a send waits for the new leader.
    const producer = kafka.producer({
      idempotent: true, maxInFlightRequests: 1, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    await producer.connect();
    const produced = [];
    const acked = [];
    const errors = [];
    let firstAfter = null;
    let producing = true;
    const loop = (async () => {
      while (producing) {
        const value = seqValue(produced.length);
        produced.push(value);
        try {
          await producer.send({ topic, acks: -1, messages: [{ value, partition: 0 }] });
          acked.push(value);
        } catch (err) {
          errors.push(`${value}: ${err.message}`);
        }
        await sleep(5);
      }
    })();
    const ackedAfter = () => acked.filter((v) => firstAfter !== null && Number(v.slice(4)) >= firstAfter).length;
    try {
      await waitFor(() => acked.length >= ACKED, `${ACKED} acks`);
      await server.stopBroker(before.leader);
      firstAfter = produced.length;
      await waitFor(() => ackedAfter() >= ACKED, `${ACKED} acks of records produced after stopping broker ${before.leader}`);
    } finally {
      producing = false;
      await loop;
      await producer.disconnect();
    }
    assert.deepEqual(errors, []);
    assert.equal(acked.length, produced.length);

    const stopped = before.leader;
    const afterStop = await waitFor(async () => {
      const p = await server.partition(topic);
      const failedOver = p && p.leader >= 0 && p.leader !== stopped;
      return failedOver && p.offline_replicas.includes(stopped) && !p.isr.includes(stopped) && p;
    }, `a new leader of ${topic}[0] with broker ${stopped} offline`);
    assert.ok(afterStop.leader_epoch > before.leader_epoch, JSON.stringify({ before, afterStop }));
    assert.ok(before.isr.includes(afterStop.leader), JSON.stringify({ before, afterStop }));

    const metaAdmin = kafka.admin();
    await metaAdmin.connect();
    try {
      await waitFor(async () => {
        const { topics } = await metaAdmin.fetchTopicMetadata({ topics: [topic] });
        const [p] = topics[0].partitions;
        return p.leader === afterStop.leader && p.offlineReplicas.includes(stopped);
      }, `kafkajs's Metadata: leader ${afterStop.leader}, broker ${stopped} offline`);
    } finally {
      await metaAdmin.disconnect();
    }

    const log = await readTopic(kafka, topic);
    const values = log.map((r) => r.value.toString());
    assert.deepEqual(log.map((r) => r.offset), log.map((_, i) => i), 'offsets 0.. with no gap');
    const missing = acked.filter((v) => !values.includes(v));
    assert.deepEqual(missing, [], 'acknowledged records missing from the log');
    assert.equal(new Set(values).size, values.length, 'a record written twice');
    assert.deepEqual(values, [...values].sort(), 'records out of produce order');

    await server.startBroker(stopped);
    await waitFor(async () => {
      const p = await server.partition(topic);
      return p?.isr.includes(stopped) && p.offline_replicas.length === 0;
    }, `broker ${stopped} back in the ISR`);
  } catch (err) {
    err.message += `\n--- kafkajs warnings ---\n${kafka.logs.slice(-30).join('\n')}\n`
      + `--- server log ---\n${server.log().slice(-6000)}`;
    throw err;
  }
});
