//! # Streamlab's in-browser simulator
//!
//! wasm-bindgen bindings that expose the broker's sans-IO core and deterministic simulator to the
//! page, so learners watch the broker's own replication and election logic on a simulated network.
//!
//! # Layout
//!
//! Nothing is implemented yet. Planned: a `Simulation` handle created from a lesson's simulator
//! preset and a seed, methods for the learner's actions (produce, crash, cut a link) and for
//! stepping the virtual clock, and small copyable snapshots for the view (see the rustwasm
//! book's interface rule in STYLE.md). It depends on `broker` with default features off, so the
//! tokio runtime and the wire codec never reach the wasm bundle.
