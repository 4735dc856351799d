//! The lesson engine: a course directory in, a validated, rendered [`Course`] out.
//!
//! Loading never fails on a broken lesson: every problem becomes a [`Diagnostic`] that
//! `streamlab lessons check` prints and the pages show to the author, and the rest of the course
//! still renders. Lessons are rendered once at load time (and again on each change in `--dev`), so
//! serving a lesson page costs a template fill, not a markdown parse.
//!
//! Loading runs in three passes: read the front matter of every file (so links can name any
//! lesson), render each body, then check what spans lessons (links, prerequisites, ids).

pub mod blocks;
pub mod diagnostic;
pub mod front_matter;
pub mod highlight;
pub mod render;
pub mod source;

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

pub use diagnostic::Diagnostic;
pub use render::OutlineEntry;
pub use source::CourseSource;

use blocks::{Exercise, SimulatorPreset, is_kebab_case};
use diagnostic::{line_of_key, toml_error};
use render::{LinkTarget, RenderContext};
use source::SourceFile;

/// `course.toml`: the course's title and its modules, in teaching order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CourseFile {
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default, rename = "module")]
    modules: Vec<ModuleFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleFile {
    id: String,
    title: String,
    #[serde(default)]
    summary: String,
}

/// A loaded course: modules in teaching order, lessons in reading order.
#[derive(Debug, Default)]
pub struct Course {
    pub title: String,
    pub summary: String,
    pub modules: Vec<Module>,
    /// Reading order: by module, then by `order`. Lessons whose module is unknown or whose front
    /// matter is broken come last, so the author can still open them and read the error.
    pub lessons: Vec<Lesson>,
    by_slug: HashMap<String, usize>,
    /// Every problem in the course, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone)]
pub struct Module {
    pub id: String,
    pub title: String,
    pub summary: String,
    /// Indexes into [`Course::lessons`].
    pub lessons: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Lesson {
    pub slug: String,
    pub title: String,
    pub module: String,
    pub order: u32,
    pub summary: String,
    pub estimated_minutes: Option<u32>,
    pub prerequisites: Vec<String>,
    /// As shown in diagnostics.
    pub file: String,
    pub html: String,
    pub outline: Vec<OutlineEntry>,
    pub exercises: Vec<Exercise>,
    pub simulators: Vec<SimulatorPreset>,
    /// The problems in this lesson, shown at the top of its page.
    pub diagnostics: Vec<Diagnostic>,
    anchors: HashSet<String>,
}

/// The module that collects lessons the course cannot place.
pub const UNPLACED_MODULE: &str = "unplaced";

impl Course {
    /// Loads and checks a course. Only an unreadable source is an error; everything wrong inside
    /// a file is a diagnostic.
    pub fn load(source: &CourseSource) -> std::io::Result<Course> {
        let (course_file, files) = source.read()?;
        Ok(Self::from_files(course_file, files))
    }

    pub fn lesson(&self, slug: &str) -> Option<&Lesson> {
        self.by_slug.get(slug).map(|&i| &self.lessons[i])
    }

    /// The lessons before and after `slug` in reading order.
    pub fn neighbours(&self, slug: &str) -> (Option<&Lesson>, Option<&Lesson>) {
        let Some(&i) = self.by_slug.get(slug) else { return (None, None) };
        let prev = i.checked_sub(1).map(|p| &self.lessons[p]);
        (prev, self.lessons.get(i + 1))
    }

    /// The exercise with this id and the lesson it is in.
    pub fn exercise(&self, id: &str) -> Option<(&Lesson, &Exercise)> {
        self.lessons.iter().find_map(|lesson| lesson.exercises.iter().find(|e| e.id == id).map(|e| (lesson, e)))
    }

    /// The simulator block with this id, and its lesson.
    pub fn simulator(&self, id: &str) -> Option<(&Lesson, &SimulatorPreset)> {
        self.lessons.iter().find_map(|lesson| lesson.simulators.iter().find(|s| s.id == id).map(|s| (lesson, s)))
    }

    pub fn module(&self, id: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.id == id)
    }

