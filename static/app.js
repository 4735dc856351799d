// Streamlab page script. Pages read fine without it; it adds live reload for authors and the
// exercise Check button.

import { h } from "./dom.js";

// --dev live reload: the server sends a `reload` event on /dev/reload whenever a lesson file
// changes. The scroll position survives the reload so an author keeps their place.
const reloadUrl = document.body.dataset.devReload;
if (reloadUrl) {
  const key = `streamlab-scroll:${location.pathname}`;
  const saved = sessionStorage.getItem(key);
  if (saved !== null) {
    sessionStorage.removeItem(key);
    window.scrollTo(0, Number(saved));
  }
  const events = new EventSource(reloadUrl);
  events.addEventListener("reload", () => {
    sessionStorage.setItem(key, String(window.scrollY));
    location.reload();
  });
}

// Exercise checks: the broker is asked through POST /api/exercises/{id}/check, and each check of
// the task list is marked passed or failed, in words, with what was found. The button stays
// focusable while it works (aria-disabled, not disabled: a disabled button drops focus to <body>).
for (const button of document.querySelectorAll('[data-testid="check-button"]')) {
  const exercise = button.closest(".exercise");
  const result = exercise.querySelector('[data-testid="check-result"]');
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-disabled", "true");
    result.hidden = false;
    result.dataset.status = "running";
    result.textContent = "Checking…";
    try {
      const response = await fetch(`/api/exercises/${encodeURIComponent(button.dataset.exerciseId)}/check`, {
        method: "POST",
        headers: { Accept: "application/json" },
      });
      const body = await response.json();
      if (!response.ok) {
        result.dataset.status = "error";
        result.textContent = body.error || `The check failed (${response.status}).`;
        return;
      }
      body.checks.forEach((check, index) => {
        const item = exercise.querySelector(`[data-check-index="${index}"]`);
        if (!item) return;
        item.dataset.status = check.passed ? "pass" : "fail";
        let outcome = item.querySelector(".check-outcome");
        if (!outcome) {
          outcome = h(
            "span",
            { class: "check-outcome" },
            h("strong", { class: "check-verdict" }),
            " ",
            h("span", { class: "check-message" }),
          );
          item.append(" ", outcome);
        }
        const verdict = check.passed ? "Passed" : "Failed";
        outcome.querySelector(".check-verdict").textContent = check.message ? `${verdict}:` : verdict;
        outcome.querySelector(".check-message").textContent = check.message || "";
      });
      const failed = body.checks.filter((check) => !check.passed).length;
      result.dataset.status = body.passed ? "pass" : "fail";
      result.textContent = body.passed ? "All checks pass. Well done!" : `${failed} of ${body.checks.length} checks still fail.`;
    } catch (error) {
      result.dataset.status = "error";
      result.textContent = `Could not reach Streamlab: ${error.message}`;
    } finally {
      button.removeAttribute("aria-disabled");
    }
  });
}

// The in-page console: Enter runs the command, Shift+Enter (or the "Add line" button, for
// phones) adds a line for producer records, ArrowUp/ArrowDown walk the history. Commands go to
// POST /api/console; the output is what the real Kafka tools print.
//
// The transcript grows by appending (never by rewriting the text), and is not a live region:
// only the latest result is announced, through a separate visually hidden status. The output
// can be focused to scroll it by keyboard.
const HISTORY_KEY = "streamlab-console-history";
const ANNOUNCE_CHARS = 600;
const PRODUCER = /^\s*kafka-console-producer(\.sh)?\s/;
const NO_RECORDS =
  "No records sent. The page console has no > prompt: put each record on its own line after the producer command " +
  "(Shift+Enter or the Add line button starts a line), then run them together.\n";
