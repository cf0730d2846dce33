//! Helm charts: `helm template NAME DIR [-f VALUES]…` when `helm` is on the PATH; otherwise
//! each template of the chart is listed with the command to run.
//!
//! `helm template` writes `# Source: CHART/templates/FILE` above each document. Lines of a
//! template do not survive rendering, so each rendered key is found again in its template
//! file: the first line at or after its parent's that writes the key (`image:`, `- name:`).

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{KnownPaths, Markers, Rendered, skipped, tool};
use crate::load::{Document, FileOutcome, Format};
use crate::tree::{Node, Pos, Span, Value};

/// The chart folders among the files: those with a `Chart.yaml`, outermost first
/// (sub-charts under `charts/` are rendered with their parent).
fn charts(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "Chart.yaml"))
        .map(|f| {
            f.parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        })
        .collect();
    dirs.sort();
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        if !out.iter().any(|o| dir.starts_with(o) && dir != *o) {
            out.push(dir);
        }
    }
    out
}

fn chart_name(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "release".into())
}

/// `helm template NAME DIR -f VALUES…`, as the user would type it.
pub fn command(dir: &Path, values: &[PathBuf]) -> String {
    let mut text = format!("helm template {} {}", chart_name(dir), dir.display());
    for v in values {
        text.push_str(&format!(" -f {}", v.display()));
    }
    text
}

pub fn render(
    files: &[PathBuf],
    helm_values: &[PathBuf],
    known: &KnownPaths,
    markers: &mut Markers,
    out: &mut Rendered,
) {
    let charts = charts(files);
    if charts.is_empty() {
        return;
    }
    let helm = tool::find("helm");
    // Every chart is rendered at once, each by a process of its own; what they give is then
    // taken in order.
    let rendered: Vec<(PathBuf, Option<Output>)> = charts
        .into_par_iter()
        .map(|dir| {
            let output = helm.as_ref().map(|program| {
                let mut args = vec![
                    "template".to_string(),
                    chart_name(&dir),
                    dir.display().to_string(),
                ];
                for v in helm_values {
                    args.push("-f".into());
                    args.push(v.display().to_string());
                }
                tool::run(program, &args, None)
            });
            (dir, output)
        })
        .collect();
    for (dir, output) in rendered {
        let in_chart: Vec<&PathBuf> = files.iter().filter(|f| f.starts_with(&dir)).collect();
        let templates: Vec<&PathBuf> = in_chart
            .iter()
            .copied()
            .filter(|f| is_template(f, &dir))
            .collect();
        let chart_file = dir.join("Chart.yaml");
        let cmd = command(&dir, helm_values);
        let list_templates = |why: &str, out: &mut Rendered| {
            for t in &templates {
                out.outcomes.push(skipped(
                    t,
                    format!("Helm template, not rendered: {why}; run `{cmd} | sovscan scan -`"),
                ));
                out.covered.insert((*t).clone());
            }
            out.outcomes.push(skipped(
                &chart_file,
                format!(
                    "Helm chart {}, not rendered: {why}; run `{cmd} | sovscan scan -`",
                    dir.display()
                ),
            ));
            out.covered.insert(chart_file.clone());
        };
        let Some(output) = output else {
            list_templates("`helm` is not on the PATH", out);
            continue;
        };
        match output {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                out.outcomes.push(documents(&text, &dir, known, markers));
                let before = out.covered.len();
                for t in templates {
                    out.covered.insert(t.clone());
                }
                out.covered.insert(chart_file.clone());
                out.covered_dirs.push(dir.clone());
                out.units.push(super::RenderedUnit {
                    path: dir.display().to_string(),
                    command: "helm template".into(),
                    files: out.covered.len() - before,
                });
            }
            Err(why) => list_templates(&format!("`helm template` failed ({why})"), out),
        }
    }
}

/// What `helm template` printed, or why it failed.
type Output = Result<Vec<u8>, String>;

/// A file below a `templates/` folder of the chart (or of a sub-chart).
fn is_template(file: &Path, chart: &Path) -> bool {
    file.strip_prefix(chart)
        .is_ok_and(|rel| rel.components().any(|c| c.as_os_str() == "templates"))
}

