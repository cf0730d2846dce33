//! Kustomize overlays: `kustomize build DIR`, else `kubectl kustomize DIR`.
//!
//! The overlay is built through a wrapper kustomization in a temporary folder that asks for
//! `config.kubernetes.io/origin` annotations, so each rendered object names the file it came
//! from; its nodes are matched with that file's (same route, same value), values a patch or
//! the kustomization changed are matched with those files, and the annotation is removed.

use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{KnownPaths, Markers, Rendered, normalise, skipped, tool};
use crate::load::{Document, FileOutcome, Format};
use crate::tree::{Node, Span, Value};

/// File names kustomize reads in a folder.
pub const FILE_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

const ORIGIN: &str = "config.kubernetes.io/origin";

/// Keys of a kustomization that name files or folders (or remote targets).
const LIST_KEYS: &[&str] = &[
    "resources",
    "bases",
    "components",
    "patchesStrategicMerge",
    "crds",
    "configurations",
    "generators",
    "transformers",
    "validators",
];
const PATCH_KEYS: &[&str] = &["patches", "patchesJson6902", "replacements"];

pub fn is_kustomization(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| FILE_NAMES.contains(&n))
}

/// One kustomization file and what it names.
struct Kustomization {
    file: PathBuf,
    root: Node,
    /// Folders with a kustomization of their own (bases, components), normalised.
    children: Vec<PathBuf>,
    /// Local files it names (resources, patches), normalised.
    files: Vec<PathBuf>,
    /// Remote targets (`github.com/…?ref=`, `https://…`).
    remote: Vec<String>,
}

fn kustomization_in(dir: &Path) -> Option<PathBuf> {
    FILE_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

fn is_remote(target: &str) -> bool {
    target.contains("://")
        || target.starts_with("git@")
        || target.starts_with("github.com/")
        || target.starts_with("gitlab.com/")
        || target.contains("?ref=")
}

fn read(file: &Path) -> Option<Kustomization> {
    let text = std::fs::read_to_string(file).ok()?;
    let root = crate::load::yaml::parse_stream(&text)
        .ok()?
        .into_iter()
        .next()?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut k = Kustomization {
        file: normalise(file),
        root,
        children: Vec::new(),
        files: Vec::new(),
        remote: Vec::new(),
    };
    let mut targets: Vec<String> = Vec::new();
    for key in LIST_KEYS {
        for item in k.root.get(key).map(Node::items).unwrap_or_default() {
            if let Some(s) = item.as_str().filter(|s| !s.contains('\n')) {
                targets.push(s.to_string());
            }
        }
    }
    for key in PATCH_KEYS {
        for item in k.root.get(key).map(Node::items).unwrap_or_default() {
            if let Some(s) = item.get("path").and_then(Node::as_str) {
                targets.push(s.to_string());
            }
        }
    }
    for target in targets {
        if is_remote(&target) {
            k.remote.push(target);
            continue;
        }
        let path = normalise(&dir.join(&target));
        if path.is_dir() {
            if kustomization_in(&path).is_some() {
                k.children.push(path);
            }
        } else if path.is_file() {
            k.files.push(path);
        }
    }
    Some(k)
}

/// Every kustomization an overlay reaches, itself first.
fn chain(top: Kustomization) -> Vec<Kustomization> {
    let mut seen: BTreeSet<PathBuf> = BTreeSet::from([top.file.clone()]);
    let mut out = vec![top];
    let mut i = 0;
    while i < out.len() {
        let children = out[i].children.clone();
        for dir in children {
            if let Some(file) = kustomization_in(&dir).map(|f| normalise(&f))
                && seen.insert(file.clone())
                && let Some(k) = read(&file)
            {
                out.push(k);
            }
        }
        i += 1;
    }
    out
}

/// The rendering tool on the PATH: program, arguments before the folder, and its name.
fn find_tool() -> Option<(PathBuf, Vec<String>, &'static str)> {
    if let Some(p) = tool::find("kustomize") {
        return Some((p, vec!["build".into()], "kustomize build"));
    }
    tool::find("kubectl").map(|p| (p, vec!["kustomize".into()], "kubectl kustomize"))
}

pub fn render(files: &[PathBuf], known: &KnownPaths, markers: &mut Markers, out: &mut Rendered) {
    let found: Vec<Kustomization> = files
        .iter()
        .filter(|f| is_kustomization(f))
        .filter_map(|f| read(f))
        .collect();
    // Bases and components of another overlay are rendered as part of it.
    let referenced: BTreeSet<PathBuf> = found
        .iter()
        .flat_map(|k| k.children.iter().cloned())
        .collect();
    let tops: Vec<Kustomization> = found
        .into_iter()
        .filter(|k| !referenced.contains(&dir_of(&k.file)))
        .collect();
    if tops.is_empty() {
        return;
    }
    let tool = find_tool();
    // Every overlay is built at once, each by a process of its own; what they give is then
    // taken in order.
    let built: Vec<(PathBuf, Vec<Kustomization>, Built)> = tops
        .into_par_iter()
        .map(|top| {
            let dir = dir_of(&top.file);
            let chain = chain(top);
            let built = if let Some(remote) = chain.iter().flat_map(|k| k.remote.iter()).next() {
                Err(format!(
                    "it uses the remote base `{remote}`, which is not fetched"
                ))
            } else if let Some((program, args, _)) = &tool {
                Ok(build(program, args, &dir))
            } else {
                Err("neither `kustomize` nor `kubectl` is on the PATH".into())
            };
            (dir, chain, built)
        })
        .collect();
    for (dir, chain, built) in built {
        let shown = known.display(&chain[0].file);
        let not_rendered = |why: String| {
            skipped(
                &shown,
                format!(
                    "Kustomize overlay {} not rendered: {why}; its resources are scanned as plain files",
                    dir.display()
                ),
            )
        };
        let output = match built {
            Ok(output) => output,
            Err(why) => {
                out.outcomes.push(not_rendered(why));
                out.covered.insert(known.display(&chain[0].file));
                continue;
            }
        };
        let name = tool.as_ref().map_or("kustomize", |(_, _, name)| *name);
        match output {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                match crate::load::yaml::parse_stream(&text) {
                    Ok(objects) => {
                        out.outcomes
                            .push(documents(objects, &dir, &chain, known, markers));
                        let before = out.covered.len();
                        for k in &chain {
                            for f in std::iter::once(&k.file).chain(&k.files) {
                                if let Some(file) = known.get(f) {
                                    out.covered.insert(file.clone());
                                }
                            }
                        }
                        out.units.push(super::RenderedUnit {
                            path: dir.display().to_string(),
                            command: name.to_string(),
                            files: out.covered.len() - before,
                        });
                    }
                    Err(e) => out.outcomes.push(not_rendered(format!(
                        "the output of `{name}` does not parse: {}",
                        e.reason
                    ))),
                }
            }
            Err(why) => {
                out.outcomes
                    .push(not_rendered(format!("`{name}` failed ({why})")));
                out.covered.insert(known.display(&chain[0].file));
            }
        }
    }
}

