// Page weight on a first visit (empty cache): every page is printed next to the 60 KB budget, and
// a page without a simulator in view must stay under it. The simulator bundle (about 175 KB) is
// loaded only when a simulator comes near the viewport, so it does not count against a lesson
// read from the top.
import assert from "node:assert/strict";
import { test } from "node:test";
import { withServerAndBrowser } from "./server.js";

const BUDGET_KB = 60;

let browser;
let server;
withServerAndBrowser((started) => ({ server, browser } = started));

/** Bytes over the wire (headers and compressed bodies) for the document and its resources. */
const transferred = (page) =>
  page.evaluate(() => {
    const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].filter(
      (entry) => !entry.name.includes("/api/live"),
    );
    return { requests: entries.length, bytes: entries.reduce((sum, entry) => sum + entry.transferSize, 0) };
  });

test(`first-load page weight, budget ${BUDGET_KB} KB without a simulator in view`, { timeout: 180_000 }, async () => {
  const home = await browser.newPage();
  await home.goto(`${server.baseUrl}/`);
  const slugs = await home.locator('[data-testid="lesson-item"]').evaluateAll((items) => items.map((item) => item.dataset.slug));
  await home.close();

  const rows = [];
  const over = [];
  for (const path of ["/", ...slugs.map((slug) => `/lessons/${slug}`), "/simulator"]) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
    const page = await context.newPage();
    try {
      await page.goto(`${server.baseUrl}${path}`, { waitUntil: "load" });
      // A simulator near the viewport loads the bundle: wait until it is mounted, so it is counted.
      const loading = await page.evaluate(() => document.querySelector(".simulator-app[data-state]") !== null);
      if (loading) await page.locator('.simulator-app[data-state="ready"]').first().waitFor({ timeout: 20_000 });
      // `load` waits for the stylesheet and every module script with its static imports; only
      // the simulator bundle comes later (dynamic import), and that was waited for above.
      const last = await transferred(page);
      const kb = last.bytes / 1024;
      const simulator = loading ? "loaded" : "not loaded";
      const within = kb <= BUDGET_KB;
      rows.push(
        `${path.padEnd(34)} ${String(last.requests).padStart(3)} req ${kb.toFixed(1).padStart(7)} KB  budget ${BUDGET_KB} KB  ${within ? "ok  " : "OVER"}  simulator ${simulator}`,
      );
      if (!within && !loading) over.push(`${path}: ${kb.toFixed(1)} KB`);
    } finally {
      await context.close();
    }
  }
  console.log(`\nFirst-load page weight (empty cache, 1280×900):\n${rows.join("\n")}\n`);
  assert.deepEqual(over, [], "pages without a simulator in view over the budget");
});
