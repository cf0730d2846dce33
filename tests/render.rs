//! Rendering before the scan: Kustomize overlays with `kubectl kustomize` (or `kustomize`)
//! when one is on the PATH, Helm charts with `helm template`, and what is listed when the
//! tool is missing.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use assert_cmd::Command;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::scratch;
use sovscan::engine;
use sovscan::render::RenderOptions;
use sovscan::scan::{ScanRequest, ScanResult, run};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/render")
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
}

fn scan(path: PathBuf, render: bool) -> ScanResult {
    let kb = sovscan::knowledge::get().unwrap();
    let rules = engine::all_rules(&[]).unwrap();
    let request = ScanRequest {
        paths: vec![path],
        render: RenderOptions {
            enabled: render,
            helm_values: Vec::new(),
        },
        list_resources: true,
        ..Default::default()
    };
    run(&request, &rules, kb).unwrap()
}

/// (rule, file below tests/render, line) of the findings of the given rules.
fn found(result: &ScanResult, rules: &[&str]) -> BTreeSet<(String, String, u32)> {
    result
        .findings
        .iter()
        .filter(|f| rules.contains(&&*f.rule_id))
        .map(|f| {
            let path = Path::new(&*f.location.path);
            let rel = path.strip_prefix(root()).unwrap_or(path);
            (
                f.rule_id.to_string(),
                rel.display().to_string(),
                f.location.start_line,
            )
        })
        .collect()
}

fn set(items: &[(&str, &str, u32)]) -> BTreeSet<(String, String, u32)> {
    items
        .iter()
        .map(|(r, p, l)| (r.to_string(), p.to_string(), *l))
        .collect()
}

/// The plain files: the base's Docker Hub image (RES-007), and no region finding, since the
/// JSON patch that moves the workload to the US is no object of its own.
fn plain_findings() -> BTreeSet<(String, String, u32)> {
    set(&[("RES-007", "kustomize/base/deployment.yaml", 17)])
}

#[test]
fn overlay_is_rendered_with_kubectl_kustomize() {
    let result = scan(root().join("kustomize"), true);
    if !on_path("kubectl") && !on_path("kustomize") {
        eprintln!(
            "NOTE: neither kubectl nor kustomize is on the PATH: only the fallback to plain files is checked"
        );
        assert_eq!(found(&result, &["RES-007", "RES-008"]), plain_findings());
        assert!(
            result
                .skipped
                .iter()
                .any(|s| s.reason.contains("not rendered")),
            "{:?}",
            result.skipped
        );
        return;
    }
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    // Rendered: the patch moves the region (reported where the patch writes it), and the
    // overlay's `images:` swaps Docker Hub for an EU registry (no RES-007 any more).
    assert_eq!(
        found(&result, &["RES-007", "RES-008"]),
        set(&[("RES-008", "kustomize/overlays/prod/move-region.yaml", 4)])
    );
    // Objects are the rendered ones, with the overlay's name and namespace, counted once.
    let all = result.listed.load().unwrap();
    let names: Vec<&str> = all.iter().map(|r| r.address).collect();
    assert_eq!(names, ["Deployment/shop-prod/prod-checkout"]);
    let listed = all.iter().next().unwrap();
    assert_eq!(
        &**listed.path,
        root()
            .join("kustomize/base/deployment.yaml")
            .to_str()
            .unwrap()
    );
    // The overlay is named in the summary, and the files it read count as scanned.
    assert_eq!(result.rendered.len(), 1, "{:?}", result.rendered);
    assert!(result.rendered[0].path.ends_with("overlays/prod"));
    assert!(result.rendered[0].files >= 3, "{:?}", result.rendered);
    assert!(result.files >= result.rendered[0].files);
    // Unchanged fields point at the base file (read from the rendering: a scan sheds the
    // bodies of resources once their rules have run).
    let files: Vec<PathBuf> = [
        "overlays/prod/kustomization.yaml",
        "overlays/prod/move-region.yaml",
        "base/deployment.yaml",
        "base/kustomization.yaml",
    ]
    .iter()
    .map(|f| root().join("kustomize").join(f))
    .collect();
    let rendered = sovscan::render::render(
        &files,
        &RenderOptions {
            enabled: true,
            helm_values: Vec::new(),
        },
    );
    let documents = &rendered.outcomes[0].documents;
    assert_eq!(&*documents[0].path, &**listed.path);
    let web = documents[0]
        .root
        .path("spec.template.spec.containers[0].ports[0].containerPort")
        .unwrap();
    assert_eq!(web.span.start.line, 19);
}

