//! JUnit XML (the Ant/Jenkins `junit-10.xsd` shape, read by Jenkins, GitLab, Azure DevOps and
//! most CI servers): one `<testsuite>` per rule run, one `<testcase>` per rule × resource the
//! rule reads (and per place a finding points to outside a resource), a `<failure>` per
//! finding, `<skipped>` for findings that are suppressed or accepted by the baseline.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;
use std::sync::Arc;

use rayon::slice::ParallelSliceMut;

use super::TextOut;
use super::sarif::Locator;
use crate::engine::Rule;
use crate::estate::{Id, Listing};
use crate::load::Format;
use crate::scan::ScanResult;
use crate::spill::{Spill, Text};
use crate::store::Item;

/// Text for XML 1.0 content and attribute values: markup characters as entities, line breaks
/// kept as character references in attributes, characters XML cannot carry replaced. Most
/// addresses and paths need none of it, and are given back as they are.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.bytes().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(super::escape_markup(text, |c, out| match c {
        '\'' => out.push_str("&apos;"),
        '\n' => out.push_str("&#10;"),
        '\r' => out.push_str("&#13;"),
        '\t' => out.push_str("&#9;"),
        c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
        c => out.push(c),
    }))
}

/// Whether a byte may start something `escape` changes: markup, a control character, or the
/// first byte of a character from U+F000 (U+FFFE and U+FFFF among them).
fn needs_escape(b: u8) -> bool {
    b < 0x20 || matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | 0xEF)
}

/// Where each rule's findings lie in the store, from one pass over it: the testcases of a
/// rule are written by path and resource while the store gives the findings by place, and
/// these runs say how to read them in that order.
#[derive(Default)]
struct Runs {
    /// The path of each file with findings, as the report shows it.
    paths: Vec<String>,
    /// Per rule id: the files of its findings, one entry per run of findings in one file,
    /// in store order.
    of_rule: HashMap<String, Vec<Run>>,
}

/// Findings of one rule in one file, one after another in the store.
struct Run {
    /// The index of the file in `Runs::paths`.
    file: usize,
    findings: usize,
    /// The bytes of their addresses.
    bytes: usize,
}

impl Runs {
    fn of(result: &ScanResult, locator: &Locator) -> Self {
        let mut runs = Runs::default();
        // The store names each path with one shared string.
        let mut index: HashMap<Arc<str>, usize> = HashMap::new();
        let mut last: Option<(Arc<str>, usize)> = None;
        // Per rule: the file of its last finding.
        let mut current: HashMap<Arc<str>, usize> = HashMap::new();
        for f in result.findings.listed(None) {
            let path = match &last {
                Some((path, i)) if **path == *f.path => *i,
                _ => {
                    let i = match index.get(&*f.path) {
                        Some(i) => *i,
                        None => {
                            runs.paths.push(super::repo_path(locator, &f.path));
                            index.insert(Arc::clone(&f.path), runs.paths.len() - 1);
                            runs.paths.len() - 1
                        }
                    };
                    last = Some((Arc::clone(&f.path), i));
                    i
                }
            };
            let run = Run {
                file: path,
                findings: 1,
                bytes: f.address.len(),
            };
            if current.get(&*f.rule_id) == Some(&path) {
                if let Some(last) = runs.of_rule.get_mut(&*f.rule_id).and_then(|l| l.last_mut()) {
                    last.findings += 1;
                    last.bytes += run.bytes;
                }
                continue;
            }
            current.insert(Arc::clone(&f.rule_id), path);
            match runs.of_rule.get_mut(&*f.rule_id) {
                Some(list) => list.push(run),
                None => {
                    runs.of_rule.insert(f.rule_id.to_string(), vec![run]);
                }
            }
        }
        runs
    }

