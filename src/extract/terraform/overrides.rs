//! Override files (`override.tf`, `*_override.tf`, their `.tf.json` forms and OpenTofu's `.tofu`
//! and `.tofu.json` ones) merged into the blocks they override, as Terraform does before
//! anything else: block by block, each argument or nested block type of the override replacing
//! the original's, `locals` value by value.
//!
//! The merged values are placed at the first line of the block they change in the original
//! file (the override file is not part of the resource's document).

use std::borrow::Cow;

use crate::load::Document;
use crate::tree::{Entry, Node, Span, Value};

/// Is the file an override file?
pub fn is_override(path: &str) -> bool {
    let name = path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    let stem = name
        .strip_suffix(".tf.json")
        .or_else(|| name.strip_suffix(".tofu.json"))
        .or_else(|| name.strip_suffix(".tf"))
        .or_else(|| name.strip_suffix(".tofu"));
    stem.is_some_and(|s| s == "override" || s.ends_with("_override"))
}

/// The documents of one module folder with its override files merged in and left out.
pub fn merge<'a>(docs: &[&'a Document]) -> Vec<Cow<'a, Document>> {
    let (mut overrides, base): (Vec<&Document>, Vec<&Document>) =
        docs.iter().partition(|d| is_override(&d.path));
    if overrides.is_empty() {
        return docs.iter().map(|d| Cow::Borrowed(*d)).collect();
    }
    overrides.sort_by(|a, b| a.path.cmp(&b.path));
    let mut merged: Vec<Document> = base.into_iter().cloned().collect();
    for over in overrides {
        for top in over.root.entries() {
            match top.key.as_str() {
                "locals" => {
                    for local in top.value.entries() {
                        if let Some(target) = merged
                            .iter_mut()
                            .find_map(|d| child_mut(child_mut(&mut d.root, "locals")?, &local.key))
                        {
                            let at = target.span;
                            *target = respanned(local.value.clone(), at);
                        }
                    }
                }
                "resource" | "data" => {
                    for by_type in top.value.entries() {
                        for named in by_type.value.entries() {
                            if let Some(target) = merged.iter_mut().find_map(|d| {
                                child_mut(
                                    child_mut(child_mut(&mut d.root, &top.key)?, &by_type.key)?,
                                    &named.key,
                                )
                            }) {
                                merge_body(target, &named.value);
                            }
                        }
                    }
                }
                "variable" | "output" | "module" => {
                    for named in top.value.entries() {
                        if let Some(target) = merged
                            .iter_mut()
                            .find_map(|d| child_mut(child_mut(&mut d.root, &top.key)?, &named.key))
                        {
                            merge_body(target, &named.value);
                        }
                    }
                }
                "provider" => {
                    for named in top.value.entries() {
                        let alias = named.value.get("alias").and_then(Node::as_str);
                        let target = merged.iter_mut().find_map(|d| {
                            match &mut child_mut(&mut d.root, "provider")?.value {
                                Value::Map(entries) => entries
                                    .iter_mut()
                                    .find(|e| {
                                        e.key == named.key
                                            && e.value.get("alias").and_then(Node::as_str) == alias
                                    })
                                    .map(|e| &mut e.value),
                                _ => None,
                            }
                        });
                        if let Some(target) = target {
                            merge_body(target, &named.value);
                        }
                    }
                }
                "terraform" => {
                    if let Some(target) = merged
                        .iter_mut()
                        .find_map(|d| child_mut(&mut d.root, "terraform"))
                    {
                        merge_body(target, &top.value);
                    }
                }
                _ => {}
            }
        }
    }
    merged.into_iter().map(Cow::Owned).collect()
}

/// The last entry of a map under `key`, the one lookups read.
fn child_mut<'n>(node: &'n mut Node, key: &str) -> Option<&'n mut Node> {
    match &mut node.value {
        Value::Map(entries) => entries
            .iter_mut()
            .rev()
            .find(|e| e.key == key)
            .map(|e| &mut e.value),
        _ => None,
    }
}

/// Each argument and nested block type of `over` replaces the original's (nested blocks of a
/// type are replaced all together); the others stay.
fn merge_body(target: &mut Node, over: &Node) {
    let at = target.span;
    let Value::Map(entries) = &mut target.value else {
        return;
    };
    for entry in over.entries() {
        let value = respanned(entry.value.clone(), at);
        match entries.iter().position(|e| e.key == entry.key) {
            Some(first) => {
                entries.retain(|e| e.key != entry.key);
                entries.insert(
                    first.min(entries.len()),
                    Entry {
                        key: entry.key.clone(),
                        key_span: Span::point(at.start.line, at.start.column),
                        value,
                    },
                );
            }
            None => entries.push(Entry {
                key: entry.key.clone(),
                key_span: Span::point(at.start.line, at.start.column),
                value,
            }),
        }
    }
}

/// A subtree placed at the start of `at`: a value written for another (an override's, a `for`
/// expression's item) is where that other is written.
pub(super) fn respanned(mut node: Node, at: Span) -> Node {
    let point = Span::point(at.start.line, at.start.column);
    node.span = point;
    node.value = match node.value {
        Value::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|e| Entry {
                    key: e.key,
                    key_span: point,
                    value: respanned(e.value, at),
                })
                .collect(),
        ),
        Value::Seq(items) => Value::Seq(items.into_iter().map(|i| respanned(i, at)).collect()),
        other => other,
    };
    node
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_bytes;

    fn doc(path: &str, text: &str) -> Document {
        load_bytes(path, text.as_bytes())
            .documents
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{path} does not load"))
    }

    #[test]
    fn override_files_replace_arguments_block_by_block() {
        let main = doc(
            "m/main.tf",
            "locals {\n  a = 1\n  b = 2\n}\n\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n  rule {\n    id = 1\n  }\n  rule {\n    id = 2\n  }\n}\n",
        );
        let over = doc(
            "m/main_override.tf",
            "locals {\n  b = 3\n}\nresource \"aws_s3_bucket\" \"b\" {\n  rule {\n    id = 9\n  }\n  region = \"eu-west-1\"\n}\n",
        );
        assert!(is_override("m/override.tf.json") && !is_override("m/overrides.tf"));
        let merged = merge(&[&main, &over]);
        assert_eq!(merged.len(), 1);
        let root = &merged[0].root;
        assert_eq!(root.path("locals.a").and_then(Node::as_i64), Some(1));
        assert_eq!(root.path("locals.b").and_then(Node::as_i64), Some(3));
        let bucket = root.path("resource.aws_s3_bucket.b").unwrap();
        assert_eq!(bucket.path("bucket").and_then(Node::as_str), Some("x"));
        assert_eq!(bucket.get("rule").unwrap().items().len(), 1);
        assert_eq!(bucket.path("rule[0].id").and_then(Node::as_i64), Some(9));
        let region = bucket.get("region").unwrap();
        assert_eq!(region.as_str(), Some("eu-west-1"));
        assert_eq!(region.span.start.line, 6);
    }
}
