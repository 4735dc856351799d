// kafkajs idempotent producer (InitProducerId + sequence numbers) against the streamlab broker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker } from './broker.js';
import { CODECS, Partitioners, createTopic, makeKafka, readTopic, storedBatches, topicName } from './kafka.js';

let broker;
let kafka;

before(async () => {
  broker = await startBroker();
  kafka = makeKafka(broker.bootstrap);
});

after(async () => {
  await broker?.stop();
});

test('idempotent producer: producer id on every batch, consecutive sequences, no duplicates', { timeout: 60_000 }, async () => {
  const topic = topicName('idempotent');
  try {
    await createTopic(kafka, topic, 2);
    const producer = kafka.producer({
      idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      for (let round = 0; round < 5; round++) {
        const messages = Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 4}`, value: `r${round}-${i}` }));
        await producer.send({ topic, acks: -1, compression: round % 2 ? CODECS.gzip : undefined, messages });
      }
    } finally {
      await producer.disconnect();
    }
    const pids = new Set();
    let total = 0;
    for (const p of [0, 1]) {
      let seq = 0;
      for (const b of await storedBatches(broker.bootstrap, topic, p)) {
        assert.ok(b.crcOk);
        assert.ok(b.producerId >= 0 && b.producerEpoch >= 0, `partition ${p}: non-idempotent batch ${JSON.stringify(b)}`);
        assert.equal(b.baseSequence, seq, `partition ${p}: ${JSON.stringify(b)}`);
        seq += b.recordCount;
        pids.add(`${b.producerId}/${b.producerEpoch}`);
      }
      total += seq;
    }
    assert.equal(total, 100);
    assert.equal(pids.size, 1, `producer ids/epochs: ${[...pids]}`);
    const values = (await readTopic(kafka, topic)).map((r) => r.value.toString()).sort();
    const want = [];
    for (let round = 0; round < 5; round++) for (let i = 0; i < 20; i++) want.push(`r${round}-${i}`);
    assert.deepEqual(values, want.sort());
  } catch (err) {
    err.message += `\n--- kafkajs warnings ---\n${kafka.logs.slice(-30).join('\n')}\n--- broker log ---\n${broker.log().slice(-6000)}`;
    throw err;
  }
});
