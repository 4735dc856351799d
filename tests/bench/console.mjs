#!/usr/bin/env node
// Console benchmark (issue 5): N simulated learners against one running `streamlab serve`, each
// running one console command and then one exercise check every second; a low-rate probe of a
// lesson page, measured the same way in the same run. Prints figures; never passes or fails on
// them (it exits non-zero only when it cannot run). Plain Node 20, no npm dependencies.
//
// Driven by tests/bench/console.sh (which builds and starts the server); alone, against a server
// you started yourself (on a fresh data directory: it creates the topic `orders`):
//   node tests/bench/console.mjs --base http://127.0.0.1:8080 --learners 50 --seconds 10
//
// Options (each defaults to its environment variable, then to the value shown):
//   --base URL            the server (required)
//   --learners N          BENCH_LEARNERS, 200
//   --seconds S           BENCH_SECONDS, 60: how long the learners run
//   --probe-rate R        BENCH_PROBE_RATE, 5: lesson-page requests per second (0: none)
//   --timeout-ms T        BENCH_TIMEOUT_MS, 10000: a request slower than this is an error
//   --exercise ID         BENCH_EXERCISE, keyed-orders: the exercise each learner checks
//   --lesson PATH         BENCH_LESSON, /lessons/topics-and-partitions: the probed page
//   --server-pid PID      read the server's CPU time from /proc during the load (optional)
//   --started-file PATH   written when the load starts, so the caller can take snapshots (optional)
//   --summary-file PATH   the main figures as JSON, for the caller's median over runs (optional)
//
// How it measures. Every learner first gets its own `streamlab_learner` cookie from GET / and
// sends it back on each request. Learner n starts at a random offset within the first second and
// then, at that offset + k seconds (k = 0 .. S-1), POSTs one console command (rotating through the
// four in COMMANDS, learners out of phase so that each second carries a mix) and, when it has
// answered, POSTs the check of the exercise: a closed loop per learner, open across learners. If
// a learner's previous round is still running when its next second comes, the round starts late;
// a round a whole second late is skipped and counted as missed (a learner does not queue clicks).
// The lesson probe is open-loop: one GET every 1/R s, whatever the earlier ones are doing, with a
// returning learner's cookie. A latency is performance.now() from just before fetch() to the whole
// body read (and, for JSON, parsed), so it includes the client's own queueing, which the
// event-loop delay printed below bounds. Percentiles are nearest-rank over the successful requests;
// errors (transport failures, timeouts, non-2xx, unparseable JSON) are counted apart. A console
// answer with "ok": false, or a check with "passed": false, is a successful request (counted in
// the notes under the table).
//
// Connections: Node 20's fetch() goes through its bundled undici's global Agent: keep-alive, and
// per origin a Pool with no connection limit (undici's `connections: null`): a request that finds
// every open connection busy opens another, so no request waits in the client for a connection,
// and idle ones are reused (200 learners spread over each second keep 10 to 20 open; console.sh
// prints the count). `undici` itself is not importable without installing it from npm, so the pool
// cannot be configured here; it does not need to be.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { PerformanceObserver, constants as perfConstants, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const COOKIE = 'streamlab_learner';
const BOOTSTRAP = '--bootstrap-server localhost:9092';
const TOPIC = 'orders';
const SLICE_S = 10;

