//! Baselines: the findings a team accepts for now, keyed by fingerprint (rule, path, resource
//! address, field route and hit key; no line numbers), so that moving or reformatting code keeps
//! them matched. Findings in the baseline are reported but do not fail the gate; entries that no
//! longer match anything are counted as fixed and can be pruned.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// The version written into and accepted from baseline files.
pub const VERSION: u32 = 1;

/// Whether a finding was already in the baseline (`unchanged`) or is new since (`new`); the
/// names are SARIF's `baselineState` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    New,
    Unchanged,
}

impl BaselineState {
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
        }
    }
}

/// One accepted finding. Only `fingerprint` matches; the rest is there for readers and for
/// checking that the rule still exists.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub path: String,
    pub rule_id: String,
    pub address: String,
    pub fingerprint: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

impl Baseline {
    /// The baseline of the findings that count now (suppressed ones are not accepted twice);
    /// `path` writes a finding's file as the baseline shows it (relative to the repository).
    pub fn of(findings: &crate::store::Findings, path: impl Fn(&str) -> String) -> Baseline {
        let entries: BTreeSet<Entry> = findings
            .iter()
            .filter(|f| !f.is_suppressed())
            .map(|f| Entry {
                path: path(&f.location.path),
                rule_id: f.rule_id.to_string(),
                address: f.resource.address.clone(),
                fingerprint: f.fingerprint.clone(),
            })
            .collect();
        Baseline {
            version: VERSION,
            findings: entries.into_iter().collect(),
        }
    }

    pub fn read(path: &Path) -> anyhow::Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read baseline {}: {e}", path.display()))?;
        let baseline: Baseline = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}:{}:{}: not a sovscan baseline: {}",
                path.display(),
                e.line(),
                e.column(),
                clean_reason(&e.to_string())
            )
        })?;
        if baseline.version != VERSION {
            anyhow::bail!(
                "{}: baseline version {} is not supported (expected {VERSION})",
                path.display(),
                baseline.version
            );
        }
        Ok(baseline)
    }

    /// Sorted, pretty JSON ending with a newline: the same findings always give the same bytes.
    pub fn to_json(&self) -> String {
        let mut sorted = self.clone();
        sorted.findings.sort();
        sorted.findings.dedup();
        let mut text = serde_json::to_string_pretty(&sorted).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, self.to_json())
            .map_err(|e| anyhow::anyhow!("cannot write baseline {}: {e}", path.display()))
    }

    /// Marks each finding `unchanged` or `new`; returns the entries that matched no finding
    /// among those of the rules that ran (`ran` holds their ids).
    pub fn apply(
        &self,
        findings: &mut crate::store::Findings,
        ran: &BTreeSet<String>,
    ) -> Vec<Entry> {
        let known: BTreeSet<&str> = self
            .findings
            .iter()
            .map(|e| e.fingerprint.as_str())
            .collect();
        let mut seen = BTreeSet::new();
        findings.update(|f| {
            if known.contains(f.fingerprint.as_str()) {
                f.baseline = Some(BaselineState::Unchanged);
                seen.insert(f.fingerprint.clone());
            } else {
                f.baseline = Some(BaselineState::New);
            }
        });
        self.findings
            .iter()
            .filter(|e| ran.contains(&e.rule_id) && !seen.contains(&e.fingerprint))
            .cloned()
            .collect()
    }
}

/// serde_json's message without its trailing ` at line N column M` (the position is printed
/// in front).
fn clean_reason(text: &str) -> String {
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_sorted_and_versioned() {
        let entry = |fp: &str, path: &str| Entry {
            path: path.into(),
            rule_id: "RES-001".into(),
            address: "a".into(),
            fingerprint: fp.into(),
        };
        let b = Baseline {
            version: VERSION,
            findings: vec![
                entry("02", "b.yaml"),
                entry("01", "a.yaml"),
                entry("01", "a.yaml"),
            ],
        };
        let text = b.to_json();
        assert!(text.starts_with("{\n  \"version\": 1,"), "{text}");
        assert!(text.find("a.yaml") < text.find("b.yaml"), "{text}");
        assert_eq!(text.matches("a.yaml").count(), 1, "{text}");
    }
}
