// The lesson page's live view: the cluster's nodes (with stop and start buttons for the embedded
// cluster), topics with their leaders, replicas and offsets, consumer groups with members, lag and
// a lag chart, and a record browser. The server renders an empty panel; this module fills it.
//
// Snapshots arrive as `snapshot` server-sent events on /api/live (one shared poller on the
// server asks the broker about once a second and sends a snapshot when something changed; see
// server/src/live.rs). EventSource reconnects by itself, after the 2 s the server asks for.
// Records are read on demand: GET /api/topics/{topic}/partitions/{partition}/records. Nodes are
// stopped and started with POST /api/cluster/{brokers|controllers}/{id}/{stop|start}.
//
// Updates only touch text and rows that changed: they never move focus, and the record browser
// keeps the learner's topic, partition, offset and format.

import { h as el, setText, svg as svgNode } from "./dom.js";

const CHART_WINDOW_MS = 120_000;
const CHART_WIDTH = 240;
const CHART_HEIGHT = 40;
const PAGE_SIZE = 20;

const panel = document.querySelector('[data-testid="live-view"]');
if (panel) start(panel);

function start(panel) {
  const $ = (testid) => panel.querySelector(`[data-testid="${testid}"]`);
  const view = {
    status: $("live-status"),
    clusterSummary: $("live-cluster-summary"),
    brokers: $("live-brokers"),
    controllers: $("live-controllers"),
    clusterMessage: $("live-cluster-message"),
    updated: $("live-updated"),
    error: $("live-error"),
    topics: $("live-topics"),
    topicsEmpty: $("live-topics-empty"),
    groups: $("live-groups"),
    groupsEmpty: $("live-groups-empty"),
  };
  panel.querySelector(".live-body").hidden = false;

  let snapshot = null;
  // When the current snapshot arrived here, and how far the server's clock is from ours (for
  // the lag chart, whose samples carry the server's time).
  let receivedAt = 0;
  let skewMs = 0;
  const browser = recordBrowser($("record-browser"), () => snapshot);
  view.act = nodeActions(view, () => snapshot);

  const setStatus = (text, state) => {
    if (view.status.textContent !== text) view.status.textContent = text;
    panel.dataset.state = state;
  };
  setStatus("Connecting…", "connecting");

  const events = new EventSource(panel.dataset.liveUrl);
  events.addEventListener("open", () => setStatus("Live", "live"));
  events.addEventListener("error", () => {
    if (events.readyState === EventSource.CLOSED) {
      setStatus("Disconnected: reload the page to try again.", "closed");
    } else {
      setStatus("Reconnecting…", "reconnecting");
    }
  });
  events.addEventListener("snapshot", (event) => {
    const next = JSON.parse(event.data);
    const now = Date.now();
    skewMs = now - next.taken_at_ms;
    // The first snapshot may be older than this page; later ones are new when they arrive.
    receivedAt = snapshot ? now : Math.min(now, next.taken_at_ms);
    snapshot = next;
    setStatus("Live", "live");
    render(view, snapshot, now - skewMs);
    browser.update();
    tick();
  });

  const tick = () => {
    if (!snapshot) return;
    const seconds = Math.max(0, Math.round((Date.now() - receivedAt) / 1000));
    const text = `· last change ${seconds} s ago`;
    if (view.updated.textContent !== text) view.updated.textContent = text;
    // The charts slide with time even when nothing changes.
    for (const group of snapshot.groups) {
      const chart = view.groups.querySelector(`[data-group="${CSS.escape(group.group)}"] [data-testid="lag-chart"]`);
      if (chart) drawChart(chart, group, Date.now() - skewMs);
    }
  };
  setInterval(tick, 1000);
}

function render(view, snapshot, serverNow) {
  view.error.hidden = !snapshot.error;
  view.error.textContent = snapshot.error || "";
  renderCluster(view, snapshot);
  renderTopics(view, snapshot);
  renderGroups(view, snapshot, serverNow);
}

const show = (value) => (value === null || value === undefined ? "–" : String(value));

