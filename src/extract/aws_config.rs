//! AWS Config records into resources: single ConfigurationItems, change notifications, snapshot
//! and history files, and the answers of `select-resource-config`, `batch-get-resource-config`
//! and `get-resource-config-history`. The region is the item's `awsRegion`, written in the file.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use super::cloud_resource::{self, Identity};
use super::facts;
use crate::knowledge::KnowledgeBase;
use crate::load::{Document, Format};
use crate::model::Resource;
use crate::tree::{Node, Route};

/// Lists of items in the shapes Config writes them.
const ITEM_LISTS: &[&str] = &[
    "configurationItems",
    "baseConfigurationItems",
    "BaseConfigurationItems",
    "Results",
];

/// Items that record a resource no longer there, or Config's own evaluation results.
const NOT_RESOURCES_STATUS: &[&str] = &[
    "ResourceDeleted",
    "ResourceDeletedNotRecorded",
    "ResourceNotRecorded",
];
const NOT_RESOURCES_TYPES: &[&str] = &[
    "AWS::Config::ResourceCompliance",
    "AWS::Config::ConformancePackCompliance",
];

pub fn extract(doc: &Document, kb: &KnowledgeBase) -> Vec<Resource> {
    let mut items: Vec<(&Node, Route)> = Vec::new();
    for list in ITEM_LISTS {
        for (i, item) in doc
            .root
            .get(list)
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            items.push((item, Route::root().key(list).index(i)));
        }
    }
    if let Some(item) = doc.root.get("configurationItem") {
        items.push((item, Route::root().key("configurationItem")));
    }
    if doc.root.get("resourceType").is_some() {
        items.push((&doc.root, Route::root()));
    }
    // A history answer holds several versions of one resource: the newest one counts.
    let mut latest: BTreeMap<(String, String), (&Node, Route)> = BTreeMap::new();
    for (item, route) in items {
        let (Some(kind), Some(id)) = (
            text(item, "resourceType"),
            text(item, "resourceId")
                .or_else(|| text(item, "ARN"))
                .or_else(|| text(item, "arn")),
        ) else {
            continue;
        };
        let status = text(item, "configurationItemStatus").unwrap_or_default();
        if NOT_RESOURCES_STATUS.contains(&status.as_str())
            || NOT_RESOURCES_TYPES.contains(&kind.as_str())
        {
            latest.remove(&(kind, id));
            continue;
        }
        let captured = capture_time(item);
        match latest.get(&(kind.clone(), id.clone())) {
            Some((kept, _)) if capture_time(kept) >= captured => {}
            _ => {
                latest.insert((kind, id), (item, route));
            }
        }
    }
    let mut out: Vec<Resource> = latest
        .into_values()
        .map(|(item, route)| resource(doc, item.clone(), route, kb))
        .collect();
    out.sort_by(|a, b| (&a.route, &a.address).cmp(&(&b.route, &b.address)));
    out
}

/// What a snapshot gives: what `each` kept of the resources of its newest items, and the items
/// that do not parse.
pub struct SnapshotRead {
    pub resources: Vec<Resource>,
    pub errors: Vec<crate::load::LoadError>,
}

