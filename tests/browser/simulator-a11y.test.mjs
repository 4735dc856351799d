// The simulator for keyboard and screen-reader users (fixture pages, no Rust server): a skip link
// past each simulator, regions named by the block's title, an event log that is a list inside a
// log, a replay announced as one summary, and Space left to the log for scrolling.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, test } from "node:test";
import { startFixtureServer } from "./fixture-server.js";
import { launchBrowser } from "./server.js";

let browser;
let server;
let page;

before(async () => {
  server = await startFixtureServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: 1000, height: 900 }, reducedMotion: "reduce" });
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.baseUrl}/fixtures/simulator.html`);
  await page.locator('.simulator-app[data-state="ready"]').first().waitFor();
});

afterEach(async () => {
  await page?.close();
});

const app = (id) => page.locator(`.simulator-app[data-simulator-id="${id}"]`);

test("a skip link jumps past a simulator", { timeout: 30_000 }, async () => {
  const skip = page.locator('[data-testid="sim-skip"]').first();
  await skip.focus();
  assert.equal(await skip.isVisible(), true, "the skip link shows when focused");
  await page.keyboard.press("Enter");
  const target = (await skip.getAttribute("href")).slice(1);
  await page.waitForFunction((id) => document.activeElement?.id === id, target);
  // The next Tab stop is past the simulator, not inside it.
  await page.keyboard.press("Tab");
  const inside = await page.evaluate((id) => {
    const end = document.getElementById(id);
    return end.previousElementSibling.contains(document.activeElement);
  }, target);
  assert.equal(inside, false);
});

test("regions are named by the block's title, the log is a list inside a log", { timeout: 30_000 }, async () => {
  const view = app("three-partitions");
  const title = (await page.locator(".simulator", { has: view }).locator(".block-title").textContent()).trim();
  assert.equal(await view.locator(".sim-cluster").getAttribute("aria-label"), `${title}: cluster (press Space to play or pause)`);
  assert.equal(await view.locator(".sim-events").getAttribute("aria-label"), `${title}: events`);
  const log = view.locator('[data-testid="sim-event-log"]');
  assert.equal(await log.getAttribute("role"), null, "the <ol> keeps its list role");
  assert.equal(await view.locator('[role="log"]').count(), 1);
  // Names start with the visible text (WCAG 2.5.3).
  for (const testid of ["sim-step", "sim-back-1", "sim-back-5"]) {
    const button = view.locator(`[data-testid="${testid}"]`);
    assert.ok((await button.getAttribute("aria-label")).startsWith((await button.textContent()).trim()), testid);
  }
});

test("stepping back refills the log silently and announces one summary; Space on the log does not play", { timeout: 30_000 }, async () => {
  const view = app("three-partitions");
  for (let i = 0; i < 20; i += 1) await view.locator('[data-testid="sim-step"]').click();
  await view.locator('[data-testid="sim-back-1"]').click();
  await view
    .locator('[data-testid="sim-announcer"]')
    .filter({ hasText: /^Stepped back to t = \d+\.\d s, \d+ events in the log\.$/ })
    .waitFor();
  await page.waitForFunction(
    () => document.querySelector('[data-simulator-id="three-partitions"] [role="log"]').getAttribute("aria-live") === "polite",
  );

  const playing = await view.getAttribute("data-playing");
  await view.locator('[data-testid="sim-event-log"]').focus();
  await page.keyboard.press("Space");
  // Space elsewhere in the cluster does toggle, so the keypress above had its chance.
  await view.locator(".sim-cluster").focus();
  await page.keyboard.press("Space");
  await page.waitForFunction(
    (want) => document.querySelector('[data-simulator-id="three-partitions"]').dataset.playing === want,
    String(playing !== "true"),
  );
});
