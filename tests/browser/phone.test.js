// Phones: at 320 CSS px no page scrolls sideways (WCAG 1.4.10 reflow), code blocks keep their
// copy button off the code, and at 390 px every control is a touch target of at least 24 px.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, startServer } from "./server.js";

let browser;
let server;
let slugs;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/`);
  slugs = await page.locator('[data-testid="lesson-item"]').evaluateAll((items) => items.map((item) => item.dataset.slug));
  await page.close();
  assert.ok(slugs.length >= 6, `the course lists its lessons (${slugs})`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function phone(width, height = 800) {
  const context = await browser.newContext({ viewport: { width, height }, isMobile: true, hasTouch: true, reducedMotion: "reduce" });
  return { context, page: await context.newPage() };
}

/** The widest thing on the page, if it is wider than the viewport (else null). */
const overflow = (page) =>
  page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width) return null;
    // Name the culprit: the deepest element whose right edge passes the viewport.
    let culprit = null;
    for (const el of document.querySelectorAll("body *")) {
      const box = el.getBoundingClientRect();
      if (box.right > width + 0.5 && box.width > 0)
        culprit = `${el.tagName.toLowerCase()}.${el.className} "${el.textContent.slice(0, 40)}" right=${Math.round(box.right)}`;
    }
    return `scrollWidth ${document.documentElement.scrollWidth} > ${width}: ${culprit}`;
  });

test("320 px: no lesson, nor the course map or the simulator, scrolls sideways (hints open, simulators loaded)", {
  timeout: 180_000,
}, async () => {
  const { context, page } = await phone(320);
  try {
    for (const path of ["/", "/simulator", ...slugs.map((slug) => `/lessons/${slug}`)]) {
      await page.goto(`${server.baseUrl}${path}`);
      for (const details of await page.locator("details").all()) await details.evaluate((el) => el.setAttribute("open", ""));
      for (const app of await page.locator(".simulator-app").all()) {
        await app.scrollIntoViewIfNeeded();
        await app.locator('[data-testid="sim-time"]').waitFor({ timeout: 20_000 });
      }
      assert.equal(await overflow(page), null, `${path} scrolls sideways at 320 px`);
    }
  } finally {
    await context.close();
  }
});

test("390 px: copy buttons sit above the code, and touch targets are at least 24 px", { timeout: 120_000 }, async () => {
  const { context, page } = await phone(390, 844);
  try {
    for (const path of ["/", "/lessons/events", "/lessons/topics-and-partitions", "/simulator"]) {
      await page.goto(`${server.baseUrl}${path}`);
      for (const app of await page.locator(".simulator-app").all()) {
        await app.scrollIntoViewIfNeeded();
        await app.locator('[data-testid="sim-time"]').waitFor({ timeout: 20_000 });
      }
      const covered = await page.locator(".lesson-body pre.code.has-copy-button").evaluateAll((blocks) =>
        blocks
          .filter((block) => {
            const button = block.querySelector(".copy-button").getBoundingClientRect();
            const code = block.querySelector("code").getBoundingClientRect();
            return button.bottom > code.top + 1;
          })
          .map((block) => block.textContent.slice(0, 40)),
      );
      assert.deepEqual(covered, [], `${path}: copy buttons over the first line of code`);

      const small = await page.evaluate(() =>
        [...document.querySelectorAll("button, select, input, summary, .site-nav a, .lesson-nav a, .button")]
          .filter((el) => el.getClientRects().length > 0 && !el.closest(".visually-hidden, [hidden]"))
          .map((el) => [el, el.getBoundingClientRect()])
          .filter(([, box]) => box.width < 24 || box.height < 24)
          .map(
            ([el, box]) =>
              `${el.tagName.toLowerCase()} "${(el.textContent || el.name || el.type).trim().slice(0, 30)}" ${Math.round(box.width)}×${Math.round(box.height)}`,
          ),
      );
      assert.deepEqual(small, [], `${path}: touch targets under 24 px`);
    }
  } finally {
    await context.close();
  }
});
