//! File discovery: folders are walked with the `ignore` crate (honours .gitignore), and only
//! files that could be scan inputs are returned; everything else the user named is accounted for.

use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Folders never worth descending into: VCS data, downloaded dependencies and modules.
const SKIPPED_DIRS: &[&str] = &[".git", "node_modules", ".terraform", "vendor", ".venv"];

/// Extensions of files a loader may understand (`tofu`: OpenTofu's extension for Terraform
/// files).
const CANDIDATE_EXTENSIONS: &[&str] = &[
    "yaml", "yml", "json", "tf", "tofu", "tfvars", "gz", "template",
];

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("invalid --exclude pattern {pattern:?}: {reason}")]
    BadPattern { pattern: String, reason: String },
}

pub struct Walk {
    pub files: Vec<PathBuf>,
    /// Template sources found in folders (`*.yaml.tpl`, `*.j2`): listed, not scanned.
    pub templates: Vec<PathBuf>,
    /// Infrastructure code in a form no loader reads (Bicep, Terragrunt, Packer), found in
    /// folders, with what to scan instead (`foreign_kind`): listed, not scanned.
    pub foreign: Vec<(PathBuf, &'static str)>,
    /// Terraform files that OpenTofu reads another file in place of (`main.tf` beside
    /// `main.tofu`), with that file: listed, not scanned.
    pub shadowed: Vec<(PathBuf, PathBuf)>,
    /// Paths the user named that do not exist or could not be read, with the reason.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Input files inside the folders that `.gitignore`/`.ignore` files leave out.
    pub ignored: usize,
}

/// What a path that is neither a file nor a folder is (a FIFO is never opened: reading one
/// would wait for a writer).
pub fn special_kind(file_type: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        Some("a FIFO (named pipe), not a regular file: not read")
    } else if file_type.is_socket() {
        Some("a socket, not a regular file: not read")
    } else if file_type.is_char_device() || file_type.is_block_device() {
        Some("a device, not a regular file: not read")
    } else {
        None
    }
}

pub fn build_excludes(patterns: &[String]) -> Result<GlobSet, WalkError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|e| WalkError::BadPattern {
            pattern: pattern.clone(),
            reason: e.to_string(),
        })?;
        builder.add(glob);
        // `--exclude dir` should also exclude what is inside it.
        if !pattern.ends_with("/**")
            && let Ok(inner) = Glob::new(&format!("{}/**", pattern.trim_end_matches('/')))
        {
            builder.add(inner);
        }
    }
    builder.build().map_err(|e| WalkError::BadPattern {
        pattern: patterns.join(", "),
        reason: e.to_string(),
    })
}

/// Extensions of template sources that become manifests or configurations once rendered.
const TEMPLATE_EXTENSIONS: &[&str] = &[
    "tpl", "tmpl", "gotmpl", "j2", "jinja", "jinja2", "mustache", "hbs", "erb", "ytt",
];

