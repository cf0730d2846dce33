//! Large AWS Config snapshots, read one configuration item at a time.
//!
//! A snapshot delivered by Config is one JSON object whose `configurationItems` list holds
//! every resource of an account and region: hundreds of megabytes in one file. Parsed whole,
//! its tree costs several times the file. Instead the list's items are found by a scan of the
//! bytes that only tracks strings and brackets, and each item is parsed on its own, with
//! positions in the whole file, when it is extracted.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::json::{self, LineIndex};
use super::yaml::SyntaxError;
use crate::tree::Node;

/// Files at least this large whose top level holds `configurationItems` are read item by item.
pub const STREAM_BYTES: usize = 1 << 20;

/// Items are read from the file and parsed in windows of about this many bytes (small in unit
/// tests, so that their snapshots span many).
const WINDOW_BYTES: usize = if cfg!(test) { 64 << 10 } else { 8 << 20 };

/// A snapshot: where its text is, and the byte range of each of its configuration items with
/// the line and column where it starts.
#[derive(Debug)]
pub struct Snapshot {
    pub path: Arc<str>,
    source: Source,
    pub items: Vec<Range<usize>>,
    /// Line and column (1-based, in characters) of the start of each item.
    starts: Vec<(u32, u32)>,
}

/// Where a snapshot's text is: in memory (stdin, live sources, compressed or re-encoded
/// files), or in its file, read a window at a time (`skip`: the bytes of a byte-order mark).
#[derive(Debug)]
enum Source {
    Text(String),
    File { file: PathBuf, skip: u64 },
}

impl Snapshot {
    /// The items of a text and where each starts; `None` when the text is not a snapshot (see
    /// `ranges`).
    pub fn scan_text(text: &str) -> Option<Scanned> {
        // Its inline suppressions are read from the text itself.
        scan(text.as_bytes(), Directives::Allowed)
    }

    /// A snapshot in memory, with the items `scan_text` found in `text`.
    pub fn from_text(path: Arc<str>, text: String, (items, starts): Scanned) -> Snapshot {
        Snapshot {
            path,
            source: Source::Text(text),
            items,
            starts,
        }
    }

    /// A snapshot read from its file as it is needed: `None` when the file is not one the
    /// byte scan follows, is not UTF-8 throughout, or holds an inline suppression, which a
    /// scan of the whole text reads.
    pub fn from_file(path: Arc<str>, file: &Path) -> Option<Snapshot> {
        let mut reader = std::io::BufReader::new(std::fs::File::open(file).ok()?);
        let mut head = [0u8; 3];
        let read = reader.read(&mut head).ok()?;
        let skip = if head[..read] == [0xEF, 0xBB, 0xBF] {
            3
        } else {
            0
        };
        reader.seek(SeekFrom::Start(skip)).ok()?;
        let (items, starts) = scan(reader, Directives::Refused)?;
        Some(Snapshot {
            path,
            source: Source::File {
                file: file.to_path_buf(),
                skip,
            },
            items,
            starts,
        })
    }

    /// Parses the items at `indices` (ascending), with positions in the whole file, a window
    /// at a time and the items of a window on every core; `each` gets an item's index and what
    /// its parse gave, and what it returns is kept, in the order of `indices`. A file that
    /// cannot be read again gives its reason.
    pub fn parse_items<T: Send>(
        &self,
        indices: &[usize],
        each: impl Fn(usize, Result<Option<Node>, SyntaxError>) -> Option<T> + Sync,
    ) -> Result<Vec<T>, String> {
        self.read_items(indices, |index, item| each(index, item.parse()))
    }

