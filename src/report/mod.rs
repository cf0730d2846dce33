//! Reports: the sovereignty summary and one renderer per output format, all over the same
//! findings and positions.

pub mod csv;
pub mod gitlab;
pub mod html;
pub mod json;
mod json_finding;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod table;

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

use crate::cli::OutputFormat;
use crate::engine::Rule;
use crate::finding::{Category, Severity};
use crate::knowledge::KnowledgeBase;
use crate::scan::ScanResult;

/// What every report format is drawn from, for a scan or a live source.
pub struct Inputs<'a> {
    pub result: &'a ScanResult,
    pub kb: &'a KnowledgeBase,
    pub rules: &'a [Rule],
    pub profile: &'a str,
    pub locator: &'a sarif::Locator,
    /// The gate's sentence (`3 findings at or above high: exit 1`) and whether it failed.
    pub verdict: &'a str,
    pub failed: bool,
    /// A live source's own top-level key of the JSON report (`clusters`, `aws`), written
    /// after the frameworks.
    pub section: Option<(&'a str, &'a serde_json::Value)>,
}

/// Writes the report in `format` (not the table) to `out`. The reports that list every
/// finding are written as they are made, reading the findings from the store, so a large
/// scan's findings and report text are never held whole.
pub fn write(
    format: OutputFormat,
    inputs: &Inputs,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let Inputs {
        result,
        kb,
        rules,
        profile,
        locator,
        verdict,
        failed,
        section,
    } = *inputs;
    match format {
        OutputFormat::Json => json::write(result, kb, rules, profile, section, out),
        OutputFormat::Sarif => sarif::write(result, rules, locator, out),
        OutputFormat::Html => html::write(
            result,
            kb,
            &html::Context {
                rules,
                profile,
                verdict,
                failed,
            },
            out,
        ),
        OutputFormat::Junit => junit::write(result, rules, locator, out),
        OutputFormat::Gitlab => gitlab::write(result, locator, out),
        OutputFormat::Csv => csv::write(result, locator, out),
        OutputFormat::Github => out.write_all(sarif::render_github(result).as_bytes()),
        OutputFormat::Markdown => out.write_all(
            markdown::render(&markdown::Page {
                result,
                kb,
                locator,
                verdict,
                passed: !failed,
                links: markdown::Links::from_env(),
                rules,
            })
            .as_bytes(),
        ),
        // The caller lays the table out for its terminal.
        OutputFormat::Table => Ok(()),
    }
}

/// Text written to an output in pieces: the renderers write with `write!` as into a `String`,
/// and at most about `TextOut::PIECE` bytes are held before they go out. The first error of
/// the output is kept and returned by `finish`.
pub(crate) struct TextOut<'w> {
    text: String,
    out: &'w mut dyn std::io::Write,
    error: Option<std::io::Error>,
}

impl<'w> TextOut<'w> {
    const PIECE: usize = 64 * 1024;

    pub(crate) fn new(out: &'w mut dyn std::io::Write) -> Self {
        TextOut {
            text: String::with_capacity(Self::PIECE + 4096),
            out,
            error: None,
        }
    }

    pub(crate) fn push_str(&mut self, text: &str) {
        self.text.push_str(text);
        if self.text.len() >= Self::PIECE {
            self.send();
        }
    }

    fn send(&mut self) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(self.text.as_bytes())
        {
            self.error = Some(e);
        }
        self.text.clear();
    }

    /// Writes what is held; the first error met, if any.
    pub(crate) fn finish(mut self) -> std::io::Result<()> {
        self.send();
        self.error.map_or(Ok(()), Err)
    }
}

impl std::fmt::Write for TextOut<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.push_str(text);
        Ok(())
    }
}