    /// How to read the findings of `rule` by path: the passes over the rule's findings, each
    /// taking some runs in store order, that together give the runs in path order.
    fn plan(&self, rule: &str) -> Plan<'_> {
        let files = self.of_rule.get(rule).map_or(&[][..], Vec::as_slice);
        let path = |run: usize| self.paths[files[run].file].as_str();
        let mut order: Vec<usize> = (0..files.len()).collect();
        order.sort_by(|a, b| path(*a).cmp(path(*b)));
        let mut plan = Plan {
            groups: Vec::new(),
            group_of_run: vec![0; files.len()],
            passes: 0,
        };
        let mut previous: Option<usize> = None;
        for run in order {
            let same_path = previous.is_some_and(|p| path(p) == path(run));
            if !same_path {
                // A run that comes before the last one in the store starts another pass.
                let pass = match (previous, plan.groups.last()) {
                    (Some(p), Some(g)) if run < p => g.pass + 1,
                    (_, Some(g)) => g.pass,
                    _ => 0,
                };
                plan.groups.push(Group {
                    path: path(run),
                    pass,
                    findings: 0,
                    bytes: 0,
                });
                plan.passes = pass + 1;
            }
            if let Some(group) = plan.groups.last_mut() {
                group.findings += files[run].findings;
                group.bytes += files[run].bytes;
            }
            plan.group_of_run[run] = plan.groups.len() - 1;
            previous = Some(run);
        }
        plan
    }
}

/// The passes over one rule's findings that give its runs in path order.
struct Plan<'a> {
    /// The runs of one path, in path order.
    groups: Vec<Group<'a>>,
    group_of_run: Vec<usize>,
    passes: usize,
}

struct Group<'a> {
    path: &'a str,
    /// The pass that reads the group's runs.
    pass: usize,
    /// The findings of its runs, and the bytes of their addresses.
    findings: usize,
    bytes: usize,
}

/// The scan's resources in report order (their path as the report shows it, then address):
/// the cases of a rule that found nothing in them.
struct Resources {
    listed: Listing,
    /// Per path of the listing, as the report shows it.
    shown: Vec<String>,
    /// The resources in report order.
    order: Vec<Id>,
    /// The format of each, in report order: most rules read one or two formats.
    formats: Vec<Format>,
}

impl Resources {
    fn of(listed: Listing, locator: &Locator) -> Self {
        let shown: Vec<String> = listed
            .paths()
            .iter()
            .map(|path| super::repo_path(locator, path))
            .collect();
        let mut order: Vec<Id> = Vec::with_capacity(listed.len());
        order.extend(listed.ids());
        order.par_sort_unstable_by(|&a, &b| {
            let (a, b) = (listed.get(a), listed.get(b));
            (shown[a.file].as_str(), a.address, a.format, a.name).cmp(&(
                shown[b.file].as_str(),
                b.address,
                b.format,
                b.name,
            ))
        });
        let formats = order.iter().map(|&id| listed.get(id).format).collect();
        Resources {
            listed,
            shown,
            order,
            formats,
        }
    }

    /// The resources `rule` reads, in report order, each once: (path, address).
    fn of_rule<'r>(&'r self, rule: &'r Rule) -> impl Iterator<Item = (&'r str, &'r str)> + 'r {
        let read: Vec<Format> = rule
            .applies_to
            .iter()
            .filter_map(|f| Format::parse(f))
            .collect();
        let mut last: Option<(&str, &str)> = None;
        self.order
            .iter()
            .zip(&self.formats)
            .filter_map(move |(&id, format)| {
                if !read.contains(format) {
                    return None;
                }
                let r = self.listed.get(id);
                let here = (self.shown[r.file].as_str(), r.address);
                (last != Some(here)).then(|| {
                    last = Some(here);
                    here
                })
            })
    }
}

/// A finding as the cases are made from it: a whole finding, or the fields a listing reads.
trait Found {
    fn path(&self) -> &Arc<str>;
    fn address(&self) -> &str;
    fn line(&self) -> u32;
    fn is_active(&self) -> bool;
}

