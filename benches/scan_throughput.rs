//! Throughput of `sovscan scan` on a generated corpus of Kubernetes manifests.
//! Run with `cargo bench --bench scan_throughput`; prints MB/s and files/s for the whole pipeline.

use std::path::PathBuf;
use std::time::Instant;

use sovscan::engine;
use sovscan::scan::{ScanRequest, run};

const DEPLOYMENTS_PER_FILE: usize = 40;

fn manifest(file: usize, index: usize) -> String {
    let registry = match (file + index) % 4 {
        0 => "nginx",
        1 => "rg.fr-par.scw.cloud/shop/app",
        2 => "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
        _ => "europe-west3-docker.pkg.dev/acme/shop/app",
    };
    let region = if index.is_multiple_of(7) {
        "us-east-1"
    } else {
        "eu-central-1"
    };
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{file}-{index}\n  namespace: team-{file}\n  labels:\n    app: app-{index}\n    data-classification: personal\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: app-{index}\n  template:\n    metadata:\n      labels:\n        app: app-{index}\n    spec:\n      nodeSelector:\n        topology.kubernetes.io/region: {region}\n      containers:\n        - name: app\n          image: {registry}:1.{index}\n          env:\n            - name: DD_SITE\n              value: datadoghq.eu\n            - name: SENTRY_DSN\n              value: https://0123456789abcdef0123456789abcdef@o1.ingest.de.sentry.io/{index}\n            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef: {{name: db, key: password}}\n          resources:\n            requests: {{cpu: 100m, memory: 128Mi}}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-{file}-{index}\n  annotations:\n    service.beta.kubernetes.io/aws-load-balancer-type: nlb\nspec:\n  type: LoadBalancer\n  selector:\n    app: app-{index}\n  ports:\n    - port: 80\n"
    )
}

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --all-targets` a small corpus only checks
    // that the benchmark still runs.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let files: usize = if benchmarking { 400 } else { 4 };
    let dir = std::env::temp_dir().join(format!("sovscan-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut bytes = 0usize;
    for file in 0..files {
        let text: String = (0..DEPLOYMENTS_PER_FILE)
            .map(|i| manifest(file, i))
            .collect();
        bytes += text.len();
        std::fs::write(dir.join(format!("team-{file}.yaml")), text).expect("write corpus");
    }
    let kb = sovscan::knowledge::get().expect("knowledge base");
    let rules = engine::all_rules(&[]).expect("rules");
    let request = ScanRequest {
        paths: vec![PathBuf::from(&dir)],
        ..Default::default()
    };
    // One warm-up run fills the page cache; the measured runs follow.
    let _ = run(&request, &rules, kb).expect("scan");
    let mut best = f64::MAX;
    let mut findings = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let result = run(&request, &rules, kb).expect("scan");
        best = best.min(start.elapsed().as_secs_f64());
        findings = result.findings.len();
    }
    let mb = bytes as f64 / 1_000_000.0;
    println!(
        "corpus: {files} files, {:.1} MB, {} documents; best of 3: {:.3} s = {:.1} MB/s, {:.0} files/s, {findings} findings; threads: {}",
        mb,
        files * DEPLOYMENTS_PER_FILE * 2,
        best,
        mb / best,
        files as f64 / best,
        rayon::current_num_threads()
    );
    phases(&dir, &rules, kb);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Time of each stage alone, to see where a slowdown comes from.
fn phases(dir: &std::path::Path, rules: &[engine::Rule], kb: &sovscan::knowledge::KnowledgeBase) {
    use rayon::prelude::*;
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus")
        .flatten()
        .map(|e| e.path())
        .collect();
    let start = Instant::now();
    let outcomes: Vec<_> = files
        .par_iter()
        .map(|p| sovscan::load::load_file(p))
        .collect();
    let load = start.elapsed().as_secs_f64();
    let documents: Vec<_> = outcomes.into_iter().flat_map(|o| o.documents).collect();
    let start = Instant::now();
    let resources = sovscan::extract::extract_all(&documents, kb, &Default::default());
    let extract = start.elapsed().as_secs_f64();
    let ctx = engine::Context {
        kb,
        profile: engine::Profile::Eu,
        personal_data_labels: sovscan::scan::default_personal_data_labels().into(),
        deploy_regions: std::sync::Arc::from([]),
        max_log_retention_days: 400,
        require_customer_managed_keys: false,
        allowed_countries: std::sync::Arc::from([]),
        own_hosts: std::sync::Arc::from([]),
        resources: &resources,
        buckets: &[],
    };
    let start = Instant::now();
    let findings = engine::evaluate(rules, &ctx);
    let evaluate = start.elapsed().as_secs_f64();
    println!(
        "stages: load {load:.3} s, extract {extract:.3} s, evaluate {evaluate:.3} s ({} findings)",
        findings.len()
    );
}
