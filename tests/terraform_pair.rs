//! The same configuration as Terraform HCL and as plan JSON must give the same findings (rule,
//! resource address, region), except for resources whose values only the plan knows.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sovscan::engine;
use sovscan::scan::{ScanRequest, run};

/// Resources whose location HCL cannot know (`var.archive_location` has no default).
const ONLY_THE_PLAN_KNOWS: &[&str] = &["google_storage_bucket.archive"];

type Key = (String, String, Option<String>);

fn findings(path: PathBuf) -> BTreeSet<Key> {
    let kb = sovscan::knowledge::get().unwrap();
    let rules = engine::all_rules(&[]).unwrap();
    let request = ScanRequest {
        paths: vec![path],
        ..Default::default()
    };
    let result = run(&request, &rules, kb).unwrap();
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    result
        .findings
        .into_iter()
        .map(|f| {
            (
                f.rule_id.to_string(),
                f.resource.address.clone(),
                f.resource.region.clone(),
            )
        })
        .collect()
}

fn pair() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/paired/terraform")
}

#[test]
fn hcl_and_plan_json_give_the_same_findings() {
    let hcl = findings(pair().join("hcl"));
    let plan = findings(pair().join("plan.json"));
    let comparable = |set: &BTreeSet<Key>| -> BTreeSet<Key> {
        set.iter()
            .filter(|(_, address, _)| !ONLY_THE_PLAN_KNOWS.contains(&address.as_str()))
            .cloned()
            .collect()
    };
    let (hcl_only, plan_only): (Vec<_>, Vec<_>) = (
        comparable(&hcl)
            .difference(&comparable(&plan))
            .cloned()
            .collect(),
        comparable(&plan)
            .difference(&comparable(&hcl))
            .cloned()
            .collect(),
    );
    assert!(
        hcl_only.is_empty() && plan_only.is_empty(),
        "only in HCL: {hcl_only:#?}\nonly in plan: {plan_only:#?}"
    );
    // Every rule family is exercised, so the comparison says something.
    for rule in [
        "RES-001", "RES-004", "RES-005", "GDPR-001", "GDPR-005", "HYP-001", "HYP-002",
    ] {
        assert!(
            hcl.iter().any(|(r, _, _)| r == rule),
            "no {rule} finding in the pair"
        );
    }
}

#[test]
fn what_only_the_plan_knows_is_unknown_in_hcl() {
    let archive = ONLY_THE_PLAN_KNOWS[0].to_string();
    let hcl = findings(pair().join("hcl"));
    let plan = findings(pair().join("plan.json"));
    assert!(
        hcl.contains(&("RES-003".into(), archive.clone(), None)),
        "{hcl:#?}"
    );
    assert!(
        plan.contains(&("RES-004".into(), archive, Some("US".into()))),
        "{plan:#?}"
    );
}

#[test]
fn module_calls_are_located_by_their_callers_in_hcl_and_plan() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules");
    let hcl = findings(root.join("terraform"));
    let plan = findings(root.join("plan.json"));
    assert_eq!(hcl, plan);
    let located = |address: &str, region: &str| {
        hcl.contains(&("RES-001".into(), address.into(), Some(region.into())))
    };
    assert!(
        located("module.export.aws_s3_bucket.this", "us-east-1"),
        "{hcl:#?}"
    );
    assert!(
        located(
            "module.analytics.azurerm_log_analytics_workspace.this",
            "eastus"
        ),
        "{hcl:#?}"
    );
    assert!(
        !hcl.iter()
            .any(|(r, a, _)| r == "RES-001" && a.starts_with("module.media"))
    );
    assert!(
        !hcl.iter()
            .any(|(r, a, _)| r == "RES-001" && a.starts_with("module.ops"))
    );
    assert!(!hcl.iter().any(|(r, _, _)| r == "RES-003"), "{hcl:#?}");
}