impl Found for Item<'_> {
    fn path(&self) -> &Arc<str> {
        &self.location.path
    }
    fn address(&self) -> &str {
        &self.resource.address
    }
    fn line(&self) -> u32 {
        self.location.start_line
    }
    fn is_active(&self) -> bool {
        crate::finding::Finding::is_active(self)
    }
}

impl Found for crate::store::Listed {
    fn path(&self) -> &Arc<str> {
        &self.path
    }
    fn address(&self) -> &str {
        &self.address
    }
    fn line(&self) -> u32 {
        self.line
    }
    fn is_active(&self) -> bool {
        crate::store::Listed::is_active(self)
    }
}

/// What a testcase keeps of its findings, in report order.
#[derive(Default)]
struct Case {
    /// The line of its first finding.
    line: u32,
    findings: usize,
    /// Whether a finding is neither suppressed nor in the baseline: the case fails.
    failed: bool,
    /// Where each finding's text lies in the `Spill`, when the cases are written: its
    /// `<failure>` element when it is active (`true`), the reason it is accepted when not.
    texts: Vec<(Text, bool)>,
}

/// The findings of one rule in one file, in store order: each finding's address lies in one
/// text. A file may hold hundreds of thousands of resources (an AWS Config snapshot): a
/// finding costs its address and a few words here, not a map entry and a case of its own, and
/// the room for a file's findings is taken at once, as their count is known (`Group`).
#[derive(Default)]
struct Hits {
    addresses: String,
    hits: Vec<Hit>,
    /// The hits in address order, as `cases` gives them.
    order: Vec<usize>,
}

struct Hit {
    /// Where its address lies in `addresses`.
    start: usize,
    /// Where its text lies in the `Spill`, when `keep` gave one.
    text_start: u64,
    len: u32,
    line: u32,
    text_len: u32,
    active: bool,
    text: bool,
}

impl Hits {
    /// Room for the findings of a group, in buffers that fit them.
    fn make_room(&mut self, group: &Group) {
        if self.hits.capacity() < group.findings {
            self.hits = Vec::with_capacity(group.findings);
            self.order = Vec::with_capacity(group.findings);
        }
        if self.addresses.capacity() < group.bytes {
            self.addresses = String::with_capacity(group.bytes);
        }
    }

    fn push(
        &mut self,
        address: &str,
        line: u32,
        active: bool,
        text: Option<Text>,
    ) -> io::Result<()> {
        let too_long = || io::Error::other("a finding's text or address is longer than 4 GiB");
        let start = self.addresses.len();
        self.addresses.push_str(address);
        let (text_start, text_len) = match text {
            Some(t) => (t.start, u32::try_from(t.len).map_err(|_| too_long())?),
            None => (0, 0),
        };
        self.hits.push(Hit {
            start,
            text_start,
            len: u32::try_from(address.len()).map_err(|_| too_long())?,
            line,
            text_len,
            active,
            text: text.is_some(),
        });
        Ok(())
    }

    fn address(&self, hit: &Hit) -> &str {
        &self.addresses[hit.start..hit.start + hit.len as usize]
    }

    /// The cases of the findings, by address, each with its findings in store order; empties
    /// the hits.
    fn cases(&mut self, mut each: impl FnMut(&str, &Case) -> io::Result<()>) -> io::Result<()> {
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        order.extend(0..self.hits.len());
        // Stable: the findings of one address stay in store order.
        order.sort_by(|&a, &b| self.address(&self.hits[a]).cmp(self.address(&self.hits[b])));
        let mut at = 0;
        let mut case = Case::default();
        while at < order.len() {
            let first = &self.hits[order[at]];
            let address = self.address(first);
            case.line = first.line;
            case.findings = 0;
            case.failed = false;
            case.texts.clear();
            while let Some(hit) = order.get(at).map(|&i| &self.hits[i])
                && self.address(hit) == address
            {
                case.findings += 1;
                case.failed |= hit.active;
                if hit.text {
                    let text = Text {
                        start: hit.text_start,
                        len: hit.text_len as usize,
                    };
                    case.texts.push((text, hit.active));
                }
                at += 1;
            }
            each(address, &case)?;
        }
        self.order = order;
        self.addresses.clear();
        self.hits.clear();
        Ok(())
    }
}

