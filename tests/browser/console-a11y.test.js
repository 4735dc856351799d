// The console and the Check button for everyone: keyboard only, a screen reader (what is
// announced), and a phone (touch only, no Shift key). Each test starts its own server, so each
// solves the exercise from scratch.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, startServer } from "./server.js";

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

const TOPIC = "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic first-events --partitions 1";
const PRODUCER =
  "kafka-console-producer.sh --bootstrap-server localhost:9092 --topic first-events --property parse.key=true --property key.separator=:";
const RECORD = 'user-42:{"type":"OrderPlaced","order_id":"order-1001"}';

/** Presses Tab until `locator` has focus (at most `max` times); fails if it never does. */
async function tabTo(page, locator, max = 200) {
  const handle = await locator.elementHandle();
  for (let i = 0; i < max; i += 1) {
    if (await handle.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press("Tab");
  }
  assert.fail("Tab never reached the element");
}

test("keyboard only: the hint is shown, output is appended and only the latest result announced, Check keeps focus", {
  timeout: 90_000,
}, async () => {
  const server = await startServer();
  const page = await browser.newPage();
  try {
    await page.goto(`${server.baseUrl}/lessons/events`);
    const exercise = page.locator('section.exercise[data-exercise-id="first-event"]');
    const input = exercise.locator('[data-testid="console-input"]');
    const output = exercise.locator('[data-testid="console-output"]');
    const announcer = exercise.locator('[data-testid="console-announcer"]');
    const check = exercise.locator('[data-testid="check-button"]');

    // The hint is visible and describes the input; the output is a named, focusable region and
    // not itself a live region.
    const hint = exercise.locator('[data-testid="console-hint"]');
    assert.equal(await hint.isVisible(), true);
    assert.match(await hint.innerText(), /Enter runs/);
    assert.match(await hint.innerText(), /Shift\+Enter/);
    assert.equal(await input.getAttribute("aria-describedby"), await hint.getAttribute("id"));
    assert.equal(await output.getAttribute("aria-live"), null);
    assert.equal(await output.getAttribute("tabindex"), "0");
    assert.equal(await output.getAttribute("role"), "region");
    assert.match(await output.getAttribute("aria-label"), /^Console output/);
    assert.equal(await announcer.getAttribute("role"), "status");

    // Nothing already in the transcript is ever removed or rewritten.
    await output.evaluate((el) => {
      window.removedNodes = 0;
      new MutationObserver((records) => {
        for (const record of records) window.removedNodes += record.removedNodes.length + (record.type === "characterData" ? 1 : 0);
      }).observe(el, { childList: true, subtree: true, characterData: true });
    });

    await tabTo(page, input);
    await page.keyboard.type(TOPIC);
    await page.keyboard.press("Enter");
    await announcer.filter({ hasText: "Created topic first-events." }).waitFor();

    // A producer with no records says so, instead of silently sending nothing.
    await page.keyboard.type(PRODUCER);
    await page.keyboard.press("Enter");
    await announcer.filter({ hasText: "No records sent" }).waitFor();
    assert.doesNotMatch(await announcer.innerText(), /Created topic/, "only the latest result is announced");

    // Records on the lines after the command (Shift+Enter).
    await page.keyboard.type(PRODUCER);
    await page.keyboard.press("Shift+Enter");
    await page.keyboard.type(RECORD);
    await page.keyboard.press("Enter");
    await output.locator(".console-echo", { hasText: RECORD }).waitFor();
    await page.waitForFunction(() =>
      document.querySelector('[data-exercise-id="first-event"] [data-testid="console-announcer"]').textContent.includes("Done"),
    );
    assert.match(await output.innerText(), /Created topic first-events\.[\s\S]*No records sent[\s\S]*> user-42/);
    assert.equal(await page.evaluate(() => window.removedNodes), 0, "the transcript is appended to, never rewritten");

    // Check by keyboard: focus stays on the button, and each check says Passed in words.
    await tabTo(page, check);
    await page.keyboard.press("Enter");
    await exercise.locator('[data-testid="check-result"][data-status="pass"]').waitFor({ timeout: 15_000 });
    assert.equal(await check.evaluate((el) => el === document.activeElement), true, "focus stays on Check");
    for (const index of [0, 1]) {
      const item = exercise.locator(`[data-check-index="${index}"]`);
      assert.match(await item.locator(".check-verdict").innerText(), /^Passed/);
    }
    // The output scrolls by keyboard: it is in the Tab order.
    await tabTo(page, output);
  } finally {
    await page.close();
    await server.stop();
  }
});

test("Check says Failed in words for each failing check", { timeout: 60_000 }, async () => {
  const server = await startServer();
  const page = await browser.newPage();
  try {
    await page.goto(`${server.baseUrl}/lessons/events`);
    const exercise = page.locator('section.exercise[data-exercise-id="first-event"]');
    await exercise.locator('[data-testid="check-button"]').click();
    await exercise.locator('[data-testid="check-result"][data-status="fail"]').waitFor({ timeout: 15_000 });
    const first = exercise.locator('[data-check-index="0"]');
    assert.match(await first.innerText(), /Failed: topic first-events does not exist/);
  } finally {
    await page.close();
    await server.stop();
  }
});

test("phone, touch only (390 × 844): solve an exercise with records using Add line, no Shift+Enter", { timeout: 90_000 }, async () => {
  const server = await startServer();
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  try {
    await page.goto(`${server.baseUrl}/lessons/events`);
    const exercise = page.locator('section.exercise[data-exercise-id="first-event"]');
    const input = exercise.locator('[data-testid="console-input"]');
    const output = exercise.locator('[data-testid="console-output"]');
    const run = exercise.locator(".console-run");
    const addLine = exercise.locator('[data-testid="console-add-line"]');

    // Main actions are at least 44 px tall on a phone.
    for (const button of [run, addLine, exercise.locator('[data-testid="check-button"]')]) {
      const box = await button.boundingBox();
      assert.ok(box.height >= 44, `${await button.innerText()} is ${box.height}px tall`);
    }

    await input.tap();
    await page.keyboard.insertText(TOPIC);
    await run.tap();
    await output.filter({ hasText: "Created topic first-events." }).waitFor();

    // The lesson's own producer block, pasted by its copy button, then a record line added by tapping.
    const block = page.locator(".lesson-body pre.code", { hasText: "kafka-console-producer.sh" }).first();
    await block.locator(".copy-button", { hasText: "Copy to console" }).tap();
    // The click handler waits for the clipboard first: wait for its announcement.
    await page.locator('[data-testid="copy-status"]', { hasText: "Copied, and pasted into the console." }).waitFor({ state: "attached" });
    assert.match(await input.inputValue(), /^kafka-console-producer\.sh/);
    await input.tap();
    await page.evaluate(() => {
      const el = document.querySelector('[data-exercise-id="first-event"] [data-testid="console-input"]');
      el.setSelectionRange(el.value.length, el.value.length);
    });
    await addLine.tap();
    await page.keyboard.insertText(RECORD);
    assert.equal((await input.inputValue()).split("\n").at(-1), RECORD);
    await run.tap();
    await output.locator(".console-echo", { hasText: RECORD }).waitFor();
    // The producer's answer (its second result, after the topic's): the record is acknowledged by
    // the in-sync replicas before Check asks for it.
    await output.locator(".console-result").nth(1).waitFor({ state: "attached" });

    await exercise.locator('[data-testid="check-button"]').tap();
    await exercise.locator('[data-testid="check-result"][data-status="pass"]').waitFor({ timeout: 15_000 });
  } finally {
    await context.close();
    await server.stop();
  }
});
