// Start a real `streamlab broker` for the kafkajs tests: a free 127.0.0.1 port, a fresh temp data
// dir, ready when the port accepts connections; stop() = SIGTERM, then SIGKILL; restart() keeps
// the port and the data dir. startServer() starts `streamlab serve` instead, for tests that stop
// and start brokers through its lab API. Same approach as tests/clients/conftest.py.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The binary: $STREAMLAB_BIN (relative paths from the repo root), default target/release/streamlab. */
export function streamlabBin() {
  return path.resolve(REPO_ROOT, process.env.STREAMLAB_BIN || 'target/release/streamlab');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it), with the `count - 1`
 * after it free too: broker i of the embedded cluster listens on the port + (i - 1). */
export async function freePort(count = 1) {
  const bind = (port) =>
    new Promise((resolve) => {
      const srv = net.createServer();
      srv.unref();
      srv.on('error', () => resolve(null));
      srv.listen(port, '127.0.0.1', () => {
        const bound = srv.address().port;
        srv.close(() => resolve(bound));
      });
    });
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = await bind(0);
    if (base === null || base + count > 65535) continue;
    let free = true;
    for (let offset = 1; offset < count && free; offset++) {
      free = (await bind(base + offset)) !== null;
    }
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

// Brokers still running when the test process exits are killed.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

const MAX_LOG = 256 * 1024;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Start a broker. Returns { bootstrap, port, dataDir, log(), stop(), kill(), restart({ crash }) }.
 * Call stop() in an after()/finally; it also removes the data dir (unless keepDataDir).
 */
export async function startBroker({ timeoutMs = 20_000, extraArgs = [] } = {}) {
  const port = await freePort(3);
  const bootstrap = `127.0.0.1:${port}`;
  const args = (dataDir) => ['broker', '--kafka', bootstrap, '--data-dir', dataDir, ...extraArgs];
  return startProcess({ port, bootstrap, timeoutMs, args });
}

/**
 * Start `streamlab serve` with a `brokers`-broker cluster: what startBroker() returns, plus the
 * lab API: cluster() (GET /api/cluster), partition(topic, p), stopBroker(id) (a crash),
 * startBroker(id). `bootstrap` lists every broker, so that a client started while broker 1 is
 * stopped still finds the cluster. Ready when every broker is live (registered, unfenced).
 */
export async function startServer({ brokers = 3, timeoutMs = 30_000, extraArgs = [] } = {}) {
  const port = await freePort(brokers);
  let httpPort = await freePort(1);
  // freePort() only checked the brokers' ports: keep the web server out of their range.
  while (httpPort >= port && httpPort < port + brokers) httpPort = await freePort(1);
  const bootstrap = Array.from({ length: brokers }, (_, i) => `127.0.0.1:${port + i}`).join(',');
  const server = await startProcess({
    port,
    bootstrap,
    timeoutMs,
    args: (dataDir) => ['serve', '--http', `127.0.0.1:${httpPort}`, '--kafka', `127.0.0.1:${port}`,
      '--brokers', String(brokers), '--data-dir', dataDir, ...extraArgs],
  });

  /** { status, body } of a lab API call. */
  async function api(method, urlPath) {
    const response = await fetch(`http://127.0.0.1:${httpPort}${urlPath}`, { method, signal: AbortSignal.timeout(15_000) });
    return { status: response.status, body: await response.json() };
  }
  async function cluster() {
    const { status, body } = await api('GET', '/api/cluster');
    if (status !== 200) throw new Error(`GET /api/cluster: ${status} ${JSON.stringify(body)}`);
    return body;
  }
  async function control(id, action) {
    const { status, body } = await api('POST', `/api/cluster/brokers/${id}/${action}`);
    if (status !== 200) throw new Error(`${action} broker ${id}: ${status} ${JSON.stringify(body)}`);
  }

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const live = await cluster().then((c) => c.brokers.filter((b) => b.live).length, () => 0);
    if (live === brokers) break;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`the cluster did not have ${brokers} live brokers within ${timeoutMs} ms\n${server.log()}`);
    }
    await sleep(100);
  }

  return {
    ...server,
    httpPort,
    api,
    cluster,
    /** A partition's leader, leader_epoch, replicas, isr and offline_replicas, or undefined. */
    partition: async (topic, partition = 0) =>
      (await cluster()).partitions.find((p) => p.topic === topic && p.partition === partition),
    stopBroker: (id) => control(id, 'stop'),
    startBroker: (id) => control(id, 'start'),
  };
}