/// Calls `case` for every testcase of `rule` in order (path, then resource address): the
/// resources the rule reads, and the places its findings point to. `read` gives the rule's
/// findings in store order; `keep` keeps what the case needs of each. Holds what is kept of
/// the findings of one rule in one file at a time, and calls `done` when its cases are
/// written.
fn cases<T: Found, I: Iterator<Item = T>>(
    rule: &Rule,
    resources: &Resources,
    plan: &Plan,
    read: impl Fn() -> I,
    mut keep: impl FnMut(&str, &T) -> io::Result<Option<Text>>,
    mut case: impl FnMut(&str, &str, &Case) -> io::Result<()>,
    mut done: impl FnMut(),
) -> io::Result<()> {
    let none = Case::default();
    let mut resources = resources.of_rule(rule).peekable();
    // The findings of one path.
    let mut file = Hits::default();
    let mut flush = |path: &str,
                     file: &mut Hits,
                     case: &mut dyn FnMut(&str, &str, &Case) -> io::Result<()>|
     -> io::Result<()> {
        file.cases(|address, found| {
            while let Some(r) = resources.next_if(|r| *r < (path, address)) {
                case(r.0, r.1, &none)?;
            }
            resources.next_if(|r| *r == (path, address));
            case(path, address, found)
        })?;
        done();
        Ok(())
    };
    for pass in 0..plan.passes {
        let mut run = None::<usize>;
        let mut last_path: Option<Arc<str>> = None;
        let mut group = None::<usize>;
        for f in read() {
            if last_path.as_ref() != Some(f.path()) {
                run = Some(run.map_or(0, |r| r + 1));
                last_path = Some(Arc::clone(f.path()));
            }
            let Some(g) = run.and_then(|r| plan.group_of_run.get(r)).copied() else {
                continue;
            };
            if plan.groups[g].pass != pass {
                continue;
            }
            if group != Some(g) {
                if let Some(current) = group {
                    flush(plan.groups[current].path, &mut file, &mut case)?;
                }
                file.make_room(&plan.groups[g]);
            }
            group = Some(g);
            let text = keep(plan.groups[g].path, &f)?;
            file.push(f.address(), f.line(), f.is_active(), text)?;
        }
        if let Some(current) = group {
            flush(plan.groups[current].path, &mut file, &mut case)?;
        }
    }
    for r in resources {
        case(r.0, r.1, &none)?;
    }
    Ok(())
}

/// The text a finding adds to its case: its `<failure>` element when it is active, the
/// reason it is accepted when it is not.
fn finding_text(path: &str, f: &Item) -> String {
    if f.is_active() {
        return format!(
            "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
            escape(&f.message),
            f.severity.as_str(),
            escape(&format!(
                "{path}:{}:{} {} {}\n{}\nFix: {}",
                f.location.start_line,
                f.location.start_column,
                f.severity,
                f.rule_id,
                f.message,
                f.remediation
            )),
        );
    }
    match &f.suppression {
        Some(s) => match &s.reason {
            Some(reason) => format!("suppressed ({}): {reason}", s.kind),
            None => format!("suppressed ({})", s.kind),
        },
        None => "accepted by the baseline".to_string(),
    }
}

/// What the testcases of one suite share, escaped once: the class name, and the path of the
/// cases last written.
struct Shared {
    classname: String,
    path: String,
    file: String,
}

impl Shared {
    fn new(rule: &Rule) -> Self {
        Shared {
            classname: escape(&format!("{}.{}", rule.id, rule.name)).into_owned(),
            path: String::new(),
            file: String::new(),
        }
    }

    fn file(&mut self, path: &str) -> &str {
        if self.path != path {
            self.path.replace_range(.., path);
            self.file = escape(path).into_owned();
        }
        &self.file
    }
}