/// The text a report's `write` gives, written into memory (where writing does not fail).
pub(crate) fn to_text(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> String {
    let mut out = Vec::new();
    let _ = write(&mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Text for HTML, XML and Markdown: `&`, `<`, `>` and `"` become entities, and every other
/// character goes to `rest`, which writes what the format needs. ASCII letters, digits, spaces
/// and `-./:=,;+%?$^`, which no format changes, are copied a run at a time without `rest`.
pub(crate) fn escape_markup(text: &str, rest: impl Fn(char, &mut String)) -> String {
    fn plain(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b" -./:=,;+%?$^".contains(&b)
    }
    let mut out = String::with_capacity(text.len());
    let mut left = text;
    while !left.is_empty() {
        let run = left.bytes().position(|b| !plain(b)).unwrap_or(left.len());
        out.push_str(&left[..run]);
        left = &left[run..];
        let mut chars = left.chars();
        let Some(c) = chars.next() else {
            break;
        };
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => rest(c, &mut out),
        }
        left = chars.as_str();
    }
    out
}

/// The report in one of the file formats; `None` for the table, which the caller lays out for
/// its terminal.
pub fn render(format: OutputFormat, inputs: &Inputs) -> Option<String> {
    (format != OutputFormat::Table).then(|| to_text(|out| write(format, inputs, out)))
}

#[derive(Debug, Serialize, Clone, PartialEq, Eq)]
pub struct ProviderCount {
    pub provider: String,
    pub name: String,
    /// Jurisdiction of the provider's control (`eu`, `third-country`, …).
    pub control: String,
    pub resources: usize,
}

#[derive(Debug, Serialize, Clone, Default)]
pub struct Summary {
    /// Findings that count: all but the suppressed ones and those in the baseline.
    pub findings: usize,
    pub suppressed: usize,
    /// With `--baseline`: findings the baseline accepts (not suppressed otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<usize>,
    /// With `--baseline`: baseline entries of the rules run that match no finding any more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_since_baseline: Option<usize>,
    pub by_severity: BTreeMap<String, usize>,
    pub by_category: BTreeMap<String, usize>,
    pub by_rule: BTreeMap<String, usize>,
    /// Resources by input format (`kubernetes`, `terraform`, `cloudformation`, …).
    pub resources_by_format: BTreeMap<String, usize>,
    /// Resources by the cloud provider they run on or are tied to (`none` when portable).
    pub resources_by_provider: Vec<ProviderCount>,
    /// Resources by the jurisdiction of their data location (`eu`, `third-country`, `unknown`).
    pub resources_by_location: BTreeMap<String, usize>,
    /// Resources by the jurisdiction that controls their provider.
    pub resources_by_control: BTreeMap<String, usize>,
    /// Share (0–100) of located resources whose data stays in the EU/EEA; null without any.
    pub data_in_eu_percent: Option<u32>,
    /// Share (0–100) of provider-attributed resources on EU-controlled providers.
    pub eu_controlled_percent: Option<u32>,
    /// EU Cloud Sovereignty Framework objectives the findings touch.
    pub sovereignty_objectives: Vec<String>,
}

/// A finding's path as the file-oriented reports show it: relative to the repository root with
/// `/` separators, or as given (stdin's `-`, a file outside the root).
pub fn repo_path(locator: &sarif::Locator, path: &str) -> String {
    locator.relative(path).unwrap_or_else(|| path.to_string())
}

/// `1 file`, `3 files`: a count and its noun, for the sentences of reports and the gate.
pub(crate) fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

fn percent(part: usize, total: usize) -> Option<u32> {
    (total > 0).then(|| u32::try_from(part * 100 / total).unwrap_or(100))
}

/// The summary of a scan: counts of the findings, from one pass over them, and of the
/// resources.
pub fn summarize(result: &ScanResult, kb: &KnowledgeBase) -> Summary {
    let mut summary = Summary {
        fixed_since_baseline: result.baseline_fixed,
        ..Default::default()
    };
    for s in Severity::ALL {
        summary.by_severity.insert(s.as_str().into(), 0);
    }
    for c in [Category::Residency, Category::Gdpr, Category::Hyperscaler] {
        summary.by_category.insert(c.as_str().into(), 0);
    }
    let add = |counts: &mut BTreeMap<String, usize>, key: &str, n: usize| {
        *counts.entry(key.to_string()).or_default() += n;
    };
    let mut objectives = BTreeSet::new();
    let mut baseline = 0;
    for c in result.findings.counts() {
        if c.suppressed {
            summary.suppressed += c.findings;
            continue;
        }
        if c.in_baseline {
            baseline += c.findings;
            continue;
        }
        summary.findings += c.findings;
        add(&mut summary.by_severity, c.severity.as_str(), c.findings);
        add(&mut summary.by_category, c.category.as_str(), c.findings);
        add(&mut summary.by_rule, &c.rule_id, c.findings);
        // EU Cloud Sovereignty Framework objectives are cited as `EUCSF-SOV-<n>`.
        for r in c.references.iter() {
            if let Some(objective) = r.strip_prefix("EUCSF-") {
                objectives.insert(objective.to_string());
            }
        }
    }
    summary.baseline = result.baseline_fixed.map(|_| baseline);
    summary.sovereignty_objectives = objectives.into_iter().collect();

    let estate = &result.estate;
    let text = |counts: &BTreeMap<&str, usize>| -> BTreeMap<String, usize> {
        counts.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    };
    summary.resources_by_format = text(&estate.by_format);
    summary.resources_by_location = text(&estate.by_location);
    summary.resources_by_control = text(&estate.by_control);
    summary.data_in_eu_percent = percent(estate.in_eu, estate.located);
    summary.eu_controlled_percent = percent(estate.eu_controlled, estate.attributed);
    let mut providers: Vec<ProviderCount> = estate
        .by_provider
        .iter()
        .map(|(p, &n)| ProviderCount {
            name: if p == "none" {
                "no cloud provider tie".into()
            } else {
                kb.provider_name(p).into_owned()
            },
            control: if p == "none" {
                "-".into()
            } else {
                kb.control_jurisdiction(p).as_str().into()
            },
            provider: p.clone(),
            resources: n,
        })
        .collect();
    providers.sort_by(|a, b| {
        b.resources
            .cmp(&a.resources)
            .then(a.provider.cmp(&b.provider))
    });
    summary.resources_by_provider = providers;
    summary
}

#[cfg(test)]
mod tests {
    use super::escape_markup;

    #[test]
    fn markup_is_escaped_a_run_at_a_time_and_every_other_character_goes_to_the_format() {
        let marked = |text: &str| {
            escape_markup(text, |c, out| {
                out.push('[');
                out.push(c);
                out.push(']');
            })
        };
        assert_eq!(
            marked("Deployment/shop-prod/web-1 = 50%"),
            "Deployment/shop-prod/web-1 = 50%"
        );
        assert_eq!(
            marked("a<b>&\"c\"'_\nä€😀z"),
            "a&lt;b&gt;&amp;&quot;c&quot;['][_][\n][ä][€][😀]z"
        );
        assert_eq!(marked(""), "");
        assert_eq!(marked("é"), "[é]");
    }
}