/// The resources of a large snapshot read one item at a time (`crate::load::snapshot`), in two
/// passes on every core: the first reads each item's identity and capture time to pick the
/// newest item of each resource; the second parses, extracts and hands to `each` only those,
/// which keeps what the rest of the scan reads (`None`: nothing). Errors are items that do not
/// parse.
pub fn extract_snapshot(
    snapshot: &crate::load::snapshot::Snapshot,
    kb: &KnowledgeBase,
    each: impl Fn(Resource) -> Option<Resource> + Sync,
) -> SnapshotRead {
    let doc = Document {
        path: std::sync::Arc::clone(&snapshot.path),
        format: Format::AwsConfig,
        index: 0,
        root: Node::null(),
    };
    let error = |line, column, reason| crate::load::LoadError {
        path: snapshot.path.to_string(),
        line,
        column,
        reason,
    };
    // What each item that records a resource says: the resource's identity (hashed: a
    // snapshot holds hundreds of thousands), and whether the item records its deletion.
    // Read without building the item's tree where the JSON reader takes it; an item it does not
    // take (not an object, a field given twice or not as text, a syntax error) is parsed.
    let all: Vec<usize> = (0..snapshot.items.len()).collect();
    let said = snapshot.read_items(&all, |index, raw| {
        let (kind, id, status) = match serde_json::from_str::<Said>(raw.as_str()) {
            Ok(said) => said.identity()?,
            Err(_) => {
                let mut item = match raw.parse() {
                    Ok(item) => item?,
                    Err(e) => return Some(Err(Box::new(error(e.line, e.column, e.reason)))),
                };
                crate::load::aws_config::expand_item(&mut item);
                let (kind, id) = identity(&item)?;
                let status = text(&item, "configurationItemStatus").unwrap_or_default();
                (kind.into(), id.into(), status.into())
            }
        };
        let gone =
            NOT_RESOURCES_STATUS.contains(&&*status) || NOT_RESOURCES_TYPES.contains(&&*kind);
        Some(Ok((key_hash(&kind, &id), index, !gone)))
    });
    drop(all);
    let said = match said {
        Ok(said) => said,
        Err(reason) => {
            return SnapshotRead {
                resources: Vec::new(),
                errors: vec![error(0, 0, reason)],
            };
        }
    };
    let mut errors = Vec::new();
    // In the place of what was said: an item that records a resource takes 32 bytes.
    let mut records: Vec<(u128, usize, bool)> = said
        .into_iter()
        .filter_map(|entry| entry.map_err(|e| errors.push(*e)).ok())
        .collect();
    // The newest item of each resource counts, as when the file is read whole: an item alone
    // with its resource counts unless it records a deletion; the capture times of the items
    // of resources recorded more than once are read again.
    rayon::slice::ParallelSliceMut::par_sort_unstable(&mut records[..]);
    let mut newest = Vec::with_capacity(records.len());
    let mut repeated: Vec<&[(u128, usize, bool)]> = Vec::new();
    for group in records.chunk_by(|a, b| a.0 == b.0) {
        match group {
            [(_, index, true)] => newest.push(*index),
            [_] => {}
            _ => repeated.push(group),
        }
    }
    let mut again: Vec<usize> = repeated
        .iter()
        .flat_map(|g| g.iter().map(|r| r.1))
        .collect();
    again.sort_unstable();
    let read = snapshot.parse_items(&again, |index, parsed| match parsed {
        Ok(item) => Some(Ok((index, capture_time(&item?)))),
        Err(e) => Some(Err(Box::new(error(e.line, e.column, e.reason)))),
    });
    let captured: HashMap<usize, (i64, String)> = kept(read, &mut errors, &error);
    for group in repeated {
        let mut latest: Option<(&(i64, String), usize)> = None;
        for &(_, index, alive) in group {
            if !alive {
                latest = None;
                continue;
            }
            let Some(time) = captured.get(&index) else {
                continue;
            };
            match latest {
                Some((kept, _)) if kept >= time => {}
                _ => latest = Some((time, index)),
            }
        }
        newest.extend(latest.map(|(_, index)| index));
    }
    drop(records);
    newest.sort_unstable();
    // In the file's order, which is the order of their routes.
    let read = snapshot.parse_items(&newest, |index, parsed| {
        let mut item = match parsed {
            Ok(item) => item?,
            Err(e) => return Some(Err(Box::new(error(e.line, e.column, e.reason)))),
        };
        crate::load::aws_config::expand_item(&mut item);
        let route = Route::root().key("configurationItems").index(index);
        each(resource(&doc, item, route, kb)).map(Ok)
    });
    let resources = kept(read, &mut errors, &error);
    // Items read again are in the file's order; so are their reports.
    errors.sort_by_key(|e| (e.line, e.column));
    SnapshotRead { resources, errors }
}

/// What a reading of a snapshot's items kept: the items that do not parse, and a file that
/// cannot be read again, go to `errors`.
fn kept<T, C: FromIterator<T>>(
    read: Result<Vec<Result<T, Box<crate::load::LoadError>>>, String>,
    errors: &mut Vec<crate::load::LoadError>,
    error: &impl Fn(u32, u32, String) -> crate::load::LoadError,
) -> C {
    match read {
        Ok(read) => read
            .into_iter()
            .filter_map(|entry| entry.map_err(|e| errors.push(*e)).ok())
            .collect(),
        Err(reason) => {
            errors.push(error(0, 0, reason));
            std::iter::empty().collect()
        }
    }
}

/// What the first reading of an item takes of it: its fields that say which resource it
/// records and whether it records a deletion, as `identity` and `text` read them from its tree.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Said<'a> {
    #[serde(borrow)]
    resource_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    resource_id: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "ARN")]
    arn_upper: Option<Cow<'a, str>>,
    #[serde(borrow)]
    arn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    configuration_item_status: Option<Cow<'a, str>>,
}