fn testcase(
    out: &mut TextOut,
    shared: &mut Shared,
    path: &str,
    address: &str,
    case: &Case,
    spill: &mut Spill,
) -> io::Result<()> {
    out.push_str("    <testcase name=\"");
    out.push_str(&escape(address));
    out.push_str("\" classname=\"");
    out.push_str(&shared.classname);
    out.push_str("\" file=\"");
    out.push_str(shared.file(path));
    out.push_str("\"");
    if case.findings > 0 {
        let _ = write!(out, " line=\"{}\"", case.line);
    }
    out.push_str(" time=\"0\"");
    if case.findings == 0 {
        out.push_str("/>\n");
        return Ok(());
    }
    out.push_str(">\n");
    // Cases come in address order, their texts were spilled in line order: each is read alone.
    if case.failed {
        for &(text, _) in case.texts.iter().filter(|(_, active)| *active) {
            out.push_str(&String::from_utf8_lossy(spill.read(text, false)?));
        }
    } else {
        // A case whose every finding is accepted is reported as skipped, with the reasons.
        let mut reasons = String::new();
        for (i, &(text, _)) in case.texts.iter().enumerate() {
            if i > 0 {
                reasons.push_str("; ");
            }
            reasons.push_str(&String::from_utf8_lossy(spill.read(text, false)?));
        }
        let _ = writeln!(out, "      <skipped message=\"{}\"/>", escape(&reasons));
    }
    out.push_str("    </testcase>\n");
    Ok(())
}

/// The counts of one rule's suite.
#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    skipped: usize,
}

