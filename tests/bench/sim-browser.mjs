#!/usr/bin/env node
// Simulator benchmark in the browser: headless Debian Chromium (through tests/browser's
// playwright-core) opens the free-play fixture page (5 brokers × 6 partitions, RF 3,
// tests/browser/fixtures/simulator-free-play.html, served with streamlab's CSP by
// tests/browser/fixture-server.js) and measures, 3 runs each, printing the median:
//
// 1. simulated events per wall second: in the page, the bundle is imported and a fresh
//    Simulator runs `run_until` over a fixed simulated span (SPAN_S, idle cluster), then again
//    with a producer load (one acks=all record every 50 ms of simulated time, applied between
//    run_until slices); events = the simulator's `steps` (messages and timers processed);
// 2. the view's frame rate while playing at 10× with a record produced every 100 ms of real
//    time: requestAnimationFrame callbacks counted over FRAME_S seconds, plus the time the view's
//    own frame (advance + snapshot + DOM update) takes, mean and p95.
//
// Prints figures; never passes or fails on them. Needs `npm ci` in tests/browser.
//   node tests/bench/sim-browser.mjs            (SPAN_S=300 FRAME_S=5 RUNS=3 by default)
import { launchBrowser } from '../browser/server.js';
import { startFixtureServer } from '../browser/fixture-server.js';

const SPAN_S = Number(process.env.SPAN_S || 300);
const FRAME_S = Number(process.env.FRAME_S || 5);
const RUNS = Number(process.env.RUNS || 3);
const PRESET = JSON.stringify({
  brokers: 5,
  controllers: 3,
  topics: [{ name: 'orders', partitions: 6, replication_factor: 3, configs: [['min.insync.replicas', '2']] }],
});

const median = (values) => {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const server = await startFixtureServer();
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));

  const engine = { idle: [], load: [] };
  const frames = { fps: [], mean: [], p95: [], acked: [] };
  for (let run = 0; run < RUNS; run += 1) {
    await page.goto(`${server.baseUrl}/fixtures/simulator-free-play.html`);
    await page.locator('.simulator-app[data-state="ready"]').waitFor({ timeout: 15_000 });

    // 1. The engine alone, in the page's wasm.
    const result = await page.evaluate(async ({ preset, spanMs, seed }) => {
      const { default: init, Simulator } = await import('/static/sim/simulator.js');
      await init();
      const measure = (withLoad) => {
        const sim = new Simulator(preset, seed);
        const start = sim.now_ms;
        const steps0 = sim.steps;
        const t0 = performance.now();
        if (withLoad) {
          let n = 0;
          for (let t = start + 50; t <= start + spanMs; t += 50) {
            sim.run_until(t);
            n += 1;
            sim.apply(JSON.stringify({ type: 'produce', topic: 'orders', partition: null, key: `k${n % 97}`, value: `v${n}`, acks: -1 }));
          }
        } else {
          sim.run_until(start + spanMs);
        }
        const wall = performance.now() - t0;
        const steps = sim.steps - steps0;
        sim.free();
        return { steps, wall };
      };
      return { idle: measure(false), load: measure(true) };
    }, { preset: PRESET, spanMs: SPAN_S * 1000, seed: 1000 + run });
    engine.idle.push(result.idle);
    engine.load.push(result.load);

    // 2. The view at 10×, with records flowing.
    const view = await page.evaluate(async (seconds) => {
      const root = document.querySelector('.simulator-app[data-simulator-id="free-play"]');
      const sim = root.simulatorView;
      const durations = [];
      const frame = sim.frame.bind(sim);
      sim.frame = (now) => {
        const t0 = performance.now();
        frame(now);
        durations.push(performance.now() - t0);
      };
      root.querySelector('[data-testid="sim-speed"]').value = '10';
      root.querySelector('[data-testid="sim-speed"]').dispatchEvent(new Event('change'));
      if (!sim.playing) sim.togglePlay();
      let n = 0;
      const producer = setInterval(() => {
        n += 1;
        sim.apply({ type: 'produce', topic: 'orders', partition: null, key: `user-${n % 13}`, value: `order-${n}`, acks: -1 });
      }, 100);
      let callbacks = 0;
      let counting = true;
      const count = () => {
        callbacks += 1;
        if (counting) requestAnimationFrame(count);
      };
      requestAnimationFrame(count);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      counting = false;
      clearInterval(producer);
      durations.sort((a, b) => a - b);
      const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
      const p95 = durations[Math.min(durations.length - 1, Math.floor(durations.length * 0.95))];
      const acked = Number(root.querySelector('[data-testid="sim-acknowledged"]').textContent);
      return { fps: callbacks / seconds, mean, p95, acked };
    }, FRAME_S);
    frames.fps.push(view.fps);
    frames.mean.push(view.mean);
    frames.p95.push(view.p95);
    frames.acked.push(view.acked);
    console.error(`run ${run + 1}/${RUNS}: idle ${fmt(result.idle.steps / (result.idle.wall / 1000))} events/s, ` +
      `load ${fmt(result.load.steps / (result.load.wall / 1000))} events/s, ${fmt(view.fps, 1)} fps, view frame ${fmt(view.mean, 2)} ms mean / ${fmt(view.p95, 2)} ms p95`);
  }

  const rate = (list) => median(list.map((r) => r.steps / (r.wall / 1000)));
  const speedup = (list) => median(list.map((r) => (SPAN_S * 1000) / r.wall));
  console.log(`Simulator in headless Chromium (${await browser.version()}), 5 brokers × 6 partitions, RF 3, 3 controllers; median of ${RUNS}`);
  console.log(`  engine, idle cluster, ${SPAN_S} s simulated:        ${fmt(rate(engine.idle))} events/s  (${fmt(median(engine.idle.map((r) => r.steps)))} events, ${fmt(speedup(engine.idle))}× real time)`);
  console.log(`  engine, a produce every 50 ms, ${SPAN_S} s simulated: ${fmt(rate(engine.load))} events/s  (${fmt(median(engine.load.map((r) => r.steps)))} events, ${fmt(speedup(engine.load))}× real time)`);
  console.log(`  view at 10×, a produce every 100 ms real, ${FRAME_S} s: ${fmt(median(frames.fps), 1)} frames/s (rAF callbacks); view frame ${fmt(median(frames.mean), 2)} ms mean, ${fmt(median(frames.p95), 2)} ms p95; ${fmt(median(frames.acked))} records acknowledged`);
  if (errors.length) console.log(`  page errors: ${errors.join(' | ')}`);
} finally {
  await browser.close();
  await server.stop();
}
