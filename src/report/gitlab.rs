//! GitLab Code Quality (the Code Climate subset GitLab documents): a JSON array with one issue
//! per finding that is not suppressed, located by path relative to the repository root and
//! first line. GitLab compares the issues of a merge request with its target branch by
//! `fingerprint`, so the fingerprint is the finding's line-independent one.

use serde::Serialize;
use std::collections::BTreeSet;

use super::sarif::Locator;
use crate::finding::Severity;
use crate::scan::ScanResult;

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Issue {
    description: String,
    check_name: String,
    fingerprint: String,
    severity: &'static str,
    location: Location,
}

/// GitLab's five levels, one per sovscan severity.
pub fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "blocker",
        Severity::High => "critical",
        Severity::Medium => "major",
        Severity::Low => "minor",
        Severity::Info => "info",
    }
}

/// Writes the issues as the findings are read from the store. The fingerprints already given
/// are kept, one short string per issue, so that no two issues share one.
pub fn write(
    result: &ScanResult,
    locator: &Locator,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut seen = BTreeSet::new();
    let issues = result
        .findings
        .iter()
        .filter(|f| !f.is_suppressed())
        .map(|f| {
            // Two findings with one fingerprint would hide each other in GitLab's comparison.
            let mut fingerprint = f.fingerprint.clone();
            let mut n = 1;
            while !seen.insert(fingerprint.clone()) {
                n += 1;
                fingerprint = format!("{}-{n}", f.fingerprint);
            }
            Issue {
                description: format!("{} {}: {}", f.rule_id, f.rule_name, f.message),
                check_name: f.rule_id.to_string(),
                fingerprint,
                severity: severity(f.severity),
                location: Location {
                    path: super::repo_path(locator, &f.location.path),
                    lines: Lines {
                        begin: f.location.start_line.max(1),
                    },
                },
            }
        });
    super::json::pretty::array(out, issues)?;
    out.write_all(b"\n")
}
