//! Every exercise in `lessons/`: on a fresh broker its checks fail and say what is missing; after
//! its `solution` runs through the console (the same path a learner's typing takes), they pass.

use server::console::exec::run_script;
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
        let broker =
            broker::Broker::start(broker::BrokerConfig::new(([127, 0, 0, 1], 0).into(), dir.path().to_owned()))
                .await
                .expect("broker");
        let kafka = Kafka::new(broker.local_addr());
        let before = run_checks(&kafka, exercise).await.expect("checks run");
        assert!(
            before.iter().any(|c| !c.passed),
            "{lesson}/{}: checks pass on a fresh broker: {before:?}",
            exercise.id
        );
        for check in before.iter().filter(|c| !c.passed) {
            assert!(!check.message.is_empty(), "{lesson}/{}: a failing check says nothing", exercise.id);
        }
        let ran = run_script(&kafka, &exercise.solution).await;
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
