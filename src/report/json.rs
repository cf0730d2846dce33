//! The JSON report (`schema_version: 1`), described by `schema/report.schema.json`.

use serde::Serialize;

use super::{Summary, summarize};
use crate::engine::Rule;
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

/// The report's fields, in their order.
struct Report<'a> {
    schema_version: u32,
    tool: Tool<'a>,
    profile: &'a str,
    scanned: Scanned<'a>,
    summary: Summary,
    findings: &'a crate::store::Findings,
    /// Per framework control: the findings and a status.
    frameworks: Vec<FrameworkView<'a>>,
}

/// Writes the report as it is serialised: a large report is never held whole in memory, and
/// the findings are streamed from the store. The text is that of
/// `serde_json::to_writer_pretty`; the findings are serialised on every core, a batch at a
/// time.
pub fn write(
    result: &ScanResult,
    kb: &KnowledgeBase,
    rules: &[Rule],
    profile: &str,
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
        frameworks,
    } = report(result, kb, rules, profile);
    pretty::field(out, "schema_version", &schema_version, true)?;
    pretty::field(out, "tool", &tool, false)?;
    pretty::field(out, "profile", &profile, false)?;
    pretty::field(out, "scanned", &scanned, false)?;
    pretty::field(out, "summary", &summary, false)?;
    pretty::array_field(out, "findings", findings.iter())?;
    // A framework's text is a share of the whole report: written as it is serialised.
    pretty::field(out, "frameworks", &frameworks, false)?;
    out.write_all(b"\n}\n")
}

/// The layout of `serde_json::to_writer_pretty` (two spaces a level) for the fields of a
/// top-level object, with the items of its arrays serialised on every core, and for a
/// top-level array written item by item.
pub(super) mod pretty {
    use rayon::prelude::*;
    use serde::Serialize;
    use serde_json::ser::Formatter;
    use std::io::{self, Write};
    use std::ops::Deref;

    /// Items serialised at once: enough to keep every core busy, few enough that the text
    /// held stays small.
    const BATCH: usize = 1024;
    /// Items serialised into one piece of text by one core.
    const PIECE: usize = 32;

    /// `serde_json::ser::PrettyFormatter`, starting `depth` levels in.
    struct Nested {
        depth: usize,
        has_value: bool,
    }

    fn indent<W: ?Sized + Write>(out: &mut W, depth: usize) -> io::Result<()> {
        for _ in 0..depth {
            out.write_all(b"  ")?;
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
    fn serialize<W: Write>(
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
    fn key(out: &mut dyn Write, name: &str, first: bool) -> io::Result<()> {
        out.write_all(if first { b"{\n  " } else { b",\n  " })?;
        serde_json::to_writer(&mut *out, name)?;
        out.write_all(b": ")
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
        out.write_all(b"[")?;
        let mut first = true;
        for item in items {
            out.write_all(if first { b"\n  " } else { b",\n  " })?;
            serialize(&mut *out, &item, 1)?;
            first = false;
        }
        out.write_all(if first { b"]" } else { b"\n]" })
    }

    /// `"name": [ … ]` of the top-level object: the items are taken from `items` a batch at
    /// a time and each batch is serialised on every core.
    pub fn array_field<T>(
        out: &mut dyn Write,
        name: &str,
        mut items: impl Iterator<Item = T>,
    ) -> io::Result<()>
    where
        T: Deref<Target: Serialize> + Sync,
    {
        key(out, name, false)?;
        let mut batch: Vec<T> = Vec::with_capacity(BATCH);
        let mut written = false;
        loop {
            batch.extend(items.by_ref().take(BATCH));
            if batch.is_empty() {
                break;
            }
            let pieces: Vec<Vec<u8>> = batch
                .par_chunks(PIECE)
                .enumerate()
                .map(|(piece, items)| {
                    let mut text = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        let first = !written && piece == 0 && i == 0;
                        text.extend_from_slice(if first { b"[\n    " } else { b",\n    " });
                        serialize(&mut text, &**item, 2)?;
                    }
                    Ok(text)
                })
                .collect::<io::Result<_>>()?;
            for piece in pieces {
                out.write_all(&piece)?;
            }
            batch.clear();
            written = true;
        }
        out.write_all(if written { b"\n  ]" } else { b"[]" })
    }
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
            resources: result.estate.resources,
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
