//! Rules as data: the YAML shape of a rule, how it is read and validated, and selection.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

use super::condition::Condition;
use crate::finding::{Category, Severity};
use crate::load::Format;

/// `eu` (default): EU/EEA allowed; `adequacy`: adequacy countries allowed too;
/// `strict`: EU/EEA and EU-controlled providers only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Eu,
    Adequacy,
    Strict,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Eu => "eu",
            Profile::Adequacy => "adequacy",
            Profile::Strict => "strict",
        }
    }
}

/// A severity override for a profile; `none` turns the rule off under that profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileSeverity {
    None,
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl ProfileSeverity {
    pub fn severity(self) -> Option<Severity> {
        match self {
            ProfileSeverity::None => None,
            ProfileSeverity::Info => Some(Severity::Info),
            ProfileSeverity::Low => Some(Severity::Low),
            ProfileSeverity::Medium => Some(Severity::Medium),
            ProfileSeverity::High => Some(Severity::High),
            ProfileSeverity::Critical => Some(Severity::Critical),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub category: Category,
    pub severity: Severity,
    #[serde(default)]
    pub severity_by_profile: BTreeMap<Profile, ProfileSeverity>,
    pub title: String,
    /// Message with `{placeholders}` filled from the finding.
    pub message: String,
    pub why: String,
    pub fix: String,
    #[serde(default)]
    pub references: Vec<String>,
    /// Input formats the rule reads (`kubernetes`, `terraform`, …).
    pub applies_to: Vec<String>,
    /// A named built-in check, for what plain data cannot say.
    #[serde(default)]
    pub check: Option<String>,
    /// Resource filter for data conditions.
    #[serde(default, rename = "match")]
    pub resource_match: Option<ResourceMatch>,
    /// Data condition: the rule fires where this holds.
    #[serde(default)]
    pub fail_if: Option<Condition>,
    /// Example of input the rule flags and of input it accepts, for the docs.
    #[serde(default)]
    pub examples: Option<Examples>,
    /// Where the rule file came from (filled in when loading).
    #[serde(skip)]
    pub source: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceMatch {
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub providers: Vec<String>,
    #[serde(default)]
    pub api_versions: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    #[serde(default)]
    pub fail: Option<String>,
    #[serde(default)]
    pub pass: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{path}:{line}:{column}: {reason}")]
    Invalid {
        path: String,
        line: u64,
        column: u64,
        reason: String,
    },
    #[error("{path}: {reason}")]
    Other { path: String, reason: String },
    #[error("cannot read rules from {path}: {reason}")]
    Io { path: String, reason: String },
}

impl Rule {
    pub fn formats(&self) -> Vec<Format> {
        self.applies_to
            .iter()
            .filter_map(|f| Format::parse(f))
            .collect()
    }

    pub fn applies_to_format(&self, format: Format) -> bool {
        self.applies_to
            .iter()
            .any(|f| f == format.as_str() || f == "all")
    }

    /// The severity under a profile, or `None` when the profile turns the rule off.
    pub fn severity_for(&self, profile: Profile) -> Option<Severity> {
        match self.severity_by_profile.get(&profile) {
            Some(s) => s.severity(),
            None => Some(self.severity),
        }
    }

    /// Does a `--select`/`--ignore` term pick this rule (id, id prefix, name or category)?
    pub fn selected_by(&self, term: &str) -> bool {
        let term = term.trim();
        !term.is_empty()
            && (self.id.eq_ignore_ascii_case(term)
                || self
                    .id
                    .to_ascii_uppercase()
                    .starts_with(&term.to_ascii_uppercase())
                || self.name == term
                || self.category.as_str() == term.to_ascii_lowercase())
    }
}

/// Parses one rule file (a single rule, or a list of rules).
pub fn parse_rules(path: &str, text: &str) -> Result<Vec<Rule>, RuleError> {
    let to_error = |e: crate::load::yaml::TypedError| RuleError::Invalid {
        path: path.to_string(),
        line: e.line,
        column: e.column,
        reason: e.reason,
    };
    let rules: Vec<Rule> = if text.trim_start().starts_with('-') {
        crate::load::yaml::from_str_typed(text).map_err(to_error)?
    } else {
        vec![crate::load::yaml::from_str_typed(text).map_err(to_error)?]
    };
    finish(path, rules)
}

/// Rules from the JSON form of a rule file; `None` when the JSON does not read as rules (the
/// YAML is read then, with its errors placed).
pub fn parse_rules_json(path: &str, json: &str) -> Option<Result<Vec<Rule>, RuleError>> {
    let rules: Vec<Rule> = if json.starts_with('[') {
        serde_json::from_str(json).ok()?
    } else {
        vec![serde_json::from_str(json).ok()?]
    };
    Some(finish(path, rules))
}

fn finish(path: &str, mut rules: Vec<Rule>) -> Result<Vec<Rule>, RuleError> {
    for rule in &mut rules {
        rule.source = path.to_string();
        validate(rule).map_err(|reason| RuleError::Other {
            path: path.to_string(),
            reason: format!("rule {}: {reason}", rule.id),
        })?;
    }
    Ok(rules)
}

fn validate(rule: &Rule) -> Result<(), String> {
    if rule.id.trim().is_empty() {
        return Err("empty id".into());
    }
    if !rule
        .name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!("name {:?} is not kebab-case", rule.name));
    }
    for format in &rule.applies_to {
        if format != "all" && Format::parse(format).is_none() {
            return Err(format!(
                "applies_to names unknown format {format:?} (known: kubernetes, terraform, terraform-plan, cloudformation, arm, aws-config, all)"
            ));
        }
    }
    match (&rule.check, &rule.fail_if) {
        (None, None) => {
            Err("needs `check` (a built-in check) or `fail_if` (a data condition)".into())
        }
        (Some(name), _) if !super::checks::exists(name) => Err(format!(
            "unknown built-in check {name:?}; see `sovscan rules list` for the rules that use built-in checks"
        )),
        (_, Some(condition)) => condition.validate(),
        _ => Ok(()),
    }
}

/// Reads every `*.yaml`/`*.yml` rule file under a folder (user rule packs).
pub fn load_dir(dir: &Path) -> Result<Vec<Rule>, RuleError> {
    if !dir.is_dir() {
        return Err(RuleError::Io {
            path: dir.display().to_string(),
            reason: "not a directory".into(),
        });
    }
    let mut files: Vec<_> = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    let mut rules = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| RuleError::Io {
            path: file.display().to_string(),
            reason: e.to_string(),
        })?;
        rules.extend(parse_rules(&file.display().to_string(), &text)?);
    }
    Ok(rules)
}
