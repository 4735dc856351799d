// Streamlab's cluster simulator view: plain ES module, DOM + SVG, no framework.
//
// For every `.simulator-app` element on the page (the server renders one per lesson simulator
// block, and one on /simulator with `data-free-play`), it loads the WASM simulator
// (/static/sim/, the broker's own replication and KRaft logic on a simulated network), builds
// the view once from the first snapshot, and then, each animation frame, advances simulated
// time by `speed × real elapsed time`, reads ONE `snapshot()` and updates the existing DOM in
// place (attributes and text only change when their value does).
//
// Everything the learner does goes through `Simulator.apply` as a JSON action and lands in the
// simulator's action log; stepping back rebuilds the run with `Simulator.replay(preset, seed,
// actions, t)`. When the block's goal is reached, the seed and action log are POSTed to
// `data-verify-url`, and the server replays them natively to confirm.
//
// Works under streamlab's CSP (`script-src 'self' 'wasm-unsafe-eval'`, no inline styles or
// handlers): no inline style attributes, all listeners attached here.

import { h, put, svg } from "./dom.js";

/** The WASM simulator's class, once the bundle is loaded (see `load`). */
let Simulator = null;
let loading = null;
/** Loads the simulator bundle (JS glue and wasm, about 175 KB) once, on first need. */
function load() {
  loading ??= import("./sim/simulator.js").then(async (bundle) => {
    await bundle.default();
    Simulator = bundle.Simulator;
  });
  return loading;
}

const SPEEDS = [0.25, 1, 2, 5, 10];
const STEP_MS = 100;
/** Records per replica in a snapshot (wasm-sim's RECORDS_IN_SNAPSHOT): the log window drawn. */
const WINDOW = 8;
const MAX_LOG_LINES = 500;
/** Real milliseconds a frame may advance at most (a long pause or a slow frame never jumps). */
const MAX_FRAME_MS = 100;
/** How long a link stays highlighted after a message crossed it (real ms). */
const BUSY_MS = 400;
const PRODUCER = -1;
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

// Tenths of a second, cut (not rounded) from the integer milliseconds: `toFixed` rounds binary
// floats, so 15350 ms and 16350 ms would print as 15.3 and 16.4.
const seconds = (ms) => `${Math.floor(ms / 1000)}.${Math.floor((ms % 1000) / 100)} s`;
const randomSeed = () => crypto.getRandomValues(new Uint32Array(1))[0];
const isController = (id) => id >= 3000;
function nodeName(id) {
  if (id === PRODUCER) return "the producer";
  return isController(id) ? `controller ${id}` : `broker ${id}`;
}
const linkKey = (a, b) => (a < b ? `${a}:${b}` : `${b}:${a}`);
const errorText = (error) => error?.message || String(error);

let nextId = 0;
/** A control with its label (`for`, not wrapping, so the name is the label text alone). */
function labelled(text, control, extraClass) {
  if (!control.id) {
    nextId += 1;
    control.id = `sim-control-${nextId}`;
  }
  return h("div", { class: `sim-field${extraClass ? ` ${extraClass}` : ""}` }, h("label", { for: control.id, text }), control);
}

function option(value, text, selected) {
  return h("option", { value, selected: selected || false }, text);
}

// ---- One view ----------------------------------------------------------------------------

class SimulatorView {
  constructor(root) {
    this.root = root;
    const data = root.dataset;
    this.id = data.simulatorId || "simulator";
    this.presetJson = data.preset || "{}";
    this.preset = JSON.parse(this.presetJson);
    this.goal = data.goal || null;
    this.goalText = data.goalText || this.goal;
    this.verifyUrl = data.verifyUrl || null;
    this.freePlay = "freePlay" in data;
    // The block's title names its regions, so several simulators on one page can be told apart.
    this.title = root.closest("figure, .simulator")?.querySelector(".block-title, figcaption")?.textContent.trim() || "Cluster simulator";
    // Section headings sit under the page's h1 on /simulator, under the simulator's own h3 title in a lesson.
    this.headingTag = this.freePlay ? "h2" : "h4";
    this.seed = randomSeed();
    this.speed = 1;
    this.playing = !reducedMotion.matches;
    this.hiddenPause = false;
    this.visible = true;
    this.frameRequested = false;
    this.lastFrame = null;
    this.runId = 0;
    this.actionCount = 0;
    this.goalState = "pending";
    this.goalTriedKey = null;
    this.busy = new Map();
    this.build();
    this.start(this.seed);
    this.listen();
    this.schedule();
  }

  // ---- skeleton: the parts that never change with the cluster ----

