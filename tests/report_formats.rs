//! The report formats for CI servers and reviewers: JUnit XML (checked against
//! schema/junit.xsd), GitLab Code Quality (against schema/gitlab-codequality.schema.json),
//! Markdown (under GitHub's comment limit however large the scan) and CSV (RFC 4180, no
//! formulas); snapshots of each on the demo; text from scanned files escaped in every one.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use crate::common::{Scratch, scratch};
use assert_cmd::Command;
use std::path::Path;

fn sovscan() -> Command {
    let mut cmd = Command::cargo_bin("sovscan").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_SERVER_URL")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_STEP_SUMMARY");
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn demo(format: &str) -> String {
    let (code, out, err) = run(sovscan().args(["scan", "fixtures/demo", "--format", format]));
    assert_eq!(code, 1, "{err}");
    out
}

/// Removes what changes between releases (versions) so snapshots only move when output does.
fn stable(text: &str) -> String {
    text.replace(env!("CARGO_PKG_VERSION"), "[version]")
}

/// A fresh folder with `.git` (so paths are relative to it) for one test.
fn repository(name: &str) -> Scratch {
    let dir = scratch(&format!("formats-{name}"));
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    dir
}

/// Says on the process's stderr (past the harness's capture) that a check did not run.
fn skipped(what: &str, why: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "\n!!! SKIPPED {what}: {why}\n");
}

/// The demo's findings as the JSON report lists them.
fn demo_findings() -> Vec<serde_json::Value> {
    let json: serde_json::Value = serde_json::from_str(&demo("json")).unwrap();
    json["findings"].as_array().unwrap().clone()
}

fn open_findings() -> usize {
    demo_findings()
        .iter()
        .filter(|f| f.get("suppression").is_none())
        .count()
}

// ---- JUnit ----

/// Every `<tag ` element of an XML text, as (attributes text, element text up to its end).
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag} ");
    xml.match_indices(&open)
        .map(|(at, _)| {
            let rest = &xml[at..];
            let end = rest.find('>').unwrap();
            &rest[..=end]
        })
        .collect()
}

fn attribute(element: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = element.find(&key)? + key.len();
    let end = element[at..].find('"')?;
    Some(element[at..at + end].to_string())
}

#[test]
fn junit_counts_add_up_and_every_finding_fails_its_case() {
    let xml = demo("junit");
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
    let suites: Vec<&str> = xml.split("<testsuite ").skip(1).collect();
    let (mut tests, mut failures) = (0, 0);
    for suite in &suites {
        let head = &suite[..suite.find('>').unwrap()];
        let cases = suite.matches("<testcase ").count();
        let failing = suite
            .split("<testcase ")
            .skip(1)
            .filter(|c| {
                let end = c.find("</testcase>").unwrap_or(c.len());
                let own = &c[..end];
                !own.starts_with_self_closing() && own.contains("<failure ")
            })
            .count();
        assert_eq!(
            attribute(&format!(" {head}"), "tests"),
            Some(cases.to_string()),
            "{head}"
        );
        assert_eq!(
            attribute(&format!(" {head}"), "failures"),
            Some(failing.to_string()),
            "{head}"
        );
        tests += cases;
        failures += failing;
    }
    let root = elements(&xml, "testsuites")[0];
    assert_eq!(attribute(root, "tests"), Some(tests.to_string()));
    assert_eq!(attribute(root, "failures"), Some(failures.to_string()));
    // One <failure> per open finding, typed with its severity.
    let failures = elements(&xml, "failure");
    assert_eq!(failures.len(), open_findings());
    for f in &failures {
        let t = attribute(f, "type").unwrap();
        assert!(
            ["critical", "high", "medium", "low", "info"].contains(&t.as_str()),
            "{f}"
        );
    }
    // One suite per rule run, and cases name their file relative to the repository.
    let rules = run(sovscan().args(["rules", "list", "--format", "json"])).1;
    let rules: serde_json::Value = serde_json::from_str(&rules).unwrap();
    assert_eq!(suites.len(), rules.as_array().unwrap().len());
    for case in elements(&xml, "testcase") {
        let file = attribute(case, "file").unwrap();
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(&file).is_file(),
            "{case}"
        );
    }
}

