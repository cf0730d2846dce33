//! Suppressions: inline `# sovscan:ignore RES-001 reason="…" until=2027-03-31` comments on or
//! above the flagged line, the `sovscan.dev/ignore` annotation on Kubernetes objects, and
//! `Metadata.sovscan.ignore` on CloudFormation/ARM resources. Suppressed findings stay in the
//! report, marked, and no longer count for the exit code.

use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::finding::Finding;
use crate::model::Resource;
use crate::tree::Node;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// `inline` (a comment) or `metadata` (an annotation or metadata entry on the resource).
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// A suppression that was written but did not apply as intended.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SuppressionWarning {
    pub path: String,
    pub line: u32,
    pub message: String,
}

#[derive(Clone)]
struct Directive {
    rules: Vec<String>,
    reason: Option<String>,
    until: Option<String>,
}

/// Parses `sovscan:ignore RES-001,HYP-003 reason="moving in Q3" until=2027-03-31` out of a line.
fn parse_directive(line: &str) -> Option<Directive> {
    let start = line.find("sovscan:ignore")?;
    let mut rest = &line[start + "sovscan:ignore".len()..];
    let mut rules = Vec::new();
    let mut reason = None;
    let mut until = None;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if let Some(after) = rest.strip_prefix("reason=") {
            let (value, tail) = quoted_or_word(after);
            reason = Some(value);
            rest = tail;
        } else if let Some(after) = rest.strip_prefix("until=") {
            let (value, tail) = quoted_or_word(after);
            until = Some(value);
            rest = tail;
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            rules.extend(
                rest[..end]
                    .split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_string),
            );
            rest = &rest[end..];
        }
    }
    Some(Directive {
        rules,
        reason,
        until,
    })
}

fn quoted_or_word(text: &str) -> (String, &str) {
    for quote in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(quote) {
            let end = inner.find(quote).unwrap_or(inner.len());
            return (inner[..end].to_string(), inner.get(end + 1..).unwrap_or(""));
        }
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    (text[..end].to_string(), &text[end..])
}