/// What building an overlay gave: the tool's output or why it failed; or why it was not built
/// here (a remote base, no tool).
type Built = Result<Result<Vec<u8>, String>, String>;

fn dir_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The name `build`'s wrapper gives the folder built, beside the wrapper's own folder.
const BUILT: &str = "t";

/// An origin path as `build`'s wrapper names it (`../t/x.yaml`), relative to the folder built.
fn built_relative(origin: &str) -> &str {
    origin
        .strip_prefix("../")
        .and_then(|p| p.strip_prefix(BUILT))
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or(origin)
}

/// Builds `dir` through a wrapper that adds origin annotations (where links can be made).
fn build(program: &Path, args: &[String], dir: &Path) -> Result<Vec<u8>, String> {
    #[cfg(unix)]
    if let Ok(real) = std::fs::canonicalize(dir) {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp =
            std::env::temp_dir().join(format!("sovscan-kustomize-{}-{n}", std::process::id()));
        let wrapper = temp.join("w");
        let made = std::fs::create_dir_all(&wrapper).is_ok()
            && std::os::unix::fs::symlink(&real, temp.join(BUILT)).is_ok()
            && std::fs::write(
                wrapper.join("kustomization.yaml"),
                format!("resources:\n  - ../{BUILT}\nbuildMetadata: [originAnnotations]\n"),
            )
            .is_ok();
        if made {
            let mut all = args.to_vec();
            all.push(wrapper.display().to_string());
            let result = tool::run(program, &all, None);
            let _ = std::fs::remove_dir_all(&temp);
            if result.is_ok() {
                return result;
            }
        } else {
            let _ = std::fs::remove_dir_all(&temp);
        }
    }
    let mut all = args.to_vec();
    all.push(dir.display().to_string());
    tool::run(program, &all, None)
}

/// Parsed files, each read once.
#[derive(Default)]
struct Sources {
    files: HashMap<PathBuf, Vec<Node>>,
}

impl Sources {
    fn get(&mut self, path: &Path) -> &[Node] {
        self.files.entry(path.to_path_buf()).or_insert_with(|| {
            std::fs::read_to_string(path)
                .ok()
                .and_then(|t| crate::load::yaml::parse_stream(&t).ok())
                .unwrap_or_default()
        })
    }
}

