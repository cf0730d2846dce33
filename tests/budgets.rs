//! Budgets: a few kilobytes written to exhaust the scanner end in bounded time with a report,
//! the good files beside them still scanned, and the limit that stopped the work named.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use crate::common::scratch;
use assert_cmd::Command;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// Every case must finish well inside this; before the budgets they ran for minutes or hours.
const TIMEOUT: Duration = Duration::from_secs(20);

fn sovscan() -> Command {
    let mut cmd = Command::cargo_bin("sovscan").unwrap();
    cmd.env("NO_COLOR", "1")
        .env_remove("CI_COLOR")
        .timeout(TIMEOUT);
    cmd
}

/// A manifest with a finding of its own (an image from a US registry), to show the rest of the
/// scan survives.
fn good_manifest(dir: &Path) {
    std::fs::write(
        dir.join("good.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: public.ecr.aws/nginx/nginx:1.27\n",
    )
    .unwrap();
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    /// The outcome of a scan started at `started`, which must end with exit 0 or 1 in time.
    fn finished(out: std::process::Output, started: Instant) -> Self {
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: started.elapsed(),
        };
        assert!(
            matches!(run.code, 0 | 1),
            "exit {} after {:?}: {}",
            run.code,
            run.elapsed,
            run.stderr
        );
        assert!(run.elapsed < TIMEOUT, "took {:?}", run.elapsed);
        run
    }
}

fn scan(dir: &Path, extra: &[&str]) -> Run {
    let started = Instant::now();
    let out = sovscan()
        .arg("scan")
        .arg(dir)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let run = Run::finished(out, started);
    // The report stays small: no value blown up to gigabytes reaches it.
    assert!(
        run.stdout.len() < 2_000_000,
        "report of {} bytes",
        run.stdout.len()
    );
    run
}

/// The good manifest's finding is in the report.
fn assert_good_scanned(run: &Run) {
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["location"]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("good.yaml"))),
        "good file's findings lost: {}",
        run.stdout
    );
}

const ARM_SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

fn arm_template(variables: &str, location: &str) -> String {
    format!(
        r#"{{
  "$schema": "{ARM_SCHEMA}",
  "contentVersion": "1.0.0.0",
  "variables": {{{variables}}},
  "resources": [
    {{
      "type": "Microsoft.Storage/storageAccounts",
      "apiVersion": "2022-09-01",
      "name": "store",
      "location": "{location}"
    }}
  ]
}}
"#
    )
}

#[test]
fn deeply_nested_arm_expression_is_unknown_not_a_crash() {
    let dir = scratch("budgets-arm-deep");
    good_manifest(&dir);
    let depth = 20_000;
    let location = format!("[{}{}]", "a(".repeat(depth), ")".repeat(depth));
    std::fs::write(dir.join("azuredeploy.json"), arm_template("", &location)).unwrap();
    let run = scan(&dir, &[]);
    assert_good_scanned(&run);
    assert!(run.stdout.contains("nested deeper than"), "{}", run.stdout);
}

