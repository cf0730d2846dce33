//! Framework views: the controls of the sovereignty and data-protection frameworks, the rules
//! whose findings are evidence against each (`rules/knowledge/frameworks.yaml`, the one
//! place of that mapping), and per control of a scan the findings and a status.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;
use std::sync::OnceLock;

use crate::finding::Severity;
use crate::store::{Findings, Listed};

const FRAMEWORKS: &str = include_str!("../rules/knowledge/frameworks.yaml");

#[derive(Debug, Clone, Deserialize)]
pub struct Framework {
    pub id: String,
    /// Short name with the edition, for navigation (`C5:2020`).
    pub label: String,
    pub name: String,
    pub edition: String,
    #[serde(default)]
    pub note: String,
    pub controls: Vec<Control>,
    /// Assurance levels the framework publishes (SEAL), lowest first.
    #[serde(default)]
    pub levels: Vec<Level>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Control {
    /// Edition-prefixed id (`C5:2020-PSS-12`).
    pub id: String,
    pub title: String,
    /// Rules whose findings are evidence against the control; none: not assessable.
    #[serde(default)]
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Level {
    pub id: String,
    pub title: String,
    /// Rules whose findings stand in the way of this level (and so of every level above).
    #[serde(default)]
    pub blocked_by: Vec<String>,
    #[serde(default)]
    pub why: String,
}

#[derive(Debug, Deserialize)]
struct FrameworksFile {
    frameworks: Vec<Framework>,
}

/// The frameworks of the knowledge base, as written in `frameworks.yaml`.
pub fn catalogue() -> Result<&'static [Framework], String> {
    static CATALOGUE: OnceLock<Result<Vec<Framework>, String>> = OnceLock::new();
    CATALOGUE
        .get_or_init(|| parse(FRAMEWORKS))
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// Parses a frameworks file (the embedded one, or another in tests).
pub fn parse(text: &str) -> Result<Vec<Framework>, String> {
    serde_saphyr::from_str::<FrameworksFile>(text)
        .map(|f| f.frameworks)
        .map_err(|e| format!("knowledge file frameworks.yaml is invalid: {e}"))
}

/// The controls a rule gives evidence for, as `(framework, control)`, in file order.
pub fn controls_of(rule_id: &str) -> Vec<(&'static Framework, &'static Control)> {
    let Ok(frameworks) = catalogue() else {
        return Vec::new();
    };
    frameworks
        .iter()
        .flat_map(|f| f.controls.iter().map(move |c| (f, c)))
        .filter(|(_, c)| c.rules.iter().any(|r| r.eq_ignore_ascii_case(rule_id)))
        .collect()
}

/// What a scan says about one control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Rules covering the control ran and found nothing.
    NoFinding,
    Findings,
    /// No rule can see the control in configuration (ownership, contracts, staff …).
    NotAssessable,
    /// Rules cover the control, but none of them ran in this scan (`--select`/`--ignore`).
    NotRun,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NoFinding => "no finding",
            Status::Findings => "findings",
            Status::NotAssessable => "not assessable from configuration",
            Status::NotRun => "not assessed (its rules were not run)",
        }
    }
}

/// A finding as a control lists it: a reference to the finding, since a scan's findings can
/// be listed by several controls of several frameworks.
#[derive(Debug, Clone, Copy)]
pub struct FindingRef<'a>(&'a Listed);

impl<'a> FindingRef<'a> {
    pub fn rule_id(&self) -> &'a str {
        &self.0.rule_id
    }

    pub fn severity(&self) -> Severity {
        self.0.severity
    }

    pub fn path(&self) -> &'a str {
        &self.0.path
    }

    pub fn line(&self) -> u32 {
        self.0.line
    }

    pub fn resource(&self) -> &'a str {
        &self.0.address
    }

    pub fn fingerprint(&self) -> &'a str {
        &self.0.fingerprint
    }

    /// Where the finding stands in the report's findings, from 0.
    pub fn position(&self) -> usize {
        self.0.position
    }
}

/// The findings a control lists: the active findings of its rules in the order (path, line,
/// rule, fingerprint), one of each run of equal fingerprints. Counted when the view is made
/// and read from the store each time they are listed, so a view holds no findings.
#[derive(Clone)]
pub struct ControlFindings<'a> {
    store: &'a Findings,
    rules: &'a [String],
    len: usize,
    by_rule: BTreeMap<String, usize>,
}

