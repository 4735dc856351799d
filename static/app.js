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
