//! The HTML report: one self-contained page for the reader who files the sovereignty
//! assessment. No external assets and no network; charts are inline SVG drawn here; the
//! findings table is complete in the HTML and a small inline script only adds filters. A
//! Content-Security-Policy allows nothing but the page's own script and style, by hash.
//! Every string from scanned files goes through `escape`. The output is deterministic.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::{Summary, TextOut, summarize};
use crate::engine::Rule;
use crate::finding::Severity;
use crate::frameworks::{FrameworkView, Status};
use crate::knowledge::KnowledgeBase;
use crate::scan::ScanResult;

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// Escapes text for HTML text and for double- or single-quoted attribute values.
pub fn escape(text: &str) -> String {
    super::escape_markup(text, |c, out| match c {
        '\'' => out.push_str("&#39;"),
        c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
        c => out.push(c),
    })
}

/// What the page needs beyond the scan.
pub struct Context<'a> {
    pub rules: &'a [Rule],
    pub profile: &'a str,
    /// The gate's sentence (empty when there is none to show) and whether the gate failed.
    pub verdict: &'a str,
    pub failed: bool,
}

/// Writes the page as it is made; the findings table and the framework sections read the
/// findings from the store as they are written.
pub fn write(
    result: &ScanResult,
    kb: &KnowledgeBase,
    ctx: &Context,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let summary = summarize(result, kb);
    let ran: BTreeSet<String> = ctx.rules.iter().map(|r| r.id.clone()).collect();
    let frameworks = crate::frameworks::view(&result.findings, &ran);
    let mut page = TextOut::new(out);
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; img-src data:; \
         form-action 'none'; base-uri 'none'",
        sha256_base64(STYLE.as_bytes()),
        sha256_base64(SCRIPT.as_bytes())
    );
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"sovscan {version}\">\n\
         <title>sovscan report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        version = env!("CARGO_PKG_VERSION"),
    );
    header(&mut page, result, kb, ctx, &summary);
    contents(&mut page, &frameworks);
    estate(&mut page, &summary);
    findings_table(&mut page, result);
    services(&mut page, result, kb);
    for fw in &frameworks {
        framework_section(&mut page, fw);
    }
    problems(&mut page, result);
    unevaluated(&mut page, result);
    let _ = write!(
        page,
        "<footer><p>sovscan {} · knowledge base {} (checked {}) · profile {}. Framework \
         statuses say what the configuration shows; they are not a certification and no score \
         is computed.</p></footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&kb.version),
        escape(&kb.checked),
        escape(ctx.profile),
    );
    page.finish()
}

fn header(
    page: &mut TextOut,
    result: &ScanResult,
    kb: &KnowledgeBase,
    ctx: &Context,
    summary: &Summary,
) {
    let (verdict, failed) = (ctx.verdict.trim(), ctx.failed);
    let _ = write!(
        page,
        "<header>\n<h1>Sovereignty and GDPR report</h1>\n\
         <p class=\"meta\">Scanned {} files, {} documents, {} resources · profile <b>{}</b> · \
         knowledge base {}</p>\n",
        result.files,
        result.documents,
        result.estate.resources,
        escape(ctx.profile),
        escape(&kb.version),
    );
    if !verdict.is_empty() {
        let _ = writeln!(
            page,
            "<p id=\"verdict\" class=\"verdict {}\">{}</p>",
            if failed { "fail" } else { "pass" },
            escape(verdict)
        );
    }
    page.push_str("<dl class=\"tiles\">\n");
    let tile = |page: &mut TextOut, label: &str, value: String, class: &str| {
        let _ = writeln!(
            page,
            "<div class=\"tile {class}\"><dt>{label}</dt><dd>{value}</dd></div>"
        );
    };
    tile(page, "Findings", summary.findings.to_string(), "");
    for s in Severity::ALL {
        let n = summary.by_severity.get(s.as_str()).copied().unwrap_or(0);
        tile(page, &capitalise(s.as_str()), n.to_string(), s.as_str());
    }
    let pct = |p: Option<u32>| p.map_or("n/a".to_string(), |p| format!("{p} %"));
    tile(
        page,
        "Data in the EU/EEA",
        pct(summary.data_in_eu_percent),
        "share",
    );
    tile(
        page,
        "On EU-controlled providers",
        pct(summary.eu_controlled_percent),
        "share",
    );
    page.push_str("</dl>\n");
    let mut parts = Vec::new();
    if summary.suppressed > 0 {
        parts.push(format!("{} suppressed", summary.suppressed));
    }
    if let Some(n) = summary.baseline {
        parts.push(format!("{n} accepted by the baseline"));
    }
    if let Some(n) = summary.fixed_since_baseline {
        parts.push(format!("{n} fixed since the baseline"));
    }
    if !parts.is_empty() {
        let _ = writeln!(
            page,
            "<p class=\"meta\">Not counted: {}.</p>",
            parts.join(", ")
        );
    }
    page.push_str("</header>\n");
}

