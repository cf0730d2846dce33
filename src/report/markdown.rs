//! Markdown for a pull-request or merge-request comment: the verdict, the counts, new against
//! the baseline, and the findings grouped by rule in collapsible `<details>` blocks, with links
//! to the lines on GitHub when the workflow's variables are set. The comment always stays below
//! GitHub's limit of 65,536 characters: findings that do not fit are counted instead.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::sarif::Locator;
use super::summarize;
use crate::engine::Rule;
use crate::finding::{Finding, Severity};
use crate::knowledge::KnowledgeBase;
use crate::scan::ScanResult;
use crate::store::Item;

/// GitHub's limit for a comment body, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// Findings listed per rule before the rest of that rule is only counted.
const PER_RULE: usize = 25;

/// Room kept free for the closing lines.
const RESERVE: usize = 400;

/// Longest text of one cell, in characters, before it is cut.
const CELL: usize = 600;

/// `text` cut to `CELL` characters, with an ellipsis when cut.
fn clip(text: &str) -> String {
    match text.char_indices().nth(CELL) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Where file links point: `{server}/{repository}/blob/{sha}/{path}#L{line}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Links {
    pub server: String,
    pub repository: String,
    pub sha: String,
}

impl Links {
    /// From `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY` and `GITHUB_SHA`, when all three are set.
    pub fn from_env() -> Option<Links> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Some(Links {
            server: var("GITHUB_SERVER_URL")?.trim_end_matches('/').to_string(),
            repository: var("GITHUB_REPOSITORY")?,
            sha: var("GITHUB_SHA")?,
        })
    }

    fn url(&self, path: &str, line: u32) -> String {
        format!(
            "{}/{}/blob/{}/{}#L{line}",
            self.server,
            self.repository,
            self.sha,
            super::sarif::encode_path(path)
        )
    }
}

/// What the comment is made of.
pub struct Page<'a> {
    pub result: &'a ScanResult,
    pub kb: &'a KnowledgeBase,
    pub locator: &'a Locator,
    /// The gate's sentence (`3 findings at or above high: exit 1`).
    pub verdict: &'a str,
    pub passed: bool,
    pub links: Option<Links>,
    /// The rules the scan ran, for the framework view.
    pub rules: &'a [Rule],
}

/// Text from scanned files made inert: no HTML, no Markdown markup, no table breaks, no
/// `@mentions`.
pub fn escape(text: &str) -> String {
    super::escape_markup(text, |c, out| match c {
        '\n' | '\r' | '\t' => out.push(' '),
        // A word joiner after `@` keeps GitHub from notifying a user or team.
        '@' => out.push_str("@\u{2060}"),
        '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '|' | '~' | '#' | '!' | '{' | '}' => {
            out.push('\\');
            out.push(c);
        }
        c if c.is_control() => {}
        c => out.push(c),
    })
}

/// The open findings by category and severity, and how many of them are new against the
/// baseline: one pass over the findings.
struct Counts {
    /// Per row of the table (all, then each category), per severity most severe first.
    cells: [[usize; Severity::ALL.len()]; 4],
    new: usize,
}

const CATEGORIES: [Option<&str>; 4] = [None, Some("residency"), Some("gdpr"), Some("hyperscaler")];

impl Counts {
    fn of(result: &ScanResult) -> Self {
        let mut counts = Counts {
            cells: [[0; Severity::ALL.len()]; 4],
            new: 0,
        };
        for f in result.findings.iter().filter(|f| f.is_active()) {
            counts.new += usize::from(f.baseline.is_some());
            let Some(column) = Severity::ALL.iter().position(|s| *s == f.severity) else {
                continue;
            };
            for (row, category) in CATEGORIES.iter().enumerate() {
                if category.is_none_or(|c| f.category.as_str() == c) {
                    counts.cells[row][column] += 1;
                }
            }
        }
        counts
    }
}

fn count_table(out: &mut String, counts: &Counts) {
    out.push_str("| | critical | high | medium | low | info |\n|---|---:|---:|---:|---:|---:|\n");
    for (category, row) in CATEGORIES.iter().zip(&counts.cells) {
        let _ = write!(out, "| {} |", category.unwrap_or("**total**"));
        for n in row {
            let _ = write!(out, " {n} |");
        }
        out.push('\n');
    }
}

/// The place of the framework view (controls each finding gives evidence for), when the
/// report carries one; nothing until then.
/// Per framework, how many of its controls have findings, in one collapsible table.
fn framework_section(page: &Page) -> Option<String> {
    let ran: BTreeSet<String> = page.rules.iter().map(|r| r.id.clone()).collect();
    let views = crate::frameworks::view(&page.result.findings, &ran);
    if views.is_empty() {
        return None;
    }
    let mut out = String::from(
        "<details><summary><b>Framework controls</b></summary>\n\n| framework | control | status | findings |\n|---|---|---|---|\n",
    );
    for fw in &views {
        for c in &fw.controls {
            let _ = writeln!(
                out,
                "| {} | {} {} | {} | {} |",
                escape(&fw.label),
                escape(&c.id),
                escape(&c.title),
                c.status.as_str(),
                c.findings.len()
            );
        }
    }
    out.push_str("\n</details>\n\n");
    Some(out)
}

/// The open findings of one rule: how many, the most severe, and the first `PER_RULE` in the
/// order they are listed (most severe first, then in report order).
struct Group<'a> {
    len: usize,
    worst: Severity,
    first: Vec<Item<'a>>,
}

/// Open findings grouped by rule, most severe rule first: one pass over the findings that
/// keeps only what the comment can show of each rule.
fn groups(result: &ScanResult) -> Vec<Group<'_>> {
    let mut by_rule: BTreeMap<String, Group> = BTreeMap::new();
    for f in result.findings.iter().filter(|f| f.is_active()) {
        if !by_rule.contains_key(&*f.rule_id) {
            let group = Group {
                len: 0,
                worst: f.severity,
                first: Vec::new(),
            };
            by_rule.insert(f.rule_id.to_string(), group);
        }
        let Some(group) = by_rule.get_mut(&*f.rule_id) else {
            continue;
        };
        group.len += 1;
        group.worst = group.worst.max(f.severity);
        let at = group.first.partition_point(|g| g.severity >= f.severity);
        if at < PER_RULE {
            group.first.insert(at, f);
            group.first.truncate(PER_RULE);
        }
    }
    let mut groups: Vec<Group> = by_rule.into_values().collect();
    // Stable: rules of one severity stay in the order of their ids.
    groups.sort_by_key(|g| std::cmp::Reverse(g.worst));
    groups
}

fn row(page: &Page, f: &Finding) -> String {
    let path = super::repo_path(page.locator, &f.location.path);
    let place = format!("{}:{}", escape(&clip(&path)), f.location.start_line);
    let place = match &page.links {
        Some(links) if f.location.path.as_ref() != "-" => {
            format!("[{place}]({})", links.url(&path, f.location.start_line))
        }
        _ => place,
    };
    format!(
        "| {} | {place} | {} | {} |\n",
        f.severity,
        escape(&clip(&f.resource.address)),
        escape(&clip(&f.message))
    )
}

pub fn render(page: &Page) -> String {
    let result = page.result;
    let summary = summarize(result, page.kb);
    let mut out = String::from("## sovscan\n\n");
    let mark = if page.passed { "Passed" } else { "Failed" };
    let _ = writeln!(out, "**{mark}:** {}\n", escape(page.verdict));
    let counts = Counts::of(result);
    count_table(&mut out, &counts);
    out.push('\n');
    if let (Some(accepted), Some(fixed)) = (summary.baseline, summary.fixed_since_baseline) {
        let new = counts.new;
        let _ = writeln!(
            out,
            "Against the baseline: **{new} new**, {accepted} accepted, {fixed} fixed.\n"
        );
    }
    use super::plural;
    let mut estate = vec![format!(
        "{} in {}",
        plural(result.estate.resources, "resource"),
        plural(result.files, "file")
    )];
    if let Some(p) = summary.data_in_eu_percent {
        estate.push(format!("data in the EU/EEA: {p}%"));
    }
    if let Some(p) = summary.eu_controlled_percent {
        estate.push(format!("on EU-controlled providers: {p}%"));
    }
    if summary.suppressed > 0 {
        estate.push(format!("{} suppressed", summary.suppressed));
    }
    if !result.errors.is_empty() {
        estate.push(format!("{} inputs not parsed", result.errors.len()));
    }
    if !result.unevaluated.is_empty() {
        estate.push(format!(
            "{} not evaluated (listed in the JSON report)",
            plural(result.unevaluated.len(), "setting")
        ));
    }
    let _ = writeln!(out, "{}.\n", estate.join(" · "));
    if let Some(section) = framework_section(page) {
        out.push_str(&section);
    }
    let mut hidden = 0;
    let mut full = false;
    for group in groups(result) {
        if full {
            hidden += group.len;
            continue;
        }
        let Some(first) = group.first.first() else {
            continue;
        };
        let mut block = format!(
            "<details><summary><b>{}</b> {} — {} ({})</summary>\n\n| severity | location | resource | finding |\n|---|---|---|---|\n",
            escape(&first.rule_id),
            escape(&clip(&first.title)),
            if group.len == 1 {
                "1 finding".to_string()
            } else {
                format!("{} findings", group.len)
            },
            first.severity
        );
        let fix = format!("\nFix: {}\n", escape(&clip(&first.remediation)));
        let close = "\n</details>\n\n";
        // What follows the rows: the count of the rest of the rule, the fix, the closing tag.
        let tail = 40 + fix.len() + close.len();
        if out.len() + block.len() + tail + RESERVE > COMMENT_LIMIT {
            full = true;
            hidden += group.len;
            continue;
        }
        let mut shown = 0;
        for f in &group.first {
            let line = row(page, f);
            if out.len() + block.len() + line.len() + tail + RESERVE > COMMENT_LIMIT {
                full = true;
                break;
            }
            block.push_str(&line);
            shown += 1;
        }
        if shown == 0 {
            hidden += group.len;
            continue;
        }
        if shown < group.len {
            let _ = write!(block, "\n{} more of this rule.\n", group.len - shown);
            hidden += group.len - shown;
        }
        block.push_str(&fix);
        block.push_str(close);
        out.push_str(&block);
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "{hidden} more findings not shown: the full list is in the JSON, SARIF or CSV report.\n"
        );
    }
    let _ = writeln!(
        out,
        "<sub>sovscan {} · knowledge base {}</sub>",
        env!("CARGO_PKG_VERSION"),
        escape(&page.kb.version)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn scanned_text_is_inert() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"
        );
        assert_eq!(escape("a|b\nc"), "a\\|b c");
        assert_eq!(escape("@team"), "@\u{2060}team");
        assert_eq!(escape("[x](javascript:y)"), "\\[x\\]\\(javascript:y\\)");
    }
}