// Puts `rows` (each with a unique `dataset.key`) into `container` in order, reusing the elements
// already there so nothing flickers, and removes the rest.
function reconcile(container, rows) {
  const wanted = new Set(rows.map((row) => row.dataset.key));
  for (const child of [...container.children]) {
    if (!wanted.has(child.dataset.key)) child.remove();
  }
  rows.forEach((row, index) => {
    if (container.children[index] !== row) container.insertBefore(row, container.children[index] || null);
  });
}

function renderTopics(view, snapshot) {
  const existing = new Map([...view.topics.children].map((row) => [row.dataset.key, row]));
  const rows = [];
  for (const topic of snapshot.topics) {
    topic.partitions.forEach((partition, index) => {
      const key = `p\u0000${topic.name}\u0000${partition.partition}`;
      let row = existing.get(key);
      if (!row) {
        row = el(
          "tr",
          { "data-testid": "live-topic", "data-topic": topic.name, "data-partition": partition.partition, "data-key": key },
          el("th", { scope: "row" }, topic.name),
          el("td", { class: "num" }, String(partition.partition)),
          el("td", { class: "num", "data-field": "leader" }),
          el("td", { "data-field": "replicas" }),
          el("td", { "data-field": "isr" }),
          el("td", { "data-field": "elr" }),
          el("td", { class: "num", "data-field": "log-start" }),
          el("td", { class: "num", "data-field": "log-end" }),
          el("td", { class: "num", "data-field": "records" }),
        );
      }
      row.classList.toggle("live-topic-continued", index > 0);
      const end = row.querySelector('[data-field="log-end"]');
      const grew = end.textContent !== "" && Number(end.textContent) < partition.log_end_offset;
      renderReplicas(row, partition);
      setText(row.querySelector('[data-field="log-start"]'), show(partition.log_start_offset));
      setText(end, show(partition.log_end_offset));
      setText(row.querySelector('[data-field="records"]'), show(partition.records));
      if (grew) flash(end);
      rows.push(row);
    });
    if (topic.partitions_more > 0) {
      rows.push(moreRow(existing, `m\u0000${topic.name}`, 9, `${topic.name}: and ${topic.partitions_more} more partitions`));
    }
  }
  if (snapshot.topics_more > 0) {
    rows.push(moreRow(existing, "more-topics", 9, `and ${snapshot.topics_more} more topics`));
  }
  reconcile(view.topics, rows);
  view.topicsEmpty.hidden = snapshot.topics.length > 0;
}

// Leader, replicas, ISR and ELR of a partition row. Words, not only colour, say what is wrong: a
// partition without a leader is offline, replicas on brokers that are down are marked.
function renderReplicas(row, partition) {
  const ids = (list) => (list.length ? list.join(", ") : "–");
  const offline = partition.leader === null || partition.leader === undefined;
  const underReplicated = partition.isr.length < partition.replicas.length;
  setText(row.querySelector('[data-field="leader"]'), offline ? "none (offline)" : String(partition.leader));
  const down = partition.offline_replicas;
  const replicas = partition.replicas.map((id) => (down.includes(id) ? `${id} (down)` : String(id)));
  setText(row.querySelector('[data-field="replicas"]'), replicas.length ? replicas.join(", ") : "–");
  setText(row.querySelector('[data-field="isr"]'), underReplicated ? `${ids(partition.isr)} (under-replicated)` : ids(partition.isr));
  setText(row.querySelector('[data-field="elr"]'), ids(partition.elr || []));
  row.classList.toggle("live-offline", offline);
  row.classList.toggle("live-under-replicated", !offline && underReplicated);
}

const plural = (count, one, many) => `${count} ${count === 1 ? one : many}`;

