//! Every simulator goal in `lessons/` can be reached in its preset: a learner following the
//! lesson's task can pass it. For each goal kind, a strategy plays what the task describes on the
//! native simulator, from several seeds; the goal must be reached and nothing reached without
//! the actions (the same seed, left alone, must not reach it).

use broker::sim::goal::Goal;
use broker::sim::{Action, Simulation};
use server::course::{Course, CourseSource};

fn leader_of_first_partition(simulation: &Simulation) -> (String, i32) {
    let image = simulation.active_image().expect("a controller");
    let (topic, _, registration) = image.partitions().next().expect("a partition");
    (topic.to_owned(), registration.leader)
}

fn produce(topic: &str, acks: i16) -> Action {
    Action::Produce { topic: topic.to_owned(), partition: Some(0), key: None, value: "v".into(), acks }
}

fn wait(simulation: &mut Simulation, ms: u64) {
    let until = simulation.now_ms() + ms;
    simulation.run_until(until);
}

/// What the lesson's task tells the learner to do, for each kind of goal.
fn play(simulation: &mut Simulation, goal: &Goal) {
    let (topic, leader) = leader_of_first_partition(simulation);
    let brokers: Vec<i32> = simulation.broker_ids().collect();
    match goal {
        Goal::LoseAcknowledgedRecord => {
            for follower in brokers.iter().filter(|b| **b != leader) {
                simulation.apply(Action::CutLink { a: leader, b: *follower }).expect("cut");
            }
            simulation.apply(produce(&topic, 1)).expect("produce");
            wait(simulation, 200);
            simulation.apply(Action::Crash { node: leader }).expect("crash");
            wait(simulation, 15_000);
            simulation.apply(produce(&topic, 1)).expect("produce");
            wait(simulation, 2_000);
        }
        Goal::NotEnoughReplicas => {
            for broker in brokers.iter().filter(|b| **b != leader).take(brokers.len() - 1) {
                simulation.apply(Action::Crash { node: *broker }).expect("crash");
            }
            wait(simulation, 15_000);
            simulation.apply(produce(&topic, -1)).expect("produce");
            wait(simulation, 2_000);
        }
        Goal::ProduceWhileBrokersDown { brokers: down } => {
            for broker in brokers.iter().filter(|b| **b != leader).take(*down as usize) {
                simulation.apply(Action::Crash { node: *broker }).expect("crash");
            }
            simulation.apply(produce(&topic, -1)).expect("produce");
            wait(simulation, 20_000);
        }
        Goal::NewQuorumLeader => {
            let active = simulation.active_controller().expect("an active controller");
            simulation.apply(Action::Crash { node: active }).expect("crash");
            wait(simulation, 10_000);
        }
    }
}

#[test]
fn every_lesson_simulator_goal_is_reachable() {
    let course = Course::load(&CourseSource::Dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../lessons")))
        .expect("course");
    let simulators: Vec<_> =
        course.lessons.iter().flat_map(|l| l.simulators.iter()).filter(|s| s.goal.is_some()).collect();
    assert!(simulators.len() >= 4, "the course has simulator goals");
    for preset in simulators {
        let goal = preset.goal().expect("valid goal");
        for seed in 1..=5 {
            let mut idle = Simulation::new(preset.to_sim_preset(), seed).expect("forms");
            wait(&mut idle, 30_000);
            assert!(!idle.reached(&goal), "{} (seed {seed}): {goal} is reached without doing anything", preset.id);
            let mut simulation = Simulation::new(preset.to_sim_preset(), seed).expect("forms");
            play(&mut simulation, &goal);
            let tail: Vec<String> =
                simulation.events().iter().rev().take(15).rev().map(|e| format!("{} {}", e.at_ms, e.kind)).collect();
            assert!(simulation.reached(&goal), "{} (seed {seed}): {goal} not reached:\n{}", preset.id, tail.join("\n"));
            assert!(simulation.checker().violations().is_empty(), "{:?}", simulation.checker().violations());
        }
    }
}
