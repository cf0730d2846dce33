//! `sovscan aws` against AWS Config answers: a moto server started by `.ci/run` (through
//! `scripts/moto.sh`, endpoint in SOVSCAN_TEST_AWS_ENDPOINT) and recorded answers served here.

#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use crate::common::scratch;
use crate::live::{base_name, comparable, run, saved_name, serve, sovscan};
use serde_json::Value;

/// Credentials that only a fake endpoint accepts; nothing from the machine running the tests.
fn aws(cmd: &mut assert_cmd::Command) -> &mut assert_cmd::Command {
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent/sovscan-test")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/sovscan-test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

#[test]
fn against_moto_us_bucket_only_and_same_findings_as_files() {
    let Ok(endpoint) = std::env::var("SOVSCAN_TEST_AWS_ENDPOINT") else {
        // Written to the process's stderr, past the test harness's capture, so it shows.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "\n!!! SKIPPED against_moto: SOVSCAN_TEST_AWS_ENDPOINT is not set; `.ci/run` starts moto and sets it \
             (or: `source scripts/moto.sh` then `cargo test --test integration live_aws::`)\n"
        );
        return;
    };
    // `--save` makes the folder itself.
    let work = scratch("live-aws");
    let dir = work.join("saved");
    let (code, out, err) = run(aws(&mut sovscan()).args([
        "aws",
        "--endpoint-url",
        &endpoint,
        "--region",
        "us-east-1",
        "--region",
        "eu-central-1",
        "--resource-type",
        "AWS::S3::Bucket",
        "--format",
        "json",
        "--save",
        dir.to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{err}\n{out}");
    let live: Value = serde_json::from_str(&out).unwrap();
    // 122 buckets: more than one page of ListDiscoveredResources and of BatchGetResourceConfig.
    assert_eq!(live["aws"]["items"], 122, "{}", live["aws"]);
    assert_eq!(live["aws"]["regions_read"], 2);
    let paths: Vec<&str> = live["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("/eu-central-1/AWS::S3::Bucket/sovscan-page-119"))
    );
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("/eu-central-1/AWS::S3::Bucket/sovscan-page-000"))
    );
    let res001: Vec<&str> = live["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "RES-001")
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        res001,
        ["aws://123456789012/us-east-1/AWS::S3::Bucket/sovscan-us-data"]
    );

    // The same items saved as files give the same findings.
    let (code, out, err) = run(sovscan().args(["scan", dir.to_str().unwrap(), "--format", "json"]));
    assert_eq!(code, 1, "{err}");
    let files: Value = serde_json::from_str(&out).unwrap();
    let a = comparable(&live, saved_name);
    let b = comparable(&files, base_name);
    assert!(a.len() >= 123, "{}", a.len());
    assert_eq!(a, b);
}

/// A recorded AWS Config for one region: the first two calls are throttled.
fn recorded(
    request: &crate::live::Request,
    throttled: &std::sync::atomic::AtomicUsize,
) -> (u16, String) {
    use std::sync::atomic::Ordering;
    if throttled.fetch_add(1, Ordering::SeqCst) < 2 {
        return (
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into(),
        );
    }
    let target = request.header("x-amz-target").unwrap_or_default();
    let body = match target.rsplit('.').next().unwrap_or_default() {
        "DescribeConfigurationRecorderStatus" => {
            r#"{"ConfigurationRecordersStatus":[{"name":"default","recording":true,"lastStatus":"SUCCESS"}]}"#.to_string()
        }
        "ListDiscoveredResources" => {
            r#"{"resourceIdentifiers":[{"resourceType":"AWS::S3::Bucket","resourceId":"orders-archive","resourceName":"orders-archive"}]}"#.to_string()
        }
        "BatchGetResourceConfig" => serde_json::json!({
            "baseConfigurationItems": [{
                "version": "1.3",
                "accountId": "210987654321",
                "configurationItemCaptureTime": 1.7e9,
                "configurationItemStatus": "OK",
                "arn": "arn:aws:s3:::orders-archive",
                "resourceType": "AWS::S3::Bucket",
                "resourceId": "orders-archive",
                "resourceName": "orders-archive",
                "awsRegion": "us-west-2",
                "availabilityZone": "Regional",
                "configuration": "{\"name\":\"orders-archive\"}",
                "supplementaryConfiguration": {}
            }],
            "unprocessedResourceKeys": []
        })
        .to_string(),
        other => return (400, format!(r#"{{"__type":"InvalidAction","message":"{other}"}}"#)),
    };
    (200, body)
}

/// The JSON report of `sovscan aws` over the buckets a recorded endpoint on `port` serves,
/// read from `place` (regions, aggregator), with the text it parsed; it finds something.
fn buckets_of(port: u16, place: &[&str]) -> (Value, String) {
    let mut args = place.to_vec();
    args.extend(["--resource-type", "AWS::S3::Bucket", "--format", "json"]);
    let (code, out, err) = aws_at(port, &args);
    assert_eq!(code, 1, "{err}\n{out}");
    (serde_json::from_str(&out).unwrap(), out)
}

/// `sovscan aws` against the recorded endpoint on `port`, with `args` after the endpoint.
fn aws_at(port: u16, args: &[&str]) -> (i32, String, String) {
    let endpoint = format!("http://127.0.0.1:{port}");
    run(aws(&mut sovscan())
        .args(["aws", "--endpoint-url", &endpoint])
        .args(args))
}

/// The paths of a report's RES-001 findings.
fn res001_paths(report: &Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "RES-001")
        .filter_map(|f| f["location"]["path"].as_str())
        .collect()
}

/// The operations called, in order (`X-Amz-Target` without its service).
fn calls(log: &std::sync::Mutex<Vec<crate::live::Request>>) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .filter_map(|r| r.header("x-amz-target"))
        .filter_map(|t| t.rsplit('.').next().map(str::to_string))
        .collect()
}

#[test]
fn throttled_calls_are_retried() {
    let throttled = std::sync::atomic::AtomicUsize::new(0);
    let (port, log) = serve(move |r| recorded(r, &throttled));
    let (report, out) = buckets_of(port, &["--region", "us-west-2"]);
    assert_eq!(
        res001_paths(&report),
        ["aws://210987654321/us-west-2/AWS::S3::Bucket/orders-archive"],
        "{out}"
    );
    let targets = calls(&log);
    assert!(targets.len() >= 5, "{targets:?}");
}

#[test]
fn access_denied_everywhere_is_exit_2_with_what_to_do() {
    let (port, _) = serve(|_| {
        (
            400,
            r#"{"__type":"AccessDeniedException","message":"User: arn:aws:iam::210987654321:user/ci is not authorized"}"#.into(),
        )
    });
    let (code, out, err) = aws_at(port, &["--region", "eu-west-1", "--region", "us-east-1"]);
    assert_eq!(code, 2, "{err}\n{out}");
    assert!(err.contains("eu-west-1: access denied"), "{err}");
    assert!(err.contains("us-east-1: access denied"), "{err}");
    assert!(err.contains("ReadOnlyAccess"), "{err}");
    assert!(err.contains("nothing could be scanned"), "{err}");
}

#[test]
fn expired_credentials_stop_with_one_line() {
    let (port, _) = serve(|_| {
        (
            400,
            r#"{"__type":"ExpiredTokenException","message":"The security token included in the request is expired"}"#.into(),
        )
    });
    let (code, _, err) = aws_at(port, &["--region", "eu-west-1"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("credentials have expired"), "{err}");
}

#[test]
fn no_credentials_is_one_clear_error() {
    let (code, _, err) = run(sovscan()
        .args([
            "aws",
            "--region",
            "eu-west-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env("AWS_CONFIG_FILE", "/nonexistent/sovscan-test")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/sovscan-test")
        .env("AWS_EC2_METADATA_DISABLED", "true"));
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no usable AWS credentials"), "{err}");
}

/// A configuration item of an aggregator's answer, for a bucket of `region`.
fn aggregated_item(name: &str, region: &str) -> Value {
    serde_json::json!({
        "version": "1.3",
        "accountId": "210987654321",
        "configurationItemCaptureTime": 1.7e9,
        "configurationItemStatus": "OK",
        "arn": format!("arn:aws:s3:::{name}"),
        "resourceType": "AWS::S3::Bucket",
        "resourceId": name,
        "resourceName": name,
        "awsRegion": region,
        "availabilityZone": "Regional",
        "configuration": format!("{{\"name\":\"{name}\"}}"),
        "supplementaryConfiguration": {}
    })
}

fn aggregated_id(name: &str, region: &str) -> Value {
    serde_json::json!({
        "SourceAccountId": "210987654321",
        "SourceRegion": region,
        "ResourceId": name,
        "ResourceType": "AWS::S3::Bucket",
        "ResourceName": name
    })
}

/// A recorded aggregator: two pages of identifiers; of the first page's batch, one item is
/// left unprocessed once.
fn recorded_aggregator(request: &crate::live::Request) -> (u16, String) {
    let target = request.header("x-amz-target").unwrap_or_default();
    let body: Value = serde_json::from_str(&request.body).unwrap_or_default();
    let answer = match target.rsplit('.').next().unwrap_or_default() {
        "ListAggregateDiscoveredResources" => {
            if body["NextToken"] == "page-2" {
                serde_json::json!({"ResourceIdentifiers": [aggregated_id("ledger-eu", "eu-central-1")]})
            } else {
                serde_json::json!({
                    "ResourceIdentifiers": [
                        aggregated_id("orders-us", "us-east-1"),
                        aggregated_id("orders-eu", "eu-west-1")
                    ],
                    "NextToken": "page-2"
                })
            }
        }
        "BatchGetAggregateResourceConfig" => {
            let asked: Vec<&str> = body["ResourceIdentifiers"]
                .as_array()
                .map(|ids| {
                    ids.iter()
                        .filter_map(|i| i["ResourceId"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            let region = |name: &str| match name {
                "orders-us" => "us-east-1",
                "orders-eu" => "eu-west-1",
                _ => "eu-central-1",
            };
            // Asked for both buckets of the first page: the second is left for another call.
            let (given, left): (Vec<&str>, Vec<&str>) = if asked.len() == 2 {
                (vec![asked[0]], vec![asked[1]])
            } else {
                (asked, Vec::new())
            };
            serde_json::json!({
                "BaseConfigurationItems": given.iter().map(|n| aggregated_item(n, region(n))).collect::<Vec<_>>(),
                "UnprocessedResourceIdentifiers": left.iter().map(|n| aggregated_id(n, region(n))).collect::<Vec<_>>()
            })
        }
        other => {
            return (
                400,
                format!(r#"{{"__type":"InvalidAction","message":"{other}"}}"#),
            );
        }
    };
    (200, answer.to_string())
}

#[test]
fn an_aggregator_is_read_page_by_page_and_unprocessed_items_asked_again() {
    let (port, log) = serve(recorded_aggregator);
    let (report, out) = buckets_of(
        port,
        &["--region", "eu-central-1", "--aggregator", "organisation"],
    );
    assert_eq!(report["aws"]["items"], 3, "{out}");
    assert_eq!(report["aws"]["aggregator"], "organisation", "{out}");
    assert_eq!(report["aws"]["problems"], serde_json::json!([]), "{out}");
    assert_eq!(
        res001_paths(&report),
        ["aws://210987654321/us-east-1/AWS::S3::Bucket/orders-us"],
        "{out}"
    );
    // The first page's items are read, the unprocessed one asked again, before the second
    // page is listed.
    let calls = calls(&log);
    assert_eq!(
        calls,
        [
            "ListAggregateDiscoveredResources",
            "BatchGetAggregateResourceConfig",
            "BatchGetAggregateResourceConfig",
            "ListAggregateDiscoveredResources",
            "BatchGetAggregateResourceConfig",
        ],
        "{calls:?}"
    );
}

#[test]
fn a_resource_type_the_endpoint_rejects_is_a_problem_when_it_was_asked_for() {
    let (port, _) = serve(|r| {
        match r
            .header("x-amz-target")
            .unwrap_or_default()
            .rsplit('.')
            .next()
        {
            Some("DescribeConfigurationRecorderStatus") => (
                200,
                r#"{"ConfigurationRecordersStatus":[{"name":"default","recording":true}]}"#.into(),
            ),
            _ => (
                400,
                r#"{"__type":"ValidationException","message":"The resourceType is invalid"}"#
                    .into(),
            ),
        }
    });
    let (code, out, err) = aws_at(
        port,
        &[
            "--region",
            "eu-west-1",
            "--resource-type",
            "AWS::S3::Buckets",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}\n{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["aws"]["items"], 0, "{out}");
    let problems = report["aws"]["problems"].to_string();
    assert!(
        problems.contains("does not accept the resource type AWS::S3::Buckets"),
        "{problems}"
    );
    assert!(err.contains("AWS::S3::Buckets"), "{err}");
}
