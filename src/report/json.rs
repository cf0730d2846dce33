//! The JSON report (`schema_version: 1`), described by `schema/report.schema.json`.

use serde::Serialize;

use super::{Summary, summarize};
use crate::engine::Rule;
use std::collections::BTreeSet;
use std::io::{self, Write};

use crate::frameworks::{self, ControlView, FrameworkView};
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
    /// Settings the rules judge whose value only the deployment decides.
    #[serde(skip_serializing_if = "<[crate::model::Unevaluated]>::is_empty")]
    unevaluated: &'a [crate::model::Unevaluated],
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The report's fields, in their order.
struct Report<'a> {
    schema_version: u32,
    tool: Tool<'a>,
    profile: &'a str,
    scanned: Scanned<'a>,
    summary: Summary,
    findings: &'a crate::store::Findings,
    /// The rules of the scan: the framework views (per control its findings and a status)
    /// are made for them while the findings are written.
    ran: BTreeSet<String>,
}

/// Writes the report as it is serialised: a large report is never held whole in memory, and
/// the findings are streamed from the store. The text is that of
/// `serde_json::to_writer_pretty`; the findings are serialised on every core, a batch at a
/// time. `section` is a last top-level key of a live source's own.
pub fn write(
    result: &ScanResult,
    kb: &KnowledgeBase,
    rules: &[Rule],
    profile: &str,
    section: Option<(&str, &serde_json::Value)>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    // Every field is named, so a field added to the report cannot be left out here.
    let Report {
        schema_version,
        tool,
        profile,
        scanned,
        summary,
        findings,
        ran,
    } = report(result, kb, rules, profile);
    pretty::field(out, "schema_version", &schema_version, true)?;
    pretty::field(out, "tool", &tool, false)?;
    pretty::field(out, "profile", &profile, false)?;
    pretty::field(out, "scanned", &scanned, false)?;
    pretty::field(out, "summary", &summary, false)?;
    // The views, and the controls' findings serialised, are made on another core while the
    // findings are written: both read the store.
    let mut listed = None;
    rayon::in_place_scope(|scope| {
        scope.spawn(|_| listed = Some(listings(findings, &ran)));
        pretty::findings_field(out, "findings", findings)
    })?;
    let listed =
        listed.unwrap_or_else(|| Err(io::Error::other("the framework listings were not read")));
    let (views, texts) = listed?;
    frameworks_field(out, &views, texts)?;
    if let Some((name, value)) = section {
        pretty::field(out, name, value, false)?;
    }
    out.write_all(b"\n}\n")
}

/// How deep in the report a control's findings are listed: in `frameworks[].controls[]
/// .findings[]`.
const LISTED: usize = 6;

/// The framework views of the rules `ran`, and the findings every control lists, read from
/// the store in the views' one pass: each finding by its position in `findings`.
fn listings<'a>(
    findings: &'a crate::store::Findings,
    ran: &BTreeSet<String>,
) -> io::Result<(Vec<FrameworkView<'a>>, Listings)> {
    let controls = frameworks::catalogue().map_or(0, |c| c.iter().map(|f| f.controls.len()).sum());
    let mut lists = Listings::new(controls);
    let views = frameworks::listed_view(findings, ran, |f, to| {
        lists.add(f.position(), to);
        Ok::<(), io::Error>(())
    })?;
    Ok((views, lists))
}

/// `"frameworks": [ … ]` as `serde_json` lays the views out, a control's findings taken
/// from `lists` (see [`listings`]) when its place in the report comes.
fn frameworks_field(
    out: &mut dyn Write,
    views: &[FrameworkView],
    mut lists: Listings,
) -> io::Result<()> {
    // The controls in report order, as `controls` numbers them.
    let mut number = 0;
    pretty::key(out, "frameworks", false)?;
    pretty::array_with(out, 1, views, |out, fw, depth| {
        let FrameworkView {
            id,
            label,
            name,
            edition,
            note,
            controls,
            levels,
        } = fw;
        let mut object = pretty::Object::open(out, depth)?;
        object.field("id", id)?;
        object.field("label", label)?;
        object.field("name", name)?;
        object.field("edition", edition)?;
        object.field("note", note)?;
        let (out, depth) = object.key("controls")?;
        pretty::array_with(out, depth, controls, |out, control, depth| {
            let ControlView {
                id,
                title,
                status,
                rules,
                findings: _,
            } = control;
            let mut object = pretty::Object::open(out, depth)?;
            object.field("id", id)?;
            object.field("title", title)?;
            object.field("status", status)?;
            object.field("rules", rules)?;
            let (out, depth) = object.key("findings")?;
            debug_assert_eq!(depth + 1, LISTED);
            lists.write(number, out, depth)?;
            number += 1;
            object.close()
        })?;
        if !levels.is_empty() {
            object.field("levels", levels)?;
        }
        object.close()
    })
}

