//! The terminal report: findings grouped by file in tables, then the sovereignty summary.

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use std::fmt::Write;

use super::summarize;
use crate::finding::Severity;
use crate::knowledge::KnowledgeBase;
use crate::sanitize::terminal;
use crate::scan::ScanResult;
use crate::store::Item;

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

/// Below this width findings are printed one block each instead of a table with five columns.
pub const COMPACT_BELOW: u16 = 100;

/// Width used when there is no terminal to measure and `COLUMNS` is not set.
pub const DEFAULT_WIDTH: u16 = 160;

/// The width to fit: `--width`, else `COLUMNS`, else the terminal's, else `DEFAULT_WIDTH`.
pub fn terminal_width(flag: Option<u16>) -> u16 {
    flag.or_else(|| {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<u16>().ok())
    })
    .or_else(|| {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() {
            Table::new().width()
        } else {
            None
        }
    })
    .filter(|w| *w >= 20)
    .unwrap_or(DEFAULT_WIDTH)
}

pub fn new_table(color: bool, width: u16) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width);
    if color {
        // The caller decided (`--color always` writes colours into a pipe too).
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table
}

/// Words of `text` in lines of at most `width` characters (a longer word gets its own line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// One block per finding, for narrow terminals: position, severity and rule on the first line,
/// the resource and the message wrapped below.
fn compact_findings(out: &mut String, findings: &[Item], color: bool, width: u16) {
    const INDENT: &str = "    ";
    let width = usize::from(width).saturating_sub(INDENT.len()).max(20);
    for f in findings {
        let severity = if color {
            let code = match f.severity {
                Severity::Critical => "35",
                Severity::High => "31",
                Severity::Medium => "33",
                Severity::Low => "34",
                Severity::Info => "90",
            };
            format!("\u{1b}[{code}m{}\u{1b}[0m", f.severity.as_str())
        } else {
            f.severity.as_str().to_string()
        };
        let _ = writeln!(
            out,
            "  {}:{} {severity} {} {}",
            f.location.start_line,
            f.location.start_column,
            terminal(&f.rule_id),
            terminal(&f.rule_name)
        );
        for line in wrap(&terminal(&f.resource.address), width) {
            let _ = writeln!(out, "{INDENT}{line}");
        }
        for line in wrap(&terminal(&f.message), width) {
            let _ = writeln!(out, "{INDENT}{line}");
        }
    }
    out.push('\n');
}

/// At most this many findings go to one table: a file with more gets a table for each so
/// many, headed by its path again, and one file's findings are never all held or laid out at
/// once.
const ROWS_PER_TABLE: usize = 500;

/// The findings of one file, or the `part`th so many of them: its path, then a table (or,
/// narrow, a block per finding).
fn file_findings(out: &mut String, findings: &[Item], part: usize, color: bool, width: u16) {
    let Some(first) = findings.first() else {
        return;
    };
    let path = terminal(&first.location.path);
    if part == 0 {
        let _ = writeln!(out, "{path}");
    } else {
        let _ = writeln!(out, "{path} (continued)");
    }
    if width < COMPACT_BELOW {
        compact_findings(out, findings, color, width);
        return;
    }
    let mut table = new_table(color, width);
    table.set_header(vec!["line:col", "severity", "rule", "resource", "finding"]);
    for f in findings {
        table.add_row(vec![
            Cell::new(format!(
                "{}:{}",
                f.location.start_line, f.location.start_column
            )),
            severity_cell(f.severity, color),
            Cell::new(format!(
                "{}\n{}",
                terminal(&f.rule_id),
                terminal(&f.rule_name)
            )),
            Cell::new(match &f.resource.note {
                Some(note) => {
                    format!("{}\n({})", terminal(&f.resource.address), terminal(note))
                }
                None => terminal(&f.resource.address).into_owned(),
            }),
            Cell::new(terminal(&f.message)),
        ]);
    }
    let _ = writeln!(out, "{table}\n");
}

/// The terminal report as one text.
pub fn render(
    result: &ScanResult,
    kb: &KnowledgeBase,
    color: bool,
    quiet: bool,
    width: u16,
) -> String {
    let mut out = Vec::new();
    write(result, kb, color, quiet, width, &mut out).expect("a Vec takes every write");
    String::from_utf8(out).expect("the report is made of strings")
}

