//! A large AWS Config snapshot is read one item at a time: the findings, their positions and
//! the handling of repeated and deleted items are those of the same file read whole.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use crate::common::{json_report, scratch};
use std::fmt::Write as _;
use std::path::Path;

/// A snapshot over the streaming threshold: buckets and queues in EU and US regions, each
/// padded with a long description, one bucket recorded twice (the newer item counts), one
/// queue recorded again with an older capture time (the first item counts) and one queue
/// recorded as deleted; and, first and last, networks, which hold no data, in regions with and
/// without data-holding resources (the first of a region's findings lists them, or the first of
/// them lists the others).
fn snapshot() -> String {
    let padding = "p".repeat(12_000);
    let mut items = Vec::new();
    let network = |i: usize| {
        let (kind, id, region) = match i % 4 {
            0 => ("AWS::EC2::VPC", format!("vpc-{i}"), "us-east-1"),
            1 => ("AWS::EC2::VPC", format!("vpc-{i}"), "ap-southeast-2"),
            2 => ("AWS::EC2::Subnet", format!("subnet-{i}"), "eu-west-2"),
            _ => ("AWS::EC2::Subnet", format!("subnet-{i}"), "ap-southeast-2"),
        };
        format!(
            "    {{\"resourceType\": \"{kind}\", \"resourceId\": \"{id}\", \"awsRegion\": \"{region}\", \"configurationItemCaptureTime\": \"2026-11-01T10:00:00.000Z\", \"configuration\": {{}}}}"
        )
    };
    items.extend((0..20).map(network));
    for i in 0..720 {
        let region = if i % 9 == 0 {
            "us-east-1"
        } else {
            "eu-central-1"
        };
        let (kind, id) = if i % 2 == 0 {
            ("AWS::S3::Bucket", format!("bucket-{i}"))
        } else {
            ("AWS::SQS::Queue", format!("queue-{i}"))
        };
        items.push(format!(
            "    {{\n      \"resourceType\": \"{kind}\",\n      \"resourceId\": \"{id}\",\n      \"resourceName\": \"{id}\",\n      \"awsRegion\": \"{region}\",\n      \"configurationItemStatus\": \"OK\",\n      \"configurationItemCaptureTime\": \"2026-11-0{}T10:00:00.000Z\",\n      \"configuration\": {{\"description\": \"{padding}\"}},\n      \"tags\": {{\"team\": \"data\"}}\n    }}",
            1 + i % 3
        ));
    }
    items.extend((20..40).map(network));
    // queue-3 again, but captured earlier, in the US: the item read first stays.
    items.push("    {\"resourceType\": \"AWS::SQS::Queue\", \"resourceId\": \"queue-3\", \"awsRegion\": \"us-east-1\", \"configurationItemCaptureTime\": \"2026-10-01T10:00:00.000Z\", \"configuration\": {}}".into());
    // bucket-0 again, newer and in another region; queue-1 deleted.
    items.push("    {\"resourceType\": \"AWS::S3::Bucket\", \"resourceId\": \"bucket-0\", \"awsRegion\": \"eu-west-3\", \"configurationItemCaptureTime\": \"2026-11-09T10:00:00.000Z\", \"configuration\": {}}".into());
    items.push("    {\"resourceType\": \"AWS::SQS::Queue\", \"resourceId\": \"queue-1\", \"awsRegion\": \"us-east-1\", \"configurationItemStatus\": \"ResourceDeleted\", \"configurationItemCaptureTime\": \"2026-11-09T10:00:00.000Z\"}".into());
    let mut text = String::from(
        "{\n  \"fileVersion\": \"1.0\",\n  \"configSnapshotId\": \"00000000-0000-0000-0000-000000000000\",\n  \"configurationItems\": [\n",
    );
    let _ = write!(text, "{}\n  ]\n}}\n", items.join(",\n"));
    assert!(text.len() > 8 << 20, "{} bytes", text.len());
    text
}

/// Rule, resource address, line, column and field of a finding, and its related locations.
type Found = (String, String, u64, u64, String, String);

/// The JSON report of a scan of `dir`, which must exit 0 (the gate is off).
fn report(dir: &Path) -> serde_json::Value {
    json_report(dir, None)
}