fn contents(page: &mut TextOut, frameworks: &[FrameworkView<'_>]) {
    page.push_str(
        "<nav><a href=\"#estate\">Estate</a> <a href=\"#findings\">Findings</a> \
         <a href=\"#services\">Hyperscaler services</a>",
    );
    for fw in frameworks {
        let _ = write!(
            page,
            " <a href=\"#fw-{}\">{}</a>",
            escape(&fw.id),
            escape(&fw.label)
        );
    }
    page.push_str("</nav>\n");
}

fn estate(page: &mut TextOut, summary: &Summary) {
    page.push_str("<section id=\"estate\">\n<h2>Estate</h2>\n<div class=\"charts\">\n");
    let providers: Vec<(String, usize, String)> = summary
        .resources_by_provider
        .iter()
        .map(|p| (p.name.clone(), p.resources, control_class(&p.control)))
        .collect();
    chart(page, "Resources by provider", "chart-provider", &providers);
    let control: Vec<(String, usize, String)> = summary
        .resources_by_control
        .iter()
        .map(|(k, n)| (jurisdiction_label(k), *n, control_class(k)))
        .collect();
    chart(
        page,
        "Resources by jurisdiction of the provider's control",
        "chart-control",
        &control,
    );
    let location: Vec<(String, usize, String)> = summary
        .resources_by_location
        .iter()
        .map(|(k, n)| (jurisdiction_label(k), *n, control_class(k)))
        .collect();
    chart(
        page,
        "Resources by data location",
        "chart-location",
        &location,
    );
    page.push_str("</div>\n</section>\n");
}

fn jurisdiction_label(key: &str) -> String {
    match key {
        "eu" => "EU".into(),
        "eea" => "EEA".into(),
        "adequacy" => "adequacy country".into(),
        "third-country" => "third country".into(),
        other => other.into(),
    }
}

fn control_class(key: &str) -> String {
    match key {
        "eu" | "eea" => "c-eu",
        "adequacy" => "c-adequacy",
        "third-country" => "c-third",
        "-" | "not applicable" => "c-none",
        _ => "c-unknown",
    }
    .into()
}

/// A horizontal bar chart as inline SVG, with the numbers as text (and a table fallback for
/// screen readers in the `<title>`/`<desc>`).
fn chart(page: &mut TextOut, title: &str, id: &str, rows: &[(String, usize, String)]) {
    const WIDTH: usize = 420;
    const LABEL: usize = 170;
    const ROW: usize = 26;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let height = (rows.len().max(1)) * ROW + 8;
    let desc: Vec<String> = rows.iter().map(|(l, n, _)| format!("{l}: {n}")).collect();
    let _ = write!(
        page,
        "<figure id=\"{id}\">\n<figcaption>{}</figcaption>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{WIDTH}\" \
         height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">\n<title>{}</title>\n<desc>{}</desc>\n",
        escape(title),
        escape(title),
        escape(&desc.join("; ")),
    );
    if rows.is_empty() {
        page.push_str("<text x=\"4\" y=\"18\" class=\"label\">no resources</text>\n");
    }
    for (i, (label, n, class)) in rows.iter().enumerate() {
        let y = i * ROW + 4;
        let bar = ((WIDTH - LABEL - 40) * n).div_ceil(max).max(2);
        let _ = writeln!(
            page,
            "<text x=\"{}\" y=\"{}\" class=\"label\" text-anchor=\"end\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{y}\" width=\"{bar}\" height=\"{}\" rx=\"3\" class=\"{}\"/>\
             <text x=\"{}\" y=\"{}\" class=\"value\">{n}</text>",
            LABEL - 6,
            y + 15,
            escape(&truncate(label, 26)),
            ROW - 6,
            escape(class),
            LABEL + bar + 5,
            y + 15,
        );
    }
    page.push_str("</svg>\n</figure>\n");
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The table of every finding: one pass over the findings for the counts and the filter
/// options, one that writes the rows.
fn findings_table(page: &mut TextOut, result: &ScanResult) {
    let (mut shown, mut active) = (0, 0);
    let mut categories: BTreeSet<String> = BTreeSet::new();
    let mut seen = [false; Severity::ALL.len()];
    let mut rules: BTreeSet<String> = BTreeSet::new();
    for f in &result.findings {
        shown += 1;
        active += usize::from(f.is_active());
        if !categories.contains(f.category.as_str()) {
            categories.insert(f.category.as_str().to_string());
        }
        if let Some(i) = Severity::ALL.iter().position(|s| *s == f.severity) {
            seen[i] = true;
        }
        if !rules.contains(&*f.rule_id) {
            rules.insert(f.rule_id.to_string());
        }
    }
    let _ = write!(
        page,
        "<section id=\"findings\">\n<h2>Findings</h2>\n\
         <p id=\"shown\" class=\"meta\">{} findings ({} counted; suppressed and baseline \
         findings are listed with their state)</p>\n",
        shown, active
    );
    // The filters only work with the script; without it they stay hidden and the full table
    // is there to read.
    let options = |values: BTreeSet<String>| -> String {
        values
            .iter()
            .map(|v| format!("<option value=\"{0}\">{0}</option>", escape(v)))
            .collect()
    };
    let severities: Vec<&str> = Severity::ALL
        .iter()
        .zip(seen)
        .filter(|(_, seen)| *seen)
        .map(|(s, _)| s.as_str())
        .collect();
    let _ = write!(
        page,
        "<form id=\"filters\" hidden>\n\
         <label>Category <select name=\"category\"><option value=\"\">all</option>{}</select></label>\n\
         <label>Severity <select name=\"severity\"><option value=\"\">all</option>{}</select></label>\n\
         <label>Rule <select name=\"rule\"><option value=\"\">all</option>{}</select></label>\n\
         <label>File <input name=\"file\" type=\"search\" placeholder=\"path contains\"></label>\n\
         </form>\n",
        options(categories),
        severities
            .iter()
            .map(|v| format!("<option value=\"{v}\">{v}</option>"))
            .collect::<String>(),
        options(rules),
    );
    if shown == 0 {
        page.push_str("<p>No findings.</p>\n</section>\n");
        return;
    }
    page.push_str(
        "<table id=\"findings-table\">\n<thead><tr><th>Severity</th><th>Rule</th>\
         <th>Category</th><th>File</th><th>Resource</th><th>Finding</th></tr></thead>\n<tbody>\n",
    );
    for f in &result.findings {
        let state = if f.is_suppressed() {
            " <span class=\"state\">suppressed</span>"
        } else if f.is_baseline() {
            " <span class=\"state\">baseline</span>"
        } else {
            ""
        };
        let _ = writeln!(
            page,
            "<tr data-category=\"{cat}\" data-severity=\"{sev}\" data-rule=\"{rule}\" \
             data-file=\"{file}\"><td class=\"sev {sev}\">{sev}{state}</td>\
             <td><b>{rule}</b><br><small>{name}</small></td><td>{cat}</td>\
             <td class=\"path\">{file}:{line}</td><td class=\"path\">{resource}</td>\
             <td>{message}<details><summary>fix</summary>{fix}</details></td></tr>",
            cat = escape(f.category.as_str()),
            sev = escape(f.severity.as_str()),
            rule = escape(&f.rule_id),
            name = escape(&f.rule_name),
            file = escape(&f.location.path),
            line = f.location.start_line,
            resource = escape(&f.resource.address),
            message = escape(&f.message),
            fix = escape(f.remediation.trim()),
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

fn services(page: &mut TextOut, result: &ScanResult, kb: &KnowledgeBase) {
    // (provider, service, category) → resources, for services of non-EU-controlled providers.
    let mut groups: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for (provider, services) in &result.estate.services {
        for (service, categories) in services {
            for (category, n) in categories {
                *groups
                    .entry((
                        kb.provider_name(provider).into_owned(),
                        service.clone(),
                        category.clone(),
                    ))
                    .or_default() += n;
            }
        }
    }
    page.push_str(
        "<section id=\"services\">\n<h2>Hyperscaler services and EU alternatives</h2>\n\
         <p class=\"meta\">Services of providers controlled from outside the EU used by the \
         scanned resources, with the EU-controlled and self-hosted options the knowledge base \
         lists for the same kind of service.</p>\n",
    );
    if groups.is_empty() {
        page.push_str(
            "<p>No service of a provider controlled from outside the EU.</p>\n</section>\n",
        );
        return;
    }
    page.push_str(
        "<table>\n<thead><tr><th>Provider</th><th>Service</th><th>Resources</th>\
         <th>EU options</th></tr></thead>\n<tbody>\n",
    );
    for ((provider, service, category), n) in &groups {
        let options = kb
            .alternatives_text(category)
            .unwrap_or_else(|| "none listed".into());
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}<br><small>{}</small></td><td>{n}</td><td>{}</td></tr>",
            escape(provider),
            escape(service),
            escape(&category.replace('_', " ")),
            escape(&options),
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

fn status_class(status: Status) -> &'static str {
    match status {
        Status::NoFinding => "st-ok",
        Status::Findings => "st-findings",
        Status::NotAssessable => "st-na",
        Status::NotRun => "st-notrun",
    }
}

fn framework_section(page: &mut TextOut, fw: &FrameworkView<'_>) {
    let _ = write!(
        page,
        "<section id=\"fw-{}\" class=\"framework\">\n<h2>{} <small>{}</small></h2>\n\
         <p class=\"meta\">{}</p>\n<p class=\"meta\">{} controls with findings, {} without, \
         {} not assessable from configuration{}.</p>\n",
        escape(&fw.id),
        escape(&fw.name),
        escape(&fw.edition),
        escape(&fw.note),
        fw.count(Status::Findings),
        fw.count(Status::NoFinding),
        fw.count(Status::NotAssessable),
        match fw.count(Status::NotRun) {
            0 => String::new(),
            n => format!(", {n} not assessed (rules not run)"),
        },
    );
    page.push_str(
        "<table>\n<thead><tr><th>Control</th><th>Status</th><th>Evidence</th></tr></thead>\n\
         <tbody>\n",
    );
    for c in &fw.controls {
        let _ = write!(
            page,
            "<tr><td><b>{}</b><br>{}</td><td class=\"status {}\">{}</td><td>",
            escape(&c.id),
            escape(&c.title),
            status_class(c.status),
            escape(c.status.as_str()),
        );
        if c.findings.is_empty() {
            if !c.rules.is_empty() {
                let _ = write!(
                    page,
                    "<small>rules: {}</small>",
                    escape(&c.rules.join(", "))
                );
            }
        } else {
            let counts: Vec<String> = c
                .findings
                .by_rule()
                .iter()
                .map(|(r, n)| format!("{r} ×{n}"))
                .collect();
            let _ = write!(
                page,
                "<details><summary>{} finding{}: {}</summary><ul>",
                c.findings.len(),
                if c.findings.len() == 1 { "" } else { "s" },
                escape(&counts.join(", "))
            );
            c.findings.for_each(|f| {
                let _ = write!(
                    page,
                    "<li><span class=\"sev {sev}\">{sev}</span> {} <span class=\"path\">{}:{}</span> {}</li>",
                    escape(f.rule_id()),
                    escape(f.path()),
                    f.line(),
                    escape(f.resource()),
                    sev = escape(f.severity().as_str()),
                );
            });
            page.push_str("</ul></details>");
        }
        page.push_str("</td></tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
    if !fw.levels.is_empty() {
        page.push_str(
            "<h3>Assurance levels (SEAL)</h3>\n<p class=\"meta\">Findings of these rules stand \
             in the way of a level and of every level above it, as read from the published \
             level definitions. The scan rates no provider; a level without findings here may \
             still be out of reach for reasons configuration does not show.</p>\n\
             <table>\n<thead><tr><th>Level</th><th>Findings in the way</th><th>Rules</th>\
             <th>Why</th></tr></thead>\n<tbody>\n",
        );
        for l in &fw.levels {
            let _ = writeln!(
                page,
                "<tr><td><b>{}</b><br>{}</td><td class=\"status {}\">{}</td><td><small>{}</small></td><td>{}</td></tr>",
                escape(&l.id),
                escape(&l.title),
                if l.findings > 0 {
                    "st-findings"
                } else {
                    "st-ok"
                },
                l.findings,
                escape(&l.blocked_by.join(", ")),
                escape(&l.why),
            );
        }
        page.push_str("</tbody>\n</table>\n");
    }
    page.push_str("</section>\n");
}

fn problems(page: &mut TextOut, result: &ScanResult) {
    if result.errors.is_empty() && result.skipped.is_empty() {
        return;
    }
    page.push_str("<section id=\"problems\">\n<h2>Inputs not read</h2>\n<ul>\n");
    for e in &result.errors {
        let _ = writeln!(page, "<li class=\"path\">{}</li>", escape(&e.to_string()));
    }
    for s in &result.skipped {
        let _ = writeln!(
            page,
            "<li class=\"path\">{}: {}</li>",
            escape(&s.path),
            escape(&s.reason)
        );
    }
    page.push_str("</ul>\n</section>\n");
}

/// Settings no rule could judge: their values are decided at deployment.
fn unevaluated(page: &mut TextOut, result: &ScanResult) {
    if result.unevaluated.is_empty() {
        return;
    }
    page.push_str("<section id=\"unevaluated\">\n<h2>Settings not evaluated</h2>\n<ul>\n");
    for u in &result.unevaluated {
        let _ = writeln!(
            page,
            "<li class=\"path\">{}:{} {} {}: {}</li>",
            escape(&u.path),
            u.line,
            escape(&u.resources.join(", ")),
            escape(&u.setting),
            with_code(&u.reason)
        );
    }
    page.push_str("</ul>\n</section>\n");
}

/// A text with `code` spans, escaped, each span as `<code>`.
fn with_code(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", escape(part));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

/// SHA-256 of `data`, base64-encoded, as a Content-Security-Policy source hash needs it.
pub fn sha256_base64(data: &[u8]) -> String {
    base64(&sha256(data))
}

fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bits.to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attribute_contexts() {
        assert_eq!(
            escape("<script>alert(\"x\")</script> & 'y'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn sha256_matches_known_vectors() {
        // FIPS 180-2 test vectors.
        assert_eq!(
            sha256_base64(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        assert_eq!(
            sha256_base64(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        let long = vec![b'a'; 1000];
        assert_eq!(sha256(&long).len(), 32);
        assert_eq!(base64(b"ab"), "YWI=");
    }
}