// The cluster panel: a summary line, then each broker and controller with its state and, for the
// embedded cluster, a Stop or Start button. Items are kept across snapshots (keyed by node), so a
// button that has focus keeps it when its label changes from Stop to Start.
function renderCluster(view, snapshot) {
  const cluster = snapshot.cluster;
  if (!cluster) return;
  const parts = [];
  parts.push(
    cluster.quorum
      ? `Active controller: ${cluster.quorum.leader_id} (epoch ${cluster.quorum.leader_epoch})`
      : "No active controller: the quorum has no leader",
  );
  parts.push(plural(cluster.under_replicated_partitions, "under-replicated partition", "under-replicated partitions"));
  parts.push(plural(cluster.offline_partitions, "offline partition", "offline partitions"));
  setText(view.clusterSummary, `${parts.join(" · ")}.`);
  view.clusterSummary.classList.toggle("live-cluster-trouble", !cluster.quorum || cluster.offline_partitions > 0);
  renderNodes(view, view.brokers, "brokers", "Broker", cluster.brokers, cluster.controllable);
  renderNodes(view, view.controllers, "controllers", "Controller", cluster.controllers, cluster.controllable);
  if (!cluster.controllers.length) {
    reconcile(view.controllers, [el("li", { class: "live-more", "data-key": "unknown" }, "Not known for this cluster.")]);
  }
}

const STATE_TEXT = { up: "up", fenced: "fenced", stopped: "stopped", active: "active", standby: "standby" };

function renderNodes(view, list, kind, label, nodes, controllable) {
  const existing = new Map([...list.children].map((item) => [item.dataset.key, item]));
  const items = nodes.map((node) => {
    const key = `${kind}-${node.id}`;
    let item = existing.get(key);
    if (!item) {
      item = el(
        "li",
        { "data-testid": "live-node", "data-kind": kind, "data-id": node.id, "data-key": key },
        el("span", { class: "live-node-name" }, `${label} ${node.id}`),
        " ",
        el("span", { class: "live-node-state", "data-field": "state" }),
      );
      if (controllable) {
        const button = el("button", { type: "button", class: "button button-quiet live-node-action", "data-testid": "live-node-action" });
        button.addEventListener("click", () => view.act(kind, node.id, button));
        item.append(" ", button);
      }
    }
    const state = item.querySelector('[data-field="state"]');
    setText(state, STATE_TEXT[node.state] || node.state);
    state.dataset.state = node.state;
    item.dataset.state = node.state;
    const button = item.querySelector("button");
    if (button && !button.dataset.pending) {
      const action = node.state === "stopped" ? "Start" : "Stop";
      button.dataset.action = action.toLowerCase();
      if (button.firstChild?.textContent !== action) {
        button.replaceChildren(action, el("span", { class: "visually-hidden" }, ` ${label.toLowerCase()} ${node.id}`));
      }
    }
    return item;
  });
  reconcile(list, items);
}

// Stop or start a node. The answer is announced in the status line; the panel itself changes
// with the next snapshot (the server polls at once after a node changes).
function nodeActions(view, currentSnapshot) {
  return async (kind, id, button) => {
    if (button.dataset.pending) return;
    const action = button.dataset.action;
    const name = `${kind === "brokers" ? "Broker" : "Controller"} ${id}`;
    button.dataset.pending = "true";
    button.setAttribute("aria-disabled", "true");
    setText(view.clusterMessage, `${action === "stop" ? "Stopping" : "Starting"} ${name.toLowerCase()}…`);
    try {
      const response = await fetch(`/api/cluster/${kind}/${encodeURIComponent(id)}/${action}`, { method: "POST" });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        setText(
          view.clusterMessage,
          `${name} ${action === "stop" ? "stopped (as if its process was killed)" : "started: it recovers from its data and rejoins"}.`,
        );
      } else {
        setText(view.clusterMessage, `Could not ${action} ${name.toLowerCase()}: ${body.error || response.statusText}`);
      }
    } catch (error) {
      setText(view.clusterMessage, `Could not ${action} ${name.toLowerCase()}: ${error.message}`);
    } finally {
      delete button.dataset.pending;
      button.removeAttribute("aria-disabled");
      // A snapshot may have arrived while the request was out: label the button from it.
      if (currentSnapshot()) renderCluster(view, currentSnapshot());
    }
  };
}

function moreRow(existing, key, columns, text) {
  const row = existing.get(key) || el("tr", { class: "live-more", "data-key": key }, el("td", { colspan: columns }));
  setText(row.firstChild, text);
  return row;
}

function flash(cell) {
  cell.classList.remove("live-grew");
  // Restart the animation: reading layout in between makes the browser see two changes.
  void cell.offsetWidth;
  cell.classList.add("live-grew");
}

