//! Terraform as users scan it: the demo configuration's JSON report, plan JSON in the encodings
//! PowerShell and editors write, and a broken file that does not stop the scan.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use crate::common::scratch;
use assert_cmd::Command;
use std::path::Path;

fn sovscan() -> Command {
    let mut cmd = Command::cargo_bin("sovscan").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    cmd
}

fn run(args: &[&str]) -> (i32, String) {
    let out = sovscan().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// (rule, address, region) of every finding in a JSON report.
fn keys(report: &str) -> Vec<(String, String, String)> {
    let report: serde_json::Value = serde_json::from_str(report).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["resource"]["address"].as_str().unwrap().to_string(),
                f["resource"]["region"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

#[test]
fn demo_terraform_json_report() {
    let (code, out) = run(&["scan", "fixtures/demo/terraform", "--format", "json"]);
    assert_eq!(code, 1, "high findings fail the default gate");
    let found = keys(&out);
    for expected in [
        ("RES-001", "aws_s3_bucket.partner_export", "us-east-1"),
        ("RES-003", "aws_backup_vault.dr", "-"),
        ("RES-004", "google_bigquery_dataset.events", "US"),
        ("RES-005", "aws_dynamodb_table.sessions", "eu-central-1"),
    ] {
        let expected = (expected.0.into(), expected.1.into(), expected.2.into());
        assert!(found.contains(&expected), "{expected:?} not in {found:#?}");
    }
    assert!(
        !found.iter().any(|(_, a, _)| a.starts_with("ionoscloud_")),
        "{found:#?}"
    );
    insta::assert_snapshot!(
        "demo_terraform_json",
        out.replace(env!("CARGO_PKG_VERSION"), "[version]")
    );
}

#[test]
fn plan_json_in_utf16_and_with_bom_reads_like_utf8() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/paired/terraform/plan.json");
    let text = std::fs::read_to_string(&source).unwrap();
    let dir = scratch("tf-encodings");
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(dir.join("utf16.json"), utf16).unwrap();
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.as_bytes());
    std::fs::write(dir.join("bom.json"), bom).unwrap();

    let (_, plain) = run(&["scan", source.to_str().unwrap(), "--format", "json"]);
    let expected = keys(&plain);
    assert!(!expected.is_empty());
    for name in ["utf16.json", "bom.json"] {
        let path = dir.join(name);
        let (_, out) = run(&["scan", path.to_str().unwrap(), "--format", "json"]);
        assert_eq!(keys(&out), expected, "{name}");
    }
}

#[test]
fn broken_hcl_is_a_load_error_and_the_rest_is_scanned() {
    let dir = scratch("tf-broken");
    std::fs::write(
        dir.join("broken.tf"),
        "resource \"aws_s3_bucket\" \"a\" {\n  bucket = \n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("good.tf"),
        "resource \"google_storage_bucket\" \"b\" {\n  location = \"US\"\n}\n",
    )
    .unwrap();
    let (code, out) = run(&["scan", dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let errors = report["scanned"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0]["path"].as_str().unwrap().ends_with("broken.tf"));
    assert_eq!(errors[0]["line"], 2);
    assert!(
        keys(&out)
            .iter()
            .any(|(r, a, _)| r == "RES-004" && a == "google_storage_bucket.b")
    );
}