const history = JSON.parse(sessionStorage.getItem(HISTORY_KEY) || "[]");
for (const consoleBox of document.querySelectorAll("[data-console]")) {
  const form = consoleBox.querySelector("form");
  const input = consoleBox.querySelector('[data-testid="console-input"]');
  const output = consoleBox.querySelector('[data-testid="console-output"]');
  const runButton = form.querySelector(".console-run");
  const announcer = h("p", { class: "visually-hidden", role: "status", "data-testid": "console-announcer" });
  output.after(announcer);
  const hint = h(
    "p",
    { class: "console-hint", id: `${input.id}-hint`, "data-testid": "console-hint" },
    h("kbd", { text: "Enter" }),
    " runs · ",
    h("kbd", { text: "Shift+Enter" }),
    " or Add line: a new line (producer records go on the lines after the command) · ",
    h("kbd", { text: "↑" }),
    h("kbd", { text: "↓" }),
    " history",
  );
  form.after(hint);
  input.setAttribute("aria-describedby", hint.id);
  input.placeholder = "kafka-topics.sh --list …";

  let position = history.length;
  const grow = () => {
    input.rows = Math.min(12, Math.max(1, input.value.split("\n").length));
  };
  const addLine = h(
    "button",
    { type: "button", class: "button button-quiet console-add-line", "data-testid": "console-add-line" },
    "Add line",
  );
  // The input keeps focus (and a phone its keyboard): the button never takes it.
  addLine.addEventListener("mousedown", (event) => event.preventDefault());
  addLine.addEventListener("click", () => {
    const { selectionStart: start, selectionEnd: end } = input;
    input.setRangeText("\n", start, end, "end");
    grow();
    input.focus();
  });
  runButton.before(addLine);

  const append = (className, text) => {
    output.append(h("span", { class: className, text }));
    output.scrollTop = output.scrollHeight;
  };
  const announce = (text) => {
    const trimmed = text.trim();
    announcer.textContent =
      trimmed.length > ANNOUNCE_CHARS ? `${trimmed.slice(0, ANNOUNCE_CHARS)}… (more in the console output)` : trimmed || "Done, no output.";
  };
  // Commands run one after another, as in a terminal: one typed while another still runs waits
  // for it (a consumer started right after a producer sees the records it produced).
  let running = Promise.resolve();
  const run = () => {
    const script = input.value.trim();
    if (!script) return;
    history.push(script);
    sessionStorage.setItem(HISTORY_KEY, JSON.stringify(history.slice(-100)));
    position = history.length;
    input.value = "";
    grow();
    running = running.catch(() => {}).then(() => execute(script));
  };
  const execute = async (script) => {
    append("console-echo", `$ ${script.replace(/\n/g, "\n> ")}\n`);
    let text;
    try {
      const response = await fetch("/api/console", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ script }),
      });
      const body = await response.json();
      text = response.ok ? body.output : `${body.error}\n`;
      const lines = script.split("\n");
      // A producer with nothing after it (a continued `\` line is still the command).
      const records = lines.slice(1).filter((line, i) => !lines[i].trimEnd().endsWith("\\") && line.trim() !== "");
      if (response.ok && PRODUCER.test(lines[0]) && records.length === 0) text += NO_RECORDS;
    } catch (error) {
      text = `Could not reach Streamlab: ${error.message}\n`;
    }
    append("console-result", text);
    announce(text);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  input.addEventListener("input", grow);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      run();
    } else if (event.key === "ArrowUp" && input.selectionStart === 0 && position > 0) {
      event.preventDefault();
      position -= 1;
      input.value = history[position];
      grow();
    } else if (event.key === "ArrowDown" && input.selectionEnd === input.value.length && position < history.length) {
      event.preventDefault();
      position += 1;
      input.value = history[position] ?? "";
      grow();
    }
  });
}

// "Check yourself" task lists: the server renders each box disabled inside a label with its
// text. Here they become usable, and are remembered in this browser.
document.querySelectorAll('.lesson-body label.task-label > input[type="checkbox"]').forEach((box, index) => {
  const key = `streamlab-task:${location.pathname}:${index}`;
  box.disabled = false;
  if (localStorage.getItem(key) !== null) box.checked = localStorage.getItem(key) === "1";
  box.addEventListener("change", () => localStorage.setItem(key, box.checked ? "1" : "0"));
});

// The site navigation marks the page it is on.
for (const link of document.querySelectorAll(".site-nav a")) {
  if (link.getAttribute("href") === location.pathname) link.setAttribute("aria-current", "page");
}

// One visually hidden status for the copy buttons: a changed button label is not announced.
let copyStatusElement = null;
const copyStatus = () => {
  copyStatusElement ??= document.body.appendChild(h("p", { class: "visually-hidden", role: "status", "data-testid": "copy-status" }));
  return copyStatusElement;
};

// Copy buttons on the lesson's code blocks. On a page with consoles, the command is also pasted
// into the console it belongs to, ready to run: the one of the exercise holding the block, else
// the next console below it, else the last one above it. Only shell blocks are commands; sample
// output (```text) and code in other languages are copied, not pasted.
const SHELL_LANGUAGES = new Set(["", "bash", "sh", "shell", "console"]);
const isCommand = (block) => {
  const language = [...(block.querySelector("code")?.classList ?? [])].find((c) => c.startsWith("language-"));
  return SHELL_LANGUAGES.has(language ? language.slice("language-".length) : "");
};
const consoleInputs = [...document.querySelectorAll('[data-testid="console-input"]')];
const consoleFor = (block) => {
  const own = block.closest("section.exercise")?.querySelector('[data-testid="console-input"]');
  if (own) return own;
  const below = consoleInputs.find((input) => block.compareDocumentPosition(input) & Node.DOCUMENT_POSITION_FOLLOWING);
  return below ?? consoleInputs[consoleInputs.length - 1] ?? null;
};
for (const block of document.querySelectorAll(".lesson-body pre.code")) {
  const target = isCommand(block) ? consoleFor(block) : null;
  const label = target ? "Copy to console" : "Copy";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy-button";
  button.textContent = label;
  button.addEventListener("click", async () => {
    // The code element only: the button itself sits inside the <pre>.
    const text = (block.querySelector("code") ?? block).textContent.trim();
    // Paste first: the clipboard may take a while to answer (or ask for permission).
    if (target) {
      target.value = text;
      target.dispatchEvent(new Event("input"));
      target.focus();
    }
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard access can be refused (no HTTPS, permissions); pasting into the console still works.
    }
    button.textContent = "Copied";
    copyStatus().textContent = target ? "Copied, and pasted into the console." : "Copied.";
    setTimeout(() => {
      button.textContent = label;
    }, 1500);
  });
  block.classList.add("has-copy-button");
  block.append(button);
}
