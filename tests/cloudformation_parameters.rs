//! CloudFormation parameter files: each file beside a template is an environment of it,
//! `--parameter-file` applies to every template, and a file with no template is listed.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use crate::common::scratch;
use sovscan::engine;
use sovscan::scan::{ScanRequest, ScanResult, run};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/GDPR-001")
        .join(name)
}

fn scan(request: ScanRequest) -> ScanResult {
    let kb = sovscan::knowledge::get().unwrap();
    let rules = engine::select_rules(
        engine::all_rules(&[]).unwrap(),
        &["GDPR-001".to_string()],
        &[],
    );
    let result = run(&request, &rules, kb).unwrap();
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    result
}

/// (line, note) of each finding.
fn found(result: &ScanResult) -> Vec<(u32, Option<String>)> {
    result
        .findings
        .iter()
        .map(|f| (f.location.start_line, f.resource.note.clone()))
        .collect()
}

#[test]
fn a_parameters_file_beside_the_template_is_an_environment() {
    let dir = case("cloudformation-parameters-file");
    let result = scan(ScanRequest {
        paths: vec![dir.clone()],
        ..Default::default()
    });
    assert_eq!(
        found(&result),
        [(
            17,
            Some("in environment reports.prod.parameters.json".to_string())
        )]
    );
    // The template alone: the condition is false with the defaults, nothing is created.
    let alone = scan(ScanRequest {
        paths: vec![dir.join("reports.yaml")],
        ..Default::default()
    });
    assert!(found(&alone).is_empty());
    assert_eq!(alone.not_created, 1);
}

#[test]
fn samconfig_sections_are_environments() {
    let result = scan(ScanRequest {
        paths: vec![case("cloudformation-samconfig")],
        ..Default::default()
    });
    assert_eq!(
        found(&result),
        [(16, Some("in environment samconfig.toml [live]".to_string()))]
    );
}

#[test]
fn parameter_file_flag_applies_to_every_template() {
    let dir = case("cloudformation-parameters-file");
    let result = scan(ScanRequest {
        paths: vec![dir.join("reports.yaml")],
        parameter_files: vec![dir.join("reports.prod.parameters.json")],
        ..Default::default()
    });
    // Given for the deployment: no environment to name.
    assert_eq!(found(&result), [(17, None)]);
    // `--parameter` wins over the file.
    let result = scan(ScanRequest {
        paths: vec![dir.join("reports.yaml")],
        parameter_files: vec![dir.join("reports.prod.parameters.json")],
        parameters: vec![("Env".into(), "dev".into())],
        ..Default::default()
    });
    assert!(found(&result).is_empty());
}

#[test]
fn a_parameters_file_without_its_template_is_listed() {
    let dir = scratch("cfn-params");
    for name in ["a.yaml", "b.yaml"] {
        std::fs::write(
            dir.join(name),
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("shared.parameters.json"),
        r#"[{"ParameterKey": "Env", "ParameterValue": "prod"}]"#,
    )
    .unwrap();
    let result = scan(ScanRequest {
        paths: vec![dir.to_path_buf()],
        ..Default::default()
    });
    assert!(
        result
            .skipped
            .iter()
            .any(|s| s.path.ends_with("shared.parameters.json")
                && s.reason.contains("paired with no template")),
        "{:?}",
        result.skipped
    );
}

/// A setting written as a condition the parameters' defaults decide is reported with the value
/// it comes to, not as the provider's default, and names the default that decided it.
#[test]
fn a_setting_decided_by_a_condition_is_reported_with_its_value() {
    let dir = scratch("cfn-decided");
    std::fs::write(
        dir.join("db.yaml"),
        "Parameters:\n  KeyStack:\n    Type: String\n    Default: ''\nConditions:\n  HasKey: !Not [!Equals [!Ref KeyStack, '']]\nResources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      Engine: postgres\n      StorageEncrypted: !If [HasKey, true, false]\n",
    )
    .unwrap();
    let result = scan(ScanRequest {
        paths: vec![dir.to_path_buf()],
        ..Default::default()
    });
    type Related = Vec<(u32, String)>;
    let messages: Vec<(u32, String, Related)> = result
        .findings
        .iter()
        .map(|f| {
            let related = f.related.iter();
            (
                f.location.start_line,
                f.message.clone(),
                related.map(|r| (r.start_line, r.field.clone())).collect(),
            )
        })
        .collect();
    assert_eq!(
        messages,
        vec![(
            12,
            "AWS::RDS::DBInstance Db stores data without encryption at rest (StorageEncrypted comes to false)"
                .to_string(),
            vec![(4, "Parameters.KeyStack.Default".to_string())]
        )]
    );
}

/// A setting given by a parameter's default is reported as written, with the default as a
/// related location; a value given for the deployment has no place in the template.
#[test]
fn a_setting_given_by_a_parameter_default_names_the_default() {
    let dir = scratch("cfn-default");
    std::fs::write(
        dir.join("volume.yaml"),
        "Parameters:\n  EncryptVolume:\n    Type: String\n    Default: 'false'\nResources:\n  Data:\n    Type: AWS::EC2::Volume\n    Properties:\n      AvailabilityZone: eu-central-1a\n      Size: 10\n      Encrypted: !Ref EncryptVolume\n",
    )
    .unwrap();
    let reported = |parameters: Vec<(String, String)>| -> Vec<(u32, String, Vec<u32>)> {
        scan(ScanRequest {
            paths: vec![dir.to_path_buf()],
            parameters,
            ..Default::default()
        })
        .findings
        .iter()
        .map(|f| {
            (
                f.location.start_line,
                f.message.clone(),
                f.related.iter().map(|r| r.start_line).collect(),
            )
        })
        .collect()
    };
    let message = "AWS::EC2::Volume Data stores data without encryption at rest (Encrypted = !Ref EncryptVolume)";
    assert_eq!(
        reported(Vec::new()),
        vec![(11, message.to_string(), vec![4])]
    );
    assert_eq!(
        reported(vec![("EncryptVolume".into(), "false".into())]),
        vec![(11, message.to_string(), Vec::new())]
    );
}

/// Through nested conditions, the default named is that of the parameter the innermost `!If`
/// reached compares: the one whose value gave the setting, not the first one read.
#[test]
fn a_setting_decided_by_nested_conditions_names_the_default_that_gave_it() {
    let dir = scratch("cfn-nested-decided");
    std::fs::write(
        dir.join("cluster.yaml"),
        "Parameters:\n  RestoreFrom:\n    Type: String\n    Default: ''\n  KeyStack:\n    Type: String\n    Default: ''\nConditions:\n  Restoring: !Not [!Equals [!Ref RestoreFrom, '']]\n  HasKey: !Not [!Equals [!Ref KeyStack, '']]\nResources:\n  Cluster:\n    Type: AWS::RDS::DBCluster\n    Properties:\n      Engine: aurora-postgresql\n      StorageEncrypted: !If [Restoring, !Ref 'AWS::NoValue', !If [HasKey, true, false]]\n",
    )
    .unwrap();
    let result = scan(ScanRequest {
        paths: vec![dir.to_path_buf()],
        ..Default::default()
    });
    let related: Vec<(u32, Vec<String>)> = result
        .findings
        .iter()
        .map(|f| {
            let fields = f.related.iter().map(|r| r.field.clone()).collect();
            (f.location.start_line, fields)
        })
        .collect();
    assert_eq!(
        related,
        vec![(16, vec!["Parameters.KeyStack.Default".to_string()])]
    );
}
