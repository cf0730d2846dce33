//! The framework catalogue (`rules/knowledge/frameworks.yaml`): every built-in rule gives
//! evidence for at least one control, every rule a control or level names exists, control ids
//! are unique and edition-prefixed; `explain` and the JSON report list the controls; and
//! `docs/frameworks.md` is current (regenerate with
//! `cargo run -- rules frameworks > docs/frameworks.md`).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use assert_cmd::Command;
use sovscan::frameworks::{self, Status};

fn sovscan() -> Command {
    let mut cmd = Command::cargo_bin("sovscan").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn every_rule_maps_to_a_control_and_every_named_rule_exists() {
    let rules = sovscan::engine::all_rules(&[]).unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let catalogue = frameworks::catalogue().unwrap();
    let problems = frameworks::check(catalogue, &ids);
    assert!(problems.is_empty(), "{problems:#?}");
    for rule in &rules {
        assert!(
            !frameworks::controls_of(&rule.id).is_empty(),
            "{} maps to no control",
            rule.id
        );
    }
}

#[test]
fn the_catalogue_has_the_expected_frameworks_and_edition_prefixed_ids() {
    let catalogue = frameworks::catalogue().unwrap();
    let all: Vec<&str> = catalogue
        .iter()
        .flat_map(|f| f.controls.iter().map(|c| c.id.as_str()))
        .collect();
    for id in [
        "EUCSF:1.2.1-SOV-3",
        "EUCSF:1.2.1-SOV-5",
        "C5:2020-PSS-12",
        "C5:2026-GC-01",
        "C5:2026-PSS-12",
        "C3A:1.0-SOV-3-01",
        "SNC:3.2-19.2",
        "SNC:3.2-19.6",
        "GDPR-5.1.e",
        "GDPR-25",
        "GDPR-32",
        "GDPR-44",
        "GDPR-45",
        "GDPR-46",
    ] {
        assert!(all.contains(&id), "{id} missing from {all:?}");
    }
    for fw in catalogue {
        for c in &fw.controls {
            // Edition-prefixed: `<framework>:<edition>-<control>`, GDPR articles excepted.
            assert!(
                c.id.starts_with("GDPR-")
                    || c.id.split_once('-').is_some_and(|(p, _)| p.contains(':')),
                "{} has no edition prefix",
                c.id
            );
        }
    }
    // SEAL levels only where the framework publishes them, lowest first.
    let eucsf = catalogue.iter().find(|f| f.id == "eucsf").unwrap();
    let levels: Vec<&str> = eucsf.levels.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(levels, ["SEAL-1", "SEAL-2", "SEAL-3", "SEAL-4"]);
    assert!(
        catalogue
            .iter()
            .filter(|f| f.id != "eucsf")
            .all(|f| f.levels.is_empty())
    );
}

#[test]
fn explain_lists_the_controls_of_the_rule() {
    let out = sovscan().args(["explain", "RES-001"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let section = &text[text.find("Framework controls").expect(&text)..];
    for (_, control) in frameworks::controls_of("RES-001") {
        assert!(section.contains(&control.id), "{}: {section}", control.id);
    }
    assert!(section.contains("C5:2020-PSS-12"));
    assert!(section.contains("SNC:3.2-19.2"));
}

#[test]
fn json_report_statuses_follow_the_findings_and_the_rules_run() {
    let out = sovscan()
        .args(["scan", "fixtures/demo", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let control = |report: &serde_json::Value, id: &str| -> serde_json::Value {
        report["frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["controls"].as_array().unwrap().clone())
            .find(|c| c["id"] == id)
            .unwrap()
    };
    // GDPR-44: every active finding of its rules, by fingerprint.
    let c = control(&report, "GDPR-44");
    let rules: Vec<&str> = c["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let expected: std::collections::BTreeSet<&str> = findings
        .iter()
        .filter(|f| {
            rules.contains(&f["rule_id"].as_str().unwrap()) && f.get("suppression").is_none()
        })
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    // Each listed by its position in `findings`.
    let listed: std::collections::BTreeSet<&str> = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            findings[i.as_u64().unwrap() as usize]["fingerprint"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(listed, expected);
    assert_eq!(c["status"], "findings");
    assert_eq!(
        control(&report, "EUCSF:1.2.1-SOV-8")["status"],
        "not-assessable"
    );

    // Only GDPR rules run: residency controls are not assessed, not "no finding".
    let out = sovscan()
        .args([
            "scan",
            "fixtures/demo",
            "--format",
            "json",
            "--select",
            "gdpr",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(control(&report, "C5:2026-GC-01")["status"], "not-run");
    assert_eq!(control(&report, "GDPR-45")["status"], "not-run");
    assert_eq!(control(&report, "GDPR-32")["status"], "findings");
    // A control whose rules ran without a finding.
    let out = sovscan()
        .args([
            "scan",
            "fixtures/GDPR-001",
            "--format",
            "json",
            "--select",
            "RES-002",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(control(&report, "GDPR-45")["status"], "no-finding");
}

#[test]
fn status_words_are_the_documented_ones() {
    assert_eq!(Status::NoFinding.as_str(), "no finding");
    assert_eq!(Status::Findings.as_str(), "findings");
    assert_eq!(
        Status::NotAssessable.as_str(),
        "not assessable from configuration"
    );
}

#[test]
fn framework_docs_are_current() {
    let expected = frameworks::markdown(frameworks::catalogue().unwrap());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/frameworks.md");
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/frameworks.md is out of date: run `cargo run -- rules frameworks > docs/frameworks.md`"
    );
}
