//! CSV: one row per finding (suppressed and baseline ones too, with their state), RFC 4180
//! quoting, and cells that a spreadsheet would read as a formula defused with a leading `'`.

use super::TextOut;
use super::sarif::Locator;
use crate::finding::Finding;
use crate::scan::ScanResult;

const HEADER: [&str; 15] = [
    "severity",
    "rule_id",
    "rule_name",
    "category",
    "path",
    "line",
    "column",
    "resource",
    "kind",
    "name",
    "message",
    "remediation",
    "state",
    "fingerprint",
    "references",
];

/// The state a finding is reported in: `open`, `suppressed` or `baseline`.
pub fn state(f: &Finding) -> &'static str {
    if f.is_suppressed() {
        "suppressed"
    } else if f.is_baseline() {
        "baseline"
    } else {
        "open"
    }
}

/// One RFC 4180 field. A value that begins with `=`, `+`, `-`, `@` (or a tab or carriage
/// return, which some spreadsheets skip before such a sign) gets a leading `'` so it is shown
/// as text, never evaluated; a field with a comma, quote or line break is quoted, quotes doubled.
pub fn field(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

fn row(out: &mut TextOut, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push_str(",");
        }
        out.push_str(&field(cell));
    }
    // RFC 4180 ends every record with CRLF.
    out.push_str("\r\n");
}

/// Writes the rows as the findings are read from the store.
pub fn write(
    result: &ScanResult,
    locator: &Locator,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut out = TextOut::new(out);
    row(&mut out, &HEADER);
    for f in &result.findings {
        let path = super::repo_path(locator, &f.location.path);
        let line = f.location.start_line.to_string();
        let column = f.location.start_column.to_string();
        let references = f.references.join(" ");
        row(
            &mut out,
            &[
                f.severity.as_str(),
                &f.rule_id,
                &f.rule_name,
                f.category.as_str(),
                &path,
                &line,
                &column,
                &f.resource.address,
                &f.resource.kind,
                &f.resource.name,
                &f.message,
                &f.remediation,
                state(&f),
                &f.fingerprint,
                &references,
            ],
        );
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn quotes_and_defuses() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("+1"), "'+1");
        assert_eq!(field("-2"), "'-2");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("a=b"), "a=b");
        assert_eq!(field(""), "");
    }
}