/// Per framework control, the positions in `findings` of the findings it lists, in the
/// order it lists them.
struct Listings {
    /// Per control, the steps from one position to the next (from 0 to the first), as
    /// zigzag-coded LEB128: mostly one byte each, since a control lists its findings in
    /// nearly the order of `findings`.
    steps: Vec<Vec<u8>>,
    /// Per control, the position it listed last.
    last: Vec<usize>,
}

impl Listings {
    fn new(controls: usize) -> Self {
        Listings {
            steps: vec![Vec::new(); controls],
            last: vec![0; controls],
        }
    }

    /// Adds the finding at `position` to the lists of the controls `to`.
    fn add(&mut self, position: usize, to: &[usize]) {
        for &i in to {
            // Positions fit an i64: they count findings held in memory or on disk.
            let step = position as i64 - self.last[i] as i64;
            crate::store::put_index(&mut self.steps[i], ((step << 1) ^ (step >> 63)) as usize);
            self.last[i] = position;
        }
    }

    /// Writes `[ … ]`, the positions `control` lists, `depth` levels in.
    fn write(&mut self, control: usize, out: &mut dyn Write, depth: usize) -> io::Result<()> {
        let steps = std::mem::take(&mut self.steps[control]);
        if steps.is_empty() {
            return out.write_all(b"[]");
        }
        out.write_all(b"[")?;
        let mut input = crate::store::Input::new(&steps);
        let (mut position, mut first) = (0i64, true);
        let mut line = Vec::with_capacity(2 * LISTED + 24);
        while !input.is_empty() {
            let zigzag = input.index()? as i64;
            position += (zigzag >> 1) ^ -(zigzag & 1);
            line.clear();
            line.extend_from_slice(if first { b"\n" } else { b",\n" });
            first = false;
            line.resize(line.len() + 2 * LISTED, b' ');
            decimal(&mut line, position);
            out.write_all(&line)?;
        }
        out.write_all(b"\n")?;
        pretty::indent(out, depth)?;
        out.write_all(b"]")
    }
}

/// Appends `n` in decimal, as `serde_json` writes it.
fn decimal(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    digits(out, n.unsigned_abs());
}

/// Appends `n` in decimal, as `serde_json` writes it.
pub(super) fn digits(out: &mut Vec<u8>, n: u64) {
    let (digits, at) = crate::decimal::digits(n);
    out.extend_from_slice(&digits[at..]);
}

/// The layout of `serde_json::to_writer_pretty` (two spaces a level) for the fields of a
/// top-level object, with the items of its arrays serialised on every core, and for a
/// top-level array written item by item.
pub(super) mod pretty {
    use serde::Serialize;
    use serde_json::ser::Formatter;
    use std::io::{self, Write};

    /// Items serialised at once: enough to keep every core busy, few enough that the text
    /// held stays small.
    const BATCH: usize = 1024;
    /// Items serialised into one piece of text by one core.
    const PIECE: usize = 32;
    /// Bytes a piece's text is given per item before it is written: a finding takes 1-2 KB.
    const PIECE_ROOM: usize = 2048;

    /// `serde_json::ser::PrettyFormatter`, starting `depth` levels in.
    struct Nested {
        depth: usize,
        has_value: bool,
    }

    pub fn indent<W: ?Sized + Write>(out: &mut W, depth: usize) -> io::Result<()> {
        // One write of the spaces of most depths, not one a level: a finding's fields are
        // indented three and four levels deep, each on its own line.
        const SPACES: &[u8; 32] = b"                                ";
        let mut left = depth * 2;
        while left > 0 {
            let now = left.min(SPACES.len());
            out.write_all(&SPACES[..now])?;
            left -= now;
        }
        Ok(())
    }

