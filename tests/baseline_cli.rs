//! Baselines, settings-file suppressions and the organisation's own policy: a gate on the
//! findings that are new and that the organisation does not accept.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use crate::common::{Scratch, scratch};
use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("sovscan")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("SOVSCAN_TODAY", "2026-06-01")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A repository (a folder with `.git`) holding a Terraform bucket and a Pod, each with one
/// finding below high.
fn repository() -> Scratch {
    let dir = scratch("baseline");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::create_dir_all(dir.join("infra")).unwrap();
    std::fs::write(dir.join("infra/main.tf"), MAIN_TF).unwrap();
    std::fs::write(dir.join("infra/pod.yaml"), POD).unwrap();
    dir
}

const MAIN_TF: &str = "provider \"aws\" {\n  region = \"eu-central-1\"\n}\n\nresource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"acme-logs\"\n}\n";
const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: nginx:1.27\n";
/// A Pod pinned to a US region, pulling from an EU registry: one RES-008 finding.
const US_POD: &str = "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: reports\nspec:\n  nodeSelector:\n    topology.kubernetes.io/region: us-east-1\n  containers:\n    - name: reports\n      image: rg.fr-par.scw.cloud/acme/reports:1.4\n";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// The JSON report follows `schema/report.schema.json`.
fn assert_schema(report: &Value) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json"),
    )
    .unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
}

