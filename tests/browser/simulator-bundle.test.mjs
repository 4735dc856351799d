// The committed simulator bundle (static/sim/, built by `bash wasm-sim/build.sh`) loads outside a
// browser too: wasm-bindgen's `--target web` glue instantiated synchronously from the .wasm bytes,
// and its exports answer. No server or Chromium needed.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const SIM_DIR = path.join(REPO_ROOT, "static", "sim");

/** wasm-sim's version: its own `version = "…"`, or the workspace's with `version.workspace = true`. */
function wasmSimVersion() {
  const own = readFileSync(path.join(REPO_ROOT, "wasm-sim", "Cargo.toml"), "utf8");
  const ownVersion = own.match(/^version\s*=\s*"([^"]+)"/m);
  if (ownVersion) return ownVersion[1];
  assert.match(own, /^version\.workspace\s*=\s*true/m, "wasm-sim/Cargo.toml has no version");
  const root = readFileSync(path.join(REPO_ROOT, "Cargo.toml"), "utf8");
  const section = root.split(/^\[workspace\.package\]\s*$/m)[1]?.split(/^\[/m)[0] ?? "";
  const version = section.match(/^version\s*=\s*"([^"]+)"/m);
  assert.ok(version, "no version in [workspace.package] of Cargo.toml");
  return version[1];
}

test("static/sim loads with initSync and reports the wasm-sim version", async () => {
  const sim = await import(pathToFileURL(path.join(SIM_DIR, "simulator.js")).href);
  const wasm = sim.initSync({ module: readFileSync(path.join(SIM_DIR, "simulator_bg.wasm")) });
  assert.ok(wasm.memory instanceof WebAssembly.Memory, "the instance exports its memory");
  assert.equal(sim.version(), wasmSimVersion());
});

test("the bundle runs the broker core: crash a partition leader and another replica leads", async () => {
  const sim = await import(pathToFileURL(path.join(SIM_DIR, "simulator.js")).href);
  sim.initSync({ module: readFileSync(path.join(SIM_DIR, "simulator_bg.wasm")) });
  const preset = JSON.stringify({
    brokers: 3,
    controllers: 3,
    topics: [{ name: "orders", partitions: 1, replication_factor: 3, configs: [["min.insync.replicas", "2"]] }],
  });
  const simulator = new sim.Simulator(preset, 42);
  const before = JSON.parse(simulator.snapshot());
  const partition = before.partitions[0];
  const leader = partition.leader;
  assert.equal(partition.replicas.filter((r) => r.state === "leader").length, 1, "one leader");
  assert.deepEqual(partition.isr.toSorted(), [1, 2, 3]);

  simulator.apply(JSON.stringify({ type: "produce", topic: "orders", key: "k", value: "v1", acks: -1 }));
  simulator.run_until(simulator.now_ms + 1000);
  simulator.apply(JSON.stringify({ type: "crash", node: leader }));
  simulator.run_until(simulator.now_ms + 15000);

  const after = JSON.parse(simulator.snapshot());
  const moved = after.partitions[0];
  assert.notEqual(moved.leader, leader, "leadership moved away from the crashed broker");
  assert.ok(moved.leader_epoch > partition.leader_epoch, "a new leader epoch");
  const states = Object.fromEntries(moved.replicas.map((r) => [r.broker, r.state]));
  assert.equal(states[leader], "offline");
  assert.equal(states[moved.leader], "leader");
  const newLeader = moved.replicas.find((r) => r.broker === moved.leader);
  assert.deepEqual(
    newLeader.records.map((r) => r.value),
    ["v1"],
    "the acknowledged record survived",
  );

  const events = JSON.parse(simulator.events_since(0)).map((e) => e.text);
  assert.ok(
    events.some((t) => t.includes(`controller fenced broker ${leader}`)),
    events.join("\n"),
  );
  assert.ok(simulator.reached("new-quorum-leader") === false);
  assert.throws(() => simulator.apply('{"type":"crash","node":99}'), /there is no node 99/);
  assert.throws(() => simulator.reached("win"), /unknown goal/);

  // Stepping back: a replay of the action log up to before the crash shows the old leader.
  const actions = simulator.actions();
  const crashAt = JSON.parse(actions).find((a) => a.action.type === "crash").at_ms;
  const earlier = sim.Simulator.replay(preset, 42, actions, crashAt - 1);
  assert.equal(JSON.parse(earlier.snapshot()).partitions[0].leader, leader);
});
