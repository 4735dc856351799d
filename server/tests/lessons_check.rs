//! `streamlab lessons check`, run as authors run it: the real binary on a directory.

use std::path::Path;
use std::process::Command;

fn check(dir: &Path) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_streamlab"))
        .args(["lessons", "check"])
        .arg(dir)
        .output()
        .expect("run streamlab");
    (
        output.status.code(),
        String::from_utf8(output.stdout).expect("utf-8"),
        String::from_utf8(output.stderr).expect("utf-8"),
    )
}

#[test]
fn the_shipped_course_is_clean() {
    let lessons = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lessons");
    let (code, stdout, stderr) = check(&lessons);
    assert_eq!(stdout, "");
    assert!(stderr.ends_with(": no problems\n"), "{stderr}");
    assert_eq!(code, Some(0));
}

#[test]
fn a_seeded_error_is_reported_with_its_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("course.toml"), "title = \"T\"\n[[module]]\nid = \"m\"\ntitle = \"M\"\n")
        .expect("write");
    std::fs::write(
        dir.path().join("01-good.md"),
        "+++\ntitle = \"Good\"\nmodule = \"m\"\norder = 1\n+++\n\nSee [the bad one](02-bad.md#nowhere).\n",
    )
    .expect("write");
    // Line 10 holds a partition count of the wrong type inside an exercise block.
    std::fs::write(
        dir.path().join("02-bad.md"),
        "+++\ntitle = \"Bad\"\nmodule = \"m\"\norder = 2\n+++\n\n```exercise\nid = \"e\"\ntitle = \"E\"\n\
         task = \"t\"\nsolution = \"s\"\n[[check]]\nkind = \"topic\"\ntopic = \"orders\"\npartitions = \"three\"\n```\n",
    )
    .expect("write");
    let (code, stdout, stderr) = check(dir.path());
    let d = dir.path().display();
    assert_eq!(
        stdout,
        format!(
            "{d}/01-good.md:7: link to `02-bad.md#nowhere`: lesson `bad` has no heading or anchor `#nowhere`\n\
             {d}/02-bad.md:15: exercise block: invalid type: string \"three\", expected u32\n"
        )
    );
    assert_eq!(stderr, "checked 2 lessons, 0 exercises, 0 simulators: 2 problems\n");
    assert_eq!(code, Some(1));
}

#[test]
fn a_missing_directory_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stdout, stderr) = check(&dir.path().join("absent"));
    assert_eq!(stdout, "");
    assert!(stderr.starts_with("error: cannot read the course directory"), "{stderr}");
    assert_eq!(code, Some(1));
}
