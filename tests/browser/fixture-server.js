// A minimal static server for the simulator view's browser test and benchmark: serves static/
// under /static/ and the pages of tests/browser/fixtures/ under /fixtures/, with streamlab's own
// Content-Security-Policy (read from server/src/web/mod.rs), so the view is tested without the
// Rust server. POST /api/simulator/{id}/verify answers like the server is meant to: it replays
// the seed and action log with the same bundle (in Node) and says whether the goal was reached.

import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, "..", "..");
const STATIC_DIR = path.join(REPO_ROOT, "static");
const FIXTURE_DIR = path.join(HERE, "fixtures");

/** streamlab's CSP, taken from the server's source so the two never drift apart. */
export function streamlabCsp() {
  const source = readFileSync(path.join(REPO_ROOT, "server", "src", "web", "mod.rs"), "utf8");
  const match = source.match(/const CONTENT_SECURITY_POLICY: &str = "([^"]+)";/);
  if (!match) throw new Error("CONTENT_SECURITY_POLICY not found in server/src/web/mod.rs");
  return match[1];
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

/** The fixtures' simulator blocks: id → { preset, goal } (as the server knows them from lessons). */
function fixtureBlocks() {
  const blocks = new Map();
  for (const file of ["simulator.html", "simulator-free-play.html"]) {
    const html = readFileSync(path.join(FIXTURE_DIR, file), "utf8");
    for (const tag of html.match(/<div class="simulator-app"[^>]*>/g) || []) {
      const attr = (name) =>
        tag
          .match(new RegExp(`${name}='([^']*)'|${name}="([^"]*)"`))
          ?.slice(1)
          .find((v) => v !== undefined);
      blocks.set(attr("data-simulator-id"), { preset: attr("data-preset"), goal: attr("data-goal") });
    }
  }
  return blocks;
}

let simModule = null;
async function bundle() {
  if (!simModule) {
    simModule = await import(pathToFileURL(path.join(STATIC_DIR, "sim", "simulator.js")).href);
    simModule.initSync({ module: readFileSync(path.join(STATIC_DIR, "sim", "simulator_bg.wasm")) });
  }
  return simModule;
}

/**
 * Starts the server on a free port of 127.0.0.1. Returns { baseUrl, csp, verifications, stop() };
 * `verifications` collects every verify request ({ id, body, answer }).
 */
export async function startFixtureServer() {
  const csp = streamlabCsp();
  const blocks = fixtureBlocks();
  const verifications = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://localhost");
    const send = (status, type, body) => {
      res.writeHead(status, { "Content-Type": type, "Content-Security-Policy": csp, "Cache-Control": "no-store" });
      res.end(body);
    };
    const json = (status, value) => send(status, "application/json", JSON.stringify(value));
    try {
      const verify = url.pathname.match(/^\/api\/simulator\/([^/]+)\/verify$/);
      if (verify && req.method === "POST") {
        const chunks = [];
        for await (const chunk of req) chunks.push(chunk);
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const block = blocks.get(verify[1]);
        let status = 200;
        let answer;
        if (!block?.goal) {
          status = 404;
          answer = { error: `no simulator block ${verify[1]} with a goal` };
        } else if (typeof body.seed !== "number" || !Array.isArray(body.actions) || typeof body.until_ms !== "number") {
          status = 400;
          answer = { error: 'expected {"seed": number, "actions": [...], "until_ms": number}' };
        } else {
          const { Simulator } = await bundle();
          const run = Simulator.replay(block.preset, body.seed, JSON.stringify(body.actions), body.until_ms);
          const passed = run.reached(block.goal);
          run.free();
          answer = { passed, message: passed ? "Verified: the replay reaches the goal." : "The replay does not reach the goal." };
        }
        verifications.push({ id: verify[1], body, answer });
        json(status, answer);
        return;
      }
      let file = null;
      if (url.pathname.startsWith("/static/")) file = path.join(STATIC_DIR, url.pathname.slice("/static/".length));
      else if (url.pathname.startsWith("/fixtures/")) file = path.join(FIXTURE_DIR, url.pathname.slice("/fixtures/".length));
      if (!file || !(file.startsWith(STATIC_DIR + path.sep) || file.startsWith(FIXTURE_DIR + path.sep))) {
        send(404, "text/plain", "not found");
        return;
      }
      const content = await readFile(file).catch(() => null);
      if (content === null) send(404, "text/plain", "not found");
      else send(200, TYPES[path.extname(file)] || "application/octet-stream", content);
    } catch (error) {
      json(500, { error: String(error?.message ? error.message : error) });
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    csp,
    verifications,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}