impl<'a> ControlFindings<'a> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many of the findings each rule gives, by rule id.
    pub fn by_rule(&self) -> &BTreeMap<String, usize> {
        &self.by_rule
    }

    /// Calls `each` for every finding, in order.
    pub fn for_each(&self, mut each: impl FnMut(FindingRef<'_>)) {
        let _ = self.try_for_each(|f| {
            each(f);
            Ok::<(), Infallible>(())
        });
    }

    /// Calls `each` for every finding, in order, until it fails.
    pub fn try_for_each<E>(
        &self,
        mut each: impl FnMut(FindingRef<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.len == 0 {
            return Ok(());
        }
        let rules: Vec<&str> = self.rules.iter().map(String::as_str).collect();
        let mut last = Last::default();
        by_place(self.store.listed(Some(&rules)), |f| {
            if last.repeats(f) {
                return Ok(());
            }
            each(FindingRef(f))
        })
    }
}

impl std::fmt::Debug for ControlFindings<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlFindings")
            .field("rules", &self.rules)
            .field("len", &self.len)
            .field("by_rule", &self.by_rule)
            .finish()
    }
}

/// Serialised as the findings' positions in the report's `findings`: a finding is written
/// once, however many controls list it.
impl Serialize for ControlFindings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.len))?;
        self.try_for_each(|f| seq.serialize_element(&f.position()))?;
        seq.end()
    }
}

/// The fingerprint of the finding a control listed last, to leave out the next one when it
/// has the same.
#[derive(Default)]
struct Last {
    fingerprint: String,
    any: bool,
}

impl Last {
    /// Whether `f` repeats the fingerprint listed last; if not, `f` is now the last.
    fn repeats(&mut self, f: &Listed) -> bool {
        if self.any && self.fingerprint == f.fingerprint {
            return true;
        }
        self.any = true;
        self.fingerprint.clear();
        self.fingerprint.push_str(&f.fingerprint);
        false
    }
}

/// Calls `each` for the active findings of `items` in the order (path, line, rule,
/// fingerprint), findings equal in those kept in the order they come. The store gives its
/// findings ordered by path and line already, so only the findings of one line are held at
/// a time, and sorted among themselves.
fn by_place<E>(
    items: impl Iterator<Item = Listed>,
    mut each: impl FnMut(&Listed) -> Result<(), E>,
) -> Result<(), E> {
    fn flush<E>(
        line: &mut Vec<Listed>,
        each: &mut impl FnMut(&Listed) -> Result<(), E>,
    ) -> Result<(), E> {
        line.sort_by(|a, b| (&*a.rule_id, &a.fingerprint).cmp(&(&*b.rule_id, &b.fingerprint)));
        for f in line.drain(..) {
            each(&f)?;
        }
        Ok(())
    }
    let mut line: Vec<Listed> = Vec::new();
    for f in items.filter(Listed::is_active) {
        if let Some(first) = line.first()
            && (first.line != f.line || first.path != f.path)
        {
            flush(&mut line, &mut each)?;
        }
        line.push(f);
    }
    flush(&mut line, &mut each)
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlView<'a> {
    pub id: String,
    pub title: String,
    pub status: Status,
    /// The rules that give evidence for the control.
    pub rules: Vec<String>,
    pub findings: ControlFindings<'a>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LevelView {
    pub id: String,
    pub title: String,
    /// Rules whose findings stand in the way of this level, this level's own and those of
    /// the levels below.
    pub blocked_by: Vec<String>,
    /// Active findings of those rules.
    pub findings: usize,
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkView<'a> {
    pub id: String,
    pub label: String,
    pub name: String,
    pub edition: String,
    pub note: String,
    pub controls: Vec<ControlView<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<LevelView>,
}

impl FrameworkView<'_> {
    /// How many controls have each status.
    pub fn count(&self, status: Status) -> usize {
        self.controls.iter().filter(|c| c.status == status).count()
    }
}

/// What one pass over the findings tells of a control: how many it lists, by rule.
#[derive(Default)]
struct Tally {
    len: usize,
    by_rule: BTreeMap<String, usize>,
    last: Last,
}

impl Tally {
    /// Counts `f` unless it repeats the finding listed last; whether it is listed.
    fn add(&mut self, f: &Listed) -> bool {
        if self.last.repeats(f) {
            return false;
        }
        self.len += 1;
        count(&mut self.by_rule, &f.rule_id);
        true
    }
}