    fn from_files(course_file: Option<SourceFile>, files: Vec<SourceFile>) -> Course {
        let mut diagnostics = Vec::new();
        let mut course = Course { title: "Streamlab".into(), ..Course::default() };

        // course.toml: optional; without it, modules are named by their ids in order of appearance.
        let mut declared = Vec::new();
        if let Some(file) = &course_file {
            match file.text.as_deref().map(toml::from_str::<CourseFile>) {
                None => diagnostics.push(Diagnostic::new(&file.display, 1, "file is not valid UTF-8")),
                Some(Err(e)) => {
                    let (line, message) = toml_error(file.text.as_deref().unwrap_or(""), &e);
                    diagnostics.push(Diagnostic::new(&file.display, line, message));
                }
                Some(Ok(parsed)) => {
                    course.title = parsed.title;
                    course.summary = parsed.summary;
                    let text = file.text.as_deref().unwrap_or("");
                    for module in parsed.modules {
                        if !is_kebab_case(&module.id) {
                            diagnostics.push(Diagnostic::new(
                                &file.display,
                                line_of_key(text, "id"),
                                format!("module id `{}` must be kebab-case", module.id),
                            ));
                        }
                        if declared.iter().any(|m: &ModuleFile| m.id == module.id) {
                            diagnostics.push(Diagnostic::new(
                                &file.display,
                                line_of_key(text, "id"),
                                format!("module `{}` is declared twice", module.id),
                            ));
                            continue;
                        }
                        declared.push(module);
                    }
                }
            }
        }

        // Pass 1: front matter of every lesson.
        let mut heads = Vec::new();
        for file in &files {
            let stem_slug = slug_from_file_name(&file.name);
            let Some(text) = &file.text else {
                diagnostics.push(Diagnostic::new(&file.display, 1, "file is not valid UTF-8"));
                heads.push(Head::broken(file, stem_slug));
                continue;
            };
            match front_matter::split(text) {
                Err((line, message)) => {
                    diagnostics.push(Diagnostic::new(&file.display, line, message));
                    heads.push(Head::broken(file, stem_slug));
                }
                Ok(split) => {
                    let fm = split.front_matter;
                    let slug = fm.slug.clone().unwrap_or(stem_slug);
                    let front_text = &text[..text.len() - split.body.len()];
                    if !is_kebab_case(&slug) {
                        diagnostics.push(Diagnostic::new(
                            &file.display,
                            line_of_key(front_text, "slug"),
                            format!("slug `{slug}` must be kebab-case (a-z, 0-9 and single hyphens)"),
                        ));
                    }
                    heads.push(Head {
                        file,
                        slug,
                        title: fm.title,
                        module: Some(fm.module),
                        order: fm.order,
                        summary: fm.summary,
                        estimated_minutes: fm.estimated_minutes,
                        prerequisites: fm.prerequisites,
                        body: split.body,
                        body_line: split.body_line,
                        front_text,
                    });
                }
            }
        }

        // Slugs are URLs and progress keys: the first file (by name) keeps a duplicated one.
        let mut first_file_of_slug: HashMap<String, String> = HashMap::new();
        for head in &mut heads {
            if let Some(first) = first_file_of_slug.get(&head.slug) {
                diagnostics.push(Diagnostic::new(
                    &head.file.display,
                    line_of_key(head.front_text, "slug"),
                    format!("slug `{}` is already used by {first}", head.slug),
                ));
                head.slug = format!("{}-{}", head.slug, slug_from_file_name(&head.file.name).replace('-', ""));
            } else {
                first_file_of_slug.insert(head.slug.clone(), head.file.display.clone());
            }
        }
        let lesson_files: HashMap<String, String> =
            heads.iter().map(|h| (h.file.name.clone(), h.slug.clone())).collect();

        // Modules: declared ones in order, then any a lesson names without a course.toml.
        if course_file.is_none() {
            for head in &heads {
                if let Some(module) = &head.module
                    && !declared.iter().any(|m| &m.id == module)
                {
                    declared.push(ModuleFile { id: module.clone(), title: title_case(module), summary: String::new() });
                }
            }
        }
        for head in &heads {
            if let Some(module) = &head.module
                && !declared.iter().any(|m| &m.id == module)
            {
                let known: Vec<&str> = declared.iter().map(|m| m.id.as_str()).collect();
                diagnostics.push(Diagnostic::new(
                    &head.file.display,
                    line_of_key(head.front_text, "module"),
                    format!("module `{module}` is not declared in course.toml (declared: {})", known.join(", ")),
                ));
            }
        }

        // Pass 2: render every body.
        let mut lessons = Vec::new();
        let mut links = Vec::new();
        for head in heads {
            let rendered = render::render_body(
                head.body,
                &RenderContext { file: &head.file.display, first_line: head.body_line, lesson_files: &lesson_files },
            );
            let placed = head.module.as_ref().is_some_and(|m| declared.iter().any(|d| &d.id == m));
            links.push((lessons.len(), rendered.links));
            diagnostics.extend(rendered.diagnostics);
            lessons.push(Lesson {
                slug: head.slug,
                title: head.title,
                module: if placed { head.module.unwrap_or_default() } else { UNPLACED_MODULE.to_owned() },
                order: head.order,
                summary: head.summary,
                estimated_minutes: head.estimated_minutes,
                prerequisites: head.prerequisites,
                file: head.file.display.clone(),
                html: rendered.html,
                outline: rendered.outline,
                exercises: rendered.exercises.into_iter().map(|(_, e)| e).collect(),
                simulators: rendered.simulators.into_iter().map(|(_, s)| s).collect(),
                diagnostics: Vec::new(),
                anchors: rendered.anchors,
            });
        }

        // Pass 3: what spans lessons.
        let slug_index: HashMap<&str, usize> = lessons.iter().enumerate().map(|(i, l)| (l.slug.as_str(), i)).collect();
        for (i, lesson_links) in &links {
            let lesson = &lessons[*i];
            for link in lesson_links {
                let target = match &link.target {
                    LinkTarget::ThisLesson => Some(*i),
                    LinkTarget::Lesson(slug) => slug_index.get(slug.as_str()).copied(),
                };
                let Some(target) = target else {
                    diagnostics.push(Diagnostic::new(
                        &lesson.file,
                        link.line,
                        format!("link to `{}`: no lesson has that slug", link.written),
                    ));
                    continue;
                };
                if let Some(fragment) = &link.fragment
                    && !lessons[target].anchors.contains(fragment)
                {
                    diagnostics.push(Diagnostic::new(
                        &lesson.file,
                        link.line,
                        format!(
                            "link to `{}`: lesson `{}` has no heading or anchor `#{fragment}`",
                            link.written, lessons[target].slug
                        ),
                    ));
                }
            }
        }
        for lesson in &lessons {
            for prerequisite in &lesson.prerequisites {
                if !slug_index.contains_key(prerequisite.as_str()) {
                    diagnostics.push(Diagnostic::new(
                        &lesson.file,
                        line_of_key(&front_text_of(&files, &lesson.file), "prerequisites"),
                        format!("prerequisite `{prerequisite}` is not the slug of any lesson"),
                    ));
                }
            }
        }
        check_unique_block_ids(&lessons, &files, &mut diagnostics);
        check_unique_orders(&lessons, &files, &mut diagnostics);

        // Reading order and modules.
        let module_rank = |id: &str| declared.iter().position(|m| m.id == id).unwrap_or(usize::MAX);
        lessons.sort_by(|a, b| {
            (module_rank(&a.module), a.order, &a.slug).cmp(&(module_rank(&b.module), b.order, &b.slug))
        });
        let mut modules: Vec<Module> = declared
            .into_iter()
            .map(|m| Module { id: m.id, title: m.title, summary: m.summary, lessons: Vec::new() })
            .collect();
        for (i, lesson) in lessons.iter().enumerate() {
            match modules.iter_mut().find(|m| m.id == lesson.module) {
                Some(module) => module.lessons.push(i),
                None => {
                    modules.push(Module {
                        id: UNPLACED_MODULE.into(),
                        title: "Lessons with problems".into(),
                        summary: "These lessons could not be placed in the course; their pages say why.".into(),
                        lessons: vec![i],
                    });
                }
            }
        }
        modules.retain(|m| !m.lessons.is_empty());

        diagnostics.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        diagnostics.dedup();
        for lesson in &mut lessons {
            lesson.diagnostics = diagnostics.iter().filter(|d| d.file == lesson.file).cloned().collect();
        }
        course.by_slug = lessons.iter().enumerate().map(|(i, l)| (l.slug.clone(), i)).collect();
        course.lessons = lessons;
        course.modules = modules;
        course.diagnostics = diagnostics;
        course
    }
}

/// A lesson after pass 1.
struct Head<'a> {
    file: &'a SourceFile,
    slug: String,
    title: String,
    /// `None` when the front matter could not be read.
    module: Option<String>,
    order: u32,
    summary: String,
    estimated_minutes: Option<u32>,
    prerequisites: Vec<String>,
    body: &'a str,
    body_line: usize,
    front_text: &'a str,
}

