//! Where a course's files come from: the course compiled into the binary, or a directory.

use std::path::{Path, PathBuf};

use rust_embed::RustEmbed;

/// The default course, `lessons/` at the repository root, compiled into the binary so that
/// `streamlab` copied alone to another machine serves it.
#[derive(RustEmbed)]
#[folder = "../lessons"]
#[include = "*.md"]
#[include = "course.toml"]
struct BuiltInCourse;

/// The course description file, next to the lessons.
pub const COURSE_FILE: &str = "course.toml";

#[derive(Debug, Clone)]
pub enum CourseSource {
    BuiltIn,
    Dir(PathBuf),
}

/// One file of a course, read whole.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The bare file name (`01-events.md`): links between lessons use it.
    pub name: String,
    /// The name shown in diagnostics (`lessons/01-events.md`).
    pub display: String,
    /// `None` when the bytes are not UTF-8.
    pub text: Option<String>,
}

impl CourseSource {
    /// Reads `course.toml` (if any) and every `*.md` file directly in the course, sorted by name.
    pub fn read(&self) -> std::io::Result<(Option<SourceFile>, Vec<SourceFile>)> {
        let mut files: Vec<SourceFile> = match self {
            CourseSource::BuiltIn => BuiltInCourse::iter()
                .filter(|name| !name.contains('/'))
                .filter_map(|name| {
                    let file = BuiltInCourse::get(&name)?;
                    Some(SourceFile {
                        display: format!("lessons/{name}"),
                        name: name.into_owned(),
                        text: String::from_utf8(file.data.into_owned()).ok(),
                    })
                })
                .collect(),
            CourseSource::Dir(dir) => read_dir(dir)?,
        };
        files.sort_by(|a, b| a.name.cmp(&b.name));
        let course_file = files.iter().position(|f| f.name == COURSE_FILE).map(|i| files.remove(i));
        files.retain(|f| f.name.ends_with(".md") && !f.name.eq_ignore_ascii_case("README.md"));
        Ok((course_file, files))
    }

    /// The directory to watch for live reload, if the course lives on disk.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            CourseSource::BuiltIn => None,
            CourseSource::Dir(dir) => Some(dir),
        }
    }
}

fn read_dir(dir: &Path) -> std::io::Result<Vec<SourceFile>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let wanted = name == COURSE_FILE || name.ends_with(".md");
        if !wanted || !entry.file_type()?.is_file() {
            continue;
        }
        let bytes = std::fs::read(entry.path())?;
        files.push(SourceFile {
            display: dir.join(&name).display().to_string(),
            name,
            text: String::from_utf8(bytes).ok(),
        });
    }
    Ok(files)
}