fn count(counts: &mut BTreeMap<String, usize>, rule_id: &str) {
    match counts.get_mut(rule_id) {
        Some(n) => *n += 1,
        None => {
            counts.insert(rule_id.to_string(), 1);
        }
    }
}

/// The framework views of a scan: per control its active findings (neither suppressed nor in
/// the baseline) and a status. `ran` names the rules of the scan; a control whose rules did
/// not run is `NotRun` rather than `NoFinding`. The statuses and counts take one pass over
/// the findings of the controls' rules; a control's findings are read again when they are
/// listed.
pub fn view<'a>(findings: &'a Findings, ran: &BTreeSet<String>) -> Vec<FrameworkView<'a>> {
    match listed_view(findings, ran, |_, _| Ok::<(), Infallible>(())) {
        Ok(views) => views,
        Err(never) => match never {},
    }
}

/// `view`, with the controls' findings listed in its pass: `each` is called once for every
/// finding a control lists, with the numbers of the controls that list it (counted over the
/// controls of every framework, in order). Each control's findings come in the order of its
/// `try_for_each`.
pub fn listed_view<'a, E>(
    findings: &'a Findings,
    ran: &BTreeSet<String>,
    mut each: impl FnMut(FindingRef<'_>, &[usize]) -> Result<(), E>,
) -> Result<Vec<FrameworkView<'a>>, E> {
    let Ok(frameworks) = catalogue() else {
        return Ok(Vec::new());
    };
    let controls: Vec<&Control> = frameworks.iter().flat_map(|fw| &fw.controls).collect();
    // The controls each rule gives evidence for, each control once.
    let mut of_rule: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in controls.iter().enumerate() {
        for r in &c.rules {
            let list = of_rule.entry(r.as_str()).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
    }
    let mut tallies: Vec<Tally> = controls.iter().map(|_| Tally::default()).collect();
    let rules: Vec<&str> = of_rule.keys().copied().collect();
    if !rules.is_empty() {
        let mut to: Vec<usize> = Vec::new();
        by_place(findings.listed(Some(&rules)), |f| {
            to.clear();
            for &i in &of_rule[&*f.rule_id] {
                if tallies[i].add(f) {
                    to.push(i);
                }
            }
            if to.is_empty() {
                return Ok(());
            }
            each(FindingRef(f), &to)
        })?;
    }
    // The levels count every active finding of their rules, repeats too.
    let mut active: BTreeMap<String, usize> = BTreeMap::new();
    for c in findings.counts().iter().filter(|c| c.is_active()) {
        *active.entry(c.rule_id.to_string()).or_default() += c.findings;
    }
    let active_of = |rules: &[String]| -> usize {
        rules
            .iter()
            .map(|r| active.get(r.as_str()).copied().unwrap_or(0))
            .sum()
    };
    let mut tallies = tallies.into_iter();
    Ok(frameworks
        .iter()
        .map(|fw| {
            let controls = fw
                .controls
                .iter()
                .zip(tallies.by_ref())
                .map(|(c, tally)| {
                    let status = if c.rules.is_empty() {
                        Status::NotAssessable
                    } else if tally.len > 0 {
                        Status::Findings
                    } else if c.rules.iter().any(|r| ran.contains(r)) {
                        Status::NoFinding
                    } else {
                        Status::NotRun
                    };
                    ControlView {
                        id: c.id.clone(),
                        title: c.title.clone(),
                        status,
                        rules: c.rules.clone(),
                        findings: ControlFindings {
                            store: findings,
                            rules: &c.rules,
                            len: tally.len,
                            by_rule: tally.by_rule,
                        },
                    }
                })
                .collect();
            let mut blocking: Vec<String> = Vec::new();
            let levels = fw
                .levels
                .iter()
                .map(|l| {
                    blocking.extend(l.blocked_by.iter().cloned());
                    LevelView {
                        id: l.id.clone(),
                        title: l.title.clone(),
                        blocked_by: blocking.clone(),
                        findings: active_of(&blocking),
                        why: l.why.clone(),
                    }
                })
                .collect();
            FrameworkView {
                id: fw.id.clone(),
                label: fw.label.clone(),
                name: fw.name.clone(),
                edition: fw.edition.clone(),
                note: fw.note.clone(),
                controls,
                levels,
            }
        })
        .collect())
}