// The console commands a learner rotates through: [label, script for learner n in round k].
const COMMANDS = [
  ['kafka-topics --list', () => `kafka-topics.sh ${BOOTSTRAP} --list`],
  ['kafka-topics --describe', () => `kafka-topics.sh ${BOOTSTRAP} --describe --topic ${TOPIC}`],
  [
    'kafka-console-producer, 1 record',
    (n, k) =>
      `kafka-console-producer.sh ${BOOTSTRAP} --topic ${TOPIC} --property parse.key=true --property key.separator=:\n` +
      `user-${n}:order-${k}`,
  ],
  ['kafka-get-offsets', () => `kafka-get-offsets.sh ${BOOTSTRAP} --topic ${TOPIC}`],
];

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        base: { type: 'string' },
        learners: { type: 'string', default: process.env.BENCH_LEARNERS || '200' },
        seconds: { type: 'string', default: process.env.BENCH_SECONDS || '60' },
        'probe-rate': { type: 'string', default: process.env.BENCH_PROBE_RATE || '5' },
        'timeout-ms': { type: 'string', default: process.env.BENCH_TIMEOUT_MS || '10000' },
        exercise: { type: 'string', default: process.env.BENCH_EXERCISE || 'keyed-orders' },
        lesson: { type: 'string', default: process.env.BENCH_LESSON || '/lessons/topics-and-partitions' },
        'server-pid': { type: 'string' },
        'started-file': { type: 'string' },
        'summary-file': { type: 'string' },
      },
    }));
  } catch (error) {
    fail(error.message);
  }
  if (!values.base) fail('--base URL is required (e.g. --base http://127.0.0.1:8080)');
  const integer = (name, min) => {
    const v = Number(values[name]);
    if (!Number.isInteger(v) || v < min) fail(`--${name} must be an integer ≥ ${min}, not ${values[name]}`);
    return v;
  };
  return {
    base: values.base.replace(/\/+$/, ''),
    learners: integer('learners', 1),
    seconds: integer('seconds', 1),
    probeRate: integer('probe-rate', 0),
    timeoutMs: integer('timeout-ms', 1),
    exercise: values.exercise,
    lesson: values.lesson,
    serverPid: values['server-pid'] ? integer('server-pid', 1) : null,
    startedFile: values['started-file'] ?? null,
    summaryFile: values['summary-file'] ?? null,
  };
}

const opt = options();
const CHECK = `check ${opt.exercise}`;
const CONSOLE = 'console, all commands';
const LESSON = `lesson GET ${opt.lesson}`;

// ---- measurement ----

class Series {
  constructor(label) {
    this.label = label;
    this.ok = []; // latencies (ms) of the successful requests
    this.errors = 0;
    this.notes = new Map(); // e.g. '"ok": false' → count
  }
  note(what) {
    this.notes.set(what, (this.notes.get(what) ?? 0) + 1);
  }
  sorted() {
    return Float64Array.from(this.ok).sort();
  }
}