  build() {
    const root = this.root;
    root.classList.add("simulator-view");
    root.dataset.state = "ready";
    // About 35 Tab stops per simulator: a skip link jumps past them.
    const endId = `${root.closest("[id]")?.id || "simulator"}-${this.id}-end`;
    root.before(h("a", { class: "sim-skip", href: `#${endId}`, "data-testid": "sim-skip" }, `Skip the simulator “${this.title}”`));
    root.after(h("span", { class: "sim-end", id: endId, tabindex: "-1" }));
    for (const fallback of root.querySelectorAll(".simulator-fallback")) fallback.hidden = true;

    // Time controls.
    this.playButton = h("button", {
      type: "button",
      class: "sim-button sim-play",
      "data-testid": "sim-play",
      onclick: () => this.togglePlay(),
    });
    // Named as shown (WCAG 2.5.3), the spoken name only adds to the visible text.
    this.stepButton = h(
      "button",
      {
        type: "button",
        class: "sim-button",
        "data-testid": "sim-step",
        "aria-label": "Step +0.1 s (forward 100 milliseconds)",
        onclick: () => this.step(),
      },
      "Step +0.1 s",
    );
    const back = (ms) =>
      h(
        "button",
        {
          type: "button",
          class: "sim-button",
          "data-testid": `sim-back-${ms / 1000}`,
          "aria-label": `−${ms / 1000} s (step back ${ms / 1000} second${ms === 1000 ? "" : "s"})`,
          onclick: () => this.stepBack(ms),
        },
        `−${ms / 1000} s`,
      );
    this.speedSelect = h(
      "select",
      {
        "data-testid": "sim-speed",
        onchange: () => {
          this.speed = Number(this.speedSelect.value);
        },
      },
      SPEEDS.map((speed) => option(String(speed), `${speed}×`, speed === this.speed)),
    );
    this.timeOutput = h("output", { class: "sim-time", "data-testid": "sim-time", "aria-live": "off" }, "t = 0.0 s");
    this.seedOutput = h("code", { "data-testid": "sim-seed" });
    this.toolbarError = h("p", { class: "sim-error", role: "alert", hidden: true });
    // One short summary after a replay (step back, restart), instead of the whole history.
    this.announcer = h("p", { class: "visually-hidden", role: "status", "data-testid": "sim-announcer" });
    const toolbar = h(
      "div",
      { class: "sim-toolbar" },
      h(
        "div",
        { class: "sim-group", role: "group", "aria-label": `${this.title}: time` },
        this.playButton,
        this.stepButton,
        back(1000),
        back(5000),
        labelled("Speed", this.speedSelect, "sim-inline"),
        this.timeOutput,
      ),
      h(
        "div",
        { class: "sim-group", role: "group", "aria-label": `${this.title}: seed` },
        h("span", { class: "sim-seed" }, "Seed ", this.seedOutput),
        h(
          "button",
          { type: "button", class: "sim-button", "data-testid": "sim-restart-seed", onclick: () => this.restart(this.seed) },
          "Restart with same seed",
        ),
        h(
          "button",
          { type: "button", class: "sim-button", "data-testid": "sim-new-seed", onclick: () => this.restart(randomSeed()) },
          "New seed",
        ),
      ),
      this.toolbarError,
      this.announcer,
    );

    // Goal.
    this.goalEl = null;
    if (this.goal) {
      this.goalEl = h("p", { class: "sim-goal", "data-testid": "simulator-goal-result", "data-status": "pending", role: "status" });
    }

    // Counters.
    const counter = (testid, label) => {
      const value = h("span", { class: "sim-counter-value", "data-testid": testid, text: "0" });
      return [h("div", { class: "sim-counter", "data-counter": testid }, h("dt", { text: label }), h("dd", {}, value)), value];
    };
    const [ackedBox, acked] = counter("sim-acknowledged", "Acknowledged records");
    const [lostBox, lost] = counter("sim-lost", "Acknowledged records lost");
    const [violBox, violations] = counter("sim-violations", "Invariant violations");
    this.counters = { acked, lost, violations, lostBox, violBox };
    this.violationList = h("ul", { class: "sim-violations", hidden: true });
    const counters = h("dl", { class: "sim-counters" }, ackedBox, lostBox, violBox);

    // Cluster: controllers, brokers × partitions grid, filled by buildCluster().
    this.quorumSummary = h("p", { class: "sim-quorum-summary", "data-testid": "sim-quorum" });
    this.controllersRow = h("div", { class: "sim-controllers", role: "list", "aria-label": "Controllers" });
    this.grid = h("div", { class: "sim-grid" });
    this.nodeError = h("p", { class: "sim-error", role: "alert", hidden: true });
    this.recordsPanel = h("div", { class: "sim-records", hidden: true });
    const heading = (text) => h(this.headingTag, { class: "sim-heading", text });
    const cluster = h(
      "section",
      { class: "sim-cluster", tabindex: "0", "aria-label": `${this.title}: cluster (press Space to play or pause)` },
      heading("Controllers (KRaft quorum)"),
      this.quorumSummary,
      this.controllersRow,
      heading("Brokers and partition replicas"),
      h(
        "p",
        { class: "sim-legend" },
        h("span", { class: "sim-key sim-key-leader", text: "leader" }),
        h("span", { class: "sim-key sim-key-follower", text: "follower (in sync)" }),
        h("span", { class: "sim-key sim-key-out-of-sync", text: "out of sync" }),
        h("span", { class: "sim-key sim-key-offline", text: "offline" }),
        h("span", { class: "sim-key sim-key-hw", text: "high watermark" }),
        h("span", { class: "sim-key sim-key-uncommitted", text: "not yet committed" }),
      ),
      this.nodeError,
      this.grid,
      this.recordsPanel,
    );

    // Produce form.
    this.produceTopic = h("select", { name: "topic", onchange: () => this.fillPartitions() });
    this.producePartition = h("select", { name: "partition" });
    this.produceKey = h("input", { name: "key", type: "text", autocomplete: "off", placeholder: "none", size: "8" });
    this.produceValue = h("input", { name: "value", type: "text", autocomplete: "off", required: true, size: "10", value: "order-1" });
    this.produceAcks = h("select", { name: "acks" }, option("0", "0"), option("1", "1"), option("-1", "all", true));
    this.produceError = h("p", { class: "sim-error", role: "alert", hidden: true });
    this.produceNote = h("p", { class: "sim-note", role: "status" });
    const produceForm = h(
      "form",
      {
        class: "sim-form sim-produce-form",
        "data-testid": "sim-produce-form",
        "aria-label": `${this.title}: produce a record`,
        onsubmit: (event) => {
          event.preventDefault();
          this.produce();
        },
      },
      heading("Produce"),
      h(
        "div",
        { class: "sim-fields" },
        labelled("Topic", this.produceTopic),
        labelled("Partition", this.producePartition),
        labelled("Key", this.produceKey),
        labelled("Value", this.produceValue),
        labelled("acks", this.produceAcks),
        h("button", { type: "submit", class: "sim-button sim-primary", "data-testid": "sim-produce" }, "Produce"),
      ),
      this.produceError,
      this.produceNote,
    );

    // Topic config form.
    this.configTopic = h("select", { name: "topic", onchange: () => this.fillConfig() });
    this.configMinIsr = h("input", { name: "min.insync.replicas", type: "number", step: "1", inputmode: "numeric" });
    this.configUnclean = h("select", { name: "unclean.leader.election.enable" }, option("false", "false"), option("true", "true"));
    this.configError = h("p", { class: "sim-error", role: "alert", hidden: true });
    // novalidate: the broker's own message for a bad value teaches more than the browser's bubble.
    const configForm = h(
      "form",
      {
        class: "sim-form sim-config-form",
        "data-testid": "sim-config-form",
        "aria-label": `${this.title}: topic configuration`,
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          this.setConfig();
        },
      },
      heading("Topic config"),
      h(
        "div",
        { class: "sim-fields" },
        labelled("Topic", this.configTopic),
        labelled("min.insync.replicas", this.configMinIsr),
        labelled("unclean.leader.election.enable", this.configUnclean),
        h("button", { type: "submit", class: "sim-button", "data-testid": "sim-set-config" }, "Apply config"),
      ),
      this.configError,
    );

