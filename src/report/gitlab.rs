//! GitLab Code Quality (the Code Climate subset GitLab documents): a JSON array with one issue
//! per finding that is not suppressed, located by path relative to the repository root and
//! first line. GitLab compares the issues of a merge request with its target branch by
//! `fingerprint`, so the fingerprint is the finding's line-independent one.

use serde::Serialize;
use std::collections::BTreeSet;

use super::sarif::Locator;
use crate::finding::{Finding, Severity};
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
struct Issue<'a> {
    description: String,
    check_name: &'a str,
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

pub fn render(result: &ScanResult, locator: &Locator) -> String {
    let mut findings: Vec<&Finding> = result
        .findings
        .in_memory()
        .iter()
        .filter(|f| !f.is_suppressed())
        .collect();
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let mut seen = BTreeSet::new();
    let issues: Vec<Issue> = findings
        .into_iter()
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
                check_name: &f.rule_id,
                fingerprint,
                severity: severity(f.severity),
                location: Location {
                    path: super::repo_path(locator, &f.location.path),
                    lines: Lines {
                        begin: f.location.start_line.max(1),
                    },
                },
            }
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".to_string());
    text.push('\n');
    text
}
