//! The simulator's speed, natively: simulated events (messages delivered and timers fired) per
//! wall-clock second, for the view's largest everyday cluster (5 brokers, 3 controllers, one topic
//! with 6 partitions × 3 replicas) under a steady produce load. Run by `tests/bench/sim.sh`, which
//! prints it next to the same workload in the browser bundle; ignored in the test suite.

use std::time::Instant;

use broker::sim::{Action, Preset, Simulation, TopicPreset};

/// One run: 10 simulated minutes with a record every 100 ms. Returns (events, wall seconds).
fn run(seed: u64) -> (u64, f64) {
    let preset = Preset {
        brokers: 5,
        controllers: 3,
        topics: vec![TopicPreset {
            name: "orders".into(),
            partitions: 6,
            replication_factor: 3,
            configs: vec![("min.insync.replicas".into(), "2".into())],
        }],
        ..Preset::default()
    };
    let started = Instant::now();
    let mut simulation = Simulation::new(preset, seed).expect("forms");
    let start = simulation.now_ms();
    for i in 0..6_000u64 {
        simulation.run_until(start + i * 100);
        let produce = Action::Produce {
            topic: "orders".into(),
            partition: None,
            key: Some(format!("user-{}", i % 97)),
            value: format!("order-{i}"),
            acks: -1,
        };
        simulation.apply(produce).expect("produce");
    }
    simulation.run_until(start + 600_000);
    (simulation.steps(), started.elapsed().as_secs_f64())
}

#[test]
#[ignore = "a benchmark: bash tests/bench/sim.sh"]
fn simulated_events_per_second() {
    let mut rates: Vec<f64> = (1..=3)
        .map(|seed| {
            let (events, seconds) = run(seed);
            events as f64 / seconds
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    println!(
        "native: {:.0} simulated events/s (median of 3; runs {:.0} / {:.0} / {:.0})",
        rates[1], rates[0], rates[1], rates[2]
    );
}
