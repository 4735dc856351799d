//! Markdown to HTML for one lesson body, done once at load time.
//!
//! pulldown-cmark parses CommonMark with the GitHub extensions authors expect (tables, footnotes,
//! task lists, strikethrough, `> [!NOTE]` callouts). We rewrite a few events on the way to its
//! HTML writer:
//!
//! * headings get GitHub-style ids and a `#` anchor, and `##`/`###` feed the page outline;
//! * callouts become `<aside class="callout callout-note">` with a visible title;
//! * fenced code is highlighted ([`super::highlight`]); `exercise` and `simulator` blocks are
//!   parsed as TOML ([`super::blocks`]) and rendered as structured sections;
//! * links to other lesson files (`03-offsets.md#anchor`) become `/lessons/offsets#anchor` and are
//!   recorded so the course can check that their target and anchor exist.
//!
//! Every problem found is a [`Diagnostic`] with the line in the lesson file.

use std::collections::{HashMap, HashSet};

use pulldown_cmark::{BlockQuoteKind, CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::blocks::{self, Exercise, SimulatorPreset};
use super::diagnostic::{Diagnostic, line_at};
use super::highlight::{code_block, escape};

/// One entry of the page outline (the `##` and `###` headings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineEntry {
    /// 2 or 3.
    pub level: u8,
    pub id: String,
    pub text: String,
}

/// Where a link inside a lesson points, when it points at the course itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    /// `#anchor` on the same page.
    ThisLesson,
    /// `/lessons/{slug}` (also what a lesson-file link was rewritten to).
    Lesson(String),
}

/// A link to be checked once every lesson is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseLink {
    pub target: LinkTarget,
    pub fragment: Option<String>,
    /// The destination as the author wrote it, for the error message.
    pub written: String,
    pub line: usize,
}

/// What rendering one lesson body produced.
#[derive(Debug, Default)]
pub struct RenderedBody {
    pub html: String,
    pub outline: Vec<OutlineEntry>,
    /// Every `id` on the page a link may point at.
    pub anchors: HashSet<String>,
    pub links: Vec<CourseLink>,
    pub exercises: Vec<(usize, Exercise)>,
    pub simulators: Vec<(usize, SimulatorPreset)>,
    pub diagnostics: Vec<Diagnostic>,
}

/// What the renderer needs to know about the file and the rest of the course.
#[derive(Debug)]
pub struct RenderContext<'a> {
    /// The file name shown in diagnostics.
    pub file: &'a str,
    /// The file line on which the markdown body starts (after the front matter).
    pub first_line: usize,
    /// Lesson file name (`03-offsets.md`) → slug, to rewrite links between lesson files.
    pub lesson_files: &'a HashMap<String, String>,
}

/// The markdown dialect of lessons.
pub fn markdown_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_GFM
        | Options::ENABLE_HEADING_ATTRIBUTES
}

