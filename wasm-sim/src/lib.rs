//! # Streamlab's in-browser simulator
//!
//! wasm-bindgen bindings that expose the broker's deterministic simulator
//! ([`broker::sim::Simulation`]) to the page, so learners watch the broker's own replication and
//! election logic on a simulated network.
//!
//! # Layout
//!
//! * [`Simulator`]: the opaque handle the page holds — built from a preset (JSON) and a seed,
//!   driven by `run_until` and `apply`, read through small JSON snapshots (the rustwasm book's
//!   interface rule: state stays in wasm memory, the page gets a copyable summary per frame).
//! * `view`: the snapshot the page draws — brokers, controllers, every replica with its state,
//!   log end offset, high watermark and records, the quorum, cut links, and the event log.
//! * [`version`]: the crate version, so the page can tell which bundle it loaded.
//!
//! It depends on `broker` with default features off, so the tokio runtime and the wire codec
//! never reach the wasm bundle. The same `Simulation` runs natively in the server to verify a
//! goal by replaying the learner's action log.

mod view;

use broker::sim::goal::Goal;
use broker::sim::{Action, Preset, Simulation, TimedAction};
use wasm_bindgen::prelude::{JsError, wasm_bindgen};

/// The version of this crate (the workspace version), so the page can tell which bundle it loaded.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// A running simulation, owned by the page.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Simulator {
    simulation: Simulation,
}

/// Rust-side helpers (also used by native tests of this crate).
impl Simulator {
    pub fn from_preset(preset: Preset, seed: u64) -> Result<Simulator, String> {
        Simulation::new(preset, seed).map(|simulation| Simulator { simulation }).map_err(|e| e.to_string())
    }

    pub fn simulation(&self) -> &Simulation {
        &self.simulation
    }
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T, JsError> {
    serde_json::from_str(json).map_err(|e| JsError::new(&format!("invalid {what}: {e}")))
}

/// Milliseconds cross to JavaScript as numbers (exact up to 2^53, far past any run).
fn ms(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 { value as u64 } else { 0 }
}

#[wasm_bindgen]
impl Simulator {
    /// Builds the preset's cluster (JSON: `{"brokers":3,"controllers":3,"topics":[{"name":"orders",
    /// "partitions":1,"replication_factor":3,"configs":[["min.insync.replicas","2"]]}]}`) and lets
    /// it form. The same preset and seed always give the same run.
    #[wasm_bindgen(constructor)]
    pub fn new(preset_json: &str, seed: f64) -> Result<Simulator, JsError> {
        let preset: Preset = parse("preset", preset_json)?;
        Simulator::from_preset(preset, ms(seed)).map_err(|e| JsError::new(&e))
    }

    /// Rebuilds a run from its seed and action log (JSON array of `{"at_ms":…,"action":{…}}`),
    /// up to `until_ms`: how the page steps back in time.
    pub fn replay(preset_json: &str, seed: f64, actions_json: &str, until_ms: f64) -> Result<Simulator, JsError> {
        let preset: Preset = parse("preset", preset_json)?;
        let actions: Vec<TimedAction> = parse("action log", actions_json)?;
        Simulation::replay(preset, ms(seed), &actions, ms(until_ms))
            .map(|simulation| Simulator { simulation })
            .map_err(|e| JsError::new(&e.to_string()))
    }

    #[wasm_bindgen(getter)]
    pub fn now_ms(&self) -> f64 {
        self.simulation.now_ms() as f64
    }

    #[wasm_bindgen(getter)]
    pub fn formed_at_ms(&self) -> f64 {
        self.simulation.formed_at_ms() as f64
    }

    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> f64 {
        self.simulation.steps() as f64
    }

    /// Advances the virtual clock, processing every message and timer due by then.
    pub fn run_until(&mut self, until_ms: f64) {
        self.simulation.run_until(ms(until_ms));
    }

    /// Performs an action now (JSON, e.g. `{"type":"crash","node":1}` or `{"type":"produce",
    /// "topic":"orders","key":"k","value":"v","acks":-1}`); errors say what is wrong.
    pub fn apply(&mut self, action_json: &str) -> Result<(), JsError> {
        let action: Action = parse("action", action_json)?;
        self.simulation.apply(action).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The state to draw, as JSON (see `view.rs`).
    pub fn snapshot(&self) -> String {
        view::snapshot(&self.simulation).to_string()
    }

    /// One partition's records on every replica (the last `max` of each), as JSON, or `null`.
    pub fn partition_records(&self, topic: &str, partition: i32, max: usize) -> String {
        view::partition_records(&self.simulation, topic, partition, max.min(1_000)).to_string()
    }

    /// Events from index `from` on, as a JSON array of `{"at_ms","category","text"}`.
    pub fn events_since(&self, from: usize) -> String {
        view::events_since(&self.simulation, from).to_string()
    }

    /// The action log, as JSON: what the page sends the server to verify a goal.
    pub fn actions(&self) -> String {
        serde_json::to_string(self.simulation.actions()).unwrap_or_else(|_| "[]".to_owned())
    }

    /// Whether the run reached a goal (`lose-acknowledged-record`, ...).
    pub fn reached(&self, goal: &str) -> Result<bool, JsError> {
        let goal: Goal = goal.parse().map_err(|e: broker::sim::goal::UnknownGoal| JsError::new(&e.to_string()))?;
        Ok(self.simulation.reached(&goal))
    }
}
