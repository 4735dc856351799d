// The lesson page's live view: topics and offsets, consumer groups with lag, and the record
// browser follow what the learner does (in-page console and kcat) without a reload.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { test } from "node:test";
import { startServer, withServerAndBrowser } from "./server.js";

let browser;
let server;
withServerAndBrowser((started) => ({ server, browser } = started));

/** Types a console script into the exercise's console and waits for `expected` in its output. */
async function run(page, script, expected) {
  const exercise = page.locator("section.exercise").first();
  const input = exercise.locator('[data-testid="console-input"]');
  await input.fill(script);
  await input.press("Enter");
  await page.waitForFunction(
    ([el, text]) => el.textContent.includes(text),
    [await exercise.locator('[data-testid="console-output"]').elementHandle(), expected],
    { timeout: 10_000 },
  );
}

const logEnd = (page, topic, partition) =>
  page.locator(`[data-testid="live-topic"][data-topic="${topic}"][data-partition="${partition}"] [data-field="log-end"]`).innerText();

test("the live view follows topics, offsets, groups and records as they change", { timeout: 90_000 }, async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(error.message));
  // The live view's requests all succeed, but for the one expected 400 (offset 99, checked below).
  page.on("response", (response) => {
    const url = new URL(response.url());
    const ours = url.pathname.startsWith("/api/") || url.pathname === "/static/live-view.js";
    if (ours && response.status() >= 400 && url.searchParams.get("offset") !== "99") {
      problems.push(`${response.status()} ${response.url()}`);
    }
  });
  await page.goto(`${server.baseUrl}/lessons/topics-and-partitions`);
  const live = page.locator('[data-testid="live-view"]');
  await live.locator('[data-testid="live-status"]', { hasText: "Live" }).waitFor({ timeout: 10_000 });
  // Marks this document: a reload would lose it.
  await page.evaluate(() => {
    window.liveViewMarker = true;
  });

  // A topic made with the console appears, with its partitions and offsets.
  await run(
    page,
    "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic live-orders --partitions 2",
    "Created topic live-orders.",
  );
  const row = live.locator('[data-testid="live-topic"][data-topic="live-orders"][data-partition="0"]');
  await row.waitFor({ timeout: 10_000 });
  assert.equal(await live.locator('[data-testid="live-topic"][data-topic="live-orders"]').count(), 2);
  assert.equal(await logEnd(page, "live-orders", 0), "0");
  assert.equal(await live.locator('[data-testid="live-topic"][data-topic^="__"]').count(), 0, "internal topics are hidden");

  // The learner is typing in the record browser while updates arrive: focus and text stay.
  const offsetInput = live.locator('[data-testid="record-offset"]');
  await offsetInput.focus();
  await offsetInput.fill("0");

  // Records produced with a real client (kcat) to partition 0 grow its log end offset.
  execFileSync("kcat", ["-b", server.kafka, "-P", "-t", "live-orders", "-p", "0", "-K:"], {
    input: 'user-42:order-1\nuser-42:order-2\nuser-7:{"id":3,"total":9.5}\n',
    timeout: 20_000,
  });
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="live-topic"][data-topic="live-orders"][data-partition="0"] [data-field="log-end"]')
        ?.textContent === "3",
    null,
    { timeout: 10_000 },
  );
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "record-offset", "updates do not steal focus");
  assert.equal(await offsetInput.inputValue(), "0");

  // And so do records from the console, to whichever partition their key hashes to.
  await run(
    page,
    "kafka-console-producer.sh --bootstrap-server localhost:9092 --topic live-orders --property parse.key=true --property key.separator=:\n" +
      "user-42:order-4\nuser-42:order-5",
    "$ kafka-console-producer.sh",
  );
  await page.waitForFunction(
    () => {
      const ends = [...document.querySelectorAll('[data-testid="live-topic"][data-topic="live-orders"] [data-field="log-end"]')];
      return ends.reduce((sum, cell) => sum + Number(cell.textContent), 0) === 5;
    },
    null,
    { timeout: 10_000 },
  );

  // The record browser: text, JSON and hex.
  const recordBrowser = live.locator('[data-testid="record-browser"]');
  await recordBrowser.locator('[data-testid="record-topic"]').selectOption("live-orders");
  await recordBrowser.locator('[data-testid="record-partition"]').selectOption("0");
  await offsetInput.fill("0");
  await recordBrowser.locator('[data-testid="record-show"]').click();
  const firstRecord = recordBrowser.locator('[data-testid="record-row"][data-offset="0"]');
  await firstRecord.waitFor({ timeout: 10_000 });
  assert.equal(await firstRecord.locator('[data-testid="record-key"]').innerText(), "user-42");
  assert.equal(await firstRecord.locator('[data-testid="record-value"]').innerText(), "order-1");
  await recordBrowser.locator('[data-testid="record-format-json"]').check();
  const jsonValue = recordBrowser.locator('[data-testid="record-row"][data-offset="2"] [data-testid="record-value"] pre');
  assert.equal(await jsonValue.innerText(), '{\n  "id": 3,\n  "total": 9.5\n}');
  await recordBrowser.locator('[data-testid="record-format-hex"]').check();
  assert.equal(await firstRecord.locator('[data-testid="record-value"]').innerText(), "6f 72 64 65 72 2d 31");
  assert.equal(await firstRecord.locator('[data-testid="record-key"]').innerText(), "75 73 65 72 2d 34 32");

  // Paging: from offset 2 the page starts there; Previous goes back to the log start.
  const firstRow = () => page.evaluate(() => document.querySelector('[data-testid="record-row"]')?.dataset.offset);
  await offsetInput.fill("2");
  await offsetInput.press("Enter");
  await page.waitForFunction(() => document.querySelector('[data-testid="record-row"]')?.dataset.offset === "2");
  await recordBrowser.locator('[data-testid="record-prev"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="record-row"]')?.dataset.offset === "0");
  assert.equal(await firstRow(), "0");
  // An offset past the end says where the records are.
  await offsetInput.fill("99");
  await offsetInput.press("Enter");
  await recordBrowser
    .locator('[data-testid="record-message"]', { hasText: "offset 99 is out of range: live-orders-0 has offsets 0 to" })
    .waitFor({ timeout: 10_000 });

  // A console consumer in group g1 reads two records of partition 0 and commits offset 2 there:
  // its lag is the rest of that partition.
  await run(
    page,
    "kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic live-orders --from-beginning --group g1 --max-messages 2",
    "Processed a total of 2 messages",
  );
  const lag = Number(await logEnd(page, "live-orders", 0)) - 2;
  assert.ok(lag > 0);
  const group = live.locator('[data-testid="live-group"][data-group="g1"]');
  await group.waitFor({ timeout: 10_000 });
  assert.equal(await group.locator('[data-testid="live-group-lag"]').innerText(), String(lag));
  const partitionRow = group.locator('[data-testid="live-group-partition"][data-topic="live-orders"][data-partition="0"]');
  assert.equal(await partitionRow.locator('[data-field="lag"]').innerText(), String(lag));
  const chart = group.locator('[data-testid="lag-chart"]');
  assert.match(await chart.getAttribute("aria-label"), new RegExp(`^Total lag of g1 over the last 2 minutes: now ${lag}`));
  assert.match(await chart.locator("path.lag-line").getAttribute("d"), /^M[\d.]+ [\d.]+/);

  // More records raise the lag, and the chart follows.
  execFileSync("kcat", ["-b", server.kafka, "-P", "-t", "live-orders", "-p", "0"], { input: "x\ny\n", timeout: 20_000 });
  await group.locator('[data-testid="live-group-lag"]', { hasText: String(lag + 2) }).waitFor({ timeout: 10_000 });
  assert.equal(await chart.getAttribute("data-lag"), String(lag + 2));

  // A real consumer in a group (kcat's balanced consumer) shows as a member with its partitions.
  const consumer = spawn("kcat", ["-b", server.kafka, "-G", "live-members", "-o", "beginning", "-q", "live-orders"], {
    stdio: "ignore",
  });
  try {
    const members = live.locator('[data-testid="live-group"][data-group="live-members"] [data-testid="live-member"]');
    await members.first().waitFor({ timeout: 30_000 });
    await page.waitForFunction(
      () =>
        /live-orders \[0, 1\]/.test(document.querySelector('[data-group="live-members"] [data-testid="live-member"]')?.textContent || ""),
      null,
      { timeout: 30_000 },
    );
  } finally {
    consumer.kill("SIGTERM");
  }

  assert.equal(await page.evaluate(() => window.liveViewMarker), true, "no reload happened");
  assert.deepEqual(problems, []);
});

