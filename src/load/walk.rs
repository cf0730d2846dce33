//! File discovery: folders are walked with the `ignore` crate (honours .gitignore), and only
//! files that could be scan inputs are returned; everything else the user named is accounted for.

use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};

/// Folders never worth descending into: VCS data, downloaded dependencies and modules.
const SKIPPED_DIRS: &[&str] = &[".git", "node_modules", ".terraform", "vendor", ".venv"];

/// Extensions of files a loader may understand.
const CANDIDATE_EXTENSIONS: &[&str] = &["yaml", "yml", "json", "tf", "tfvars", "gz", "template"];

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("invalid --exclude pattern {pattern:?}: {reason}")]
    BadPattern { pattern: String, reason: String },
}

pub struct Walk {
    pub files: Vec<PathBuf>,
    /// Template sources found in folders (`*.yaml.tpl`, `*.j2`): listed, not scanned.
    pub templates: Vec<PathBuf>,
    /// Paths the user named that do not exist or could not be read, with the reason.
    pub unreadable: Vec<(PathBuf, String)>,
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
    let mut unreadable = Vec::new();
    for root in roots {
        if root.is_file() {
            files.push(root.clone());
            continue;
        }
        if !root.is_dir() {
            unreadable.push((root.clone(), "no such file or directory".to_string()));
            continue;
        }
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
                    if entry.file_type().is_some_and(|t| t.is_file())
                        && !excluded(excludes, path, root)
                    {
                        if is_candidate(path) {
                            files.push(path.to_path_buf());
                        } else if is_template_source(path) {
                            templates.push(path.to_path_buf());
                        }
                    }
                }
                Err(err) => unreadable.push((root.clone(), err.to_string())),
            }
        }
    }
    files.sort();
    files.dedup();
    templates.sort();
    Walk {
        files,
        templates,
        unreadable,
    }
}
