// kafkajs helpers for the tests: a client with every codec registered, a partition reader that
// fetches through kafkajs's own cluster/broker/Batch code (kafkajs has no assign(): its only
// consumer is the group consumer), and a raw Fetch v4 for looking at stored batch headers.
import { createRequire } from 'node:module';
import net from 'node:net';
import kafkajs from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';
import LZ4Codec from '@2l/kafkajs-lz4';

const require = createRequire(import.meta.url);
const Batch = require('kafkajs/src/consumer/batch');

export const { Kafka, CompressionTypes, CompressionCodecs, logLevel, Partitioners } = kafkajs;

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec;

// The zstd codec registers CompressionCodecs[ZSTD] on import. It is an optional dependency (its
// native zstd-napi is built from source by node-gyp): without it the zstd tests are skipped.
export let ZSTD_MISSING = null;
try {
  await import('@sensejs/kafkajs-zstd-support');
} catch (err) {
  ZSTD_MISSING = `zstd codec not installed (@sensejs/kafkajs-zstd-support / zstd-napi): ${err.message.split('\n')[0]}`;
}

export const CODECS = {
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** kafkajs log lines at WARN and above, kept for failure messages (not printed). `bootstrap`: one
 * HOST:PORT or a comma-separated list. */
export function makeKafka(bootstrap, { clientId = 'streamlab-tests', logs = [] } = {}) {
  const kafka = new Kafka({
    clientId,
    brokers: bootstrap.split(','),
    connectionTimeout: 3000,
    requestTimeout: 15000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log }) => {
      logs.push(`${logLevel[level] ?? level} [${namespace}] ${log.message} ${JSON.stringify({ ...log, message: undefined, timestamp: undefined, logger: undefined })}`);
    },
  });
  kafka.logs = logs;
  return kafka;
}

/** The cluster kafkajs itself would build for a consumer (private factory of the Kafka client). */
function createCluster(kafka, options = {}) {
  const sym = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!sym) throw new Error('kafkajs internals changed: no private createCluster');
  return kafka[sym]({ allowAutoTopicCreation: false, ...options });
}

/**
 * Read partitions of `topic` from `start` ({ partition: offset }) until each reaches `until`
 * ({ partition: offset }), with kafkajs's Fetch (read_committed, as its consumer) and Batch.
 * Returns [{ partition, offset, key, value, headers, timestamp }] with Buffers, in fetch order.
 */
export async function readPartitions(kafka, topic, start, until, { timeoutMs = 15000 } = {}) {
  const cluster = createCluster(kafka);
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    await cluster.refreshMetadata();
    const next = Object.fromEntries(Object.entries(start).map(([p, o]) => [Number(p), BigInt(o)]));
    const out = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pending = Object.keys(next).map(Number).filter((p) => next[p] < BigInt(until[p]));
      if (!pending.length) return out;
      if (Date.now() > deadline) {
        throw new Error(`readPartitions(${topic}): positions ${JSON.stringify(Object.fromEntries(
          Object.entries(next).map(([p, o]) => [p, o.toString()])))} short of ${JSON.stringify(until)} after ${timeoutMs} ms`);
      }
      const byLeader = cluster.findLeaderForPartitions(topic, pending);
      for (const [nodeId, partitions] of Object.entries(byLeader)) {
        const broker = await cluster.findBroker({ nodeId });
        const { responses } = await broker.fetch({
          maxWaitTime: 200,
          minBytes: 1,
          maxBytes: 10 << 20,
          isolationLevel: 1,
          topics: [{
            topic,
            partitions: partitions.map((partition) => ({
              partition, fetchOffset: next[partition].toString(), maxBytes: 4 << 20,
            })),
          }],
        });
        for (const { topicName, partitions: datas } of responses) {
          for (const data of datas) {
            if (data.errorCode) throw new Error(`fetch ${topicName}[${data.partition}]: error ${data.errorCode}`);
            const batch = new Batch(topicName, next[data.partition].toString(), data);
            for (const m of batch.messages) {
              out.push({
                partition: data.partition,
                offset: Number(m.offset),
                key: m.key,
                value: m.value,
                headers: m.headers,
                timestamp: Number(m.timestamp),
              });
            }
            if (!batch.isEmptyIncludingFiltered()) {
              next[data.partition] = BigInt(batch.lastOffset()) + 1n;
            }
          }
        }
      }
    }
  } finally {
    await cluster.disconnect();
  }
}

