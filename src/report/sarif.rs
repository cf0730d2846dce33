//! SARIF 2.1.0 for GitHub code scanning and other SARIF viewers: rule metadata with help text
//! and `security-severity`, one result per finding, suppressions as `inSource`.

use serde_json::{Value, json};
use std::collections::BTreeMap;

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

fn rule_descriptor(rule: &Rule) -> Value {
    let markdown = format!(
        "**{}**\n\n{}\n\n**How to fix**\n\n{}\n\nReferences: {}",
        rule.title,
        rule.why.trim(),
        rule.fix.trim(),
        rule.references.join(", ")
    );
    json!({
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
    })
}

pub fn render(result: &ScanResult, rules: &[Rule]) -> String {
    let used: BTreeMap<&str, &Rule> = rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let index: BTreeMap<&str, usize> = used.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let results: Vec<Value> = result
        .findings
        .iter()
        .map(|f| {
            let mut r = json!({
                "ruleId": f.rule_id,
                "ruleIndex": index.get(f.rule_id.as_str()).copied().unwrap_or(0),
                "level": level(f.severity),
                "message": {"text": format!("{} Fix: {}", f.message, f.remediation)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.location.path.trim_start_matches("./")},
                        "region": {
                            "startLine": f.location.start_line,
                            "startColumn": f.location.start_column,
                            "endLine": f.location.end_line,
                            "endColumn": f.location.end_column,
                        },
                    },
                    "logicalLocations": [{"fullyQualifiedName": f.resource.address, "kind": "resource"}],
                }],
                "partialFingerprints": {"sovscanFingerprint/v1": f.fingerprint},
                "properties": {"security-severity": security_severity(f.severity), "field": f.location.field},
            });
            if let Some(s) = &f.suppression
                && let Some(obj) = r.as_object_mut()
            {
                obj.insert(
                    "suppressions".into(),
                    json!([{"kind": "inSource", "justification": s.reason.clone().unwrap_or_default()}]),
                );
            }
            r
        })
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "sovscan",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/sovscan/sovscan",
                "rules": used.values().map(|r| rule_descriptor(r)).collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&sarif).unwrap_or_default();
    text.push('\n');
    text
}

/// GitHub Actions workflow commands: one annotation per finding on the pull request diff.
pub fn render_github(result: &ScanResult) -> String {
    let escape = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let mut out = String::new();
    for f in result.findings.iter().filter(|f| !f.is_suppressed()) {
        let kind = match f.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Info => "notice",
        };
        out.push_str(&format!(
            "::{kind} file={},line={},col={},endLine={},endColumn={},title={} {}::{}\n",
            f.location.path,
            f.location.start_line,
            f.location.start_column,
            f.location.end_line,
            f.location.end_column,
            f.rule_id,
            f.rule_name,
            escape(&format!("{} Fix: {}", f.message, f.remediation))
        ));
    }
    out
}
