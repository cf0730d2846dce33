//! Live sources: objects read from a running Kubernetes cluster or from AWS Config are turned
//! into the documents the file scanner reads and go through the same scan, reports and exit
//! codes. Each object is one input named by its address (`cluster://…`, `aws://…`).

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "cluster")]
pub mod cluster;

use anyhow::{Context as _, Result};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::app::{EXIT_ERROR, EXIT_FINDINGS};
use crate::cli::{LiveReportArgs, OutputFormat, ProfileArg};
use crate::engine::{self, Profile};
use crate::{knowledge, report, scan};

/// What a live source read: inputs for the scan, problems met on the way, and a section of
/// its own for the report.
#[derive(Debug, Default)]
pub struct Collected {
    /// (address, JSON text) per object.
    pub inputs: Vec<(String, Vec<u8>)>,
    /// Problems that left part of the estate unread (one line each, with what to do).
    pub problems: Vec<String>,
    /// Parts of the estate that could be read (regions, contexts); none means exit 2.
    pub scanned_parts: usize,
    /// Extra lines for the table report.
    pub table_section: String,
    /// Extra key for the JSON report.
    pub json_section: Option<(String, serde_json::Value)>,
}

/// A file name for an address: characters outside `[A-Za-z0-9._-]` become `_`.
pub fn file_name(address: &str) -> String {
    let tail = address.split_once("://").map_or(address, |(_, t)| t);
    let mut name: String = tail
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    name.push_str(".json");
    name
}

/// The rules a live scan runs and its settings.
pub struct Setup {
    pub rules: Vec<engine::Rule>,
    pub request: scan::ScanRequest,
}

/// The rules and settings `args` ask for.
pub fn setup(args: &LiveReportArgs) -> Result<Setup> {
    let rules = engine::select_rules(
        engine::all_rules(&args.rules).context("cannot load rules")?,
        &args.select,
        &args.ignore,
    );
    let request = scan::ScanRequest {
        paths: Vec::new(),
        profile: match args.profile {
            ProfileArg::Eu => Profile::Eu,
            ProfileArg::Adequacy => Profile::Adequacy,
            ProfileArg::Strict => Profile::Strict,
        },
        list_resources: args.format == OutputFormat::Junit,
        ..Default::default()
    };
    Ok(Setup { rules, request })
}

/// Writes an input read from a live source into the folder of `--save`, named for its
/// address.
pub fn save(dir: &std::path::Path, address: &str, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(file_name(address));
    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Scans what was collected and prints the report; the exit code follows `scan`.
pub fn finish(args: &LiveReportArgs, collected: Collected) -> Result<ExitCode> {
    if let Some(dir) = &args.save {
        for (address, bytes) in &collected.inputs {
            save(dir, address, bytes)?;
        }
    }
    let kb = knowledge::get()?;
    let setup = setup(args)?;
    let result = scan::run_inputs(&setup.request, &collected.inputs, &setup.rules, kb);
    report(args, &collected, &setup, result)
}

/// Warns of the problems met while reading; exit 2 when no part of the estate could be read.
fn nothing_scanned(collected: &Collected) -> Option<ExitCode> {
    for p in &collected.problems {
        eprintln!("warning: {p}");
    }
    (collected.scanned_parts == 0).then(|| {
        eprintln!("error: nothing could be scanned");
        ExitCode::from(EXIT_ERROR)
    })
}

/// Prints the report of what a live source read and the scan gave; the exit code follows
/// `scan`.
pub fn report(
    args: &LiveReportArgs,
    collected: &Collected,
    setup: &Setup,
    result: scan::ScanResult,
) -> Result<ExitCode> {
    if let Some(code) = nothing_scanned(collected) {
        return Ok(code);
    }
    let kb = knowledge::get()?;
    let (rules, request) = (&setup.rules, &setup.request);
    let color = !args.no_color
        && args.output.is_none()
        && std::env::var_os("NO_COLOR").is_none()
        && std::io::stdout().is_terminal();
    let threshold = crate::app::threshold(args.fail_on);
    let failing = threshold.is_some_and(|t| {
        (result.findings.counts().iter()).any(|c| !c.suppressed && c.severity >= t)
    });
    let here = report::sarif::Locator::new(&report::sarif::repo_root(std::path::Path::new(".")));
    let verdict = match (failing, threshold) {
        (true, Some(t)) => format!("findings at or above {t}: exit 1"),
        (false, Some(t)) => format!("no findings at or above {t}: exit 0"),
        (_, None) => "gate off (--fail-on never): exit 0".to_string(),
    };
    let inputs = report::Inputs {
        result: &result,
        kb,
        rules,
        profile: request.profile.as_str(),
        locator: &here,
        verdict: &verdict,
        failed: failing,
        section: collected
            .json_section
            .as_ref()
            .map(|(key, value)| (key.as_str(), value)),
    };
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        match args.format {
            OutputFormat::Table => {
                let width = report::table::terminal_width(None);
                report::table::write(&result, kb, color, args.quiet, width, out)?;
                if args.quiet {
                    return Ok(());
                }
                out.write_all(collected.table_section.as_bytes())
            }
            other => report::write(other, &inputs, out),
        }
    };
    match &args.output {
        Some(path) => crate::app::write_report_with(path, args.force, write)?,
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write(&mut out).and_then(|()| out.flush())?;
        }
    }
    for e in &result.errors {
        eprintln!("error: {e}");
    }
    Ok(if failing {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

/// Two worker threads are enough: the live sources wait on the network, not on CPU.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
