//! SARIF 2.1.0 for GitHub code scanning and other SARIF viewers: rule metadata with help text
//! and `security-severity`, one result per finding, suppressions as `inSource`.

use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::json::pretty;
use crate::engine::Rule;
use crate::finding::Severity;
use crate::scan::ScanResult;

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity`: 9.0+ critical, 7.0+ high, 4.0+ medium, below low.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// Where the rule reference lives; built-in rules link to their section.
const RULES_DOC: &str = "https://github.com/sovscan/sovscan/blob/main/docs/rules.md";

/// The repository root SARIF paths are relative to: `%SRCROOT%` is the nearest folder above
/// `start` holding `.git`, else the working directory.
pub fn repo_root(start: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    let absolute = absolute(&cwd, start);
    absolute
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map_or(cwd, Path::to_path_buf)
}

/// `path` made absolute against `cwd`, symlinks resolved when it exists, `.`/`..` removed.
fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let joined = cwd.join(path);
    if let Ok(real) = std::fs::canonicalize(&joined) {
        return real;
    }
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `std::fs::canonicalize(path)` for an absolute path, with one `lstat` of it: the real paths
/// of the folders above it are taken from `folders`, or found and added to it.
fn real_path(folders: &mut HashMap<PathBuf, Option<Arc<Path>>>, path: &Path) -> Option<Arc<Path>> {
    match (path.parent(), path.file_name()) {
        (Some(folder), Some(name)) => {
            if std::fs::symlink_metadata(path)
                .ok()?
                .file_type()
                .is_symlink()
            {
                std::fs::canonicalize(path).ok().map(Arc::from)
            } else {
                real_folder(folders, folder).map(|real| Arc::from(real.join(name)))
            }
        }
        // The root, or a path ending in `..`.
        _ => std::fs::canonicalize(path).ok().map(Arc::from),
    }
}

fn real_folder(
    folders: &mut HashMap<PathBuf, Option<Arc<Path>>>,
    folder: &Path,
) -> Option<Arc<Path>> {
    if let Some(found) = folders.get(folder) {
        return found.clone();
    }
    let found = real_path(folders, folder);
    // Emptied when full: the files of a scan come folder by folder, so the folders met last
    // are the ones asked for next, and a large estate's folders are not all held.
    if folders.len() >= FOLDERS_HELD {
        folders.clear();
    }
    folders.insert(folder.to_path_buf(), found.clone());
    found
}

/// Folders whose real paths `real_folder` holds before it empties its map.
const FOLDERS_HELD: usize = 1024;

/// Percent-encodes a path for a URI: everything but unreserved characters and `/`.
pub(crate) fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn slashes(path: &Path) -> String {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `file:///abs/path` (with a trailing slash for folders).
fn file_uri(path: &Path, folder: bool) -> String {
    let mut uri = format!("file:///{}", encode_path(&slashes(path)));
    if folder && !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Turns report paths into SARIF artifact locations relative to the repository root.
pub struct Locator {
    cwd: PathBuf,
    root: PathBuf,
    /// Each path made absolute, and relative to the root, once: resolving symlinks asks the
    /// file system for every component, and a file with many findings is named by each of
    /// them.
    resolved: Mutex<HashMap<String, Resolved>>,
    /// Each folder's real path, once: the files of a folder share it, and resolving it anew
    /// asks the file system about every component above it.
    folders: Mutex<HashMap<PathBuf, Option<Arc<Path>>>>,
    /// Tells this locator's entries apart in the per-thread caches of `relative_nearby`.
    id: u64,
}

/// The paths each thread resolved last for `Locator::relative_nearby`, and whose they are.
struct Nearby {
    locator: u64,
    relative: foldhash::HashMap<String, Option<Arc<str>>>,
}

impl Nearby {
    /// Paths held before the cache is emptied: a unit's findings name a few files.
    const PATHS: usize = 256;
}

#[derive(Clone)]
struct Resolved {
    absolute: Arc<Path>,
    /// Relative to the root with `/` separators; `None` outside it.
    relative: Option<Arc<str>>,
}

impl Locator {
    pub fn new(root: &Path) -> Self {
        let cwd = std::env::current_dir().unwrap_or_default();
        let root = absolute(&cwd, root);
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Locator {
            cwd,
            root,
            resolved: Mutex::default(),
            folders: Mutex::default(),
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// `relative`, for findings as the scan makes them: each thread keeps only the last few
    /// paths it resolved, not every path of a large estate, and none is shared with `relative`.
    pub fn relative_nearby(&self, path: &str) -> Option<Arc<str>> {
        thread_local! {
            static NEARBY: std::cell::RefCell<Nearby> = std::cell::RefCell::new(Nearby {
                locator: u64::MAX,
                relative: foldhash::HashMap::default(),
            });
        }
        if path == "-" {
            return None;
        }
        NEARBY.with_borrow_mut(|nearby| {
            if nearby.locator != self.id || nearby.relative.len() >= Nearby::PATHS {
                nearby.locator = self.id;
                nearby.relative.clear();
            }
            if let Some(found) = nearby.relative.get(path) {
                return found.clone();
            }
            let found = self.resolve_uncached(path).relative;
            nearby.relative.insert(path.to_string(), found.clone());
            found
        })
    }

    fn resolve_uncached(&self, path: &str) -> Resolved {
        let absolute: Arc<Path> = self.absolute(Path::new(path)).into();
        let relative = absolute
            .strip_prefix(&self.root)
            .ok()
            .map(|r| Arc::from(slashes(r)));
        Resolved { absolute, relative }
    }

    /// `absolute(cwd, path)`, asking the file system once per file: a file or folder that is
    /// not a symbolic link is its folder's real path joined with its name, and each folder's
    /// real path is found once (`folders`), not once for every file below it.
    fn absolute(&self, path: &Path) -> PathBuf {
        let joined = self.cwd.join(path);
        let mut folders = self.folders.lock().unwrap_or_else(|e| e.into_inner());
        match real_path(&mut folders, &joined) {
            Some(real) => real.to_path_buf(),
            None => absolute(&self.cwd, path),
        }
    }

    fn resolve(&self, path: &str) -> Resolved {
        let mut resolved = self.resolved.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = resolved.get(path) {
            return found.clone();
        }
        let found = self.resolve_uncached(path);
        resolved.insert(path.to_string(), found.clone());
        found
    }

    /// `{"uri": "k8s/app.yaml", "uriBaseId": "%SRCROOT%"}`, or an absolute `file:` URI for a
    /// file outside the root; `None` for stdin.
    pub fn artifact(&self, path: &str) -> Option<Value> {
        if path == "-" {
            return None;
        }
        let Resolved { absolute, relative } = self.resolve(path);
        Some(match relative {
            Some(relative) => json!({"uri": encode_path(&relative), "uriBaseId": "%SRCROOT%"}),
            None => json!({"uri": file_uri(&absolute, false)}),
        })
    }

    /// `path` relative to the root with `/` separators; `None` for stdin and paths outside.
    pub fn relative(&self, path: &str) -> Option<String> {
        if path == "-" {
            return None;
        }
        self.resolve(path).relative.map(|r| r.to_string())
    }

    fn root_uri(&self) -> String {
        file_uri(&self.root, true)
    }
}

fn rule_descriptor(rule: &Rule, builtin: bool) -> Value {
    let markdown = format!(
        "**{}**\n\n{}\n\n**How to fix**\n\n{}\n\nReferences: {}",
        rule.title,
        rule.why.trim(),
        rule.fix.trim(),
        rule.references.join(", ")
    );
    let mut descriptor = json!({
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.why.trim()},
        "help": {"text": rule.fix.trim(), "markdown": markdown},
        "defaultConfiguration": {"level": level(rule.severity)},
        "properties": {
            "security-severity": security_severity(rule.severity),
            "tags": ["sovereignty", rule.category.as_str()],
        },
    });
    if builtin && let Some(obj) = descriptor.as_object_mut() {
        obj.insert(
            "helpUri".into(),
            json!(format!("{RULES_DOC}#{}", rule.id.to_ascii_lowercase())),
        );
    }
    descriptor
}

/// Writes the SARIF log, as `serde_json::to_writer_pretty` writes it with members sorted by
/// name: the results made and serialised on every core as the findings are read from the store,
/// never all held, nor all as JSON values.
pub fn write(
    result: &ScanResult,
    rules: &[Rule],
    locator: &Locator,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let used: BTreeMap<&str, &Rule> = rules.iter().map(|r| (r.id.as_str(), r)).collect();
    // Built-in rules have a section in the rule reference; rule packs do not.
    let shipped = crate::engine::builtin_rules().unwrap_or_default();
    let builtin: std::collections::BTreeSet<(&str, &str)> = shipped
        .iter()
        .map(|r| (r.id.as_str(), r.source.as_str()))
        .collect();
    let index: BTreeMap<&str, usize> = used.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let make = |f: &crate::finding::Finding| -> Value {
        let mut location = json!({
            "logicalLocations": [{"fullyQualifiedName": f.resource.address, "kind": "resource"}],
        });
        if let Some(artifact) = locator.artifact(&f.location.path)
            && let Some(obj) = location.as_object_mut()
        {
            obj.insert(
                "physicalLocation".into(),
                json!({
                    "artifactLocation": artifact,
                    "region": {
                        "startLine": f.location.start_line,
                        "startColumn": f.location.start_column,
                        "endLine": f.location.end_line,
                        "endColumn": f.location.end_column,
                    },
                }),
            );
        }
        let mut r = json!({
            "ruleId": f.rule_id,
            "ruleIndex": index.get(&*f.rule_id).copied().unwrap_or(0),
            "level": level(f.severity),
            "message": {"text": format!("{} Fix: {}", f.message, f.remediation)},
            "locations": [location],
            "partialFingerprints": {"sovscanFingerprint/v1": f.fingerprint},
            "properties": {"security-severity": security_severity(f.severity), "field": f.location.field},
        });
        if let Some(state) = f.baseline
            && let Some(obj) = r.as_object_mut()
        {
            obj.insert("baselineState".into(), json!(state.as_str()));
        }
        if let Some(s) = &f.suppression
            && let Some(obj) = r.as_object_mut()
        {
            obj.insert(
                "suppressions".into(),
                json!([{
                    // The settings file is outside the scanned file: SARIF's `external`.
                    "kind": if s.kind == "settings" { "external" } else { "inSource" },
                    "justification": s.reason.clone().unwrap_or_default(),
                }]),
            );
        }
        r
    };
    // Files that could not be read or parsed are the run's notifications, not results.
    let notifications: Vec<Value> = result
        .errors
        .iter()
        .map(|e| {
            let mut n = json!({"level": "error", "message": {"text": e.reason}});
            if let Some(artifact) = locator.artifact(&e.path)
                && let Some(obj) = n.as_object_mut()
            {
                let mut physical = json!({"artifactLocation": artifact});
                if e.line > 0
                    && let Some(p) = physical.as_object_mut()
                {
                    p.insert(
                        "region".into(),
                        json!({"startLine": e.line, "startColumn": e.column.max(1)}),
                    );
                }
                obj.insert("locations".into(), json!([{"physicalLocation": physical}]));
            }
            n
        })
        .collect();
    let tool = json!({"driver": {
        "name": "sovscan",
        "version": env!("CARGO_PKG_VERSION"),
        "informationUri": "https://github.com/sovscan/sovscan",
        "rules": used.values().map(|r| rule_descriptor(r, builtin.contains(&(r.id.as_str(), r.source.as_str())))).collect::<Vec<_>>(),
    }});
    let mut log = pretty::Object::open(out, 0)?;
    log.field("$schema", "https://json.schemastore.org/sarif-2.1.0.json")?;
    let (runs, depth) = log.key("runs")?;
    pretty::array_with(runs, depth, [()], |out, (), depth| {
        let mut run = pretty::Object::open(out, depth)?;
        run.field(
            "invocations",
            &json!([{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }]),
        )?;
        run.field(
            "originalUriBaseIds",
            &json!({"%SRCROOT%": {"uri": locator.root_uri()}}),
        )?;
        let (results, depth) = run.key("results")?;
        pretty::findings_array(
            results,
            depth,
            &result.findings,
            |text, f, depth, (): &mut ()| pretty::serialize(text, &make(f), depth),
        )?;
        run.field("tool", &tool)?;
        run.close()
    })?;
    log.field("version", "2.1.0")?;
    log.close()?;
    out.write_all(b"\n")
}

/// GitHub shows at most this many annotations of each level per step.
pub const ANNOTATIONS_PER_LEVEL: usize = 10;

fn annotation_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

/// GitHub Actions workflow commands: an annotation on the pull request diff for the first
/// `ANNOTATIONS_PER_LEVEL` findings of each level (most severe first); the rest are counted in a
/// closing line and listed by `step_summary`.
pub fn render_github(result: &ScanResult) -> String {
    use crate::sanitize::{github_data, github_property};
    let annotations = Annotations::of(result);
    let mut out = String::new();
    for f in annotations.annotated.iter().flatten() {
        out.push_str(&format!(
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            annotation_level(f.severity),
            github_property(&f.location.path),
            f.location.start_line,
            f.location.start_column,
            f.location.end_line,
            f.location.end_column,
            github_property(&format!("{} {}", f.rule_id, f.rule_name)),
            github_data(&format!("{} Fix: {}", f.message, f.remediation))
        ));
    }
    let rest = annotations.rest();
    if rest > 0 {
        out.push_str(&format!(
            "{rest} more findings are not annotated (GitHub shows {ANNOTATIONS_PER_LEVEL} per level); \
             they are listed in the job summary\n"
        ));
    }
    out
}

/// The open findings (neither suppressed nor in the baseline) in annotation order, most severe
/// first and in report order within a severity: the first `ANNOTATIONS_PER_LEVEL` of each level are annotated, the others are
/// the rest. Only the annotated ones are held.
struct Annotations<'a> {
    /// Per severity, most severe first: the annotated findings.
    annotated: [Vec<crate::store::Item<'a>>; 5],
    /// Per severity, most severe first: how many findings there are.
    counts: [usize; 5],
}

impl<'a> Annotations<'a> {
    fn of(result: &'a ScanResult) -> Self {
        let mut counts = [0; 5];
        let mut first: [Vec<crate::store::Item<'a>>; 5] = Default::default();
        for f in result.findings.iter().filter(|f| f.is_active()) {
            let rank = Self::rank(f.severity);
            counts[rank] += 1;
            if first[rank].len() < ANNOTATIONS_PER_LEVEL {
                first[rank].push(f);
            }
        }
        // Severities of one level share its annotations, the more severe first.
        let mut per_level: BTreeMap<&str, usize> = BTreeMap::new();
        for (list, severity) in first.iter_mut().zip(Severity::ALL) {
            let used = per_level.entry(annotation_level(severity)).or_default();
            list.truncate(ANNOTATIONS_PER_LEVEL - *used);
            *used += list.len();
        }
        Annotations {
            annotated: first,
            counts,
        }
    }

    /// The place of `severity` in `Severity::ALL`, most severe first.
    fn rank(severity: Severity) -> usize {
        Severity::ALL
            .iter()
            .position(|s| *s == severity)
            .unwrap_or(Severity::ALL.len() - 1)
    }

    fn annotated(&self) -> usize {
        self.annotated.iter().map(Vec::len).sum()
    }

    fn rest(&self) -> usize {
        self.counts.iter().sum::<usize>() - self.annotated()
    }
}

/// Markdown for `$GITHUB_STEP_SUMMARY`: the verdict and the findings without an annotation,
/// read from the store one severity at a time.
pub fn step_summary(result: &ScanResult, verdict: &str) -> String {
    let cell = |s: &str| crate::sanitize::terminal(&s.replace('|', "\\|")).into_owned();
    let annotations = Annotations::of(result);
    let mut out = format!(
        "## sovscan\n\n{verdict}\n\n{} findings annotated",
        annotations.annotated()
    );
    let rest = annotations.rest();
    if rest == 0 {
        out.push_str(".\n");
        return out;
    }
    out.push_str(&format!(
        "; {rest} more:\n\n| severity | rule | location | resource | finding |\n|---|---|---|---|---|\n"
    ));
    for (rank, severity) in Severity::ALL.into_iter().enumerate() {
        if annotations.counts[rank] == annotations.annotated[rank].len() {
            continue;
        }
        let rest = result
            .findings
            .iter()
            .filter(|f| f.is_active() && f.severity == severity)
            .skip(annotations.annotated[rank].len());
        for f in rest {
            out.push_str(&format!(
                "| {} | {} {} | {}:{} | {} | {} |\n",
                f.severity,
                f.rule_id,
                cell(&f.rule_name),
                cell(&f.location.path),
                f.location.start_line,
                cell(&f.resource.address),
                cell(&f.message)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_laid_out_as_serde_json_lays_it_out() {
        use crate::frameworks::tests::finding;
        let rules = crate::engine::builtin_rules().unwrap_or_else(|e| panic!("{e}"));
        let locator = Locator::new(Path::new("/repo"));
        // More than a batch of results, so that pieces and batches meet; none; one.
        let all: Vec<_> = (0..2500)
            .map(|n| {
                let rule = if n % 3 == 0 { "GDPR-001" } else { "RES-001" };
                let mut f = finding(
                    rule,
                    &format!("/repo/k8s/{}.yaml", n % 7),
                    n + 1,
                    1,
                    &format!("f{n}"),
                );
                f.message = format!("finding {n} \"quoted\"\nover two lines");
                f
            })
            .collect();
        for count in [all.len(), 0, 1] {
            for budget in [usize::MAX, 0] {
                let collector = crate::store::Collector::new(budget, Vec::new());
                collector.add(all[..count].to_vec());
                let result = ScanResult {
                    findings: collector.finish(),
                    errors: vec![crate::load::LoadError {
                        path: "/repo/bad.yaml".into(),
                        line: 3,
                        column: 0,
                        reason: "broken".into(),
                    }],
                    ..Default::default()
                };
                let mut ours = Vec::new();
                write(&result, &rules, &locator, &mut ours).unwrap_or_else(|e| panic!("{e}"));
                let value: Value = serde_json::from_slice(&ours).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(
                    value["runs"][0]["results"].as_array().map(Vec::len),
                    Some(count)
                );
                let mut serde = serde_json::to_vec_pretty(&value).unwrap_or_else(|e| panic!("{e}"));
                serde.push(b'\n');
                assert_eq!(
                    String::from_utf8_lossy(&ours),
                    String::from_utf8_lossy(&serde),
                    "{count} findings, budget {budget}"
                );
            }
        }
    }

    #[test]
    fn paths_near_each_other_are_made_relative_to_their_own_root() {
        let (a, b) = (
            Locator::new(Path::new("/repo")),
            Locator::new(Path::new("/repo/k8s")),
        );
        for round in 0..2 {
            // More paths than a thread keeps, named again in a second round.
            for n in 0..Nearby::PATHS + 10 {
                let path = format!("/repo/k8s/app-{n}.yaml");
                let expected = format!("k8s/app-{n}.yaml");
                assert_eq!(a.relative_nearby(&path).as_deref(), Some(expected.as_str()));
                let text = |p: Option<Arc<str>>| p.map(|p| p.to_string());
                assert_eq!(
                    text(b.relative_nearby(&path)),
                    b.relative(&path),
                    "round {round}"
                );
                assert_eq!(text(a.relative_nearby(&path)), a.relative(&path));
            }
        }
        assert_eq!(a.relative_nearby("/elsewhere/x.yaml"), None);
        assert_eq!(a.relative_nearby("-"), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_is_resolved_through_its_folder_as_the_file_system_resolves_it() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        std::fs::create_dir_all(base.join("real/sub")).unwrap();
        std::fs::write(base.join("real/sub/app.yaml"), "a").unwrap();
        std::fs::write(base.join("real/other.yaml"), "b").unwrap();
        std::os::unix::fs::symlink(base.join("real"), base.join("linked")).unwrap();
        std::os::unix::fs::symlink(
            base.join("real/other.yaml"),
            base.join("real/sub/to-other.yaml"),
        )
        .unwrap();
        std::os::unix::fs::symlink(base.join("real/gone.yaml"), base.join("real/dangling.yaml"))
            .unwrap();
        let locator = Locator::new(base);
        for path in [
            "real/sub/app.yaml",
            "linked/sub/app.yaml",
            "linked/sub/../other.yaml",
            "real/sub/to-other.yaml",
            "linked/sub/to-other.yaml",
            "real/./sub/app.yaml",
            "real/sub/missing.yaml",
            "missing/app.yaml",
            "real/sub/..",
            "real/sub/.",
            "real/other.yaml/x",
            "real/dangling.yaml",
        ] {
            let path = base.join(path);
            // Twice: the second time from the folders already resolved.
            for _ in 0..2 {
                assert_eq!(
                    locator.absolute(&path),
                    absolute(&locator.cwd, &path),
                    "{}",
                    path.display()
                );
            }
        }
        assert_eq!(
            locator.relative(&base.join("linked/sub/to-other.yaml").to_string_lossy()),
            Some("real/other.yaml".to_string())
        );
        // More folders than are held: the map is emptied and filled again.
        for n in 0..FOLDERS_HELD + 5 {
            let folder = base.join(format!("linked/many/f{n}"));
            std::fs::create_dir_all(&folder).unwrap();
            let file = folder.join("a.tf");
            std::fs::write(&file, "").unwrap();
            assert_eq!(locator.absolute(&file), absolute(&locator.cwd, &file));
            assert!(locator.folders.lock().unwrap().len() <= FOLDERS_HELD);
        }
    }
}
