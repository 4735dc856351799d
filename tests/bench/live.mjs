#!/usr/bin/env node
// Live-view benchmark: N open lesson pages (SSE connections to GET /api/live) on one
// `streamlab serve`, while a record is produced every second through the console. Prints how
// long each page waits to see a produced record's log end offset, and streamlab's CPU and memory
// with 1 and with N pages open. Prints figures; never passes or fails on them (it exits non-zero
// only when it cannot run). Plain Node 20, no npm dependencies.
//
//   node tests/bench/live.mjs                       # 200 pages, 20 s, target/release/streamlab
//   STREAMLAB_BIN=target/debug/streamlab node tests/bench/live.mjs --pages 500 --seconds 30
//   node tests/bench/live.mjs --kcat               # produce with kcat instead of the console
//
// How it measures. It starts its own server (free ports, temporary data directory), creates the
// topic `bench`, opens one connection and measures for S seconds, then opens the other N-1 and
// measures again. Each second it POSTs one record with /api/console and notes when the answer
// came; a page's latency for that record is from then to the arrival of the first snapshot whose
// `bench` log end offset includes it (0 when it came first). A console command nudges the shared
// poller, so its change is seen at once; a learner's own client (`--kcat`: one `kcat -P` a second,
// timed from its exit) is seen at the next poll, once a second, so between 0 and about 1 s. CPU is streamlab's
// utime + stime from /proc over the window (100% = one core); RSS is VmRSS at the window's end.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const PAGES = option('pages', Number(process.env.BENCH_PAGES || 200));
const SECONDS = option('seconds', Number(process.env.BENCH_SECONDS || 20));
const KCAT = args.includes('--kcat');
const BIN = path.resolve(ROOT, process.env.STREAMLAB_BIN || 'target/release/streamlab');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// /proc's CPU times count USER_HZ ticks, 100 a second on Linux.
const TICKS = 100;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** streamlab's CPU seconds so far and its resident memory in MiB. */
function usage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS;
  const rss = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return { cpuSeconds, rssMiB: rss ? Number(rss[1]) / 1024 : NaN };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function main() {
  const port = await freePort();
  const kafkaPort = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-bench-live-'));
  const server = spawn(
    BIN,
    ['serve', '--http', `127.0.0.1:${port}`, '--kafka', `127.0.0.1:${kafkaPort}`, '--data-dir', dataDir],
    { stdio: 'ignore', env: { ...process.env, RUST_LOG: 'warn' } },
  );
  const base = `http://127.0.0.1:${port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const pages = [];
  try {
    for (let i = 0; ; i += 1) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) break;
      } catch {
        // not up yet
      }
      if (i > 200) throw new Error(`${BIN} did not start`);
      await sleep(100);
    }
    const consoleRun = async (script) => {
      const response = await fetch(`${base}/api/console`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ script }),
      });
      return response.json();
    };
    await consoleRun('kafka-topics.sh --bootstrap-server x:9092 --create --topic bench --partitions 1');

    // A page: an SSE connection that remembers when it first saw each log end offset of `bench`.
    const open = () =>
      new Promise((resolve, reject) => {
        const page = { seen: new Map(), events: 0, bytes: 0, request: null };
        page.request = http.get(`${base}/api/live`, { agent, headers: { Accept: 'text/event-stream' } }, (response) => {
          if (response.statusCode !== 200) reject(new Error(`GET /api/live answered ${response.statusCode}`));
          let buffer = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => {
            buffer += chunk;
            page.bytes += Buffer.byteLength(chunk);
            for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = block.split('\n').find((line) => line.startsWith('data:'));
              if (!data) continue;
              page.events += 1;
              const snapshot = JSON.parse(data.slice(5));
              const bench = snapshot.topics.find((t) => t.name === 'bench');
              const logEnd = bench?.partitions[0]?.log_end_offset ?? 0;
              const now = performance.now();
              for (let offset = 1; offset <= logEnd; offset += 1) {
                if (!page.seen.has(offset)) page.seen.set(offset, now);
              }
              resolve(page);
            }
          });
        });
        page.request.on('error', reject);
      });

    const measure = async (label) => {
      const produced = [];
      const before = usage(server.pid);
      const started = performance.now();
      for (let second = 0; second < SECONDS; second += 1) {
        if (KCAT) {
          execFileSync('kcat', ['-b', `127.0.0.1:${kafkaPort}`, '-P', '-t', 'bench', '-p', '0'], { input: 'record\n' });
        } else {
          const answer = await consoleRun('kafka-console-producer.sh --bootstrap-server x:9092 --topic bench\nrecord');
          if (!answer.ok) throw new Error(`produce failed: ${answer.output}`);
        }
        produced.push(performance.now());
        await sleep(Math.max(0, started + (second + 1) * 1000 - performance.now()));
      }
      await sleep(1500); // the last record's snapshot
      const after = usage(server.pid);
      const wall = (performance.now() - started) / 1000;
      const firstOffset = pages[0].seen.size - produced.length + 1;
      const latencies = [];
      let missing = 0;
      for (const page of pages) {
        produced.forEach((at, i) => {
          const seen = page.seen.get(firstOffset + i);
          if (seen === undefined) missing += 1;
          else latencies.push(Math.max(0, seen - at));
        });
      }
      latencies.sort((a, b) => a - b);
      const ms = (v) => `${Math.round(v)} ms`;
      console.log(
        `${label.padEnd(10)} pages ${String(pages.length).padStart(4)}  ` +
          `update latency p50 ${ms(percentile(latencies, 50))} p90 ${ms(percentile(latencies, 90))} ` +
          `p99 ${ms(percentile(latencies, 99))} max ${ms(latencies[latencies.length - 1])}` +
          `${missing ? ` (${missing} never seen)` : ''}  ` +
          `streamlab CPU ${((100 * (after.cpuSeconds - before.cpuSeconds)) / wall).toFixed(1)}% of a core, ` +
          `RSS ${after.rssMiB.toFixed(1)} MiB`,
      );
    };

    const idle = usage(server.pid);
    console.log(`streamlab ${BIN}: RSS ${idle.rssMiB.toFixed(1)} MiB before any page; ${SECONDS} s per window, one record a second with ${KCAT ? 'kcat' : 'the console'}`);
    pages.push(await open());
    await sleep(2000);
    await measure('1 page');
    const more = [];
    for (let i = 1; i < PAGES; i += 1) more.push(open());
    pages.push(...(await Promise.all(more)));
    await sleep(2000);
    await measure(`${PAGES} pages`);
    const bytes = pages.reduce((sum, p) => sum + p.bytes, 0);
    const events = pages.reduce((sum, p) => sum + p.events, 0);
    console.log(`sent ${events} snapshot events, ${(bytes / 1024 / 1024).toFixed(1)} MiB in all (${Math.round(bytes / events)} bytes per event)`);
  } finally {
    for (const page of pages) page.request.destroy();
    agent.destroy();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