fn kind_of(node: &Node) -> Option<&str> {
    node.get("kind").and_then(Node::as_str)
}

fn name_of(node: &Node) -> Option<&str> {
    node.path("metadata.name").and_then(Node::as_str)
}

/// The document of `docs` the rendered `object` comes from: same kind, and a name the
/// rendered one contains (prefixes and suffixes are added by overlays).
fn source_index(docs: &[Node], object: &Node) -> Option<usize> {
    let kind = kind_of(object)?;
    let name = name_of(object).unwrap_or_default();
    let same_kind = || {
        docs.iter()
            .enumerate()
            .filter(move |(_, d)| kind_of(d) == Some(kind))
    };
    same_kind()
        .filter(|(_, d)| name_of(d).is_some_and(|n| name == n))
        .chain(same_kind().filter(|(_, d)| name_of(d).is_some_and(|n| name.contains(n))))
        .map(|(i, _)| i)
        .next()
}

/// Removes the origin annotation and returns what it says: (file, configured in).
fn take_origin(object: &mut Node) -> (Option<String>, Option<String>, bool) {
    let Value::Map(entries) = &mut object.value else {
        return (None, None, false);
    };
    let Some(meta) = entries.iter_mut().find(|e| e.key == "metadata") else {
        return (None, None, false);
    };
    let Value::Map(meta_entries) = &mut meta.value.value else {
        return (None, None, false);
    };
    let Some(pos) = meta_entries.iter().position(|e| e.key == "annotations") else {
        return (None, None, false);
    };
    let Value::Map(annotations) = &mut meta_entries[pos].value.value else {
        return (None, None, false);
    };
    let Some(at) = annotations.iter().position(|e| e.key == ORIGIN) else {
        return (None, None, false);
    };
    let text = annotations
        .remove(at)
        .value
        .as_str()
        .unwrap_or_default()
        .to_string();
    if annotations.is_empty() {
        meta_entries.remove(pos);
    }
    let origin = crate::load::yaml::parse_stream(&text)
        .ok()
        .and_then(|d| d.into_iter().next())
        .unwrap_or_else(Node::null);
    let text_of = |k: &str| origin.get(k).and_then(Node::as_str).map(str::to_string);
    (
        text_of("path"),
        text_of("configuredIn"),
        origin.get("repo").is_some(),
    )
}

fn documents(
    objects: Vec<Node>,
    dir: &Path,
    chain: &[Kustomization],
    known: &KnownPaths,
    markers: &mut Markers,
) -> FileOutcome {
    let mut sources = Sources::default();
    // Files of the overlays (patches and the like) and the kustomizations themselves.
    let chain_files: Vec<PathBuf> = chain.iter().flat_map(|k| k.files.clone()).collect();
    // Each with the number of its document in its file.
    let overlay_docs: Vec<(Arc<str>, usize, Node)> = chain_files
        .iter()
        .flat_map(|f| {
            let shown: Arc<str> = Arc::from(known.display(f).display().to_string());
            sources
                .get(f)
                .to_vec()
                .into_iter()
                .enumerate()
                .map(move |(i, d)| (Arc::clone(&shown), i, d))
        })
        .collect();
    // Where a changed value may be written: the kustomizations (`images:`, `namespace:`)
    // and the files they name (JSON patches, which are no object of their own).
    let kustomizations: Vec<(Arc<str>, usize, &Node)> = chain
        .iter()
        .map(|k| {
            (
                Arc::from(known.display(&k.file).display().to_string()),
                0,
                &k.root,
            )
        })
        .chain(overlay_docs.iter().map(|(p, i, d)| (Arc::clone(p), *i, d)))
        .collect();
    let top_file = known.display(&chain[0].file);
    let mut outcome = FileOutcome::default();
    for mut object in objects {
        if !object.is_map() || kind_of(&object).is_none() {
            outcome.skipped_documents += 1;
            continue;
        }
        let (origin, configured_in, remote) = take_origin(&mut object);
        // The source file: the origin's, else the first named file with a matching object.
        let source_file = match (origin, remote) {
            (Some(p), false) => Some(normalise(&dir.join(built_relative(&p)))),
            (None, _) if configured_in.is_none() => chain_files
                .iter()
                .find(|f| source_index(sources.get(f), &object).is_some())
                .cloned(),
            _ => None,
        };
        let (path, index, source) = match &source_file {
            Some(file) => {
                let docs = sources.get(file);
                match source_index(docs, &object) {
                    Some(i) => (known.display(file), i, docs.get(i).cloned()),
                    None => (known.display(file), 0, None),
                }
            }
            None => (
                configured_in
                    .map(|c| known.display(&dir.join(c)))
                    .unwrap_or_else(|| top_file.clone()),
                0,
                None,
            ),
        };
        let path: Arc<str> = Arc::from(path.display().to_string());
        let patches: Vec<(Arc<str>, usize, &Node)> = overlay_docs
            .iter()
            .filter(|(p, _, d)| {
                kind_of(d) == kind_of(&object) && !(*p == path && Some(d) == source.as_ref())
            })
            .map(|(p, i, d)| (Arc::clone(p), *i, d))
            .collect();
        // Where nothing matches, the object's own first line in its file, else the top.
        let fallback = source.as_ref().map_or_else(
            || {
                if *path == *top_file.display().to_string() {
                    Span::point(1, 1)
                } else {
                    markers.mark(
                        &Arc::from(top_file.display().to_string()),
                        0,
                        Span::point(1, 1),
                    )
                }
            },
            |s| s.span,
        );
        let mut remap = Remap {
            markers,
            kustomizations: &kustomizations,
        };
        remap.node(&mut object, source.as_ref(), &patches, fallback);
        outcome.documents.push(Document {
            path,
            format: Format::Kubernetes,
            index,
            root: object,
        });
    }
    outcome
}