impl<'a> Head<'a> {
    /// A lesson whose front matter is unusable: listed under its file name so the page can show
    /// the author what is wrong.
    fn broken(file: &'a SourceFile, slug: String) -> Self {
        Head {
            file,
            slug,
            title: file.name.clone(),
            module: None,
            order: u32::MAX,
            summary: "This lesson has errors.".into(),
            estimated_minutes: None,
            prerequisites: Vec::new(),
            body: "",
            body_line: 1,
            front_text: "",
        }
    }
}

/// `02-topics-and-partitions.md` → `topics-and-partitions`.
fn slug_from_file_name(name: &str) -> String {
    let stem = name.strip_suffix(".md").unwrap_or(name);
    let stem = stem.trim_start_matches(|c: char| c.is_ascii_digit());
    let stem = stem.strip_prefix(['-', '_']).unwrap_or(stem);
    let slug = render::slugify(&stem.replace('_', "-"));
    if slug.is_empty() { "lesson".into() } else { slug }
}

fn title_case(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The front matter text of a file, to find the line of a key in it.
fn front_text_of(files: &[SourceFile], display: &str) -> String {
    let text = files.iter().find(|f| f.display == display).and_then(|f| f.text.as_deref()).unwrap_or("");
    match front_matter::split(text) {
        Ok(split) => text[..text.len() - split.body.len()].to_owned(),
        Err(_) => String::new(),
    }
}

fn check_unique_block_ids(lessons: &[Lesson], files: &[SourceFile], diagnostics: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<String, String> = HashMap::new();
    for lesson in lessons {
        let text = files.iter().find(|f| f.display == lesson.file).and_then(|f| f.text.as_deref()).unwrap_or("");
        let ids = lesson
            .exercises
            .iter()
            .map(|e| ("exercise", e.id.as_str()))
            .chain(lesson.simulators.iter().map(|s| ("simulator", s.id.as_str())));
        for (kind, id) in ids {
            let key = format!("{kind} {id}");
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with("id") && l.contains(&format!("\"{id}\"")))
                .map_or(1, |i| i + 1);
            if let Some(first) = seen.get(&key) {
                diagnostics.push(Diagnostic::new(
                    &lesson.file,
                    line,
                    format!("{kind} id `{id}` is already used in {first}; ids are unique across the course"),
                ));
            } else {
                seen.insert(key, lesson.file.clone());
            }
        }
    }
}

fn check_unique_orders(lessons: &[Lesson], files: &[SourceFile], diagnostics: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<(&str, u32), &str> = HashMap::new();
    for lesson in lessons.iter().filter(|l| l.module != UNPLACED_MODULE) {
        if let Some(first) = seen.insert((&lesson.module, lesson.order), &lesson.slug) {
            diagnostics.push(Diagnostic::new(
                &lesson.file,
                line_of_key(&front_text_of(files, &lesson.file), "order"),
                format!("order {} in module `{}` is also used by lesson `{first}`", lesson.order, lesson.module),
            ));
        }
    }
}

#[cfg(test)]
mod tests;
