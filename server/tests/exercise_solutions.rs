//! Every exercise in `lessons/`: on a fresh cluster (three brokers, three controllers, as
//! `streamlab serve` runs it) its checks fail and say what is missing; after its `solution` runs
//! through the console (the same path a learner's typing takes, lab commands included), they pass.

use server::console::exec::run_lab_script;
use server::course::{Course, CourseSource};
use server::exercises::run_checks;
use server::kafka::Kafka;

#[tokio::test]
async fn every_lesson_exercise_is_solved_by_its_solution() {
    let course = Course::load(&CourseSource::Dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../lessons")))
        .expect("course");
    let exercises: Vec<_> =
        course.lessons.iter().flat_map(|l| l.exercises.iter().map(move |e| (l.slug.clone(), e))).collect();
    assert!(!exercises.is_empty(), "the course has exercises");
    for (lesson, exercise) in exercises {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = broker::BrokerConfig::new(([127, 0, 0, 1], 0).into(), dir.path().to_owned());
        config.brokers = 3;
        config.controllers = 3;
        // A stopped broker is fenced sooner than Kafka's 9 s, so solutions that stop one finish sooner.
        config.broker_session_timeout_ms = 2_000;
        let broker = broker::Broker::start(config).await.expect("cluster");
        let kafka = Kafka::cluster(broker.broker_addrs());
        let before = run_checks(&kafka, exercise).await.expect("checks run");
        assert!(
            before.iter().any(|c| !c.passed),
            "{lesson}/{}: checks pass on a fresh broker: {before:?}",
            exercise.id
        );
        for check in before.iter().filter(|c| !c.passed) {
            assert!(!check.message.is_empty(), "{lesson}/{}: a failing check says nothing", exercise.id);
        }
        let ran = run_lab_script(&kafka, Some(&broker.control()), &exercise.solution).await;
        assert!(ran.ok, "{lesson}/{}: the solution failed:\n{}", exercise.id, ran.output);
        let after = run_checks(&kafka, exercise).await.expect("checks run");
        let failing: Vec<_> = after.iter().filter(|c| !c.passed).collect();
        assert!(
            failing.is_empty(),
            "{lesson}/{}: after the solution, still failing: {failing:?}\nconsole:\n{}",
            exercise.id,
            ran.output
        );
        broker.shutdown().await;
    }
}