trait SelfClosing {
    fn starts_with_self_closing(&self) -> bool;
}

impl SelfClosing for str {
    /// A `<testcase .../>` without children (the text up to its first `>` ends with `/`).
    fn starts_with_self_closing(&self) -> bool {
        self.find('>').is_some_and(|end| self[..end].ends_with('/'))
    }
}

/// A case whose findings are all accepted is skipped with their reasons, beside the failing
/// cases of the same suite; the texts of a file's findings, held while its cases are put in
/// order, give the same report whether they stay in memory or go to a temporary file.
#[test]
fn junit_skips_accepted_cases_with_their_reasons_held_in_memory_or_in_a_file() {
    let dir = repository("junit-skipped");
    let mut tf = String::from(
        "provider \"aws\" {\n  region = \"us-east-1\"\n}\n\n\
         # sovscan:ignore HYP-001 reason=\"moving to an EU provider in Q3\"\n\
         resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"shop-logs\"\n}\n",
    );
    // Buckets declared in reverse order of their addresses: the cases are written sorted.
    for i in (0..40).rev() {
        tf.push_str(&format!(
            "\nresource \"aws_s3_bucket\" \"media_{i:02}\" {{\n  bucket = \"shop-media-{i:02}\"\n}}\n"
        ));
    }
    std::fs::write(dir.join("main.tf"), tf).unwrap();
    let junit = |budget: &str| {
        let (code, out, err) = run(sovscan()
            .args(["scan", dir.to_str().unwrap(), "--format", "junit"])
            .env("SOVSCAN_FINDINGS_MEMORY", budget));
        assert_eq!(code, 1, "{err}");
        out
    };
    let xml = junit("4194304");
    assert_eq!(
        xml,
        junit("0"),
        "the report depends on where the texts were held"
    );
    let suite = xml
        .split("<testsuite ")
        .find(|s| s.starts_with("name=\"HYP-001 "))
        .unwrap();
    assert!(
        suite.starts_with("name=\"HYP-001 hyperscaler-service\" id=\"11\" package=\"sovscan.hyperscaler\" tests=\"41\" failures=\"40\" errors=\"0\" skipped=\"1\""),
        "{suite}"
    );
    let cases: Vec<&str> = suite.split("<testcase ").skip(1).collect();
    assert!(
        cases[0].starts_with("name=\"aws_s3_bucket.logs\"")
            && cases[0].contains(
                "<skipped message=\"suppressed (inline): moving to an EU provider in Q3\"/>"
            )
            && !cases[0].contains("<failure"),
        "{}",
        cases[0]
    );
    for (i, case) in cases[1..].iter().enumerate() {
        let name = format!("name=\"aws_s3_bucket.media_{i:02}\"");
        assert!(case.starts_with(&name), "{name}: {case}");
        assert_eq!(case.matches("<failure ").count(), 1, "{case}");
        assert!(
            case.contains(&format!("aws_s3_bucket media_{i:02} uses Amazon S3")),
            "{case}"
        );
    }
}

/// Validates XML files against schema/junit.xsd with Python's `xmlschema` (installed by
/// scripts/report-tools.sh, which .ci/run sources); `None` when that Python is not there.
fn xsd_errors(files: &[&Path]) -> Option<String> {
    let Ok(python) = std::env::var("SOVSCAN_TEST_PYTHON") else {
        skipped(
            "JUnit XSD validation",
            "SOVSCAN_TEST_PYTHON is not set; `.ci/run` sets it \
             (or: `source scripts/report-tools.sh` then `cargo test --test integration report_formats::`)",
        );
        return None;
    };
    let script = "import sys, xmlschema\n\
                  schema = xmlschema.XMLSchema(sys.argv[1])\n\
                  bad = [f'{f}: {e.reason}' for f in sys.argv[2:] for e in schema.iter_errors(f)]\n\
                  print('\\n'.join(bad))\n";
    let mut cmd = std::process::Command::new(python);
    cmd.arg("-c")
        .arg(script)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/junit.xsd"))
        .args(files);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap().trim().to_string())
}