impl<'a> Said<'a> {
    /// The resource's type and id and the item's status; `None` for an item that names no
    /// resource.
    fn identity(self) -> Option<(Cow<'a, str>, Cow<'a, str>, Cow<'a, str>)> {
        let given = |v: Option<Cow<'a, str>>| v.filter(|t| !t.is_empty());
        let kind = given(self.resource_type)?;
        let id = given(self.resource_id)
            .or_else(|| given(self.arn_upper))
            .or_else(|| given(self.arn))?;
        let status = given(self.configuration_item_status).unwrap_or_default();
        Some((kind, id, status))
    }
}

/// The type and id of the resource an item records.
fn identity(item: &Node) -> Option<(String, String)> {
    Some((
        text(item, "resourceType")?,
        text(item, "resourceId")
            .or_else(|| text(item, "ARN"))
            .or_else(|| text(item, "arn"))?,
    ))
}

/// A resource's identity in 128 bits: two SipHash digests under different keys, so that two
/// resources of one snapshot share it with a chance of about n² / 2¹²⁹.
fn key_hash(kind: &str, id: &str) -> u128 {
    hash128(&(kind, id))
}

/// A value as 128 bits of two seeded hashes: enough to tell hundreds of thousands of
/// identities apart without keeping them.
pub(crate) fn hash128<T: std::hash::Hash + ?Sized>(value: &T) -> u128 {
    use std::hash::Hasher;
    let digest = |seed: u8| {
        let mut h = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&seed, &mut h);
        value.hash(&mut h);
        h.finish()
    };
    (u128::from(digest(0)) << 64) | u128::from(digest(1))
}

fn text(node: &Node, key: &str) -> Option<String> {
    node.get(key)
        .and_then(Node::scalar_text)
        .filter(|t| !t.is_empty())
}

/// Capture times are ISO-8601 text in files and epoch seconds in some CLI answers.
fn capture_time(item: &Node) -> (i64, String) {
    let node = item.get("configurationItemCaptureTime");
    let epoch = node.and_then(|n| match n.value {
        crate::tree::Value::Float(f) => Some(f as i64),
        crate::tree::Value::Int(i) => Some(i),
        _ => None,
    });
    (
        epoch.unwrap_or(0),
        node.and_then(Node::scalar_text).unwrap_or_default(),
    )
}