    /// `parse_items`, with each item's text handed over as it is, to be parsed if need be.
    pub fn read_items<T: Send>(
        &self,
        indices: &[usize],
        each: impl Fn(usize, ItemText<'_>) -> Option<T> + Sync,
    ) -> Result<Vec<T>, String> {
        // Each window's items, then all in one vector of exact size: one vector grown item by
        // item would double, and copy itself, as it grows.
        let mut pieces: Vec<Vec<T>> = Vec::new();
        let mut file = match &self.source {
            Source::File { file, .. } => {
                Some(std::fs::File::open(file).map_err(|e| format!("cannot read again: {e}"))?)
            }
            Source::Text(_) => None,
        };
        let mut buffer = Vec::new();
        let mut rest = indices;
        while let Some(&first) = rest.first() {
            let base = self.items[first].start;
            let count = rest
                .iter()
                .take_while(|&&i| self.items[i].end - base <= WINDOW_BYTES)
                .count()
                .max(1);
            let (window, after) = rest.split_at(count);
            rest = after;
            let end = window
                .iter()
                .map(|&i| self.items[i].end)
                .max()
                .unwrap_or(base);
            let text = match (&self.source, file.as_mut()) {
                (Source::Text(text), _) => text.get(base..end).unwrap_or_default(),
                (Source::File { skip, .. }, Some(file)) => {
                    read_window(file, skip + base as u64, end - base, &mut buffer)
                        .map_err(|e| format!("cannot read again: {e}"))?;
                    std::str::from_utf8(&buffer)
                        .map_err(|_| "the file changed while it was scanned: scan it again")?
                }
                (Source::File { .. }, None) => "",
            };
            pieces.push(
                window
                    .par_iter()
                    .filter_map(|&i| {
                        let range = self.items[i].start - base..self.items[i].end - base;
                        each(
                            i,
                            ItemText {
                                text,
                                start: self.starts[i],
                                range,
                            },
                        )
                    })
                    .collect(),
            );
        }
        let mut out = Vec::with_capacity(pieces.iter().map(Vec::len).sum());
        for piece in pieces {
            out.extend(piece);
        }
        Ok(out)
    }
}

/// Reads `len` bytes of `file` from `offset` into `buffer`, in place of what it held, without
/// zeroing its room first.
fn read_window(
    file: &mut std::fs::File,
    offset: u64,
    len: usize,
    buffer: &mut Vec<u8>,
) -> std::io::Result<()> {
    buffer.clear();
    buffer.reserve_exact(len);
    file.seek(SeekFrom::Start(offset))?;
    file.take(len as u64).read_to_end(buffer)?;
    if buffer.len() < len {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// The text of one item of a snapshot, in the window of the file it was read with.
pub struct ItemText<'t> {
    text: &'t str,
    /// The line and column where the item starts in the file.
    start: (u32, u32),
    range: Range<usize>,
}

impl ItemText<'_> {
    /// The item's JSON text.
    pub fn as_str(&self) -> &str {
        self.text.get(self.range.clone()).unwrap_or_default()
    }

    /// The item parsed, with its positions in the whole file.
    pub fn parse(&self) -> Result<Option<Node>, SyntaxError> {
        // Positions counted from the item's own start, on the core that parses it.
        let text = self.as_str();
        let (line, column) = self.start;
        json::parse_range(text, &LineIndex::part(text, line, column), 0..text.len())
    }
}

/// Each item's byte range, and the line and column where it starts.
pub type Scanned = (Vec<Range<usize>>, Vec<(u32, u32)>);

/// Whether a scanned text may hold inline suppressions: a file read in windows has no text to
/// read them from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Directives {
    Allowed,
    Refused,
}

/// The items of a snapshot's text and where each starts, from a scan that reads it once,
/// forward, holding little more than the largest item: what `ranges` says of the
/// whole text, or `None` when the text is not valid UTF-8 or holds an inline suppression that
/// `directives` refuses.
fn scan(reader: impl Read, directives: Directives) -> Option<Scanned> {
    let mut stream = Stream::new(reader, directives);
    let items = ranges(&mut stream)?;
    let starts = std::mem::take(&mut stream.starts);
    stream.finish()?;
    Some((items, starts))
}