/// Every control id of the catalogue, and problems with the mapping against `rule_ids`:
/// unknown rules named by a control or level, duplicate control ids, rules mapped to nothing.
pub fn check(frameworks: &[Framework], rule_ids: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let known: BTreeSet<&str> = rule_ids.iter().copied().collect();
    let mut ids = BTreeSet::new();
    let mut mapped = BTreeSet::new();
    for fw in frameworks {
        for c in &fw.controls {
            if !ids.insert(c.id.as_str()) {
                problems.push(format!("control {} is listed twice", c.id));
            }
            for r in &c.rules {
                if !known.contains(r.as_str()) {
                    problems.push(format!("control {} names unknown rule {r}", c.id));
                }
                mapped.insert(r.as_str());
            }
        }
        for l in &fw.levels {
            for r in &l.blocked_by {
                if !known.contains(r.as_str()) {
                    problems.push(format!(
                        "level {} of {} names unknown rule {r}",
                        l.id, fw.id
                    ));
                }
            }
        }
    }
    for r in &known {
        if !mapped.contains(r) {
            problems.push(format!("rule {r} gives evidence for no control"));
        }
    }
    problems
}

/// The catalogue as Markdown: per framework its controls, the rules that give evidence for
/// each, and the assurance levels (the content of `docs/frameworks.md`).
pub fn markdown(frameworks: &[Framework]) -> String {
    let mut out = String::from(
        "# Framework controls\n\nGenerated by `sovscan rules frameworks` from \
         `rules/knowledge/frameworks.yaml`; do not edit by hand.\n\n\
         A scan reports each control with a status: *findings* (with the findings), *no finding* \
         (its rules ran and found nothing), *not assessable from configuration* (no rule can see \
         the control) or *not assessed* (its rules were not selected). No score is computed.\n",
    );
    for fw in frameworks {
        out.push_str(&format!("\n## {} — {}\n\n", fw.name, fw.edition));
        if !fw.note.is_empty() {
            out.push_str(&format!("{}\n\n", fw.note.trim()));
        }
        out.push_str("| Control | Title | Rules |\n|---|---|---|\n");
        for c in &fw.controls {
            let rules = if c.rules.is_empty() {
                "not assessable from configuration".to_string()
            } else {
                c.rules.join(", ")
            };
            out.push_str(&format!("| `{}` | {} | {} |\n", c.id, c.title, rules));
        }
        if !fw.levels.is_empty() {
            out.push_str(
                "\nAssurance levels: findings of these rules stand in the way of the level \
                 (and of every level above it). The scan rates no provider.\n\n\
                 | Level | Title | Blocked by | Why |\n|---|---|---|---|\n",
            );
            for l in &fw.levels {
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    l.id,
                    l.title,
                    l.blocked_by.join(", "),
                    l.why
                ));
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::finding::{Category, Finding, ResourceRef};
    use crate::location::Location;
    use std::sync::Arc;

    /// A finding of `rule` at a place, for the views' tests and the reports'.
    pub(crate) fn finding(
        rule: &str,
        path: &str,
        line: u32,
        column: u32,
        fingerprint: &str,
    ) -> Finding {
        let location = Location {
            path: Arc::from(path),
            start_line: line,
            start_column: column,
            end_line: line,
            end_column: column + 4,
            document: 0,
            field: "spec".into(),
        };
        Finding {
            rule_id: Arc::from(rule),
            rule_name: Arc::from("a-rule"),
            category: Category::Residency,
            severity: Severity::Medium,
            title: Arc::from("A title"),
            message: format!("at column {column}"),
            resource: Arc::new(ResourceRef {
                kind: "Deployment".into(),
                name: "web".into(),
                namespace: None,
                address: format!("Deployment/web-{column}"),
                format: "kubernetes".into(),
                provider: None,
                service: None,
                region: None,
                country: None,
                jurisdiction: None,
                note: None,
                tied: false,
            }),
            location,
            related: Vec::new(),
            evidence: None,
            remediation: Arc::from("fix it"),
            references: Arc::from(Vec::new()),
            fingerprint: fingerprint.into(),
            key: String::new(),
            suppression: None,
            baseline: None,
        }
    }

    #[test]
    fn a_control_lists_its_findings_by_place_rule_and_fingerprint_from_memory_and_file() {
        let frameworks = catalogue().unwrap_or_default();
        let Some(control) = frameworks
            .iter()
            .flat_map(|fw| &fw.controls)
            .find(|c| c.rules.len() >= 2)
        else {
            panic!("no control with two rules");
        };
        let (a, b) = (control.rules[0].as_str(), control.rules[1].as_str());
        let mut suppressed = finding(a, "k8s/a.yaml", 3, 1, "f3");
        suppressed.suppression = Some(Box::new(crate::suppress::Suppression {
            kind: "inline",
            reason: None,
            until: None,
        }));
        let all = vec![
            // On one line, by column first in the store, by rule and fingerprint when listed.
            finding(b, "k8s/a.yaml", 3, 1, "f1"),
            finding(a, "k8s/a.yaml", 3, 2, "f2"),
            finding(a, "k8s/a.yaml", 3, 3, "f0"),
            suppressed,
            // Equal fingerprints one after the other are listed once.
            finding(a, "k8s/a.yaml", 7, 1, "f4"),
            finding(a, "k8s/a.yaml", 7, 2, "f4"),
            finding(b, "k8s/b.yaml", 1, 1, "f5"),
            finding("NOT-A-RULE", "k8s/b.yaml", 1, 1, "f6"),
        ];
        let ran: BTreeSet<String> = [a.to_string(), b.to_string()].into();
        for budget in [usize::MAX, 0] {
            let collector = crate::store::Collector::new(budget, Vec::new());
            collector.add(all.clone());
            let store = collector.finish();
            assert_eq!(store.on_disk(), budget == 0);
            let views = view(&store, &ran);
            let Some(listed) = views
                .iter()
                .flat_map(|fw| &fw.controls)
                .find(|c| c.id == control.id)
            else {
                panic!("control {} not in the view", control.id);
            };
            let mut places = Vec::new();
            listed.findings.for_each(|f| {
                places.push(format!(
                    "{}:{} {} {}",
                    f.path(),
                    f.line(),
                    f.rule_id(),
                    f.fingerprint()
                ));
            });
            let mut line3 = [(a, "f0"), (a, "f2"), (b, "f1")];
            line3.sort();
            let mut expected: Vec<String> = line3
                .iter()
                .map(|(rule, fp)| format!("k8s/a.yaml:3 {rule} {fp}"))
                .collect();
            expected.push(format!("k8s/a.yaml:7 {a} f4"));
            expected.push(format!("k8s/b.yaml:1 {b} f5"));
            assert_eq!(places, expected, "budget {budget}");
            assert_eq!(listed.findings.len(), 5);
            assert_eq!(listed.status, Status::Findings);
            assert_eq!(listed.findings.by_rule().get(a), Some(&3));
            // Read in one pass, every control lists what it lists alone, in its order.
            let controls: Vec<&ControlFindings> = views
                .iter()
                .flat_map(|fw| &fw.controls)
                .map(|c| &c.findings)
                .collect();
            let mut one_pass = vec![Vec::new(); controls.len()];
            let _ = listed_view(&store, &ran, |f, to| {
                for &i in to {
                    one_pass[i].push(format!("{}:{} {}", f.path(), f.line(), f.fingerprint()));
                }
                Ok::<(), Infallible>(())
            });
            let mut listing = 0;
            for (c, got) in controls.iter().zip(&one_pass) {
                let mut alone = Vec::new();
                c.for_each(|f| {
                    alone.push(format!("{}:{} {}", f.path(), f.line(), f.fingerprint()));
                });
                assert_eq!(got, &alone, "budget {budget}");
                listing += usize::from(!alone.is_empty());
            }
            assert!(listing >= 2, "{listing} controls list findings");
        }
    }

    #[test]
    fn the_embedded_catalogue_parses() {
        let frameworks = catalogue().unwrap_or_default();
        assert!(frameworks.len() >= 5, "{frameworks:?}");
        assert!(
            controls_of("RES-001")
                .iter()
                .any(|(_, c)| c.id == "C5:2020-PSS-12")
        );
    }

    #[test]
    fn check_reports_unknown_and_unmapped_rules() {
        let frameworks = parse(
            "frameworks:\n  - id: x\n    label: X\n    name: X\n    edition: '1'\n    controls:\n      - id: X-1\n        title: t\n        rules: [A-1, B-9]\n      - id: X-1\n        title: t\n",
        )
        .unwrap_or_default();
        let problems = check(&frameworks, &["A-1", "C-3"]);
        assert!(
            problems.iter().any(|p| p.contains("unknown rule B-9")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("C-3 gives evidence for no control"))
        );
        assert!(problems.iter().any(|p| p.contains("X-1 is listed twice")));
    }
}