function renderGroups(view, snapshot, serverNow) {
  const existing = new Map([...view.groups.children].map((card) => [card.dataset.key, card]));
  const cards = snapshot.groups.map((group) => {
    const key = `g\u0000${group.group}`;
    let card = existing.get(key);
    // Everything but the history: the chart redraws on its own every second.
    const signature = JSON.stringify({ ...group, lag_history: null });
    if (!card || card.dataset.signature !== signature) {
      const fresh = groupCard(group, key);
      fresh.dataset.signature = signature;
      if (card) card.replaceWith(fresh);
      card = fresh;
    }
    drawChart(card.querySelector('[data-testid="lag-chart"]'), group, serverNow);
    return card;
  });
  if (snapshot.groups_more > 0) {
    const more = existing.get("more-groups") || el("p", { class: "live-more", "data-key": "more-groups" });
    setText(more, `and ${snapshot.groups_more} more groups`);
    cards.push(more);
  }
  reconcile(view.groups, cards);
  view.groupsEmpty.hidden = snapshot.groups.length > 0;
}

function groupCard(group, key) {
  const titleId = `live-group-${Math.random().toString(36).slice(2)}`;
  const members = group.members.length
    ? el(
        "ul",
        { class: "live-members" },
        ...group.members.map((member) =>
          el(
            "li",
            { "data-testid": "live-member" },
            el("code", {}, member.client_id || member.member_id),
            ` on ${member.host} `,
            el(
              "span",
              { class: "live-assignment" },
              member.assignment.length
                ? member.assignment.map((a) => `${a.topic} [${a.partitions.join(", ")}]`).join("; ")
                : "no partitions assigned",
            ),
          ),
        ),
        group.members_more > 0 ? el("li", { class: "live-more" }, `and ${group.members_more} more members`) : null,
      )
    : el("p", { class: "live-members-none" }, "No active members.");
  const memberName = (memberId) => {
    const member = group.members.find((m) => m.member_id === memberId);
    return member ? member.client_id || member.member_id : memberId;
  };
  const rows = group.partitions.map((p) =>
    el(
      "tr",
      { "data-testid": "live-group-partition", "data-topic": p.topic, "data-partition": p.partition },
      el("th", { scope: "row" }, p.topic),
      el("td", { class: "num" }, String(p.partition)),
      el("td", {}, p.member_id ? memberName(p.member_id) : "–"),
      el("td", { class: "num" }, show(p.committed_offset)),
      el("td", { class: "num" }, show(p.log_end_offset)),
      el("td", { class: "num", "data-field": "lag" }, show(p.lag)),
    ),
  );
  if (group.partitions_more > 0) {
    rows.push(el("tr", { class: "live-more" }, el("td", { colspan: 6 }, `and ${group.partitions_more} more partitions`)));
  }
  const table = rows.length
    ? el(
        "div",
        { class: "table-wrap" },
        el(
          "table",
          { class: "live-group-table", "aria-labelledby": titleId },
          el(
            "thead",
            {},
            el(
              "tr",
              {},
              ...["Topic", "Partition", "Member", "Committed offset", "Log end offset", "Lag"].map((h) => el("th", { scope: "col" }, h)),
            ),
          ),
          el("tbody", {}, ...rows),
        ),
      )
    : el("p", { class: "live-members-none" }, "No committed offsets yet.");
  const chart = svgNode("svg", {
    class: "lag-chart",
    "data-testid": "lag-chart",
    role: "img",
    viewBox: `0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`,
    preserveAspectRatio: "none",
  });
  return el(
    "article",
    { class: "live-group", "data-testid": "live-group", "data-group": group.group, "data-key": key },
    el(
      "div",
      { class: "live-group-header" },
      el("h4", { id: titleId }, group.group),
      el("span", { class: "live-group-state", "data-testid": "live-group-state", "data-state": group.state }, group.state),
      el("span", { class: "live-group-lag" }, "total lag ", el("strong", { "data-testid": "live-group-lag" }, String(group.total_lag))),
    ),
    el("figure", { class: "lag-figure" }, chart, el("figcaption", {}, "Total lag, last 2 minutes")),
    members,
    table,
  );
}