/// The documents of `helm template` output, each placed in its template file.
fn documents(text: &str, dir: &Path, known: &KnownPaths, markers: &mut Markers) -> FileOutcome {
    let mut outcome = FileOutcome::default();
    let chart_shown: Arc<str> = Arc::from(dir.join("Chart.yaml").display().to_string());
    let mut index_in_file: std::collections::HashMap<PathBuf, usize> = Default::default();
    for chunk in split_documents(text) {
        // `# Source: mychart/templates/deployment.yaml`: the first segment is the chart.
        let source = chunk
            .lines()
            .find_map(|l| l.trim().strip_prefix("# Source:"))
            .map(str::trim)
            .and_then(|s| s.split_once('/').map(|(_, rest)| dir.join(rest)));
        let nodes = match crate::load::yaml::parse_stream(chunk) {
            Ok(nodes) => nodes,
            Err(_) => {
                outcome.skipped_documents += 1;
                continue;
            }
        };
        let template_text = source
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        let lines: Vec<&str> = template_text.lines().collect();
        for mut node in nodes {
            if !node.is_map() || node.get("kind").is_none() || node.get("apiVersion").is_none() {
                outcome.skipped_documents += 1;
                continue;
            }
            let (path, direct) = match &source {
                Some(p) if !lines.is_empty() => (known.display(p), true),
                Some(p) => (known.display(p), false),
                None => (PathBuf::from(&*chart_shown), false),
            };
            if direct {
                place(&mut node, &lines, 0, Span::point(1, 1));
            } else {
                // Nothing to match lines against: the whole document at the file's top.
                let span = if source.is_some() {
                    Span::point(1, 1)
                } else {
                    markers.mark(&chart_shown, 0, Span::point(1, 1))
                };
                set_all(&mut node, span);
            }
            let index = index_in_file.entry(path.clone()).or_default();
            outcome.documents.push(Document {
                path: Arc::from(path.display().to_string()),
                format: Format::Kubernetes,
                index: *index,
                root: node,
            });
            *index += 1;
        }
    }
    outcome
}

/// Splits a rendered stream at `---` lines, keeping each document's `# Source:` comment.
fn split_documents(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            if offset > start {
                out.push(&text[start..offset]);
            }
            start = offset + line.len();
        }
        offset += line.len();
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn set_all(node: &mut Node, span: Span) {
    node.span = span;
    match &mut node.value {
        Value::Map(entries) => {
            for e in entries {
                e.key_span = span;
                set_all(&mut e.value, span);
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| set_all(i, span)),
        _ => {}
    }
}

/// Gives each node the template line that writes its key, searching forward from `from`
/// (0-based); a key not found keeps its parent's line. Returns the line reached.
fn place(node: &mut Node, lines: &[&str], from: usize, parent: Span) -> usize {
    node.span = parent;
    let mut cursor = from;
    match &mut node.value {
        Value::Map(entries) => {
            for entry in entries {
                match (cursor..lines.len()).find(|&i| writes_key(lines[i], &entry.key)) {
                    Some(i) => {
                        let span = line_span(lines, i);
                        entry.key_span = span;
                        cursor = place(&mut entry.value, lines, i + 1, span).max(i + 1);
                    }
                    None => {
                        entry.key_span = parent;
                        cursor = place(&mut entry.value, lines, cursor, parent);
                    }
                }
            }
            if let Some(first) = node_first(node) {
                node.span = first;
            }
        }
        Value::Seq(items) => {
            for item in items {
                cursor = place(item, lines, cursor, parent);
            }
        }
        _ => {}
    }
    cursor
}

fn node_first(node: &Node) -> Option<Span> {
    node.entries().first().map(|e| e.key_span)
}

fn line_span(lines: &[&str], i: usize) -> Span {
    let text = lines[i];
    let indent = text.len() - text.trim_start().len();
    let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
    let start = Pos {
        line,
        column: u32::try_from(indent + 1).unwrap_or(1),
    };
    let end = Pos {
        line,
        column: u32::try_from(text.trim_end().len() + 1).unwrap_or(1),
    };
    Span { start, end }
}

fn writes_key(line: &str, key: &str) -> bool {
    let t = line.trim_start().trim_start_matches("- ").trim_start();
    let quoted_single = format!("'{key}':");
    let quoted_double = format!("\"{key}\":");
    t.starts_with(&format!("{key}:"))
        || t.starts_with(&quoted_single)
        || t.starts_with(&quoted_double)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_keys_find_their_template_lines() {
        let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      {{- with .Values.nodeSelector }}\n      nodeSelector:\n        {{- toYaml . | nindent 8 }}\n      {{- end }}\n      containers:\n        - name: app\n          image: {{ .Values.image }}\n";
        let rendered = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: r\nspec:\n  template:\n    spec:\n      nodeSelector:\n        topology.kubernetes.io/region: us-east-1\n      containers:\n      - name: app\n        image: nginx\n";
        let mut node = crate::load::yaml::parse_stream(rendered).unwrap().remove(0);
        let lines: Vec<&str> = template.lines().collect();
        place(&mut node, &lines, 0, Span::point(1, 1));
        let at = |route: &str| node.path(route).unwrap().span.start.line;
        assert_eq!(at("spec.template.spec.nodeSelector"), 9);
        assert_eq!(
            at("spec.template.spec.nodeSelector[\"topology.kubernetes.io/region\"]"),
            9
        );
        assert_eq!(at("spec.template.spec.containers[0].image"), 14);
    }

    #[test]
    fn nested_charts_render_with_their_parent() {
        let files = vec![
            PathBuf::from("c/Chart.yaml"),
            PathBuf::from("c/charts/sub/Chart.yaml"),
            PathBuf::from("d/Chart.yaml"),
        ];
        assert_eq!(charts(&files), [PathBuf::from("c"), PathBuf::from("d")]);
    }
}
