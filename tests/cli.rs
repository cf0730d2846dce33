//! The binary as users run it: exit codes, formats, determinism, errors and snapshots.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use crate::common::scratch;
use assert_cmd::Command;
use std::path::Path;

fn sovscan() -> Command {
    let mut cmd = Command::cargo_bin("sovscan").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("CI_COLOR")
        .env_remove("SOVSCAN_TIMINGS");
    cmd
}

fn stdout_of(args: &[&str]) -> (i32, String, String) {
    let out = sovscan().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Removes what changes between releases (versions) so snapshots only move when output does.
fn stable(text: &str) -> String {
    text.replace(env!("CARGO_PKG_VERSION"), "[version]")
}

#[test]
fn demo_has_findings_and_exits_1() {
    let (code, out, _) = stdout_of(&["scan", "fixtures/demo", "--no-color"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("RES-007"), "{out}");
    assert!(out.contains("fixtures/demo/k8s/storefront.yaml"), "{out}");
    insta::assert_snapshot!("demo_table", stable(&out));
}

#[test]
fn timings_are_printed_only_when_asked_for() {
    let quiet = sovscan()
        .args(["scan", "fixtures/demo/k8s/ingress.yaml"])
        .output()
        .unwrap();
    let timed = sovscan()
        .args(["scan", "fixtures/demo/k8s/ingress.yaml"])
        .env("SOVSCAN_TIMINGS", "1")
        .output()
        .unwrap();
    let quiet_err = String::from_utf8(quiet.stderr).unwrap();
    let timed_err = String::from_utf8(timed.stderr).unwrap();
    assert!(!quiet_err.contains(" ms\n"), "{quiet_err}");
    for phase in ["knowledge base", "load, and extract", "scan", "reports"] {
        assert!(
            timed_err.contains(&format!("sovscan: {phase}")),
            "{phase} missing: {timed_err}"
        );
    }
    // Timing changes nothing else.
    assert_eq!(quiet.stdout, timed.stdout);
    assert_eq!(quiet.status.code(), timed.status.code());
}

/// A resource that names no location is where its provider makes it (`default_location`):
/// an IONOS bucket in eu-central-3. The file's other resources are in the US: an IONOS bucket
/// and three Hetzner resources.
#[test]
fn a_default_location_places_the_resource() {
    let (_, out, err) = stdout_of(&[
        "scan",
        "fixtures/RES-001/terraform/eu_providers.tf",
        "--format",
        "json",
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let by_location = &report["summary"]["resources_by_location"];
    assert_eq!(by_location["eu"], 1, "{by_location}");
    assert_eq!(by_location["third-country"], 4, "{by_location}");
}

/// A resource in a region of an EU-operated offering counts under the offering, with its
/// control: S3NS and Bleu from the EU, the AWS European Sovereign Cloud from the US.
#[test]
fn the_estate_counts_offerings_under_their_operator() {
    let (_, out, err) = stdout_of(&[
        "scan",
        "fixtures/HYP-001/terraform/sovereign_offerings.tf",
        "--format",
        "json",
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let summary = &report["summary"];
    let providers: Vec<(String, String)> = summary["resources_by_provider"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["provider"].as_str().unwrap().to_string(),
                p["control"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [("aws-esc", "third-country"), ("bleu", "eu"), ("s3ns", "eu")];
    for (provider, control) in expected {
        assert!(
            providers.contains(&(provider.to_string(), control.to_string())),
            "{provider} {control}: {providers:?}"
        );
    }
    assert_eq!(summary["eu_controlled_percent"], 66, "{summary}");
}

/// The estate summary ties a resource to the provider its findings name (a Service annotated
/// for AWS load balancers), whether or not those findings' rules are selected.
#[test]
fn a_selection_leaves_the_estate_summary_as_it_is() {
    let summary = |args: &[&str]| {
        let mut all = vec!["scan", "fixtures/demo", "--format", "json"];
        all.extend(args);
        let (_, out, err) = stdout_of(&all);
        let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| {
            panic!("{args:?}: {e}: {err}");
        });
        let summary = &report["summary"];
        (
            summary["resources_by_provider"].clone(),
            summary["eu_controlled_percent"].clone(),
            summary["data_in_eu_percent"].clone(),
        )
    };
    let whole = summary(&[]);
    let tied: Vec<&str> = whole
        .0
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["provider"].as_str().unwrap())
        .collect();
    assert!(tied.contains(&"aws") && tied.contains(&"gcp"), "{whole:?}");
    // The rules that tie the demo's Kubernetes resources to AWS and Google Cloud (HYP-003,
    // HYP-004, HYP-005, HYP-011) are left out by each of these.
    for selection in [
        &["--select", "GDPR"][..],
        &["--select", "RES-001"],
        &["--ignore", "HYP"],
    ] {
        assert_eq!(summary(selection), whole, "{selection:?}");
    }
}

#[test]
fn demo_json_is_valid_sorted_and_deterministic() {
    let (code, first, _) = stdout_of(&["scan", "fixtures/demo", "--format", "json"]);
    assert_eq!(code, 1);
    let (_, second, _) = stdout_of(&["scan", "fixtures/demo", "--format", "json"]);
    assert_eq!(first, second, "two runs differ");

    let report: serde_json::Value = serde_json::from_str(&first).unwrap();
    let schema_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json"),
    )
    .unwrap();
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");

    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    let keys: Vec<(String, u64, u64, String)> = findings
        .iter()
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_string(),
                f["location"]["start_line"].as_u64().unwrap(),
                f["location"]["start_column"].as_u64().unwrap(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "findings are not sorted by path, line, column, rule"
    );
    // Secrets never reach the report.
    assert!(!first.contains("Sup3r-S3cret-Passw0rd"));
    insta::assert_snapshot!("demo_json", stable(&first));
}

#[test]
fn clean_folder_exits_0_and_fail_on_moves_the_gate() {
    let dir = scratch("cli");
    std::fs::write(
        dir.join("app.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n    - name: a\n      image: rg.fr-par.scw.cloud/x/a:1\n",
    )
    .unwrap();
    let (code, out, _) = stdout_of(&["scan", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    // A medium finding (Docker Hub image) fails `--fail-on medium` but not the default `high`.
    std::fs::write(
        dir.join("hub.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n  containers:\n    - name: b\n      image: nginx:1.27\n",
    )
    .unwrap();
    assert_eq!(stdout_of(&["scan", dir.to_str().unwrap()]).0, 0);
    assert_eq!(
        stdout_of(&["scan", dir.to_str().unwrap(), "--fail-on", "medium"]).0,
        1
    );
    assert_eq!(
        stdout_of(&[
            "scan",
            dir.to_str().unwrap(),
            "--fail-on",
            "never",
            "--format",
            "json"
        ])
        .0,
        0
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(stdout_of(&["scan", "--no-such-flag"]).0, 2);
    assert_eq!(stdout_of(&["explain", "NOPE-999"]).0, 2);
    let dir = scratch("cli");
    std::fs::write(dir.join("broken.yaml"), "id: X-001\nname: [unclosed\n").unwrap();
    let (code, _, err) = stdout_of(&["scan", "fixtures/demo", "--rules", dir.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("broken.yaml"), "{err}");
}

#[test]
fn broken_yaml_is_reported_and_the_rest_is_scanned() {
    let dir = scratch("cli");
    std::fs::write(
        dir.join("bad.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: [oops\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("good.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n  containers:\n    - name: b\n      image: nginx:1.27\n",
    )
    .unwrap();
    let (code, out, err) = stdout_of(&[
        "scan",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "medium",
    ]);
    assert_eq!(code, 1, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let errors = report["scanned"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(errors[0]["path"].as_str().unwrap().ends_with("bad.yaml"));
    assert!(errors[0]["line"].as_u64().unwrap() >= 3);
    assert!(err.contains("bad.yaml:"), "{err}");
    assert_eq!(report["findings"][0]["rule_id"], "RES-007");
    // --strict turns unparseable input into exit 2.
    assert_eq!(stdout_of(&["scan", dir.to_str().unwrap(), "--strict"]).0, 2);
}

#[test]
fn select_ignore_and_stdin() {
    let (_, out, _) = stdout_of(&[
        "scan",
        "fixtures/demo",
        "--format",
        "json",
        "--select",
        "hyperscaler",
    ]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["category"] == "hyperscaler")
    );
    let (_, out, _) = stdout_of(&[
        "scan",
        "fixtures/demo",
        "--format",
        "json",
        "--ignore",
        "RES,GDPR-008",
    ]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.iter()
            .any(|id| id.starts_with("RES") || *id == "GDPR-008"),
        "{ids:?}"
    );
    assert!(ids.contains(&"HYP-003"));

    let manifest = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n    - name: x\n      image: quay.io/a/b:1\n";
    let out = sovscan()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(manifest)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["location"]["path"], "-");
    assert_eq!(report["findings"][0]["location"]["start_line"], 8);
}

#[test]
fn every_rule_is_listed_and_explained() {
    let (code, out, _) = stdout_of(&["rules", "list", "--format", "json"]);
    assert_eq!(code, 0);
    let rules: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert!(rules.len() >= 17);
    for rule in &rules {
        let id = rule["id"].as_str().unwrap();
        let (code, text, _) = stdout_of(&["explain", id]);
        assert_eq!(code, 0, "{id}");
        assert!(
            text.contains("Why") && text.contains("How to fix"),
            "{id}: {text}"
        );
        let name = rule["name"].as_str().unwrap();
        assert_eq!(stdout_of(&["rules", "show", name]).1, text);
    }
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    insta::assert_snapshot!("rule_ids", ids.join("\n"));
}

#[test]
fn version_names_the_knowledge_base() {
    let (code, out, _) = stdout_of(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.contains("knowledge base 20"), "{out}");
}

#[test]
fn helm_charts_and_other_yaml_are_listed_as_skipped() {
    let dir = scratch("cli");
    std::fs::create_dir_all(dir.join("chart/templates")).unwrap();
    std::fs::write(
        dir.join("chart/Chart.yaml"),
        "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("chart/templates/deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "replicaCount: 1\n").unwrap();
    let (_, out, _) = stdout_of(&["scan", dir.to_str().unwrap(), "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let skipped = report["scanned"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 3, "{skipped:#?}");
    assert!(
        skipped
            .iter()
            .any(|s| s["reason"].as_str().unwrap().contains("helm template"))
    );
    assert!(report["scanned"]["errors"].as_array().unwrap().is_empty());
}

#[test]
fn templates_in_chart_subfolders_and_template_sources_are_listed_not_broken() {
    let dir = scratch("cli");
    std::fs::create_dir_all(dir.join("deploy/charts/shop/templates/jobs")).unwrap();
    std::fs::create_dir_all(dir.join("deploy/raw")).unwrap();
    std::fs::write(
        dir.join("deploy/charts/shop/Chart.yaml"),
        "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
    )
    .unwrap();
    // A template in a subfolder of templates/: not a parse error.
    std::fs::write(
        dir.join("deploy/charts/shop/templates/jobs/backup.yaml"),
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ include \"shop.fullname\" . }}\n{{- with .Values.x }}\n  labels: {{ toYaml . | nindent 4 }}\n{{- end }}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("deploy/charts/shop/templates/_helpers.tpl"),
        "{{- define \"shop.fullname\" -}}shop{{- end }}\n",
    )
    .unwrap();
    // Go-templated YAML outside a chart and template sources beside plain files.
    std::fs::write(
        dir.join("deploy/raw/ingress.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n{{- if .Tls }}\nspec: {}\n{{- end }}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("deploy/raw/deployment.yaml.tpl"),
        "apiVersion: apps/v1\nkind: Deployment\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("deploy/raw/values.yaml.j2"),
        "image: {{ image }}\n",
    )
    .unwrap();
    let (code, out, _) = stdout_of(&["scan", dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        report["scanned"]["errors"].as_array().unwrap().is_empty(),
        "{:#?}",
        report["scanned"]["errors"]
    );
    let skipped: Vec<String> = report["scanned"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap().replace('\\', "/"))
        .collect();
    for name in [
        "shop/Chart.yaml",
        "templates/jobs/backup.yaml",
        "templates/_helpers.tpl",
        "raw/ingress.yaml",
        "raw/deployment.yaml.tpl",
        "raw/values.yaml.j2",
    ] {
        assert!(
            skipped.iter().any(|p| p.ends_with(name)),
            "{name} not listed: {skipped:#?}"
        );
    }
}

#[test]
fn completions_print() {
    let (code, out, _) = stdout_of(&["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(out.contains("sovscan"));
}

#[test]
fn suppressions_inline_and_by_annotation() {
    let dir = scratch("cli");
    std::fs::write(
        dir.join("pods.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n    - name: a\n      # sovscan:ignore RES-007 reason=\"mirrored next sprint\"\n      image: nginx:1.27\n    - name: b\n      image: quay.io/x/b:1 # sovscan:ignore RES-007 reason=\"old\" until=2020-01-01\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: c\n  annotations:\n    sovscan.dev/ignore: RES-007\n    sovscan.dev/ignore-reason: vendor image\nspec:\n  containers:\n    - name: c\n      image: ghcr.io/x/c:1\n",
    )
    .unwrap();
    let (code, out, err) = stdout_of(&[
        "scan",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--select",
        "RES-007",
        "--fail-on",
        "medium",
    ]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3, "{out}");
    let by_line = |line: u64| {
        findings
            .iter()
            .find(|f| f["location"]["start_line"] == line)
            .unwrap()
    };
    assert_eq!(by_line(9)["suppression"]["kind"], "inline");
    assert_eq!(by_line(9)["suppression"]["reason"], "mirrored next sprint");
    assert!(
        by_line(11).get("suppression").is_none(),
        "expired suppression still applied"
    );
    assert_eq!(by_line(23)["suppression"]["kind"], "metadata");
    assert_eq!(report["summary"]["suppressed"], 2);
    assert_eq!(report["summary"]["findings"], 1);
    assert!(err.contains("expired on 2020-01-01"), "{err}");
    // The expired one still fails the gate; without it the scan passes.
    assert_eq!(code, 1);
    std::fs::write(
        dir.join("pods.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n    - name: a\n      image: nginx:1.27 # sovscan:ignore RES-007\n",
    )
    .unwrap();
    let (code, _, err) = stdout_of(&[
        "scan",
        dir.to_str().unwrap(),
        "--select",
        "RES-007",
        "--fail-on",
        "medium",
    ]);
    assert_eq!(code, 0);
    assert!(err.contains("has no reason"), "{err}");
}

#[test]
fn sarif_and_github_outputs() {
    let (code, out, _) = stdout_of(&["scan", "fixtures/demo", "--format", "sarif"]);
    assert_eq!(code, 1);
    let sarif: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let (_, json, _) = stdout_of(&["scan", "fixtures/demo", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(results.len(), report["findings"].as_array().unwrap().len());
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(rules[index]["properties"]["security-severity"].is_string());
        assert!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                >= 1
        );
    }
    let (_, github, _) = stdout_of(&["scan", "fixtures/demo", "--format", "github"]);
    // At most 10 annotations per level; the rest are counted on the last line.
    let annotations = github.lines().filter(|l| l.starts_with("::")).count();
    let rest: usize = github
        .lines()
        .last()
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert_eq!(annotations + rest, results.len(), "{github}");
}

#[test]
fn settings_file_is_found_upward_and_flags_override_it() {
    let dir = scratch("cli");
    // Settings are looked for up to the repository root.
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::create_dir_all(dir.join("k8s")).unwrap();
    std::fs::write(
        dir.join("k8s/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n    - name: a\n      image: nginx:1.27\n",
    )
    .unwrap();
    // Without settings a medium finding passes the default gate.
    assert_eq!(stdout_of(&["scan", dir.join("k8s").to_str().unwrap()]).0, 0);
    std::fs::write(
        dir.join(".sovscan.yaml"),
        "fail_on: medium\nseverity:\n  RES-007: low\n",
    )
    .unwrap();
    // The override lowers RES-007 to low, so `fail_on: medium` still passes …
    let (code, out, _) = stdout_of(&[
        "scan",
        dir.join("k8s").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["findings"][0]["severity"], "low");
    // … and the command line wins over the file.
    assert_eq!(
        stdout_of(&[
            "scan",
            dir.join("k8s").to_str().unwrap(),
            "--fail-on",
            "low"
        ])
        .0,
        1
    );
    std::fs::write(
        dir.join(".sovscan.yaml"),
        "fail_on: medium\nprofil: strict\n",
    )
    .unwrap();
    let (code, _, err) = stdout_of(&["scan", dir.join("k8s").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains(".sovscan.yaml:2:"), "{err}");
}

#[test]
fn one_report_covers_every_input_format_of_the_demo() {
    let (_, out, _) = stdout_of(&["scan", "fixtures/demo", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let formats = report["summary"]["resources_by_format"]
        .as_object()
        .unwrap();
    for format in [
        "kubernetes",
        "terraform",
        "cloudformation",
        "arm",
        "aws-config",
    ] {
        assert!(
            formats.get(format).and_then(|n| n.as_u64()).unwrap_or(0) > 0,
            "{format}: {formats:?}"
        );
    }
    let finding_formats: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"]["format"].as_str().unwrap())
        .collect();
    assert_eq!(finding_formats.len(), 5, "{finding_formats:?}");
}

#[test]
fn credentials_stay_redacted_in_every_format() {
    let secrets = [
        "Orders-2024!",
        "r3p0rt-Reader",
        "pg-Orders-77",
        "Legacy#2019",
        "my-Sql-pass",
        "bXlzdG9yYWdla2V5",
        "c2hhcmVkYWNjZXNza2V5",
        "Config-Secret-1",
        "Json-Secret-22",
        "Props-Secret-3",
        "correct-horse-battery",
        "hunter22",
    ];
    for format in ["table", "json", "sarif", "github"] {
        let (code, out, _) = stdout_of(&[
            "scan",
            "fixtures/GDPR-008",
            "--select",
            "GDPR-008",
            "--format",
            format,
            "--no-color",
        ]);
        assert_eq!(code, 1, "{format}: {out}");
        assert!(out.contains("GDPR-008"), "{format}: {out}");
        assert!(out.contains("ConnectionStrings__Orders"), "{format}: {out}");
        for secret in secrets {
            assert!(!out.contains(secret), "{format} shows {secret}: {out}");
        }
    }
}

/// Findings past the memory budget go to a temporary file: every report reads the same.
#[test]
fn findings_kept_in_a_file_give_the_same_reports_as_in_memory() {
    let formats = [
        "table", "json", "sarif", "github", "html", "junit", "gitlab", "markdown", "csv",
    ];
    // `tests/render/kustomize` is rendered when kubectl is installed: findings an overlay
    // moves are ordered where they land.
    let runs: [&[&str]; 3] = [
        &["fixtures"],
        &["fixtures", "--min-severity", "medium"],
        &["tests/render/kustomize"],
    ];
    for format in formats {
        for extra in runs {
            let mut args = vec!["scan", "--format", format];
            args.extend_from_slice(extra);
            let in_memory = sovscan().args(&args).output().unwrap();
            let in_file = sovscan()
                .args(&args)
                .env("SOVSCAN_FINDINGS_MEMORY", "0")
                .output()
                .unwrap();
            assert!(!in_memory.stdout.is_empty(), "{format}: no report");
            assert_eq!(in_memory.status.code(), in_file.status.code(), "{format}");
            assert!(
                in_memory.stdout == in_file.stdout,
                "{format} {extra:?}: the reports differ"
            );
            assert_eq!(in_memory.stderr, in_file.stderr, "{format}");
        }
    }
}

/// A temporary folder the findings cannot be written to fails the scan with its reason.
#[test]
fn findings_that_cannot_be_written_fail_the_scan() {
    let out = sovscan()
        .args(["scan", "fixtures/demo", "--format", "json"])
        .env("SOVSCAN_FINDINGS_MEMORY", "0")
        .env("TMPDIR", "/nonexistent/sovscan-tmp")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write the findings to a temporary file"),
        "{stderr}"
    );
    assert!(stderr.contains("/nonexistent/sovscan-tmp"), "{stderr}");
}

#[test]
fn a_file_with_many_findings_is_shown_in_tables_of_at_most_500_each_listing_every_one() {
    let dir = scratch("cli");
    let deployments: String = (0..1201)
        .map(|i| {
            format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: docker.io/library/nginx:1.27\n"
            )
        })
        .collect();
    let file = dir.join("many.yaml");
    std::fs::write(&file, deployments).unwrap();
    let file = file.to_str().unwrap();
    let (code, out, err) = stdout_of(&["scan", file, "--no-color", "--width", "160"]);
    assert_eq!(code, 0, "medium findings only: {err}");
    // Each finding is a row whose first cell is its line:col.
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| {
            l.strip_prefix("│ ")
                .and_then(|rest| rest.split_whitespace().next())
                .is_some_and(|cell| {
                    cell.contains(':') && cell.starts_with(|c: char| c.is_ascii_digit())
                })
        })
        .collect();
    assert_eq!(rows.len(), 1201, "{out}");
    let starts: Vec<&str> = out.lines().filter(|l| l.starts_with(file)).collect();
    let continued = format!("{file} (continued)");
    assert_eq!(
        starts,
        [file, &continued, &continued],
        "the path heads each table"
    );
    assert_eq!(out.matches("│ line:col").count(), 3, "{out}");
    assert!(out.contains("Scanned 1 files, 1201 documents"), "{out}");
}
