//! Large AWS Config snapshots, read one configuration item at a time.
//!
//! A snapshot delivered by Config is one JSON object whose `configurationItems` list holds
//! every resource of an account and region: hundreds of megabytes in one file. Parsed whole,
//! its tree costs several times the file. Instead the list's items are found by a scan of the
//! bytes that only tracks strings and brackets, and each item is parsed on its own, with
//! positions in the whole file, when it is extracted.

use std::ops::Range;
use std::sync::Arc;

use super::json::{self, LineIndex};
use super::yaml::SyntaxError;
use crate::tree::Node;

/// Files at least this large whose top level holds `configurationItems` are read item by item.
pub const STREAM_BYTES: usize = 8 << 20;

/// A snapshot file's text and the byte range of each of its configuration items.
#[derive(Debug)]
pub struct Snapshot {
    pub path: Arc<str>,
    pub text: String,
    pub items: Vec<Range<usize>>,
}

impl Snapshot {
    /// Line starts of the whole text, to give each item its place in the file.
    pub fn lines(&self) -> LineIndex<'_> {
        LineIndex::new(&self.text)
    }

    /// Parses item `index`, with positions in the whole file.
    pub fn item(&self, lines: &LineIndex<'_>, index: usize) -> Result<Option<Node>, SyntaxError> {
        json::parse_range(&self.text, lines, self.items[index].clone())
    }
}

/// The byte ranges of the items of the top-level `configurationItems` list; `None` when the
/// text is not one object holding that list, or holds anything the byte scan does not follow
/// (comments): such a file is parsed whole.
pub fn item_ranges(text: &str) -> Option<Vec<Range<usize>>> {
    let bytes = text.as_bytes();
    let mut at = skip_blank(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
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
        let key = &text[at + 1..key_end - 1];
        at = skip_blank(bytes, key_end);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = skip_blank(bytes, at + 1);
        if key == "configurationItems" && bytes.get(at) == Some(&b'[') {
            let (list, end) = elements(bytes, at)?;
            items = Some(list);
            at = end;
        } else {
            at = skip_value(bytes, at)?;
        }
    }
    // Anything but blanks after the object is not a single JSON document.
    (skip_blank(bytes, at + 1) == bytes.len()).then_some(items?)
}

/// The elements of the list starting at `at`, and the offset after it.
fn elements(bytes: &[u8], at: usize) -> Option<(Vec<Range<usize>>, usize)> {
    let mut list = Vec::new();
    let mut at = at + 1;
    loop {
        at = skip_blank(bytes, at);
        match bytes.get(at)? {
            b']' => return Some((list, at + 1)),
            b',' => at += 1,
            _ => {
                let end = skip_value(bytes, at)?;
                list.push(at..end);
                at = end;
            }
        }
    }
}

fn skip_blank(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

/// The offset after the string starting at `at` (its opening quote).
fn skip_string(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The offset after the value starting at `at`; containers are followed by counting
/// brackets, without recursion, so no nesting depth can exhaust the stack.
fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => skip_string(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match bytes.get(i)? {
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
                if *bytes.get(i)? == b'/' {
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
    fn items_are_found_with_their_positions_in_the_file() {
        let text = "{\n  \"fileVersion\": \"1.0\",\n  \"configSnapshotId\": \"a\\\"]b\",\n  \"configurationItems\": [\n    {\"resourceType\": \"AWS::S3::Bucket\", \"x\": [1, {\"y\": \"}\"}]},\n    {\n      \"resourceType\": \"AWS::SQS::Queue\",\n      \"awsRegion\": \"us-east-1\"\n    }\n  ],\n  \"n\": null\n}\n";
        let ranges = item_ranges(text).unwrap();
        assert_eq!(ranges.len(), 2);
        let snapshot = Snapshot {
            path: Arc::from("s.json"),
            text: text.to_string(),
            items: ranges,
        };
        let lines = snapshot.lines();
        let first = snapshot.item(&lines, 0).unwrap().unwrap();
        assert_eq!(first.path("x[1].y").unwrap().as_str(), Some("}"));
        assert_eq!((first.span.start.line, first.span.start.column), (5, 5));
        let second = snapshot.item(&lines, 1).unwrap().unwrap();
        let region = second.get("awsRegion").unwrap();
        assert_eq!((region.span.start.line, region.span.start.column), (8, 20));
        // The same positions as the whole file parsed at once.
        let whole = json::parse(text).unwrap().unwrap();
        let same = whole.path("configurationItems[1].awsRegion").unwrap();
        assert_eq!(same.span, region.span);
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