/// Today as `YYYY-MM-DD` (UTC), from the system clock; `SOVSCAN_TODAY` overrides it.
pub fn today() -> String {
    if let Ok(value) = std::env::var("SOVSCAN_TODAY") {
        return value;
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn matches_rule(listed: &[String], finding: &Finding) -> bool {
    listed.is_empty()
        || listed.iter().any(|r| {
            r.eq_ignore_ascii_case(&finding.rule_id) || **r == *finding.rule_name || r == "all"
        })
}

/// The rules a resource's metadata suppresses, with the reason if one is given.
type MetadataDirective = (Vec<String>, Option<String>);

/// Rules named in a resource's metadata suppression, with the reason if one is given.
fn metadata_directive(resource: &Resource) -> Option<MetadataDirective> {
    match &resource.settled {
        Some(settled) => settled.ignore.clone(),
        None => written_metadata_directive(resource),
    }
}

/// The metadata suppression as the resource's body writes it.
pub fn written_metadata_directive(resource: &Resource) -> Option<MetadataDirective> {
    let body = &resource.body;
    let annotations = body.path("metadata.annotations");
    if let Some(list) = annotations
        .and_then(|a| a.get("sovscan.dev/ignore"))
        .and_then(Node::as_str)
    {
        let reason = annotations
            .and_then(|a| a.get("sovscan.dev/ignore-reason"))
            .and_then(Node::scalar_text);
        return Some((split_list(list), reason));
    }
    for root in ["Metadata", "metadata"] {
        if let Some(sovscan) = body.get(root).and_then(|m| m.get("sovscan")) {
            let rules = match sovscan.get("ignore") {
                Some(node) if !node.items().is_empty() => {
                    node.items().iter().filter_map(Node::scalar_text).collect()
                }
                Some(node) => node.as_str().map(split_list).unwrap_or_default(),
                None => continue,
            };
            let reason = sovscan.get("reason").and_then(Node::scalar_text);
            return Some((rules, reason));
        }
    }
    None
}

fn split_list(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The lines of a text that hold an inline suppression, with their 1-based number: found while
/// a file is loaded, so that its text need not be read again.
pub fn directive_lines(text: &str) -> Vec<(u32, String)> {
    if !text.contains("sovscan:ignore") {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.contains("sovscan:ignore"))
        .map(|(i, line)| (u32::try_from(i + 1).unwrap_or(u32::MAX), line.to_string()))
        .collect()
}

/// Rule names written in the inline suppressions of a text, with their 1-based line.
pub fn inline_rule_names(text: &str) -> Vec<(u32, String)> {
    inline_rule_names_in(&directive_lines(text))
}

/// Rule names written in lines from `directive_lines`, with their line.
pub fn inline_rule_names_in(lines: &[(u32, String)]) -> Vec<(u32, String)> {
    lines
        .iter()
        .filter_map(|(n, line)| parse_directive(line).map(|d| (*n, d)))
        .flat_map(|(n, d)| d.rules.into_iter().map(move |r| (n, r)))
        .collect()
}

/// A resource's metadata suppression (`sovscan.dev/ignore`, `Metadata.sovscan`), kept by the
/// scan when the resource itself is dropped.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetadataSuppression {
    pub path: Arc<str>,
    pub document: usize,
    pub address: String,
    /// The resource's first line.
    pub line: u32,
    pub rules: Vec<String>,
    pub reason: Option<String>,
}

impl MetadataSuppression {
    pub fn of(resource: &Resource) -> Option<Self> {
        let (rules, reason) = metadata_directive(resource)?;
        Some(MetadataSuppression {
            path: Arc::clone(&resource.path),
            document: resource.document,
            address: resource.address.clone(),
            line: resource.start().start_line,
            rules,
            reason,
        })
    }
}

/// The lines with inline suppressions (`directive_lines`) of the files a scan loaded, found
/// while each file's text was at hand.
#[derive(Debug, Default)]
pub struct Directives {
    /// The files that have such lines, with them.
    lines: HashMap<Arc<str>, Vec<(u32, String)>>,
    /// The files read that have none: most of them, each held once, not as an empty entry.
    none: HashSet<Arc<str>>,
    /// Every input of the scan was read as it was loaded (a live source's): one that is not
    /// in `lines` has none, and is not held.
    all_read: bool,
}

impl Directives {
    /// For a scan whose inputs are all read as they are loaded.
    pub fn all_read() -> Self {
        Directives {
            all_read: true,
            ..Directives::default()
        }
    }

    pub fn insert(&mut self, path: Arc<str>, lines: Vec<(u32, String)>) {
        if lines.is_empty() {
            if !self.all_read {
                self.none.insert(path);
            }
        } else {
            self.none.remove(&*path);
            self.lines.insert(path, lines);
        }
    }

    /// Whether the scan read the file and found none: most files, told with one lookup.
    pub fn has_none(&self, path: &str) -> bool {
        self.none.contains(path) || (self.all_read && !self.lines.contains_key(path))
    }

    /// The lines of a file the scan read (empty when it has none); `None` when it did not
    /// read the file's text.
    pub fn get(&self, path: &str) -> Option<&[(u32, String)]> {
        match self.lines.get(path) {
            Some(lines) => Some(lines),
            None => self.has_none(path).then_some(&[]),
        }
    }
}

/// Marks suppressed findings, one at a time as they are ordered, and gathers warnings about
/// suppressions (missing reason, expired), from the lines with inline suppressions found when
/// the files were loaded.
pub struct Inline<'a> {
    directives: &'a Directives,
    today: &'a str,
    warnings: Vec<SuppressionWarning>,
    /// Directives by line, parsed once per file.
    cache: HashMap<Arc<str>, HashMap<usize, Directive>>,
    /// Of two resources with one address that both write one, the last in the file counts.
    by_address: HashMap<(&'a str, &'a str), MetadataDirective>,
}

impl<'a> Inline<'a> {
    pub fn new(
        metadata: &'a [MetadataSuppression],
        directives: &'a Directives,
        today: &'a str,
    ) -> Self {
        let mut by_address = HashMap::new();
        let mut metadata: Vec<&MetadataSuppression> = metadata.iter().collect();
        metadata.sort_by_key(|m| (&m.path, m.document, &m.address, m.line));
        for m in metadata {
            by_address.insert(
                (m.path.as_ref(), m.address.as_str()),
                (m.rules.clone(), m.reason.clone()),
            );
        }
        Inline {
            directives,
            today,
            warnings: Vec::new(),
            cache: HashMap::new(),
            by_address,
        }
    }

    /// Marks a finding if an inline or metadata suppression covers it.
    pub fn mark(&mut self, finding: &mut Finding) {
        let path = Arc::clone(&finding.location.path);
        // Most files have no inline suppression: nothing to parse or to hold for them.
        if self.directives.has_none(&path) {
            self.metadata(finding, &path);
            return;
        }
        let directives = self.directives;
        let directives = self.cache.entry(Arc::clone(&path)).or_insert_with(|| {
            directives
                .get(&path)
                .map(<[_]>::to_vec)
                // Files reached only through rendering (a Kustomize base) were not loaded.
                .or_else(|| {
                    crate::load::read_text(std::path::Path::new(&*path))
                        .map(|t| directive_lines(&t))
                })
                .map(|lines| {
                    lines
                        .iter()
                        .filter_map(|(n, text)| parse_directive(text).map(|d| (*n as usize, d)))
                        .collect()
                })
                .unwrap_or_default()
        });
        let line = finding.location.start_line as usize;
        let mut candidates = Vec::new();
        for n in [line, line.saturating_sub(1)] {
            if n >= 1
                && let Some(d) = directives.get(&n)
            {
                candidates.push((n as u32, d.clone()));
            }
        }
        for (n, d) in candidates {
            if !matches_rule(&d.rules, finding) {
                continue;
            }
            if let Some(until) = &d.until
                && until.as_str() < self.today
            {
                self.warnings.push(SuppressionWarning {
                    path: path.to_string(),
                    line: n,
                    message: format!("suppression of {} expired on {until}", finding.rule_id),
                });
                continue;
            }
            if d.reason.is_none() {
                self.warnings.push(SuppressionWarning {
                    path: path.to_string(),
                    line: n,
                    message: format!("suppression of {} has no reason=\"…\"", finding.rule_id),
                });
            }
            finding.suppression = Some(Box::new(Suppression {
                kind: "inline",
                reason: d.reason.clone(),
                until: d.until.clone(),
            }));
            break;
        }
        if finding.suppression.is_none() {
            self.metadata(finding, &path);
        }
    }

    /// Marks a finding that a resource's metadata suppresses.
    fn metadata(&self, finding: &mut Finding, path: &Arc<str>) {
        if let Some((rules, reason)) = self
            .by_address
            .get(&(path.as_ref(), finding.resource.address.as_str()))
            && matches_rule(rules, finding)
            && !rules.is_empty()
        {
            finding.suppression = Some(Box::new(Suppression {
                kind: "metadata",
                reason: reason.clone(),
                until: None,
            }));
        }
    }

    /// The warnings, in order, each once.
    pub fn warnings(mut self) -> Vec<SuppressionWarning> {
        self.warnings.sort();
        self.warnings.dedup();
        self.warnings
    }
}

impl crate::store::Change for Inline<'_> {
    /// A file read with no inline suppression, and a resource without a metadata one.
    fn leaves_alone(&self, path: &str, address: &str) -> bool {
        self.directives.has_none(path) && !self.by_address.contains_key(&(path, address))
    }

    fn change(&mut self, finding: &mut Finding) {
        self.mark(finding);
    }
}