    impl Nested {
        fn open<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
            self.depth += 1;
            self.has_value = false;
            out.write_all(bracket)
        }

        fn close<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
            self.depth -= 1;
            if self.has_value {
                out.write_all(b"\n")?;
                indent(out, self.depth)?;
            }
            out.write_all(bracket)
        }

        /// Before an item of an array or a key of an object.
        fn next<W: ?Sized + Write>(&self, out: &mut W, first: bool) -> io::Result<()> {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            indent(out, self.depth)
        }
    }

    impl Formatter for Nested {
        fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
            self.open(out, b"[")
        }

        fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
            self.close(out, b"]")
        }

        fn begin_array_value<W: ?Sized + Write>(
            &mut self,
            out: &mut W,
            first: bool,
        ) -> io::Result<()> {
            self.next(out, first)
        }

        fn end_array_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
            self.has_value = true;
            Ok(())
        }

        fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
            self.open(out, b"{")
        }

        fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
            self.close(out, b"}")
        }

        fn begin_object_key<W: ?Sized + Write>(
            &mut self,
            out: &mut W,
            first: bool,
        ) -> io::Result<()> {
            self.next(out, first)
        }

        fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
            out.write_all(b": ")
        }

        fn end_object_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
            self.has_value = true;
            Ok(())
        }
    }

    /// `value` serialised `depth` levels in, its first line not indented.
    pub fn serialize<W: Write>(
        out: W,
        value: &(impl Serialize + ?Sized),
        depth: usize,
    ) -> io::Result<()> {
        let formatter = Nested {
            depth,
            has_value: false,
        };
        value.serialize(&mut serde_json::Serializer::with_formatter(out, formatter))?;
        Ok(())
    }

    /// Opens the object (`first`) or continues it, and writes `"name": `.
    pub fn key(out: &mut dyn Write, name: &str, first: bool) -> io::Result<()> {
        out.write_all(if first { b"{\n  " } else { b",\n  " })?;
        serde_json::to_writer(&mut *out, name)?;
        out.write_all(b": ")
    }

    /// An array `depth` levels in, its first line not indented, each item written by `item`
    /// one level deeper.
    pub fn array_with<T>(
        out: &mut dyn Write,
        depth: usize,
        items: impl IntoIterator<Item = T>,
        mut item: impl FnMut(&mut dyn Write, T, usize) -> io::Result<()>,
    ) -> io::Result<()> {
        out.write_all(b"[")?;
        let mut any = false;
        for one in items {
            out.write_all(if any { b",\n" } else { b"\n" })?;
            indent(out, depth + 1)?;
            item(out, one, depth + 1)?;
            any = true;
        }
        if any {
            out.write_all(b"\n")?;
            indent(out, depth)?;
        }
        out.write_all(b"]")
    }

    /// An object `depth` levels in, its first line not indented, written a field at a time.
    pub struct Object<'w> {
        out: &'w mut dyn Write,
        depth: usize,
        any: bool,
    }

    impl<'w> Object<'w> {
        pub fn open(out: &'w mut dyn Write, depth: usize) -> io::Result<Self> {
            out.write_all(b"{")?;
            Ok(Object {
                out,
                depth,
                any: false,
            })
        }

        /// Writes `"name": ` and gives where to write the value and how deep it is.
        pub fn key(&mut self, name: &str) -> io::Result<(&mut dyn Write, usize)> {
            self.out.write_all(if self.any { b",\n" } else { b"\n" })?;
            indent(self.out, self.depth + 1)?;
            serde_json::to_writer(&mut *self.out, name)?;
            self.out.write_all(b": ")?;
            self.any = true;
            Ok((&mut *self.out, self.depth + 1))
        }

        pub fn field(&mut self, name: &str, value: &(impl Serialize + ?Sized)) -> io::Result<()> {
            let (out, depth) = self.key(name)?;
            serialize(out, value, depth)
        }

        pub fn close(self) -> io::Result<()> {
            if self.any {
                self.out.write_all(b"\n")?;
                indent(self.out, self.depth)?;
            }
            self.out.write_all(b"}")
        }
    }

    /// `"name": value` of the top-level object.
    pub fn field(
        out: &mut dyn Write,
        name: &str,
        value: &impl Serialize,
        first: bool,
    ) -> io::Result<()> {
        key(out, name, first)?;
        serialize(out, value, 1)
    }

    /// A top-level array, its items serialised one by one as `items` gives them.
    pub fn array<T: Serialize>(
        out: &mut dyn Write,
        items: impl Iterator<Item = T>,
    ) -> io::Result<()> {
        array_with(out, 0, items, |out, item, depth| {
            serialize(out, &item, depth)
        })
    }

    /// `"name": [ … ]` of the top-level object: the findings read from the store a batch at a
    /// time, each batch serialised on every core.
    pub fn findings_field(
        out: &mut dyn Write,
        name: &str,
        findings: &crate::store::Findings,
    ) -> io::Result<()> {
        use super::super::json_finding::{Written, write};
        key(out, name, false)?;
        findings_array(
            out,
            1,
            findings,
            |text, finding, depth, written: &mut Written| {
                write(text, finding, depth, written);
                Ok(())
            },
        )
    }

    /// An array of findings `depth` levels in, its first line not indented: read from the store
    /// a batch at a time, each batch cut into pieces that `item` writes on every core, an item
    /// at a time, one level deeper, with what it keeps from one item to the next of a piece.
    pub fn findings_array<S: Default>(
        out: &mut dyn Write,
        depth: usize,
        findings: &crate::store::Findings,
        item: impl Fn(&mut Vec<u8>, &crate::finding::Finding, usize, &mut S) -> io::Result<()> + Sync,
    ) -> io::Result<()> {
        let mut written = false;
        findings.par_pieces(
            BATCH,
            PIECE,
            |piece| {
                // Room for most pieces at once: grown by doubling from nothing, a piece's text
                // was copied a dozen times over.
                let mut text = Vec::with_capacity(piece.len() * PIECE_ROOM);
                let mut kept = S::default();
                for finding in piece {
                    text.extend_from_slice(b",\n");
                    indent(&mut text, depth + 1)?;
                    item(&mut text, finding, depth + 1, &mut kept)?;
                }
                Ok(text)
            },
            |piece| {
                // Each item follows a comma; the first opens the array instead. A piece holds
                // at least one item.
                let text = if written {
                    &piece[..]
                } else {
                    out.write_all(b"[")?;
                    &piece[1..]
                };
                written = true;
                out.write_all(text)
            },
        )?;
        if written {
            out.write_all(b"\n")?;
            indent(out, depth)?;
            out.write_all(b"]")
        } else {
            out.write_all(b"[]")
        }
    }
}