/// Bytes to look at, by offset, forward only.
trait Bytes {
    fn get(&mut self, at: usize) -> Option<u8>;
    /// The bytes from `at` on that are at hand (at least one, read if need be); `None` past
    /// the end.
    fn ahead(&mut self, at: usize) -> Option<&[u8]>;
    /// Whether `pattern` is at `at`, no further back than the last few kilobytes read.
    fn holds(&mut self, at: usize, pattern: &[u8]) -> bool;
    /// Notes that an item starts at `at`.
    fn item_at(&mut self, _at: usize) {}
}

/// A whole text in memory, for the tests' scans.
#[cfg(test)]
impl Bytes for &[u8] {
    fn get(&mut self, at: usize) -> Option<u8> {
        <[u8]>::get(self, at).copied()
    }

    fn ahead(&mut self, at: usize) -> Option<&[u8]> {
        <[u8]>::get(self, at..).filter(|rest| !rest.is_empty())
    }

    fn holds(&mut self, at: usize, pattern: &[u8]) -> bool {
        <[u8]>::get(self, at..at + pattern.len()) == Some(pattern)
    }
}

/// A reader's bytes, read in chunks: what was read more than `KEEP` bytes ago is counted
/// (lines, characters) and dropped.
struct Stream<R> {
    reader: R,
    buffer: Vec<u8>,
    /// Offset of `buffer[0]`.
    start: usize,
    /// Bytes of `buffer` known to be UTF-8.
    checked: usize,
    /// Lines before `counted`, and characters on its line before it.
    counted: usize,
    lines: usize,
    column: usize,
    starts: Vec<(u32, u32)>,
    /// The text is not one `scan` can stream.
    unusable: bool,
    eof: bool,
    directives: Directives,
}

const CHUNK: usize = 1 << 20;
const KEEP: usize = 64 << 10;
const DIRECTIVE: &[u8] = b"sovscan:ignore";

impl<R: Read> Stream<R> {
    fn new(reader: R, directives: Directives) -> Self {
        Stream {
            reader,
            buffer: Vec::with_capacity(2 * CHUNK),
            start: 0,
            checked: 0,
            counted: 0,
            lines: 0,
            column: 0,
            starts: Vec::new(),
            unusable: false,
            eof: false,
            directives,
        }
    }

    /// Counts lines and characters up to offset `to` (in the buffer).
    fn count_to(&mut self, to: usize) {
        let part = &self.buffer[self.counted - self.start..to - self.start];
        self.lines += memchr::memchr_iter(b'\n', part).count();
        let line = match memchr::memrchr(b'\n', part) {
            Some(end) => {
                self.column = 0;
                &part[end + 1..]
            }
            None => part,
        };
        // Characters: bytes that do not continue one.
        self.column += line.iter().filter(|&&b| (b & 0xC0) != 0x80).count();
        self.counted = to;
    }

    /// Reads a chunk more; false at the end or on a problem.
    fn fill(&mut self) -> bool {
        if self.eof || self.unusable {
            return false;
        }
        if self.buffer.len() > CHUNK + KEEP {
            let drop = self.buffer.len() - KEEP;
            let to = self.start + drop;
            if self.counted < to {
                self.count_to(to);
            }
            // A suppression written in the part dropped: the whole text is read instead.
            if self.directives == Directives::Refused
                && contains(&self.buffer[..drop + DIRECTIVE.len() - 1], DIRECTIVE)
            {
                self.unusable = true;
                return false;
            }
            self.buffer.drain(..drop);
            self.start = to;
            self.checked -= drop;
        }
        let len = self.buffer.len();
        // Read into the buffer's spare room, which is not zeroed first.
        self.buffer.reserve(CHUNK);
        let read = match (&mut self.reader)
            .take(CHUNK as u64)
            .read_to_end(&mut self.buffer)
        {
            Ok(n) => n,
            Err(_) => {
                self.unusable = true;
                self.buffer.truncate(len);
                0
            }
        };
        match std::str::from_utf8(&self.buffer[self.checked..]) {
            Ok(_) => self.checked = self.buffer.len(),
            Err(e) if e.error_len().is_none() => self.checked += e.valid_up_to(),
            Err(_) => self.unusable = true,
        }
        if read == 0 {
            self.eof = true;
        }
        read > 0 && !self.unusable
    }