/// A template of a manifest or configuration (`deployment.yaml.tpl`, `values.yaml.j2`,
/// `main.tf.tmpl`); Helm's `_helpers.tpl` too, since it belongs to a chart that is listed.
pub fn is_template_source(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| TEMPLATE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

const TERRAGRUNT: &str = "Terragrunt configuration: scan the modules it names, or its plan (`terragrunt plan -out=tfplan`, then `terragrunt show -json tfplan > plan.json`)";
const OTHER_HCL: &str = "HCL that is not Terraform (Terraform files end in .tf): not scanned";

/// Infrastructure code that no loader reads, and what to scan instead: listed as skipped, so
/// that a folder of it does not scan as empty unnoticed. Terraform's provider lock file holds
/// no configuration and is left alone.
pub fn foreign_kind(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    if name.ends_with(".tftest.hcl")
        || name.ends_with(".tfmock.hcl")
        || name.ends_with(".tofutest.hcl")
    {
        Some("Terraform test file: the runs of `terraform test` are not scanned")
    } else if name.ends_with(".bicep") || name.ends_with(".bicepparam") {
        Some(
            "Bicep source: build it into an ARM template (`az bicep build --file <file>`) and scan the JSON",
        )
    } else if name.ends_with(".pkr.hcl") {
        Some("Packer template: machine image builds are not scanned")
    } else if name == ".terraform.lock.hcl" {
        None
    } else if (name.starts_with("terragrunt") || name == "root.hcl") && name.ends_with(".hcl") {
        Some(TERRAGRUNT)
    } else if name.ends_with(".hcl") {
        Some(OTHER_HCL)
    } else {
        None
    }
}

fn is_candidate(path: &Path) -> bool {
    // Kustomize's extension-less name, and SAM's deployment settings (parameter values).
    if path
        .file_name()
        .is_some_and(|n| n == "Kustomization" || n == "samconfig.toml")
    {
        return true;
    }
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| CANDIDATE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Whether a file name is one of OpenTofu's own Terraform files (`main.tofu`, `vars.tofu.json`).
pub fn is_opentofu(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".tofu") || lower.ends_with(".tofu.json")
}

/// The OpenTofu file that takes a Terraform file's place when both are in one folder:
/// `main.tofu` for `main.tf`, `vars.tofu.json` for `vars.tf.json`; `None` for other names.
pub fn opentofu_in_place_of(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let (end, tail) = if lower.ends_with(".tf.json") {
        (".tf.json", ".tofu.json")
    } else if lower.ends_with(".tf") {
        (".tf", ".tofu")
    } else {
        return None;
    };
    Some(format!("{}{tail}", &name[..name.len() - end.len()]))
}

/// Takes out of `files` each Terraform file that OpenTofu reads another in place of
/// (`opentofu_in_place_of`). Returns them, each with the file that takes its place.
fn shadowed_by_tofu(files: &mut Vec<PathBuf>) -> Vec<(PathBuf, PathBuf)> {
    let tofu: std::collections::HashSet<&Path> = files
        .iter()
        .filter(|f| f.to_str().is_some_and(is_opentofu))
        .map(PathBuf::as_path)
        .collect();
    if tofu.is_empty() {
        return Vec::new();
    }
    let shadowed: Vec<(PathBuf, PathBuf)> = files
        .iter()
        .filter_map(|f| {
            let other = PathBuf::from(opentofu_in_place_of(f.to_str()?)?);
            tofu.contains(other.as_path()).then(|| (f.clone(), other))
        })
        .collect();
    let out: std::collections::HashSet<&PathBuf> = shadowed.iter().map(|(s, _)| s).collect();
    files.retain(|f| !out.contains(f));
    shadowed
}

fn excluded(excludes: &GlobSet, path: &Path, root: &Path) -> bool {
    excludes.is_match(path)
        || path
            .strip_prefix(root)
            .is_ok_and(|rel| excludes.is_match(rel))
}

/// Lists the input files under `roots`. A file or folder named explicitly is always scanned,
/// even when `.gitignore` lists it; `honour_ignore_files: false` also scans the ignored files
/// and folders found inside folders (`--no-ignore`).
pub fn discover(roots: &[PathBuf], excludes: &GlobSet, honour_ignore_files: bool) -> Walk {
    let mut files = Vec::new();
    let mut templates = Vec::new();
    let mut foreign = Vec::new();
    let mut unreadable = Vec::new();
    let mut ignored = 0;
    for root in roots {
        if root.is_file() {
            files.push(root.clone());
            continue;
        }
        if !root.is_dir() {
            let reason = match std::fs::metadata(root) {
                Ok(meta) => special_kind(meta.file_type()).unwrap_or("not a file or folder"),
                Err(_) => "no such file or directory",
            };
            unreadable.push((root.clone(), reason.to_string()));
            continue;
        }
        // With ignore files honoured, the same walk without them counts what they hide (so a
        // committed `.gitignore` cannot empty a scan unnoticed); the two run side by side.
        let (found, all) = rayon::join(
            || walk_one(root, excludes, honour_ignore_files, true),
            || honour_ignore_files.then(|| walk_one(root, excludes, false, false)),
        );
        if let Some(all) = all {
            ignored += all.counted.saturating_sub(found.counted);
        }
        files.extend(found.files);
        templates.extend(found.templates);
        foreign.extend(found.foreign);
        unreadable.extend(found.unreadable);
    }
    files.par_sort_unstable();
    files.dedup();
    templates.par_sort_unstable();
    // Beside Terragrunt's own files, other HCL files are the settings they include
    // (`account.hcl`, `region.hcl`, `_envcommon/*.hcl`).
    if foreign.iter().any(|(_, kind)| *kind == TERRAGRUNT) {
        for (_, kind) in foreign.iter_mut().filter(|(_, kind)| *kind == OTHER_HCL) {
            *kind = TERRAGRUNT;
        }
    }
    foreign.sort_unstable();
    foreign.dedup();
    let shadowed = shadowed_by_tofu(&mut files);
    Walk {
        files,
        templates,
        foreign,
        shadowed,
        unreadable,
        ignored,
    }
}

/// What one walk of a folder found.
#[derive(Default)]
struct Found {
    files: Vec<PathBuf>,
    templates: Vec<PathBuf>,
    foreign: Vec<(PathBuf, &'static str)>,
    unreadable: Vec<(PathBuf, String)>,
    /// Input files and template sources found, listed or not.
    counted: usize,
}

/// Walks one folder for input files, template sources and unreadable entries; with `list`
/// false, only counts the files and template sources.
fn walk_one(root: &Path, excludes: &GlobSet, honour_ignore_files: bool, list: bool) -> Found {
    let mut found = Found::default();
    let Found {
        files,
        templates,
        foreign,
        unreadable,
        counted,
    } = &mut found;
    {
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .git_ignore(honour_ignore_files)
            .git_global(false)
            .git_exclude(honour_ignore_files)
            .ignore(honour_ignore_files)
            .parents(honour_ignore_files)
            .require_git(false)
            .filter_entry(|entry| {
                !(entry.file_type().is_some_and(|t| t.is_dir())
                    && entry
                        .file_name()
                        .to_str()
                        .is_some_and(|n| SKIPPED_DIRS.contains(&n)))
            })
            .build();
        for entry in walker {
            match entry {
                Ok(entry) => {
                    let path = entry.path();
                    let Some(file_type) = entry.file_type() else {
                        continue;
                    };
                    if excluded(excludes, path, root) {
                        continue;
                    }
                    if file_type.is_file() {
                        let (candidate, template) = (is_candidate(path), is_template_source(path));
                        *counted += usize::from(candidate || template);
                        if !list {
                            continue;
                        }
                        if candidate {
                            files.push(path.to_path_buf());
                        } else if template {
                            templates.push(path.to_path_buf());
                        } else if let Some(kind) = foreign_kind(path) {
                            foreign.push((path.to_path_buf(), kind));
                        }
                    } else if let Some(kind) = special_kind(file_type)
                        && is_candidate(path)
                    {
                        unreadable.push((path.to_path_buf(), kind.to_string()));
                    }
                }
                Err(err) => {
                    let path = error_path(&err).unwrap_or(root).to_path_buf();
                    unreadable.push((path, walk_reason(&err)));
                }
            }
        }
    }
    found
}

/// The path an error of the walk is about, when it names one.
fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

/// The reason of a walk error, without the path (reported beside it) or `(os error N)`.
fn walk_reason(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => walk_reason(err),
        ignore::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            "cannot read folder: permission denied".to_string()
        }
        other => {
            let text = other.to_string();
            text.split(" (os error").next().unwrap_or(&text).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opentofu_files_take_the_place_of_terraform_files_of_their_name() {
        let mut files: Vec<PathBuf> = [
            "m/main.tf",
            "m/main.tofu",
            "m/vars.tf.json",
            "m/vars.tofu.json",
            "m/outputs.tf",
            "n/main.tf",
            "n/other.tofu",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let shadowed = shadowed_by_tofu(&mut files);
        assert_eq!(
            shadowed,
            vec![
                (PathBuf::from("m/main.tf"), PathBuf::from("m/main.tofu")),
                (
                    PathBuf::from("m/vars.tf.json"),
                    PathBuf::from("m/vars.tofu.json")
                ),
            ]
        );
        assert_eq!(
            files,
            [
                "m/main.tofu",
                "m/vars.tofu.json",
                "m/outputs.tf",
                "n/main.tf",
                "n/other.tofu"
            ]
            .iter()
            .map(PathBuf::from)
            .collect::<Vec<_>>()
        );
    }

    #[test]
    fn infrastructure_code_no_loader_reads_is_named_with_what_to_scan_instead() {
        let kind = |name: &str| foreign_kind(Path::new(name));
        assert!(kind("infra/main.bicep").is_some_and(|k| k.contains("az bicep build")));
        assert!(kind("live/prod/terragrunt.hcl").is_some_and(|k| k.contains("terragrunt plan")));
        assert!(kind("live/root.hcl").is_some_and(|k| k.starts_with("Terragrunt")));
        assert!(kind("images/base.pkr.hcl").is_some_and(|k| k.starts_with("Packer")));
        assert!(kind("tests/plan.tftest.hcl").is_some_and(|k| k.starts_with("Terraform test")));
        assert!(kind("jobs/web.nomad.hcl").is_some_and(|k| k.starts_with("HCL that is not")));
        assert_eq!(kind("m/.terraform.lock.hcl"), None);
        assert_eq!(kind("README.md"), None);
    }
}