    // Event log.
    // The live region is a wrapper: role=log on the <ol> itself would break its list semantics.
    this.eventLog = h("ol", { class: "sim-event-log", "data-testid": "sim-event-log", "aria-label": "Event log", tabindex: "0" });
    this.eventLive = h("div", { role: "log", "aria-live": "polite" }, this.eventLog);
    const events = h("section", { class: "sim-events", "aria-label": `${this.title}: events` }, heading("Event log"), this.eventLive);

    // Network.
    this.networkSvg = svg("svg", { class: "sim-network-diagram", role: "img", "aria-label": "Network between the nodes" });
    this.netFrom = h("select", { name: "a" });
    this.netTo = h("select", { name: "b" });
    this.cutList = h("ul", { class: "sim-cut-list", "aria-label": "Cut links" });
    this.networkError = h("p", { class: "sim-error", role: "alert", hidden: true });
    const network = h(
      "section",
      { class: "sim-network", "aria-label": `${this.title}: network` },
      heading("Network"),
      h("p", {
        class: "sim-note",
        text: "Lines light up as messages cross them. Click a line (or use the form) to cut or heal a link; cut links are dashed red.",
      }),
      this.networkSvg,
      h(
        "form",
        {
          class: "sim-form sim-network-form",
          "aria-label": `${this.title}: cut or heal a link`,
          onsubmit: (event) => event.preventDefault(),
        },
        h(
          "div",
          { class: "sim-fields" },
          labelled("Between", this.netFrom),
          labelled("and", this.netTo),
          h(
            "button",
            { type: "button", class: "sim-button", "data-testid": "sim-cut-link", onclick: () => this.linkAction("cut-link") },
            "Cut",
          ),
          h(
            "button",
            { type: "button", class: "sim-button", "data-testid": "sim-heal-link", onclick: () => this.linkAction("heal-link") },
            "Heal",
          ),
        ),
      ),
      this.networkError,
      this.cutList,
    );

    // Free play: the cluster itself.
    let clusterForm = null;
    if (this.freePlay) clusterForm = this.buildClusterForm();

