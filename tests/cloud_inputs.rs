//! CloudFormation, ARM and AWS Config inputs end to end: detection of every shape they come
//! in, one report over a folder that mixes them with Kubernetes, and broken files reported.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::scratch;
use sovscan::load::{Format, load_bytes};
use sovscan::scan::{ScanRequest, run};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

fn formats(name: &str, text: &str) -> Vec<Format> {
    let outcome = load_bytes(name, text.as_bytes());
    assert!(outcome.error.is_none(), "{name}: {:?}", outcome.error);
    outcome.documents.iter().map(|d| d.format).collect()
}

#[test]
fn every_shape_is_detected() {
    let cases = [
        (
            "sam.yaml",
            "Transform: AWS::Serverless-2016-10-31\nResources: {}\n",
            Format::Cloudformation,
        ),
        (
            "loop.yaml",
            "Resources:\n  Fn::ForEach::Q:\n    - N\n    - [a]\n    - Q${N}: {Type: AWS::SQS::Queue}\n",
            Format::Cloudformation,
        ),
        (
            "stack.template",
            "{\"Resources\": {\"B\": {\"Type\": \"AWS::S3::Bucket\"}}}",
            Format::Cloudformation,
        ),
        (
            "sub.json",
            "{\"$schema\": \"https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#\", \"resources\": []}",
            Format::Arm,
        ),
        (
            "batch.json",
            "{\"baseConfigurationItems\": [], \"unprocessedResourceKeys\": []}",
            Format::AwsConfig,
        ),
        (
            "history.json",
            "{\"configurationItems\": []}",
            Format::AwsConfig,
        ),
        (
            "item.json",
            "{\"resourceType\": \"AWS::S3::Bucket\", \"awsRegion\": \"eu-west-1\"}",
            Format::AwsConfig,
        ),
    ];
    for (name, text, want) in cases {
        assert_eq!(formats(name, text), [want], "{name}");
    }
    // Plain YAML with a `Resources` key of other tools is not a template.
    assert!(
        load_bytes("other.yaml", b"Resources:\n  a: {Type: Something}\n")
            .documents
            .is_empty()
    );
}

#[test]
fn one_report_covers_every_format_and_broken_files() {
    let broken = scratch("cloud-inputs");
    std::fs::write(
        broken.join("stack.yaml"),
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties: [unclosed\n",
    )
    .unwrap();
    std::fs::write(
        broken.join("template.json"),
        "{\n  \"resources\": [\n    oops\n  ]\n}\n",
    )
    .unwrap();
    let request = ScanRequest {
        paths: vec![
            fixture("demo/k8s"),
            fixture("RES-001/arm"),
            fixture("RES-001/aws-config"),
            fixture("RES-003/cloudformation"),
            broken.to_path_buf(),
        ],
        list_resources: true,
        ..Default::default()
    };
    let kb = sovscan::knowledge::get().unwrap();
    let rules = sovscan::engine::all_rules(&[]).unwrap();
    let result = run(&request, &rules, kb).unwrap();
    drop(broken);

    assert_eq!(result.listed.len(), result.estate.resources);
    let scanned: BTreeSet<Format> = result
        .listed
        .load()
        .unwrap()
        .iter()
        .map(|r| r.format)
        .collect();
    let counted: BTreeSet<&str> = result.estate.by_format.keys().copied().collect();
    assert_eq!(counted, scanned.iter().map(|f| f.as_str()).collect());
    assert_eq!(
        scanned,
        BTreeSet::from([
            Format::Kubernetes,
            Format::Cloudformation,
            Format::Arm,
            Format::AwsConfig
        ])
    );
    let flagged: BTreeSet<String> = result
        .findings
        .iter()
        .map(|f| f.resource.format.clone())
        .collect();
    for format in ["kubernetes", "cloudformation", "arm", "aws-config"] {
        assert!(flagged.contains(format), "no finding for {format}");
    }
    let errors: Vec<(String, u32)> = result
        .errors
        .iter()
        .map(|e| {
            (
                Path::new(&e.path)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                e.line,
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("stack.yaml".to_string(), 5),
            ("template.json".to_string(), 3)
        ]
    );
}

/// A live source's inputs scanned batch by batch, as its pages come, give the findings,
/// counts and listing of the same inputs scanned at once.
#[test]
fn inputs_scanned_batch_by_batch_give_what_they_give_at_once() {
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    // What live sources give: Kubernetes objects and AWS Config items.
    let dirs = [
        "demo/k8s",
        "demo/aws-config",
        "RES-001/aws-config",
        "GDPR-001/aws-config",
        "GDPR-001/kubernetes",
        "GDPR-007/aws-config",
        "GDPR-007/kubernetes",
    ];
    // Objects as a live source gives them: no compressed files, no expectations.
    let mut files = Vec::new();
    for dir in dirs {
        collect_files(&fixture(dir), &mut files);
    }
    files.retain(|f| {
        let name = f.file_name().unwrap().to_string_lossy();
        !name.ends_with(".gz") && name != "expect.yaml"
    });
    for file in &files {
        let name = format!("live://{}", file.display());
        inputs.push((name, std::fs::read(file).unwrap()));
    }
    assert!(inputs.len() >= 10, "{}", inputs.len());
    let request = ScanRequest {
        list_resources: true,
        ..Default::default()
    };
    let kb = sovscan::knowledge::get().unwrap();
    let rules = sovscan::engine::all_rules(&[]).unwrap();
    let whole = sovscan::scan::run_inputs(&request, &inputs, &rules, kb);
    let mut scan = sovscan::scan::InputScan::new(&request, &rules, kb);
    for batch in inputs.chunks(3) {
        scan.add(batch);
    }
    let batched = scan.finish();
    assert!(whole.findings.len() >= 10, "{}", whole.findings.len());
    // The same files scanned from disk count as the inputs do.
    let request = ScanRequest {
        paths: files,
        ..Default::default()
    };
    let files = run(&request, &rules, kb).unwrap();
    assert_eq!(
        (files.files, files.documents, files.not_created),
        (whole.files, whole.documents, whole.not_created)
    );
    assert_eq!(files.estate.resources, whole.estate.resources);
    assert_eq!(files.findings.len(), whole.findings.len());
    assert_eq!(
        (batched.files, batched.documents, batched.estate.resources),
        (whole.files, whole.documents, whole.estate.resources)
    );
    assert_eq!(batched.estate.by_provider, whole.estate.by_provider);
    assert_eq!(batched.skipped, whole.skipped);
    assert_eq!(batched.errors, whole.errors);
    assert_eq!(batched.findings.into_vec(), whole.findings.into_vec());
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}