fn resource(doc: &Document, item: Node, route: Route, kb: &KnowledgeBase) -> Resource {
    let kind = text(&item, "resourceType").unwrap_or_default();
    let id_text = text(&item, "resourceId")
        .or_else(|| text(&item, "ARN"))
        .or_else(|| text(&item, "arn"))
        .unwrap_or_default();
    let id = Identity {
        name: text(&item, "resourceName").unwrap_or_else(|| id_text.clone()),
        address: format!("{kind}/{id_text}"),
        kind,
        default_provider: "aws",
    };
    let labels = cloud_resource::tags(item.get("tags").or_else(|| item.path("configuration.tags")));
    // The item becomes the resource's body.
    let mut resource = cloud_resource::resource(doc, Format::AwsConfig, id, item, route, kb);
    resource.labels = labels;
    // IAM and other global types are recorded with `awsRegion: global`: no data location.
    let region = resource
        .body
        .get("awsRegion")
        .filter(|r| {
            r.as_str()
                .is_some_and(|v| !v.eq_ignore_ascii_case("global"))
        })
        .and_then(|r| {
            let value = r.scalar_text()?;
            Some((value, resource.locate(r, &Route::root().key("awsRegion"))))
        });
    if let Some((value, location)) = region {
        resource.region = Some(cloud_resource::region_fact(
            "aws", &value, location, false, kb,
        ));
    }
    cloud_resource::read_facts(&mut resource, kb, &facts::as_written);
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_bytes;

    #[test]
    fn an_item_read_without_its_tree_says_what_its_tree_says() {
        let items = [
            r#"{"resourceType": "AWS::S3::Bucket", "resourceId": "logs", "x": [1, {"y": null}]}"#,
            r#"{"resourceType": "AWS::S3::Bucket", "resourceId": "", "ARN": "arn:aws:s3:::a"}"#,
            r#"{"resourceType": "AWS::S3::Bucket", "arn": "arn:aws:s3:::b", "ARN": ""}"#,
            r#"{"resource\u0054ype": "AWS::EC2::VPC", "resourceId": "vpc-\u00e9"}"#,
            r#"{"resourceType": "AWS::EC2::VPC", "resourceId": "v", "configurationItemStatus": "ResourceDeleted"}"#,
            r#"{"resourceType": "AWS::EC2::VPC", "resourceId": null}"#,
            r#"{"resourceType": "", "resourceId": "v"}"#,
            r#"{"resourceId": "v"}"#,
            // Not taken without the tree: parsed, as every item was before.
            r#"{"resourceType": "AWS::EC2::VPC", "resourceId": 12345}"#,
            r#"{"resourceType": "AWS::EC2::VPC", "resourceId": "a", "resourceId": "b"}"#,
            r#"{"resourceType": "AWS::EC2::VPC", "resourceId": "a",}"#,
            r#"["resourceType"]"#,
        ];
        let mut taken = 0;
        for item in items {
            let Some(tree) = crate::load::json::parse(item).ok().flatten() else {
                panic!("{item} does not parse");
            };
            let from_tree = identity(&tree).map(|(kind, id)| {
                let status = text(&tree, "configurationItemStatus").unwrap_or_default();
                (kind, id, status)
            });
            if let Ok(said) = serde_json::from_str::<Said>(item) {
                let read = said
                    .identity()
                    .map(|(k, i, s)| (k.into_owned(), i.into_owned(), s.into_owned()));
                assert_eq!(read, from_tree, "{item}");
                taken += 1;
            }
        }
        assert_eq!(taken, 8);
    }

    fn extract_text(text: &str) -> Vec<Resource> {
        let outcome = load_bytes("config.json", text.as_bytes());
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        let kb = crate::knowledge::get().unwrap();
        outcome
            .documents
            .iter()
            .flat_map(|d| extract(d, kb))
            .collect()
    }

    #[test]
    fn snapshot_items_with_region_lines_and_facts() {
        let text = r#"{"fileVersion": "1.0", "configurationItems": [
  {"resourceType": "AWS::S3::Bucket", "resourceId": "logs", "resourceName": "logs",
   "awsRegion": "us-east-1", "tags": {"data-classification": "personal"},
   "supplementaryConfiguration": {"PublicAccessBlockConfiguration": {"blockPublicAcls": true, "blockPublicPolicy": false}}},
  {"resourceType": "AWS::IAM::Role", "resourceId": "r", "awsRegion": "global"},
  {"resourceType": "AWS::Config::ResourceCompliance", "resourceId": "c", "awsRegion": "us-east-1"}
]}"#;
        let found = extract_text(text);
        assert_eq!(found.len(), 2);
        let bucket = &found[0];
        let region = bucket.region.as_ref().unwrap();
        assert_eq!(
            (
                region.value.as_str(),
                region.location.start_line,
                region.inherited
            ),
            ("us-east-1", 3, false)
        );
        assert_eq!(bucket.label("data-classification"), Some("personal"));
        assert_eq!(bucket.fact("public").unwrap().value.as_bool(), Some(true));
        assert!(found[1].region.is_none() && found[1].unresolved_region.is_none());
    }

    #[test]
    fn history_keeps_the_newest_version_and_strings_are_parsed() {
        let text = r#"{"configurationItems": [
  {"resourceType": "AWS::RDS::DBInstance", "resourceId": "db", "awsRegion": "eu-west-1",
   "configurationItemCaptureTime": "2026-01-02T00:00:00Z", "configuration": "{\"storageEncrypted\": false}"},
  {"resourceType": "AWS::RDS::DBInstance", "resourceId": "db", "awsRegion": "eu-west-1",
   "configurationItemCaptureTime": "2025-01-01T00:00:00Z", "configuration": "{\"storageEncrypted\": true}"}
]}"#;
        let found = extract_text(text);
        assert_eq!(found.len(), 1);
        let encrypted = found[0].fact("encrypted").unwrap();
        assert_eq!(
            (encrypted.value.as_bool(), encrypted.location.start_line),
            (Some(false), 3)
        );
    }

    #[test]
    fn select_results_and_single_items() {
        let select = "{\"Results\": [\"{\\\"resourceId\\\":\\\"t\\\",\\\"resourceType\\\":\\\"AWS::DynamoDB::Table\\\",\\\"awsRegion\\\":\\\"ap-south-1\\\"}\"], \"QueryInfo\": {}}";
        let found = extract_text(select);
        assert_eq!(found[0].region.as_ref().unwrap().value, "ap-south-1");
        let single = r#"{"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1", "awsRegion": "eu-central-1", "configuration": {"encrypted": false}}"#;
        let found = extract_text(single);
        assert_eq!(
            found[0].fact("encrypted").unwrap().value.as_bool(),
            Some(false)
        );
    }
}