// A step chart of the group's total lag over the last two minutes. `lag_history` holds change
// points: the lag keeps its value until the next point, and after the last one until now.
function drawChart(svg, group, serverNow) {
  const start = serverNow - CHART_WINDOW_MS;
  const history = group.lag_history.length ? group.lag_history : [[serverNow, group.total_lag]];
  let points = history.filter(([at]) => at >= start);
  const before = history.filter(([at]) => at < start).pop();
  if (before) points.unshift([start, before[1]]);
  if (!points.length) points = [[start, group.total_lag]];
  const highest = Math.max(0, ...points.map(([, lag]) => lag));
  const max = Math.max(1, highest);
  const x = (at) => (((Math.min(at, serverNow) - start) / CHART_WINDOW_MS) * CHART_WIDTH).toFixed(1);
  // The highest lag reaches 80% of the height; zero lies on the bottom edge.
  const y = (lag) => (CHART_HEIGHT - 1 - (lag / max) * (CHART_HEIGHT * 0.8)).toFixed(1);
  let line = `M${x(points[0][0])} ${y(points[0][1])}`;
  for (const [at, lag] of points.slice(1)) line += ` H${x(at)} V${y(lag)}`;
  line += ` H${CHART_WIDTH}`;
  const area = `${line} V${CHART_HEIGHT} H${x(points[0][0])} Z`;
  let [fill, stroke] = svg.querySelectorAll("path");
  if (!stroke) {
    fill = svgNode("path", { class: "lag-area" });
    stroke = svgNode("path", { class: "lag-line", "vector-effect": "non-scaling-stroke" });
    svg.append(fill, stroke);
  }
  if (stroke.getAttribute("d") !== line) {
    stroke.setAttribute("d", line);
    fill.setAttribute("d", area);
  }
  const label = `Total lag of ${group.group} over the last 2 minutes: now ${group.total_lag}, highest ${highest}.`;
  if (svg.getAttribute("aria-label") !== label) svg.setAttribute("aria-label", label);
  svg.dataset.lag = String(group.total_lag);
}