async function startProcess({ port, bootstrap, timeoutMs, args: argsFor }) {
  const bin = streamlabBin();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'streamlab-kafkajs-'));
  const args = argsFor(dataDir);
  let log = '';
  let child = null;
  let exitPromise = null;
  let exited = null;
  let starts = 0;

  const append = (chunk) => {
    log += chunk.toString().replace(ANSI, '');
    if (log.length > MAX_LOG) log = log.slice(-MAX_LOG);
  };

  async function start() {
    starts += 1;
    log += `\n---- start #${starts}: ${bin} ${args.join(' ')}\n`;
    exited = null;
    let spawnError = null;
    child = spawn(bin, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { RUST_LOG: 'info', ...process.env, NO_COLOR: '1' },
    });
    live.add(child);
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const me = child;
    exitPromise = new Promise((resolve) => {
      me.on('exit', (code, signal) => {
        exited = { code, signal };
        live.delete(me);
        resolve(exited);
      });
      me.on('error', (err) => {
        spawnError = err;
        exited = { code: null, signal: null, error: err };
        live.delete(me);
        resolve(exited);
      });
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (spawnError) {
        throw new Error(`cannot start ${bin} (${spawnError.message}): build it with ` +
          '`cargo build --release -p server` or set STREAMLAB_BIN');
      }
      if (exited) {
        throw new Error(`the broker exited (code ${exited.code}, signal ${exited.signal}) before accepting ` +
          `connections\n${log}`);
      }
      if (await canConnect(port)) return;
      if (Date.now() > deadline) {
        await kill();
        throw new Error(`the broker did not accept connections within ${timeoutMs} ms\n${log}`);
      }
      await sleep(50);
    }
  }

  /** SIGTERM, SIGKILL after 10 s; resolves to { code, signal }. */
  async function stopProcess() {
    if (!child) return null;
    const c = child;
    child = null;
    if (!exited) {
      c.kill('SIGTERM');
      let timer;
      const timeout = new Promise((r) => {
        timer = setTimeout(() => r(null), 10_000);
      });
      const done = await Promise.race([exitPromise, timeout]);
      clearTimeout(timer);
      if (!done) {
        c.kill('SIGKILL');
        await exitPromise;
      }
    }
    return exited;
  }

  async function kill() {
    if (!child) return;
    const c = child;
    child = null;
    if (!exited) {
      c.kill('SIGKILL');
      await exitPromise;
    }
  }

  await start();

  return {
    bootstrap,
    port,
    dataDir,
    log: () => log,
    /** Stop and remove the data dir; returns the exit status of the SIGTERM stop. */
    async stop() {
      const status = await stopProcess();
      await rm(dataDir, { recursive: true, force: true });
      return status;
    },
    kill,
    /** Restart on the same port and data dir (crash: SIGKILL instead of SIGTERM). */
    async restart({ crash = false } = {}) {
      if (crash) {
        await kill();
      } else {
        const status = await stopProcess();
        if (!status || status.code !== 0) {
          throw new Error(`the broker did not exit cleanly on SIGTERM: ${JSON.stringify(status)}\n${log}`);
        }
      }
      for (let attempt = 0; ; attempt++) {
        try {
          await start();
          return;
        } catch (err) {
          if (!/Address already in use/.test(err.message) || attempt >= 50) throw err;
          await sleep(100);
        }
      }
    },
  };
}
