//! A plan's resources are evaluated one by one as they are made, on every core: the findings
//! that group a region's resources are those of the plan read whole, whatever order the
//! resources are made in.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use crate::common::{json_report, scratch};

/// 400 resources, by turns: a network in Australia, a network that takes the provider's
/// region (the US), a bucket in Australia and a bucket in the US.
fn plan() -> String {
    let resources: Vec<String> = (0..400)
        .map(|i| {
            let (kind, name, values) = match i % 4 {
                0 => (
                    "aws_vpc",
                    format!("net_{i:03}"),
                    r#"{"cidr_block": "10.0.0.0/16", "region": "ap-southeast-2"}"#.to_string(),
                ),
                1 => (
                    "aws_vpc",
                    format!("vpc_{i:03}"),
                    r#"{"cidr_block": "10.1.0.0/16"}"#.to_string(),
                ),
                2 => (
                    "aws_s3_bucket",
                    format!("bucket_{i:03}"),
                    format!(r#"{{"bucket": "b-{i}", "region": "ap-southeast-2"}}"#),
                ),
                _ => (
                    "aws_s3_bucket",
                    format!("data_{i:03}"),
                    format!(r#"{{"bucket": "d-{i}"}}"#),
                ),
            };
            format!(
                r#"{{"address": "{kind}.{name}", "mode": "managed", "type": "{kind}", "name": "{name}", "provider_name": "registry.terraform.io/hashicorp/aws", "values": {values}}}"#
            )
        })
        .collect();
    format!(
        "{{\"format_version\": \"1.2\",\n\"planned_values\": {{\"root_module\": {{\"resources\": [\n{}\n]}}}},\n\"configuration\": {{\"provider_config\": {{\"aws\": {{\"name\": \"aws\", \"expressions\": {{\"region\": {{\"constant_value\": \"us-west-2\"}}}}}}}}}}}}\n",
        resources.join(",\n")
    )
}

#[test]
fn a_plan_evaluated_resource_by_resource_groups_each_region_at_its_first_resource() {
    let dir = scratch("plan-stream");
    std::fs::write(dir.join("plan.json"), plan()).unwrap();
    let report = json_report(&dir, None);
    assert_eq!(report["scanned"]["resources"], serde_json::json!(400));
    // Rule, address, line and number of related locations of each RES finding.
    let found: Vec<(String, String, u64, usize)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"].as_str().unwrap().starts_with("RES-"))
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["resource"]["address"].as_str().unwrap().to_string(),
                f["location"]["start_line"].as_u64().unwrap(),
                f["related"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    // Networks hold no data: none has a finding of its own. In Australia each bucket is its
    // own finding, and the first lists the 100 networks there.
    assert!(
        found.iter().all(|f| f.1.starts_with("aws_s3_bucket.")),
        "{found:?}"
    );
    let au: Vec<_> = found.iter().filter(|f| f.1.contains(".bucket_")).collect();
    assert_eq!(au.len(), 100, "{au:?}");
    assert_eq!(
        (au[0].1.as_str(), au[0].3),
        ("aws_s3_bucket.bucket_002", 100)
    );
    assert!(au[1..].iter().all(|f| f.3 == 0), "{au:?}");
    // In the US each bucket is its own finding, naming the provider's region; the first also
    // lists the 100 networks that take it.
    let us: Vec<_> = found.iter().filter(|f| f.1.contains(".data_")).collect();
    assert_eq!(us.len(), 100, "{us:?}");
    assert_eq!((us[0].1.as_str(), us[0].3), ("aws_s3_bucket.data_003", 101));
    assert!(us[1..].iter().all(|f| f.3 == 1), "{us:?}");
    assert_eq!(found.len(), 200, "{found:?}");
    assert!(found.iter().all(|f| f.0 == "RES-001"), "{found:?}");
    // The same report however the cores took the resources.
    for _ in 0..3 {
        assert_eq!(json_report(&dir, None), report);
    }
}