fn report<'a>(
    result: &'a ScanResult,
    kb: &'a KnowledgeBase,
    rules: &[Rule],
    profile: &'a str,
) -> Report<'a> {
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
            resources: result.estate.resources,
            not_created: result.not_created,
            skipped: &result.skipped,
            errors: &result.errors,
            warnings: &result.warnings,
            ignored: result.ignored,
            settings: result.settings.as_deref(),
            rendered: &result.rendered,
            unevaluated: &result.unevaluated,
        },
        summary: summarize(result, kb),
        findings: &result.findings,
        ran: rules.iter().map(|r| r.id.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frameworks::tests::finding;
    use std::collections::BTreeSet;

    fn stored(findings: Vec<crate::finding::Finding>, budget: usize) -> crate::store::Findings {
        let collector = crate::store::Collector::new(budget, Vec::new());
        collector.add(findings);
        collector.finish()
    }

    /// `ours` is the field `name` as `serde_json` lays `value` out in the report.
    fn assert_laid_out_as_serde(ours: &[u8], name: &str, value: &impl Serialize, context: &str) {
        let mut serde = Vec::new();
        pretty::field(&mut serde, name, value, false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            String::from_utf8_lossy(ours),
            String::from_utf8_lossy(&serde),
            "{context}"
        );
    }

    #[test]
    fn findings_are_written_as_serde_json_writes_them() {
        // More than a batch, so that pieces and batches meet; none; one.
        let all: Vec<_> = (0..2500)
            .map(|n| {
                finding(
                    "GDPR-001",
                    &format!("k8s/{}.yaml", n % 7),
                    n as u32 + 1,
                    1,
                    &format!("f{n}"),
                )
            })
            .collect();
        for count in [all.len(), 0, 1] {
            for budget in [usize::MAX, 0] {
                let store = stored(all[..count].to_vec(), budget);
                assert_eq!(store.on_disk(), budget == 0 && count > 0);
                let mut ours = Vec::new();
                pretty::findings_field(&mut ours, "findings", &store)
                    .unwrap_or_else(|e| panic!("{e}"));
                let expected = store.iter().map(|f| f.clone()).collect::<Vec<_>>();
                let context = format!("{count} findings, budget {budget}");
                assert_laid_out_as_serde(&ours, "findings", &expected, &context);
            }
        }
    }

    #[test]
    fn frameworks_are_written_as_serde_json_writes_their_views() {
        let catalogue = frameworks::catalogue().unwrap_or_default();
        let rules: BTreeSet<&str> = catalogue
            .iter()
            .flat_map(|fw| &fw.controls)
            .flat_map(|c| &c.rules)
            .map(String::as_str)
            .collect();
        let mut all = Vec::new();
        for (n, rule) in rules.iter().enumerate() {
            let path = format!("k8s/{}.yaml", n % 3);
            let line = u32::try_from(n % 5).unwrap_or(0) + 1;
            all.push(finding(rule, &path, line, 1, &format!("f{n}")));
            // Twice at one place: listed once.
            all.push(finding(rule, &path, line, 2, &format!("f{n}")));
        }
        let ran: BTreeSet<String> = rules.iter().take(3).map(|r| r.to_string()).collect();
        for (findings, budget) in [(all.clone(), usize::MAX), (all, 0), (Vec::new(), 0)] {
            let store = stored(findings, budget);
            let (views, texts) = listings(&store, &ran).unwrap_or_else(|e| panic!("{e}"));
            assert!(views.iter().any(|fw| !fw.levels.is_empty()));
            let mut ours = Vec::new();
            frameworks_field(&mut ours, &views, texts).unwrap_or_else(|e| panic!("{e}"));
            assert_laid_out_as_serde(&ours, "frameworks", &views, &format!("budget {budget}"));
        }
    }

    /// Each control gets back the positions it listed, in its order: one after the other,
    /// far apart (steps of several bytes), backwards (a control lists the findings of a line
    /// by rule), none.
    #[test]
    fn listed_positions_come_back_per_control_in_their_order() {
        let lists: [Vec<usize>; 5] = [
            (0..3000).collect(),
            (0..3000).filter(|n| n % 3 == 1).collect(),
            vec![7, 5_000_000, 4_999_999, 12, 1 << 40],
            vec![9, 3, 0],
            Vec::new(),
        ];
        let mut listings = Listings::new(lists.len());
        let most = lists.iter().map(Vec::len).max().unwrap_or(0);
        for n in 0..most {
            for (c, list) in lists.iter().enumerate() {
                if let Some(&position) = list.get(n) {
                    listings.add(position, &[c]);
                }
            }
        }
        for (c, list) in lists.iter().enumerate() {
            let mut ours = Vec::new();
            let (key, depth) = ("findings", LISTED - 1);
            pretty::indent(&mut ours, depth).unwrap_or_else(|e| panic!("{e}"));
            ours.extend_from_slice(format!("\"{key}\": ").as_bytes());
            listings
                .write(c, &mut ours, depth)
                .unwrap_or_else(|e| panic!("{e}"));
            // `serde_json`'s layout of the list at that depth.
            let serde = serde_json::to_string_pretty(&serde_json::json!({ key: list }))
                .unwrap_or_default()
                .replace('\n', &format!("\n{}", "  ".repeat(depth - 1)));
            let inner = serde
                .trim_start_matches('{')
                .trim_end_matches('}')
                .trim_matches(|ch: char| ch == '\n' || ch == ' ');
            let ours = String::from_utf8_lossy(&ours);
            assert_eq!(ours.trim_start(), inner, "control {c}");
        }
    }
}