/// A `suppress:` entry of the settings file, ready to match: its path glob compiled.
pub struct SettingsSuppression {
    pub entry: crate::policy::SuppressEntry,
    pub glob: Option<globset::GlobMatcher>,
    /// The entry's line in the settings file.
    pub line: u32,
}

impl SettingsSuppression {
    /// `path` globs name files relative to the settings file; a folder covers what is in it.
    pub fn new(
        entry: crate::policy::SuppressEntry,
        line: u32,
    ) -> Result<SettingsSuppression, String> {
        let glob = match &entry.path {
            Some(pattern) => {
                let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
                let glob = globset::GlobBuilder::new(pattern)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| format!("path {pattern:?} is not a glob: {}", e.kind()))?;
                Some(glob.compile_matcher())
            }
            None => None,
        };
        Ok(SettingsSuppression { glob, entry, line })
    }

    fn matches(&self, finding: &Finding, relative_path: Option<&str>) -> bool {
        let e = &self.entry;
        e.rule
            .as_ref()
            .is_none_or(|r| r.eq_ignore_ascii_case(&finding.rule_id) || **r == *finding.rule_name)
            && e.resource
                .as_ref()
                .is_none_or(|a| *a == finding.resource.address)
            && e.fingerprint
                .as_ref()
                .is_none_or(|fp| fp.eq_ignore_ascii_case(&finding.fingerprint))
            && self.glob.as_ref().is_none_or(|glob| {
                relative_path.is_some_and(|p| {
                    glob.is_match(p)
                        || std::path::Path::new(p)
                            .ancestors()
                            .skip(1)
                            .any(|dir| !dir.as_os_str().is_empty() && glob.is_match(dir))
                })
            })
    }
}