pub fn render_body(body: &str, cx: &RenderContext<'_>) -> RenderedBody {
    let mut out = RenderedBody::default();
    let mut events: Vec<Event<'_>> = Vec::new();
    let line_of = |offset: usize| cx.first_line + line_at(body, offset) - 1;
    let mut parser = Parser::new_ext(body, markdown_options()).into_offset_iter();
    // A task-list item's checkbox is wrapped in a <label> with the item's text, up to the first
    // block inside it, so that each "Check yourself" box is named by what it says.
    let mut task_label_open = false;

    while let Some((event, range)) = parser.next() {
        if task_label_open && ends_task_label(&event) {
            events.push(Event::Html("</label>".into()));
            task_label_open = false;
        }
        match event {
            Event::TaskListMarker(checked) => {
                let checked = if checked { " checked" } else { "" };
                events.push(Event::Html(
                    format!("<label class=\"task-label\"><input type=\"checkbox\" disabled{checked}>").into(),
                ));
                task_label_open = true;
            }
            Event::Start(Tag::Heading { level, id, .. }) => {
                let mut inner = Vec::new();
                for (event, _) in parser.by_ref() {
                    if matches!(event, Event::End(TagEnd::Heading(_))) {
                        break;
                    }
                    inner.push(event);
                }
                let text = plain_text(&inner);
                let base = id.map_or_else(|| slugify(&text), |id| id.to_string());
                let id = unique_id(&mut out.anchors, base);
                let n = heading_number(level);
                if n == 2 || n == 3 {
                    out.outline.push(OutlineEntry { level: n, id: id.clone(), text: text.clone() });
                }
                events.push(Event::Html(format!("<h{n} id=\"{}\">", escape(&id)).into()));
                events.extend(inner);
                events.push(Event::Html(
                    format!(
                        // For mouse users who want a link; hidden from assistive technology so the
                        // heading reads as its text (the outline lists every section anyway).
                        "<a class=\"anchor\" href=\"#{}\" aria-hidden=\"true\" tabindex=\"-1\">#</a></h{n}>\n",
                        escape(&id)
                    )
                    .into(),
                ));
            }
            Event::Start(Tag::BlockQuote(Some(kind))) => {
                let (class, title) = callout(kind);
                events.push(Event::Html(
                    format!(
                        "<aside class=\"callout callout-{class}\" role=\"note\">\n<p class=\"callout-title\">{title}</p>\n"
                    )
                    .into(),
                ));
            }
            Event::End(TagEnd::BlockQuote(Some(_))) => events.push(Event::Html("</aside>\n".into())),
            Event::Start(Tag::Table(alignments)) => {
                // A wide table scrolls inside its own box instead of widening a phone's page.
                events.push(Event::Html("<div class=\"table-wrap\">\n".into()));
                events.push(Event::Start(Tag::Table(alignments)));
            }
            Event::End(TagEnd::Table) => {
                events.push(Event::End(TagEnd::Table));
                events.push(Event::Html("</div>\n".into()));
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let mut code = String::new();
                for (event, _) in parser.by_ref() {
                    match event {
                        Event::End(TagEnd::CodeBlock) => break,
                        Event::Text(text) => code.push_str(&text),
                        _ => {}
                    }
                }
                let lang = match &kind {
                    CodeBlockKind::Fenced(info) => info.split_whitespace().next().unwrap_or("").to_owned(),
                    CodeBlockKind::Indented => String::new(),
                };
                // The block's content starts on the line after its opening fence.
                let content_line = line_of(range.start) + 1;
                let html = match lang.as_str() {
                    blocks::EXERCISE_INFO => match blocks::parse_exercise(&code) {
                        Ok(exercise) => {
                            let html = exercise_html(&exercise);
                            out.anchors.insert(format!("exercise-{}", exercise.id));
                            out.exercises.push((content_line - 1, exercise));
                            html
                        }
                        Err(errors) => block_errors(cx, content_line, errors, &mut out.diagnostics),
                    },
                    blocks::SIMULATOR_INFO => match blocks::parse_simulator(&code) {
                        Ok(preset) => {
                            let html = simulator_html(&preset);
                            out.anchors.insert(format!("simulator-{}", preset.id));
                            out.simulators.push((content_line - 1, preset));
                            html
                        }
                        Err(errors) => block_errors(cx, content_line, errors, &mut out.diagnostics),
                    },
                    _ => code_block(&lang, &code),
                };
                events.push(Event::Html(html.into()));
            }
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                let dest_url =
                    course_link(&dest_url, line_of(range.start), cx, &mut out).map_or(dest_url, CowStr::from);
                events.push(Event::Start(Tag::Link { link_type, dest_url, title, id }));
            }
            Event::Start(Tag::FootnoteDefinition(name)) => {
                out.anchors.insert(name.to_string());
                events.push(Event::Start(Tag::FootnoteDefinition(name)));
            }
            other => events.push(other),
        }
    }
    pulldown_cmark::html::push_html(&mut out.html, events.into_iter());
    out
}

/// Whether `event` ends the inline text a task-list checkbox is labelled by.
fn ends_task_label(event: &Event<'_>) -> bool {
    matches!(
        event,
        Event::End(TagEnd::Item | TagEnd::Paragraph)
            | Event::Start(
                Tag::Paragraph
                    | Tag::List(_)
                    | Tag::BlockQuote(_)
                    | Tag::CodeBlock(_)
                    | Tag::Heading { .. }
                    | Tag::Table(_)
                    | Tag::HtmlBlock
            )
    )
}

/// Markdown inside a block (an exercise's task, a hint): the same dialect, no outline.
pub fn render_fragment(markdown: &str) -> String {
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(markdown, markdown_options()));
    html
}

/// Inline text where `backticks` mark code, as in check descriptions.
pub fn inline_code(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { format!("<code>{}</code>", escape(part)) } else { escape(part) })
        .collect()
}

