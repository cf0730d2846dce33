//! A rule pack's data conditions read the values the files give (a variable's default, a
//! parameter's), and a field only the deployment decides is listed as not evaluated: never
//! judged as written, which would report `var.x` as a value that is not `true`.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use assert_cmd::Command;
use std::path::Path;

fn report() -> serde_json::Value {
    let out = Command::cargo_bin("sovscan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "scan",
            "tests/rule_conditions/in",
            "--rules",
            "tests/rule_conditions/rules",
            "--select",
            "ORG-101,ORG-102",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn file(path: &serde_json::Value) -> String {
    let path = Path::new(path.as_str().unwrap());
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn conditions_judge_the_values_the_files_give_and_list_what_the_deployment_decides() {
    let report = report();
    let mut found: Vec<(String, String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["resource"]["name"].as_str().unwrap().to_string(),
                f["location"]["start_line"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    // Only the settings written as the values that break the rule; a variable or parameter
    // whose default is the right value is not one.
    assert_eq!(
        found,
        [
            ("ORG-101".to_string(), "scratch".to_string(), 25),
            ("ORG-102".to_string(), "Scratch".to_string(), 23),
            ("ORG-102".to_string(), "legacy".to_string(), 34),
        ]
    );
    let mut listed: Vec<(String, u64, String, String)> = report["scanned"]["unevaluated"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["fact"].as_str().unwrap().starts_with("ORG-"))
        .map(|u| {
            (
                file(&u["path"]),
                u["line"].as_u64().unwrap(),
                u["setting"].as_str().unwrap().to_string(),
                u["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            (
                "azuredeploy.json".to_string(),
                16,
                "properties.supportsHttpsTrafficOnly".to_string(),
                "`[parameters('reportsHttpsOnly')]` is decided at deployment".to_string(),
            ),
            (
                "main.tf".to_string(),
                13,
                "storage_encrypted".to_string(),
                "`var.encrypt_ledger` is decided at deployment".to_string(),
            ),
            (
                "template.yaml".to_string(),
                13,
                "Properties.VersioningConfiguration.Status".to_string(),
                "`!Ref InvoiceVersioning` is decided at deployment".to_string(),
            ),
        ]
    );
    for entry in report["scanned"]["unevaluated"].as_array().unwrap() {
        if entry["fact"] == "ORG-101" {
            assert_eq!(entry["resources"][0], "aws_db_instance.ledger");
        }
    }
}

/// What reads a setting at one place: the knowledge's facts and the rule pack's rules.
fn readers_at(report: &serde_json::Value, name: &str, line: u64) -> Vec<String> {
    let mut readers: Vec<String> = report["scanned"]["unevaluated"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| file(&u["path"]) == name && u["line"] == line)
        .map(|u| u["fact"].as_str().unwrap().to_string())
        .collect();
    readers.sort();
    readers
}

#[test]
fn the_knowledge_lists_its_own_reading_beside_the_rule_packs() {
    // One place read by a fact and by a rule is listed once for each: neither hides the other.
    assert_eq!(
        readers_at(&report(), "main.tf", 13),
        ["ORG-101", "encrypted"]
    );
    // Without the rule pack, only the knowledge's reading is listed.
    let out = Command::cargo_bin("sovscan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", "tests/rule_conditions/in", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(readers_at(&report, "main.tf", 13), ["encrypted"]);
    let listed = report["scanned"]["unevaluated"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .all(|u| !u["fact"].as_str().unwrap().starts_with("ORG-"))
    );
}