#[test]
fn junit_is_valid_against_the_schema() {
    let dir = repository("junit-xsd");
    let good = dir.join("demo.xml");
    std::fs::write(&good, demo("junit")).unwrap();
    // A hostile manifest, an unparseable file and a suppressed finding.
    std::fs::write(dir.join("hostile.yaml"), HOSTILE).unwrap();
    std::fs::write(dir.join("broken.yaml"), "kind: Pod\nmetadata: [unclosed\n").unwrap();
    let (_, hostile, _) = run(sovscan().args(["scan", dir.to_str().unwrap(), "--format", "junit"]));
    assert!(hostile.contains("<error "), "{hostile}");
    assert!(hostile.contains("<skipped "), "{hostile}");
    let hostile_file = dir.join("hostile.xml");
    std::fs::write(&hostile_file, &hostile).unwrap();
    // The check can fail: a case without its required name is reported.
    let broken = dir.join("broken.xml");
    std::fs::write(
        &broken,
        demo("junit").replacen("<testcase name=", "<testcase nom=", 1),
    )
    .unwrap();
    let Some(errors) = xsd_errors(&[&good, &hostile_file]) else {
        return;
    };
    assert_eq!(
        errors, "",
        "JUnit report not valid against schema/junit.xsd"
    );
    let errors = xsd_errors(&[&broken]).unwrap();
    assert!(errors.contains("name"), "{errors}");
}

/// A Deployment whose names and values carry markup, quotes, formulas and a mention; pinned to
/// a US region so that findings quote them; plus a suppressed finding.
const HOSTILE: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: "=HYPERLINK(\"http://x\")<script>alert('x')</script>"
  namespace: "@everyone"
spec:
  template:
    spec:
      nodeSelector:
        topology.kubernetes.io/region: us-east-1
      containers:
        - name: "a|b`c"
          image: rg.fr-par.scw.cloud/acme/app:1.0
          env:
            - name: SENTRY_DSN
              value: "https://abc@o1.ingest.us.sentry.io/1"
---
apiVersion: v1
kind: Pod
metadata:
  name: quiet
spec:
  nodeSelector:
    topology.kubernetes.io/region: us-west-2 # sovscan:ignore RES-008 reason="test fixture"
  containers:
    - name: quiet
      image: rg.fr-par.scw.cloud/acme/quiet:1.0
"#;

#[test]
fn scanned_text_is_escaped_in_every_format() {
    let dir = repository("hostile");
    std::fs::write(dir.join("app.yaml"), HOSTILE).unwrap();
    let path = dir.to_str().unwrap();
    let report = |format: &str| run(sovscan().args(["scan", path, "--format", format])).1;

    let xml = report("junit");
    assert!(!xml.contains("<script>"), "{xml}");
    assert!(
        xml.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;"),
        "{xml}"
    );

    let md = report("markdown");
    assert!(!md.contains("<script"), "{md}");
    assert!(md.contains("&lt;script&gt;"), "{md}");
    assert!(!md.contains("@everyone"), "a mention would notify: {md}");

    let csv = report("csv");
    let rows = parse_csv(&csv);
    assert!(rows.len() > 1, "{csv}");
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "formula cell {cell:?}"
            );
        }
    }
    assert!(
        rows.iter()
            .any(|r| r.iter().any(|c| c.starts_with("'=HYPERLINK(\"http://x\")"))),
        "{csv}"
    );

    let gitlab: serde_json::Value = serde_json::from_str(&report("gitlab")).unwrap();
    assert!(
        gitlab.as_array().unwrap().iter().any(|i| i["description"]
            .as_str()
            .unwrap()
            .contains("<script>alert('x')</script>")),
        "JSON carries the text as data: {gitlab}"
    );
}

// ---- GitLab Code Quality ----

fn gitlab_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/gitlab-codequality.schema.json"),
    )
    .unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