    /// Whether the whole text was read, was UTF-8 and held no suppression.
    fn finish(mut self) -> Option<()> {
        while self.fill() {}
        let whole = self.eof
            && !self.unusable
            && self.checked == self.buffer.len()
            && (self.directives == Directives::Allowed || !contains(&self.buffer, DIRECTIVE));
        whole.then_some(())
    }
}

impl<R: Read> Bytes for Stream<R> {
    fn get(&mut self, at: usize) -> Option<u8> {
        while at >= self.start + self.buffer.len() {
            if !self.fill() {
                return None;
            }
        }
        self.buffer.get(at.checked_sub(self.start)?).copied()
    }

    fn ahead(&mut self, at: usize) -> Option<&[u8]> {
        self.get(at)?;
        self.buffer.get(at - self.start..)
    }

    fn holds(&mut self, at: usize, pattern: &[u8]) -> bool {
        let Some(from) = at.checked_sub(self.start) else {
            return false;
        };
        self.buffer.get(from..from + pattern.len()) == Some(pattern)
    }

    fn item_at(&mut self, at: usize) {
        self.count_to(at);
        let shown = |n: usize| u32::try_from(n + 1).unwrap_or(u32::MAX);
        self.starts.push((shown(self.lines), shown(self.column)));
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// `ranges` over a text in memory.
#[cfg(test)]
pub fn item_ranges(text: &str) -> Option<Vec<Range<usize>>> {
    ranges(&mut text.as_bytes())
}

/// The byte ranges of the items of the top-level `configurationItems` list; `None` when the
/// text is not one object holding that list, or holds anything the byte scan does not follow
/// (comments): such a file is parsed whole.
fn ranges(bytes: &mut impl Bytes) -> Option<Vec<Range<usize>>> {
    let mut at = skip_blank(bytes, 0);
    if bytes.get(at) != Some(b'{') {
        return None;
    }
    at += 1;
    let mut items = None;
    loop {
        at = skip_blank(bytes, at);
        match bytes.get(at)? {
            b'}' => break,
            b',' => {
                at += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let key_end = skip_string(bytes, at)?;
        const ITEMS: &[u8] = b"configurationItems";
        let is_items = key_end - at == ITEMS.len() + 2 && bytes.holds(at + 1, ITEMS);
        at = skip_blank(bytes, key_end);
        if bytes.get(at) != Some(b':') {
            return None;
        }
        at = skip_blank(bytes, at + 1);
        if is_items && bytes.get(at) == Some(b'[') {
            let (list, end) = elements(bytes, at)?;
            items = Some(list);
            at = end;
        } else {
            at = skip_value(bytes, at)?;
        }
    }
    // Anything but blanks after the object is not a single JSON document.
    let end = skip_blank(bytes, at + 1);
    bytes.get(end).is_none().then_some(items?)
}

/// The elements of the list starting at `at`, and the offset after it.
fn elements(bytes: &mut impl Bytes, at: usize) -> Option<(Vec<Range<usize>>, usize)> {
    let mut list = Vec::new();
    let mut at = at + 1;
    loop {
        at = skip_blank(bytes, at);
        match bytes.get(at)? {
            b']' => return Some((list, at + 1)),
            b',' => at += 1,
            _ => {
                bytes.item_at(at);
                let end = skip_value(bytes, at)?;
                list.push(at..end);
                at = end;
            }
        }
    }
}

fn skip_blank(bytes: &mut impl Bytes, mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

/// The offset after the string starting at `at` (its opening quote).
fn skip_string(bytes: &mut impl Bytes, at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        let ahead = bytes.ahead(i)?;
        match memchr::memchr2(b'"', b'\\', ahead) {
            Some(k) if ahead[k] == b'"' => return Some(i + k + 1),
            // An escape: the character after it is not the end.
            Some(k) => i += k + 2,
            None => i += ahead.len(),
        }
    }
}

/// The offset after the value starting at `at`; containers are followed by counting
/// brackets, without recursion, so no nesting depth can exhaust the stack.
fn skip_value(bytes: &mut impl Bytes, at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => skip_string(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                let ahead = bytes.ahead(i)?;
                let marks = |b: &u8| matches!(b, b'"' | b'{' | b'[' | b'}' | b']' | b'/');
                let Some(k) = ahead.iter().position(marks) else {
                    i += ahead.len();
                    continue;
                };
                i += k;
                match ahead[k] {
                    b'"' => {
                        i = skip_string(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    b'/' => return None,
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = at;
            while bytes
                .get(i)
                .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
            {
                if bytes.get(i)? == b'/' {
                    return None;
                }
                i += 1;
            }
            (i > at).then_some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_read_in_chunks_are_found_where_the_whole_text_has_them() {
        // Items of many lengths, with escapes, brackets in strings and characters of more than
        // one byte, over several chunks: each chunk boundary falls somewhere else in an item.
        let mut text = String::from("{\"configurationItems\": [\n");
        let mut i = 0;
        while text.len() < 3 * CHUNK + KEEP {
            if i > 0 {
                // Some items on the line of the one before, after its characters.
                text.push_str(if i % 3 == 0 { ",\n" } else { ", " });
            }
            let pad = "x".repeat(i * 7919 % 40_000);
            text.push_str(&format!(
                "  {{\"resourceId\": \"r-{i}\", \"note\": \"Grüße \\\" ]}} \\\\\", \"n\": [{{\"a\": \"{pad}é\"}}, {i}]}}"
            ));
            i += 1;
        }
        text.push_str("\n]}\n");
        let (items, starts) = Snapshot::scan_text(&text).unwrap();
        assert_eq!(items, item_ranges(&text).unwrap());
        assert_eq!(items.len(), i);
        for (range, &(line, column)) in items.iter().zip(&starts) {
            let before = &text[..range.start];
            let line_start = before.rfind('\n').map_or(0, |n| n + 1);
            let expected = (
                before.matches('\n').count() + 1,
                before[line_start..].chars().count() + 1,
            );
            assert_eq!((line as usize, column as usize), expected, "{range:?}");
            let item: serde_json::Value = serde_json::from_str(&text[range.clone()]).unwrap();
            assert_eq!(item["note"], "Grüße \" ]} \\");
        }
    }

    #[test]
    fn items_are_found_with_their_positions_in_the_file() {
        let text = "{\n  \"fileVersion\": \"1.0\",\n  \"configSnapshotId\": \"a\\\"]b\",\n  \"configurationItems\": [\n    {\"resourceType\": \"AWS::S3::Bucket\", \"x\": [1, {\"y\": \"}\"}]},\n    {\n      \"resourceType\": \"AWS::SQS::Queue\",\n      \"awsRegion\": \"us-east-1\"\n    }\n  ],\n  \"n\": null\n}\n";
        let ranges = item_ranges(text).unwrap();
        assert_eq!(ranges.len(), 2);
        let scanned = Snapshot::scan_text(text).unwrap();
        let snapshot = Snapshot::from_text(Arc::from("s.json"), text.to_string(), scanned);
        assert_eq!(snapshot.items, ranges);
        let items = snapshot
            .parse_items(&[0, 1], |_, parsed| parsed.unwrap())
            .unwrap();
        let first = &items[0];
        assert_eq!(first.path("x[1].y").unwrap().as_str(), Some("}"));
        assert_eq!((first.span.start.line, first.span.start.column), (5, 5));
        let region = items[1].get("awsRegion").unwrap();
        assert_eq!((region.span.start.line, region.span.start.column), (8, 20));
        // The same positions as the whole file parsed at once.
        let whole = json::parse(text).unwrap().unwrap();
        let same = whole.path("configurationItems[1].awsRegion").unwrap();
        assert_eq!(same.span, region.span);
    }

    /// A snapshot of `n` items, on one line or one item per line, with text that is not ASCII.
    fn generated(n: usize, one_line: bool) -> String {
        let gap = if one_line { " " } else { "\n  " };
        let items: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    "{{\"resourceType\": \"AWS::S3::Bucket\", \"resourceId\": \"b{i}\", \"tags\": {{\"owner\": \"Jörg €{i} \\\" ] }}\"}},{gap}\"awsRegion\": \"eu-central-{}\"}}",
                    i % 3
                )
            })
            .collect();
        format!(
            "\u{feff}{{\"fileVersion\": \"1.0\",{gap}\"configurationItems\": [{gap}{}{gap}]}}\n",
            items.join(&format!(",{gap}"))
        )
    }

    #[test]
    fn a_file_read_a_window_at_a_time_gives_the_positions_of_the_whole_text() {
        let temp = tempfile::Builder::new()
            .prefix("sovscan-snapshot-unit-")
            .tempdir()
            .unwrap();
        let dir = temp.path();
        for one_line in [true, false] {
            // Over the scan's chunk, so that what was read is counted and dropped as it goes.
            let text = generated(30_000, one_line);
            assert!(text.len() > 3 * CHUNK, "{}", text.len());
            let file = dir.join("snapshot.json");
            std::fs::write(&file, &text).unwrap();
            let streamed = Snapshot::from_file(Arc::from("s.json"), &file).unwrap();
            let bare = text.trim_start_matches('\u{feff}');
            assert_eq!(streamed.items, item_ranges(bare).unwrap());
            let whole = json::parse(bare).unwrap().unwrap();
            let all: Vec<usize> = (0..streamed.items.len()).collect();
            let spans = streamed
                .parse_items(&all, |i, parsed| {
                    let item = parsed.unwrap().unwrap();
                    Some((i, item.span, item.path("tags.owner").unwrap().span))
                })
                .unwrap();
            assert_eq!(spans.len(), 30_000);
            for (i, span, owner) in spans {
                let expected = whole.path(&format!("configurationItems[{i}]")).unwrap();
                assert_eq!(span, expected.span, "item {i}, one line: {one_line}");
                assert_eq!(owner, expected.path("tags.owner").unwrap().span);
            }
        }
        // A suppression written far into the file, or bytes that are not UTF-8: read whole.
        // Over the streaming threshold, so that `load_file` takes it for a snapshot.
        let mut text = generated(70_000, false);
        assert!(text.len() > STREAM_BYTES, "{}", text.len());
        let last = text.rfind("\"awsRegion\"").unwrap();
        text.insert_str(last, "\"note\": \"sovscan:ignore RES-001\", ");
        let file = dir.join("suppressed.json");
        std::fs::write(&file, &text).unwrap();
        assert!(Snapshot::from_file(Arc::from("s.json"), &file).is_none());
        // Read whole instead: still a snapshot, with the suppression's line.
        let loaded = crate::load::load_file(&file);
        assert!(loaded.error.is_none(), "{:?}", loaded.error);
        assert_eq!(loaded.snapshot.map(|s| s.items.len()), Some(70_000));
        assert_eq!(loaded.directives.map(|d| d.len()), Some(1));
        let mut bytes = generated(30_000, false).into_bytes();
        let at = bytes.len() / 2;
        bytes[at] = 0xFF;
        std::fs::write(&file, &bytes).unwrap();
        assert!(Snapshot::from_file(Arc::from("s.json"), &file).is_none());
    }

    #[test]
    fn anything_else_is_parsed_whole() {
        assert!(item_ranges("[1, 2]").is_none());
        assert!(item_ranges("{\"configurationItems\": [] } x").is_none());
        assert!(item_ranges("{\"a\": 1, /* c */ \"configurationItems\": []}").is_none());
        assert!(item_ranges("{\"configurationItem\": {}}").is_none());
        assert!(item_ranges("{\"configurationItems\": [{\"a\": \"unterminated}]}").is_none());
        assert_eq!(
            item_ranges("{\"configurationItems\": [ ]}").map(|r| r.len()),
            Some(0)
        );
    }
}
