//! JUnit XML (the Ant/Jenkins `junit-10.xsd` shape, read by Jenkins, GitLab, Azure DevOps and
//! most CI servers): one `<testsuite>` per rule run, one `<testcase>` per rule × resource the
//! rule reads (and per place a finding points to outside a resource), a `<failure>` per
//! finding, `<skipped>` for findings that are suppressed or accepted by the baseline.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use super::TextOut;
use super::sarif::Locator;
use crate::engine::Rule;
use crate::scan::ScanResult;
use crate::store::Item;

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

/// Where each rule's findings lie in the store, from one pass over it: the testcases of a
/// rule are written by path and resource while the store gives the findings by place, and
/// these runs say how to read them in that order.
#[derive(Default)]
struct Runs {
    /// The path of each file with findings, as the report shows it.
    paths: Vec<String>,
    /// Per rule id: the files of its findings, one entry per run of findings in one file,
    /// in store order (indices into `paths`).
    of_rule: HashMap<String, Vec<usize>>,
}

impl Runs {
    fn of(result: &ScanResult, locator: &Locator) -> Self {
        let mut runs = Runs::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut last: Option<(String, usize)> = None;
        // Per rule: the file of its last finding.
        let mut current: HashMap<String, usize> = HashMap::new();
        for f in &result.findings {
            let path = match &last {
                Some((path, i)) if **path == *f.location.path => *i,
                _ => {
                    let i = match index.get(&*f.location.path) {
                        Some(i) => *i,
                        None => {
                            runs.paths.push(super::repo_path(locator, &f.location.path));
                            index.insert(f.location.path.to_string(), runs.paths.len() - 1);
                            runs.paths.len() - 1
                        }
                    };
                    last = Some((f.location.path.to_string(), i));
                    i
                }
            };
            if current.get(&*f.rule_id) == Some(&path) {
                continue;
            }
            current.insert(f.rule_id.to_string(), path);
            match runs.of_rule.get_mut(&*f.rule_id) {
                Some(list) => list.push(path),
                None => {
                    runs.of_rule.insert(f.rule_id.to_string(), vec![path]);
                }
            }
        }
        runs
    }

    /// How to read the findings of `rule` by path: the passes over the rule's findings, each
    /// taking some runs in store order, that together give the runs in path order.
    fn plan(&self, rule: &str) -> Plan<'_> {
        let files = self.of_rule.get(rule).map_or(&[][..], Vec::as_slice);
        let path = |run: usize| self.paths[files[run]].as_str();
        let mut order: Vec<usize> = (0..files.len()).collect();
        order.sort_by(|a, b| path(*a).cmp(path(*b)));
        let mut plan = Plan {
            groups: Vec::new(),
            group_of_run: vec![0; files.len()],
            passes: 0,
        };
        let mut previous: Option<usize> = None;
        for run in order {
            let same_path = previous.is_some_and(|p| path(p) == path(run));
            if !same_path {
                // A run that comes before the last one in the store starts another pass.
                let pass = match (previous, plan.groups.last()) {
                    (Some(p), Some(g)) if run < p => g.pass + 1,
                    (_, Some(g)) => g.pass,
                    _ => 0,
                };
                plan.groups.push(Group {
                    path: path(run),
                    pass,
                });
                plan.passes = pass + 1;
            }
            plan.group_of_run[run] = plan.groups.len() - 1;
            previous = Some(run);
        }
        plan
    }
}

/// The passes over one rule's findings that give its runs in path order.
struct Plan<'a> {
    /// The runs of one path, in path order.
    groups: Vec<Group<'a>>,
    group_of_run: Vec<usize>,
    passes: usize,
}

struct Group<'a> {
    path: &'a str,
    /// The pass that reads the group's runs.
    pass: usize,
}

