// End-to-end tests of the course map, a lesson page, progress tracking and dev live reload,
// against a real `streamlab serve` in Debian's Chromium.

import assert from "node:assert/strict";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { copyLessons, REPO_ROOT, startServer, withServerAndBrowser } from "./server.js";

const PROGRESS_STATES = ["not-started", "visited", "completed"];
const SLUG = "events";

let browser;
let server;
withServerAndBrowser((started) => ({ server, browser } = started));

/**
 * The file of a lesson in a lessons dir: the one whose front matter says `slug = "<slug>"`, or
 * else the one named NN-<slug>.md (the slug defaults to the file name without its number).
 */
async function lessonFile(dir, slug) {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".md")).sort();
  const slugLine = new RegExp(`^slug\\s*=\\s*"${slug}"\\s*$`, "m");
  const matches = [];
  for (const name of names) {
    const text = await readFile(path.join(dir, name), "utf8");
    const declared = text.match(/^slug\s*=\s*"(.*)"\s*$/m);
    if (declared ? slugLine.test(text) : name.replace(/^\d+-/, "") === `${slug}.md`) matches.push(name);
  }
  assert.equal(matches.length, 1, `expected one lesson file for "${slug}" in ${dir}, found ${JSON.stringify(matches)}`);
  return path.join(dir, matches[0]);
}

/** The `title = "..."` of a lesson's front matter. */
async function lessonTitle(slug) {
  const text = await readFile(await lessonFile(path.join(REPO_ROOT, "lessons"), slug), "utf8");
  const m = text.match(/^title\s*=\s*"((?:[^"\\]|\\.)*)"\s*$/m);
  assert.ok(m, `no title = "..." line in the "${slug}" lesson`);
  return JSON.parse(`"${m[1]}"`);
}

/** [{ slug, progress }] of the course map's lesson items, in page order. */
async function lessonItems(page) {
  return page
    .locator('li[data-testid="lesson-item"]')
    .evaluateAll((els) => els.map((el) => ({ slug: el.getAttribute("data-slug"), progress: el.getAttribute("data-progress") })));
}

async function progressOf(page, slug) {
  const items = await lessonItems(page);
  const item = items.find((i) => i.slug === slug);
  assert.ok(item, `no lesson item with data-slug="${slug}" on the course map; items: ${JSON.stringify(items)}`);
  return item.progress;
}

async function gotoOk(page, url) {
  const res = await page.goto(url);
  assert.ok(res, `no response for ${url}`);
  assert.equal(res.status(), 200, `GET ${url} answered ${res.status()}`);
  return res;
}

/** The checks every rendering of a lesson page must pass (with or without JavaScript). */
async function assertLessonPage(page, title) {
  const article = page.locator('article[data-testid="lesson"]');
  assert.equal(await article.count(), 1, 'the lesson page has one article[data-testid="lesson"]');
  assert.ok((await article.innerText()).trim().length > 0, "the lesson article has content");

  const h1 = page.locator("h1");
  assert.ok((await h1.count()) >= 1, "the lesson page has an h1");
  assert.equal((await h1.first().innerText()).trim(), title, "the h1 is the lesson title");

  const outline = page.locator('nav[data-testid="outline"]');
  assert.equal(await outline.count(), 1, 'the lesson page has one nav[data-testid="outline"]');
  const hrefs = await outline.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  assert.ok(hrefs.length > 0, "the outline has links");
  // In-page outline links must point at headings that exist.
  for (const href of hrefs) {
    assert.ok(href, "every outline link has an href");
    if (href.startsWith("#")) {
      const id = decodeURIComponent(href.slice(1));
      const found = await page.evaluate((i) => document.getElementById(i) !== null, id);
      assert.ok(found, `outline link ${href} points at an element id that exists on the page`);
    }
  }
}