    const main = h("div", { class: "sim-main" }, cluster, network);
    const side = h("div", { class: "sim-side" }, produceForm, configForm, events);
    this.body = h("div", { class: "sim-body" }, main, side);
    root.append(
      h("div", { class: "sim-top" }, toolbar, this.goalEl, clusterForm, h("div", { class: "sim-summary" }, counters, this.violationList)),
      this.body,
    );
  }

  buildClusterForm() {
    const topic = this.preset.topics?.[0] || {};
    const configs = Object.fromEntries(topic.configs || []);
    const number = (name, min, max, value) =>
      h("input", { name, type: "number", min: String(min), max: String(max), step: "1", required: true, value: String(value) });
    const brokers = number("brokers", 1, 7, this.preset.brokers ?? 3);
    const controllers = h(
      "select",
      { name: "controllers" },
      [1, 3, 5].map((n) => option(String(n), String(n), n === (this.preset.controllers ?? 3))),
    );
    const partitions = number("partitions", 1, 12, topic.partitions ?? 1);
    const rf = number("replication_factor", 1, 7, topic.replication_factor ?? 1);
    const minIsr = number("min.insync.replicas", 1, 7, configs["min.insync.replicas"] ?? 1);
    nextId += 1;
    const unclean = h("input", {
      id: `sim-control-${nextId}`,
      name: "unclean",
      type: "checkbox",
      checked: configs["unclean.leader.election.enable"] === "true",
    });
    const error = h("p", { class: "sim-error", role: "alert", hidden: true });
    const form = h(
      "form",
      {
        class: "sim-form sim-cluster-form",
        "data-testid": "sim-cluster-form",
        "aria-label": `${this.title}: cluster shape`,
        onsubmit: (event) => {
          event.preventDefault();
          const configs = [
            ["min.insync.replicas", minIsr.value],
            ["unclean.leader.election.enable", String(unclean.checked)],
          ];
          const preset = {
            brokers: Number(brokers.value),
            controllers: Number(controllers.value),
            topics: [{ name: topic.name || "orders", partitions: Number(partitions.value), replication_factor: Number(rf.value), configs }],
          };
          if (preset.topics[0].replication_factor > preset.brokers) {
            this.showError(error, "The replication factor cannot be larger than the number of brokers.");
            return;
          }
          const json = JSON.stringify(preset);
          if (this.start(this.seed, json, error, "Rebuilt the cluster:")) {
            this.presetJson = json;
            this.preset = preset;
            this.showError(error, null);
          }
        },
      },
      h(this.headingTag, { class: "sim-heading", text: "Cluster" }),
      h(
        "div",
        { class: "sim-fields" },
        labelled("Brokers", brokers),
        labelled("Controllers", controllers),
        labelled("Partitions", partitions),
        labelled("Replication factor", rf),
        labelled("min.insync.replicas", minIsr),
        h("div", { class: "sim-field sim-check" }, unclean, h("label", { for: unclean.id, text: "unclean.leader.election.enable" })),
        h("button", { type: "submit", class: "sim-button sim-primary", "data-testid": "sim-rebuild" }, "Rebuild cluster"),
      ),
      error,
    );
    return form;
  }

  listen() {
    this.root.addEventListener("keydown", (event) => {
      if (event.key !== " " || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      // Space scrolls the event log when it has focus; it plays or pauses everywhere else.
      if (event.target.closest("input, select, textarea, button, a, summary, [contenteditable], .sim-event-log")) return;
      event.preventDefault();
      this.togglePlay();
    });
    document.addEventListener("visibilitychange", () => {
      if (document.hidden && this.playing) {
        this.hiddenPause = true;
        this.setPlaying(false);
      } else if (!document.hidden && this.hiddenPause) {
        this.hiddenPause = false;
        this.setPlaying(true);
      }
    });
    if ("IntersectionObserver" in window) {
      new IntersectionObserver((entries) => {
        this.visible = entries[entries.length - 1].isIntersecting;
        if (this.visible) this.invalidate();
      }).observe(this.root);
    }
  }

  // ---- running ----

  /** (Re)builds the simulator from a preset and seed; false (with the error shown) if it cannot. */
  start(seed, presetJson = this.presetJson, errorEl = this.toolbarError, summary = null) {
    let sim;
    try {
      sim = new Simulator(presetJson, seed);
    } catch (error) {
      this.showError(errorEl, `Could not build the cluster: ${errorText(error)}`);
      return false;
    }
    this.replace(sim, seed, presetJson, summary);
    return true;
  }

  replace(sim, seed, presetJson = this.presetJson, summary = null) {
    const structureChanged = presetJson !== this.builtFor;
    // The log is refilled with the whole history: silently, then one summary is announced.
    this.eventLive.setAttribute("aria-live", "off");
    if (this.sim) this.sim.free();
    this.sim = sim;
    this.seed = seed;
    this.simTime = sim.now_ms;
    this.runId += 1;
    this.actionCount = JSON.parse(sim.actions()).length;
    this.eventIndex = 0;
    this.eventLog.replaceChildren();
    this.showError(this.toolbarError, null);
    this.showError(this.nodeError, null);
    put(this.seedOutput, "text", String(seed));
    if (this.goalEl && this.goalState !== "pass") this.setGoal("pending", `Goal: ${this.goalText}`);
    const snap = JSON.parse(sim.snapshot());
    if (structureChanged) {
      this.buildCluster(snap, JSON.parse(presetJson));
      this.builtFor = presetJson;
    }
    this.topicConfigs = this.configsFrom(JSON.parse(presetJson), JSON.parse(sim.actions()));
    this.fillConfig();
    this.render(snap);
    requestAnimationFrame(() => this.eventLive.setAttribute("aria-live", "polite"));
    if (summary)
      put(this.announcer, "text", `${summary} t = ${seconds(snap.now_ms)}, ${this.eventLog.childElementCount} events in the log.`);
  }

  restart(seed) {
    this.start(seed, this.presetJson, this.toolbarError, "Restarted:");
    this.invalidate();
  }

  setPlaying(playing) {
    this.playing = playing;
    this.lastFrame = null;
    this.invalidate();
  }

  togglePlay() {
    this.hiddenPause = false;
    this.setPlaying(!this.playing);
  }

  step() {
    this.setPlaying(false);
    this.simTime = this.sim.now_ms + STEP_MS;
    this.sim.run_until(this.simTime);
    this.invalidate();
  }

  stepBack(ms) {
    this.setPlaying(false);
    const target = Math.max(this.sim.formed_at_ms, this.sim.now_ms - ms);
    try {
      const sim = Simulator.replay(this.presetJson, this.seed, this.sim.actions(), target);
      this.replace(sim, this.seed, this.presetJson, "Stepped back to");
    } catch (error) {
      this.showError(this.toolbarError, `Could not step back: ${errorText(error)}`);
    }
    this.invalidate();
  }

  /** Applies one action now; returns the error message, or null. */
  apply(action) {
    try {
      this.sim.apply(JSON.stringify(action));
    } catch (error) {
      return errorText(error);
    }
    this.actionCount += 1;
    if (action.type === "set-config") {
      const configs = this.topicConfigs.get(action.topic);
      if (configs) configs[action.name] = action.value;
    }
    this.invalidate();
    return null;
  }

  invalidate() {
    this.dirty = true;
    this.schedule();
  }

  schedule() {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame((now) => this.frame(now));
  }

  frame(now) {
    this.frameRequested = false;
    if (this.playing) {
      const elapsed = this.lastFrame === null ? 0 : Math.min(MAX_FRAME_MS, now - this.lastFrame);
      this.lastFrame = now;
      this.simTime = Math.max(this.simTime, this.sim.now_ms) + elapsed * this.speed;
      const until = Math.floor(this.simTime);
      if (until > this.sim.now_ms) {
        this.sim.run_until(until);
        this.dirty = true;
      }
    }
    if (this.dirty && (this.visible || !this.playing)) {
      this.dirty = false;
      this.render(JSON.parse(this.sim.snapshot()), now);
    }
    if (this.playing) this.schedule();
    else this.renderPlayButton();
  }

  // ---- the cluster's structure: built once per preset ----

  buildCluster(snap, preset) {
    this.topics = preset.topics || [];
    // Controllers.
    this.controllerEls = new Map();
    this.controllersRow.replaceChildren(
      ...snap.controllers.map((c) => {
        const el = this.nodeCard(c.id, "controller");
        el.role = h("span", { class: "sim-role" });
        el.details = h("span", { class: "sim-node-details" });
        el.body.append(el.role, el.details);
        this.controllerEls.set(c.id, el);
        return el.card;
      }),
    );

    // Brokers (the grid's header row) and partitions (one row each, a cell per broker).
    const brokerIds = snap.brokers.map((b) => b.id);
    this.brokerIds = brokerIds;
    this.grid.dataset.brokers = String(brokerIds.length);
    this.brokerEls = new Map();
    const header = h(
      "div",
      { class: "sim-row sim-brokers", role: "list", "aria-label": "Brokers" },
      h("div", { class: "sim-row-label", "aria-hidden": "true" }),
    );
    for (const id of brokerIds) {
      const el = this.nodeCard(id, "broker");
      el.status = h("span", { class: "sim-status" });
      el.fence = h("span", { class: "sim-badge sim-fence" });
      el.body.append(el.status, el.fence);
      el.card.dataset.brokerId = String(id);
      this.brokerEls.set(id, el);
      header.append(el.card);
    }
    this.partitionEls = [];
    const rows = snap.partitions.map((p) => this.partitionRow(p, brokerIds));
    this.grid.replaceChildren(header, ...rows);
    this.recordsOpen = null;
    this.recordsPanel.hidden = true;

    // Network diagram and link form.
    this.buildNetwork(snap);

    // Produce and config forms.
    this.produceTopic.replaceChildren(...this.topics.map((t) => option(t.name, t.name)));
    this.configTopic.replaceChildren(...this.topics.map((t) => option(t.name, t.name)));
    this.fillPartitions();
  }

  nodeCard(id, kind) {
    const name = nodeName(id);
    const title = kind === "broker" ? `Broker ${id}` : `Controller ${id}`;
    const crash = h(
      "button",
      {
        type: "button",
        class: "sim-button sim-small",
        "data-testid": "crash-node",
        "data-node": String(id),
        "aria-label": `Crash ${name}`,
        onclick: () => this.nodeAction("crash", id, restart),
      },
      "Crash",
    );
    const restart = h(
      "button",
      {
        type: "button",
        class: "sim-button sim-small",
        "data-testid": "restart-node",
        "data-node": String(id),
        "aria-label": `Restart ${name}`,
        hidden: true,
        onclick: () => this.nodeAction("restart", id, crash),
      },
      "Restart",
    );
    const body = h("div", { class: "sim-node-body" });
    const card = h(
      "div",
      { class: `sim-node sim-${kind}`, role: "listitem", "data-node-id": String(id) },
      h("span", { class: "sim-node-title", text: title }),
      body,
      h("span", { class: "sim-node-actions" }, crash, restart),
    );
    return { card, body, crash, restart };
  }

  partitionRow(p, brokerIds) {
    const name = `${p.topic}-${p.partition}`;
    const label = h(
      "button",
      {
        type: "button",
        class: "sim-partition-name",
        "aria-expanded": "false",
        "aria-label": `Show the records of ${name}`,
        onclick: () => this.toggleRecords(p.topic, p.partition, label),
      },
      name,
    );
    const info = h("span", { class: "sim-partition-info" });
    const row = h(
      "div",
      { class: "sim-row sim-partition", "data-topic-partition": name },
      h("div", { class: "sim-row-label" }, label, info),
    );
    const entry = { name, row, info, label, replicas: new Map() };
    const replicaIds = new Set(p.replicas.map((r) => r.broker));
    for (const broker of brokerIds) {
      if (!replicaIds.has(broker)) {
        row.append(h("div", { class: "sim-replica-none", "aria-hidden": "true" }));
        continue;
      }
      const head = h(
        "span",
        { class: "sim-replica-head" },
        h("span", { class: "sim-replica-broker", text: `B${broker}` }),
        h("span", { class: "sim-crown", "aria-hidden": "true", text: "♛" }),
      );
      const state = h("span", { class: "sim-replica-state" });
      const isr = h("span", { class: "sim-badge sim-isr", text: "ISR" });
      head.append(state, isr);
      const bar = svg("svg", {
        class: "sim-logbar",
        viewBox: `0 0 ${WINDOW * 10} 14`,
        preserveAspectRatio: "none",
        role: "img",
        tabindex: "0",
      });
      bar.append(svg("rect", { class: "sim-logbar-bg", x: "0", y: "0", width: String(WINDOW * 10), height: "14" }));
      const cells = [];
      for (let i = 0; i < WINDOW; i += 1) {
        const title = svg("title");
        const cell = svg("rect", { class: "sim-rec", x: String(i * 10 + 0.5), y: "1", width: "9", height: "12" }, title);
        cell.title = title;
        cells.push(cell);
        bar.append(cell);
      }
      const hw = svg("line", { class: "sim-hw", x1: "0", x2: "0", y1: "0", y2: "14" });
      bar.append(hw);
      const offsets = h("span", { class: "sim-replica-offsets" });
      const el = h("div", { class: "sim-replica", "data-partition": name, "data-broker-id": String(broker) }, head, bar, offsets);
      row.append(el);
      entry.replicas.set(broker, { el, state, isr, bar, cells, hw, offsets });
    }
    this.partitionEls.push(entry);
    return row;
  }

  buildNetwork(snap) {
    const controllers = snap.controllers.map((c) => c.id);
    const brokers = snap.brokers.map((b) => b.id);
    const width = 640;
    const height = 230;
    const spread = (ids, y) => ids.map((id, i) => [id, { x: 110 + ((i + 0.5) * (width - 130)) / ids.length, y }]);
    const positions = new Map([[PRODUCER, { x: 36, y: height / 2 }], ...spread(controllers, 58), ...spread(brokers, height - 58)]);
    const label = (id) => (id === PRODUCER ? "P" : isController(id) ? String(id) : `B${id}`);
    const ids = [...positions.keys()];
    this.networkSvg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const links = svg("g", { class: "sim-links" });
    const nodes = svg("g", { class: "sim-net-nodes" });
    this.linkEls = new Map();
    this.netNodeEls = new Map();
    for (let i = 0; i < ids.length; i += 1) {
      for (let j = i + 1; j < ids.length; j += 1) {
        const a = ids[i];
        const b = ids[j];
        const pa = positions.get(a);
        const pb = positions.get(b);
        // Nodes of one row are linked by an arc (away from the other row), so a link never
        // runs through the nodes between its ends.
        let d = `M${pa.x.toFixed(1)} ${pa.y.toFixed(1)} L${pb.x.toFixed(1)} ${pb.y.toFixed(1)}`;
        if (pa.y === pb.y) {
          const bend = (pa.y < height / 2 ? -1 : 1) * 0.13 * Math.abs(pb.x - pa.x);
          d = `M${pa.x.toFixed(1)} ${pa.y.toFixed(1)} Q${((pa.x + pb.x) / 2).toFixed(1)} ${(pa.y + 2 * bend).toFixed(1)} ${pb.x.toFixed(1)} ${pb.y.toFixed(1)}`;
        }
        const title = svg("title");
        const group = svg(
          "g",
          { class: "sim-link", "data-a": String(a), "data-b": String(b) },
          title,
          svg("path", { class: "sim-wire", d }),
          svg("path", { class: "sim-hit", d }),
        );
        group.addEventListener("click", () => {
          const cut = group.hasAttribute("data-cut");
          this.showError(this.networkError, this.apply({ type: cut ? "heal-link" : "cut-link", a, b }));
        });
        links.append(group);
        this.linkEls.set(linkKey(a, b), { group, title, a, b });
      }
    }
    for (const id of ids) {
      const p = positions.get(id);
      const group = svg(
        "g",
        {
          class: `sim-net-node ${id === PRODUCER ? "is-producer" : isController(id) ? "is-controller" : "is-broker"}`,
          "data-node": String(id),
        },
        svg("title", { text: nodeName(id) }),
        svg("circle", { cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: "19" }),
        svg("text", { x: p.x.toFixed(1), y: p.y.toFixed(1), "text-anchor": "middle", "dominant-baseline": "central", text: label(id) }),
      );
      nodes.append(group);
      this.netNodeEls.set(id, group);
    }
    this.networkSvg.replaceChildren(
      svg("title", { text: "Network links between the producer, the controllers and the brokers" }),
      links,
      nodes,
    );
    const choices = (withAll) => [...ids.map((id) => option(String(id), nodeName(id))), withAll ? option("all", "every other node") : null];
    this.netFrom.replaceChildren(...choices(false));
    this.netTo.replaceChildren(...choices(true));
    if (ids.length > 1) this.netTo.value = String(ids[1]);
    this.cutKeys = "";
  }

  fillPartitions() {
    const topic = this.topics.find((t) => t.name === this.produceTopic.value) || this.topics[0];
    const count = topic ? topic.partitions : 0;
    const options = [option("auto", "auto (by key)")];
    for (let p = 0; p < count; p += 1) options.push(option(String(p), String(p)));
    this.producePartition.replaceChildren(...options);
  }

  configsFrom(preset, actions) {
    const configs = new Map();
    for (const topic of preset.topics || []) {
      const own = Object.fromEntries(topic.configs || []);
      configs.set(topic.name, {
        "min.insync.replicas": own["min.insync.replicas"] ?? "1",
        "unclean.leader.election.enable": own["unclean.leader.election.enable"] ?? "false",
      });
    }
    for (const { action } of actions) {
      if (action.type === "set-config" && configs.has(action.topic)) {
        configs.get(action.topic)[action.name] = action.value ?? (action.name === "min.insync.replicas" ? "1" : "false");
      }
    }
    return configs;
  }

  fillConfig() {
    const configs = this.topicConfigs?.get(this.configTopic.value);
    if (!configs) return;
    this.configMinIsr.value = configs["min.insync.replicas"];
    this.configUnclean.value = configs["unclean.leader.election.enable"] === "true" ? "true" : "false";
  }

  // ---- actions from the controls ----

  nodeAction(type, id, focusAfter) {
    const error = this.apply({ type, node: id });
    this.showError(this.nodeError, error);
    if (!error) {
      this.render(JSON.parse(this.sim.snapshot()));
      focusAfter.focus();
    }
  }

  produce() {
    const partition = this.producePartition.value;
    const action = {
      type: "produce",
      topic: this.produceTopic.value,
      partition: partition === "auto" ? null : Number(partition),
      key: this.produceKey.value === "" ? null : this.produceKey.value,
      value: this.produceValue.value,
      acks: Number(this.produceAcks.value),
    };
    const error = this.apply(action);
    this.showError(this.produceError, error);
    if (error) return;
    put(
      this.produceNote,
      "text",
      this.playing
        ? `Sent ${action.value}. Watch the event log for the acknowledgement.`
        : `Sent ${action.value}. Time is paused: press Play or Step to let it through.`,
    );
    // A fresh value for the next record: order-1 → order-2.
    const match = /^(.*?)(\d+)$/.exec(action.value);
    if (match) this.produceValue.value = `${match[1]}${Number(match[2]) + 1}`;
  }

  setConfig() {
    const topic = this.configTopic.value;
    const current = this.topicConfigs.get(topic) || {};
    const wanted = { "min.insync.replicas": this.configMinIsr.value, "unclean.leader.election.enable": this.configUnclean.value };
    const changed = Object.entries(wanted).filter(([name, value]) => current[name] !== value);
    if (changed.length === 0) {
      this.showError(this.configError, "Nothing changed: these are the current values.");
      return;
    }
    for (const [name, value] of changed) {
      const error = this.apply({ type: "set-config", topic, name, value });
      if (error) {
        this.showError(this.configError, error);
        return;
      }
    }
    this.showError(this.configError, null);
  }

  linkAction(type) {
    const a = Number(this.netFrom.value);
    const targets = this.netTo.value === "all" ? [...this.netNodeEls.keys()].filter((id) => id !== a) : [Number(this.netTo.value)];
    const cut = new Set(JSON.parse(this.sim.snapshot()).links_cut.map(([x, y]) => linkKey(x, y)));
    let error = null;
    for (const b of targets) {
      // "every other node" skips the links already in the wanted state.
      if (targets.length > 1 && cut.has(linkKey(a, b)) === (type === "cut-link")) continue;
      error = this.apply({ type, a, b }) || error;
    }
    this.showError(this.networkError, error);
  }

  showError(el, message) {
    put(el, "hidden", !message);
    put(el, "text", message || "");
  }

  toggleRecords(topic, partition, button) {
    const key = `${topic}-${partition}`;
    for (const entry of this.partitionEls) put(entry.label, "aria-expanded", String(entry.name === key && this.recordsOpen !== key));
    if (this.recordsOpen === key) {
      this.recordsOpen = null;
      this.recordsPanel.hidden = true;
      return;
    }
    this.recordsOpen = key;
    this.recordsFor = { topic, partition };
    this.recordsSignature = null;
    this.recordsPanel.hidden = false;
    this.renderRecords();
    button.focus();
  }

  // ---- per frame ----

  renderPlayButton() {
    put(this.playButton, "text", this.playing ? "Pause" : "Play");
    put(this.playButton, "aria-label", this.playing ? "Pause the simulation" : "Play the simulation");
    put(this.root, "data-playing", String(this.playing));
  }

  render(snap, now = performance.now()) {
    this.renderPlayButton();
    put(this.timeOutput, "text", `t = ${seconds(snap.now_ms)}`);
    put(this.timeOutput, "data-now-ms", snap.now_ms);

    // Counters.
    put(this.counters.acked, "text", String(snap.acknowledged));
    put(this.counters.lost, "text", String(snap.lost));
    put(this.counters.violations, "text", String(snap.violations.length));
    put(this.counters.lostBox, "data-alert", snap.lost > 0);
    put(this.counters.violBox, "data-alert", snap.violations.length > 0);
    const violations = snap.violations.join("\n");
    if (this.violationsText !== violations) {
      this.violationsText = violations;
      this.violationList.replaceChildren(...snap.violations.map((v) => h("li", { text: v })));
      this.violationList.hidden = snap.violations.length === 0;
    }

    // Controllers and quorum.
    const q = snap.quorum;
    put(
      this.quorumSummary,
      "text",
      q.leader_id === null || q.leader_id === undefined
        ? "No active controller: the quorum has no leader."
        : `quorum leader ${q.leader_id} · epoch ${q.epoch} · metadata high watermark ${q.high_watermark}`,
    );
    for (const c of snap.controllers) {
      const el = this.controllerEls.get(c.id);
      if (!el) continue;
      this.renderNodeButtons(el, c.up);
      put(el.card, "data-up", String(c.up));
      put(el.card, "data-active", c.up && c.active);
      put(el.card, "data-role", c.up ? c.role : "Down");
      put(el.role, "text", c.up ? `${c.role}${c.active ? " · active" : ""}` : "crashed");
      put(el.details, "text", c.up ? `epoch ${c.epoch} · log end ${c.log_end_offset} · HW ${c.high_watermark}` : "");
    }

    // Brokers.
    for (const b of snap.brokers) {
      const el = this.brokerEls.get(b.id);
      if (!el) continue;
      this.renderNodeButtons(el, b.up);
      put(el.card, "data-up", String(b.up));
      put(el.card, "data-fenced", String(b.fenced));
      put(el.status, "text", b.up ? "up" : "down");
      put(el.fence, "text", b.fenced ? "fenced" : "unfenced");
    }

    // Partitions.
    for (const [index, p] of snap.partitions.entries()) this.renderPartition(p, this.partitionEls[index]);
    if (this.recordsOpen) this.renderRecords();

    this.renderNetwork(snap, now);
    this.renderEvents(snap);
    this.checkGoal(snap);
  }

  renderNodeButtons(el, up) {
    put(el.crash, "hidden", !up);
    put(el.restart, "hidden", up);
  }

  renderPartition(p, entry) {
    if (!entry) return;
    const ids = (list) =>
      (list || [])
        .slice()
        .sort((a, b) => a - b)
        .join(", ");
    // The eligible leader replicas (KIP-966) only when there are some, as most of the time there are none.
    const elr = p.elr?.length ? ` · ELR {${ids(p.elr)}}` : "";
    const lastKnown = p.last_known_elr?.length ? ` · last known leader ${ids(p.last_known_elr)}` : "";
    const unclean = p.unclean_elections ? ` · ${p.unclean_elections} unclean election${p.unclean_elections > 1 ? "s" : ""}` : "";
    put(
      entry.info,
      "text",
      `leader ${p.leader >= 0 ? p.leader : "none"} · epoch ${p.leader_epoch} · ISR {${ids(p.isr)}}${elr}${lastKnown}${unclean}`,
    );
    put(entry.row, "data-unclean", p.unclean_elections > 0);
    let end = 0;
    for (const r of p.replicas) end = Math.max(end, r.log_end_offset);
    const base = Math.max(0, end - WINDOW);
    for (const r of p.replicas) {
      const view = entry.replicas.get(r.broker);
      if (!view) continue;
      put(view.el, "data-replica-state", r.state);
      put(view.el, "data-in-isr", String(r.in_isr));
      put(view.state, "text", r.state === "out-of-sync" ? "out of sync" : r.state);
      put(view.isr, "text", r.in_isr ? "in ISR" : "not in ISR");
      put(view.isr, "data-in", String(r.in_isr));
      put(view.offsets, "text", `LEO ${r.log_end_offset} · HW ${r.high_watermark}`);
      const byOffset = new Map(r.records.map((rec) => [rec.offset, rec]));
      const parts = [];
      for (let i = 0; i < WINDOW; i += 1) {
        const offset = base + i;
        const cell = view.cells[i];
        const rec = offset < r.log_end_offset ? byOffset.get(offset) : undefined;
        if (!rec) {
          put(cell, "class", offset < r.log_end_offset ? "sim-rec is-filled" : "sim-rec");
          put(cell.title, "text", offset < r.log_end_offset ? `offset ${offset}` : `offset ${offset}: not on this replica`);
          continue;
        }
        const committed = offset < r.high_watermark;
        put(cell, "class", `sim-rec is-filled epoch-${rec.epoch % 6}${committed ? "" : " is-uncommitted"}`);
        const text = `offset ${offset} · key ${rec.key ?? "(none)"} · value ${rec.value} · leader epoch ${rec.epoch}${committed ? "" : " · above the high watermark"}`;
        put(cell.title, "text", text);
        parts.push(`${offset}: ${rec.key ?? "-"}=${rec.value}`);
      }
      const hwX = Math.min(WINDOW, Math.max(0, r.high_watermark - base)) * 10;
      put(view.hw, "x1", String(hwX));
      put(view.hw, "x2", String(hwX));
      put(
        view.bar,
        "aria-label",
        `${entry.name} on broker ${r.broker}, ${r.state}: log end offset ${r.log_end_offset}, high watermark ${r.high_watermark}${parts.length ? `; last records ${parts.join(", ")}` : "; no records"}`,
      );
    }
  }

  renderRecords() {
    const { topic, partition } = this.recordsFor;
    const data = JSON.parse(this.sim.partition_records(topic, partition, 30));
    if (!data) return;
    const signature = JSON.stringify(data.replicas.map((r) => [r.broker, r.log_end_offset, r.high_watermark, r.records.at(-1)?.epoch]));
    if (signature === this.recordsSignature) return;
    this.recordsSignature = signature;
    const offsets = new Set();
    for (const r of data.replicas) for (const rec of r.records) offsets.add(rec.offset);
    const sorted = [...offsets].sort((a, b) => a - b);
    const leader = data.replicas.find((r) => r.broker === data.leader);
    const leaderAt = new Map((leader?.records || []).map((rec) => [rec.offset, rec]));
    const head = h(
      "tr",
      {},
      h("th", { scope: "col", text: "offset" }),
      data.replicas.map((r) =>
        h("th", { scope: "col", text: `broker ${r.broker}${r.broker === data.leader ? " (leader)" : ""} · HW ${r.high_watermark}` }),
      ),
    );
    const rows = sorted.map((offset) =>
      h(
        "tr",
        {},
        h("th", { scope: "row", text: String(offset) }),
        data.replicas.map((r) => {
          const rec = r.records.find((x) => x.offset === offset);
          if (!rec) return h("td", { class: "sim-missing", text: "—" });
          const mine = leaderAt.get(offset);
          const diverged = mine && (mine.epoch !== rec.epoch || mine.value !== rec.value);
          return h("td", {
            class: `${offset < r.high_watermark ? "" : "sim-uncommitted"}${diverged ? " sim-diverged" : ""}`.trim() || null,
            text: `${rec.key ?? "–"} = ${rec.value} (epoch ${rec.epoch})`,
          });
        }),
      ),
    );
    this.recordsPanel.replaceChildren(
      h(
        "p",
        { class: "sim-records-title" },
        h("strong", { text: `${topic}-${partition}` }),
        " · the last 30 records on every replica (italic: above that replica's high watermark)",
      ),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "sim-records-table" },
          h("thead", {}, head),
          h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: String(data.replicas.length + 1), text: "No records yet." }))),
        ),
      ),
    );
  }

  renderNetwork(snap, now) {
    const cut = new Set(snap.links_cut.map(([a, b]) => linkKey(a, b)));
    for (const [from, to] of snap.in_flight) this.busy.set(linkKey(from, to), now);
    for (const [key, link] of this.linkEls) {
      const isCut = cut.has(key);
      const seen = this.busy.get(key);
      put(link.group, "data-cut", isCut);
      put(link.group, "data-busy", !isCut && seen !== undefined && now - seen < BUSY_MS);
      put(link.title, "text", `${nodeName(link.a)} ↔ ${nodeName(link.b)}: ${isCut ? "cut (click to heal)" : "connected (click to cut)"}`);
    }
    const up = new Map([...snap.controllers.map((c) => [c.id, c]), ...snap.brokers.map((b) => [b.id, b])]);
    for (const [id, el] of this.netNodeEls) {
      if (id === PRODUCER) continue;
      const node = up.get(id);
      put(el, "data-up", String(Boolean(node?.up)));
      put(el, "data-active", Boolean(node?.active));
      put(el, "data-fenced", Boolean(node?.fenced));
    }
    const keys = [...cut].sort().join(",");
    if (keys !== this.cutKeys) {
      this.cutKeys = keys;
      this.cutList.replaceChildren(
        ...snap.links_cut.map(([a, b]) =>
          h(
            "li",
            {},
            `${nodeName(a)} ↔ ${nodeName(b)} `,
            h(
              "button",
              {
                type: "button",
                class: "sim-button sim-small",
                "aria-label": `Heal the link between ${nodeName(a)} and ${nodeName(b)}`,
                onclick: () => this.showError(this.networkError, this.apply({ type: "heal-link", a, b })),
              },
              "Heal",
            ),
          ),
        ),
      );
    }
  }

  renderEvents(snap) {
    if (snap.event_count <= this.eventIndex) return;
    const events = JSON.parse(this.sim.events_since(this.eventIndex));
    this.eventIndex = snap.event_count;
    const log = this.eventLog;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    const fresh = events
      .slice(-MAX_LOG_LINES)
      .map((e) =>
        h(
          "li",
          { class: `sim-ev sim-ev-${e.category}`, "data-category": e.category },
          h("span", { class: "sim-ev-time", text: seconds(e.at_ms) }),
          " ",
          h("span", { class: "sim-ev-text", text: e.text }),
        ),
      );
    log.append(...fresh);
    while (log.childElementCount > MAX_LOG_LINES) log.firstElementChild.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  checkGoal(snap) {
    if (!this.goalEl || this.goalState === "pass" || this.goalState === "verifying") return;
    const key = `${this.runId}:${this.actionCount}`;
    if (key === this.goalTriedKey) return;
    let reached;
    try {
      reached = this.sim.reached(this.goal);
    } catch (error) {
      this.goalTriedKey = key;
      this.setGoal("fail", `This block's goal cannot be checked: ${errorText(error)}`);
      return;
    }
    if (!reached) return;
    this.goalTriedKey = key;
    this.verify(snap.now_ms);
  }

  async verify(untilMs) {
    if (!this.verifyUrl) {
      this.setGoal("pass", `Goal reached: ${this.goalText}`);
      return;
    }
    this.goalState = "verifying";
    put(this.goalEl, "text", "Goal reached! Checking it with Streamlab…");
    const body = JSON.stringify({ seed: this.seed, actions: JSON.parse(this.sim.actions()), until_ms: untilMs });
    try {
      const response = await fetch(this.verifyUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body,
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        this.setGoal("fail", answer.error || `The check failed (${response.status}).`);
      } else {
        this.setGoal(answer.passed ? "pass" : "fail", answer.message || (answer.passed ? "Goal reached." : "Not reached yet."));
      }
    } catch (error) {
      this.setGoal("fail", `Could not reach Streamlab: ${errorText(error)}`);
    }
  }

  setGoal(status, text) {
    this.goalState = status;
    put(this.goalEl, "data-status", status);
    put(this.goalEl, "text", text);
  }
}

