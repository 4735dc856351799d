// The in-browser simulator view (static/simulator-view.js) on the markup contract the server
// renders, served by a tiny static server with streamlab's CSP (fixture-server.js), so this
// test does not need the Rust server: crash a partition leader and watch another replica take
// over, produce through the form, verify a goal, step back in time, drive it by keyboard.

import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, test } from "node:test";
import { startFixtureServer } from "./fixture-server.js";
import { launchBrowser } from "./server.js";

let browser;
let server;
let page;
let problems;

before(async () => {
  server = await startFixtureServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  page.setDefaultTimeout(15_000);
  problems = [];
  // CSP violations, failed loads and uncaught exceptions all show up here.
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
});

afterEach(async () => {
  await page?.close();
});

async function open(fixture = "simulator.html") {
  await page.goto(`${server.baseUrl}/fixtures/${fixture}`);
  await page.locator('.simulator-app[data-state="ready"]').first().waitFor({ timeout: 15_000 });
}

const app = (id) => page.locator(`.simulator-app[data-simulator-id="${id}"]`);

test("crash the leader of orders-0: another replica leads, the crashed one is offline; produce is acknowledged", {
  timeout: 60_000,
}, async () => {
  await open();
  const view = app("three-partitions");
  assert.equal(await view.locator(".simulator-fallback").isHidden(), true, "the fallback text is hidden");
  await view.locator('[data-testid="sim-speed"]').selectOption("10");
  if ((await view.getAttribute("data-playing")) !== "true") await view.locator('[data-testid="sim-play"]').click();

  const leaderReplica = view.locator('[data-partition="orders-0"][data-replica-state="leader"]');
  await leaderReplica.waitFor();
  const leader = await leaderReplica.getAttribute("data-broker-id");
  const crash = view.locator(`[data-testid="crash-node"][data-node="${leader}"]`);
  assert.equal(await crash.getAttribute("aria-label"), `Crash broker ${leader}`);
  await crash.click();
  await view.locator(`.sim-broker[data-broker-id="${leader}"][data-up="false"]`).waitFor();
  await view.locator(`[data-testid="restart-node"][data-node="${leader}"]`).waitFor({ state: "visible" });

  const crashed = view.locator(`[data-partition="orders-0"][data-broker-id="${leader}"]`);
  await page.waitForFunction(
    ({ id, old }) => {
      const root = document.querySelector(`.simulator-app[data-simulator-id="${id}"]`);
      const lead = root.querySelector('[data-partition="orders-0"][data-replica-state="leader"]');
      return lead && lead.dataset.brokerId !== old;
    },
    { id: "three-partitions", old: leader },
    { timeout: 30_000 },
  );
  assert.equal(await crashed.getAttribute("data-replica-state"), "offline");
  const newLeader = await leaderReplica.getAttribute("data-broker-id");
  assert.notEqual(newLeader, leader);
  assert.match(await view.locator('[data-testid="sim-event-log"]').innerText(), new RegExp(`controller fenced broker ${leader}`));

  // Produce through the form: the acknowledged counter goes up.
  const acked = view.locator('[data-testid="sim-acknowledged"]');
  const before = Number(await acked.textContent());
  await view.getByLabel("Key").fill("user-42");
  await view.getByLabel("Value").fill("order-1");
  await view.locator('[data-testid="sim-produce"]').click();
  await page.waitForFunction(
    ({ id, count }) =>
      Number(document.querySelector(`.simulator-app[data-simulator-id="${id}"] [data-testid="sim-acknowledged"]`).textContent) > count,
    { id: "three-partitions", count: before },
    { timeout: 20_000 },
  );
  assert.equal(await view.getByLabel("Value").inputValue(), "order-2", "the value moves on for the next record");
  assert.equal(await view.locator('[data-testid="sim-violations"]').textContent(), "0");
  assert.match(await view.locator('[data-testid="sim-time"]').textContent(), /^t = \d+\.\d s$/);
  // The other block on the page has its own cluster: nothing crashed there.
  assert.equal(await app("quorum").locator('.sim-broker[data-up="false"]').count(), 0);
  assert.deepEqual(problems, []);
});