/// Writes the suites as the findings are read from the store. The counts of every suite
/// come first, in the opening tags: one pass over the store finds where each rule's findings
/// lie, then each rule with findings is read twice, to count its cases and to write them.
pub fn write(
    result: &ScanResult,
    rules: &[Rule],
    locator: &Locator,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut rules: Vec<&Rule> = rules.iter().collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    // Made on the worker threads, side by side: their heaps hold what the units they scanned
    // freed, which the main thread's heap would not reuse.
    let phase = crate::timing::phase("JUnit: runs of findings and resources in order");
    let (runs, resources) = rayon::join(
        || Runs::of(result, locator),
        || Ok::<_, io::Error>(Resources::of(result.listed.load()?, locator)),
    );
    let resources = resources?;
    drop(phase);
    let phase = crate::timing::phase("JUnit: counts");
    let plans: Vec<Plan> = rules.iter().map(|rule| runs.plan(&rule.id)).collect();
    // The counts come from the listings of the findings, which read fewer fields.
    let counts = rules
        .iter()
        .zip(&plans)
        .map(|(rule, plan)| {
            let mut counts = Counts::default();
            let ids = [rule.id.as_str()];
            cases(
                rule,
                &resources,
                plan,
                || result.findings.listed(Some(&ids)),
                |_, _| Ok(None),
                |_, _, case| {
                    counts.tests += 1;
                    if case.failed {
                        counts.failures += 1;
                    } else if case.findings > 0 {
                        counts.skipped += 1;
                    }
                    Ok(())
                },
                || (),
            )?;
            Ok(counts)
        })
        .collect::<io::Result<Vec<Counts>>>()?;
    drop(phase);
    let _phase = crate::timing::phase("JUnit: suites");
    let errors = result.errors.len();
    let tests = counts.iter().map(|c| c.tests).sum::<usize>() + errors;
    let failures: usize = counts.iter().map(|c| c.failures).sum();
    let skipped: usize = counts.iter().map(|c| c.skipped).sum();
    let mut out = TextOut::new(out);
    let _ = writeln!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sovscan\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"0\">",
    );
    for (i, ((rule, plan), counts)) in rules.iter().zip(&plans).zip(&counts).enumerate() {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" id=\"{i}\" package=\"sovscan.{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"0\">",
            escape(&format!("{} {}", rule.id, rule.name)),
            rule.category.as_str(),
            counts.tests,
            counts.failures,
            counts.skipped,
        );
        let _ = writeln!(
            out,
            "    <properties>\n      <property name=\"severity\" value=\"{}\"/>\n      <property name=\"title\" value=\"{}\"/>\n    </properties>",
            rule.severity,
            escape(&rule.title)
        );
        let ids = [rule.id.as_str()];
        let spill = std::cell::RefCell::new(Spill::new(crate::store::budget()));
        let mut shared = Shared::new(rule);
        cases(
            rule,
            &resources,
            plan,
            || result.findings.of_rules(&ids),
            |path, f| {
                let text = finding_text(path, f);
                spill.borrow_mut().push(text.as_bytes()).map(Some)
            },
            |path, address, case| {
                let spill = &mut spill.borrow_mut();
                testcase(&mut out, &mut shared, path, address, case, spill)
            },
            || spill.borrow_mut().clear(),
        )?;
        out.push_str("  </testsuite>\n");
    }
    // Inputs that could not be read or parsed are errors of a suite of their own.
    if !result.errors.is_empty() {
        let _ = writeln!(
            out,
            "  <testsuite name=\"inputs\" id=\"{}\" package=\"sovscan\" tests=\"{n}\" failures=\"0\" errors=\"{n}\" skipped=\"0\" time=\"0\">",
            rules.len(),
            n = result.errors.len()
        );
        for e in &result.errors {
            let path = super::repo_path(locator, &e.path);
            let _ = writeln!(
                out,
                "    <testcase name=\"{p}\" classname=\"inputs\" file=\"{p}\" time=\"0\">\n      <error message=\"{r}\" type=\"parse\">{p}:{}:{} {r}</error>\n    </testcase>",
                e.line,
                e.column,
                p = escape(&path),
                r = escape(&e.reason),
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::{Group, Hits, Text, escape};

    #[test]
    fn hits_give_one_case_per_address_in_address_order_with_findings_in_store_order() {
        // What the module's documentation says a finding costs besides its address.
        assert_eq!(std::mem::size_of::<super::Hit>(), 32);
        let mut hits = Hits::default();
        hits.make_room(&Group {
            path: "a.json",
            pass: 0,
            findings: 4,
            bytes: 4,
        });
        let text = |start| Some(Text { start, len: 1 });
        for (address, line, active, start) in [
            ("b", 9, false, 0),
            ("a", 5, true, 1),
            ("b", 3, true, 2),
            ("c", 1, false, 3),
        ] {
            hits.push(address, line, active, text(start)).unwrap();
        }
        let mut cases = Vec::new();
        hits.cases(|address, case| {
            let texts: Vec<(u64, bool)> = case.texts.iter().map(|(t, a)| (t.start, *a)).collect();
            cases.push((
                address.to_string(),
                case.line,
                case.findings,
                case.failed,
                texts,
            ));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            cases,
            [
                ("a".into(), 5, 1, true, vec![(1, true)]),
                ("b".into(), 9, 2, true, vec![(0, false), (2, true)]),
                ("c".into(), 1, 1, false, vec![(3, false)]),
            ]
        );
        // The hits are spent: the next file starts empty.
        let mut more = 0;
        hits.cases(|_, _| {
            more += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(more, 0);
    }

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &apos;b&apos;&lt;/script&gt;"
        );
        assert_eq!(escape("a\nb\u{1}"), "a&#10;b\u{FFFD}");
        // Text with nothing to escape is kept as it is; the characters XML cannot carry are
        // replaced wherever they stand.
        assert_eq!(
            escape("aws_s3_bucket.x[\"k\"]"),
            "aws_s3_bucket.x[&quot;k&quot;]"
        );
        assert_eq!(
            escape("module.a[0].aws_s3_bucket.x"),
            "module.a[0].aws_s3_bucket.x"
        );
        assert_eq!(escape("x\u{FFFE}y\u{F000}z"), "x\u{FFFD}y\u{F000}z");
    }
}