/// Marks the findings that a `suppress:` entry of the settings file covers; an entry past its
/// `until` date no longer applies and is a warning, as an inline suppression's is.
/// `relative` gives a finding's path relative to the settings file (`None` outside it).
pub fn apply_settings(
    findings: &mut crate::store::Findings,
    suppressions: &[SettingsSuppression],
    settings_path: &str,
    relative: impl Fn(&str) -> Option<String>,
    today: &str,
) -> Vec<SuppressionWarning> {
    let mut warnings = Vec::new();
    findings.update(|finding| {
        if finding.suppression.is_some() {
            return;
        }
        let path = relative(&finding.location.path);
        for s in suppressions {
            if !s.matches(finding, path.as_deref()) {
                continue;
            }
            if let Some(until) = &s.entry.until
                && until.as_str() < today
            {
                warnings.push(SuppressionWarning {
                    path: settings_path.to_string(),
                    line: s.line,
                    message: format!(
                        "suppression of {} expired on {until}; {}:{} is reported again",
                        finding.rule_id, finding.location.path, finding.location.start_line
                    ),
                });
                continue;
            }
            finding.suppression = Some(Box::new(Suppression {
                kind: "settings",
                reason: Some(s.entry.reason.clone()),
                until: s.entry.until.clone(),
            }));
            break;
        }
    });
    warnings.sort();
    warnings.dedup();
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_tell_a_file_read_without_any_from_a_file_not_read() {
        let mut d = Directives::default();
        d.insert(Arc::from("plain.yaml"), Vec::new());
        d.insert(
            Arc::from("marked.yaml"),
            vec![(3, "# sovscan:ignore RES-001".into())],
        );
        assert_eq!(d.get("plain.yaml"), Some(&[][..]));
        assert!(d.has_none("plain.yaml") && !d.has_none("marked.yaml"));
        assert_eq!(d.get("marked.yaml").map(<[_]>::len), Some(1));
        // Not read while loading: the caller reads it.
        assert_eq!(d.get("rendered-base.yaml"), None);
        // Read again with lines: they count.
        d.insert(
            Arc::from("plain.yaml"),
            vec![(1, "# sovscan:ignore".into())],
        );
        assert_eq!(d.get("plain.yaml").map(<[_]>::len), Some(1));
        assert!(!d.has_none("plain.yaml") && !d.has_none("rendered-base.yaml"));
    }

    #[test]
    fn directives_of_inputs_all_read_hold_only_the_inputs_with_lines() {
        let mut d = Directives::all_read();
        d.insert(
            Arc::from("aws://1/eu-central-1/AWS::S3::Bucket/a"),
            Vec::new(),
        );
        d.insert(
            Arc::from("aws://1/eu-central-1/AWS::S3::Bucket/b"),
            vec![(2, "# sovscan:ignore RES-001".into())],
        );
        assert!(d.none.is_empty());
        assert!(d.has_none("aws://1/eu-central-1/AWS::S3::Bucket/a"));
        assert_eq!(
            d.get("aws://1/eu-central-1/AWS::S3::Bucket/a"),
            Some(&[][..])
        );
        assert!(!d.has_none("aws://1/eu-central-1/AWS::S3::Bucket/b"));
        assert_eq!(
            d.get("aws://1/eu-central-1/AWS::S3::Bucket/b")
                .map(<[_]>::len),
            Some(1)
        );
    }

    #[test]
    fn directives_parse() {
        let d = parse_directive("  image: nginx # sovscan:ignore RES-007,HYP-011 reason=\"mirror in Q3\" until=2027-03-31").unwrap();
        assert_eq!(d.rules, ["RES-007", "HYP-011"]);
        assert_eq!(d.reason.as_deref(), Some("mirror in Q3"));
        assert_eq!(d.until.as_deref(), Some("2027-03-31"));
        assert!(parse_directive("image: nginx").is_none());
    }

    #[test]
    fn today_is_a_date() {
        let t = today();
        assert_eq!(t.len(), 10);
        assert!(t.as_str() > "2020-01-01");
    }
}