#[test]
fn arm_variables_doubling_each_other_are_evaluated_once() {
    let dir = scratch("budgets-arm-exp");
    good_manifest(&dir);
    let mut variables = String::from(r#""v0": "eu""#);
    for i in 1..=60 {
        let _ = write!(
            variables,
            r#", "v{i}": "[concat(variables('v{p}'), variables('v{p}'))]""#,
            p = i - 1
        );
    }
    std::fs::write(
        dir.join("azuredeploy.json"),
        arm_template(&variables, "[variables('v60')]"),
    )
    .unwrap();
    let run = scan(&dir, &[]);
    assert_good_scanned(&run);
    assert!(
        run.stdout.contains("value larger than 1048576 bytes"),
        "{}",
        run.stdout
    );
    // A smaller limit is honoured and named.
    let run = scan(&dir, &["--max-value-bytes", "1000"]);
    assert!(
        run.stdout.contains("value larger than 1000 bytes"),
        "{}",
        run.stdout
    );
}

#[test]
fn arm_replace_cannot_multiply_a_value_past_the_limit() {
    let dir = scratch("budgets-arm-replace");
    let mut variables = String::from(r#""v0": "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee""#);
    for i in 1..=12 {
        let _ = write!(
            variables,
            r#", "v{i}": "[replace(variables('v{p}'), 'e', variables('v{p}'))]""#,
            p = i - 1
        );
    }
    std::fs::write(
        dir.join("azuredeploy.json"),
        arm_template(&variables, "[variables('v12')]"),
    )
    .unwrap();
    let run = scan(&dir, &[]);
    assert!(run.stdout.contains("value larger than"), "{}", run.stdout);
}

#[test]
fn cloudformation_sub_over_parameter_defaults_is_evaluated_once() {
    let dir = scratch("budgets-cfn-exp");
    good_manifest(&dir);
    let mut template = String::from(
        "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  P0: {Type: String, Default: eu}\n",
    );
    // Each default repeats the previous parameter eight times: 8^12 substitutions unmemoised.
    for i in 1..=12 {
        let refs = format!("${{P{}}}", i - 1).repeat(8);
        let _ = writeln!(template, "  P{i}: {{Type: String, Default: !Sub '{refs}'}}");
    }
    template.push_str(
        "Resources:\n  Volume:\n    Type: AWS::EC2::Volume\n    Properties:\n      Encrypted: true\n      KmsKeyId: !Sub '${P12}'\n",
    );
    std::fs::write(dir.join("template.yaml"), template).unwrap();
    let run = scan(&dir, &[]);
    assert_good_scanned(&run);
    assert!(run.stdout.contains("AWS::EC2::Volume"), "{}", run.stdout);
}

#[test]
fn terraform_locals_templated_from_locals_are_evaluated_once() {
    let dir = scratch("budgets-tf-exp");
    good_manifest(&dir);
    // Each local repeats the previous one twelve times: 12^7 interpolations unmemoised.
    let mut main = String::from("locals {\n  l0 = \"eu-west-1\"\n");
    for i in 1..=7 {
        let refs = format!("${{local.l{}}}", i - 1).repeat(12);
        let _ = writeln!(main, "  l{i} = \"{refs}\"");
    }
    main.push_str(
        "}\nprovider \"aws\" {\n  region = local.l7\n}\nresource \"aws_ebs_volume\" \"v\" {\n  encrypted  = true\n  kms_key_id = local.l7\n}\n",
    );
    std::fs::write(dir.join("main.tf"), main).unwrap();
    let run = scan(&dir, &[]);
    assert_good_scanned(&run);
    assert!(
        run.stdout.contains("value larger than 1048576 bytes"),
        "{}",
        run.stdout
    );
}

/// Nested anchored maps that no alias uses: copying every anchored subtree cost 200 * 200 / 2
/// copies of 300 entries (over 1 GB); now the scan fits in 600 MB of address space.
#[cfg(target_os = "linux")]
#[test]
fn yaml_anchors_without_aliases_are_not_copied() {
    let dir = scratch("budgets-yaml-anchors");
    good_manifest(&dir);
    let levels = 200;
    let mut text =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: anchors}\ndata:\n  {");
    for level in 0..levels {
        let _ = write!(text, "n{level}: &a{level} {{");
        for key in 0..300 {
            let _ = write!(text, "k{key}: v, ");
        }
    }
    text.push_str("end: v");
    text.push_str(&"}".repeat(levels + 1));
    text.push('\n');
    std::fs::write(dir.join("anchors.yaml"), text).unwrap();
    let binary = assert_cmd::cargo::cargo_bin("sovscan");
    let started = Instant::now();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 600000 && exec \"$0\" scan \"$1\" --format json")
        .arg(&binary)
        .arg(&dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let run = Run::finished(out, started);
    assert_good_scanned(&run);
}

#[test]
fn yaml_merge_keys_are_linear() {
    let dir = scratch("budgets-yaml-merge");
    good_manifest(&dir);
    let mut text = String::from("base: &base\n");
    for key in 0..20_000 {
        let _ = writeln!(text, "  k{key}: v");
    }
    text.push_str("merged:\n  <<: *base\n");
    for key in 0..20_000 {
        let _ = writeln!(text, "  own{key}: v");
    }
    std::fs::write(dir.join("merge.yaml"), text).unwrap();
    let run = scan(&dir, &[]);
    assert_good_scanned(&run);
}

#[test]
fn stdin_above_its_limit_is_refused_with_the_limit_named() {
    let out = sovscan()
        .args(["scan", "-", "--max-stdin-bytes", "1000"])
        .write_stdin(vec![b' '; 5000])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--max-stdin-bytes"), "{stderr}");
}

#[test]
fn file_and_total_limits_name_themselves() {
    let dir = scratch("budgets-file-limit");
    good_manifest(&dir);
    std::fs::write(dir.join("big.yaml"), format!("a: '{}'\n", "x".repeat(4000))).unwrap();
    let run = scan(&dir, &["--max-file-bytes", "2000"]);
    assert!(run.stdout.contains("--max-file-bytes"), "{}", run.stdout);
    assert_good_scanned(&run);

    let run = scan(&dir, &["--max-total-bytes", "1000"]);
    assert!(run.stdout.contains("--max-total-bytes"), "{}", run.stdout);
}

#[test]
fn limits_are_read_from_the_settings_file() {
    let dir = scratch("budgets-settings-limit");
    good_manifest(&dir);
    std::fs::write(dir.join("big.yaml"), format!("a: '{}'\n", "x".repeat(4000))).unwrap();
    std::fs::write(dir.join("settings.yaml"), "limits:\n  file_bytes: 2000\n").unwrap();
    let settings = dir.join("settings.yaml");
    let run = scan(&dir, &["--config", settings.to_str().unwrap()]);
    assert!(run.stdout.contains("--max-file-bytes"), "{}", run.stdout);
}

/// The highest peak resident memory a scan run with `SOVSCAN_TIMINGS=1` reported, in kB.
fn reported_peak_kb(stderr: &str) -> u64 {
    stderr
        .split("peak ")
        .skip(1)
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .max()
        .unwrap_or_else(|| panic!("no peak memory reported: {stderr}"))
}

/// How many findings the JSON report at `report` lists.
fn findings_in(report: &Path) -> usize {
    serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(report).unwrap())
        .unwrap()["findings"]
        .as_array()
        .map_or(0, Vec::len)
}

/// A cluster's export in one file: ten thousand documents, three findings each. Their findings
/// are handed to the store a chunk of resources at a time; held all at once, they took the
/// scan from 128 MB to more than 200 MB.
#[test]
fn a_file_of_thousands_of_documents_does_not_hold_all_their_findings_at_once() {
    let dir = scratch("budgets-many-documents");
    let mut text = String::new();
    for i in 0..10_000 {
        let _ = write!(
            text,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  labels: {{data-classification: personal}}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:{i}\n          env:\n            - name: SENTRY_DSN\n              value: https://abc@o1.ingest.us.sentry.io/{i}\n"
        );
    }
    std::fs::write(dir.join("cluster.yaml"), text).unwrap();
    let report = dir.join("report.json");
    let started = Instant::now();
    let out = sovscan()
        .env("SOVSCAN_TIMINGS", "1")
        .arg("scan")
        .arg(dir.join("cluster.yaml"))
        .args(["--format", "json", "-o"])
        .arg(&report)
        .output()
        .unwrap();
    let run = Run::finished(out, started);
    let findings = findings_in(&report);
    assert!(findings >= 30_000, "{findings} findings");
    let peak = reported_peak_kb(&run.stderr);
    assert!(peak < 170_000, "peak {peak} kB");
}

/// A plan of twenty thousand resources on one line, as `terraform show -json` writes it. Each
/// resource's facts were a map whose first node holds room for eleven (about 2 KB a resource),
/// and the rest of the plan was held while its resources were made: the scan's peak was 60 MB
/// above its parse's (112 MB), and is about 18 MB above now.
#[test]
fn a_large_plan_is_scanned_in_little_more_than_its_parse_takes() {
    let dir = scratch("budgets-large-plan");
    let (mut planned, mut changes) = (Vec::new(), Vec::new());
    for i in 0..20_000 {
        let (kind, values) = match i % 4 {
            0 => (
                "aws_s3_bucket",
                format!(r#"{{"bucket":"b{i}","tags":{{"team":"x"}}}}"#),
            ),
            1 => (
                "aws_db_instance",
                format!(
                    r#"{{"identifier":"db{i}","engine":"postgres","storage_encrypted":{}}}"#,
                    i % 2 == 0
                ),
            ),
            2 => (
                "aws_ebs_volume",
                format!(
                    r#"{{"availability_zone":"eu-central-1a","encrypted":{}}}"#,
                    i % 3 == 0
                ),
            ),
            _ => (
                "aws_cloudwatch_log_group",
                format!(r#"{{"name":"/app/{i}","retention_in_days":0}}"#),
            ),
        };
        planned.push(format!(
            r#"{{"address":"{kind}.r{i}","mode":"managed","type":"{kind}","name":"r{i}","provider_name":"registry.terraform.io/hashicorp/aws","values":{values}}}"#
        ));
        changes.push(format!(
            r#"{{"address":"{kind}.r{i}","mode":"managed","type":"{kind}","name":"r{i}","change":{{"actions":["create"],"before":null,"after":{values}}}}}"#
        ));
    }
    let plan = format!(
        r#"{{"format_version":"1.2","terraform_version":"1.9.8","planned_values":{{"root_module":{{"resources":[{}]}}}},"resource_changes":[{}],"configuration":{{"provider_config":{{"aws":{{"name":"aws","expressions":{{"region":{{"constant_value":"eu-central-1"}}}}}}}}}}}}"#,
        planned.join(","),
        changes.join(",")
    );
    std::fs::write(dir.join("plan.json"), plan).unwrap();
    let peak_of = |args: &[&str]| {
        let started = Instant::now();
        let out = sovscan()
            .env("SOVSCAN_TIMINGS", "1")
            .args(args)
            .arg(dir.join("plan.json"))
            .output()
            .unwrap();
        reported_peak_kb(&Run::finished(out, started).stderr)
    };
    let parse = peak_of(&["scan", "--parse-only"]);
    let report = dir.join("report.json");
    let scan = peak_of(&["scan", "--format", "json", "-o", report.to_str().unwrap()]);
    let findings = findings_in(&report);
    assert!(findings >= 20_000, "{findings} findings");
    eprintln!("parse {parse} kB, scan {scan} kB");
    assert!(
        scan < parse + 40_000,
        "scan {scan} kB, parse alone {parse} kB"
    );
}
