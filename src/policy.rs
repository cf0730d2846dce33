//! `.sovscan.yaml`: a team's defaults for scans (profile, gate, rule selection, severities,
//! personal-data labels, deploy regions). Unknown keys are errors with their line.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::engine::Profile;
use crate::finding::Severity;

pub const FILE_NAME: &str = ".sovscan.yaml";

/// The commented file `sovscan init` writes.
pub const TEMPLATE: &str = r#"# sovscan settings for this repository. Command-line options override them.

# Allowed locations: eu (EU/EEA; adequacy countries are a low finding), adequacy (EU/EEA and
# adequacy countries), strict (EU/EEA on EU-controlled providers only).
profile: eu

# Exit with 1 when a finding is at or above this severity (critical, high, medium, low, info, never).
fail_on: high

# Regions that region-agnostic templates (CloudFormation, ARM, modules without a provider
# region) are deployed to.
deploy_regions: []

# Labels or tags that mark a workload or resource as holding personal data.
personal_data_labels:
  data-classification: personal

# Rules to run (ids, id prefixes, names or categories; empty means all) and to skip entirely
# (to keep running a rule but accept some of its findings, use suppress below).
select: []
ignore: []

# Findings to suppress without a comment in the scanned file (plan JSON and AWS Config exports
# cannot carry one). Each entry matches by any of rule (id or name), path (a glob relative to
# this file; a folder covers what is inside it), resource (address) and fingerprint (from the
# JSON report), needs a reason and may end on an until date (YYYY-MM-DD); past it the finding
# is reported again with a warning. Suppressed findings stay in the reports with their reason.
suppress: []
# suppress:
#   - rule: HYP-001
#     path: terraform/legacy/**
#     reason: "moves to an EU provider with the 2027 migration"
#     until: 2027-03-31

# Countries (ISO codes) where data may be located beyond the profile: the rules that place data
# (RES-001, RES-002, RES-004, RES-005, RES-007, RES-008, RES-009, GDPR-010) say nothing about
# them (a Swiss subsidiary allows CH).
allow:
  countries: []

# The organisation's own registries with the country they run in (a host covers its
# subdomains), so that RES-007 judges them, e.g. registry.acme.de: DE
registries: {}

# Severity overrides by rule id, e.g. HYP-003: medium
severity: {}

# Longest log retention accepted (GDPR-006), in days.
max_log_retention_days: 400

# Report encryption with provider-managed keys (GDPR-002) under every profile, not only `strict`.
require_customer_managed_keys: false

# Fail the gate when the estate falls below these shares (0-100), computed from all resources
# whatever rules are selected: located resources whose data stays in the EU/EEA, and
# provider-tied resources on EU-controlled providers.
# min_data_in_eu_percent: 90
# min_eu_controlled_percent: 50

# Paths to leave out (globs relative to this file) and extra rule packs (folders of rule YAML
# files, relative to this file).
exclude: []
rules: []

# Fail the gate (exit 2) when a file cannot be read or parsed, or has bytes that are not text
# in its encoding (as --strict).
strict: false
"#;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default, deserialize_with = "profile_any_case")]
    pub profile: Option<Profile>,
    #[serde(default)]
    pub fail_on: Option<String>,
    #[serde(default)]
    pub deploy_regions: Vec<String>,
    #[serde(default)]
    pub personal_data_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub select: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default, deserialize_with = "severities_any_case")]
    pub severity: BTreeMap<String, Severity>,
    /// Longest log retention accepted by GDPR-006, in days (default 400).
    #[serde(default)]
    pub max_log_retention_days: Option<i64>,
    /// Ask for customer-managed encryption keys (GDPR-002) under every profile.
    #[serde(default)]
    pub require_customer_managed_keys: bool,
    /// The gate fails when less than this share (0–100) of located resources keeps its data
    /// in the EU/EEA.
    #[serde(default)]
    pub min_data_in_eu_percent: Option<u32>,
    /// The gate fails when less than this share (0–100) of provider-tied resources is on
    /// EU-controlled providers.
    #[serde(default)]
    pub min_eu_controlled_percent: Option<u32>,
    /// The organisation's own allowances beyond the profile.
    #[serde(default)]
    pub allow: Allow,
    /// The organisation's own registries and service hosts with their country
    /// (`registry.acme.de: DE`).
    #[serde(default)]
    pub registries: BTreeMap<String, String>,
    /// Findings to suppress without a comment in the scanned file (plan JSON and AWS Config
    /// exports cannot carry one).
    #[serde(default)]
    pub suppress: Vec<SuppressEntry>,
    /// The 1-based line of each `suppress` entry, for messages about it.
    #[serde(skip)]
    pub suppress_lines: Vec<u32>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// Budgets for hostile input (`limits: {value_bytes: 1048576}`); flags win.
    #[serde(default)]
    pub limits: crate::limits::Limits,
    /// Fail the gate (exit 2) when an input cannot be read or parsed, as `--strict`.
    #[serde(default)]
    pub strict: bool,
    /// Where the policy was read from (relative rule paths resolve against its folder).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// `allow:` — what the organisation allows beyond its profile.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// Countries (ISO 3166 alpha-2 codes) where data may be located: the rules that place data
    /// stay quiet for them (`engine::Context::standing_of`; a Swiss subsidiary allows CH).
    #[serde(default)]
    pub countries: Vec<String>,
}

/// One `suppress:` entry: the findings matching every criterion given (rule id or name, path
/// glob relative to the settings file, resource address, fingerprint) are suppressed for
/// `reason`, until the end of `until` when given.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SuppressEntry {
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub fingerprint: Option<String>,
    pub reason: String,
    #[serde(default)]
    pub until: Option<String>,
}