/// Rewrites a lesson-file link to its page URL and records links into the course.
/// Returns the new destination when it changed.
fn course_link(dest: &str, line: usize, cx: &RenderContext<'_>, out: &mut RenderedBody) -> Option<String> {
    let (path, fragment) = match dest.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment.to_owned())),
        None => (dest, None),
    };
    let is_external = path.starts_with("//") || path.split('/').next().is_some_and(|first| first.contains(':'));
    if is_external {
        return None;
    }
    let record = |out: &mut RenderedBody, target| {
        out.links.push(CourseLink { target, fragment: fragment.clone(), written: dest.to_owned(), line });
    };
    if path.is_empty() {
        record(out, LinkTarget::ThisLesson);
        return None;
    }
    if let Some(slug) = path.strip_prefix("/lessons/") {
        record(out, LinkTarget::Lesson(slug.trim_end_matches('/').to_owned()));
        return None;
    }
    if path.starts_with('/') || !path.ends_with(".md") {
        return None;
    }
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let Some(slug) = cx.lesson_files.get(file_name) else {
        out.diagnostics.push(Diagnostic::new(
            cx.file,
            line,
            format!("link to `{dest}`: there is no lesson file named `{file_name}`"),
        ));
        return None;
    };
    record(out, LinkTarget::Lesson(slug.clone()));
    Some(match &fragment {
        Some(fragment) => format!("/lessons/{slug}#{fragment}"),
        None => format!("/lessons/{slug}"),
    })
}

fn block_errors(
    cx: &RenderContext<'_>,
    content_line: usize,
    errors: Vec<blocks::BlockError>,
    diagnostics: &mut Vec<Diagnostic>,
) -> String {
    let mut html = String::from(
        "<div class=\"block-error\" role=\"alert\">\n<p><strong>This block has errors:</strong></p>\n<ul>\n",
    );
    for error in errors {
        let diagnostic = Diagnostic::new(cx.file, content_line + error.line - 1, error.message);
        html.push_str(&format!("<li><code>{}</code></li>\n", escape(&diagnostic.to_string())));
        diagnostics.push(diagnostic);
    }
    html.push_str("</ul>\n</div>\n");
    html
}

fn exercise_html(exercise: &Exercise) -> String {
    let id = escape(&exercise.id);
    let mut html = format!(
        "<section class=\"exercise\" id=\"exercise-{id}\" data-exercise-id=\"{id}\" aria-labelledby=\"exercise-{id}-title\">\n\
         <p class=\"block-kind\">Exercise</p>\n<h3 class=\"block-title\" id=\"exercise-{id}-title\">{}</h3>\n\
         <div class=\"exercise-task\">{}</div>\n<ul class=\"exercise-checks\">\n",
        escape(&exercise.title),
        render_fragment(&exercise.task),
    );
    for (index, check) in exercise.checks.iter().enumerate() {
        html.push_str(&format!("<li data-check-index=\"{index}\">{}</li>\n", inline_code(&check.description())));
    }
    html.push_str("</ul>\n");
    if !exercise.hints.is_empty() {
        html.push_str(&format!(
            "<details class=\"hints\">\n<summary>Hints ({})</summary>\n<ol>\n",
            exercise.hints.len()
        ));
        for hint in &exercise.hints {
            html.push_str(&format!("<li>{}</li>\n", inline_code(hint)));
        }
        html.push_str("</ol>\n</details>\n");
    }
    // The console runs Kafka's command-line tools against the broker (`POST /api/console`), the
    // Check button asks the broker whether the task is done (`POST /api/exercises/{id}/check`);
    // both are wired by static/app.js. The output is a named, keyboard-scrollable region and not
    // a live region: the script announces only each new result, not the whole transcript.
    let title = escape(&exercise.title);
    html.push_str(&format!(
        "<div class=\"console\" data-console>\n<pre class=\"console-output\" data-testid=\"console-output\" \
         role=\"region\" tabindex=\"0\" aria-label=\"Console output: {title}\"></pre>\n<form class=\"console-form\">\n\
         <label class=\"visually-hidden\" for=\"console-input-{id}\">Command</label>\n<span class=\"console-prompt\" \
         aria-hidden=\"true\">$</span>\n<textarea id=\"console-input-{id}\" class=\"console-input\" data-testid=\"console-input\" \
         rows=\"1\" spellcheck=\"false\" autocomplete=\"off\" autocapitalize=\"off\" \
         placeholder=\"kafka-topics.sh --bootstrap-server localhost:9092 --list\"></textarea>\n\
         <button type=\"submit\" class=\"button console-run\">Run</button>\n</form>\n</div>\n"
    ));
    html.push_str(&format!(
        "<div class=\"exercise-actions\">\n<button type=\"button\" class=\"button\" data-testid=\"check-button\" \
         data-exercise-id=\"{id}\">Check</button>\n<p class=\"check-result\" data-testid=\"check-result\" role=\"status\" \
         aria-live=\"polite\" hidden></p>\n<noscript><p class=\"block-note\">Checking needs JavaScript; labs can call \
         <code>POST /api/exercises/{id}/check</code>.</p></noscript>\n</div>\n</section>\n"
    ));
    html
}

