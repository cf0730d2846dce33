//! The binary as a CI gate: no silent pass, clean messages, several outputs, SARIF for code
//! scanning, a table that fits the terminal, and an estate summary independent of the rules run.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use crate::common::scratch;
use assert_cmd::Command;
use std::path::Path;

fn sovscan() -> Command {
    let mut cmd = Command::cargo_bin("sovscan").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("CI_COLOR");
    cmd
}

fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = sovscan().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

const HUB_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n    - name: a\n      image: nginx:1.27\n";

// ---- no silent pass -------------------------------------------------------------------------

#[test]
fn a_missing_path_is_a_usage_error() {
    let (code, out, err) = run(&["scan", "nope.yaml"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("nope.yaml: no such file or folder"), "{err}");
    assert!(out.is_empty(), "{out}");
    // One missing path among good ones still fails.
    let (code, _, err) = run(&["scan", "fixtures/demo", "fixtures/nope"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn an_unreadable_folder_is_a_usage_error() {
    let dir = scratch("gate");
    let locked = dir.join("locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::write(locked.join("pod.yaml"), HUB_POD).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    // A root below a file cannot be read by anyone, root included.
    let (code, _, err) = run(&["scan", "Cargo.toml/k8s"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Cargo.toml/k8s: "), "{err}");
    // Root reads everything: a folder without permissions is only tested as another user.
    if std::fs::read_dir(&locked).is_ok() {
        return;
    }
    let (code, _, err) = run(&["scan", locked.to_str().unwrap()]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("permission denied"), "{err}");
}

#[test]
fn unknown_rule_ids_in_flags_are_usage_errors_with_the_nearest_id() {
    let (code, out, err) = run(&["scan", "fixtures/demo", "--select", "GDPR-999"]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("did you mean GDPR-009?"), "{err}");
    let (code, _, err) = run(&["scan", "fixtures/demo", "--ignore", "RES-001,residence"]);
    assert_eq!(code, 2);
    assert!(err.contains("\"residence\""), "{err}");
    assert!(err.contains("did you mean residency?"), "{err}");
    // Prefixes, names and categories stay valid.
    let (code, _, err) = run(&[
        "scan",
        "fixtures/demo",
        "--select",
        "RES,gdpr,public-storage",
    ]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn unknown_rule_ids_in_settings_are_usage_errors_with_their_line() {
    let dir = scratch("gate");
    std::fs::write(dir.join("pod.yaml"), HUB_POD).unwrap();
    std::fs::write(
        dir.join(".sovscan.yaml"),
        "fail_on: medium\nignore:\n  - RES-07\nseverity:\n  HYP-03: low\n",
    )
    .unwrap();
    let (code, _, err) = run(&["scan", dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    // `RES-07` is an id prefix of nothing … (RES-007 would be the id).
    assert!(
        err.contains(".sovscan.yaml:3:5: ignore \"RES-07\""),
        "{err}"
    );
    assert!(err.contains(".sovscan.yaml:5:3: severity override for unknown rule \"HYP-03\""));
    assert!(err.contains("did you mean HYP-003?"), "{err}");
    std::fs::write(dir.join(".sovscan.yaml"), "select: [GDPR-999]\n").unwrap();
    let (code, _, err) = run(&["scan", dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(".sovscan.yaml:1:10: select \"GDPR-999\""),
        "{err}"
    );
}

#[test]
fn unknown_rule_ids_in_suppressions_are_usage_errors_with_path_and_line() {
    let dir = scratch("gate");
    std::fs::write(
        dir.join("pod.yaml"),
        HUB_POD.replace(
            "nginx:1.27",
            "nginx:1.27 # sovscan:ignore RES-07 reason=\"mirror\"",
        ),
    )
    .unwrap();
    let (code, _, err) = run_in(&dir, &["scan", "pod.yaml", "--fail-on", "medium"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "pod.yaml:8: suppression names unknown rule \"RES-07\"; did you mean RES-007?"
        ),
        "{err}"
    );
    // The same in an annotation, and the right id passes.
    std::fs::write(
        dir.join("pod.yaml"),
        HUB_POD.replace(
            "  name: a\n",
            "  name: a\n  annotations:\n    sovscan.dev/ignore: GDPR-999\n",
        ),
    )
    .unwrap();
    let (code, _, err) = run_in(&dir, &["scan", "pod.yaml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pod.yaml:1: suppression names unknown rule \"GDPR-999\""));
    std::fs::write(
        dir.join("pod.yaml"),
        HUB_POD.replace(
            "nginx:1.27",
            "nginx:1.27 # sovscan:ignore RES-007 reason=\"mirror\"",
        ),
    )
    .unwrap();
    let (code, _, err) = run_in(&dir, &["scan", "pod.yaml", "--fail-on", "medium"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn the_last_line_of_the_table_says_why() {
    let (code, out, _) = run(&["scan", "fixtures/demo"]);
    assert_eq!(code, 1);
    let last = out.lines().last().unwrap();
    let (_, json, _) = run(&["scan", "fixtures/demo", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let by = &report["summary"]["by_severity"];
    let n = by["critical"].as_u64().unwrap() + by["high"].as_u64().unwrap();
    assert_eq!(last, format!("{n} findings at or above high: exit 1"));

    let dir = scratch("gate");
    std::fs::write(dir.join("pod.yaml"), HUB_POD).unwrap();
    let (code, out, _) = run(&["scan", dir.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().last().unwrap(),
        "no findings at or above high: exit 0"
    );
    let (code, out, _) = run(&["scan", dir.to_str().unwrap(), "--fail-on", "medium"]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().last().unwrap(),
        "1 finding at or above medium: exit 1"
    );
    // Other formats keep stdout machine-readable and say it on stderr.
    let (code, _, err) = run(&[
        "scan",
        dir.to_str().unwrap(),
        "--fail-on",
        "medium",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("1 finding at or above medium: exit 1"),
        "{err}"
    );
}

#[test]
fn a_scan_that_judges_nothing_says_so_and_fails_a_strict_gate() {
    // Nothing found at all: a wrong path or an empty checkout.
    let empty = scratch("gate");
    let (code, out, _) = run(&["scan", empty.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.lines().last().unwrap(),
        "no findings at or above high: exit 0; no input file found, nothing was scanned (--strict fails on it)"
    );
    let (code, out, _) = run(&["scan", "--strict", empty.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");

    // Infrastructure code in forms no loader reads is listed, each with what to scan instead.
    let dir = scratch("gate");
    std::fs::create_dir_all(dir.join("live/prod")).unwrap();
    std::fs::write(
        dir.join("main.bicep"),
        "param location string = 'westeurope'\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("live/prod/terragrunt.hcl"),
        "inputs = {\n  region = \"eu-central-1\"\n}\n",
    )
    .unwrap();
    // A Terragrunt configuration's settings file, included by it.
    std::fs::write(dir.join("live/account.hcl"), "locals {\n  id = \"1\"\n}\n").unwrap();
    std::fs::write(dir.join(".terraform.lock.hcl"), "# provider locks\n").unwrap();
    let (code, out, _) = run(&["scan", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines().last().unwrap().ends_with(
            "nothing was scanned, 3 files skipped (listed in the JSON report) (--strict fails on it)"
        ),
        "{out}"
    );
    let (code, json, _) = run(&[
        "scan",
        "--strict",
        dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 2);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let reasons: Vec<(String, String)> = report["scanned"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let path = s["path"].as_str().unwrap();
            let name = Path::new(path).file_name().unwrap().to_string_lossy();
            (name.into_owned(), s["reason"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|(n, r)| n == "account.hcl" && r.starts_with("Terragrunt"))
    );
    assert!(
        reasons
            .iter()
            .any(|(n, r)| n == "main.bicep" && r.contains("az bicep build"))
    );
    assert!(
        reasons
            .iter()
            .any(|(n, r)| n == "terragrunt.hcl" && r.contains("terragrunt plan"))
    );

    // Files read, but no resource in them: nothing was judged.
    let vars = scratch("gate");
    std::fs::write(vars.join("variables.tf"), "variable \"region\" {}\n").unwrap();
    let (code, out, _) = run(&["scan", vars.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines()
            .last()
            .unwrap()
            .ends_with("no resource found in 1 file, nothing was judged (--strict fails on it)"),
        "{out}"
    );
    // Files named one by one (a pre-commit hook's staged files) are what was asked for: no
    // note, and a strict gate passes.
    let file = vars.join("variables.tf");
    let (code, out, _) = run(&["scan", "--strict", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.lines().last().unwrap(),
        "no findings at or above high: exit 0"
    );
}

// ---- clean messages -------------------------------------------------------------------------

#[test]
fn settings_errors_have_one_prefix_a_position_and_plain_words() {
    let dir = scratch("gate");
    std::fs::write(dir.join("pod.yaml"), HUB_POD).unwrap();
    let settings = dir.join(".sovscan.yaml");
    let cases = [
        ("profile: [eu\n", ":1:10: ", "unclosed bracket"),
        ("profile: [eu]\n", ":1:10: ", "expected a single value"),
        ("fail_on: high\nfoo: 1\n", ":2:1: ", "unknown key foo"),
        ("max_log_retention_days: many\n", ":1:25: ", "whole number"),
        ("fail_on: highest\n", ":1:10: ", "\"highest\" is not one of"),
    ];
    for (text, position, words) in cases {
        std::fs::write(&settings, text).unwrap();
        let (code, out, err) = run(&["scan", dir.to_str().unwrap()]);
        assert_eq!(code, 2, "{text}: {out}{err}");
        assert_eq!(err.matches("error").count(), 1, "{text}: {err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(
            err.contains(&format!(".sovscan.yaml{position}")),
            "{text}: {err}"
        );
        assert!(err.contains(words), "{text}: {err}");
        for jargon in ["externally tagged", "invalid i64", "variant", "`"] {
            assert!(!err.contains(jargon), "{text}: {err}");
        }
    }
}

#[test]
fn names_are_case_insensitive_in_flags_and_file_alike() {
    let dir = scratch("gate");
    std::fs::write(dir.join("pod.yaml"), HUB_POD).unwrap();
    let (code, _, err) = run(&["scan", dir.to_str().unwrap(), "--fail-on", "MEDIUM"]);
    assert_eq!(code, 1, "{err}");
    let (code, out, err) = run(&[
        "scan",
        dir.to_str().unwrap(),
        "--format",
        "JSON",
        "--profile",
        "Strict",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with('{'), "{out}");
    std::fs::write(
        dir.join(".sovscan.yaml"),
        "fail_on: MEDIUM\nprofile: EU\nseverity:\n  res-007: HIGH\n",
    )
    .unwrap();
    let (code, out, err) = run(&["scan", dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["findings"][0]["severity"], "high");
}

#[test]
fn parse_errors_are_printed_once_on_stderr_and_counted() {
    let dir = scratch("gate");
    std::fs::write(
        dir.join("bad.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: [oops\n",
    )
    .unwrap();
    std::fs::write(dir.join("pod.yaml"), HUB_POD).unwrap();
    let (code, out, err) = run(&["scan", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("bad.yaml"), "{out}");
    assert!(out.contains("(0 skipped, 1 errors)"), "{out}");
    assert_eq!(err.matches("bad.yaml:").count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    for args in [
        &["scan", "fixtures/demo", "--format", "json"][..],
        &["rules", "list"][..],
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sovscan"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before anything is written, as `| head -0` would.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
        assert_ne!(out.status.code(), Some(2), "{args:?}: {err}");
    }
}

#[test]
fn readme_installs_with_the_lock_file() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(readme.contains("cargo install --locked --path ."));
    assert!(!readme.contains("`cargo install --path ."));
}

// ---- several outputs in one run -------------------------------------------------------------

#[test]
fn one_run_writes_stdout_and_json_sarif_and_text_files() {
    let dir = scratch("gate");
    let (json, sarif, text) = (dir.join("r.json"), dir.join("r.sarif"), dir.join("r.txt"));
    let (code, out, err) = run(&[
        "scan",
        "fixtures/demo",
        "--json-output",
        json.to_str().unwrap(),
        "--sarif-output",
        sarif.to_str().unwrap(),
        "--text-output",
        text.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    // stdout is the table, and the text file is the same table.
    assert_eq!(std::fs::read_to_string(&text).unwrap(), out);
    let (_, alone, _) = run(&["scan", "fixtures/demo", "--format", "json"]);
    assert_eq!(std::fs::read_to_string(&json).unwrap(), alone);
    let (_, alone, _) = run(&["scan", "fixtures/demo", "--format", "sarif"]);
    assert_eq!(std::fs::read_to_string(&sarif).unwrap(), alone);
}

#[test]
fn min_severity_filters_what_is_shown_not_the_gate() {
    let dir = scratch("gate");
    std::fs::write(dir.join("pod.yaml"), HUB_POD).unwrap();
    let (code, out, _) = run(&[
        "scan",
        dir.to_str().unwrap(),
        "--fail-on",
        "medium",
        "--min-severity",
        "high",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(report["findings"].as_array().unwrap().is_empty(), "{out}");
    let (code, out, _) = run(&[
        "scan",
        dir.to_str().unwrap(),
        "--min-severity",
        "medium",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["findings"][0]["rule_id"], "RES-007");
}

#[test]
fn color_always_never_and_the_no_color_alias() {
    let dir = scratch("gate");
    std::fs::write(dir.join("pod.yaml"), HUB_POD).unwrap();
    let path = dir.to_str().unwrap();
    let escape = "\u{1b}[";
    let (_, out, _) = run(&["scan", path, "--color", "always"]);
    assert!(out.contains(escape), "{out}");
    for args in [
        &["scan", path, "--color", "never"][..],
        &["scan", path, "--no-color"][..],
        &["scan", path, "--color", "always", "--no-color"][..],
        &["scan", path][..],
    ] {
        let (_, out, err) = run(args);
        assert!(!out.contains(escape), "{args:?}: {out}{err}");
    }
}

#[test]
fn gitignored_files_are_scanned_when_named_or_with_no_ignore() {
    let dir = scratch("gate");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::create_dir_all(dir.join("plans")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/paired/terraform/plan.json"),
        dir.join("plans/tfplan.json"),
    )
    .unwrap();
    std::fs::write(dir.join(".gitignore"), "tfplan.json\n").unwrap();
    let files = |args: &[&str]| {
        let (_, out, err) = run_in(&dir, args);
        let report: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}{err}"));
        report["scanned"]["files"].as_u64().unwrap()
    };
    assert_eq!(files(&["scan", ".", "--format", "json"]), 0);
    assert_eq!(files(&["scan", "plans/tfplan.json", "--format", "json"]), 1);
    assert_eq!(files(&["scan", ".", "--no-ignore", "--format", "json"]), 1);
    assert_eq!(
        files(&["scan", "plans", "--no-ignore", "--format", "json"]),
        1
    );
}

// ---- SARIF for code scanning ----------------------------------------------------------------

fn sarif_of(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["scan", "--format", "sarif"];
    all.extend_from_slice(args);
    let (_, out, err) = run_in(dir, &all);
    serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}{err}"))
}

fn uris(sarif: &serde_json::Value) -> Vec<(String, String)> {
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let a = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            (
                a["uri"].as_str().unwrap().to_string(),
                a["uriBaseId"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn sarif_uris_are_relative_to_the_repository_root_whatever_the_paths() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let relative = sarif_of(manifest, &["fixtures/demo"]);
    let absolute = sarif_of(
        manifest,
        &[manifest.join("fixtures/demo").to_str().unwrap()],
    );
    let from_inside = sarif_of(&manifest.join("fixtures/demo"), &["k8s"]);
    assert_eq!(uris(&relative), uris(&absolute));
    assert!(
        uris(&relative)
            .iter()
            .all(|(uri, base)| uri.starts_with("fixtures/demo/") && base == "%SRCROOT%"),
        "{:?}",
        uris(&relative)
    );
    assert!(
        uris(&from_inside)
            .iter()
            .all(|(uri, _)| uri.starts_with("fixtures/demo/k8s/"))
    );
    let root = relative["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
    // --repo-root moves the base.
    let moved = sarif_of(manifest, &["fixtures/demo", "--repo-root", "fixtures"]);
    assert!(uris(&moved).iter().all(|(uri, _)| uri.starts_with("demo/")));
}

#[test]
fn sarif_uris_are_percent_encoded_and_parse_errors_are_notifications() {
    let dir = scratch("gate");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::create_dir_all(dir.join("k8s #1")).unwrap();
    std::fs::write(dir.join("k8s #1/pod ä.yaml"), HUB_POD).unwrap();
    std::fs::write(dir.join("k8s #1/bad.yaml"), "kind: Pod\nmetadata: [oops\n").unwrap();
    let sarif = sarif_of(&dir.join("k8s #1"), &["."]);
    assert_eq!(
        uris(&sarif),
        [(
            "k8s%20%231/pod%20%C3%A4.yaml".to_string(),
            "%SRCROOT%".to_string()
        )]
    );
    let run = &sarif["runs"][0];
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["level"], "error");
    let at = &notes[0]["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"]["uri"], "k8s%20%231/bad.yaml");
    assert!(at["region"]["startLine"].as_u64().unwrap() >= 2);
}

#[test]
fn sarif_rules_link_to_their_help() {
    let sarif = sarif_of(Path::new(env!("CARGO_MANIFEST_DIR")), &["fixtures/demo"]);
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md"))
        .unwrap();
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let uri = rule["helpUri"].as_str().unwrap();
        let anchor = uri.split_once('#').unwrap().1;
        assert!(docs.contains(&format!("(#{anchor})")), "{id}: {uri}");
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("How to fix")
        );
        assert!(rule["properties"]["security-severity"].is_string());
    }
}

// ---- a table for terminals ------------------------------------------------------------------

fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn demo_table_at_80_and_160_columns() {
    for width in [80, 160] {
        let (code, out, _) = run(&["scan", "fixtures/demo", "--width", &width.to_string()]);
        assert_eq!(code, 1);
        assert!(widest(&out) <= width, "{width}: {}", widest(&out));
        insta::assert_snapshot!(format!("demo_table_{width}"), out);
    }
    // COLUMNS is the terminal's width when nothing else says it.
    let out = sovscan()
        .args(["scan", "fixtures/demo"])
        .env("COLUMNS", "80")
        .output()
        .unwrap();
    let (_, at_80, _) = run(&["scan", "fixtures/demo", "--width", "80"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), at_80);
}

#[test]
fn rules_list_fits_the_terminal() {
    for width in [80u16, 120, 200] {
        let (code, out, _) = run(&["rules", "list", "--width", &width.to_string()]);
        assert_eq!(code, 0);
        assert!(widest(&out) <= usize::from(width), "{width}: {out}");
        assert!(out.contains("GDPR-001") && out.contains("RES-009"), "{out}");
    }
}

#[test]
fn github_annotations_are_capped_per_level_and_the_rest_go_to_the_step_summary() {
    let dir = scratch("gate");
    let summary = dir.join("summary.md");
    let out = sovscan()
        .args(["scan", "fixtures/demo", "--format", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    for level in ["error", "warning", "notice"] {
        let n = text
            .lines()
            .filter(|l| l.starts_with(&format!("::{level} ")))
            .count();
        assert!(n <= 10, "{level}: {n}");
    }
    let (_, json, _) = run(&["scan", "fixtures/demo", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let total = report["findings"].as_array().unwrap().len();
    let annotated = text.lines().filter(|l| l.starts_with("::")).count();
    assert!(annotated < total);
    let markdown = std::fs::read_to_string(&summary).unwrap();
    let rows = markdown
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| severity"))
        .count();
    assert_eq!(annotated + rows, total, "{markdown}");
    assert!(
        markdown.contains("findings at or above high: exit 1"),
        "{markdown}"
    );
    assert!(
        text.contains(&format!("{rows} more findings are not annotated")),
        "{text}"
    );
}

// ---- the estate summary is the estate -------------------------------------------------------

fn summary_without_findings(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["scan", "fixtures/demo", "--format", "json"];
    all.extend_from_slice(args);
    let (_, out, err) = run(&all);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
    let mut summary = report["summary"].clone();
    let obj = summary.as_object_mut().unwrap();
    for key in [
        "findings",
        "suppressed",
        "by_severity",
        "by_category",
        "by_rule",
        "sovereignty_objectives",
    ] {
        obj.remove(key);
    }
    summary
}

#[test]
fn the_estate_summary_does_not_depend_on_the_rules_run_or_shown() {
    let full = summary_without_findings(&[]);
    assert!(full["eu_controlled_percent"].as_u64().is_some());
    for args in [
        &["--ignore", "hyperscaler"][..],
        &["--select", "RES-001"][..],
        &["--min-severity", "critical"][..],
    ] {
        assert_eq!(summary_without_findings(args), full, "{args:?}");
    }
}

#[test]
fn estate_thresholds_in_settings_fail_the_gate_and_say_why() {
    let dir = scratch("gate");
    std::fs::write(
        dir.join("bucket.tf"),
        "provider \"aws\" {\n  region = \"eu-central-1\"\n}\n\nresource \"aws_s3_bucket\" \"a\" {\n  bucket = \"a\"\n}\n",
    )
    .unwrap();
    let scan = |settings: &str| {
        std::fs::write(dir.join(".sovscan.yaml"), settings).unwrap();
        let (code, out, err) = run_in(&dir, &["scan", "."]);
        (code, out.lines().last().unwrap_or("").to_string(), err)
    };
    let (code, last, err) = scan("fail_on: never\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(last, "gate off (--fail-on never): exit 0");
    let (code, last, err) = scan("fail_on: never\nmin_data_in_eu_percent: 90\n");
    assert_eq!(code, 0, "{last}{err}");
    let (code, last, _) = scan("fail_on: never\nmin_eu_controlled_percent: 50\n");
    assert_eq!(code, 1);
    assert_eq!(
        last,
        "0% on EU-controlled providers, below min_eu_controlled_percent 50%: exit 1"
    );
    std::fs::write(dir.join(".sovscan.yaml"), "min_data_in_eu_percent: 150\n").unwrap();
    let (code, _, err) = run_in(&dir, &["scan", "."]);
    assert_eq!(code, 2);
    assert!(
        err.contains(".sovscan.yaml:1:1: min_data_in_eu_percent 150 is not a share"),
        "{err}"
    );
}

#[test]
fn explain_suggests_the_nearest_rule() {
    let (code, _, err) = run(&["explain", "RES-07"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean RES-007?"), "{err}");
    let (code, _, err) = run(&["rules", "show", "region-outside-eux"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean region-outside-eu?"), "{err}");
}