/// Names in the settings file follow the command line's rule: any letter case (`HIGH`, `EU`).
fn profile_any_case<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Profile>, D::Error> {
    let text = String::deserialize(d)?;
    match text.to_ascii_lowercase().as_str() {
        "eu" => Ok(Some(Profile::Eu)),
        "adequacy" => Ok(Some(Profile::Adequacy)),
        "strict" => Ok(Some(Profile::Strict)),
        _ => Err(serde::de::Error::custom(format!(
            "profile {text:?} is not one of eu, adequacy, strict"
        ))),
    }
}

fn severities_any_case<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Severity>, D::Error> {
    let raw = BTreeMap::<String, String>::deserialize(d)?;
    raw.into_iter()
        .map(|(rule, text)| {
            Severity::ALL
                .into_iter()
                .find(|s| s.as_str().eq_ignore_ascii_case(&text))
                .map(|s| (rule.clone(), s))
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "severity {text:?} of {rule} is not one of critical, high, medium, low, info"
                    ))
                })
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}:{line}:{column}: {reason}")]
    Invalid {
        path: String,
        line: u64,
        column: u64,
        reason: String,
    },
    #[error("cannot read {path}: {reason}")]
    Io { path: String, reason: String },
}

/// The line of each item of the top-level list `key` (1 when the file cannot be read as a tree).
fn entry_lines(text: &str, key: &str, count: usize) -> Vec<u32> {
    let items: Vec<u32> = crate::load::yaml::parse_stream(text)
        .ok()
        .and_then(|docs| docs.into_iter().next())
        .and_then(|doc| {
            doc.get(key)
                .map(|list| list.items().iter().map(|i| i.span.start.line).collect())
        })
        .unwrap_or_default();
    (0..count)
        .map(|i| items.get(i).copied().unwrap_or(1).max(1))
        .collect()
}

impl Policy {
    /// The folder of the settings file (absolute): its paths and globs are relative to it.
    pub fn base_dir(&self) -> Option<PathBuf> {
        let source = self.source.as_ref()?;
        let dir = source.parent().unwrap_or(Path::new("."));
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        Some(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()))
    }

    pub fn read(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut policy: Policy = if text.trim().is_empty() {
            Policy::default()
        } else {
            crate::load::yaml::from_str_typed(&text).map_err(|e| PolicyError::Invalid {
                path: path.display().to_string(),
                line: e.line,
                column: e.column,
                reason: e.reason,
            })?
        };
        let base = path.parent().unwrap_or(Path::new("."));
        policy.rules = policy
            .rules
            .iter()
            .map(|r| {
                if r.is_absolute() {
                    r.clone()
                } else {
                    base.join(r)
                }
            })
            .collect();
        policy.suppress_lines = entry_lines(&text, "suppress", policy.suppress.len());
        policy.source = Some(path.to_path_buf());
        Ok(policy)
    }

    /// The nearest `.sovscan.yaml` in `start` or a folder above it, up to the repository
    /// root (the nearest folder with `.git`) and no further: a file in a parent folder outside
    /// the repository is not the project's. Outside a repository, folders up to the current
    /// one when `start` is inside it, else `start`'s folder only.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        let start = if start.is_file() {
            start.parent().map(Path::to_path_buf)
        } else {
            Some(start.to_path_buf())
        }?;
        let start = if start.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            start
        };
        let absolute = std::fs::canonicalize(&start).unwrap_or(start);
        let top = absolute
            .ancestors()
            .find(|dir| dir.join(".git").exists())
            .map(Path::to_path_buf)
            .or_else(|| {
                std::env::current_dir()
                    .ok()
                    .and_then(|cwd| std::fs::canonicalize(cwd).ok())
                    .filter(|cwd| absolute.starts_with(cwd))
            })
            .unwrap_or_else(|| absolute.clone());
        absolute
            .ancestors()
            .take_while(|dir| dir.starts_with(&top))
            .map(|dir| dir.join(FILE_NAME))
            .find(|candidate| candidate.is_file())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_is_a_valid_policy() {
        let dir = tempfile::Builder::new()
            .prefix("sovscan-policy-")
            .tempdir()
            .unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, TEMPLATE).unwrap();
        let policy = Policy::read(&path).unwrap();
        assert_eq!(policy.profile, Some(Profile::Eu));
        assert_eq!(
            policy
                .personal_data_labels
                .get("data-classification")
                .map(String::as_str),
            Some("personal")
        );
        std::fs::write(&path, "profile: eu\nfail_onn: high\n").unwrap();
        let err = Policy::read(&path).unwrap_err().to_string();
        assert!(err.contains(":2:"), "{err}");
    }

    #[test]
    fn settings_are_looked_for_up_to_the_repository_root_only() {
        let temp = tempfile::Builder::new()
            .prefix("sovscan-discover-")
            .tempdir()
            .unwrap();
        let dir = temp.path();
        let repo = dir.join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("k8s/app")).unwrap();
        // Above the repository: never applied.
        std::fs::write(dir.join(FILE_NAME), "exclude: [\"**\"]\n").unwrap();
        assert_eq!(Policy::discover(&repo.join("k8s/app")), None);
        std::fs::write(repo.join(FILE_NAME), "profile: eu\n").unwrap();
        let found = Policy::discover(&repo.join("k8s/app")).unwrap();
        assert_eq!(found, std::fs::canonicalize(&repo).unwrap().join(FILE_NAME));
    }
}
