//! Walks `fixtures/<RULE-ID>/`: every folder holding input files is one case, scanned with only
//! that rule selected; the findings' (file, line) set must equal the expectations written beside
//! the input (`# expect: RES-001` on the line, or `expect.yaml` for JSON).

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sovscan::engine::{self, Profile, Rule};
use sovscan::load::{self, Format};
use sovscan::scan::{ScanRequest, run};

const INPUT_EXTENSIONS: &[&str] = &[
    "yaml", "yml", "json", "tf", "tofu", "tfvars", "gz", "template", "toml",
];
const SIDECARS: &[&str] = &["expect.yaml", "fixture.yaml"];

#[derive(Deserialize)]
struct Expectation {
    file: String,
    rule: String,
    line: u32,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FixtureSettings {
    #[serde(default)]
    profile: Option<Profile>,
    #[serde(default)]
    deploy_regions: Vec<String>,
    #[serde(default)]
    require_customer_managed_keys: bool,
    #[serde(default)]
    max_log_retention_days: Option<i64>,
}

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn input_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    !SIDECARS.contains(&name)
                        && p.extension()
                            .and_then(|e| e.to_str())
                            .is_some_and(|e| INPUT_EXTENSIONS.contains(&e))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn case_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    if !input_files(dir).is_empty() {
        out.push(dir.to_path_buf());
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|e| {
            e.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    subdirs.sort();
    for sub in subdirs {
        case_dirs(&sub, out);
    }
}

/// (file name, line) pairs expected for `rule_id` in one case folder.
fn expectations(dir: &Path, rule_id: &str) -> BTreeSet<(String, u32)> {
    let mut expected = BTreeSet::new();
    for file in input_files(dir) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            if let Some(pos) = line.find("expect:") {
                let ids = &line[pos + "expect:".len()..];
                if ids.split([',', ' ']).any(|id| id.trim() == rule_id) {
                    expected.insert((name.clone(), i as u32 + 1));
                }
            }
        }
    }
    let sidecar = dir.join("expect.yaml");
    if sidecar.is_file() {
        let text = std::fs::read_to_string(&sidecar).unwrap();
        let list: Vec<Expectation> =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", sidecar.display()));
        for e in list.into_iter().filter(|e| e.rule == rule_id) {
            expected.insert((e.file, e.line));
        }
    }
    expected
}

fn settings(case: &Path, rule_dir: &Path) -> FixtureSettings {
    for dir in [case, rule_dir] {
        let file = dir.join("fixture.yaml");
        if file.is_file() {
            let text = std::fs::read_to_string(&file).unwrap();
            return serde_saphyr::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        }
    }
    FixtureSettings::default()
}

fn rules() -> Vec<Rule> {
    engine::all_rules(&[]).expect("built-in rules load")
}

fn rule_dirs() -> Vec<(Rule, PathBuf)> {
    rules()
        .into_iter()
        .filter_map(|r| {
            let dir = fixtures_root().join(&r.id);
            dir.is_dir().then_some((r, dir))
        })
        .collect()
}

#[test]
fn every_fixture_yields_exactly_its_expectations() {
    let kb = sovscan::knowledge::get().unwrap();
    let mut failures = Vec::new();
    let mut cases = 0;
    for (rule, rule_dir) in rule_dirs() {
        let mut dirs = Vec::new();
        case_dirs(&rule_dir, &mut dirs);
        for case in dirs {
            cases += 1;
            let s = settings(&case, &rule_dir);
            let request = ScanRequest {
                paths: input_files(&case),
                profile: s.profile.unwrap_or(Profile::Eu),
                deploy_regions: s.deploy_regions,
                require_customer_managed_keys: s.require_customer_managed_keys,
                max_log_retention_days: s.max_log_retention_days.unwrap_or(400),
                ..Default::default()
            };
            let result = run(&request, std::slice::from_ref(&rule), kb).unwrap();
            for e in &result.errors {
                failures.push(format!("{}: load error {e}", case.display()));
            }
            let found: BTreeSet<(String, u32)> = result
                .findings
                .iter()
                .map(|f| {
                    let name = Path::new(&*f.location.path)
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    (name, f.location.start_line)
                })
                .collect();
            let expected = expectations(&case, &rule.id);
            if found != expected {
                let missing: Vec<_> = expected.difference(&found).collect();
                let unexpected: Vec<_> = found.difference(&expected).collect();
                failures.push(format!(
                    "{} ({}): missing {missing:?}, unexpected {unexpected:?}",
                    case.display(),
                    rule.id
                ));
            }
        }
    }
    assert!(cases > 0, "no fixture cases found");
    assert!(
        failures.is_empty(),
        "{} fixture cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn file_formats(path: &Path) -> BTreeSet<Format> {
    load::load_file(path)
        .documents
        .iter()
        .map(|d| d.format)
        .collect()
}

#[test]
fn every_rule_has_failing_and_passing_fixtures_for_each_format() {
    let mut problems = Vec::new();
    let all = rules();
    let with_dirs: BTreeMap<String, PathBuf> =
        rule_dirs().into_iter().map(|(r, d)| (r.id, d)).collect();
    for rule in &all {
        let Some(dir) = with_dirs.get(&rule.id) else {
            problems.push(format!("{}: no fixtures/{}/ folder", rule.id, rule.id));
            continue;
        };
        let mut dirs = Vec::new();
        case_dirs(dir, &mut dirs);
        let mut failing: BTreeSet<Format> = BTreeSet::new();
        let mut passing: BTreeSet<Format> = BTreeSet::new();
        for case in &dirs {
            let expected = expectations(case, &rule.id);
            for file in input_files(case) {
                let name = file.file_name().unwrap().to_string_lossy().into_owned();
                let flagged = expected.iter().any(|(f, _)| *f == name);
                for format in file_formats(&file) {
                    if flagged {
                        failing.insert(format);
                    } else {
                        passing.insert(format);
                    }
                }
            }
        }
        for format in rule.formats() {
            if !failing.contains(&format) {
                problems.push(format!(
                    "{}: no failing {} fixture",
                    rule.id,
                    format.as_str()
                ));
            }
            if !passing.contains(&format) {
                problems.push(format!(
                    "{}: no passing {} fixture",
                    rule.id,
                    format.as_str()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