/** { partition: { low, high } } through the public admin API (ListOffsets). */
export async function watermarks(admin, topic) {
  const offsets = await admin.fetchTopicOffsets(topic);
  return Object.fromEntries(offsets.map(({ partition, low, high }) => [partition, { low: Number(low), high: Number(high) }]));
}

/** Every record of a topic, from the beginning to the current high watermarks. */
export async function readTopic(kafka, topic) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const marks = await watermarks(admin, topic);
    const start = Object.fromEntries(Object.entries(marks).map(([p, { low }]) => [p, low]));
    const until = Object.fromEntries(Object.entries(marks).map(([p, { high }]) => [p, high]));
    return await readPartitions(kafka, topic, start, until);
  } finally {
    await admin.disconnect();
  }
}

export async function createTopic(kafka, topic, numPartitions) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }], waitForLeaders: true });
    if (!created) throw new Error(`createTopics(${topic}) returned false (already exists?)`);
  } finally {
    await admin.disconnect();
  }
}

let topicCounter = 0;
export function topicName(tag) {
  topicCounter += 1;
  return `js-${tag}-${topicCounter}-${Math.random().toString(16).slice(2, 8)}`;
}

// --- raw Fetch v4: stored batch headers -----------------------------------------------------------

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

function crc32c(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC32C_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
let correlation = 1;

function rawRequest(bootstrap, apiKey, version, body) {
  const [host, port] = bootstrap.split(':');
  const corr = correlation++;
  const clientId = Buffer.from('streamlab-raw');
  const header = Buffer.alloc(10);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(corr, 4);
  header.writeInt16BE(clientId.length, 8);
  const frame = Buffer.concat([header, clientId, body]);
  const len = Buffer.alloc(4);
  len.writeInt32BE(frame.length);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port: Number(port) });
    let data = Buffer.alloc(0);
    sock.setTimeout(10_000, () => {
      sock.destroy();
      reject(new Error('raw request timed out'));
    });
    sock.on('error', reject);
    sock.on('connect', () => sock.write(Buffer.concat([len, frame])));
    sock.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 4 && data.length >= 4 + data.readInt32BE(0)) {
        sock.end();
        const resp = data.subarray(4, 4 + data.readInt32BE(0));
        if (resp.readInt32BE(0) !== corr) reject(new Error('correlation id mismatch'));
        else resolve(resp.subarray(4));
      }
    });
    sock.on('close', () => reject(new Error('connection closed before a full response')));
  });
}

function parseBatches(records) {
  const out = [];
  let pos = 0;
  while (pos + 61 <= records.length) {
    const batchLength = records.readInt32BE(pos + 8);
    const end = pos + 12 + batchLength;
    if (end > records.length) break;
    const attributes = records.readInt16BE(pos + 21);
    out.push({
      baseOffset: Number(records.readBigInt64BE(pos)),
      lastOffsetDelta: records.readInt32BE(pos + 23),
      magic: records.readInt8(pos + 16),
      crcOk: records.readUInt32BE(pos + 17) === crc32c(records.subarray(pos + 21, end)),
      codec: CODEC_NAMES[attributes & 7] ?? `unknown(${attributes & 7})`,
      producerId: Number(records.readBigInt64BE(pos + 43)),
      producerEpoch: records.readInt16BE(pos + 51),
      baseSequence: records.readInt32BE(pos + 53),
      recordCount: records.readInt32BE(pos + 57),
    });
    pos = end;
  }
  return out;
}

/** `host:port` of a partition's leader, from Metadata v1: the cluster has several brokers, and
 * only the leader serves a partition's fetches. */