/// Writes the terminal report to `out` a table at a time.
pub fn write(
    result: &ScanResult,
    kb: &KnowledgeBase,
    color: bool,
    quiet: bool,
    width: u16,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    // The store gives a file's findings one after another. Tables are laid out on every core
    // a batch at a time, and written in order: no more than a batch of findings is held.
    const BATCH: usize = 512;
    let lay_out = |tables: &mut Vec<(Vec<Item>, usize)>, out: &mut dyn std::io::Write| {
        let texts: Vec<String> = tables
            .par_iter()
            .map(|(findings, part)| {
                let mut text = String::new();
                file_findings(&mut text, findings, *part, color, width);
                fit_lines(&text, width)
            })
            .collect();
        tables.clear();
        texts
            .iter()
            .try_for_each(|text| out.write_all(text.as_bytes()))
    };
    // Each table: a file's findings, or the `part`th `ROWS_PER_TABLE` of them.
    let mut tables: Vec<(Vec<Item>, usize)> = Vec::new();
    let mut held = 0;
    let mut file: Vec<Item> = Vec::new();
    let mut part = 0;
    for f in result.findings.iter().filter(|f| f.is_active()) {
        let next_file = file
            .first()
            .is_some_and(|first| first.location.path != f.location.path);
        if next_file || file.len() == ROWS_PER_TABLE {
            held += file.len();
            tables.push((std::mem::take(&mut file), part));
            part = if next_file { 0 } else { part + 1 };
            if held >= BATCH {
                lay_out(&mut tables, out)?;
                held = 0;
            }
        }
        file.push(f);
    }
    tables.push((file, part));
    lay_out(&mut tables, out)?;
    if quiet {
        return Ok(());
    }
    out.write_all(scan_summary(result, kb, color, width).as_bytes())
}

/// The summary of the scan, fitted to the width.
fn scan_summary(result: &ScanResult, kb: &KnowledgeBase, color: bool, width: u16) -> String {
    let mut out = String::new();
    let summary = summarize(result, kb);
    let _ = writeln!(
        out,
        "Scanned {} files, {} documents, {} resources{} ({} skipped, {} errors). Knowledge base {}.",
        result.files,
        result.documents,
        result.estate.resources,
        if result.not_created > 0 {
            format!(", {} not created", result.not_created)
        } else {
            String::new()
        },
        result.skipped.len(),
        result.errors.len(),
        kb.version
    );
    if !result.errors.is_empty() {
        let _ = writeln!(
            out,
            "{} could not be read or parsed (listed on stderr; --strict fails the gate on them).",
            files(result.errors.len())
        );
    }
    if !result.warnings.is_empty() {
        let _ = writeln!(
            out,
            "{} read with undecodable bytes replaced (listed on stderr).",
            files(result.warnings.len())
        );
    }
    unevaluated_lines(&mut out, &result.unevaluated);
    if result.ignored > 0 {
        let _ = writeln!(
            out,
            "{} ignored by .gitignore or .ignore: --no-ignore to scan them.",
            files(result.ignored)
        );
    }
    if let Some(settings) = &result.settings {
        let _ = writeln!(out, "Settings from {}.", terminal(settings));
    }
    if !result.rendered.is_empty() {
        let units: Vec<String> = result
            .rendered
            .iter()
            .map(|u| format!("{} ({}, {})", terminal(&u.path), u.command, files(u.files)))
            .collect();
        let _ = writeln!(out, "Rendered before scanning: {}.", units.join(", "));
    }
    if summary.suppressed > 0 {
        let _ = writeln!(
            out,
            "{} findings suppressed (listed in the JSON report).",
            summary.suppressed
        );
    }
    if let (Some(accepted), Some(fixed)) = (summary.baseline, summary.fixed_since_baseline) {
        let _ = writeln!(
            out,
            "{accepted} findings in the baseline (listed in the JSON report), {fixed} fixed since the baseline."
        );
    }
    let mut counts = new_table(color, width);
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
    let categories = ["residency", "gdpr", "hyperscaler"];
    let mut cells = [[0usize; Severity::ALL.len()]; 3];
    for f in result.findings.iter().filter(|f| f.is_active()) {
        let category = categories.iter().position(|c| *c == f.category.as_str());
        let severity = Severity::ALL.iter().position(|s| *s == f.severity);
        if let (Some(c), Some(s)) = (category, severity) {
            cells[c][s] += 1;
        }
    }
    for (category, cells) in categories.iter().zip(cells) {
        let mut row = vec![Cell::new(category)];
        row.extend(cells.into_iter().map(Cell::new));
        counts.add_row(row);
    }
    let _ = writeln!(out, "{counts}");
    let mut providers = new_table(color, width);
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
    fit_lines(&out, width)
}

/// The settings no rule could judge, the first few by place.
fn unevaluated_lines(out: &mut String, unevaluated: &[crate::model::Unevaluated]) {
    const SHOWN: usize = 10;
    if unevaluated.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{} not evaluated (listed in the JSON report):",
        super::plural(unevaluated.len(), "setting")
    );
    for u in unevaluated.iter().take(SHOWN) {
        let more = match u.resources.len() {
            0 | 1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        let _ = writeln!(
            out,
            "  {}:{} {}{more} {}: {}",
            terminal(&u.path),
            u.line,
            terminal(u.resources.first().map_or("", String::as_str)),
            terminal(&u.setting),
            terminal(&u.reason)
        );
    }
    if unevaluated.len() > SHOWN {
        let _ = writeln!(out, "  … and {} more", unevaluated.len() - SHOWN);
    }
}

fn files(n: usize) -> String {
    super::plural(n, "file")
}

/// Wraps the plain sentences of the report (tables already fit) to the width.
fn fit_lines(text: &str, width: u16) -> String {
    let width = usize::from(width);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let boxed = line.starts_with(['┌', '│', '╞', '├', '└', ' ']);
        if boxed || line.chars().count() <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        for (i, part) in wrap(line, width.saturating_sub(2)).iter().enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(part);
            out.push('\n');
        }
    }
    out
}
