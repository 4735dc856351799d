// Helpers for the browser tests: start a real `streamlab serve` on a free port with its own
// temporary data dir, and launch Debian's Chromium through playwright-core.

import { spawn } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The server binary: $STREAMLAB_BIN (relative paths are relative to the repo root). */
export function serverBinary() {
  return path.resolve(REPO_ROOT, process.env.STREAMLAB_BIN || "target/release/streamlab");
}

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Launch headless Debian Chromium (no browser download: playwright-core only drives it). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it), with the `count - 1`
 * after it free too: broker i of the embedded cluster listens on the port + (i - 1).
 */
export async function freePort(count = 1) {
  const bind = (port) =>
    new Promise((resolve) => {
      const srv = net.createServer();
      srv.unref();
      srv.on("error", () => resolve(null));
      srv.listen(port, "127.0.0.1", () => {
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

/**
 * One `streamlab serve` and one browser for a test file: started before its tests and stopped after
 * them (node:test's `before`/`after`). `onStart` receives `{ server, browser }` once both run.
 */
export function withServerAndBrowser(onStart, options) {
  let started = {};
  before(async () => {
    started = { server: await startServer(options), browser: await launchBrowser() };
    onStart(started);
  });
  after(async () => {
    await started.browser?.close();
    await started.server?.stop();
  });
}

/** Copy the repo's lessons/ into a fresh temp dir (for tests that edit lessons). */
export async function copyLessons() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "streamlab-lessons-"));
  await cp(path.join(REPO_ROOT, "lessons"), dir, { recursive: true });
  return dir;
}

// Children still alive when the test process exits are killed, so a failed test never leaves a
// server behind.
const live = new Set();
process.on("exit", () => {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
});

const MAX_LOG = 64 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start `streamlab serve --http 127.0.0.1:PORT --kafka 127.0.0.1:KAFKA_PORT --data-dir TMP [...extraArgs]`
 * and wait until GET /healthz answers 200.
 *
 * Returns { baseUrl, port, kafka (its bootstrap address), dataDir, output(), stop() }. stop() kills the server and removes the
 * data dir; call it in an `after`/`finally`.
 */
export async function startServer({ extraArgs = [], timeoutMs = 20_000 } = {}) {
  const bin = serverBinary();
  const port = await freePort();
  const kafkaPort = await freePort(3);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "streamlab-test-"));
  const args = ["serve", "--http", `127.0.0.1:${port}`, "--kafka", `127.0.0.1:${kafkaPort}`, "--data-dir", dataDir, ...extraArgs];
  let log = "";
  const append = (chunk) => {
    log += chunk.toString();
    if (log.length > MAX_LOG) log = log.slice(-MAX_LOG);
  };
  const child = spawn(bin, args, {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { RUST_LOG: "info", ...process.env },
  });
  live.add(child);
  child.stdout.on("data", append);
  child.stderr.on("data", append);
  let exited = null;
  let spawnError = null;
  const exitPromise = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      live.delete(child);
      resolve(exited);
    });
    child.on("error", (err) => {
      spawnError = err;
      live.delete(child);
      resolve(null);
    });
  });

  const baseUrl = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (exited === null && spawnError === null) {
      child.kill("SIGTERM");
      // Clear the timer once the server exits, or it keeps node alive for its full 5 s.
      let timer;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve("timeout"), 5000);
      });
      const done = await Promise.race([exitPromise, timeout]);
      clearTimeout(timer);
      if (done === "timeout") {
        child.kill("SIGKILL");
        await exitPromise;
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  const describe = () => `command: ${bin} ${args.join(" ")}\n--- server output ---\n${log || "(none)"}\n---------------------`;

  const deadline = Date.now() + timeoutMs;
  let lastProblem = "no answer yet";
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(
        `could not start the server (${spawnError.message}); build it with ` +
          `\`cargo build --release -p server\` or set STREAMLAB_BIN\n${describe()}`,
      );
    }
    if (exited) {
      await stop();
      throw new Error(`the server exited before /healthz answered (code ${exited.code}, signal ${exited.signal})\n${describe()}`);
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
      lastProblem = `GET /healthz answered ${res.status}`;
    } catch (err) {
      lastProblem = `GET /healthz failed: ${err.cause?.code || err.message}`;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the server was not healthy after ${timeoutMs} ms (${lastProblem})\n${describe()}`);
    }
    await sleep(100);
  }

  return { baseUrl, port, kafka: `127.0.0.1:${kafkaPort}`, dataDir, output: () => log, stop };
}