test("errors from apply are shown next to the control", { timeout: 30_000 }, async () => {
  await open();
  const view = app("three-partitions");
  await view.locator('[data-testid="sim-play"][aria-label="Pause the simulation"]').click();
  await view.getByLabel("min.insync.replicas").fill("0");
  await view.locator('[data-testid="sim-set-config"]').click();
  const error = view.locator(".sim-config-form .sim-error");
  await error.waitFor({ state: "visible" });
  assert.match(await error.textContent(), /min\.insync\.replicas/);
  assert.deepEqual(problems, []);
});

test("a reached goal is verified by the server with the seed and the action log", { timeout: 60_000 }, async () => {
  await open();
  const view = app("quorum");
  const result = view.locator('[data-testid="simulator-goal-result"]');
  assert.equal(await result.getAttribute("data-status"), "pending");
  assert.match(await result.textContent(), /Make the controller quorum elect a new leader/);
  await view.locator('[data-testid="sim-speed"]').selectOption("10");
  if ((await view.getAttribute("data-playing")) !== "true") await view.locator('[data-testid="sim-play"]').click();
  const active = await view.locator(".sim-controller[data-active]").getAttribute("data-node-id");
  await view.locator(`[data-testid="crash-node"][data-node="${active}"]`).click();
  await view.locator('[data-testid="simulator-goal-result"][data-status="pass"]').waitFor({ timeout: 30_000 });
  const newActive = await view.locator(".sim-controller[data-active]").getAttribute("data-node-id");
  assert.notEqual(newActive, active);
  assert.match(
    await view.locator('[data-testid="sim-quorum"]').textContent(),
    new RegExp(`quorum leader ${newActive} · epoch \\d+ · metadata high watermark \\d+`),
  );

  const sent = server.verifications.filter((v) => v.id === "quorum");
  assert.equal(sent.length, 1, "one verification request");
  const { body } = sent[0];
  assert.equal(body.seed, Number(await view.locator('[data-testid="sim-seed"]').textContent()));
  assert.deepEqual(
    body.actions.map((a) => a.action),
    [{ type: "crash", node: Number(active) }],
  );
  assert.ok(body.until_ms > body.actions[0].at_ms);
  assert.deepEqual(problems, []);
});