fn states(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["baseline"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_baseline_survives_moved_lines_and_gates_only_the_new_finding() {
    let repo = repository();
    let (code, _, err) = run_in(&repo, &["scan", "infra", "--fail-on", "low"]);
    assert_eq!(
        code, 1,
        "the findings fail the gate without a baseline: {err}"
    );
    let (code, out, err) = run_in(
        &repo,
        &[
            "scan",
            "infra",
            "--fail-on",
            "low",
            "--write-baseline",
            "baseline.json",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("wrote baseline.json with 2 findings"), "{err}");
    let written = std::fs::read_to_string(repo.join("baseline.json")).unwrap();
    let (code, out, err) = run_in(
        &repo,
        &[
            "scan",
            "infra",
            "--fail-on",
            "low",
            "--baseline",
            "baseline.json",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 findings in the baseline"), "{out}");

    // Ten lines down in both files, and one resource outside the EU.
    let shifted = |text: &str| format!("{}{text}", "# moved\n".repeat(10));
    std::fs::write(repo.join("infra/main.tf"), shifted(MAIN_TF)).unwrap();
    std::fs::write(
        repo.join("infra/pod.yaml"),
        format!("{}{US_POD}", shifted(POD)),
    )
    .unwrap();
    let (code, out, err) = run_in(
        &repo,
        &[
            "scan",
            "infra",
            "--fail-on",
            "low",
            "--baseline",
            "baseline.json",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.trim_end()
            .ends_with("1 finding at or above low: exit 1"),
        "{out}"
    );
    let (_, out, _) = run_in(
        &repo,
        &[
            "scan",
            "infra",
            "--fail-on",
            "low",
            "--baseline",
            "baseline.json",
            "--format",
            "json",
        ],
    );
    let report = json(&out);
    assert_schema(&report);
    let mut states = states(&report);
    states.sort();
    assert_eq!(
        states,
        [
            ("HYP-001".to_string(), "unchanged".to_string()),
            ("RES-007".to_string(), "unchanged".to_string()),
            ("RES-008".to_string(), "new".to_string()),
        ]
    );
    assert_eq!(report["summary"]["findings"], 1, "{out}");
    assert_eq!(report["summary"]["baseline"], 2, "{out}");
    assert_eq!(report["summary"]["fixed_since_baseline"], 0, "{out}");
    // The baseline file itself did not change.
    assert_eq!(
        std::fs::read_to_string(repo.join("baseline.json")).unwrap(),
        written
    );
}

#[test]
fn the_baseline_file_is_sorted_versioned_and_independent_of_the_working_directory() {
    let repo = repository();
    let (code, _, err) = run_in(&repo, &["scan", "infra", "--write-baseline", "a.json"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run_in(
        &repo.join("infra"),
        &["scan", ".", "--write-baseline", "../b.json"],
    );
    assert_eq!(code, 0, "{err}");
    let a = std::fs::read_to_string(repo.join("a.json")).unwrap();
    let b = std::fs::read_to_string(repo.join("b.json")).unwrap();
    assert_eq!(
        a, b,
        "same findings, same bytes, whatever the working directory"
    );
    let parsed = json(&a);
    assert_eq!(parsed["version"], 1);
    let paths: Vec<&str> = parsed["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["infra/main.tf", "infra/pod.yaml"]);
}

#[test]
fn fixed_entries_are_counted_and_pruned() {
    let repo = repository();
    let (code, _, err) = run_in(&repo, &["scan", "infra", "--write-baseline", "b.json"]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_file(repo.join("infra/pod.yaml")).unwrap();
    let (code, out, err) = run_in(&repo, &["scan", "infra", "--baseline", "b.json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "1 findings in the baseline (listed in the JSON report), 1 fixed since the baseline."
        ),
        "{out}"
    );
    let (_, out, _) = run_in(
        &repo,
        &["scan", "infra", "--baseline", "b.json", "--format", "json"],
    );
    assert_eq!(json(&out)["summary"]["fixed_since_baseline"], 1, "{out}");
    // A run of other rules does not call the entries of unrun rules fixed.
    let (_, out, _) = run_in(
        &repo,
        &[
            "scan",
            "infra",
            "--baseline",
            "b.json",
            "--format",
            "json",
            "--select",
            "GDPR",
        ],
    );
    assert_eq!(json(&out)["summary"]["fixed_since_baseline"], 0, "{out}");

    let (code, out, err) = run_in(
        &repo,
        &["baseline", "prune", "--baseline", "b.json", "infra"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pruned 1 entry from b.json, 1 kept"), "{out}");
    let kept = json(&std::fs::read_to_string(repo.join("b.json")).unwrap());
    assert_eq!(kept["findings"].as_array().unwrap().len(), 1);
    assert_eq!(kept["findings"][0]["rule_id"], "HYP-001");
    let (_, out, _) = run_in(&repo, &["scan", "infra", "--baseline", "b.json"]);
    assert!(out.contains("0 fixed since the baseline"), "{out}");
    // Pruning needs a baseline to prune.
    let (code, _, err) = run_in(&repo, &["baseline", "prune", "infra"]);
    assert_eq!(code, 2);
    assert!(err.contains("needs --baseline FILE"), "{err}");
}

#[test]
fn sarif_carries_the_baseline_state() {
    let repo = repository();
    run_in(
        &repo,
        &["scan", "infra/main.tf", "--write-baseline", "b.json"],
    );
    let (_, out, _) = run_in(
        &repo,
        &["scan", "infra", "--baseline", "b.json", "--format", "sarif"],
    );
    let sarif = json(&out);
    let mut states: Vec<(String, String)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["baselineState"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    states.sort();
    assert_eq!(
        states,
        [
            ("HYP-001".to_string(), "unchanged".to_string()),
            ("RES-007".to_string(), "new".to_string()),
        ]
    );
    // Without a baseline there is no state.
    let (_, out, _) = run_in(&repo, &["scan", "infra", "--format", "sarif"]);
    assert!(!out.contains("baselineState"), "{out}");
}

#[test]
fn a_bad_baseline_is_a_usage_error() {
    let repo = repository();
    std::fs::write(
        repo.join("b.json"),
        r#"{"version": 1, "findings": [{"path": "infra/pod.yaml", "rule_id": "RES-0007", "address": "Pod/web", "fingerprint": "0123456789abcdef"}]}"#,
    )
    .unwrap();
    let (code, out, err) = run_in(&repo, &["scan", "infra", "--baseline", "b.json"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("b.json: baseline names unknown rule \"RES-0007\"; did you mean RES-007?"),
        "{err}"
    );
    std::fs::write(repo.join("b.json"), "{\"version\": 1, \"findings\": [}").unwrap();
    let (code, _, err) = run_in(&repo, &["scan", "infra", "--baseline", "b.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("b.json:1:"), "{err}");
    assert!(
        err.starts_with("error: ") && err.matches("error").count() == 1,
        "{err}"
    );
    let (code, _, err) = run_in(&repo, &["scan", "infra", "--baseline", "nope.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("nope.json"), "{err}");
}

// ---- suppressions in the settings file ------------------------------------------------------

const SETTINGS: &str = "fail_on: low\nsuppress:\n  - rule: HYP-001\n    path: infra/*.tf\n    reason: moving to an EU provider in Q3\n  - path: infra/legacy\n    reason: retired in March\n    until: 2026-12-31\n";

/// The repository with the Pod moved to `infra/legacy/` and `SETTINGS` at its root.
fn repository_with_settings() -> Scratch {
    let repo = repository();
    std::fs::create_dir_all(repo.join("infra/legacy")).unwrap();
    std::fs::rename(
        repo.join("infra/pod.yaml"),
        repo.join("infra/legacy/pod.yaml"),
    )
    .unwrap();
    std::fs::write(repo.join(".sovscan.yaml"), SETTINGS).unwrap();
    repo
}

#[test]
fn settings_suppressions_match_paths_relative_to_the_settings_file() {
    let repo = repository_with_settings();
    // From the root and from inside the scanned folder: the globs are the file's, not the
    // working directory's.
    for (dir, path) in [(repo.to_path_buf(), "infra"), (repo.join("infra"), ".")] {
        let (code, out, err) = run_in(&dir, &["scan", path, "--format", "json"]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(err.is_empty(), "{err}");
        let report = json(&out);
        assert_schema(&report);
        let mut suppressions: Vec<(String, String, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule_id"].as_str().unwrap().to_string(),
                    f["suppression"]["kind"].as_str().unwrap().to_string(),
                    f["suppression"]["reason"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        suppressions.sort();
        assert_eq!(
            suppressions,
            [
                (
                    "HYP-001".to_string(),
                    "settings".to_string(),
                    "moving to an EU provider in Q3".to_string()
                ),
                (
                    "RES-007".to_string(),
                    "settings".to_string(),
                    "retired in March".to_string()
                ),
            ]
        );
    }
    let (_, out, _) = run_in(&repo, &["scan", "infra", "--format", "sarif"]);
    let sarif = json(&out);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let hyp = results.iter().find(|r| r["ruleId"] == "HYP-001").unwrap();
    let first = &hyp["suppressions"][0];
    assert_eq!(first["kind"], "external", "{out}");
    assert!(
        first["justification"]
            .as_str()
            .unwrap()
            .contains("EU provider")
    );
}

#[test]
fn an_expired_settings_suppression_reports_the_finding_again() {
    let repo = repository_with_settings();
    let out = Command::cargo_bin("sovscan")
        .unwrap()
        .current_dir(&repo)
        .env("NO_COLOR", "1")
        .env("SOVSCAN_TODAY", "2027-01-01")
        .args(["scan", "infra"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains(".sovscan.yaml:6: suppression of RES-007 expired on 2026-12-31; infra/legacy/pod.yaml:8 is reported again"),
        "{stderr}"
    );
    assert!(stdout.contains("RES-007"), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .ends_with("1 finding at or above low: exit 1"),
        "{stdout}"
    );
}

#[test]
fn settings_suppressions_by_resource_and_fingerprint() {
    let repo = repository();
    let (_, out, _) = run_in(&repo, &["scan", "infra", "--format", "json"]);
    let report = json(&out);
    let pod = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "RES-007")
        .unwrap();
    let fingerprint = pod["fingerprint"].as_str().unwrap();
    std::fs::write(
        repo.join(".sovscan.yaml"),
        format!(
            "fail_on: low\nsuppress:\n  - fingerprint: {fingerprint}\n    reason: mirror pending\n  - resource: aws_s3_bucket.logs\n    reason: log bucket moves in Q3\n"
        ),
    )
    .unwrap();
    let (code, out, err) = run_in(&repo, &["scan", "infra"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 findings suppressed"), "{out}");
}

#[test]
fn bad_settings_suppressions_are_usage_errors_with_their_line() {
    let repo = repository();
    let cases = [
        (
            "suppress:\n  - rule: RES-0007\n    reason: x\n",
            ".sovscan.yaml:2:1: suppress entry names unknown rule \"RES-0007\"; did you mean RES-007?",
        ),
        ("suppress:\n  - rule: RES-007\n", "missing field reason"),
        (
            "suppress:\n  - reason: everything\n",
            ".sovscan.yaml:2:1: suppress entry names no rule, path, resource or fingerprint",
        ),
        (
            "suppress:\n  - rule: RES-007\n    reason: x\n    until: next week\n",
            ".sovscan.yaml:2:1: until \"next week\" is not a date (YYYY-MM-DD)",
        ),
        (
            "suppress:\n  - path: \"infra/[\"\n    reason: x\n",
            ".sovscan.yaml:2:1: path \"infra/[\" is not a glob",
        ),
    ];
    for (settings, expected) in cases {
        std::fs::write(repo.join(".sovscan.yaml"), settings).unwrap();
        let (code, out, err) = run_in(&repo, &["scan", "infra"]);
        assert_eq!(code, 2, "{settings}: {out}{err}");
        assert!(err.contains(expected), "{settings}: {err}");
    }
}

#[test]
fn settings_excludes_are_relative_to_the_settings_file() {
    let repo = repository_with_settings();
    std::fs::write(
        repo.join(".sovscan.yaml"),
        "fail_on: low\nexclude: [infra/legacy]\n",
    )
    .unwrap();
    for (dir, path) in [(repo.to_path_buf(), "infra"), (repo.join("infra"), ".")] {
        let (_, out, err) = run_in(&dir, &["scan", path, "--format", "json"]);
        let report = json(&out);
        assert_eq!(report["scanned"]["files"], 1, "{out}{err}");
        assert!(!out.contains("pod.yaml"), "{out}");
    }
}

// ---- the organisation's own policy ----------------------------------------------------------

#[test]
fn allowed_countries_quiet_the_residency_rules_for_them() {
    let repo = repository();
    std::fs::remove_file(repo.join("infra/pod.yaml")).unwrap();
    std::fs::write(
        repo.join("infra/main.tf"),
        MAIN_TF.replace("eu-central-1", "eu-central-2"),
    )
    .unwrap();
    let rules = |profile: &str| {
        let (_, out, err) = run_in(
            &repo,
            &[
                "scan",
                "infra",
                "--select",
                "RES",
                "--format",
                "json",
                "--profile",
                profile,
            ],
        );
        let report: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}{err}"));
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule_id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    // Zurich is in an adequacy country: a low finding under eu, outside strict.
    assert_eq!(rules("eu"), ["RES-002"]);
    assert_eq!(rules("strict"), ["RES-001"]);
    std::fs::write(repo.join(".sovscan.yaml"), "allow:\n  countries: [ch]\n").unwrap();
    assert!(rules("eu").is_empty());
    assert!(rules("strict").is_empty());
    // Other countries are judged as before.
    std::fs::write(
        repo.join("infra/main.tf"),
        MAIN_TF.replace("eu-central-1", "us-east-1"),
    )
    .unwrap();
    assert_eq!(rules("eu"), ["RES-001"]);
    std::fs::write(repo.join(".sovscan.yaml"), "allow:\n  countries: [Swiss]\n").unwrap();
    let (code, _, err) = run_in(&repo, &["scan", "infra"]);
    assert_eq!(code, 2);
    assert!(
        err.contains(".sovscan.yaml:2:15: country \"Swiss\" is not a two-letter ISO code"),
        "{err}"
    );
}

/// A rule of a pack: a data condition on Deployments, with its examples.
fn host_network_rule(id: &str, pass_value: &str) -> String {
    let deployment = |value: &str| {
        format!(
            "    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      template:\n        spec:\n          hostNetwork: {value}\n"
        )
    };
    format!(
        "id: {id}\nname: no-host-network-{}\ncategory: gdpr\nseverity: high\ntitle: Pods share the node's network\nmessage: \"{{kind}} {{name}} sets hostNetwork: {{value}}\"\nwhy: Pods on the host network see all node traffic.\nfix: Remove hostNetwork.\nreferences: [GDPR-32]\napplies_to: [kubernetes]\nmatch:\n  kinds: [Deployment]\nfail_if:\n  field: spec.template.spec.hostNetwork\n  equals: true\nexamples:\n  fail: |\n{}  pass: |\n{}",
        id.to_ascii_lowercase(),
        deployment("true"),
        deployment(pass_value)
    )
}

/// A pack rule on a built-in check, with Terraform examples.
const REGION_RULE: &str = "id: ORG-003\nname: org-region\ncategory: residency\nseverity: high\ntitle: Outside the EU\nmessage: \"{address} is in {region}\"\nwhy: Data stays in the EU.\nfix: Move it.\nreferences: [GDPR-44]\napplies_to: [terraform]\ncheck: region_outside_allowed\nexamples:\n  fail: |\n    provider \"aws\" {\n      region = \"us-east-1\"\n    }\n    resource \"aws_s3_bucket\" \"b\" {\n      bucket = \"b\"\n    }\n  pass: |\n    provider \"aws\" {\n      region = \"eu-west-3\"\n    }\n    resource \"aws_s3_bucket\" \"b\" {\n      bucket = \"b\"\n    }\n";

#[test]
fn rules_test_runs_the_examples_of_a_pack() {
    let repo = repository();
    let pack = repo.join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    std::fs::write(
        pack.join("ORG-001.yaml"),
        host_network_rule("ORG-001", "false"),
    )
    .unwrap();
    std::fs::write(pack.join("ORG-003.yaml"), REGION_RULE).unwrap();
    let (code, out, err) = run_in(&repo, &["rules", "test", "pack"]);
    assert_eq!(code, 0, "{out}{err}");
    for line in [
        "ORG-001: fail example ok",
        "ORG-001: pass example ok",
        "ORG-003: fail example ok",
        "ORG-003: pass example ok",
        "4 examples of 2 rules run, 0 wrong",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
    // A pass example that the rule flags is the wrong answer.
    std::fs::write(
        pack.join("ORG-002.yaml"),
        host_network_rule("ORG-002", "true"),
    )
    .unwrap();
    let (code, out, err) = run_in(&repo, &["rules", "test", "pack"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(
            "ORG-002: pass example gives a finding (line 8: Deployment web sets hostNetwork: true)"
        ),
        "{out}"
    );
    assert!(out.contains("6 examples of 3 rules run, 1 wrong"), "{out}");
    let (code, _, err) = run_in(&repo, &["rules", "test", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("nope: no such folder"), "{err}");
}

#[test]
fn own_registries_are_judged_by_their_country() {
    let repo = repository();
    std::fs::write(
        repo.join("infra/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: registry.acme.us/shop/web:1.0\n    - name: side\n      image: cr.acme.de/shop/side:1.0\n",
    )
    .unwrap();
    let messages = |repo: &Path| {
        let (_, out, err) = run_in(
            repo,
            &["scan", "infra", "--select", "RES-007", "--format", "json"],
        );
        let report: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}{err}"));
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    // Unknown hosts are not judged.
    assert!(messages(&repo).is_empty());
    std::fs::write(
        repo.join(".sovscan.yaml"),
        "registries:\n  acme.us: US\n  cr.acme.de: de\n",
    )
    .unwrap();
    assert_eq!(
        messages(&repo),
        [
            "Image registry.acme.us/shop/web:1.0 is pulled from the organisation's registry (registry.acme.us), located in US (third-country)"
        ]
    );
    // A country the organisation allows is not a finding.
    std::fs::write(
        repo.join(".sovscan.yaml"),
        "registries:\n  acme.us: US\nallow:\n  countries: [US]\n",
    )
    .unwrap();
    assert!(messages(&repo).is_empty());
}
