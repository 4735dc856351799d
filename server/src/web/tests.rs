//! Router tests: the whole app, one request at a time through `oneshot`, on a real SQLite file.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sqlx::SqlitePool;
use tower::ServiceExt;

use super::*;
use crate::course::{Course, CourseSource};
use crate::kafka::Kafka;
use crate::progress::Progress;

const COURSE_TOML: &str = "title = \"Test Course\"\n[[module]]\nid = \"basics\"\ntitle = \"Basics\"\n";
const EVENTS: &str = "+++\ntitle = \"What is an event?\"\nslug = \"events\"\nmodule = \"basics\"\norder = 1\nestimated_minutes = 5\n+++\n\n## Records\n\nSee [offsets](02-offsets.md#commits).\n";
const OFFSETS: &str = "+++\ntitle = \"Offsets\"\nslug = \"offsets\"\nmodule = \"basics\"\norder = 2\nprerequisites = [\"events\"]\n+++\n\n## Commits\n";

struct TestApp {
    router: Router,
    _dir: tempfile::TempDir,
}

fn test_app(pool: SqlitePool, lessons: &[(&str, &str)], dev: bool) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("course.toml"), COURSE_TOML).expect("write");
    for (name, text) in lessons {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let source = CourseSource::Dir(dir.path().to_owned());
    let course = Course::load(&source).expect("course");
    // Pages never ask the broker; an address nothing listens on proves it.
    let kafka = Kafka::new(([127, 0, 0, 1], 9).into());
    let state = AppState::new(course, source, Progress::new(pool), kafka, dev);
    TestApp { router: app(state), _dir: dir }
}

fn default_app(pool: SqlitePool) -> TestApp {
    test_app(pool, &[("01-events.md", EVENTS), ("02-offsets.md", OFFSETS)], false)
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(app: &TestApp, method: &str, uri: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app.router.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

/// The `name=value` part of the learner cookie the server set.
fn learner_cookie(reply: &Reply) -> String {
    let set_cookie = reply.headers.get(header::SET_COOKIE).expect("set-cookie").to_str().expect("ascii");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    set_cookie.split(';').next().expect("pair").to_owned()
}

fn progress_of<'a>(body: &'a str, slug: &str) -> &'a str {
    let marker = format!("data-slug=\"{slug}\" data-progress=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no item for {slug} in {body}")) + marker.len();
    let end = body[start..].find('"').expect("closing quote");
    &body[start..start + end]
}

