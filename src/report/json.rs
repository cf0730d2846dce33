//! The JSON report (`schema_version: 1`), described by `schema/report.schema.json`.

use serde::Serialize;

use super::{Summary, summarize};
use crate::engine::Rule;
use crate::finding::Finding;
use crate::frameworks::FrameworkView;
use crate::knowledge::KnowledgeBase;
use crate::load::{LoadError, Skipped};
use crate::scan::ScanResult;

#[derive(Serialize)]
struct Tool<'a> {
    name: &'a str,
    version: &'a str,
    kb_version: &'a str,
    kb_date: &'a str,
}

#[derive(Serialize)]
struct Scanned<'a> {
    files: usize,
    documents: usize,
    resources: usize,
    not_created: usize,
    skipped: &'a [Skipped],
    errors: &'a [LoadError],
    /// Files scanned in spite of undecodable bytes.
    #[serde(skip_serializing_if = "<[LoadError]>::is_empty")]
    warnings: &'a [LoadError],
    /// Input files left out by `.gitignore`/`.ignore` files.
    #[serde(skip_serializing_if = "is_zero")]
    ignored: usize,
    /// The settings file in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    settings: Option<&'a str>,
    /// Kustomize overlays and Helm charts rendered before the scan.
    #[serde(skip_serializing_if = "<[crate::render::RenderedUnit]>::is_empty")]
    rendered: &'a [crate::render::RenderedUnit],
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    tool: Tool<'a>,
    profile: &'a str,
    scanned: Scanned<'a>,
    summary: Summary,
    findings: &'a [Finding],
    /// Per framework control: the findings and a status.
    frameworks: Vec<FrameworkView<'a>>,
}

pub fn render(result: &ScanResult, kb: &KnowledgeBase, rules: &[Rule], profile: &str) -> String {
    let mut text = serde_json::to_string_pretty(&report(result, kb, rules, profile))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// Writes the report as it is serialised: a large report is never held whole in memory.
pub fn write(
    result: &ScanResult,
    kb: &KnowledgeBase,
    rules: &[Rule],
    profile: &str,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &report(result, kb, rules, profile))?;
    out.write_all(b"\n")
}

fn report<'a>(
    result: &'a ScanResult,
    kb: &'a KnowledgeBase,
    rules: &[Rule],
    profile: &'a str,
) -> Report<'a> {
    let ran = rules.iter().map(|r| r.id.clone()).collect();
    Report {
        schema_version: 1,
        tool: Tool {
            name: "sovscan",
            version: env!("CARGO_PKG_VERSION"),
            kb_version: &kb.version,
            kb_date: &kb.checked,
        },
        profile,
        scanned: Scanned {
            files: result.files,
            documents: result.documents,
            resources: result.resources.len(),
            not_created: result.not_created,
            skipped: &result.skipped,
            errors: &result.errors,
            warnings: &result.warnings,
            ignored: result.ignored,
            settings: result.settings.as_deref(),
            rendered: &result.rendered,
        },
        summary: summarize(result, kb),
        findings: &result.findings,
        frameworks: crate::frameworks::view(&result.findings, &ran),
    }
}
