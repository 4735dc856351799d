// The simulator in the real server: /simulator free play and a lesson's simulator goal, verified
// by streamlab replaying the run natively, ending up on the course map. (simulator-view.test.mjs
// covers the view itself against a fixture page.)

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, startServer } from "./server.js";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openPage(path) {
  const page = await browser.newPage();
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  await page.goto(`${server.baseUrl}${path}`);
  return { page, problems };
}

async function fast(view) {
  await view.locator('[data-testid="sim-speed"]').selectOption("10");
  if ((await view.getAttribute("data-playing")) !== "true") await view.locator('[data-testid="sim-play"]').click();
}

test("/simulator: crash the leader of a partition and another replica becomes leader", { timeout: 60_000 }, async () => {
  const { page, problems } = await openPage("/simulator");
  const view = page.locator('.simulator-app[data-simulator-id="free-play"]');
  const leader = view.locator('[data-partition="orders-0"][data-replica-state="leader"]');
  await leader.waitFor();
  const crashed = await leader.getAttribute("data-broker-id");
  await fast(view);
  await view.locator(`[data-testid="crash-node"][data-node="${crashed}"]`).click();
  await view.locator(`[data-partition="orders-0"][data-broker-id="${crashed}"][data-replica-state="offline"]`).waitFor({ timeout: 10_000 });
  const next = view.locator(`[data-partition="orders-0"][data-replica-state="leader"]:not([data-broker-id="${crashed}"])`);
  await next.waitFor({ timeout: 30_000 });
  assert.notEqual(await next.getAttribute("data-broker-id"), crashed);
  assert.match(await view.locator('[data-testid="sim-event-log"]').textContent(), new RegExp(`controller fenced broker ${crashed}`));
  assert.deepEqual(problems, [], "no console errors (CSP, wasm)");
  await page.close();
});

test("a lesson goal reached in the page is verified by the server, and with the console exercise completes the lesson", {
  timeout: 90_000,
}, async () => {
  const { page, problems } = await openPage("/lessons/kraft");
  const view = page.locator('.simulator-app[data-simulator-id="controller-failover"]');
  const result = view.locator('[data-testid="simulator-goal-result"]');
  // The simulator bundle loads when a simulator comes near the viewport, as a reader scrolls.
  await view.scrollIntoViewIfNeeded();
  await view.locator(".sim-controller[data-active]").waitFor();
  assert.equal(await result.getAttribute("data-status"), "pending");
  await fast(view);
  const active = await view.locator(".sim-controller[data-active]").getAttribute("data-node-id");
  const verified = page.waitForResponse((r) => r.url().endsWith("/api/simulator/controller-failover/verify"));
  await view.locator(`[data-testid="crash-node"][data-node="${active}"]`).click();
  const response = await verified;
  const answer = await response.json();
  assert.equal(answer.passed, true, JSON.stringify(answer));
  assert.match(answer.message, /^Verified: the server replayed your run/);
  await view.locator('[data-testid="simulator-goal-result"][data-status="pass"]').waitFor();

  await page.goto(`${server.baseUrl}/`);
  const item = page.locator('[data-slug="kraft"]');
  assert.equal(await item.getAttribute("data-progress"), "visited", "the lesson's console exercise is still open");

  // The lesson's exercise: the embedded broker's own quorum, described in the page's console.
  await page.goto(`${server.baseUrl}/lessons/kraft`);
  const exercise = page.locator('section.exercise[data-exercise-id="watch-the-metadata-log"]');
  const input = exercise.locator('[data-testid="console-input"]');
  const output = exercise.locator('[data-testid="console-output"]');
  // Runs a command and returns what it printed, once that holds `expected`.
  const run = async (script, expected) => {
    const start = (await output.textContent()).length;
    await input.fill(script);
    await input.press("Enter");
    await page.waitForFunction(
      ([el, from, text]) => el.textContent.slice(from).includes(text),
      [await output.elementHandle(), start, expected],
      { timeout: 10_000 },
    );
    return (await output.textContent()).slice(start);
  };
  const field = (name, text) => Number(text.match(new RegExp(`${name}:\\s+(\\d+)`))[1]);
  const describeStatus = "kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --status";
  const first = await run(describeStatus, "CurrentObservers:");
  assert.match(first, /CurrentObservers:\s+\[\{"id": 1, /, "the three brokers observe the quorum");
  await run("kafka-topics.sh --bootstrap-server localhost:9092 --create --topic inventory --partitions 4", "Created topic inventory.");
  await run(
    "kafka-configs.sh --bootstrap-server localhost:9092 --alter --entity-type topics --entity-name inventory --add-config retention.ms=3600000",
    "Completed updating config",
  );
  const second = await run(describeStatus, "CurrentObservers:");
  assert.ok(
    field("HighWatermark", second) - field("HighWatermark", first) >= 6,
    "a TopicRecord, four PartitionRecords and a ConfigRecord (and NoOpRecords)",
  );
  // The active controller stops: the two others elect a new leader in a later epoch.
  await run("streamlab controller stop active", "stopped");
  const third = await run(describeStatus, "CurrentObservers:");
  assert.ok(field("LeaderEpoch", third) > field("LeaderEpoch", first), third);
  assert.notEqual(field("LeaderId", third), field("LeaderId", first));
  await exercise.locator('[data-testid="check-button"]').click();
  await exercise.locator('[data-testid="check-result"][data-status="pass"]').waitFor({ timeout: 10_000 });

  await page.goto(`${server.baseUrl}/`);
  assert.equal(await item.getAttribute("data-progress"), "completed", "the goal and the exercise are both passed");
  assert.deepEqual(problems, []);
  await page.close();
});
