//! JUnit XML (the Ant/Jenkins `junit-10.xsd` shape, read by Jenkins, GitLab, Azure DevOps and
//! most CI servers): one `<testsuite>` per rule run, one `<testcase>` per rule × resource the
//! rule reads (and per place a finding points to outside a resource), a `<failure>` per
//! finding, `<skipped>` for findings that are suppressed or accepted by the baseline.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::sarif::Locator;
use crate::engine::Rule;
use crate::finding::Finding;
use crate::scan::ScanResult;

/// Text for XML 1.0 content and attribute values: markup characters as entities, line breaks
/// kept as character references in attributes, characters XML cannot carry replaced.
pub fn escape(text: &str) -> String {
    super::escape_markup(text, |c, out| match c {
        '\'' => out.push_str("&apos;"),
        '\n' => out.push_str("&#10;"),
        '\r' => out.push_str("&#13;"),
        '\t' => out.push_str("&#9;"),
        c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
        c => out.push(c),
    })
}

/// The testcases of one rule: (path, resource address) → its findings.
type Cases<'a> = BTreeMap<(String, String), Vec<&'a Finding>>;

fn cases<'a>(rule: &Rule, result: &'a ScanResult, locator: &Locator) -> Cases<'a> {
    let mut cases: Cases = BTreeMap::new();
    for r in &result.resources {
        if rule.applies_to.iter().any(|f| f == r.format.as_str()) {
            let path = super::repo_path(locator, &r.path);
            cases.entry((path, r.address.clone())).or_default();
        }
    }
    for f in result
        .findings
        .in_memory()
        .iter()
        .filter(|f| *f.rule_id == *rule.id)
    {
        let path = super::repo_path(locator, &f.location.path);
        cases
            .entry((path, f.resource.address.clone()))
            .or_default()
            .push(f);
    }
    for findings in cases.values_mut() {
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }
    cases
}

fn testcase(out: &mut String, rule: &Rule, path: &str, address: &str, findings: &[&Finding]) {
    let line = findings
        .first()
        .map(|f| format!(" line=\"{}\"", f.location.start_line))
        .unwrap_or_default();
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"{line} time=\"0\"",
        escape(address),
        escape(&format!("{}.{}", rule.id, rule.name)),
        escape(path),
    );
    if findings.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    let open: Vec<&&Finding> = findings.iter().filter(|f| f.is_active()).collect();
    for f in &open {
        let _ = writeln!(
            out,
            "      <failure message=\"{}\" type=\"{}\">{}</failure>",
            escape(&f.message),
            f.severity.as_str(),
            escape(&format!(
                "{path}:{}:{} {} {}\n{}\nFix: {}",
                f.location.start_line,
                f.location.start_column,
                f.severity,
                f.rule_id,
                f.message,
                f.remediation
            )),
        );
    }
    // A case whose every finding is accepted is reported as skipped, with the reason.
    if open.is_empty() {
        let reasons: Vec<String> = findings
            .iter()
            .map(|f| match &f.suppression {
                Some(s) => match &s.reason {
                    Some(reason) => format!("suppressed ({}): {reason}", s.kind),
                    None => format!("suppressed ({})", s.kind),
                },
                None => "accepted by the baseline".to_string(),
            })
            .collect();
        let _ = writeln!(
            out,
            "      <skipped message=\"{}\"/>",
            escape(&reasons.join("; "))
        );
    }
    out.push_str("    </testcase>\n");
}

pub fn render(result: &ScanResult, rules: &[Rule], locator: &Locator) -> String {
    let mut rules: Vec<&Rule> = rules.iter().collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    let mut suites = String::new();
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    for (i, rule) in rules.iter().enumerate() {
        let cases = cases(rule, result, locator);
        let failed = cases
            .values()
            .filter(|f| f.iter().any(|f| f.is_active()))
            .count();
        let skips = cases
            .values()
            .filter(|f| !f.is_empty() && f.iter().all(|f| !f.is_active()))
            .count();
        tests += cases.len();
        failures += failed;
        skipped += skips;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" id=\"{i}\" package=\"sovscan.{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"{skips}\" time=\"0\">",
            escape(&format!("{} {}", rule.id, rule.name)),
            rule.category.as_str(),
            cases.len(),
        );
        let _ = writeln!(
            suites,
            "    <properties>\n      <property name=\"severity\" value=\"{}\"/>\n      <property name=\"title\" value=\"{}\"/>\n    </properties>",
            rule.severity,
            escape(&rule.title)
        );
        for ((path, address), findings) in &cases {
            testcase(&mut suites, rule, path, address, findings);
        }
        suites.push_str("  </testsuite>\n");
    }
    // Inputs that could not be read or parsed are errors of a suite of their own.
    if !result.errors.is_empty() {
        let _ = writeln!(
            suites,
            "  <testsuite name=\"inputs\" id=\"{}\" package=\"sovscan\" tests=\"{n}\" failures=\"0\" errors=\"{n}\" skipped=\"0\" time=\"0\">",
            rules.len(),
            n = result.errors.len()
        );
        for e in &result.errors {
            let path = super::repo_path(locator, &e.path);
            let _ = writeln!(
                suites,
                "    <testcase name=\"{p}\" classname=\"inputs\" file=\"{p}\" time=\"0\">\n      <error message=\"{r}\" type=\"parse\">{p}:{}:{} {r}</error>\n    </testcase>",
                e.line,
                e.column,
                p = escape(&path),
                r = escape(&e.reason),
            );
        }
        suites.push_str("  </testsuite>\n");
        tests += result.errors.len();
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sovscan\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\" skipped=\"{skipped}\" time=\"0\">\n{suites}</testsuites>\n",
        result.errors.len()
    )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &apos;b&apos;&lt;/script&gt;"
        );
        assert_eq!(escape("a\nb\u{1}"), "a&#10;b\u{FFFD}");
    }
}
