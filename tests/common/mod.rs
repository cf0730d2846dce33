//! Helpers shared by the areas' tests.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::ffi::OsStr;
use std::path::Path;

/// A temporary folder, deleted with what it holds when the test is done with it.
pub struct Scratch(tempfile::TempDir);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<OsStr> for Scratch {
    fn as_ref(&self) -> &OsStr {
        self.0.path().as_os_str()
    }
}

/// A fresh, empty folder named `sovscan-<name>-<random>` in the system's temporary folder.
pub fn scratch(name: &str) -> Scratch {
    Scratch(
        tempfile::Builder::new()
            .prefix(&format!("sovscan-{name}-"))
            .tempdir()
            .unwrap(),
    )
}

/// The JSON report of a scan of `dir` with the gate off, which must exit 0; `budget` sets the
/// findings memory budget (`SOVSCAN_FINDINGS_MEMORY`).
pub fn json_report(dir: &Path, budget: Option<&str>) -> serde_json::Value {
    let mut cmd = assert_cmd::Command::cargo_bin("sovscan").unwrap();
    if let Some(budget) = budget {
        cmd.env("SOVSCAN_FINDINGS_MEMORY", budget);
    }
    let out = cmd
        .args([
            "scan",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--no-render",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