#[test]
fn gitlab_code_quality_follows_the_schema() {
    let report: serde_json::Value = serde_json::from_str(&demo("gitlab")).unwrap();
    let schema = gitlab_schema();
    let errors: Vec<String> = schema.iter_errors(&report).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let issues = report.as_array().unwrap();
    assert_eq!(issues.len(), open_findings());
    let mut fingerprints: Vec<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    fingerprints.sort_unstable();
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), issues.len(), "fingerprints are unique");
    for issue in issues {
        let path = issue["location"]["path"].as_str().unwrap();
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(path).is_file(),
            "{path}"
        );
    }
    // The schema can fail: an unknown severity and an absolute path are rejected.
    let mut bad = issues[0].clone();
    bad["severity"] = "high".into();
    assert!(!schema.is_valid(&serde_json::json!([bad])));
    let mut bad = issues[0].clone();
    bad["location"]["path"] = "/abs/file.yaml".into();
    assert!(!schema.is_valid(&serde_json::json!([bad])));
}

#[test]
fn gitlab_severities_follow_sovscan_severities() {
    let findings = demo_findings();
    let report: serde_json::Value = serde_json::from_str(&demo("gitlab")).unwrap();
    let by_fingerprint: std::collections::BTreeMap<&str, &str> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["fingerprint"].as_str().unwrap(),
                i["severity"].as_str().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("critical", "blocker"),
        ("high", "critical"),
        ("medium", "major"),
        ("low", "minor"),
        ("info", "info"),
    ];
    let mut checked = 0;
    for f in &findings {
        if let Some(level) = by_fingerprint.get(f["fingerprint"].as_str().unwrap()) {
            let severity = f["severity"].as_str().unwrap();
            let want = expected.iter().find(|(s, _)| *s == severity).unwrap().1;
            assert_eq!(*level, want, "{f}");
            checked += 1;
        }
    }
    assert!(checked > 10);
}

// ---- Markdown ----

/// `n` Deployments pinned to a US region, each giving several findings, in files of 50.
fn large_repository(name: &str, n: usize) -> Scratch {
    let dir = repository(name);
    // Long names make long rows, so the comment limit, not the rows per rule, decides.
    let long = "x".repeat(180);
    for file in 0..n.div_ceil(50) {
        let mut text = String::new();
        for i in (file * 50)..((file + 1) * 50).min(n) {
            text.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: service-{i}-{long}\n  labels:\n    data-classification: personal\nspec:\n  template:\n    spec:\n      nodeSelector:\n        topology.kubernetes.io/region: us-east-1\n      containers:\n        - name: app\n          image: docker.io/library/nginx:1.27\n          env:\n            - name: DATABASE_PASSWORD\n              value: hunter2-{i}\n            - name: POSTHOG_HOST\n              value: https://us.i.posthog.com\n"
            ));
        }
        std::fs::write(dir.join(format!("services-{file:03}.yaml")), text).unwrap();
    }
    dir
}

