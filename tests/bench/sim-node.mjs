// The simulator bundle's speed in a JavaScript engine (Node's V8, the engine of Chromium): the
// same workload as broker/tests/sim_bench.rs — 5 brokers, 3 controllers, 6 partitions × 3
// replicas, a record every 100 ms for 10 simulated minutes — driven through the wasm-bindgen API
// the page uses. Prints simulated events per wall-clock second, median of 3.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SIM_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'static', 'sim');
const sim = await import(pathToFileURL(path.join(SIM_DIR, 'simulator.js')).href);
sim.initSync({ module: readFileSync(path.join(SIM_DIR, 'simulator_bg.wasm')) });

const preset = JSON.stringify({
  brokers: 5,
  controllers: 3,
  topics: [{ name: 'orders', partitions: 6, replication_factor: 3, configs: [['min.insync.replicas', '2']] }],
});

function run(seed) {
  const started = performance.now();
  const simulator = new sim.Simulator(preset, seed);
  const start = simulator.now_ms;
  for (let i = 0; i < 6000; i++) {
    simulator.run_until(start + i * 100);
    simulator.apply(JSON.stringify({ type: 'produce', topic: 'orders', key: `user-${i % 97}`, value: `order-${i}`, acks: -1 }));
  }
  simulator.run_until(start + 600000);
  const events = simulator.steps;
  simulator.free();
  return events / ((performance.now() - started) / 1000);
}

const rates = [1, 2, 3].map(run).sort((a, b) => a - b);
console.log(`wasm (node ${process.versions.node}): ${rates[1].toFixed(0)} simulated events/s (median of 3; runs ${rates.map((r) => r.toFixed(0)).join(' / ')})`);
