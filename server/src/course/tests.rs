//! Course-level checks: what spans files (links, prerequisites, ids, modules, order).

use super::source::SourceFile;
use super::*;

fn file(name: &str, text: &str) -> SourceFile {
    SourceFile { name: name.into(), display: format!("lessons/{name}"), text: Some(text.into()) }
}

const COURSE: &str = "title = \"Learn Kafka\"\n[[module]]\nid = \"foundations\"\ntitle = \"Foundations\"\n";

fn lesson(slug: &str, order: u32, extra: &str, body: &str) -> String {
    format!(
        "+++\ntitle = \"{slug} title\"\nslug = \"{slug}\"\nmodule = \"foundations\"\norder = {order}\n{extra}+++\n{body}"
    )
}

fn load(files: Vec<SourceFile>) -> Course {
    Course::from_files(Some(file("course.toml", COURSE)), files)
}

#[test]
fn lessons_are_ordered_and_linked() {
    let course = load(vec![
        file("b.md", &lesson("offsets", 2, "", "## Commits\n")),
        file("a.md", &lesson("events", 1, "", "Next: [offsets](b.md#commits)\n")),
    ]);
    assert_eq!(course.diagnostics, []);
    let slugs: Vec<&str> = course.lessons.iter().map(|l| l.slug.as_str()).collect();
    assert_eq!(slugs, ["events", "offsets"]);
    assert_eq!(course.modules[0].lessons, [0, 1]);
    let (prev, next) = course.neighbours("events");
    assert!(prev.is_none());
    assert_eq!(next.map(|l| l.slug.as_str()), Some("offsets"));
    assert!(course.lesson("events").expect("events").html.contains("href=\"/lessons/offsets#commits\""));
}

#[test]
fn broken_links_and_anchors_are_reported_at_their_line() {
    let course = load(vec![
        file("a.md", &lesson("events", 1, "", "\n[gone](/lessons/nope)\n\n[bad anchor](b.md#missing)\n")),
        file("b.md", &lesson("offsets", 2, "", "## Commits\n")),
    ]);
    let messages: Vec<String> = course.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "lessons/a.md:8: link to `/lessons/nope`: no lesson has that slug",
            "lessons/a.md:10: link to `b.md#missing`: lesson `offsets` has no heading or anchor `#missing`",
        ]
    );
    assert_eq!(course.lesson("events").expect("events").diagnostics.len(), 2);
}

#[test]
fn duplicate_slugs_unknown_modules_and_prerequisites() {
    let course = load(vec![
        file("a.md", &lesson("events", 1, "prerequisites = [\"nothing\"]\n", "")),
        file("b.md", &lesson("events", 2, "", "")),
        file("c.md", "+++\ntitle = \"C\"\nmodule = \"advanced\"\norder = 1\n+++\n"),
    ]);
    let messages: Vec<String> = course.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "lessons/a.md:6: prerequisite `nothing` is not the slug of any lesson",
            "lessons/b.md:3: slug `events` is already used by lessons/a.md",
            "lessons/c.md:3: module `advanced` is not declared in course.toml (declared: foundations)",
        ]
    );
    // The lesson with an unknown module is still reachable, under the "unplaced" module.
    let c = course.lesson("c").expect("slug from the file name");
    assert_eq!(c.module, UNPLACED_MODULE);
    assert_eq!(course.modules.last().map(|m| m.id.as_str()), Some(UNPLACED_MODULE));
}

#[test]
fn broken_front_matter_keeps_the_lesson_reachable_with_its_error() {
    let course = load(vec![file("04-consumer-groups.md", "+++\ntitle = 3\n+++\n")]);
    let lesson = course.lesson("consumer-groups").expect("slug from the file name");
    assert_eq!(lesson.title, "04-consumer-groups.md");
    assert_eq!(
        lesson.diagnostics,
        [Diagnostic::new(
            "lessons/04-consumer-groups.md",
            2,
            "front matter: invalid type: integer `3`, expected a string"
        )]
    );
}

#[test]
fn duplicate_exercise_ids_and_orders_are_reported() {
    let exercise = "```exercise\nid = \"twice\"\ntitle = \"T\"\ntask = \"t\"\nsolution = \"s\"\n[[check]]\nkind = \"topic\"\ntopic = \"t\"\n```\n";
    let course =
        load(vec![file("a.md", &lesson("one", 1, "", exercise)), file("b.md", &lesson("two", 1, "", exercise))]);
    let messages: Vec<String> = course.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "lessons/b.md:5: order 1 in module `foundations` is also used by lesson `one`",
            "lessons/b.md:8: exercise id `twice` is already used in lessons/a.md; ids are unique across the course",
        ]
    );
}

#[test]
fn course_toml_errors_have_lines() {
    let course = Course::from_files(Some(file("course.toml", "title = \"x\"\n[[module]]\nid = \"m\"\n")), vec![]);
    assert_eq!(course.diagnostics, [Diagnostic::new("lessons/course.toml", 2, "missing field `title`")]);
}

#[test]
fn without_course_toml_modules_come_from_lessons() {
    let course =
        Course::from_files(None, vec![file("a.md", "+++\ntitle = \"A\"\nmodule = \"first-steps\"\norder = 1\n+++\n")]);
    assert_eq!(course.diagnostics, []);
    assert_eq!(course.modules[0].title, "First Steps");
}

/// The course shipped in the binary must always be clean.
#[test]
fn built_in_course_has_no_problems() {
    let course = Course::load(&CourseSource::BuiltIn).expect("built-in course");
    assert_eq!(course.diagnostics, []);
    assert!(course.lessons.len() >= 3, "the starter lessons");
}