// ---- mount ---------------------------------------------------------------------------------

async function mount() {
  const roots = [...document.querySelectorAll(".simulator-app")].filter((root) => !root.dataset.state);
  if (roots.length === 0) return;
  for (const root of roots) root.dataset.state = "loading";
  try {
    await load();
  } catch (error) {
    for (const root of roots) {
      root.dataset.state = "error";
      root.append(h("p", { class: "sim-error", role: "alert", text: `The simulator could not load: ${errorText(error)}` }));
    }
    return;
  }
  for (const root of roots) {
    try {
      root.simulatorView = new SimulatorView(root);
    } catch (error) {
      root.dataset.state = "error";
      for (const fallback of root.querySelectorAll(".simulator-fallback")) fallback.hidden = false;
      root.append(h("p", { class: "sim-error", role: "alert", text: `The simulator could not start: ${errorText(error)}` }));
    }
  }
}

// The bundle is loaded, and every simulator of the page mounted, when the first simulator comes
// within about a screen of the viewport: a lesson read from the top does not pay for a
// simulator far below.
const roots = document.querySelectorAll(".simulator-app");
if (roots.length > 0 && "IntersectionObserver" in window) {
  const observer = new IntersectionObserver(
    (entries) => {
      if (!entries.some((entry) => entry.isIntersecting)) return;
      observer.disconnect();
      mount();
    },
    { rootMargin: "800px 0px" },
  );
  for (const root of roots) observer.observe(root);
} else {
  mount();
}
