//! Rendering before scanning: Kustomize overlays (`kustomize build`, `kubectl kustomize`) and
//! Helm charts (`helm template`) are turned into the manifests they deploy when the tool is on
//! the PATH, and those are scanned instead of the plain files they are made of.
//!
//! Findings still point at the files people edit. A rendered object's nodes carry the spans
//! of its source file; a value an overlay changed carries a *marker* line (above
//! [`MARKER_BASE`]) that names a place in another file, and [`relocate`] moves the findings
//! there once rules have run.
//!
//! Where no tool is present or rendering fails, the files are scanned as plain files, as
//! without rendering, and the summary lists the overlay or chart with the reason.

pub mod helm;
pub mod kustomize;
pub mod tool;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::finding::Finding;
use crate::load::{FileOutcome, Relocation, Skipped};
use crate::location::Location;
use crate::tree::{Pos, Span};

/// Lines from here up are markers for places in other files, not real lines.
pub const MARKER_BASE: u32 = 0xC000_0000;

/// What rendering does.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// Render at all (`--no-render` turns it off).
    pub enabled: bool,
    /// Values files given to `helm template` (`--helm-values`), in order.
    pub helm_values: Vec<PathBuf>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            enabled: true,
            helm_values: Vec::new(),
        }
    }
}

/// What rendering made of the discovered files.
#[derive(Debug, Default)]
pub struct Rendered {
    /// Rendered documents (and skip notes for what could not be rendered).
    pub outcomes: Vec<FileOutcome>,
    /// Input files whose content reaches the scan through rendering: not loaded on their own.
    pub covered: BTreeSet<PathBuf>,
    /// Charts rendered or listed as a whole: template sources inside are part of them.
    pub covered_dirs: Vec<PathBuf>,
    /// What was rendered, for the summary.
    pub units: Vec<RenderedUnit>,
}

/// An overlay or chart that was rendered: its folder, the command, and how many input files
/// reached the scan through it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RenderedUnit {
    pub path: String,
    pub command: String,
    pub files: usize,
}

/// Renders the overlays and charts among `files`.
pub fn render(files: &[PathBuf], options: &RenderOptions) -> Rendered {
    let mut out = Rendered::default();
    if !options.enabled {
        return out;
    }
    let mut markers = Markers::default();
    let known = KnownPaths::new(files);
    kustomize::render(files, &known, &mut markers, &mut out);
    helm::render(files, &options.helm_values, &known, &mut markers, &mut out);
    if let Some(first) = out.outcomes.first_mut() {
        first.relocations = markers.table;
    } else if !markers.table.is_empty() {
        out.outcomes.push(FileOutcome {
            relocations: markers.table,
            ..Default::default()
        });
    }
    out
}

/// Moves every finding location that carries a marker to the place the marker names.
pub fn relocate(finding: &mut Finding, markers: &Relocations) {
    relocate_one(&mut finding.location, markers);
    for related in &mut finding.related {
        relocate_one(related, markers);
    }
}

/// The relocations of a scan by marker.
pub type Relocations = HashMap<u32, Relocation>;

pub fn relocations(list: Vec<Relocation>) -> Relocations {
    list.into_iter().map(|r| (r.marker, r)).collect()
}

fn relocate_one(location: &mut Location, table: &Relocations) {
    if location.start_line < MARKER_BASE {
        return;
    }
    if let Some(r) = table.get(&location.start_line) {
        location.path = Arc::clone(&r.path);
        location.document = r.document;
        location.start_line = r.span.start.line.max(1);
        location.start_column = r.span.start.column.max(1);
        location.end_line = r.span.end.line.max(location.start_line);
        location.end_column = r.span.end.column.max(1);
    }
}

/// Hands out marker spans for places in other files.
#[derive(Default)]
pub struct Markers {
    table: Vec<Relocation>,
    by_place: BTreeMap<(Arc<str>, u32, u32), u32>,
}

impl Markers {
    /// A span that stands for `span` in the file `path`, in its document number `document`.
    pub fn mark(&mut self, path: &Arc<str>, document: usize, span: Span) -> Span {
        let key = (Arc::clone(path), span.start.line, span.start.column);
        let marker = match self.by_place.get(&key) {
            Some(m) => *m,
            None => {
                let m = MARKER_BASE + u32::try_from(self.table.len()).unwrap_or(0);
                self.table.push(Relocation {
                    marker: m,
                    path: Arc::clone(path),
                    document,
                    span,
                });
                self.by_place.insert(key, m);
                m
            }
        };
        let point = Pos {
            line: marker,
            column: span.start.column,
        };
        Span {
            start: point,
            end: point,
        }
    }
}

/// The input files as discovered, found again from any spelling of their path.
pub struct KnownPaths {
    by_normal: HashMap<PathBuf, PathBuf>,
}

impl KnownPaths {
    fn new(files: &[PathBuf]) -> Self {
        KnownPaths {
            by_normal: files.iter().map(|f| (normalise(f), f.clone())).collect(),
        }
    }

    /// The path as the walk spelled it, or the normalised path when it was not discovered.
    pub fn display(&self, path: &Path) -> PathBuf {
        let normal = normalise(path);
        self.by_normal.get(&normal).cloned().unwrap_or(normal)
    }

    /// The discovered file at `path`, if any.
    pub fn get(&self, path: &Path) -> Option<&PathBuf> {
        self.by_normal.get(&normalise(path))
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system.
pub fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                if matches!(last, Some(Component::Normal(_))) {
                    out.pop();
                } else if !matches!(last, Some(Component::RootDir | Component::Prefix(_))) {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

fn skipped(path: &Path, reason: String) -> FileOutcome {
    FileOutcome {
        skipped: Some(Skipped {
            path: path.display().to_string(),
            reason,
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_lexically() {
        assert_eq!(
            normalise(Path::new("./k8s/overlays/prod/../../base/d.yaml")),
            PathBuf::from("k8s/base/d.yaml")
        );
        assert_eq!(normalise(Path::new("../x/./y")), PathBuf::from("../x/y"));
        assert_eq!(normalise(Path::new("/a/../../b")), PathBuf::from("/b"));
    }

    #[test]
    fn markers_stand_for_places_in_other_files() {
        let mut markers = Markers::default();
        let path: Arc<str> = Arc::from("overlay/patch.yaml");
        let span = Span {
            start: Pos { line: 9, column: 5 },
            end: Pos {
                line: 9,
                column: 20,
            },
        };
        let marked = markers.mark(&path, 2, span);
        assert!(marked.start.line >= MARKER_BASE);
        assert_eq!(markers.mark(&path, 2, span), marked);
        let mut location = Location::new(
            &Arc::from("base/d.yaml"),
            0,
            marked,
            &crate::tree::Route::root(),
        );
        relocate_one(&mut location, &relocations(markers.table.clone()));
        // The document is the patch's in its own file, not the rendered object's.
        assert_eq!(
            (
                &*location.path,
                location.document,
                location.start_line,
                location.end_column
            ),
            ("overlay/patch.yaml", 2, 9, 20)
        );
    }
}
