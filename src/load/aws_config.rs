//! AWS Config answers that carry JSON inside JSON strings (`select-resource-config` results,
//! `configuration` and `supplementaryConfiguration` of API answers) are expanded in place.
//! Every node parsed from such a string points at the string itself: that is where it is written.

use super::json;
use crate::tree::{Node, Span, Value};

/// Replaces JSON-in-a-string values by the tree they hold, where Config puts them.
pub fn expand_embedded_json(root: &mut Node) {
    if let Value::Map(entries) = &mut root.value {
        for entry in entries.iter_mut() {
            match entry.key.as_str() {
                // select-resource-config: every result is one item as a string.
                "Results" => {
                    for item in seq_mut(&mut entry.value) {
                        expand_string(item);
                        expand_item(item);
                    }
                }
                "configurationItems" | "baseConfigurationItems" | "BaseConfigurationItems" => {
                    for item in seq_mut(&mut entry.value) {
                        expand_item(item);
                    }
                }
                "configurationItem" => expand_item(&mut entry.value),
                _ => {}
            }
        }
    }
    if root.get("resourceType").is_some() {
        expand_item(root);
    }
}

fn seq_mut(node: &mut Node) -> &mut [Node] {
    match &mut node.value {
        Value::Seq(items) => items,
        _ => &mut [],
    }
}

/// A ConfigurationItem's `configuration` and each `supplementaryConfiguration` value.
pub fn expand_item(item: &mut Node) {
    let Value::Map(entries) = &mut item.value else {
        return;
    };
    for entry in entries.iter_mut() {
        match entry.key.as_str() {
            "configuration" => expand_string(&mut entry.value),
            "supplementaryConfiguration" => {
                if let Value::Map(supplementary) = &mut entry.value.value {
                    for s in supplementary.iter_mut() {
                        expand_string(&mut s.value);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Parses a string that holds a JSON object or array; leaves anything else as it is.
fn expand_string(node: &mut Node) {
    let Some(text) = node.as_str() else {
        return;
    };
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return;
    }
    // A string that is not valid JSON stays a string: it is a value, not a broken file.
    if let Ok(Some(mut parsed)) = json::parse(text) {
        respan(&mut parsed, node.span);
        *node = parsed;
    }
}

fn respan(node: &mut Node, span: Span) {
    node.span = span;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| respan(n, span)),
        Value::Map(entries) => {
            for e in entries.iter_mut() {
                e.key_span = span;
                respan(&mut e.value, span);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_results_point_at_their_string() {
        let text = "{\"Results\": [\n  \"{\\\"resourceType\\\":\\\"AWS::S3::Bucket\\\",\\\"awsRegion\\\":\\\"us-east-1\\\"}\"\n]}";
        let mut root = json::parse(text).unwrap().unwrap();
        expand_embedded_json(&mut root);
        let region = root.path("Results[0].awsRegion").unwrap();
        assert_eq!(region.as_str(), Some("us-east-1"));
        assert_eq!((region.span.start.line, region.span.start.column), (2, 3));
    }

    #[test]
    fn configuration_strings_and_broken_strings() {
        let text = r#"{"resourceType": "AWS::RDS::DBInstance", "awsRegion": "eu-west-1",
            "configuration": "{\"storageEncrypted\": false}",
            "supplementaryConfiguration": {"A": "{not json", "B": "{\"x\": 1}"}}"#;
        let mut root = json::parse(text).unwrap().unwrap();
        expand_embedded_json(&mut root);
        assert_eq!(
            root.path("configuration.storageEncrypted")
                .and_then(Node::as_bool),
            Some(false)
        );
        assert_eq!(
            root.path("supplementaryConfiguration.A")
                .and_then(Node::as_str),
            Some("{not json")
        );
        assert_eq!(
            root.path("supplementaryConfiguration.B.x")
                .and_then(Node::as_i64),
            Some(1)
        );
    }
}
