//! # Streamlab's in-browser simulator
//!
//! wasm-bindgen bindings that expose the broker's sans-IO core and deterministic simulator to the
//! page, so learners watch the broker's own replication and election logic on a simulated network.
//!
//! # Layout
//!
//! Only [`version`] is exported so far: it proves the build pipeline end to end
//! (`bash wasm-sim/build.sh` → `static/sim/simulator.js` + `simulator_bg.wasm`, served by
//! `streamlab` and loaded by `tests/browser/simulator-bundle.test.mjs`). Planned: a `Simulation`
//! handle created from a lesson's simulator preset and a seed, methods for the learner's actions
//! (produce, crash, cut a link) and for stepping the virtual clock, and small copyable snapshots
//! for the view (see the rustwasm book's interface rule in STYLE.md). It depends on `broker` with
//! default features off, so the tokio runtime and the wire codec never reach the wasm bundle.

use wasm_bindgen::prelude::wasm_bindgen;

/// The version of this crate (the workspace version), so the page can tell which bundle it loaded.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