struct Remap<'m, 'k> {
    markers: &'m mut Markers,
    kustomizations: &'k [(Arc<str>, usize, &'k Node)],
}

impl Remap<'_, '_> {
    fn node(
        &mut self,
        node: &mut Node,
        source: Option<&Node>,
        patches: &[(Arc<str>, usize, &Node)],
        fallback: Span,
    ) {
        let rendered = node.scalar_text();
        let same = |other: &Node| match (&rendered, other.scalar_text()) {
            (Some(a), Some(b)) => *a == b,
            (None, None) => true,
            _ => false,
        };
        node.span = if let Some(s) = source.filter(|s| same(s)) {
            s.span
        } else if let Some((p, i, n)) = patches.iter().find(|(_, _, n)| same(n)) {
            self.markers.mark(p, *i, n.span)
        } else if let Some((p, i, span)) = rendered.as_deref().and_then(|t| self.written_in(t)) {
            self.markers.mark(&p, i, span)
        } else {
            source.map_or(fallback, |s| s.span)
        };
        let here = node.span;
        match &mut node.value {
            Value::Map(entries) => {
                for entry in entries {
                    let src = source.and_then(|s| s.entry(&entry.key));
                    let sub: Vec<(Arc<str>, usize, &Node)> = patches
                        .iter()
                        .filter_map(|(p, i, n)| n.get(&entry.key).map(|v| (Arc::clone(p), *i, v)))
                        .collect();
                    entry.key_span = match src {
                        Some(e) => e.key_span,
                        None => match patches
                            .iter()
                            .find_map(|(p, i, n)| n.entry(&entry.key).map(|e| (p, *i, e.key_span)))
                        {
                            Some((p, i, span)) => self.markers.mark(p, i, span),
                            None => here,
                        },
                    };
                    self.node(&mut entry.value, src.map(|e| &e.value), &sub, here);
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let src = source.and_then(|s| item_match(s, item, i));
                    let sub: Vec<(Arc<str>, usize, &Node)> = patches
                        .iter()
                        .filter_map(|(p, d, n)| {
                            item_match(n, item, i).map(|v| (Arc::clone(p), *d, v))
                        })
                        .collect();
                    self.node(item, src, &sub, here);
                }
            }
            _ => {}
        }
    }

    /// A value of a kustomization that the rendered value contains (`images:` `newTag`,
    /// `namespace`, a name prefix), the longest first.
    fn written_in(&self, rendered: &str) -> Option<(Arc<str>, usize, Span)> {
        let mut best: Option<(usize, Arc<str>, usize, Span)> = None;
        for (path, document, root) in self.kustomizations {
            root.walk(&crate::tree::Route::root(), &mut |_, n| {
                if let Some(t) = n.scalar_text()
                    && t.len() >= 2
                    && rendered.contains(t.as_str())
                    && best.as_ref().is_none_or(|(len, ..)| t.len() > *len)
                {
                    best = Some((t.len(), Arc::clone(path), *document, n.span));
                }
            });
        }
        best.map(|(_, p, d, s)| (p, d, s))
    }
}

/// The item of `list` matching the rendered `item`: by `name` where items are named
/// (containers, ports, env), else by position.
fn item_match<'a>(list: &'a Node, item: &Node, index: usize) -> Option<&'a Node> {
    match item.get("name").and_then(Node::scalar_text) {
        Some(name) => list
            .items()
            .iter()
            .find(|i| i.get("name").and_then(Node::scalar_text).as_deref() == Some(&name)),
        None => list.items().get(index),
    }
}