test("the lesson goal: an isolated leader acknowledges a record with acks=1 that is then lost", { timeout: 60_000 }, async () => {
  await open();
  const view = app("three-partitions");
  await view.locator('[data-testid="sim-speed"]').selectOption("10");
  if ((await view.getAttribute("data-playing")) !== "true") await view.locator('[data-testid="sim-play"]').click();
  const leader = await view.locator('[data-partition="orders-0"][data-replica-state="leader"]').getAttribute("data-broker-id");
  // Cut the leader off from everyone, then give the producer its link back.
  await view.getByLabel("Between", { exact: true }).selectOption(leader);
  await view.getByLabel("and", { exact: true }).selectOption("all");
  await view.locator('[data-testid="sim-cut-link"]').click();
  await view.getByRole("button", { name: `Heal the link between the producer and broker ${leader}` }).click();
  // The controller fences it and elects another leader; the old one does not know.
  await page.waitForFunction(
    (old) => {
      const lead = document.querySelector(
        '[data-simulator-id="three-partitions"] [data-partition="orders-0"][data-replica-state="leader"]',
      );
      return lead && lead.dataset.brokerId !== old;
    },
    leader,
    { timeout: 30_000 },
  );
  await view.locator('[data-testid="sim-play"][aria-label="Pause the simulation"]').click();
  await view.getByLabel("Partition", { exact: true }).selectOption("0");
  await view.getByLabel("acks", { exact: true }).selectOption("1");
  await view.getByLabel("Value", { exact: true }).fill("doomed");
  await view.locator('[data-testid="sim-produce"]').click();
  for (let i = 0; i < 5; i += 1) await view.locator('[data-testid="sim-step"]').click();
  await page.waitForFunction(
    () => document.querySelector('[data-simulator-id="three-partitions"] [data-testid="sim-acknowledged"]').textContent === "1",
  );
  // Heal: the old leader learns of the new epoch and truncates the acknowledged record away.
  await view.getByLabel("and", { exact: true }).selectOption("all");
  await view.locator('[data-testid="sim-heal-link"]').click();
  await view.locator('[data-testid="sim-play"]').click();
  await view.locator('[data-testid="simulator-goal-result"][data-status="pass"]').waitFor({ timeout: 30_000 });
  assert.equal(await view.locator('[data-testid="sim-lost"]').textContent(), "1");
  assert.equal(await view.locator('[data-counter="sim-lost"]').getAttribute("data-alert"), "");
  const loss = view.locator(".sim-ev-loss");
  assert.match(await loss.first().textContent(), /^\d+\.\d s DATA LOSS: the record "doomed"/);
  const sent = server.verifications.filter((v) => v.id === "three-partitions");
  assert.equal(sent.at(-1).answer.passed, true);
  assert.deepEqual(problems, []);
});

test("step and step back: a replay of the action log undoes a crash", { timeout: 30_000 }, async () => {
  await open();
  const view = app("three-partitions");
  const time = view.locator('[data-testid="sim-time"]');
  await view.locator('[data-testid="sim-play"][aria-label="Pause the simulation"]').click();
  await view.locator('[data-testid="crash-node"][data-node="2"]').click();
  await view.locator('.sim-broker[data-broker-id="2"][data-up="false"]').waitFor();
  const t0 = Number(await time.getAttribute("data-now-ms"));
  for (let i = 0; i < 10; i += 1) await view.locator('[data-testid="sim-step"]').click();
  // Ten steps of 100 ms, exactly.
  await view.locator(`[data-testid="sim-time"][data-now-ms="${t0 + 1000}"]`).waitFor();
  const shown = await time.textContent();
  assert.equal(shown, `t = ${Math.floor((t0 + 1000) / 1000)}.${Math.floor(((t0 + 1000) % 1000) / 100)} s`);
  await view.locator('[data-testid="sim-back-5"]').click();
  await view.locator('.sim-broker[data-broker-id="2"][data-up="true"]').waitFor();
  const t1 = Number(await time.getAttribute("data-now-ms"));
  assert.ok(t1 < t0, `stepped back before the crash (${t1} < ${t0})`);
  assert.equal(await view.getAttribute("data-playing"), "false", "stepping keeps time paused");
  assert.deepEqual(problems, []);
});

test("the network panel cuts and heals links", { timeout: 30_000 }, async () => {
  await open();
  const view = app("three-partitions");
  await view.getByLabel("Between", { exact: true }).selectOption("1");
  await view.getByLabel("and", { exact: true }).selectOption("2");
  await view.locator('[data-testid="sim-cut-link"]').click();
  await view.locator('.sim-link[data-a="1"][data-b="2"][data-cut]').waitFor({ state: "attached" });
  await view.getByRole("button", { name: "Heal the link between broker 1 and broker 2" }).click();
  await view.locator('.sim-link[data-a="1"][data-b="2"]:not([data-cut])').waitFor({ state: "attached" });
  assert.match(await view.locator('[data-testid="sim-event-log"]').innerText(), /broker 1/);
  assert.deepEqual(problems, []);
});