// The record browser: pick a topic, a partition and a start offset; page through the records;
// show keys and values as text, pretty JSON or hex.
function recordBrowser(form, currentSnapshot) {
  const $ = (testid) => form.querySelector(`[data-testid="${testid}"]`);
  const topicSelect = $("record-topic");
  const partitionSelect = $("record-partition");
  const offsetInput = $("record-offset");
  const message = $("record-message");
  const rowsBody = $("record-rows");
  const prev = $("record-prev");
  const next = $("record-next");
  let page = null;
  let loading = 0;
  message.textContent = "Choose a topic and a partition, then Show.";

  const selected = () => ({ topic: topicSelect.value, partition: partitionSelect.value });
  const topicOf = (name) => currentSnapshot()?.topics.find((t) => t.name === name);
  const format = () => form.querySelector('input[name="format"]:checked')?.value || "text";

  // Replaces a select's options only when they differ, keeping its value (and an open list open).
  const setOptions = (select, values, placeholder) => {
    const current = select.value;
    const wanted = values.length ? values : [];
    const have = [...select.options].map((o) => o.value);
    if (have.join("\u0000") === wanted.join("\u0000") && (wanted.length || select.options.length)) return;
    select.replaceChildren(
      ...(wanted.length ? wanted.map((v) => el("option", { value: v }, v)) : [el("option", { value: "" }, placeholder)]),
    );
    if (wanted.includes(current)) select.value = current;
    select.disabled = !wanted.length;
  };

  const range = () => {
    const topic = topicOf(topicSelect.value);
    return topic?.partitions.find((p) => String(p.partition) === partitionSelect.value);
  };

  const updatePager = () => {
    const known = range();
    prev.disabled = !page || page.offset <= page.log_start_offset;
    const end = Math.max(page?.log_end_offset ?? 0, known?.log_end_offset ?? 0);
    next.disabled = !page || page.next_offset >= end;
  };

  const load = async (offset) => {
    const { topic, partition } = selected();
    if (!topic || partition === "") return;
    const ticket = ++loading;
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (offset !== null && offset !== undefined && offset !== "") query.set("offset", String(offset));
    message.textContent = "Loading…";
    try {
      const response = await fetch(
        `/api/topics/${encodeURIComponent(topic)}/partitions/${encodeURIComponent(partition)}/records?${query}`,
        { headers: { Accept: "application/json" } },
      );
      const body = await response.json();
      if (ticket !== loading) return;
      if (!response.ok) {
        message.textContent = body.error || `The records could not be read (${response.status}).`;
        return;
      }
      page = body;
      offsetInput.value = String(body.offset);
      renderRecords();
    } catch (error) {
      if (ticket === loading) message.textContent = `Could not reach Streamlab: ${error.message}`;
    }
  };

  const renderRecords = () => {
    updatePager();
    if (!page) return;
    const count = page.records.length;
    message.textContent = count
      ? `${page.topic}-${page.partition}: records ${page.records[0].offset} to ${page.records[count - 1].offset}; the partition holds offsets ${page.log_start_offset} to ${page.log_end_offset - 1}.`
      : `${page.topic}-${page.partition}: no records from offset ${page.offset} (log end offset ${page.log_end_offset}).`;
    const as = format();
    rowsBody.replaceChildren(
      ...page.records.map((record) =>
        el(
          "tr",
          { "data-testid": "record-row", "data-offset": record.offset },
          el("td", { class: "num" }, String(record.offset)),
          el("td", {}, el("time", { datetime: new Date(record.timestamp).toISOString() }, formatTime(record.timestamp))),
          el("td", { "data-testid": "record-key" }, bytesView(record.key, record.key_text, as)),
          el("td", { "data-testid": "record-value" }, bytesView(record.value, record.value_text, as)),
        ),
      ),
    );
  };

  topicSelect.addEventListener("change", () => {
    fillPartitions();
    offsetInput.value = "";
    load(null);
  });
  partitionSelect.addEventListener("change", () => {
    offsetInput.value = "";
    load(null);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(offsetInput.value);
  });
  prev.addEventListener("click", () => page && load(Math.max(page.log_start_offset, page.offset - PAGE_SIZE)));
  next.addEventListener("click", () => page && load(page.next_offset));
  for (const radio of form.querySelectorAll('input[name="format"]')) {
    radio.addEventListener("change", renderRecords);
  }

  const fillPartitions = () => {
    const topic = topicOf(topicSelect.value);
    const count = topic ? topic.partitions.length + topic.partitions_more : 0;
    setOptions(
      partitionSelect,
      Array.from({ length: count }, (_, i) => String(i)),
      "–",
    );
  };

  return {
    // A new snapshot: new topics or partitions appear in the lists, the selection stays.
    update() {
      const snapshot = currentSnapshot();
      const names = snapshot.topics.map((t) => t.name);
      // A topic the learner is looking at stays listed while it exists beyond the shown bound.
      if (topicSelect.value && !names.includes(topicSelect.value) && snapshot.topics_more > 0) names.push(topicSelect.value);
      setOptions(topicSelect, names, "No topics yet");
      fillPartitions();
      updatePager();
    },
  };
}

function formatTime(ms) {
  const date = new Date(ms);
  const pad = (n, width = 2) => String(n).padStart(width, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function bytesOf(base64) {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");

// A key or value as the chosen format: text (hex when not UTF-8), pretty JSON when it parses
// (else text), or hex.
function bytesView(base64, text, as) {
  if (base64 === null || base64 === undefined) return el("span", { class: "record-null" }, "null");
  if (as === "hex" || text === null || text === undefined) {
    const bytes = bytesOf(base64);
    const label = as === "hex" ? null : el("span", { class: "record-binary" }, `binary, ${bytes.length} bytes: `);
    return el("code", { class: "record-bytes", "data-format": "hex" }, label, hex(bytes));
  }
  if (as === "json") {
    try {
      return el("pre", { class: "record-json", "data-format": "json" }, JSON.stringify(JSON.parse(text), null, 2));
    } catch {
      // Not JSON: shown as text.
    }
  }
  return el("span", { class: "record-text", "data-format": "text" }, text);
}