#[sqlx::test(migrations = "./migrations")]
async fn course_map_lists_lessons_and_gives_a_learner_cookie(pool: SqlitePool) {
    let app = default_app(pool);
    let reply = send(&app, "GET", "/", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(reply.headers[header::CACHE_CONTROL], "private, no-cache");
    assert!(learner_cookie(&reply).starts_with("streamlab_learner="));
    assert!(reply.body.contains("<h1>Test Course</h1>"));
    assert!(reply.body.contains("<h2 id=\"module-basics\">Basics</h2>"));
    assert_eq!(progress_of(&reply.body, "events"), "not-started");
    assert_eq!(progress_of(&reply.body, "offsets"), "not-started");
    assert!(reply.body.contains("<p data-testid=\"course-progress\">0 of 2 lessons completed</p>"));
    assert!(reply.body.contains("Start: What is an event?"));
    // Everything is in the HTML; the one script only enhances (a module, so it never blocks reading).
    assert_eq!(reply.body.matches("<script").count(), 1);
    assert!(reply.body.contains("<script type=\"module\" src=\"/static/app.js\"></script>"));
}

#[sqlx::test(migrations = "./migrations")]
async fn visiting_and_completing_a_lesson_shows_on_the_course_map(pool: SqlitePool) {
    let app = default_app(pool);
    let cookie = learner_cookie(&send(&app, "GET", "/", None).await);

    let lesson = send(&app, "GET", "/lessons/events", Some(&cookie)).await;
    assert_eq!(lesson.status, StatusCode::OK);
    assert!(lesson.headers.get(header::SET_COOKIE).is_none(), "a known learner keeps their cookie");
    assert!(lesson.body.contains("<h1>What is an event?</h1>"));
    assert!(lesson.body.contains("<li class=\"outline-level-2\"><a href=\"#records\">Records</a></li>"));
    assert!(lesson.body.contains("<a href=\"/lessons/offsets#commits\">offsets</a>"));
    assert!(lesson.body.contains("data-testid=\"lesson-next\" href=\"/lessons/offsets\""));
    assert!(!lesson.body.contains("data-testid=\"lesson-prev\""));
    assert!(lesson.body.contains("<span>5 min read</span>"));
    assert!(lesson.body.contains("data-testid=\"complete-button\""));

    let map = send(&app, "GET", "/", Some(&cookie)).await;
    assert_eq!(progress_of(&map.body, "events"), "visited");
    assert_eq!(progress_of(&map.body, "offsets"), "not-started");

    let done = send(&app, "POST", "/lessons/events/complete", Some(&cookie)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.headers[header::LOCATION], "/lessons/events#completed");

    let map = send(&app, "GET", "/", Some(&cookie)).await;
    assert_eq!(progress_of(&map.body, "events"), "completed");
    assert!(map.body.contains("1 of 2 lessons completed"));
    assert!(map.body.contains("Continue: Offsets"));

    let lesson = send(&app, "GET", "/lessons/events", Some(&cookie)).await;
    assert!(lesson.body.contains("data-testid=\"completed-note\""));
    assert!(!lesson.body.contains("data-testid=\"complete-button\""));

    // Another learner starts from zero.
    let other = send(&app, "GET", "/", None).await;
    assert_eq!(progress_of(&other.body, "events"), "not-started");
}

#[sqlx::test(migrations = "./migrations")]
async fn lesson_page_links_prerequisites_and_previous(pool: SqlitePool) {
    let app = default_app(pool);
    let reply = send(&app, "GET", "/lessons/offsets", None).await;
    assert!(
        reply.body.contains("Read first:\n        <a href=\"/lessons/events\">What is an event?</a>"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("data-testid=\"lesson-prev\" href=\"/lessons/events\""));
    assert!(!reply.body.contains("data-testid=\"lesson-next\""));
}

#[sqlx::test(migrations = "./migrations")]
async fn unknown_pages_are_404_with_a_page(pool: SqlitePool) {
    let app = default_app(pool);
    for (method, uri) in [
        ("GET", "/lessons/nope"),
        ("GET", "/nothing/here"),
        ("POST", "/lessons/nope/complete"),
        ("GET", "/static/nope.css"),
    ] {
        let reply = send(&app, method, uri, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {uri}");
        assert!(reply.body.contains("data-testid=\"not-found\""), "{method} {uri}");
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn a_forged_cookie_gets_a_fresh_learner(pool: SqlitePool) {
    let app = default_app(pool);
    let reply = send(&app, "GET", "/", Some("streamlab_learner=' OR 1=1 --")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(learner_cookie(&reply).starts_with("streamlab_learner="));
}

#[sqlx::test(migrations = "./migrations")]
async fn static_assets_are_embedded_with_etags(pool: SqlitePool) {
    let app = default_app(pool);
    let css = send(&app, "GET", "/static/style.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers[header::CONTENT_TYPE], "text/css");
    assert!(css.headers.get(header::SET_COOKIE).is_none(), "assets do not identify learners");
    let etag = css.headers[header::ETAG].to_str().expect("etag").to_owned();
    let request =
        Request::get("/static/style.css").header(header::IF_NONE_MATCH, &etag).body(Body::empty()).expect("request");
    let cached = app.router.clone().oneshot(request).await.expect("response");
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
}

#[sqlx::test(migrations = "./migrations")]
async fn responses_carry_security_headers(pool: SqlitePool) {
    let app = default_app(pool);
    let reply = send(&app, "GET", "/healthz", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "ok");
    assert_eq!(reply.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let csp = reply.headers["content-security-policy"].to_str().expect("csp");
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    // Scripts from our origin only, and WebAssembly may be compiled (the simulator), but no eval.
    let script_src = csp.split(';').map(str::trim).find(|d| d.starts_with("script-src ")).expect("script-src");
    assert_eq!(script_src, "script-src 'self' 'wasm-unsafe-eval'");
}

#[sqlx::test(migrations = "./migrations")]
async fn the_simulator_bundle_is_served_as_wasm_and_javascript(pool: SqlitePool) {
    let app = default_app(pool);
    // `WebAssembly.instantiateStreaming` rejects any other content type.
    let request = Request::get("/static/sim/simulator_bg.wasm").body(Body::empty()).expect("request");
    let wasm = app.router.clone().oneshot(request).await.expect("response");
    assert_eq!(wasm.status(), StatusCode::OK);
    assert_eq!(wasm.headers()[header::CONTENT_TYPE], "application/wasm");
    let bytes = wasm.into_body().collect().await.expect("body").to_bytes();
    assert!(bytes.starts_with(b"\0asm"), "not a wasm module");

    let js = send(&app, "GET", "/static/sim/simulator.js", None).await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.headers[header::CONTENT_TYPE], "text/javascript");
    assert!(js.body.contains("export { initSync"), "wasm-bindgen --target web glue");
}

#[sqlx::test(migrations = "./migrations")]
async fn a_broken_lesson_shows_its_errors_instead_of_failing(pool: SqlitePool) {
    let broken = "+++\ntitle = \"Groups\"\nslug = \"groups\"\nmodule = \"basics\"\norder = 3\n+++\n\n```exercise\nid = \"x\"\n```\n";
    let app = test_app(pool, &[("01-events.md", EVENTS), ("02-offsets.md", OFFSETS), ("03-groups.md", broken)], false);
    let lesson = send(&app, "GET", "/lessons/groups", None).await;
    assert_eq!(lesson.status, StatusCode::OK);
    assert!(lesson.body.contains("1 problem in the lessons"), "{}", lesson.body);
    assert!(lesson.body.contains("03-groups.md:9: exercise block: missing field `title`"), "{}", lesson.body);
    let map = send(&app, "GET", "/", None).await;
    assert!(map.body.contains("03-groups.md:9: exercise block: missing field `title`"));
    // Unbroken lessons do not show the other lesson's problem.
    let events = send(&app, "GET", "/lessons/events", None).await;
    assert!(!events.body.contains("problem in the lessons"));
}

#[sqlx::test(migrations = "./migrations")]
async fn live_reload_exists_only_in_dev(pool: SqlitePool) {
    let app = default_app(pool.clone());
    assert_eq!(send(&app, "GET", "/dev/reload", None).await.status, StatusCode::NOT_FOUND);
    let map = send(&app, "GET", "/", None).await;
    assert!(!map.body.contains("data-dev-reload"));

    let dev = test_app(pool, &[("01-events.md", EVENTS)], true);
    let request = Request::get("/dev/reload").body(Body::empty()).expect("request");
    let response = dev.router.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream");
    let map = send(&dev, "GET", "/", None).await;
    assert!(map.body.contains("<body data-dev-reload=\"/dev/reload\">"));
    assert!(map.body.contains("<script type=\"module\" src=\"/static/app.js\"></script>"));
}

const EXERCISE_LESSON: &str = "+++\ntitle = \"Keys\"\nslug = \"keys\"\nmodule = \"basics\"\norder = 3\n+++\n\n```exercise\nid = \"keyed-orders\"\ntitle = \"Keyed orders\"\ntask = \"Create `orders`.\"\nsolution = \"kafka-topics.sh --create --topic orders --partitions 3\"\n\n[[check]]\nkind = \"topic\"\ntopic = \"orders\"\npartitions = 3\n\n[[check]]\nkind = \"records\"\ntopic = \"orders\"\nkey = \"user-42\"\nmin = 2\nsame_partition = true\n\n[[check]]\nkind = \"offsets\"\ntopic = \"orders\"\npartition = 0\nlog_start_offset = 0\n```\n";

/// The app with a real broker on a free port, as `streamlab serve` runs it.
async fn app_with_broker(pool: SqlitePool) -> (TestApp, broker::Broker, tempfile::TempDir) {
    let broker_dir = tempfile::tempdir().expect("tempdir");
    let broker =
        broker::Broker::start(broker::BrokerConfig::new(([127, 0, 0, 1], 0).into(), broker_dir.path().to_owned()))
            .await
            .expect("broker");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("course.toml"), COURSE_TOML).expect("write");
    std::fs::write(dir.path().join("03-keys.md"), EXERCISE_LESSON).expect("write");
    let source = CourseSource::Dir(dir.path().to_owned());
    let course = Course::load(&source).expect("course");
    assert_eq!(course.diagnostics, []);
    let state = AppState::new(course, source, Progress::new(pool), Kafka::new(broker.local_addr()), false);
    (TestApp { router: app(state), _dir: dir }, broker, broker_dir)
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[sqlx::test(migrations = "./migrations")]
async fn exercise_checks_ask_the_broker_and_say_what_is_missing(pool: SqlitePool) {
    use broker::testkit::{Client, batch};
    use kafka_protocol::messages::create_topics_request::CreatableTopic;
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    use kafka_protocol::messages::{CreateTopicsRequest, ProduceRequest, TopicName};
    use kafka_protocol::protocol::StrBytes;

    let (app, broker, _broker_dir) = app_with_broker(pool.clone()).await;
    let cookie = learner_cookie(&send(&app, "GET", "/", None).await);

    let reply = send(&app, "POST", "/api/exercises/keyed-orders/check", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let result = json(&reply.body);
    let lesson = send(&app, "GET", "/lessons/keys", Some(&cookie)).await;
    let bootstrap = format!("<code data-testid=\"bootstrap-address\">{}</code>", broker.local_addr());
    assert!(lesson.body.contains(&bootstrap), "the own-client panel shows the broker address");
    assert_eq!(result["passed"], false);
    assert_eq!(result["checks"][0]["description"], "Topic `orders` exists with 3 partitions");
    assert_eq!(result["checks"][0]["passed"], false);
    assert_eq!(result["checks"][0]["message"], "topic orders does not exist");

    // The learner creates the topic with one partition too few, and produces with their key.
    let mut client = Client::connect(broker.local_addr()).await;
    let mut topic = CreatableTopic::default();
    topic.name = TopicName(StrBytes::from_static_str("orders"));
    topic.num_partitions = 2;
    topic.replication_factor = 1;
    let mut create = CreateTopicsRequest::default();
    create.topics = vec![topic];
    assert_eq!(client.send(&create, 7).await.topics[0].error_code, 0);
    let result = json(&send(&app, "POST", "/api/exercises/keyed-orders/check", Some(&cookie)).await.body);
    assert_eq!(result["checks"][0]["message"], "topic orders has 2 partitions, expected 3");

    let mut delete = kafka_protocol::messages::DeleteTopicsRequest::default();
    delete.topic_names = vec![TopicName(StrBytes::from_static_str("orders"))];
    client.send(&delete, 5).await;
    topic = CreatableTopic::default();
    topic.name = TopicName(StrBytes::from_static_str("orders"));
    topic.num_partitions = 3;
    topic.replication_factor = 1;
    create.topics = vec![topic];
    assert_eq!(client.send(&create, 7).await.topics[0].error_code, 0);
    let mut data = PartitionProduceData::default();
    data.index = 1;
    data.records = Some(batch(
        &[(Some("user-42"), "order-1"), (Some("user-42"), "order-2")],
        1,
        kafka_protocol::records::Compression::None,
    ));
    let mut topic_data = TopicProduceData::default();
    topic_data.name = TopicName(StrBytes::from_static_str("orders"));
    topic_data.partition_data = vec![data];
    let mut produce = ProduceRequest::default();
    produce.acks = -1;
    produce.timeout_ms = 5_000;
    produce.topic_data = vec![topic_data];
    assert_eq!(client.send(&produce, 9).await.responses[0].partition_responses[0].error_code, 0);

    let result = json(&send(&app, "POST", "/api/exercises/keyed-orders/check", Some(&cookie)).await.body);
    assert_eq!(result["passed"], true, "{result}");
    assert_eq!(result["checks"][1]["message"], "topic orders has 2 records with key user-42");
    assert_eq!(result["checks"][2]["message"], "partition orders-0 spans offsets 0 to 0");
    let passed: Vec<(String,)> =
        sqlx::query_as("SELECT exercise_id FROM exercise_progress").fetch_all(&pool).await.expect("rows");
    assert_eq!(passed, [("keyed-orders".to_owned(),)]);
    let (runs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM exercise_runs").fetch_one(&pool).await.expect("count");
    assert_eq!(runs, 3);
    broker.shutdown().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn api_errors_are_json(pool: SqlitePool) {
    let app = default_app(pool);
    let unknown = send(&app, "POST", "/api/exercises/no-such-exercise/check", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(json(&unknown.body)["error"], "no exercise has the id `no-such-exercise`");
    let nowhere = send(&app, "GET", "/api/nothing", None).await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert_eq!(json(&nowhere.body)["error"], "no such API endpoint");
    let wrong_method = send(&app, "GET", "/api/exercises/x/check", None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.headers.get(header::ALLOW).map(|v| v.as_bytes()), Some(&b"POST"[..]));
    assert_eq!(json(&wrong_method.body)["error"], "GET is not allowed here (see the Allow header)");
    // axum's own rejections (here a partition that is not a number) come as JSON too.
    let bad_path = send(&app, "GET", "/api/topics/orders/partitions/zero/records", None).await;
    assert_eq!(bad_path.status, StatusCode::BAD_REQUEST);
    let message = json(&bad_path.body)["error"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("partition"), "{message}");
    let no_body = send(&app, "POST", "/api/console", None).await;
    assert!(no_body.status.is_client_error());
    assert!(json(&no_body.body)["error"].is_string());
}

#[sqlx::test(migrations = "./migrations")]
async fn an_unreachable_broker_is_a_503_with_a_reason(pool: SqlitePool) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("course.toml"), COURSE_TOML).expect("write");
    std::fs::write(dir.path().join("03-keys.md"), EXERCISE_LESSON).expect("write");
    let source = CourseSource::Dir(dir.path().to_owned());
    let course = Course::load(&source).expect("course");
    let state = AppState::new(course, source, Progress::new(pool), Kafka::new(([127, 0, 0, 1], 9).into()), false);
    let app = TestApp { router: app(state), _dir: dir };
    let reply = send(&app, "POST", "/api/exercises/keyed-orders/check", None).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(json(&reply.body)["error"].as_str().expect("text").starts_with("the Kafka broker could not be asked"));
}

#[sqlx::test(migrations = "./migrations")]
async fn the_console_runs_kafka_tool_commands_against_the_broker(pool: SqlitePool) {
    let (app, broker, _broker_dir) = app_with_broker(pool).await;
    let post = |body: String| {
        let router = app.router.clone();
        async move {
            let request = Request::post("/api/console")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .expect("request");
            let response = router.oneshot(request).await.expect("response");
            let status = response.status();
            let bytes = response.into_body().collect().await.expect("body").to_bytes();
            (status, json(&String::from_utf8_lossy(&bytes)))
        }
    };
    let script = "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic orders --partitions 3\n\
                  kafka-console-producer.sh --bootstrap-server localhost:9092 --topic orders --property parse.key=true --property key.separator=:\n\
                  user-42:order-1\nuser-42:order-2\n\
                  kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic orders --from-beginning --property print.key=true --property print.partition=true\n";
    let (status, result) = post(serde_json::json!({ "script": script }).to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(
        result["output"],
        "Created topic orders.\nPartition:1\tuser-42\torder-1\nPartition:1\tuser-42\torder-2\nProcessed a total of 2 messages\n"
    );
    let (_, typo) =
        post(serde_json::json!({ "script": "kafka-topics.sh --create --topic t --partition 3" }).to_string()).await;
    assert_eq!(typo["ok"], false);
    assert!(typo["output"].as_str().expect("text").contains("did you mean --partitions?"), "{typo}");
    let (status, bad) = post("not json".to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad["error"].as_str().expect("text").starts_with("expected {\"script\""), "{bad}");
    broker.shutdown().await;
}

const SIMULATOR_LESSON: &str = "+++\ntitle = \"Replication\"\nslug = \"replication\"\nmodule = \"basics\"\norder = 3\n+++\n\n\
## Losing a record\n\n```simulator\nid = \"lose-one\"\nbrokers = 3\ncontrollers = 3\ngoal = \"lose-acknowledged-record\"\n\
[[topic]]\nname = \"orders\"\npartitions = 1\nreplication_factor = 3\n```\n";

/// A run that loses an acknowledged record: the leader is cut off from its followers, takes a
/// record with acks=1 and crashes; the new leader takes another record at the same offset.
fn losing_run(seed: u64) -> (broker::sim::Simulation, u64) {
    use broker::sim::{Action, Simulation};
    let course_preset = crate::course::blocks::parse_simulator(
        "id = \"lose-one\"\nbrokers = 3\ncontrollers = 3\n[[topic]]\nname = \"orders\"\npartitions = 1\nreplication_factor = 3\n",
    )
    .expect("preset");
    let mut simulation = Simulation::new(course_preset.to_sim_preset(), seed).expect("forms");
    let leader = simulation.active_image().and_then(|i| i.partition("orders", 0)).expect("partition").leader;
    let produce = |value: &str| Action::Produce {
        topic: "orders".into(),
        partition: Some(0),
        key: None,
        value: value.into(),
        acks: 1,
    };
    for follower in (1..=3).filter(|b| *b != leader) {
        simulation.apply(Action::CutLink { a: leader, b: follower }).expect("cut");
    }
    simulation.apply(produce("a")).expect("produce");
    simulation.run_until(simulation.now_ms() + 100);
    simulation.apply(Action::Crash { node: leader }).expect("crash");
    simulation.run_until(simulation.now_ms() + 15_000);
    simulation.apply(produce("b")).expect("produce");
    let until_ms = simulation.now_ms() + 2_000;
    simulation.run_until(until_ms);
    (simulation, until_ms)
}

#[sqlx::test(migrations = "./migrations")]
async fn a_simulator_goal_passes_only_when_the_server_replay_reaches_it(pool: SqlitePool) {
    let app = test_app(pool.clone(), &[("01-events.md", EVENTS), ("03-replication.md", SIMULATOR_LESSON)], false);
    let cookie = learner_cookie(&send(&app, "GET", "/", None).await);
    let lesson = send(&app, "GET", "/lessons/replication", Some(&cookie)).await;
    assert!(lesson.body.contains("data-verify-url=\"/api/simulator/lose-one/verify\""), "{}", lesson.body);
    let post = |uri: &'static str, body: String| {
        let router = app.router.clone();
        let cookie = cookie.clone();
        async move {
            let request = Request::post(uri)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::COOKIE, cookie)
                .body(Body::from(body))
                .expect("request");
            let response = router.oneshot(request).await.expect("response");
            let status = response.status();
            let bytes = response.into_body().collect().await.expect("body").to_bytes();
            (status, json(&String::from_utf8_lossy(&bytes)))
        }
    };
    let seed = 11;
    let (simulation, until_ms) = losing_run(seed);
    assert!(simulation.reached(&broker::sim::goal::Goal::LoseAcknowledgedRecord), "the run loses a record natively");
    let actions = serde_json::to_value(simulation.actions()).expect("json");

    // The same seed without the actions: the replay loses nothing, whatever the page claims.
    let idle = serde_json::json!({ "seed": seed, "actions": [], "until_ms": until_ms }).to_string();
    let (status, result) = post("/api/simulator/lose-one/verify", idle).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result["passed"], false, "{result}");
    assert!(result["message"].as_str().expect("text").contains("did not reach the goal"), "{result}");

    let run = serde_json::json!({ "seed": seed, "actions": actions, "until_ms": until_ms }).to_string();
    let (status, result) = post("/api/simulator/lose-one/verify", run).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result["passed"], true, "{result}");
    let passed: Vec<(String,)> =
        sqlx::query_as("SELECT exercise_id FROM exercise_progress").fetch_all(&pool).await.expect("rows");
    assert_eq!(passed, [("lose-one".to_owned(),)]);
    let map = send(&app, "GET", "/", Some(&cookie)).await;
    assert_eq!(progress_of(&map.body, "replication"), "completed", "the goal was the lesson's only exercise");

    // Bad input gets a 4xx with a reason.
    let (status, result) = post("/api/simulator/nope/verify", "{}".into()).await;
    assert_eq!((status, result["error"].as_str()), (StatusCode::NOT_FOUND, Some("no simulator has the id `nope`")));
    let (status, _) = post("/api/simulator/lose-one/verify", "{\"seed\": -1}".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let crash = serde_json::json!({ "at_ms": 1, "action": { "type": "crash", "node": 1 } });
    let many = serde_json::json!({ "seed": 1, "actions": vec![crash; 5_001], "until_ms": 1 }).to_string();
    assert_eq!(post("/api/simulator/lose-one/verify", many).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    let unknown_node = serde_json::json!({ "seed": 1, "actions": [{ "at_ms": 9_000, "action": { "type": "crash", "node": 9 } }], "until_ms": 9_000 });
    let (status, result) = post("/api/simulator/lose-one/verify", unknown_node.to_string()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(result["error"].as_str().expect("text").contains("there is no node 9"), "{result}");
    let endless = serde_json::json!({ "seed": 1, "actions": [], "until_ms": 10_000_000_000u64 }).to_string();
    assert_eq!(post("/api/simulator/lose-one/verify", endless).await.0, StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_free_play_simulator_page_carries_its_preset(pool: SqlitePool) {
    let app = default_app(pool);
    let reply = send(&app, "GET", "/simulator", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.body.contains("data-simulator-id=\"free-play\" data-free-play data-preset=\"{&#34;brokers&#34;:3"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("<script type=\"module\" src=\"/static/simulator-view.js\"></script>"));
}

/// Reads a server-sent event stream one event at a time.
struct EventReader {
    body: Body,
    buffer: String,
}

/// One server-sent event: its fields (`event`, `id`, `retry`, `data`) by name.
type SseEvent = std::collections::BTreeMap<String, String>;

impl EventReader {
    async fn next(&mut self) -> SseEvent {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent::new();
                for line in block.lines().filter(|l| !l.starts_with(':') && !l.is_empty()) {
                    let (name, value) = line.split_once(':').unwrap_or((line, ""));
                    event.entry(name.to_owned()).or_default().push_str(value.strip_prefix(' ').unwrap_or(value));
                }
                if !event.is_empty() {
                    return event;
                }
                continue;
            }
            let frame = tokio::time::timeout(std::time::Duration::from_secs(10), self.body.frame())
                .await
                .expect("an event within 10 s")
                .expect("the stream goes on")
                .expect("a frame");
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }

    /// The next `snapshot` whose JSON satisfies `wanted` (earlier ones are skipped).
    async fn snapshot_where(&mut self, wanted: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            assert!(tokio::time::Instant::now() < deadline, "no snapshot as wanted within 15 s");
            let event = self.next().await;
            assert_eq!(event.get("event").map(String::as_str), Some("snapshot"), "{event:?}");
            let snapshot = json(&event["data"]);
            if wanted(&snapshot) {
                return snapshot;
            }
        }
    }
}

async fn open_live(app: &TestApp) -> (axum::http::HeaderMap, EventReader) {
    let request = Request::get("/api/live").body(Body::empty()).expect("request");
    let response = app.router.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    (headers, EventReader { body: response.into_body(), buffer: String::new() })
}

/// The log end offset of `topic`-`partition` in a snapshot, if shown.
fn log_end(snapshot: &serde_json::Value, topic: &str, partition: i64) -> Option<i64> {
    snapshot["topics"].as_array()?.iter().find(|t| t["name"] == topic)?["partitions"]
        .as_array()?
        .iter()
        .find(|p| p["partition"] == partition)?["log_end_offset"]
        .as_i64()
}

/// Produces records with raw bytes as keys and values to one partition, through the protocol.
async fn produce_bytes(addr: std::net::SocketAddr, topic: &str, partition: i32, records: &[(Option<&[u8]>, &[u8])]) {
    use broker::client::{BatchProducer, BatchRecord, encode_batch};
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    use kafka_protocol::messages::{ProduceRequest, TopicName};
    use kafka_protocol::protocol::StrBytes;
    use kafka_protocol::records::Compression;
    let records: Vec<BatchRecord<'_>> = records
        .iter()
        .map(|&(key, value)| BatchRecord {
            key,
            value: Some(value),
            timestamp_ms: 1_700_000_000_000,
            headers: Vec::new(),
        })
        .collect();
    let encoded = encode_batch(&records, Compression::None, BatchProducer::PLAIN).expect("encode");
    let mut data = PartitionProduceData::default();
    data.index = partition;
    data.records = Some(encoded);
    let mut topic_data = TopicProduceData::default();
    topic_data.name = TopicName(StrBytes::from_string(topic.to_owned()));
    topic_data.partition_data = vec![data];
    let mut produce = ProduceRequest::default();
    produce.acks = -1;
    produce.timeout_ms = 5_000;
    produce.topic_data = vec![topic_data];
    let mut client = broker::testkit::Client::connect(addr).await;
    assert_eq!(client.send(&produce, 9).await.responses[0].partition_responses[0].error_code, 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_live_view_streams_topics_offsets_and_group_lag(pool: SqlitePool) {
    let (app, broker, _broker_dir) = app_with_broker(pool).await;
    let kafka = Kafka::new(broker.local_addr());
    kafka.create_topic("orders", Some(2), None, &[]).await.expect("reach").expect("created");
    produce_bytes(broker.local_addr(), "orders", 0, &[(Some(b"k"), b"a"), (Some(b"k"), b"b")]).await;

    let (headers, mut events) = open_live(&app).await;
    assert_eq!(headers[header::CONTENT_TYPE], "text/event-stream");
    let first = events.next().await;
    assert_eq!(first.get("retry").map(String::as_str), Some("2000"), "EventSource retries after 2 s");
    assert_eq!(first["event"], "snapshot");
    let snapshot = json(&first["data"]);
    assert_eq!(snapshot["error"], serde_json::Value::Null);
    let orders =
        &snapshot["topics"].as_array().expect("topics").iter().find(|t| t["name"] == "orders").expect("orders");
    assert_eq!(
        orders["partitions"],
        serde_json::json!([
            { "partition": 0, "log_start_offset": 0, "log_end_offset": 2, "records": 2,
              "leader": 1, "leader_epoch": 0, "replicas": [1], "isr": [1], "offline_replicas": [], "elr": [] },
            { "partition": 1, "log_start_offset": 0, "log_end_offset": 0, "records": 0,
              "leader": 1, "leader_epoch": 0, "replicas": [1], "isr": [1], "offline_replicas": [], "elr": [] },
        ])
    );
    // The app in this test has no control over the broker: it lists the live brokers only.
    assert_eq!(
        snapshot["cluster"],
        serde_json::json!({
            "brokers": [{ "id": 1, "state": "up" }],
            "controllers": [],
            "quorum": { "leader_id": 3000, "leader_epoch": 1 },
            "controllable": false,
            "under_replicated_partitions": 0,
            "offline_partitions": 0,
        })
    );
    assert!(
        snapshot["topics"]
            .as_array()
            .expect("topics")
            .iter()
            .all(|t| !t["name"].as_str().expect("name").starts_with("__")),
        "internal topics are hidden: {snapshot}"
    );

    // Producing shows up in a later snapshot.
    produce_bytes(broker.local_addr(), "orders", 0, &[(None, b"c"), (None, b"d"), (None, b"e")]).await;
    let later = events.snapshot_where(|s| log_end(s, "orders", 0) == Some(5)).await;
    assert!(later["seq"].as_u64() > snapshot["seq"].as_u64());

    // A group that committed offset 1 of partition 0 lags by 4.
    kafka.commit_offsets("g1", "orders", &[(0, 1)]).await.expect("reach").expect("committed");
    let grouped = events.snapshot_where(|s| s["groups"].as_array().is_some_and(|g| !g.is_empty())).await;
    let group = &grouped["groups"][0];
    assert_eq!(group["group"], "g1");
    assert_eq!(group["state"], "Empty");
    assert_eq!(group["total_lag"], 4);
    assert_eq!(
        group["partitions"],
        serde_json::json!([{ "topic": "orders", "partition": 0, "member_id": null, "committed_offset": 1, "log_end_offset": 5, "lag": 4 }])
    );
    assert_eq!(group["lag_history"][0][1], 4);

    // Every connection shares the one poller.
    let (_, mut second) = open_live(&app).await;
    let shared = second.snapshot_where(|_| true).await;
    assert_eq!(shared["groups"][0]["total_lag"], 4);
    broker.shutdown().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn the_record_browser_shows_text_and_binary_records(pool: SqlitePool) {
    let (app, broker, _broker_dir) = app_with_broker(pool).await;
    let kafka = Kafka::new(broker.local_addr());
    kafka.create_topic("orders", Some(2), None, &[]).await.expect("reach").expect("created");
    produce_bytes(
        broker.local_addr(),
        "orders",
        1,
        &[(Some(b"user-42"), b"{\"id\":1}"), (None, &[0xff, 0x00, 0x80]), (Some(b"k"), b"three")],
    )
    .await;

    let reply = send(&app, "GET", "/api/topics/orders/partitions/1/records", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let page = json(&reply.body);
    assert_eq!((page["log_start_offset"].as_i64(), page["log_end_offset"].as_i64()), (Some(0), Some(3)));
    assert_eq!((page["offset"].as_i64(), page["next_offset"].as_i64()), (Some(0), Some(3)));
    assert_eq!(
        page["records"][0],
        serde_json::json!({
            "offset": 0, "timestamp": 1_700_000_000_000i64,
            "key": "dXNlci00Mg==", "value": "eyJpZCI6MX0=", "key_text": "user-42", "value_text": "{\"id\":1}",
        })
    );
    assert_eq!(
        page["records"][1],
        serde_json::json!({
            "offset": 1, "timestamp": 1_700_000_000_000i64, "key": null, "value": "/wCA", "key_text": null, "value_text": null,
        })
    );

    let paged = json(&send(&app, "GET", "/api/topics/orders/partitions/1/records?offset=1&limit=1", None).await.body);
    assert_eq!(paged["records"].as_array().map(Vec::len), Some(1));
    assert_eq!((paged["records"][0]["offset"].as_i64(), paged["next_offset"].as_i64()), (Some(1), Some(2)));
    let at_end = json(&send(&app, "GET", "/api/topics/orders/partitions/1/records?offset=3", None).await.body);
    assert_eq!(at_end["records"], serde_json::json!([]), "the log end offset is a valid place to wait at");

    for (uri, status, message) in [
        ("/api/topics/nope/partitions/0/records", StatusCode::NOT_FOUND, "topic `nope` does not exist"),
        (
            "/api/topics/orders/partitions/7/records",
            StatusCode::NOT_FOUND,
            "topic `orders` has no partition 7: its partitions are 0 to 1",
        ),
        (
            "/api/topics/orders/partitions/1/records?offset=9",
            StatusCode::BAD_REQUEST,
            "offset 9 is out of range: orders-1 has offsets 0 to 2 (log end offset 3)",
        ),
        (
            "/api/topics/orders/partitions/0/records?offset=-1",
            StatusCode::BAD_REQUEST,
            "offset -1 is out of range: orders-0 is empty, its next offset is 0",
        ),
        ("/api/topics/orders/partitions/x/records", StatusCode::BAD_REQUEST, "the partition must be a number, not `x`"),
        (
            "/api/topics/orders/partitions/1/records?limit=101",
            StatusCode::BAD_REQUEST,
            "the limit must be from 1 to 100, not 101",
        ),
        (
            "/api/topics/orders/partitions/1/records?limit=0",
            StatusCode::BAD_REQUEST,
            "the limit must be from 1 to 100, not 0",
        ),
    ] {
        let reply = send(&app, "GET", uri, None).await;
        assert_eq!(reply.status, status, "{uri}: {}", reply.body);
        assert_eq!(json(&reply.body)["error"], message, "{uri}");
    }
    let not_a_number = send(&app, "GET", "/api/topics/orders/partitions/1/records?offset=abc", None).await;
    assert_eq!(not_a_number.status, StatusCode::BAD_REQUEST);
    assert!(json(&not_a_number.body)["error"].as_str().expect("text").starts_with("expected ?offset=N&limit=M"));
    let range = json(&send(&app, "GET", "/api/topics/orders/partitions/1/records?offset=9", None).await.body);
    assert_eq!((range["log_start_offset"].as_i64(), range["log_end_offset"].as_i64()), (Some(0), Some(3)));
    broker.shutdown().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn live_views_without_a_broker_say_why(pool: SqlitePool) {
    // `default_app` points at a port nothing listens on.
    let app = default_app(pool);
    let (_, mut events) = open_live(&app).await;
    let snapshot = events.snapshot_where(|_| true).await;
    assert!(
        snapshot["error"].as_str().expect("an error").starts_with("the Kafka broker could not be asked"),
        "{snapshot}"
    );
    let reply = send(&app, "GET", "/api/topics/orders/partitions/0/records", None).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(json(&reply.body)["error"].as_str().expect("text").starts_with("the Kafka broker could not be asked"));
}

#[sqlx::test(migrations = "./migrations")]
async fn the_live_view_panel_is_on_lessons_with_exercises(pool: SqlitePool) {
    let app = test_app(pool, &[("01-events.md", EVENTS), ("03-keys.md", EXERCISE_LESSON)], false);
    let keys = send(&app, "GET", "/lessons/keys", None).await;
    assert!(keys.body.contains("<section class=\"live-view\" data-testid=\"live-view\""), "{}", keys.body);
    assert!(keys.body.contains("data-live-url=\"/api/live\""));
    assert!(keys.body.contains(
        "<noscript><p class=\"block-note\" data-testid=\"live-view-noscript\">The live view needs JavaScript."
    ));
    // Filled by a module from our own origin (the CSP allows no inline script).
    assert!(keys.body.contains("<script type=\"module\" src=\"/static/live-view.js\"></script>"));
    assert!(keys.body.contains("<div class=\"live-body\" hidden>"), "empty until the script fills it");
    let js = send(&app, "GET", "/static/live-view.js", None).await;
    assert_eq!((js.status, js.headers[header::CONTENT_TYPE].to_str().ok()), (StatusCode::OK, Some("text/javascript")));
    let events = send(&app, "GET", "/lessons/events", None).await;
    assert!(!events.body.contains("data-testid=\"live-view\""), "no exercise, no live view");
}

#[sqlx::test(migrations = "./migrations")]
async fn the_cluster_api_shows_the_nodes_and_stops_and_starts_them(pool: SqlitePool) {
    let broker_dir = tempfile::tempdir().expect("tempdir");
    let mut config = broker::BrokerConfig::new(([127, 0, 0, 1], 0).into(), broker_dir.path().to_owned());
    config.brokers = 3;
    config.controllers = 3;
    let broker = broker::Broker::start(config).await.expect("cluster");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("course.toml"), COURSE_TOML).expect("write");
    let source = CourseSource::Dir(dir.path().to_owned());
    let course = Course::load(&source).expect("course");
    let state = AppState::new(course, source, Progress::new(pool), Kafka::cluster(broker.broker_addrs()), false);
    state.set_cluster(broker.control());
    let app = TestApp { router: app(state), _dir: dir };

    let status = json(&send(&app, "GET", "/api/cluster", None).await.body);
    let brokers = status["brokers"].as_array().expect("brokers");
    assert_eq!(brokers.len(), 3);
    assert!(brokers.iter().all(|b| b["running"] == true && b["live"] == true), "{status}");
    let controllers = status["controllers"].as_array().expect("controllers");
    assert_eq!(controllers.iter().filter(|c| c["active"] == true).count(), 1, "{status}");
    assert_eq!(status["active_controller"], status["quorum"]["leader_id"]);
    assert_eq!(
        (status["under_replicated_partitions"].as_u64(), status["offline_partitions"].as_u64()),
        (Some(0), Some(0))
    );

    let stop = send(&app, "POST", "/api/cluster/brokers/2/stop", None).await;
    assert_eq!((stop.status, json(&stop.body)["ok"].as_bool()), (StatusCode::OK, Some(true)));
    let again = send(&app, "POST", "/api/cluster/brokers/2/stop", None).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(json(&again.body)["error"], "broker 2 is already stopped");
    assert_eq!(send(&app, "POST", "/api/cluster/brokers/9/stop", None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, "POST", "/api/cluster/nodes/1/stop", None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, "POST", "/api/cluster/brokers/one/stop", None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(send(&app, "POST", "/api/cluster/brokers/1/reboot", None).await.status, StatusCode::NOT_FOUND);
    let status = json(&send(&app, "GET", "/api/cluster", None).await.body);
    assert_eq!(status["brokers"][1]["running"], false, "{status}");

    let start = send(&app, "POST", "/api/cluster/brokers/2/start", None).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    let status = json(&send(&app, "GET", "/api/cluster", None).await.body);
    assert_eq!(status["brokers"][1]["running"], true, "{status}");
    broker.shutdown().await;
}

#[sqlx::test(migrations = "./migrations")]
async fn a_form_posted_from_another_site_changes_nothing(pool: SqlitePool) {
    let app = default_app(pool);
    let cookie = learner_cookie(&send(&app, "GET", "/", None).await);
    let post = |headers: &'static [(&'static str, &'static str)]| {
        let router = app.router.clone();
        let cookie = cookie.clone();
        async move {
            let mut request = Request::post("/lessons/events/complete")
                .header(header::COOKIE, cookie)
                .header(header::HOST, "lab.example");
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            router.oneshot(request.body(Body::empty()).expect("request")).await.expect("response").status()
        }
    };
    assert_eq!(post(&[("sec-fetch-site", "cross-site")]).await, StatusCode::FORBIDDEN);
    assert_eq!(post(&[("sec-fetch-site", "same-site")]).await, StatusCode::FORBIDDEN, "a sibling subdomain");
    assert_eq!(post(&[("origin", "https://evil.example")]).await, StatusCode::FORBIDDEN);
    let map = send(&app, "GET", "/", Some(&cookie)).await;
    assert_eq!(progress_of(&map.body, "events"), "not-started", "nothing was recorded");
    // The API says why, as JSON.
    let request = Request::post("/api/console")
        .header(header::CONTENT_TYPE, "application/json")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(r#"{"script": "kafka-topics.sh --list"}"#))
        .expect("request");
    let response = app.router.clone().oneshot(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    assert!(
        json(&String::from_utf8_lossy(&bytes))["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("cross-site request refused"))
    );
    // The page's own form, from the same origin, still works.
    assert_eq!(
        post(&[("sec-fetch-site", "same-origin"), ("origin", "http://lab.example")]).await,
        StatusCode::SEE_OTHER
    );
    let map = send(&app, "GET", "/", Some(&cookie)).await;
    assert_eq!(progress_of(&map.body, "events"), "completed");
}

#[sqlx::test(migrations = "./migrations")]
async fn requests_without_a_cookie_store_nothing(pool: SqlitePool) {
    let app = default_app(pool.clone());
    let rows = |query: &'static str| {
        let pool = pool.clone();
        async move {
            let (count,): (i64,) = sqlx::query_as(query).fetch_one(&pool).await.expect("count");
            count
        }
    };
    // A crawler: never sends the cookie back, however many pages it reads.
    for path in ["/", "/lessons/events", "/lessons/offsets", "/lessons/events"] {
        let reply = send(&app, "GET", path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert!(reply.headers.get(header::SET_COOKIE).is_some(), "every first visit is offered a cookie");
    }
    assert_eq!(send(&app, "POST", "/lessons/events/complete", None).await.status, StatusCode::SEE_OTHER);
    let (learners, lessons) = ("SELECT COUNT(*) FROM learners", "SELECT COUNT(*) FROM lesson_progress");
    assert_eq!((rows(learners).await, rows(lessons).await), (0, 0));
    // A browser comes back with its cookie: from then on its progress is kept.
    let cookie = learner_cookie(&send(&app, "GET", "/", None).await);
    send(&app, "GET", "/lessons/events", Some(&cookie)).await;
    assert_eq!((rows(learners).await, rows(lessons).await), (1, 1));
}