test("course map tracks not-started → visited → completed", { timeout: 60_000 }, async (t) => {
  const title = await lessonTitle(SLUG);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();

    // Course map, fresh learner: every lesson not started.
    await gotoOk(page, `${server.baseUrl}/`);
    const items = await lessonItems(page);
    assert.ok(items.length > 0, "the course map lists lessons");
    for (const item of items) {
      assert.ok(item.slug, `every lesson item has a data-slug: ${JSON.stringify(items)}`);
      assert.ok(
        PROGRESS_STATES.includes(item.progress),
        `data-progress of "${item.slug}" is one of ${PROGRESS_STATES}: got ${JSON.stringify(item.progress)}`,
      );
      assert.equal(item.progress, "not-started", `a new learner has not started "${item.slug}"`);
    }
    assert.equal(new Set(items.map((i) => i.slug)).size, items.length, "lesson slugs are unique");
    const total = items.length;
    t.diagnostic(`${total} lessons on the course map: ${items.map((i) => i.slug).join(", ")}`);
    const progressText = page.locator('[data-testid="course-progress"]');
    assert.match(await progressText.innerText(), new RegExp(`\\b0 of ${total}\\b`), "course progress starts at 0");

    // Open the lesson from the course map.
    const link = page.locator(`li[data-testid="lesson-item"][data-slug="${SLUG}"] a[data-testid="lesson-link"]`);
    assert.equal(await link.count(), 1, `the "${SLUG}" item has one a[data-testid="lesson-link"]`);
    await link.click();
    await page.waitForURL((u) => u.pathname === `/lessons/${SLUG}`);
    await assertLessonPage(page, title);
    assert.equal(await page.locator('a[data-testid="lesson-next"]').count(), 1, 'the lesson has a "next" link');

    // Back on the course map the lesson is visited.
    await gotoOk(page, `${server.baseUrl}/`);
    assert.equal(await progressOf(page, SLUG), "visited", "opening a lesson marks it visited");
    assert.match(await progressText.innerText(), new RegExp(`\\b0 of ${total}\\b`), "visiting completes nothing");

    // Complete it with the plain HTML form.
    await gotoOk(page, `${server.baseUrl}/lessons/${SLUG}`);
    const button = page.locator('button[data-testid="complete-button"]');
    assert.equal(await button.count(), 1, 'the lesson has a button[data-testid="complete-button"]');
    const form = await button.evaluate((b) => ({
      method: (b.form?.getAttribute("method") || "").toLowerCase(),
      action: b.form ? new URL(b.form.action, location.href).pathname : null,
    }));
    assert.deepEqual(
      form,
      { method: "post", action: `/lessons/${SLUG}/complete` },
      "the complete button submits a plain form POST to /lessons/<slug>/complete",
    );
    const postResponse = page.waitForResponse(
      (r) => new URL(r.url()).pathname === `/lessons/${SLUG}/complete` && r.request().method() === "POST",
    );
    await button.click();
    const post = await postResponse;
    assert.ok([302, 303].includes(post.status()), `the POST redirects (302/303), got ${post.status()}`);
    await page.waitForURL((u) => u.pathname === `/lessons/${SLUG}`, { waitUntil: "load" });
    await assertLessonPage(page, title);

    // Course map: completed, and the course counts it.
    await gotoOk(page, `${server.baseUrl}/`);
    assert.equal(await progressOf(page, SLUG), "completed", "the lesson is completed");
    assert.match(await progressText.innerText(), new RegExp(`\\b1 of ${total}\\b`), `course progress reads "1 of ${total}"`);
    for (const item of await lessonItems(page)) {
      if (item.slug !== SLUG) assert.equal(item.progress, "not-started", `"${item.slug}" is untouched`);
    }
  } finally {
    await context.close();
  }
});

test("an unknown page answers 404 with a not-found page", { timeout: 30_000 }, async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const res = await page.goto(`${server.baseUrl}/no-such-page`);
    assert.ok(res, "a response");
    assert.equal(res.status(), 404);
    const notFound = page.locator('[data-testid="not-found"]');
    assert.equal(await notFound.count(), 1, 'the 404 page shows [data-testid="not-found"]');
    assert.ok(await notFound.isVisible(), "the not-found element is visible");
  } finally {
    await context.close();
  }
});

