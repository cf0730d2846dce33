//! Settings the rules judge whose value only the deployment decides are listed with where they
//! are written, in every format, and counted in the table's summary: never passed over.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use assert_cmd::Command;
use std::path::Path;

fn scan(format: &str) -> (i32, String) {
    let out = Command::cargo_bin("sovscan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", "tests/unevaluated", "--format", format])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// The JSON report of a scan of `path` (from the crate's root).
fn json_report(path: &str) -> serde_json::Value {
    let out = Command::cargo_bin("sovscan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", path, "--format", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn settings_decided_at_deployment_are_listed_where_they_are_written() {
    let (_, json) = scan("json");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let listed: Vec<(String, u64, String, String, String)> = report["scanned"]["unevaluated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let path = u["path"].as_str().unwrap();
            (
                Path::new(path)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                u["line"].as_u64().unwrap(),
                u["setting"].as_str().unwrap().to_string(),
                u["fact"].as_str().unwrap().to_string(),
                u["resources"][0].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        // An ARM parameter without a default.
        (
            "azuredeploy.json",
            18,
            "supportsHttpsTrafficOnly",
            "https_only",
            "Microsoft.Storage/storageAccounts/reports",
        ),
        // A Terraform variable without a default.
        (
            "main.tf",
            21,
            "storage_encrypted",
            "encrypted",
            "aws_db_instance.decided_at_deploy",
        ),
        // A dynamic block over a data source: the plan decides whether it writes the setting.
        (
            "main.tf",
            34,
            "point_in_time_recovery.enabled",
            "point_in_time_recovery",
            "aws_dynamodb_table.sessions",
        ),
        // A CloudFormation `!If` on a parameter without a default.
        (
            "template.yaml",
            13,
            "StorageEncrypted",
            "encrypted",
            "Database",
        ),
        // A key named in one branch only: the queue may have none.
        ("template.yaml", 18, "KmsMasterKeyId", "encrypted", "Orders"),
    ];
    let expected: Vec<(String, u64, String, String, String)> = expected
        .iter()
        .map(|(p, l, s, f, r)| {
            (
                p.to_string(),
                *l,
                s.to_string(),
                f.to_string(),
                r.to_string(),
            )
        })
        .collect();
    // The variable with a default and the queue encrypted with a named key are judged.
    assert_eq!(listed, expected);
    for u in report["scanned"]["unevaluated"].as_array().unwrap() {
        assert!(u["reason"].as_str().unwrap().contains("decide"), "{u}");
    }
    let gdpr: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"].as_str().unwrap().starts_with("GDPR"))
        .collect();
    assert!(gdpr.is_empty(), "{gdpr:#?}");

    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn the_table_counts_them_and_names_the_first() {
    let (_, table) = scan("table");
    assert!(
        table.contains("5 settings not evaluated (listed in the JSON report):"),
        "{table}"
    );
    assert!(
        table.contains("main.tf:21 aws_db_instance.decided_at_deploy storage_encrypted: `var.encrypt` is decided at deployment"),
        "{table}"
    );
}

#[test]
fn the_markdown_summary_counts_them_and_the_html_report_lists_them() {
    let (_, markdown) = scan("markdown");
    assert!(
        markdown.contains("5 settings not evaluated (listed in the JSON report)"),
        "{markdown}"
    );
    let (_, html) = scan("html");
    let section = html
        .split("<section id=\"unevaluated\">")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .unwrap_or_else(|| panic!("no section of settings not evaluated:\n{html}"));
    assert_eq!(section.matches("<li ").count(), 5, "{section}");
    assert!(
        section.contains("aws_db_instance.decided_at_deploy storage_encrypted: <code>var.encrypt</code> is decided at deployment"),
        "{section}"
    );
}

#[test]
fn the_gate_names_them_and_fails_on_them_under_strict() {
    let run = |extra: &[&str]| {
        let out = Command::cargo_bin("sovscan")
            .unwrap()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["scan", "tests/unevaluated", "--format", "table"])
            .args(extra)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let last = text.lines().last().unwrap_or_default().to_string();
        (out.status.code().unwrap_or(-1), last)
    };
    assert_eq!(
        run(&[]),
        (
            0,
            "no findings at or above high: exit 0; 5 settings not evaluated (--strict fails on them)"
                .to_string()
        )
    );
    assert_eq!(
        run(&["--strict"]),
        (1, "5 settings not evaluated (--strict): exit 1".to_string())
    );
    // A gate switched off stays off.
    assert_eq!(run(&["--strict", "--fail-on", "never"]).0, 0);
}

/// A default that depends on another setting: Aurora Serverless v1 is always encrypted, an
/// instance restored from a snapshot keeps the snapshot's encryption, and where only the
/// deployment decides that setting, it decides the default too.
#[test]
fn a_default_that_depends_on_another_setting_follows_it() {
    let report = json_report("tests/dependent_defaults");
    let mut unencrypted: Vec<(String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "GDPR-001")
        .map(|f| {
            (
                f["resource"]["name"].as_str().unwrap().to_string(),
                f["location"]["start_line"].as_u64().unwrap(),
            )
        })
        .collect();
    unencrypted.sort();
    // Provisioned clusters and instances without a snapshot (a variable whose default is
    // null names none) take the provider's default, false; serverless ones are encrypted.
    assert_eq!(
        unencrypted,
        [
            ("Metrics".to_string(), 13),
            ("ledger".to_string(), 17),
            ("reporting".to_string(), 36),
        ]
    );
    let listed: Vec<(String, u64, String, String)> = report["scanned"]["unevaluated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                Path::new(u["path"].as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                u["line"].as_u64().unwrap(),
                u["resources"][0].as_str().unwrap().to_string(),
                u["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let restored = "not set, and restored from a snapshot or a point in time, it keeps its source's encryption";
    assert_eq!(
        listed,
        [
            (
                "main.tf".to_string(),
                22,
                "aws_db_instance.orders".to_string(),
                restored.to_string(),
            ),
            (
                "main.tf".to_string(),
                32,
                "aws_db_instance.invoices".to_string(),
                "not set, and its default depends on `snapshot_identifier`: `var.restore ? \"invoices-final\" : null` is decided at deployment".to_string(),
            ),
            (
                "template.yaml".to_string(),
                3,
                "Archive".to_string(),
                restored.to_string(),
            ),
        ]
    );
}

/// An Argo resource template's manifest that is not YAML as written (a parameter Argo fills
/// in), or that an artifact gives, cannot be judged: it is listed where it is written, under
/// its workflow.
#[test]
fn a_workflow_manifest_that_does_not_parse_is_listed() {
    let report = json_report("tests/workflow-manifest");
    let listed = report["scanned"]["unevaluated"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:#?}");
    let entry = &listed[0];
    assert_eq!(entry["line"], 17, "{entry}");
    assert_eq!(entry["setting"], "spec.templates[0].resource.manifest");
    assert_eq!(entry["resources"][0], "WorkflowTemplate/scale-workers");
    assert!(
        entry["reason"].as_str().unwrap().contains("not YAML"),
        "{entry}"
    );
    let artifact = &listed[1];
    assert_eq!(artifact["line"], 35, "{artifact}");
    assert_eq!(
        artifact["setting"],
        "spec.templates[1].resource.manifestFrom"
    );
    assert!(report["findings"].as_array().unwrap().is_empty());
}

/// A Kubernetes manifest whose pipeline fills in values before it is applied (`envsubst`,
/// `{{ }}`, `<…>`) lists each setting the rules read that it leaves open: an image whose
/// registry is a placeholder, a zone or region it is pinned to, a load balancer's location.
/// An image whose registry is written (only its tag is open) is judged, and not listed.
#[test]
fn placeholders_of_a_manifest_are_listed_where_they_are_written() {
    let report = json_report("tests/unfilled");
    let listed: Vec<(u64, &str, &str, &str)> = report["scanned"]["unevaluated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["fact"].as_str().unwrap(),
                e["setting"].as_str().unwrap(),
                e["resources"][0].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                18,
                "placement",
                "spec.template.spec.nodeSelector[\"topology.kubernetes.io/zone\"]",
                "Deployment/shop-web"
            ),
            (
                21,
                "image",
                "spec.template.spec.containers[0].image",
                "Deployment/shop-web"
            ),
            (
                30,
                "region",
                "metadata.annotations[\"load-balancer.hetzner.cloud/location\"]",
                "Service/shop-web"
            ),
            (
                47,
                "placement",
                "allowedTopologies[0].matchLabelExpressions[0].values[0]",
                "StorageClass/shop-data"
            ),
        ]
    );
    let first = &report["scanned"]["unevaluated"][0];
    assert!(
        first["reason"]
            .as_str()
            .unwrap()
            .starts_with("`${SHOP_ZONE}` is a placeholder filled in at deployment"),
        "{first}"
    );
}

/// An Alertmanager receiver whose address is read from a Secret is listed as not evaluated
/// at the setting that names the Secret; the others are judged (RES-009).
#[test]
fn an_alertmanager_address_read_from_a_secret_is_listed() {
    let report = json_report("fixtures/RES-009/alertmanager.yaml");
    let listed = report["scanned"]["unevaluated"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:#?}");
    let entry = &listed[0];
    assert_eq!(entry["line"], 34, "{entry}");
    assert_eq!(entry["fact"], "endpoint", "{entry}");
    assert!(
        entry["reason"]
            .as_str()
            .unwrap()
            .contains("an address read from the Secret slack-webhook, key url"),
        "{entry}"
    );
    let saas = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "RES-009")
        .count();
    assert_eq!(saas, 7);
}

/// An Alertmanager configuration kept in a ConfigMap that does not parse is listed as not
/// evaluated at the line that stops it, not read word by word for addresses nor passed over.
#[test]
fn an_alertmanager_configuration_that_does_not_parse_is_listed() {
    let report = json_report("tests/alertmanager/broken.yaml");
    let listed = report["scanned"]["unevaluated"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:#?}");
    let entry = &listed[0];
    assert_eq!(entry["fact"], "endpoint", "{entry}");
    assert_eq!(entry["line"], 14, "{entry}");
    assert!(
        entry["reason"]
            .as_str()
            .unwrap()
            .contains("in a configuration text that does not parse"),
        "{entry}"
    );
    assert_eq!(report["summary"]["findings"], 0, "{report:#}");
}
