// A learner solves an exercise in the page: types the commands into the console, sees the tools'
// output, presses Check, and the course map shows the lesson completed.

import assert from "node:assert/strict";
import { test } from "node:test";
import { withServerAndBrowser } from "./server.js";

let browser;
let server;
withServerAndBrowser((started) => ({ server, browser } = started));

test("console commands, Check, and progress on the course map", { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/lessons/topics-and-partitions`);
  const exercise = page.locator('section.exercise[data-exercise-id="keyed-orders"]');
  const input = exercise.locator('[data-testid="console-input"]');
  const output = exercise.locator('[data-testid="console-output"]');

  // A typo gets the tools' kind of help.
  await input.fill("kafka-topics.sh --bootstrap-server localhost:9092 --create --topic orders --partition 3");
  await input.press("Enter");
  await page.waitForFunction((el) => el.textContent.includes("did you mean --partitions?"), await output.elementHandle());

  // History: ArrowUp brings the command back to fix it.
  await input.press("ArrowUp");
  assert.match(await input.inputValue(), /--partition 3$/);
  await input.fill("kafka-topics.sh --bootstrap-server localhost:9092 --create --topic orders --partitions 3");
  await input.press("Enter");
  await page.waitForFunction((el) => el.textContent.includes("Created topic orders."), await output.elementHandle());

  // Producer input on the following lines (Shift+Enter adds a line).
  await input.fill(
    "kafka-console-producer.sh --bootstrap-server localhost:9092 --topic orders --property parse.key=true --property key.separator=:\n" +
      "user-42:order-1\nuser-42:order-2\nuser-42:order-3",
  );
  await input.press("Enter");
  await input.fill("kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic orders --from-beginning --property print.key=true");
  await input.press("Enter");
  await page.waitForFunction((el) => el.textContent.includes("Processed a total of 3 messages"), await output.elementHandle());
  assert.match(await output.innerText(), /user-42\torder-1/);
  // Typed at once, the consumer still ran after the producer, as in a terminal: each command's
  // echo comes after the previous command's result.
  const kinds = await output.locator("span").evaluateAll((spans) => spans.map((s) => s.className));
  assert.deepEqual(kinds.slice(-4), ["console-echo", "console-result", "console-echo", "console-result"]);

  await exercise.locator('[data-testid="check-button"]').click();
  await exercise.locator('[data-testid="check-result"][data-status="pass"]').waitFor({ timeout: 10_000 });

  await page.goto(server.baseUrl);
  const item = page.locator('li[data-testid="lesson-item"][data-slug="topics-and-partitions"]');
  assert.equal(await item.getAttribute("data-progress"), "completed");
});

test("a lesson code block pastes its command, and only it, into the console", { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/lessons/kraft`);
  const command = "kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --status";
  const block = page.locator(".lesson-body pre.code", { hasText: command }).first();
  await block.locator(".copy-button", { hasText: "Copy to console" }).click();
  // The block sits above the lesson's only exercise, so its console gets the command.
  const exercise = page.locator('section.exercise[data-exercise-id="watch-the-metadata-log"]');
  const input = exercise.locator('[data-testid="console-input"]');
  await page.waitForFunction(([el, text]) => el.value === text, [await input.elementHandle(), command], { timeout: 10_000 });
  assert.equal(await input.inputValue(), command);
  await input.press("Enter");
  const output = exercise.locator('[data-testid="console-output"]');
  await output.filter({ hasText: "LeaderEpoch:" }).waitFor({ timeout: 10_000 });
  // Sample output is copied, not pasted into a console.
  const sample = page.locator(".lesson-body pre.code", { hasText: "MaxFollowerLagTimeMs:   0" }).first();
  assert.equal(await sample.locator(".copy-button").innerText(), "Copy");
  await page.close();
});
