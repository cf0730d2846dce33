//! Framework views: the controls of the sovereignty and data-protection frameworks, the rules
//! whose findings are evidence against each (`rules/knowledge/frameworks.yaml`, the one
//! place of that mapping), and per control of a scan the findings and a status.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use crate::finding::{Finding, Severity};

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
/// be listed by several controls of several frameworks. Serialised as its rule, severity,
/// path, line, resource and fingerprint.
#[derive(Debug, Clone, Copy)]
pub struct FindingRef<'a>(&'a Finding);

impl<'a> FindingRef<'a> {
    fn of(f: &'a Finding) -> Self {
        FindingRef(f)
    }

    pub fn rule_id(&self) -> &'a str {
        &self.0.rule_id
    }

    pub fn severity(&self) -> Severity {
        self.0.severity
    }

    pub fn path(&self) -> &'a str {
        &self.0.location.path
    }

    pub fn line(&self) -> u32 {
        self.0.location.start_line
    }

    pub fn resource(&self) -> &'a str {
        &self.0.resource.address
    }

    pub fn fingerprint(&self) -> &'a str {
        &self.0.fingerprint
    }
}

impl Serialize for FindingRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("FindingRef", 6)?;
        s.serialize_field("rule_id", self.rule_id())?;
        s.serialize_field("severity", &self.severity())?;
        s.serialize_field("path", self.path())?;
        s.serialize_field("line", &self.line())?;
        s.serialize_field("resource", self.resource())?;
        s.serialize_field("fingerprint", self.fingerprint())?;
        s.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlView<'a> {
    pub id: String,
    pub title: String,
    pub status: Status,
    /// The rules that give evidence for the control.
    pub rules: Vec<String>,
    pub findings: Vec<FindingRef<'a>>,
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

/// The framework views of a scan: per control its active findings (neither suppressed nor in
/// the baseline) and a status. `ran` names the rules of the scan; a control whose rules did
/// not run is `NotRun` rather than `NoFinding`.
pub fn view<'a>(findings: &'a [Finding], ran: &BTreeSet<String>) -> Vec<FrameworkView<'a>> {
    let Ok(frameworks) = catalogue() else {
        return Vec::new();
    };
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.is_active()) {
        by_rule.entry(&*f.rule_id).or_default().push(f);
    }
    let count = |rules: &[String]| -> usize {
        rules
            .iter()
            .map(|r| by_rule.get(r.as_str()).map_or(0, Vec::len))
            .sum()
    };
    frameworks
        .iter()
        .map(|fw| {
            let controls = fw
                .controls
                .iter()
                .map(|c| {
                    let mut list: Vec<FindingRef> = c
                        .rules
                        .iter()
                        .flat_map(|r| by_rule.get(r.as_str()).into_iter().flatten())
                        .map(|f| FindingRef::of(f))
                        .collect();
                    list.sort_by(|a, b| {
                        (a.path(), a.line(), a.rule_id(), a.fingerprint()).cmp(&(
                            b.path(),
                            b.line(),
                            b.rule_id(),
                            b.fingerprint(),
                        ))
                    });
                    list.dedup_by(|a, b| a.fingerprint() == b.fingerprint());
                    let status = if c.rules.is_empty() {
                        Status::NotAssessable
                    } else if !list.is_empty() {
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
                        findings: list,
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
                        findings: count(&blocking),
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
        .collect()
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
mod tests {
    use super::*;

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
