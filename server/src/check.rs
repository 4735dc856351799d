//! `streamlab lessons check [DIR]`: the lesson engine's diagnostics, for authors and CI.

use std::io::Write;
use std::path::Path;

use crate::course::{Course, CourseSource};

/// Checks the course in `dir`, writes `file:line: message` per problem to `out` and a summary to
/// `summary`, and returns whether the course is clean.
pub fn run(dir: &Path, out: &mut impl Write, summary: &mut impl Write) -> std::io::Result<bool> {
    let course = match Course::load(&CourseSource::Dir(dir.to_owned())) {
        Ok(course) => course,
        Err(error) => {
            writeln!(summary, "error: cannot read the course directory {}: {error}", dir.display())?;
            return Ok(false);
        }
    };
    for diagnostic in &course.diagnostics {
        writeln!(out, "{diagnostic}")?;
    }
    let lessons = course.lessons.len();
    let exercises: usize = course.lessons.iter().map(|l| l.exercises.len()).sum();
    let simulators: usize = course.lessons.iter().map(|l| l.simulators.len()).sum();
    let problems = course.diagnostics.len();
    writeln!(
        summary,
        "checked {lessons} {}, {exercises} {}, {simulators} {}: {}",
        if lessons == 1 { "lesson" } else { "lessons" },
        if exercises == 1 { "exercise" } else { "exercises" },
        if simulators == 1 { "simulator" } else { "simulators" },
        match problems {
            0 => "no problems".to_owned(),
            1 => "1 problem".to_owned(),
            n => format!("{n} problems"),
        }
    )?;
    Ok(problems == 0)
}