#[test]
fn markdown_of_a_large_scan_stays_under_the_comment_limit() {
    let dir = large_repository("large", 1500);
    let (code, md, err) = run(sovscan().args([
        "scan",
        dir.to_str().unwrap(),
        "--format",
        "markdown",
        "--json-output",
        dir.join("report.json").to_str().unwrap(),
    ]));
    assert_eq!(code, 1, "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let total = json["findings"].as_array().unwrap().len();
    assert!(total >= 3000, "the scan has thousands of findings: {total}");
    assert!(
        md.chars().count() < 65_536,
        "{} characters",
        md.chars().count()
    );
    assert!(md.len() > 30_000, "the room is used: {} bytes", md.len());
    // Shown rows plus the counted rest are every finding.
    let shown = md
        .lines()
        .filter(|l| {
            l.starts_with("| critical |")
                || l.starts_with("| high |")
                || l.starts_with("| medium |")
                || l.starts_with("| low |")
                || l.starts_with("| info |")
        })
        .count();
    let more: usize = md
        .lines()
        .find_map(|l| {
            l.split_once(" more findings not shown")
                .map(|(n, _)| n.parse().unwrap())
        })
        .expect("the rest is counted");
    assert_eq!(shown + more, total);
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
    assert!(
        md.contains(&format!(
            "**total** | {} |",
            json["summary"]["by_severity"]["critical"]
        )),
        "{md}"
    );
}

#[test]
fn markdown_links_to_lines_on_github_and_counts_new_findings() {
    let dir = large_repository("baseline", 3);
    let baseline = dir.join("baseline.json");
    let (code, _, err) = run(sovscan().args([
        "scan",
        dir.to_str().unwrap(),
        "--write-baseline",
        baseline.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{err}");
    // One more Deployment after the baseline: its findings are new.
    let extra = std::fs::read_to_string(dir.join("services-000.yaml"))
        .unwrap()
        .replace("service-0-", "service-new-");
    std::fs::write(dir.join("more.yaml"), extra.split("---\n").nth(1).unwrap()).unwrap();
    let (code, md, err) = run(sovscan()
        .env("GITHUB_SERVER_URL", "https://github.example")
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GITHUB_SHA", "0123abc")
        .args([
            "scan",
            dir.to_str().unwrap(),
            "--baseline",
            baseline.to_str().unwrap(),
            "--format",
            "markdown",
        ]));
    assert_eq!(code, 1, "{err}");
    let json: serde_json::Value = serde_json::from_str(
        &run(sovscan().args([
            "scan",
            dir.to_str().unwrap(),
            "--baseline",
            baseline.to_str().unwrap(),
            "--format",
            "json",
        ]))
        .1,
    )
    .unwrap();
    let new = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["baseline"] == "new")
        .count();
    let accepted = json["summary"]["baseline"].as_u64().unwrap();
    assert!(new > 0 && accepted > 0);
    assert!(
        md.contains(&format!("**{new} new**, {accepted} accepted, 0 fixed")),
        "{md}"
    );
    assert!(
        md.contains("](https://github.example/acme/shop/blob/0123abc/more.yaml#L"),
        "{md}"
    );
    assert!(md.contains("**Failed:**"), "{md}");
}

// ---- CSV ----

/// RFC 4180 records: quoted fields with doubled quotes, CRLF between records.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut cell) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "records end with CRLF");
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => {
                assert!(c != '\n', "bare line feed outside quotes");
                cell.push(c);
            }
        }
    }
    assert!(
        !quoted && cell.is_empty() && row.is_empty(),
        "text ends a record"
    );
    rows
}

#[test]
fn csv_has_one_row_per_finding() {
    let csv = demo("csv");
    let rows = parse_csv(&csv);
    let header = &rows[0];
    assert_eq!(header[0], "severity");
    assert!(rows.iter().all(|r| r.len() == header.len()));
    let findings = demo_findings();
    assert_eq!(rows.len() - 1, findings.len());
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut csv_prints: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r[column("fingerprint")].as_str())
        .collect();
    let mut json_prints: Vec<&str> = findings
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    csv_prints.sort_unstable();
    json_prints.sort_unstable();
    assert_eq!(csv_prints, json_prints);
}

// ---- every format ----

#[test]
fn extra_outputs_match_the_format_outputs() {
    let dir = repository("extra");
    let mut args = vec!["scan".to_string(), "fixtures/demo".to_string()];
    for format in ["junit", "gitlab", "markdown", "csv"] {
        args.push(format!("--{format}-output"));
        args.push(dir.join(format).to_str().unwrap().to_string());
    }
    let (code, table, _) = run(sovscan().args(&args));
    assert_eq!(code, 1);
    assert!(table.contains("exit 1"), "stdout keeps the table");
    for format in ["junit", "gitlab", "markdown", "csv"] {
        let written = std::fs::read_to_string(dir.join(format)).unwrap();
        assert_eq!(written, demo(format), "{format}");
    }
}

#[test]
fn snapshots_of_the_demo() {
    for format in ["junit", "gitlab", "markdown", "csv"] {
        let first = demo(format);
        assert_eq!(first, demo(format), "{format} output is deterministic");
        insta::assert_snapshot!(format!("demo_{format}"), stable(&first));
    }
}

#[test]
fn man_page_and_completions() {
    let (code, man, _) = run(sovscan().arg("man"));
    assert_eq!(code, 0);
    assert!(
        man.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &man[..80.min(man.len())]
    );
    assert!(man.contains(".TH sovscan 1"), "{man}");
    assert!(man.contains("scan"), "{man}");
    let (code, bash, _) = run(sovscan().args(["completions", "bash"]));
    assert_eq!(code, 0);
    assert!(
        bash.contains("--junit-output"),
        "completions know the new options"
    );
}