test("the lesson page renders without JavaScript", { timeout: 30_000 }, async () => {
  const title = await lessonTitle(SLUG);
  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await gotoOk(page, `${server.baseUrl}/lessons/${SLUG}`);
    await assertLessonPage(page, title);
    // The server's own markup is accessible, not only what the scripts make of it: headings are
    // named by their text, each "Check yourself" box by its label, and the console output is a
    // named region, not a live region that would re-announce the transcript.
    const heading = page.locator(".lesson-body h2").first();
    assert.equal(await heading.locator("a.anchor").getAttribute("aria-hidden"), "true");
    assert.doesNotMatch((await page.getByRole("heading", { level: 2 }).allTextContents()).join("|"), /Link to this section/);
    const boxes = page.locator(".lesson-body label.task-label > input[type=checkbox]");
    assert.ok((await boxes.count()) >= 1, "the lesson has a Check yourself list");
    assert.equal(await page.locator(".lesson-body input[type=checkbox]").count(), await boxes.count(), "every box is labelled");
    const output = page.locator('[data-testid="console-output"]').first();
    assert.equal(await output.getAttribute("aria-live"), null);
    assert.equal(await output.getAttribute("role"), "region");
    assert.match(await output.getAttribute("aria-label"), /^Console output: ./);
  } finally {
    await context.close();
  }
});

test("dev mode reloads an open lesson when its file changes", { timeout: 60_000 }, async (t) => {
  const lessonsDir = await copyLessons();
  let dev;
  const context = await browser.newContext();
  try {
    dev = await startServer({ extraArgs: ["--dev", "--lessons", lessonsDir] });
    const page = await context.newPage();

    // The page must have its live-reload stream open before we touch the file.
    const reloadStream = page.waitForResponse((r) => new URL(r.url()).pathname === "/dev/reload", {
      timeout: 10_000,
    });
    await gotoOk(page, `${dev.baseUrl}/lessons/${SLUG}`);
    const stream = await reloadStream.catch(() => null);
    assert.ok(stream, "the lesson page in --dev mode opens an EventSource on /dev/reload");
    assert.equal(stream.status(), 200, "/dev/reload answers 200");
    assert.match(stream.headers()["content-type"] || "", /text\/event-stream/, "/dev/reload is an event stream");

    const file = await lessonFile(lessonsDir, SLUG);
    const source = await readFile(file, "utf8");
    assert.match(source, /^title\s*=\s*".*"\s*$/m, "the lesson has a title line");
    const changed = source.replace(/^title\s*=\s*".*"\s*$/m, 'title = "Reloaded title"');

    let navigations = 0;
    page.on("framenavigated", (f) => {
      if (f === page.mainFrame()) navigations += 1;
    });
    const t0 = Date.now();
    await writeFile(file, changed);

    // Poll the h1 (the page reloads itself; we never navigate).
    let text = null;
    while (Date.now() - t0 < 1500) {
      try {
        text = (await page.locator("h1").first().innerText({ timeout: 200 })).trim();
      } catch {
        text = null; // mid-reload
      }
      if (text === "Reloaded title") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const elapsed = Date.now() - t0;
    assert.equal(
      text,
      "Reloaded title",
      `within 1500 ms of the edit the h1 reads "Reloaded title" (after ${elapsed} ms: ${JSON.stringify(text)}, ` +
        `${navigations} self-navigation(s))\n--- dev server output ---\n${dev.output()}`,
    );
    t.diagnostic(`h1 updated ${elapsed} ms after the edit, ${navigations} self-navigation(s)`);
  } finally {
    await context.close();
    await dev?.stop();
    await rm(lessonsDir, { recursive: true, force: true });
  }
});