const series = new Map();
function seriesOf(label) {
  if (!series.has(label)) series.set(label, new Series(label));
  return series.get(label);
}
const failures = new Map(); // "kind: what went wrong" → count
let loadStart = 0; // performance.now() when the load starts
// Per SLICE_S seconds of the load (by when a request was sent; the last slice takes the rounds
// that started late): label → latencies of the successful requests, and the event-loop delay.
const slices = [];
const sliceCount = Math.ceil(opt.seconds / SLICE_S);
const sliceOf = (t) => Math.min(sliceCount - 1, Math.max(0, Math.floor((t - loadStart) / (SLICE_S * 1000))));

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// One timed request. Returns { result, ms, t0 }: result is the parsed JSON (json: true) or the
// text, null on error. The latency counts towards each of `labels`.
async function timed(labels, path, { method = 'GET', cookie, body, json = false } = {}) {
  const headers = {};
  if (cookie) headers.cookie = `${COOKIE}=${cookie}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const t0 = performance.now();
  let problem = null;
  let result = null;
  try {
    const res = await fetch(opt.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(opt.timeoutMs),
    });
    const text = await res.text();
    if (res.status < 200 || res.status > 299) {
      problem = `HTTP ${res.status}: ${text.slice(0, 160)}`;
    } else if (json) {
      try {
        result = JSON.parse(text);
      } catch {
        problem = `not JSON: ${text.slice(0, 160)}`;
      }
    } else {
      result = text;
    }
  } catch (error) {
    problem =
      error.name === 'TimeoutError'
        ? `no answer within ${opt.timeoutMs} ms`
        : `${error.name}: ${error.cause?.code ?? error.cause?.message ?? error.message}`;
  }
  const ms = performance.now() - t0;
  for (const label of labels) {
    const s = seriesOf(label);
    if (problem) s.errors++;
    else s.ok.push(ms);
  }
  if (!problem) {
    const slice = (slices[sliceOf(t0)] ??= { latencies: new Map(), loop: null });
    if (!slice.latencies.has(labels[0])) slice.latencies.set(labels[0], []);
    slice.latencies.get(labels[0]).push(ms);
  }
  if (problem) {
    const key = `${labels[labels.length - 1].trim()}: ${problem}`;
    failures.set(key, (failures.get(key) ?? 0) + 1);
  }
  return { result, ms, t0 };
}

// ---- setup (unmeasured) ----

// GET / as a new visitor; returns the learner id from the Set-Cookie header.
async function newLearner() {
  const res = await fetch(`${opt.base}/`, { signal: AbortSignal.timeout(opt.timeoutMs) });
  await res.arrayBuffer();
  if (res.status !== 200) fail(`GET / answered ${res.status}`);
  for (const cookie of res.headers.getSetCookie()) {
    const m = cookie.match(new RegExp(`^${COOKIE}=([^;]+)`));
    if (m) return m[1];
  }
  return fail(`GET / set no ${COOKIE} cookie`);
}

async function post(path, cookie, body) {
  const res = await fetch(opt.base + path, {
    method: 'POST',
    headers: { cookie: `${COOKIE}=${cookie}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(opt.timeoutMs),
  });
  const text = await res.text();
  if (res.status !== 200) fail(`POST ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

const learners = [];
for (let i = 0; i < opt.learners; i += 50) {
  const batch = Math.min(50, opt.learners - i);
  learners.push(...(await Promise.all(Array.from({ length: batch }, newLearner))));
}
if (new Set(learners).size !== learners.length) fail('two learners got the same cookie');
const probeCookie = await newLearner();

// The topic every learner works on, created once, as the exercise's first step says.
const created = await post('/api/console', learners[0], {
  script: `kafka-topics.sh ${BOOTSTRAP} --create --topic ${TOPIC} --partitions 3`,
});
if (!created.ok) fail(`creating topic ${TOPIC} through the console failed: ${created.output}`);
// Each request once: they must answer as the benchmark expects.
for (const [label, script] of COMMANDS) {
  const out = await post('/api/console', learners[0], { script: script(0, 0) });
  if (typeof out.output !== 'string' || out.ok !== true) fail(`console \`${label}\` answered ${JSON.stringify(out)}`);
}
const firstCheck = await post(`/api/exercises/${opt.exercise}/check`, learners[0]);
if (typeof firstCheck.passed !== 'boolean' || !Array.isArray(firstCheck.checks)) {
  fail(`the check of ${opt.exercise} answered ${JSON.stringify(firstCheck)}`);
}
{
  const res = await fetch(opt.base + opt.lesson, { headers: { cookie: `${COOKIE}=${probeCookie}` } });
  const page = await res.text();
  if (res.status !== 200) fail(`GET ${opt.lesson} answered ${res.status}`);
  console.log(
    `lesson page: GET ${opt.lesson}, ${page.length} characters once decompressed ` +
      `(content-encoding: ${res.headers.get('content-encoding') ?? 'none'})`,
  );
}
console.log(`learners: ${learners.length}, each with its own cookie from GET /; topic ${TOPIC} created with 3 partitions`);

