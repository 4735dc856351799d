// axe-core (WCAG 2.0/2.1 A and AA rules) on every kind of page and the states a learner brings
// them to, in the light and the dark scheme: no serious or critical violation may remain.
// Simulators run with reduced motion, so they start paused and every run sees the same state.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { withServerAndBrowser } from "./server.js";

const AXE_PATH = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

let browser;
let server;
withServerAndBrowser((started) => ({ server, browser } = started));

/** Serious and critical violations on the page as it is now, one readable line per node. */
async function violations(page) {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE_PATH });
  const results = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] }),
    TAGS,
  );
  // One line per rule: how many nodes, the first one, and why.
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) => `${v.id} (${v.impact}) ×${v.nodes.length}: ${v.nodes[0].target.join(" ")}: ${v.nodes[0].failureSummary.replace(/\s+/g, " ")}`,
    );
}

async function assertClean(page, state) {
  const found = await violations(page);
  assert.deepEqual(found, [], `${state}: ${found.length} serious or critical axe violations`);
}

async function newPage(colorScheme) {
  // axe is injected as an inline script, which streamlab's CSP (rightly) forbids.
  const context = await browser.newContext({
    colorScheme,
    reducedMotion: "reduce",
    bypassCSP: true,
    viewport: { width: 1280, height: 900 },
  });
  return { context, page: await context.newPage() };
}

async function simulatorsReady(page) {
  for (const app of await page.locator(".simulator-app").all()) {
    await app.scrollIntoViewIfNeeded();
    await app.locator('[data-testid="sim-time"]').waitFor({ timeout: 20_000 });
  }
}

for (const colorScheme of ["light", "dark"]) {
  test(`${colorScheme}: course map, a lesson with exercises, after a console command and a Check`, { timeout: 120_000 }, async () => {
    const { context, page } = await newPage(colorScheme);
    try {
      await page.goto(`${server.baseUrl}/`);
      await assertClean(page, "course map, first visit");
      assert.equal(await page.locator('.site-nav a[aria-current="page"]').textContent(), "Course");

      await page.goto(`${server.baseUrl}/lessons/events`);
      await page.locator('[data-testid="live-status"]', { hasText: "Live" }).waitFor();
      await assertClean(page, "lesson with an exercise");

      const exercise = page.locator('section.exercise[data-exercise-id="first-event"]');
      const input = exercise.locator('[data-testid="console-input"]');
      const output = exercise.locator('[data-testid="console-output"]');
      // Enough output to scroll the console.
      for (let i = 0; i < 3; i += 1) {
        await input.fill("help");
        await input.press("Enter");
      }
      await output.filter({ hasText: /(kafka-topics[\s\S]*){3}/ }).waitFor();
      await assertClean(page, "after console commands");

      await exercise.locator('[data-testid="check-button"]').click();
      await exercise.locator('[data-testid="check-result"][data-status="fail"]').waitFor({ timeout: 15_000 });
      await assertClean(page, "after a failing Check");

      // Hints open, the "Check yourself" list, footnotes: the whole lesson body.
      await exercise.locator(".hints summary").click();
      await assertClean(page, "hints open");

      await page.goto(`${server.baseUrl}/`);
      await page.locator('[data-testid="lesson-item"][data-progress="visited"]').first().waitFor();
      await assertClean(page, "course map with a lesson in progress");
    } finally {
      await context.close();
    }
  });

  test(`${colorScheme}: simulator pages, and after crashing a broker`, { timeout: 120_000 }, async () => {
    const { context, page } = await newPage(colorScheme);
    try {
      await page.goto(`${server.baseUrl}/simulator`);
      await simulatorsReady(page);
      await assertClean(page, "/simulator");
      const view = page.locator('.simulator-app[data-simulator-id="free-play"]');
      const leader = await view.locator('[data-partition="orders-0"][data-replica-state="leader"]').getAttribute("data-broker-id");
      await view.locator(`[data-testid="crash-node"][data-node="${leader}"]`).click();
      await view.locator(`.sim-broker[data-broker-id="${leader}"][data-up="false"]`).waitFor();
      for (let i = 0; i < 5; i += 1) await view.locator('[data-testid="sim-step"]').click();
      await assertClean(page, "/simulator after crashing a broker");

      for (const lesson of ["topics-and-partitions", "replication"]) {
        await page.goto(`${server.baseUrl}/lessons/${lesson}`);
        await simulatorsReady(page);
        await assertClean(page, `/lessons/${lesson} with its simulators`);
      }
    } finally {
      await context.close();
    }
  });
}