async function rawLeader(bootstrap, topic, partition) {
  const t = Buffer.from(topic);
  const body = Buffer.alloc(4 + 2 + t.length);
  let o = body.writeInt32BE(1, 0);
  o = body.writeInt16BE(t.length, o);
  t.copy(body, o);
  const r = await rawRequest(bootstrap, 3, 1, body);
  let p = 0;
  const str = () => {
    const len = r.readInt16BE(p);
    p += 2;
    if (len < 0) return null;
    const s = r.subarray(p, p + len).toString();
    p += len;
    return s;
  };
  const brokers = new Map();
  const nBrokers = r.readInt32BE(p);
  p += 4;
  for (let i = 0; i < nBrokers; i++) {
    const id = r.readInt32BE(p);
    p += 4;
    const host = str();
    const port = r.readInt32BE(p);
    p += 4;
    str(); // rack
    brokers.set(id, `${host}:${port}`);
  }
  p += 4; // controller id
  const nTopics = r.readInt32BE(p);
  p += 4;
  for (let i = 0; i < nTopics; i++) {
    p += 2; // error code
    const name = str();
    p += 1; // is internal
    const nParts = r.readInt32BE(p);
    p += 4;
    for (let j = 0; j < nParts; j++) {
      p += 2; // error code
      const index = r.readInt32BE(p);
      const leader = r.readInt32BE(p + 4);
      p += 8;
      for (let k = 0; k < 2; k++) p += 4 + 4 * r.readInt32BE(p); // replicas, isr
      if (name === topic && index === partition && brokers.has(leader)) return brokers.get(leader);
    }
  }
  throw new Error(`no leader for ${topic}[${partition}] in the Metadata response`);
}

async function rawFetch(bootstrap, topic, partition, offset) {
  const t = Buffer.from(topic);
  const body = Buffer.alloc(17 + 4 + 2 + t.length + 4 + 16);
  let o = 0;
  o = body.writeInt32BE(-1, o); // replica id
  o = body.writeInt32BE(0, o); // max wait
  o = body.writeInt32BE(0, o); // min bytes
  o = body.writeInt32BE(8 << 20, o); // max bytes
  o = body.writeInt8(0, o); // read_uncommitted
  o = body.writeInt32BE(1, o);
  o = body.writeInt16BE(t.length, o);
  o += t.copy(body, o);
  o = body.writeInt32BE(1, o);
  o = body.writeInt32BE(partition, o);
  o = body.writeBigInt64BE(BigInt(offset), o);
  body.writeInt32BE(8 << 20, o);
  const r = await rawRequest(await rawLeader(bootstrap, topic, partition), 1, 4, body);
  let p = 4; // throttle
  const nTopics = r.readInt32BE(p); p += 4;
  for (let i = 0; i < nTopics; i++) {
    const nameLen = r.readInt16BE(p); p += 2;
    const name = r.subarray(p, p + nameLen).toString(); p += nameLen;
    const nParts = r.readInt32BE(p); p += 4;
    for (let j = 0; j < nParts; j++) {
      const index = r.readInt32BE(p); p += 4;
      const errorCode = r.readInt16BE(p); p += 2;
      const highWatermark = Number(r.readBigInt64BE(p)); p += 16; // + last stable offset
      const nAborted = r.readInt32BE(p); p += 4;
      if (nAborted > 0) p += 16 * nAborted;
      const recLen = r.readInt32BE(p); p += 4;
      const records = recLen > 0 ? r.subarray(p, p + recLen) : Buffer.alloc(0);
      p += Math.max(recLen, 0);
      if (name === topic && index === partition) return { errorCode, highWatermark, records };
    }
  }
  throw new Error(`no ${topic}[${partition}] in the Fetch response`);
}

/** Headers of every batch stored in a partition (as the broker serves them). */
export async function storedBatches(bootstrap, topic, partition) {
  const batches = [];
  let offset = 0;
  for (let i = 0; i < 10_000; i++) {
    const { errorCode, highWatermark, records } = await rawFetch(bootstrap, topic, partition, offset);
    if (errorCode) throw new Error(`raw fetch ${topic}[${partition}]@${offset}: error ${errorCode}`);
    const got = parseBatches(records);
    if (!got.length) {
      if (offset < highWatermark) throw new Error(`no whole batch at ${offset} below HW ${highWatermark}`);
      return batches;
    }
    batches.push(...got);
    const last = got[got.length - 1];
    offset = last.baseOffset + last.lastOffsetDelta + 1;
    if (offset >= highWatermark) return batches;
  }
  throw new Error('too many fetches');
}