/// A simulator block: the contract `static/simulator-view.js` mounts on — a `.simulator-app`
/// element carrying the preset as JSON, the goal and where to verify it — around a plain
/// description of the cluster for readers without JavaScript (and for print).
fn simulator_html(preset: &SimulatorPreset) -> String {
    let id = escape(&preset.id);
    let title = preset.title.as_deref().unwrap_or("Cluster simulator");
    let mut html = format!(
        "<figure class=\"simulator\" id=\"simulator-{id}\" data-simulator-id=\"{id}\">\n\
         <p class=\"block-kind\">Simulator</p>\n<figcaption><h3 class=\"block-title\" id=\"simulator-{id}-title\">{}</h3></figcaption>\n",
        escape(title),
    );
    if let Some(task) = &preset.task {
        html.push_str(&format!("<p class=\"simulator-task\">{}</p>\n", inline_code(task)));
    }
    let goal = preset.goal();
    if let Some(goal) = &goal {
        html.push_str(&format!(
            "<p class=\"simulator-goal\"><strong>Goal:</strong> {}</p>\n",
            escape(&goal.description())
        ));
    }
    let preset_json = serde_json::to_string(&preset.to_sim_preset()).unwrap_or_default();
    html.push_str(&format!(
        "<div class=\"simulator-app\" data-simulator-id=\"{id}\" data-preset=\"{}\"",
        escape(&preset_json)
    ));
    if let Some(goal) = &goal {
        html.push_str(&format!(
            " data-goal=\"{}\" data-goal-text=\"{}\" data-verify-url=\"/api/simulator/{id}/verify\"",
            escape(&goal.to_string()),
            escape(&goal.description())
        ));
    }
    html.push_str(&format!(
        ">\n<div class=\"simulator-fallback\">\n<ul class=\"simulator-preset\">\n<li>{} and {}</li>\n",
        count(u32::from(preset.brokers), "broker"),
        count(u32::from(preset.controllers), "controller"),
    ));
    for topic in &preset.topics {
        let configs: Vec<String> = topic.configs.iter().map(|(k, v)| format!("`{k}={v}`")).collect();
        let configs = if configs.is_empty() { String::new() } else { format!(", {}", configs.join(", ")) };
        html.push_str(&format!(
            "<li>{}</li>\n",
            inline_code(&format!(
                "Topic `{}`: {}, replication factor {}{configs}",
                topic.name,
                count(topic.partitions, "partition"),
                topic.replication_factor
            ))
        ));
    }
    html.push_str(
        "</ul>\n<p class=\"block-note\">The interactive simulator needs JavaScript and WebAssembly.</p>\n</div>\n</div>\n\
         <script type=\"module\" src=\"/static/simulator-view.js\"></script>\n</figure>\n",
    );
    html
}