test("keyboard: Tab reaches the play button; Space and Enter toggle it", { timeout: 30_000 }, async () => {
  await open();
  const view = app("three-partitions");
  const play = view.locator('[data-testid="sim-play"]');
  let reached = false;
  for (let i = 0; i < 30 && !reached; i += 1) {
    await page.keyboard.press("Tab");
    reached = await play.evaluate((el) => el === document.activeElement);
  }
  assert.ok(reached, "the play button is reachable with Tab");
  const outline = await play.evaluate((el) => getComputedStyle(el).outlineStyle);
  assert.notEqual(outline, "none", "the focused button shows a focus ring");
  const playing = await view.getAttribute("data-playing");
  await page.keyboard.press("Space");
  await page.waitForFunction(
    (want) => document.querySelector('[data-simulator-id="three-partitions"]').dataset.playing === want,
    String(playing !== "true"),
  );
  await page.keyboard.press("Enter");
  await page.waitForFunction((want) => document.querySelector('[data-simulator-id="three-partitions"]').dataset.playing === want, playing);
  // Space on the focused cluster view toggles too.
  await view.locator(".sim-cluster").focus();
  await page.keyboard.press("Space");
  await page.waitForFunction(
    (want) => document.querySelector('[data-simulator-id="three-partitions"]').dataset.playing === want,
    String(playing !== "true"),
  );
  // Every button has an accessible name.
  const unnamed = await view
    .locator("button")
    .evaluateAll((buttons) => buttons.filter((b) => !(b.getAttribute("aria-label") || b.textContent.trim())).length);
  assert.equal(unnamed, 0);
  assert.deepEqual(problems, []);
});

test("time pauses while the tab is hidden and resumes when it is back", { timeout: 30_000 }, async () => {
  await open();
  const view = app("three-partitions");
  if ((await view.getAttribute("data-playing")) !== "true") await view.locator('[data-testid="sim-play"]').click();
  const setHidden = (hidden) =>
    page.evaluate((value) => {
      Object.defineProperty(document, "hidden", { value, configurable: true });
      Object.defineProperty(document, "visibilityState", { value: value ? "hidden" : "visible", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    }, hidden);
  await setHidden(true);
  await page.waitForFunction(() => document.querySelector('[data-simulator-id="three-partitions"]').dataset.playing === "false");
  const frozen = await view.locator('[data-testid="sim-time"]').textContent();
  await page.waitForTimeout(300);
  assert.equal(await view.locator('[data-testid="sim-time"]').textContent(), frozen);
  await setHidden(false);
  await page.waitForFunction(() => document.querySelector('[data-simulator-id="three-partitions"]').dataset.playing === "true");
  assert.deepEqual(problems, []);
});

test("free play: the cluster form rebuilds the simulation", { timeout: 30_000 }, async () => {
  await open("simulator-free-play.html");
  const view = app("free-play");
  assert.equal(await view.locator(".sim-broker").count(), 5);
  assert.equal(await view.locator(".sim-partition").count(), 6);
  assert.equal(await view.locator('[data-testid="simulator-goal-result"]').count(), 0, "free play has no goal");
  const form = view.locator('[data-testid="sim-cluster-form"]');
  await form.getByLabel("Brokers").fill("4");
  await form.getByLabel("Partitions").fill("2");
  await form.getByLabel("Replication factor").fill("2");
  await form.getByLabel("min.insync.replicas").fill("1");
  await form.locator('[data-testid="sim-rebuild"]').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-simulator-id="free-play"] .sim-partition').length === 2);
  assert.equal(await view.locator(".sim-broker").count(), 4);
  assert.equal(await view.locator('[data-partition="orders-1"]').count(), 2);
  // A cluster the simulator refuses: the error is shown, the old cluster stays.
  await form.getByLabel("Replication factor").fill("5");
  await form.locator('[data-testid="sim-rebuild"]').click();
  await form.locator(".sim-error").waitFor({ state: "visible" });
  assert.equal(await view.locator(".sim-broker").count(), 4);
  assert.deepEqual(problems, []);
});
