// The Check button of an exercise asks the embedded broker (through the Kafka protocol) and
// marks each check; a learner's own client (kcat here) makes it pass.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { withServerAndBrowser } from "./server.js";

let browser;
let server;
withServerAndBrowser((started) => ({ server, browser } = started));

test("Check says what is missing, then passes once the learner has done the task", { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/lessons/topics-and-partitions`);
  const exercise = page.locator('section.exercise[data-exercise-id="keyed-orders"]');
  await exercise.locator('[data-testid="check-button"]').click();
  const result = exercise.locator('[data-testid="check-result"]');
  await exercise.locator('[data-testid="check-result"][data-status="fail"]').waitFor({ timeout: 10_000 });
  const first = exercise.locator('[data-check-index="0"]');
  assert.equal(await first.getAttribute("data-status"), "fail");
  assert.match(await first.locator(".check-message").innerText(), /topic orders does not exist/);

  // The learner creates the topic and produces with their own client.
  execFileSync("kcat", ["-b", server.kafka, "-L"], { timeout: 20_000 });
  const admin = `
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({'bootstrap.servers': '${server.kafka}'})
admin.create_topics([NewTopic('orders', 3, 1)])['orders'].result()
`;
  execFileSync("../.venv/bin/python", ["-c", admin], { timeout: 30_000 });
  execFileSync("kcat", ["-b", server.kafka, "-P", "-t", "orders", "-K:"], {
    input: "user-42:order-1\nuser-42:order-2\nuser-42:order-3\n",
    timeout: 20_000,
  });

  await exercise.locator('[data-testid="check-button"]').click();
  await exercise.locator('[data-testid="check-result"][data-status="pass"]').waitFor({ timeout: 10_000 });
  for (const index of [0, 1]) {
    assert.equal(await exercise.locator(`[data-check-index="${index}"]`).getAttribute("data-status"), "pass");
  }
  assert.match(await result.innerText(), /All checks pass/);
});
