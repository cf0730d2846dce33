//! One scan end to end: discover files, load them in parallel, extract resources, evaluate
//! rules, and return a report. No printing here; the caller renders the report.

use rayon::prelude::*;
use std::path::PathBuf;

use crate::engine::{self, Context, Profile, Rule};
use crate::extract::{self, ExtractOptions};
use crate::finding::Finding;
use crate::knowledge::KnowledgeBase;
use crate::load::{self, FileOutcome, LoadError, Skipped};
use crate::model::Resource;

/// What to scan and how.
#[derive(Clone, Debug)]
pub struct ScanRequest {
    /// Files and folders; `-` reads one document stream from stdin (given as `stdin`).
    pub paths: Vec<PathBuf>,
    pub stdin: Option<Vec<u8>>,
    pub excludes: Vec<String>,
    pub profile: Profile,
    pub deploy_regions: Vec<String>,
    pub personal_data_labels: Vec<(String, String)>,
    pub max_log_retention_days: i64,
    pub require_customer_managed_keys: bool,
}

impl Default for ScanRequest {
    fn default() -> Self {
        ScanRequest {
            paths: vec![PathBuf::from(".")],
            stdin: None,
            excludes: Vec::new(),
            profile: Profile::Eu,
            deploy_regions: Vec::new(),
            personal_data_labels: default_personal_data_labels(),
            max_log_retention_days:
                crate::engine::checks::cloud_gdpr::DEFAULT_MAX_LOG_RETENTION_DAYS,
            require_customer_managed_keys: false,
        }
    }
}

pub fn default_personal_data_labels() -> Vec<(String, String)> {
    [
        ("data-classification", "personal"),
        ("sovscan.dev/data-classification", "personal"),
        ("data-classification", "pii"),
        ("gdpr.eu/personal-data", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Everything a scan found, ready for any renderer.
#[derive(Debug, Default)]
pub struct ScanResult {
    pub files: usize,
    pub documents: usize,
    pub resources: Vec<Resource>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<LoadError>,
    pub findings: Vec<Finding>,
    pub suppression_warnings: Vec<crate::suppress::SuppressionWarning>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Walk(#[from] load::walk::WalkError),
}

pub fn run(
    request: &ScanRequest,
    rules: &[Rule],
    kb: &KnowledgeBase,
) -> Result<ScanResult, ScanError> {
    let excludes = load::walk::build_excludes(&request.excludes)?;
    let walk = load::walk::discover(&request.paths, &excludes);

    let mut outcomes: Vec<FileOutcome> =
        walk.files.par_iter().map(|p| load::load_file(p)).collect();
    if let Some(bytes) = &request.stdin {
        outcomes.push(load::load_bytes("-", bytes));
    }
    Ok(evaluate(request, outcomes, walk.unreadable, rules, kb))
}

/// A scan of inputs that are not files (live sources): each input is loaded as a file of
/// that name would be, so findings, reports and exit codes are those of a file scan.
pub fn run_inputs(
    request: &ScanRequest,
    inputs: &[(String, Vec<u8>)],
    rules: &[Rule],
    kb: &KnowledgeBase,
) -> ScanResult {
    let outcomes: Vec<FileOutcome> = inputs
        .par_iter()
        .map(|(name, bytes)| load::load_bytes(name, bytes))
        .collect();
    evaluate(request, outcomes, Vec::new(), rules, kb)
}

fn evaluate(
    request: &ScanRequest,
    outcomes: Vec<FileOutcome>,
    unreadable: Vec<(PathBuf, String)>,
    rules: &[Rule],
    kb: &KnowledgeBase,
) -> ScanResult {
    let mut result = ScanResult {
        files: outcomes.len(),
        ..Default::default()
    };
    for (path, reason) in unreadable {
        result.errors.push(LoadError {
            path: path.display().to_string(),
            line: 0,
            column: 0,
            reason,
        });
    }
    let options = ExtractOptions {
        deploy_regions: request.deploy_regions.clone(),
    };
    let mut documents = Vec::new();
    for outcome in outcomes {
        result.documents += outcome.documents.len() + outcome.skipped_documents;
        documents.extend(outcome.documents);
        result.skipped.extend(outcome.skipped);
        result.errors.extend(outcome.error);
    }
    result.resources = extract::extract_all(&documents, kb, &options);
    // Resources own what rules need; the parsed documents can go before evaluation.
    drop(documents);
    result.skipped.sort();
    result.errors.sort();

    let ctx = Context {
        kb,
        profile: request.profile,
        personal_data_labels: request.personal_data_labels.clone(),
        deploy_regions: request.deploy_regions.clone(),
        max_log_retention_days: request.max_log_retention_days,
        require_customer_managed_keys: request.require_customer_managed_keys,
        resources: &result.resources,
    };
    let mut findings = engine::evaluate(rules, &ctx);
    let mut sources = std::collections::HashMap::new();
    if let Some(bytes) = &request.stdin {
        sources.insert(
            std::sync::Arc::from("-"),
            String::from_utf8_lossy(bytes).into_owned(),
        );
    }
    result.suppression_warnings = crate::suppress::apply(
        &mut findings,
        &result.resources,
        &sources,
        &crate::suppress::today(),
    );
    result.findings = findings;
    result
}
