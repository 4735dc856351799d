// Streamlab page script. Pages read fine without it; it adds live reload for authors and the
// exercise Check button.

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
// the task list is marked passed or failed with what was found.
for (const button of document.querySelectorAll('[data-testid="check-button"]')) {
  const exercise = button.closest(".exercise");
  const result = exercise.querySelector('[data-testid="check-result"]');
  button.addEventListener("click", async () => {
    button.disabled = true;
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
        let message = item.querySelector(".check-message");
        if (!message) {
          message = document.createElement("span");
          message.className = "check-message";
          item.append(message);
        }
        message.textContent = check.message;
      });
      const failed = body.checks.filter((check) => !check.passed).length;
      result.dataset.status = body.passed ? "pass" : "fail";
      result.textContent = body.passed
        ? "All checks pass. Well done!"
        : `${failed} of ${body.checks.length} checks still fail.`;
    } catch (error) {
      result.dataset.status = "error";
      result.textContent = `Could not reach Streamlab: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  });
}

// The in-page console: Enter runs the command (Shift+Enter adds a line, for producer input),
// ArrowUp/ArrowDown walk the history. Commands go to POST /api/console; the output is what the
// real Kafka tools print.
const history = JSON.parse(sessionStorage.getItem("streamlab-console-history") || "[]");
for (const consoleBox of document.querySelectorAll("[data-console]")) {
  const form = consoleBox.querySelector("form");
  const input = consoleBox.querySelector('[data-testid="console-input"]');
  const output = consoleBox.querySelector('[data-testid="console-output"]');
  let position = history.length;
  const grow = () => {
    input.rows = Math.min(12, Math.max(1, input.value.split("\n").length));
  };
  const run = async () => {
    const script = input.value.trim();
    if (!script) return;
    history.push(script);
    sessionStorage.setItem("streamlab-console-history", JSON.stringify(history.slice(-100)));
    position = history.length;
    input.value = "";
    grow();
    output.textContent += `$ ${script.replace(/\n/g, "\n> ")}\n`;
    try {
      const response = await fetch("/api/console", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ script }),
      });
      const body = await response.json();
      output.textContent += response.ok ? body.output : `${body.error}\n`;
    } catch (error) {
      output.textContent += `Could not reach Streamlab: ${error.message}\n`;
    }
    output.scrollTop = output.scrollHeight;
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
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard access can be refused (no HTTPS, permissions); pasting into the console still works.
    }
    if (target) {
      target.value = text;
      target.dispatchEvent(new Event("input"));
      target.focus();
    }
    button.textContent = "Copied";
    setTimeout(() => {
      button.textContent = label;
    }, 1500);
  });
  block.classList.add("has-copy-button");
  block.append(button);
}