/// Calls `case` for every testcase of `rule` in order (path, then resource address), with
/// the case's findings in report order: the resources the rule reads, and the places its
/// findings point to. Holds the findings of one rule in one file at a time.
fn cases(
    rule: &Rule,
    result: &ScanResult,
    locator: &Locator,
    plan: &Plan,
    mut case: impl FnMut(&str, &str, &[Item]),
) {
    let mut resources: BTreeSet<(String, String)> = BTreeSet::new();
    for r in &result.listed {
        if rule.applies_to.iter().any(|f| f == r.format.as_str()) {
            let path = super::repo_path(locator, &r.path);
            resources.insert((path, r.address.clone()));
        }
    }
    let mut resources = resources.into_iter().peekable();
    // The cases of one path: by resource address, the findings.
    let mut file: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    let mut flush = |path: &str, file: &mut BTreeMap<String, Vec<Item>>| {
        for (address, mut findings) in std::mem::take(file) {
            findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            while let Some(r) =
                resources.next_if(|r| (r.0.as_str(), r.1.as_str()) < (path, address.as_str()))
            {
                case(&r.0, &r.1, &[]);
            }
            resources.next_if(|r| r.0 == path && r.1 == address);
            case(path, &address, &findings);
        }
    };
    let rules = [rule.id.as_str()];
    for pass in 0..plan.passes {
        let mut run = None::<usize>;
        let mut last_path: Option<std::sync::Arc<str>> = None;
        let mut group = None::<usize>;
        for f in result.findings.of_rules(&rules) {
            if last_path.as_deref() != Some(&*f.location.path) {
                run = Some(run.map_or(0, |r| r + 1));
                last_path = Some(std::sync::Arc::clone(&f.location.path));
            }
            let Some(g) = run.and_then(|r| plan.group_of_run.get(r)).copied() else {
                continue;
            };
            if plan.groups[g].pass != pass {
                continue;
            }
            if let Some(current) = group
                && current != g
            {
                flush(plan.groups[current].path, &mut file);
            }
            group = Some(g);
            let address = &f.resource.address;
            match file.get_mut(address) {
                Some(list) => list.push(f),
                None => {
                    file.insert(address.clone(), vec![f]);
                }
            }
        }
        if let Some(current) = group {
            flush(plan.groups[current].path, &mut file);
        }
    }
    for r in resources {
        case(&r.0, &r.1, &[]);
    }
}

fn testcase(out: &mut TextOut, rule: &Rule, path: &str, address: &str, findings: &[Item]) {
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
    let open: Vec<&Item> = findings.iter().filter(|f| f.is_active()).collect();
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

/// The counts of one rule's suite.
#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    skipped: usize,
}

/// Writes the suites as the findings are read from the store. The counts of every suite
/// come first, in the opening tags: one pass over the store finds where each rule's findings
/// lie, then each rule with findings is read twice, to count its cases and to write them.
pub fn write(
    result: &ScanResult,
    rules: &[Rule],
    locator: &Locator,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut rules: Vec<&Rule> = rules.iter().collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    let runs = Runs::of(result, locator);
    let plans: Vec<Plan> = rules.iter().map(|rule| runs.plan(&rule.id)).collect();
    let counts: Vec<Counts> = rules
        .iter()
        .zip(&plans)
        .map(|(rule, plan)| {
            let mut counts = Counts::default();
            cases(rule, result, locator, plan, |_, _, findings| {
                counts.tests += 1;
                if findings.iter().any(|f| f.is_active()) {
                    counts.failures += 1;
                } else if !findings.is_empty() {
                    counts.skipped += 1;
                }
            });
            counts
        })
        .collect();
    let errors = result.errors.len();
    let tests = counts.iter().map(|c| c.tests).sum::<usize>() + errors;
    let failures: usize = counts.iter().map(|c| c.failures).sum();
    let skipped: usize = counts.iter().map(|c| c.skipped).sum();
    let mut out = TextOut::new(out);
    let _ = writeln!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sovscan\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"0\">",
    );
    for (i, ((rule, plan), counts)) in rules.iter().zip(&plans).zip(&counts).enumerate() {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" id=\"{i}\" package=\"sovscan.{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"0\">",
            escape(&format!("{} {}", rule.id, rule.name)),
            rule.category.as_str(),
            counts.tests,
            counts.failures,
            counts.skipped,
        );
        let _ = writeln!(
            out,
            "    <properties>\n      <property name=\"severity\" value=\"{}\"/>\n      <property name=\"title\" value=\"{}\"/>\n    </properties>",
            rule.severity,
            escape(&rule.title)
        );
        cases(rule, result, locator, plan, |path, address, findings| {
            testcase(&mut out, rule, path, address, findings);
        });
        out.push_str("  </testsuite>\n");
    }
    // Inputs that could not be read or parsed are errors of a suite of their own.
    if !result.errors.is_empty() {
        let _ = writeln!(
            out,
            "  <testsuite name=\"inputs\" id=\"{}\" package=\"sovscan\" tests=\"{n}\" failures=\"0\" errors=\"{n}\" skipped=\"0\" time=\"0\">",
            rules.len(),
            n = result.errors.len()
        );
        for e in &result.errors {
            let path = super::repo_path(locator, &e.path);
            let _ = writeln!(
                out,
                "    <testcase name=\"{p}\" classname=\"inputs\" file=\"{p}\" time=\"0\">\n      <error message=\"{r}\" type=\"parse\">{p}:{}:{} {r}</error>\n    </testcase>",
                e.line,
                e.column,
                p = escape(&path),
                r = escape(&e.reason),
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out.finish()
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