fn count(n: u32, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

fn callout(kind: BlockQuoteKind) -> (&'static str, &'static str) {
    match kind {
        BlockQuoteKind::Note => ("note", "Note"),
        BlockQuoteKind::Tip => ("tip", "Tip"),
        BlockQuoteKind::Important => ("important", "Important"),
        BlockQuoteKind::Warning => ("warning", "Warning"),
        BlockQuoteKind::Caution => ("caution", "Caution"),
    }
}

fn heading_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

fn plain_text(events: &[Event<'_>]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text.trim().to_owned()
}

/// GitHub's heading anchors: lower case, letters, digits, `-` and `_` kept, spaces to `-`,
/// everything else dropped; so links written for GitHub's preview work here too.
pub fn slugify(text: &str) -> String {
    text.trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Like GitHub: the second "Example" heading gets `example-1`.
fn unique_id(taken: &mut HashSet<String>, base: String) -> String {
    let base = if base.is_empty() { "section".to_owned() } else { base };
    let mut id = base.clone();
    let mut n = 1;
    while taken.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(id.clone());
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> HashMap<String, String> {
        HashMap::from([("03-offsets.md".to_owned(), "offsets".to_owned())])
    }

    fn render(body: &str) -> RenderedBody {
        let lesson_files = files();
        render_body(body, &RenderContext { file: "lessons/x.md", first_line: 10, lesson_files: &lesson_files })
    }

    #[test]
    fn headings_get_ids_anchors_and_outline() {
        let out = render("## Keys & partitions\n\n### Example\n\n### Example\n");
        assert_eq!(
            out.html,
            "<h2 id=\"keys--partitions\">Keys &amp; partitions<a class=\"anchor\" href=\"#keys--partitions\" aria-hidden=\"true\" tabindex=\"-1\">#</a></h2>\n\
             <h3 id=\"example\">Example<a class=\"anchor\" href=\"#example\" aria-hidden=\"true\" tabindex=\"-1\">#</a></h3>\n\
             <h3 id=\"example-1\">Example<a class=\"anchor\" href=\"#example-1\" aria-hidden=\"true\" tabindex=\"-1\">#</a></h3>\n"
        );
        let outline: Vec<(u8, &str)> = out.outline.iter().map(|e| (e.level, e.id.as_str())).collect();
        assert_eq!(outline, [(2, "keys--partitions"), (3, "example"), (3, "example-1")]);
        assert_eq!(out.outline[0].text, "Keys & partitions");
    }

    #[test]
    fn explicit_heading_id_wins() {
        let out = render("## Offsets {#the-offsets}\n");
        assert_eq!(out.outline[0].id, "the-offsets");
        assert!(out.html.starts_with("<h2 id=\"the-offsets\">Offsets<a"), "{}", out.html);
    }

    #[test]
    fn callouts_become_titled_asides() {
        let out = render("> [!WARNING]\n> Offsets are per partition.\n");
        assert_eq!(
            out.html,
            "<aside class=\"callout callout-warning\" role=\"note\">\n<p class=\"callout-title\">Warning</p>\n\
             <p>Offsets are per partition.</p>\n</aside>\n"
        );
        let tip = render("> [!TIP]\n> Use keys.\n");
        assert!(
            tip.html
                .starts_with("<aside class=\"callout callout-tip\" role=\"note\">\n<p class=\"callout-title\">Tip</p>")
        );
        let note = render("> [!NOTE]\n> Hi.\n");
        assert!(note.html.starts_with("<aside class=\"callout callout-note\""));
        let plain = render("> just a quote\n");
        assert_eq!(plain.html, "<blockquote>\n<p>just a quote</p>\n</blockquote>\n");
    }

    #[test]
    fn tables_are_wrapped_for_small_screens() {
        let out = render("| a | b |\n|---|--:|\n| 1 | 2 |\n");
        assert_eq!(
            out.html,
            "<div class=\"table-wrap\">\n<table><thead><tr><th>a</th><th style=\"text-align: right\">b</th></tr></thead><tbody>\n\
             <tr><td>1</td><td style=\"text-align: right\">2</td></tr>\n</tbody></table>\n</div>\n"
        );
    }

    #[test]
    fn task_list_labels_end_before_the_blocks_of_an_item() {
        let out = render("- [ ] Can you *name* it?\n  - a nested point\n- [x] Loose\n\n  with a second paragraph\n");
        assert_eq!(
            out.html,
            "<ul>\n<li>\n<p><label class=\"task-label\"><input type=\"checkbox\" disabled>Can you <em>name</em> it?</label></p>\n\
             <ul>\n<li>a nested point</li>\n</ul>\n</li>\n\
             <li>\n<p><label class=\"task-label\"><input type=\"checkbox\" disabled checked>Loose</label></p>\n\
             <p>with a second paragraph</p>\n</li>\n</ul>\n"
        );
    }

    #[test]
    fn footnotes_and_task_lists() {
        let out = render("Kafka[^1]\n\n- [x] done\n- [ ] todo\n\n[^1]: Named after Franz Kafka.\n");
        assert_eq!(
            out.html,
            "<p>Kafka<sup class=\"footnote-reference\"><a href=\"#1\">1</a></sup></p>\n\
             <ul>\n<li><label class=\"task-label\"><input type=\"checkbox\" disabled checked>done</label></li>\n\
             <li><label class=\"task-label\"><input type=\"checkbox\" disabled>todo</label></li>\n</ul>\n\
             <div class=\"footnote-definition\" id=\"1\"><sup class=\"footnote-definition-label\">1</sup>\n\
             <p>Named after Franz Kafka.</p>\n</div>\n"
        );
        assert!(out.anchors.contains("1"));
    }

    #[test]
    fn code_blocks_are_highlighted_or_escaped() {
        let out = render("```text\n<b>\n```\n");
        assert_eq!(out.html, "<pre class=\"code\"><code class=\"language-text\">&lt;b&gt;\n</code></pre>\n");
        let bash = render("```bash\necho hi\n```\n");
        assert!(
            bash.html.contains("<span class=\"hl-support hl-function hl-echo hl-shell\">echo</span>"),
            "{}",
            bash.html
        );
    }

    #[test]
    fn lesson_file_links_are_rewritten_and_recorded() {
        let out =
            render("See [offsets](03-offsets.md#commits) and [this](#top) and [web](https://kafka.apache.org).\n");
        assert_eq!(
            out.html,
            "<p>See <a href=\"/lessons/offsets#commits\">offsets</a> and <a href=\"#top\">this</a> and \
             <a href=\"https://kafka.apache.org\">web</a>.</p>\n"
        );
        assert_eq!(
            out.links,
            [
                CourseLink {
                    target: LinkTarget::Lesson("offsets".into()),
                    fragment: Some("commits".into()),
                    written: "03-offsets.md#commits".into(),
                    line: 10
                },
                CourseLink {
                    target: LinkTarget::ThisLesson,
                    fragment: Some("top".into()),
                    written: "#top".into(),
                    line: 10
                },
            ]
        );
    }

    #[test]
    fn link_to_missing_lesson_file_is_a_diagnostic_on_its_line() {
        let out = render("intro\n\nsee [x](04-nope.md)\n");
        assert_eq!(
            out.diagnostics,
            [Diagnostic::new("lessons/x.md", 12, "link to `04-nope.md`: there is no lesson file named `04-nope.md`")]
        );
    }

    #[test]
    fn exercise_block_renders_task_checks_and_hints() {
        let body = "```exercise\nid = \"make-topic\"\ntitle = \"Make a topic\"\ntask = \"Create `orders`.\"\n\
                    hints = [\"Use `--partitions`\"]\nsolution = \"kafka-topics.sh --create --topic orders\"\n\
                    [[check]]\nkind = \"topic\"\ntopic = \"orders\"\npartitions = 3\n```\n";
        let out = render(body);
        assert_eq!(
            out.html,
            "<section class=\"exercise\" id=\"exercise-make-topic\" data-exercise-id=\"make-topic\" aria-labelledby=\"exercise-make-topic-title\">\n\
             <p class=\"block-kind\">Exercise</p>\n<h3 class=\"block-title\" id=\"exercise-make-topic-title\">Make a topic</h3>\n\
             <div class=\"exercise-task\"><p>Create <code>orders</code>.</p>\n</div>\n\
             <ul class=\"exercise-checks\">\n<li data-check-index=\"0\">Topic <code>orders</code> exists with 3 partitions</li>\n</ul>\n\
             <details class=\"hints\">\n<summary>Hints (1)</summary>\n<ol>\n<li>Use <code>--partitions</code></li>\n</ol>\n</details>\n\
             <div class=\"console\" data-console>\n<pre class=\"console-output\" data-testid=\"console-output\" \
             role=\"region\" tabindex=\"0\" aria-label=\"Console output: Make a topic\"></pre>\n<form class=\"console-form\">\n\
             <label class=\"visually-hidden\" for=\"console-input-make-topic\">Command</label>\n<span class=\"console-prompt\" \
             aria-hidden=\"true\">$</span>\n<textarea id=\"console-input-make-topic\" class=\"console-input\" data-testid=\"console-input\" \
             rows=\"1\" spellcheck=\"false\" autocomplete=\"off\" autocapitalize=\"off\" \
             placeholder=\"kafka-topics.sh --bootstrap-server localhost:9092 --list\"></textarea>\n\
             <button type=\"submit\" class=\"button console-run\">Run</button>\n</form>\n</div>\n\
             <div class=\"exercise-actions\">\n<button type=\"button\" class=\"button\" data-testid=\"check-button\" \
             data-exercise-id=\"make-topic\">Check</button>\n<p class=\"check-result\" data-testid=\"check-result\" role=\"status\" \
             aria-live=\"polite\" hidden></p>\n<noscript><p class=\"block-note\">Checking needs JavaScript; labs can call \
             <code>POST /api/exercises/make-topic/check</code>.</p></noscript>\n</div>\n</section>\n"
        );
        assert_eq!(out.exercises.len(), 1);
        assert_eq!(out.exercises[0].0, 10, "the fence line");
    }

    #[test]
    fn malformed_block_reports_file_line_and_renders_the_error() {
        // Body starts at file line 10; the fence is line 11, `brokers` is on line 13.
        let out = render("text\n```simulator\nid = \"s\"\nbrokers = \"three\"\n```\n");
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].line, 13);
        assert!(
            out.diagnostics[0].message.starts_with("simulator block: invalid type: string \"three\", expected u8"),
            "{:?}",
            out.diagnostics
        );
        assert!(out.html.contains("<div class=\"block-error\" role=\"alert\">"));
    }

    #[test]
    fn simulator_block_renders_the_view_contract_around_a_plain_description() {
        let out = render(
            "```simulator\nid = \"s\"\nbrokers = 3\ntask = \"Crash the `leader`.\"\ngoal = \"not-enough-replicas\"\n[[topic]]\nname = \"orders\"\npartitions = 3\nreplication_factor = 3\nconfigs = { \"min.insync.replicas\" = \"2\" }\n```\n",
        );
        let preset = "{&quot;brokers&quot;:3,&quot;controllers&quot;:1,&quot;topics&quot;:[{&quot;name&quot;:&quot;orders&quot;,\
                      &quot;partitions&quot;:3,&quot;replication_factor&quot;:3,&quot;configs&quot;:[[&quot;min.insync.replicas&quot;,\
                      &quot;2&quot;]]}],&quot;network&quot;:{&quot;delay_min_ms&quot;:1,&quot;delay_max_ms&quot;:5,\
                      &quot;drop_per_mille&quot;:0,&quot;duplicate_per_mille&quot;:0}}";
        assert_eq!(
            out.html,
            format!(
                "<figure class=\"simulator\" id=\"simulator-s\" data-simulator-id=\"s\">\n<p class=\"block-kind\">Simulator</p>\n\
                 <figcaption><h3 class=\"block-title\" id=\"simulator-s-title\">Cluster simulator</h3></figcaption>\n\
                 <p class=\"simulator-task\">Crash the <code>leader</code>.</p>\n\
                 <p class=\"simulator-goal\"><strong>Goal:</strong> Make the leader refuse a write with NOT_ENOUGH_REPLICAS.</p>\n\
                 <div class=\"simulator-app\" data-simulator-id=\"s\" data-preset=\"{preset}\" data-goal=\"not-enough-replicas\" \
                 data-goal-text=\"Make the leader refuse a write with NOT_ENOUGH_REPLICAS.\" data-verify-url=\"/api/simulator/s/verify\">\n\
                 <div class=\"simulator-fallback\">\n<ul class=\"simulator-preset\">\n<li>3 brokers and 1 controller</li>\n\
                 <li>Topic <code>orders</code>: 3 partitions, replication factor 3, <code>min.insync.replicas=2</code></li>\n</ul>\n\
                 <p class=\"block-note\">The interactive simulator needs JavaScript and WebAssembly.</p>\n</div>\n</div>\n\
                 <script type=\"module\" src=\"/static/simulator-view.js\"></script>\n</figure>\n"
            )
        );
    }

    #[test]
    fn a_simulator_goal_must_be_one_the_server_can_verify() {
        let out = render("text\n```simulator\nid = \"s\"\nbrokers = 3\ngoal = \"win\"\n```\n");
        assert_eq!(out.diagnostics.len(), 1, "{:?}", out.diagnostics);
        assert_eq!(out.diagnostics[0].line, 14, "the goal line, in the lesson file");
        assert!(out.diagnostics[0].message.starts_with("unknown goal \"win\""), "{}", out.diagnostics[0].message);
    }

    #[test]
    fn slugify_matches_github() {
        assert_eq!(slugify("What is an event?"), "what-is-an-event");
        assert_eq!(slugify("acks=all & min.insync.replicas"), "acksall--mininsyncreplicas");
        assert_eq!(slugify("log_end_offset"), "log_end_offset");
    }
}