test("the cluster panel shows the nodes and stops and starts a broker", { timeout: 120_000 }, async () => {
  // A short session timeout: the controller fences a stopped broker after 2 s rather than 9 s.
  const own = await startServer({ extraArgs: ["--broker-session-timeout-ms", "2000"] });
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(error.message));
  try {
    await page.goto(`${own.baseUrl}/lessons/topics-and-partitions`);
    const live = page.locator('[data-testid="live-view"]');
    const node = (kind, id) => live.locator(`[data-testid="live-node"][data-kind="${kind}"][data-id="${id}"]`);
    for (const id of [1, 2, 3]) await node("brokers", id).and(page.locator('[data-state="up"]')).waitFor({ timeout: 20_000 });
    const summary = live.locator('[data-testid="live-cluster-summary"]');
    await summary
      .filter({ hasText: /^Active controller: 300\d \(epoch \d+\) · 0 under-replicated partitions · 0 offline partitions\.$/ })
      .waitFor({ timeout: 20_000 });
    assert.equal(await live.locator('[data-testid="live-node"][data-kind="controllers"][data-state="active"]').count(), 1);
    assert.equal(await live.locator('[data-testid="live-node"][data-kind="controllers"][data-state="standby"]').count(), 2);

    // A topic with three replicas: its row names the leader, the replicas and the ISR.
    await run(
      page,
      "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic replicated --partitions 1 --replication-factor 3",
      "Created topic replicated.",
    );
    const row = live.locator('[data-testid="live-topic"][data-topic="replicated"][data-partition="0"]');
    await row
      .locator('[data-field="isr"]')
      .filter({ hasText: /^\d, \d, \d$/ })
      .waitFor({ timeout: 20_000 });
    const leader = Number(await row.locator('[data-field="leader"]').innerText());
    assert.ok([1, 2, 3].includes(leader), `a leader: ${leader}`);

    // Stop the leader by keyboard: it shows as stopped, the leadership moves, the ISR shrinks and
    // the partition counts as under-replicated, in words.
    const button = node("brokers", leader).locator('[data-testid="live-node-action"]');
    assert.equal(await button.evaluate((b) => b.firstChild.textContent), "Stop");
    assert.equal(await button.textContent(), `Stop broker ${leader}`, "its name says which broker");
    assert.equal(await button.getAttribute("data-action"), "stop");
    await button.focus();
    await page.keyboard.press("Enter");
    await node("brokers", leader).and(page.locator('[data-state="stopped"]')).waitFor({ timeout: 10_000 });
    await live.locator('[data-testid="live-cluster-message"]', { hasText: `Broker ${leader} stopped` }).waitFor();
    await button.filter({ hasText: "Start" }).waitFor({ timeout: 10_000 });
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "live-node-action", "focus stays on the button");
    await row.locator('[data-field="isr"]', { hasText: "(under-replicated)" }).waitFor({ timeout: 20_000 });
    const newLeader = Number(await row.locator('[data-field="leader"]').innerText());
    assert.notEqual(newLeader, leader);
    assert.match(await row.locator('[data-field="replicas"]').innerText(), new RegExp(`${leader} \\(down\\)`));
    await summary.filter({ hasText: "1 under-replicated partition ·" }).waitFor({ timeout: 10_000 });

    // Start it again: it recovers, rejoins and catches up into the ISR.
    await page.keyboard.press("Enter");
    await node("brokers", leader).and(page.locator('[data-state="up"]')).waitFor({ timeout: 30_000 });
    await row
      .locator('[data-field="isr"]')
      .filter({ hasText: /^\d, \d, \d$/ })
      .waitFor({ timeout: 30_000 });
    await summary.filter({ hasText: "0 under-replicated partitions" }).waitFor({ timeout: 10_000 });
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
    await own.stop();
  }
});

test("the live view says it reconnects when the server goes away", { timeout: 60_000 }, async () => {
  const own = await startServer();
  const page = await browser.newPage();
  try {
    await page.goto(`${own.baseUrl}/lessons/topics-and-partitions`);
    const status = page.locator('[data-testid="live-status"]');
    await status.locator("text=Live").waitFor({ timeout: 10_000 });
    await own.stop();
    await page.locator('[data-testid="live-status"]', { hasText: "Reconnecting…" }).waitFor({ timeout: 10_000 });
  } finally {
    await page.close();
    await own.stop();
  }
});

test("without JavaScript the live view says it needs it", { timeout: 30_000 }, async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/lessons/topics-and-partitions`);
    const live = page.locator('[data-testid="live-view"]');
    assert.match(await live.innerText(), /The live view needs JavaScript/);
    assert.equal(await live.locator('[data-testid="record-browser"]').isVisible(), false);
  } finally {
    await context.close();
  }
});