#[test]
fn objects_of_the_folder_rendered_point_at_their_own_files() {
    if !on_path("kubectl") && !on_path("kustomize") {
        eprintln!("NOTE: neither kubectl nor kustomize is on the PATH: nothing to render");
        return;
    }
    // The kustomization lists its own files and renames their objects: each object is in
    // its file, and a value both files write is reported in each, not twice in the first.
    let result = scan(root().join("kustomize-own"), true);
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert_eq!(
        found(&result, &["RES-007"]),
        set(&[
            ("RES-007", "kustomize-own/cleanup-job.yaml", 10),
            ("RES-007", "kustomize-own/report-job.yaml", 11),
        ])
    );
    let all = result.listed.load().unwrap();
    let mut listed: Vec<(String, &str)> = all
        .iter()
        .map(|r| {
            let path = Path::new(&**r.path);
            let rel = path.strip_prefix(root()).unwrap_or(path);
            (rel.display().to_string(), r.address)
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            (
                "kustomize-own/cleanup-job.yaml".to_string(),
                "Job/nightly-cleanup"
            ),
            (
                "kustomize-own/report-job.yaml".to_string(),
                "Job/nightly-report"
            ),
        ]
    );
}

#[test]
fn no_render_scans_the_plain_files() {
    let result = scan(root().join("kustomize"), false);
    assert_eq!(found(&result, &["RES-007", "RES-008"]), plain_findings());
    assert!(
        result
            .skipped
            .iter()
            .all(|s| !s.reason.contains("not rendered"))
    );
}

fn sovscan_with_path(path: &Path) -> Command {
    let mut cmd = Command::cargo_bin("sovscan").unwrap();
    cmd.current_dir(root())
        .env("PATH", path)
        .env("NO_COLOR", "1");
    cmd
}

fn json(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn json_findings(report: &serde_json::Value) -> BTreeSet<(String, String, u32)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["location"]["path"].as_str().unwrap().to_string(),
                f["location"]["start_line"].as_u64().unwrap() as u32,
            )
        })
        .collect()
}

fn skipped(report: &serde_json::Value) -> Vec<(String, String)> {
    report["scanned"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn without_a_tool_the_overlay_is_listed_and_its_files_scanned() {
    let bin = scratch("render-no-tools");
    let report = json(sovscan_with_path(&bin).args([
        "scan",
        "kustomize",
        "--format",
        "json",
        "--select",
        "RES-007,RES-008",
    ]));
    assert_eq!(json_findings(&report), plain_findings());
    let skipped = skipped(&report);
    assert!(
        skipped
            .iter()
            .any(|(p, r)| p == "kustomize/overlays/prod/kustomization.yaml"
                && r.contains("neither `kustomize` nor `kubectl` is on the PATH")),
        "{skipped:?}"
    );
}

#[test]
fn without_helm_the_chart_templates_are_listed_with_the_command() {
    let bin = scratch("render-no-helm");
    let report = json(sovscan_with_path(&bin).args([
        "scan",
        "helm/shop",
        "--format",
        "json",
        "--helm-values",
        "helm/shop/values-us.yaml",
    ]));
    assert!(json_findings(&report).is_empty());
    let skipped = skipped(&report);
    let command = "helm template shop helm/shop -f helm/shop/values-us.yaml";
    for file in [
        "helm/shop/templates/deployment.yaml",
        "helm/shop/Chart.yaml",
    ] {
        assert!(
            skipped.iter().any(|(p, r)| p == file
                && r.contains("`helm` is not on the PATH")
                && r.contains(command)),
            "{file}: {skipped:?}"
        );
    }
    // The helper template is listed too, as a template source.
    assert!(
        skipped.iter().any(|(p, _)| p.ends_with("_helpers.tpl")),
        "{skipped:?}"
    );
}

/// A stand-in `helm` that prints a prepared rendering and records its arguments: it tests
/// the plumbing (PATH look-up, arguments, placing rendered objects in their templates), not
/// helm itself.
#[cfg(unix)]
#[test]
fn a_helm_on_the_path_renders_the_chart() {
    use std::os::unix::fs::PermissionsExt;
    let bin = scratch("render-fake-helm");
    let args_file = bin.join("args");
    let output = root().join("helm-output/shop-us.yaml");
    let script = format!(
        "#!/bin/sh\necho \"$@\" > '{}'\nwhile IFS= read -r line; do printf '%s\\n' \"$line\"; done < '{}'\n",
        args_file.display(),
        output.display()
    );
    let helm = bin.join("helm");
    std::fs::write(&helm, script).unwrap();
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
    let report = json(sovscan_with_path(&bin).args([
        "scan",
        "helm/shop",
        "--format",
        "json",
        "--select",
        "RES-007,RES-008",
        "--helm-values",
        "helm/shop/values-us.yaml",
    ]));
    assert_eq!(
        std::fs::read_to_string(&args_file).unwrap().trim(),
        "template shop helm/shop -f helm/shop/values-us.yaml"
    );
    // The rendered region is reported on the template line that writes it.
    assert_eq!(
        json_findings(&report),
        set(&[("RES-008", "helm/shop/templates/deployment.yaml", 11)])
    );
    let skipped = skipped(&report);
    assert!(
        skipped.iter().all(|(p, _)| !p.contains("templates/")),
        "{skipped:?}"
    );
    let rendered = &report["scanned"]["rendered"];
    assert_eq!(rendered[0]["path"], "helm/shop", "{rendered}");
    assert_eq!(rendered[0]["command"], "helm template", "{rendered}");
}
