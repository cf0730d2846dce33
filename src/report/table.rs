//! The terminal report: findings grouped by file in tables, then the sovereignty summary.

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use std::fmt::Write;

use super::summarize;
use crate::finding::{Finding, Severity};
use crate::knowledge::KnowledgeBase;
use crate::scan::ScanResult;

fn severity_cell(severity: Severity, color: bool) -> Cell {
    let cell = Cell::new(severity.as_str());
    if !color {
        return cell;
    }
    cell.fg(match severity {
        Severity::Critical => Color::Magenta,
        Severity::High => Color::Red,
        Severity::Medium => Color::Yellow,
        Severity::Low => Color::Blue,
        Severity::Info => Color::Grey,
    })
}

fn new_table(color: bool) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(160);
    if !color {
        table.force_no_tty();
    }
    table
}

pub fn render(result: &ScanResult, kb: &KnowledgeBase, color: bool, quiet: bool) -> String {
    let mut out = String::new();
    let mut by_file: Vec<(&str, Vec<&Finding>)> = Vec::new();
    for f in result.findings.iter().filter(|f| !f.is_suppressed()) {
        match by_file.last_mut() {
            Some((path, list)) if *path == &*f.location.path => list.push(f),
            _ => by_file.push((&f.location.path, vec![f])),
        }
    }
    for (path, findings) in &by_file {
        let _ = writeln!(out, "{path}");
        let mut table = new_table(color);
        table.set_header(vec!["line:col", "severity", "rule", "resource", "finding"]);
        for f in findings {
            table.add_row(vec![
                Cell::new(format!(
                    "{}:{}",
                    f.location.start_line, f.location.start_column
                )),
                severity_cell(f.severity, color),
                Cell::new(format!("{}\n{}", f.rule_id, f.rule_name)),
                Cell::new(match &f.resource.note {
                    Some(note) => format!("{}\n({note})", f.resource.address),
                    None => f.resource.address.clone(),
                }),
                Cell::new(&f.message),
            ]);
        }
        let _ = writeln!(out, "{table}\n");
    }
    if !result.errors.is_empty() {
        let _ = writeln!(out, "Errors ({}):", result.errors.len());
        for e in &result.errors {
            let _ = writeln!(out, "  {e}");
        }
        out.push('\n');
    }
    if quiet {
        return out;
    }
    let summary = summarize(result, kb);
    let _ = writeln!(
        out,
        "Scanned {} files, {} documents, {} resources{} ({} skipped, {} errors). Knowledge base {}.",
        result.files,
        result.documents,
        result.resources.len(),
        if result.not_created > 0 {
            format!(", {} not created", result.not_created)
        } else {
            String::new()
        },
        result.skipped.len(),
        result.errors.len(),
        kb.version
    );
    if summary.suppressed > 0 {
        let _ = writeln!(
            out,
            "{} findings suppressed (listed in the JSON report).",
            summary.suppressed
        );
    }
    let mut counts = new_table(color);
    counts.set_header(vec![
        "findings", "critical", "high", "medium", "low", "info",
    ]);
    let mut row = vec![Cell::new("total")];
    for s in Severity::ALL {
        row.push(Cell::new(
            summary.by_severity.get(s.as_str()).copied().unwrap_or(0),
        ));
    }
    counts.add_row(row);
    for category in ["residency", "gdpr", "hyperscaler"] {
        let mut row = vec![Cell::new(category)];
        for s in Severity::ALL {
            let n = result
                .findings
                .iter()
                .filter(|f| {
                    !f.is_suppressed() && f.category.as_str() == category && f.severity == s
                })
                .count();
            row.push(Cell::new(n));
        }
        counts.add_row(row);
    }
    let _ = writeln!(out, "{counts}");
    let mut providers = new_table(color);
    providers.set_header(vec!["provider", "controlled from", "resources"]);
    for p in &summary.resources_by_provider {
        providers.add_row(vec![
            Cell::new(&p.name),
            Cell::new(&p.control),
            Cell::new(p.resources),
        ]);
    }
    let _ = writeln!(out, "{providers}");
    let located: Vec<String> = summary
        .resources_by_location
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let formats: Vec<String> = summary
        .resources_by_format
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let _ = writeln!(out, "Resources by input: {}", formats.join(", "));
    let _ = writeln!(out, "Data location of resources: {}", located.join(", "));
    if let Some(p) = summary.data_in_eu_percent {
        let _ = writeln!(
            out,
            "Located resources whose data stays in the EU/EEA: {p}%"
        );
    }
    if let Some(p) = summary.eu_controlled_percent {
        let _ = writeln!(
            out,
            "Provider-tied resources on EU-controlled providers: {p}%"
        );
    }
    out
}