// ---- CPU accounting (Linux /proc) ----

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep 100, Linux's usual USER_HZ
}
function serverCpuSeconds() {
  if (!opt.serverPid) return null;
  try {
    const stat = readFileSync(`/proc/${opt.serverPid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clkTck; // utime + stime
  } catch {
    return null;
  }
}
function machineCpu() {
  try {
    const lines = readFileSync('/proc/stat', 'utf8').split('\n');
    const v = lines[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const cores = lines.filter((l) => /^cpu\d/.test(l)).length || 1;
    return { busy: total - v[3] - v[4], total, cores }; // busy = all but idle and iowait
  } catch {
    return null;
  }
}

// ---- the load ----

// Garbage collections in the client during the load: a long one stalls every request in flight,
// so a latency tail that lines up with them is the client's, not the server's.
const gc = { count: 0, totalMs: 0, maxMs: 0, major: 0 };
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.startTime < loadStart) continue;
    gc.count++;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
    if (entry.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
    const slice = (slices[sliceOf(entry.startTime)] ??= { latencies: new Map(), loop: null });
    slice.gcMaxMs = Math.max(slice.gcMaxMs ?? 0, entry.duration);
  }
});

// Node 20's histogram records each whole timer interval, resolution included: subtracted below.
const LOOP_RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
const sliceLoopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
const loopMs = (ns) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
// Ends the current slice's event-loop histogram (a late timer or the end of the load may find
// the last slice already ended: the worse figures are kept).
function endLoopSlice() {
  if (sliceLoopDelay.count === 0) return;
  const i = Math.min(sliceCount - 1, Math.max(0, Math.round((performance.now() - loadStart) / (SLICE_S * 1000)) - 1));
  const slice = (slices[i] ??= { latencies: new Map(), loop: null });
  const p99 = loopMs(sliceLoopDelay.percentile(99));
  const max = loopMs(sliceLoopDelay.max);
  slice.loop = slice.loop ? { p99: Math.max(p99, slice.loop.p99), max: Math.max(max, slice.loop.max) } : { p99, max };
  sliceLoopDelay.reset();
}
const startLag = new Series('start lag');
let missedRounds = 0;
let rounds = 0;
let checksPassed = 0;

async function learner(n, cookie) {
  const offset = Math.random() * 1000;
  for (let k = 0; k < opt.seconds; k++) {
    const due = loadStart + offset + k * 1000;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const lag = Math.max(0, performance.now() - due); // timers may fire a fraction of a ms early
    if (lag >= 1000) {
      missedRounds++;
      continue;
    }
    startLag.ok.push(lag);
    rounds++;
    const [label, script] = COMMANDS[(n + k) % COMMANDS.length];
    const reply = await timed([CONSOLE, `  ${label}`], '/api/console', {
      method: 'POST',
      cookie,
      body: { script: script(n, k) },
      json: true,
    });
    if (reply.result && reply.result.ok !== true) seriesOf(`  ${label}`).note('"ok": false');
    const check = await timed([CHECK], `/api/exercises/${opt.exercise}/check`, { method: 'POST', cookie, json: true });
    if (check.result?.passed === true) checksPassed++;
  }
}

async function probe() {
  if (opt.probeRate === 0) return;
  const interval = 1000 / opt.probeRate;
  const inFlight = [];
  for (let j = 0; j < opt.seconds * opt.probeRate; j++) {
    const wait = loadStart + j * interval - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(timed([LESSON], opt.lesson, { cookie: probeCookie }));
  }
  await Promise.all(inFlight);
}

console.log(
  `running: ${opt.learners} learners × (1 console command, then 1 check of ${opt.exercise}) per second for ${opt.seconds} s, ` +
    `and ${opt.probeRate} lesson page/s; request timeout ${opt.timeoutMs} ms`,
);
const cpuBefore = { node: process.cpuUsage(), server: serverCpuSeconds(), machine: machineCpu() };
loadStart = performance.now() + 50;
if (opt.startedFile) writeFileSync(opt.startedFile, `${new Date().toISOString()}\n`);
gcObserver.observe({ entryTypes: ['gc'] });
loopDelay.enable();
sliceLoopDelay.enable();
const sliceTimer = setInterval(endLoopSlice, SLICE_S * 1000);
await Promise.all([...learners.map((cookie, n) => learner(n, cookie)), probe()]);
clearInterval(sliceTimer);
endLoopSlice();
loopDelay.disable();
sliceLoopDelay.disable();
await sleep(0); // let the observer see the last collections
gcObserver.disconnect();
const elapsed = (performance.now() - loadStart) / 1000;
const cpuAfter = { node: process.cpuUsage(cpuBefore.node), server: serverCpuSeconds(), machine: machineCpu() };

// ---- report ----

const f = (v) => (Number.isNaN(v) || v === undefined ? 'n/a' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
const pad = (s, w) => String(s).padStart(w);

const labels = [CHECK, CONSOLE, ...COMMANDS.map(([label]) => `  ${label}`), LESSON].filter((l) => series.has(l));
const width = Math.max(...labels.map((l) => l.length)) + 2;
console.log(`\n==== results: ${opt.learners} learners for ${opt.seconds} s (the load ran ${elapsed.toFixed(1)} s) ====`);
console.log(
  'request'.padEnd(width) +
    ['count', 'errors'].map((h) => pad(h, 7)).join('') +
    ['p50', 'p90', 'p99', 'max', 'req/s'].map((h) => pad(h, 8)).join(''),
);
for (const label of labels) {
  const s = series.get(label);
  const sorted = s.sorted();
  const count = s.ok.length + s.errors;
  console.log(
    `${label.padEnd(width)}${pad(count, 7)}${pad(s.errors, 7)}` +
      `${pad(f(percentile(sorted, 50)), 8)}${pad(f(percentile(sorted, 90)), 8)}${pad(f(percentile(sorted, 99)), 8)}` +
      `${pad(f(sorted[sorted.length - 1]), 8)}${pad((count / elapsed).toFixed(1), 8)}`,
  );
}
console.log('latencies in ms, of the successful requests; req/s = count / duration of the load');

const wanted = opt.learners * opt.seconds;
console.log(
  `\nlearner rounds (console + check): ${rounds} of ${wanted} started (${((100 * rounds) / wanted).toFixed(1)}%), ` +
    `${missedRounds} skipped for being ≥ 1 s late; ${(rounds / elapsed).toFixed(1)} rounds/s of ${opt.learners} wanted; ` +
    `lesson probe ${(seriesOf(LESSON).ok.length / elapsed).toFixed(1)} answered/s of ${opt.probeRate} wanted`,
);
{
  const sorted = startLag.sorted();
  console.log(
    `round start behind schedule (ms): p50 ${f(percentile(sorted, 50))}, p99 ${f(percentile(sorted, 99))}, ` +
      `max ${f(sorted[sorted.length - 1])} (a round starts when the learner's previous round has answered)`,
  );
}
{
  const delay = (ns) => f(loopMs(ns));
  console.log(
    `node event-loop delay (ms): p50 ${delay(loopDelay.percentile(50))}, p99 ${delay(loopDelay.percentile(99))}, ` +
      `max ${delay(loopDelay.max)} (how long a ready answer can wait for the client; part of every latency above)`,
  );
}
console.log(
  `node garbage collections: ${gc.count} (${gc.major} major), ${f(gc.totalMs)} ms in all, the longest ${f(gc.maxMs)} ms`,
);
console.log(
  `check ${opt.exercise}: "passed": true in ${checksPassed} of ${seriesOf(CHECK).ok.length} answers ` +
    '(learners share the topic; it passes once learner 42 has produced 3 records with key user-42)',
);
for (const s of series.values()) {
  for (const [what, n] of s.notes) console.log(`console ${s.label.trim()}: ${n} answered ${what}`);
}

// Over time: records pile up in the topic that every check reads; the client's event loop shows
// whether a bad slice was the client's doing.
console.log(`\nper ${SLICE_S} s of the load (ms):`);
console.log(
  `${'seconds'.padEnd(9)}${pad('check p50', 11)}${pad('check p99', 11)}${pad('console p99', 13)}${pad('lesson p99', 12)}` +
    `${pad('node loop p99', 15)}${pad('loop max', 10)}${pad('longest GC', 12)}`,
);
for (let i = 0; i < sliceCount; i++) {
  const slice = slices[i] ?? { latencies: new Map(), loop: null };
  const p = (label, q) => f(percentile(Float64Array.from(slice.latencies.get(label) ?? []).sort(), q));
  const range = `${i * SLICE_S}-${i === sliceCount - 1 ? opt.seconds + 1 : (i + 1) * SLICE_S}`;
  console.log(
    `${range.padEnd(9)}${pad(p(CHECK, 50), 11)}${pad(p(CHECK, 99), 11)}${pad(p(CONSOLE, 99), 13)}${pad(p(LESSON, 99), 12)}` +
      `${pad(f(slice.loop?.p99 ?? NaN), 15)}${pad(f(slice.loop?.max ?? NaN), 10)}${pad(f(slice.gcMaxMs ?? 0), 12)}`,
  );
}

const nodeCpu = (cpuAfter.node.user + cpuAfter.node.system) / 1e6;
const nodePct = (100 * nodeCpu) / elapsed;
let machinePct = null;
let cpuLine = `CPU during the load, % of one core: node ${nodePct.toFixed(0)}%`;
let serverPct = null;
if (cpuBefore.server !== null && cpuAfter.server !== null) {
  serverPct = (100 * (cpuAfter.server - cpuBefore.server)) / elapsed;
  cpuLine += `, streamlab ${serverPct.toFixed(0)}%`;
}
if (cpuBefore.machine && cpuAfter.machine) {
  const { cores } = cpuAfter.machine;
  const share = (cpuAfter.machine.busy - cpuBefore.machine.busy) / (cpuAfter.machine.total - cpuBefore.machine.total);
  machinePct = 100 * cores * share;
  cpuLine += `, whole machine ${machinePct.toFixed(0)}% of ${cores * 100}%`;
  if (serverPct !== null) {
    const others = machinePct - nodePct - serverPct;
    const noisy = others > 20 ? ': the machine was not quiet, figures are pessimistic' : '';
    cpuLine += ` (everything else: ${Math.max(0, others).toFixed(0)}%${noisy})`;
  }
}
console.log(cpuLine);

if (opt.summaryFile) {
  const figures = (label) => {
    const s = seriesOf(label);
    const sorted = s.sorted();
    const [p50, p90, p99] = [50, 90, 99].map((q) => percentile(sorted, q));
    return { count: s.ok.length + s.errors, errors: s.errors, p50, p90, p99, max: sorted[sorted.length - 1] ?? NaN };
  };
  const summary = {
    check: figures(CHECK),
    console: figures(CONSOLE),
    lesson: figures(LESSON),
    nodeCpuPct: nodePct,
    serverCpuPct: serverPct,
    machineCpuPct: machinePct,
    loopDelayP99: loopMs(loopDelay.percentile(99)),
  };
  writeFileSync(opt.summaryFile, `${JSON.stringify(summary)}\n`);
}

const checkP99 = percentile(seriesOf(CHECK).sorted(), 99);
console.log('\ntarget (issue 5): check p99 < 50 ms with 200 learners for 60 s');
console.log(
  `  check p99 ${f(checkP99)} ms ${checkP99 < 50 ? '<' : '≥'} 50 ms` +
    (opt.learners !== 200 || opt.seconds !== 60 ? ` (measured with ${opt.learners} learners for ${opt.seconds} s)` : ''),
);

if (failures.size > 0) {
  console.log('\nwarning: some requests failed; what went wrong, most frequent first:');
  for (const [what, n] of [...failures].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${n} × ${what}`);
}
