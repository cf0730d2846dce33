//! Valid Terraform that sovscan must read as Terraform does. Each folder under
//! `tests/terraform_valid/` is a configuration without providers, checked with the local
//! `terraform validate` (when `terraform` is on the PATH) and then scanned with `--strict`:
//! no file may be reported unparseable.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use crate::common::{Scratch, scratch};
use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/terraform_valid");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Copies a case to a fresh folder, so `terraform` writes nothing into the repository.
fn copy_case(case: &Path) -> Scratch {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let dir = scratch(&format!("valid-{name}"));
    for entry in std::fs::read_dir(case).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    dir
}

fn terraform_validate(dir: &Path) -> Option<(bool, String)> {
    let out = std::process::Command::new("terraform")
        .args(["validate", "-no-color"])
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .ok()?;
    Some((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

#[test]
fn terraform_valid_files_scan_without_errors() {
    let cases = corpus();
    assert!(cases.len() >= 5, "the corpus has its cases");
    for case in cases {
        let dir = copy_case(&case);
        match terraform_validate(&dir) {
            Some((valid, output)) => assert!(
                valid,
                "{}: terraform validate rejects a corpus file:\n{output}",
                case.display()
            ),
            None => eprintln!(
                "WARNING: `terraform` is not on the PATH: {} is not checked with terraform validate",
                case.display()
            ),
        }
        let out = Command::cargo_bin("sovscan")
            .unwrap()
            .args(["scan", "--strict", "--format", "json"])
            .arg(&dir)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            report["scanned"]["errors"],
            serde_json::json!([]),
            "{}: sovscan cannot read valid Terraform",
            case.display()
        );
        assert_eq!(
            report["scanned"]["skipped"],
            serde_json::json!([]),
            "{}: a file is not read as Terraform",
            case.display()
        );
        let files = std::fs::read_dir(&case).unwrap().count();
        assert_eq!(
            report["scanned"]["documents"].as_u64(),
            Some(files as u64),
            "{}: every file is read as Terraform",
            case.display()
        );
        // A strict gate that saw no resource fails: it vouches for nothing.
        let resources = report["scanned"]["resources"].as_u64().unwrap_or(0);
        let expected = if resources == 0 { 2 } else { 0 };
        assert_eq!(out.status.code(), Some(expected), "{}", case.display());
    }
}
