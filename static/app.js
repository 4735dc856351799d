// Streamlab page script. Pages work without it; it only adds conveniences.

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