fn findings(dir: &Path) -> (Vec<Found>, serde_json::Value) {
    let report = report(dir);
    let mut found: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["resource"]["address"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                f["location"]["start_line"].as_u64().unwrap(),
                f["location"]["start_column"].as_u64().unwrap(),
                f["location"]["field"].as_str().unwrap().to_string(),
                // Where, not in which folder: the two scans read copies in two folders.
                f["related"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| format!("{}@{};", r["field"], r["start_line"]))
                    .collect(),
            )
        })
        .collect();
    found.sort();
    (found, report["scanned"].clone())
}

#[test]
fn a_large_snapshot_read_item_by_item_reports_what_the_whole_file_reports() {
    let text = snapshot();
    // `.json` is read item by item; as a `.template` the same JSON is parsed whole.
    let streamed = scratch("snapshot-streamed");
    std::fs::write(
        streamed.join("123456789012_Config_eu-central-1_ConfigSnapshot.json"),
        &text,
    )
    .unwrap();
    let whole = scratch("snapshot-whole");
    std::fs::write(
        whole.join("123456789012_Config_eu-central-1_ConfigSnapshot.template"),
        &text,
    )
    .unwrap();

    let (by_item, scanned) = findings(&streamed);
    let (at_once, scanned_whole) = findings(&whole);
    // Findings kept in a temporary file give the same report.
    assert_eq!(json_report(&streamed, Some("0")), report(&streamed));
    assert!(!by_item.is_empty());
    assert_eq!(by_item.len(), at_once.len());
    if let Some((a, b)) = by_item.iter().zip(&at_once).find(|(a, b)| a != b) {
        panic!("item by item: {a:?}, whole: {b:?}");
    }
    assert_eq!(scanned["resources"], scanned_whole["resources"]);
    assert_eq!(scanned["documents"], serde_json::json!(1));
    // The newer record of bucket-0 counts (eu-west-3), the deleted queue is gone, and the
    // US resources are reported on their awsRegion line.
    assert_eq!(scanned["resources"], serde_json::json!(759));
    // Networks hold no data: in the US (10) the first finding of a resource that does lists
    // them; in Australia (20) and the UK (10), where none does, one network's finding lists
    // the others of its region.
    let lists: Vec<(&str, &str, usize)> = by_item
        .iter()
        .filter(|found| found.1.contains("::EC2::") || !found.5.is_empty())
        .map(|(rule, address, _, _, _, related)| {
            (
                rule.as_str(),
                address.as_str(),
                related.matches(';').count(),
            )
        })
        .collect();
    assert_eq!(lists.len(), 3, "{lists:?}");
    assert!(
        lists.iter().any(|(rule, address, n)| *rule == "RES-001"
            && !address.contains("::EC2::")
            && *n == 10),
        "{lists:?}"
    );
    assert!(
        lists.contains(&("RES-001", "AWS::EC2::Subnet/subnet-11", 19)),
        "{lists:?}"
    );
    assert!(
        lists.contains(&("RES-002", "AWS::EC2::Subnet/subnet-10", 9)),
        "{lists:?}"
    );
    assert!(
        by_item
            .iter()
            .all(|(_, address, ..)| address != "AWS::SQS::Queue/queue-1")
    );
    assert!(
        !by_item
            .iter()
            .any(|(rule, address, ..)| rule == "RES-001" && address == "AWS::SQS::Queue/queue-3")
    );
    assert!(
        by_item
            .iter()
            .any(|(rule, address, _, _, field, _)| rule == "RES-001"
                && address == "AWS::S3::Bucket/bucket-18"
                && field.ends_with("awsRegion"))
    );
    assert!(
        !by_item
            .iter()
            .any(|(rule, address, ..)| rule == "RES-001" && address == "AWS::S3::Bucket/bucket-0")
    );
}

#[test]
fn an_item_that_does_not_parse_is_reported_at_its_line_and_the_rest_is_scanned() {
    // The first two US items are broken: one error at the first, counting the second.
    let text = snapshot().replacen(
        "\"awsRegion\": \"us-east-1\",",
        "\"awsRegion\": us-east-1,",
        2,
    );
    let dir = scratch("snapshot-broken");
    std::fs::write(dir.join("snapshot.json"), &text).unwrap();
    let report = report(&dir);
    let errors = report["scanned"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    // The first US item's line: a network, written on one line after the four of the header.
    assert_eq!(errors[0]["line"], serde_json::json!(5));
    let reason = errors[0]["reason"].as_str().unwrap();
    assert!(
        reason.ends_with("(and 1 more item that does not parse)"),
        "{reason}"
    );
    assert!(report["scanned"]["resources"].as_u64().unwrap() > 700);
}
