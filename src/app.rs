//! Subcommands: each turns parsed arguments into output and an exit code.
//! Errors are values until here, where they are printed once.

use anyhow::{Context as _, Result, bail};
use clap::{CommandFactory, Parser};
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use crate::cli::{
    Cli, ColorChoice, Command, FailOn, ListFormat, MinSeverity, OutputFormat, ProfileArg,
    RulesAction, ScanArgs,
};
use crate::engine::{self, Profile, Rule};
use crate::finding::Severity;
use crate::policy::Policy;
use crate::report::plural;
use crate::{knowledge, report, scan};

/// Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 usage or input error.
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        // `sovscan … | head` closes the pipe early: that is the reader's choice, not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "error: {}",
                crate::sanitize::stderr_lines(&format!("{e:#}"))
            );
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes to stdout; a reader that went away (`| head`) ends the output quietly.
fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => scan_command(*args, false),
        Command::Baseline {
            action: crate::cli::BaselineAction::Prune(args),
        } => scan_command(*args, true),
        Command::Rules { action } => match action {
            RulesAction::List {
                rules,
                format,
                width,
            } => list_rules(&rules, format, width),
            RulesAction::Show { id, rules } => explain(&id, &rules),
            RulesAction::Test { dir } => test_rules(&dir),
            RulesAction::Coverage => {
                let kb = crate::knowledge::get()?;
                let text = crate::docs::coverage_markdown(kb);
                std::io::stdout().write_all(text.as_bytes())?;
                Ok(ExitCode::SUCCESS)
            }
            RulesAction::Frameworks => {
                let frameworks = crate::frameworks::catalogue().map_err(anyhow::Error::msg)?;
                write_stdout(crate::frameworks::markdown(frameworks).as_bytes())?;
                Ok(ExitCode::SUCCESS)
            }
            RulesAction::Docs { rules } => {
                let text = crate::docs::rules_markdown(&load_rules(&rules)?);
                write_stdout(text.as_bytes())?;
                Ok(ExitCode::SUCCESS)
            }
        },
        #[cfg(feature = "aws")]
        Command::Aws(args) => crate::live::aws::command(args),
        #[cfg(feature = "cluster")]
        Command::Cluster(args) => crate::live::cluster::command(args),
        Command::Explain { id, rules } => explain(&id, &rules),
        Command::Init => {
            let path = std::path::Path::new(crate::policy::FILE_NAME);
            if path.exists() {
                bail!("{} already exists; not overwritten", path.display());
            }
            std::fs::write(path, crate::policy::TEMPLATE)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "sovscan",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut page)?;
            write_stdout(&page)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load_rules(dirs: &[std::path::PathBuf]) -> Result<Vec<Rule>> {
    engine::all_rules(dirs).context("cannot load rules")
}

fn find_rule<'a>(rules: &'a [Rule], id: &str) -> Option<&'a Rule> {
    rules
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(id) || r.name == id)
}

fn list_rules(
    dirs: &[std::path::PathBuf],
    format: ListFormat,
    width: Option<u16>,
) -> Result<ExitCode> {
    let rules = load_rules(dirs)?;
    let mut out = String::new();
    match format {
        ListFormat::Json => {
            let list: Vec<_> = rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "name": r.name, "category": r.category,
                        "severity": r.severity, "title": r.title, "applies_to": r.applies_to,
                    })
                })
                .collect();
            out = serde_json::to_string_pretty(&list)?;
            out.push('\n');
        }
        ListFormat::Table => {
            let width = report::table::terminal_width(width);
            let mut table = report::table::new_table(false, width);
            // Narrow terminals get the columns that identify a rule; `rules show` has the rest.
            let wide = width >= 140;
            if wide {
                table.set_header(vec![
                    "id",
                    "name",
                    "category",
                    "severity",
                    "applies to",
                    "title",
                ]);
            } else {
                table.set_header(vec!["id", "severity", "title"]);
            }
            for r in &rules {
                if wide {
                    table.add_row(vec![
                        r.id.clone(),
                        r.name.clone(),
                        r.category.as_str().to_string(),
                        r.severity.as_str().to_string(),
                        r.applies_to.join(", "),
                        r.title.clone(),
                    ]);
                } else {
                    table.add_row(vec![
                        format!("{}\n{}", r.id, r.name),
                        r.severity.as_str().to_string(),
                        r.title.clone(),
                    ]);
                }
            }
            out.push_str(&format!("{table}\n{} rules\n", rules.len()));
        }
    }
    write_stdout(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the examples of each rule of the pack in `dir` with only that rule.
fn test_rules(dir: &std::path::Path) -> Result<ExitCode> {
    if !dir.is_dir() {
        bail!("{}: no such folder", dir.display());
    }
    let pack = engine::rule::load_dir(dir).context("cannot load rules")?;
    let kb = knowledge::get()?;
    let work = std::env::temp_dir().join(format!("sovscan-rules-test-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let mut out = String::new();
    let (mut wrong, mut run, mut without) = (0, 0, 0);
    for rule in &pack {
        let Some(examples) = &rule.examples else {
            without += 1;
            out.push_str(&format!("{}: no examples\n", rule.id));
            continue;
        };
        for (kind, text, want_finding) in [
            ("fail", &examples.fail, true),
            ("pass", &examples.pass, false),
        ] {
            let Some(text) = text else { continue };
            run += 1;
            let file = work.join(format!("{}-{kind}.{}", rule.id, example_extension(text)));
            std::fs::write(&file, text)
                .with_context(|| format!("cannot write {}", file.display()))?;
            let request = scan::ScanRequest {
                paths: vec![file.clone()],
                ..Default::default()
            };
            let result = scan::run(&request, std::slice::from_ref(rule), kb)?;
            let found: Vec<String> = result
                .findings
                .iter()
                .map(|f| format!("line {}: {}", f.location.start_line, f.message))
                .collect();
            let verdict = if let Some(e) = result.errors.first() {
                Some(format!("cannot be read: line {}: {}", e.line, e.reason))
            } else if want_finding && found.is_empty() {
                Some("gives no finding".to_string())
            } else if !want_finding && !found.is_empty() {
                Some(format!("gives a finding ({})", found.join("; ")))
            } else {
                None
            };
            match verdict {
                Some(problem) => {
                    wrong += 1;
                    out.push_str(&format!(
                        "{}: {kind} example {problem} ({})\n",
                        rule.id, rule.source
                    ));
                }
                None => out.push_str(&format!("{}: {kind} example ok\n", rule.id)),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    out.push_str(&format!(
        "{} of {} run, {wrong} wrong; {without} without examples\n",
        plural(run, "example"),
        plural(pack.len(), "rule"),
    ));
    write_stdout(out.as_bytes())?;
    Ok(ExitCode::from(if wrong > 0 { EXIT_FINDINGS } else { 0 }))
}

/// The file extension an example is loaded as: Terraform for HCL blocks, JSON for a JSON
/// value, YAML otherwise (Kubernetes, CloudFormation).
fn example_extension(text: &str) -> &'static str {
    let start = text.trim_start();
    if start.starts_with('{') || start.starts_with('[') {
        "json"
    } else if text.lines().any(|l| {
        let l = l.trim_start();
        [
            "resource \"",
            "data \"",
            "provider \"",
            "module \"",
            "terraform {",
        ]
        .iter()
        .any(|p| l.starts_with(p))
    }) {
        "tf"
    } else {
        "yaml"
    }
}

/// The full text of a rule, as `explain` and `rules show` print it.
pub fn explain_text(rule: &Rule) -> String {
    let mut out = format!("{} {} — {}\n\n", rule.id, rule.name, rule.title);
    out.push_str(&format!(
        "category: {}\nseverity: {} (profile eu)",
        rule.category.as_str(),
        rule.severity
    ));
    for profile in [Profile::Adequacy, Profile::Strict] {
        if rule.severity_by_profile.contains_key(&profile) {
            let s = rule
                .severity_for(profile)
                .map_or("off".to_string(), |s| s.to_string());
            out.push_str(&format!(", {s} (profile {})", profile.as_str()));
        }
    }
    out.push_str(&format!("\napplies to: {}\n", rule.applies_to.join(", ")));
    out.push_str(&format!("\nWhy\n{}\n", indent(rule.why.trim())));
    out.push_str(&format!("\nHow to fix\n{}\n", indent(rule.fix.trim())));
    if let Some(examples) = &rule.examples {
        if let Some(fail) = &examples.fail {
            out.push_str(&format!("\nFlagged\n{}\n", indent(fail.trim_end())));
        }
        if let Some(pass) = &examples.pass {
            out.push_str(&format!("\nAccepted\n{}\n", indent(pass.trim_end())));
        }
    }
    if !rule.references.is_empty() {
        out.push_str("\nReferences\n");
        for r in &rule.references {
            out.push_str(&format!("  - {r}\n"));
        }
    }
    let controls = crate::frameworks::controls_of(&rule.id);
    if !controls.is_empty() {
        out.push_str("\nFramework controls it gives evidence for\n");
        for (framework, control) in controls {
            out.push_str(&format!(
                "  - {} ({}, {}): {}\n",
                control.id, framework.name, framework.edition, control.title
            ));
        }
    }
    out
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn explain(id: &str, dirs: &[std::path::PathBuf]) -> Result<ExitCode> {
    let rules = load_rules(dirs)?;
    let Some(rule) = find_rule(&rules, id) else {
        bail!(
            "no rule {id:?}{}",
            crate::gate::Vocabulary::new(&rules).hint(id, false)
        );
    };
    write_stdout(explain_text(rule).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn threshold(fail_on: FailOn) -> Option<Severity> {
    match fail_on {
        FailOn::Critical => Some(Severity::Critical),
        FailOn::High => Some(Severity::High),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::Low => Some(Severity::Low),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    }
}

fn min_severity(min: MinSeverity) -> Severity {
    match min {
        MinSeverity::Critical => Severity::Critical,
        MinSeverity::High => Severity::High,
        MinSeverity::Medium => Severity::Medium,
        MinSeverity::Low => Severity::Low,
        MinSeverity::Info => Severity::Info,
    }
}

fn parse_fail_on(policy: &Policy, text: &str) -> Result<FailOn> {
    use clap::ValueEnum;
    FailOn::from_str(text, true).map_err(|_| {
        let source = policy
            .source
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok());
        let at = settings_position(policy, source.as_deref(), text);
        anyhow::anyhow!(
            "{at}fail_on {text:?} is not one of critical, high, medium, low, info, never"
        )
    })
}

/// The settings file named by `--config`, or the nearest `.sovscan.yaml`.
fn load_policy(args: &ScanArgs) -> Result<Policy> {
    let path = match &args.config {
        Some(path) => Some(path.clone()),
        None => {
            let start = args
                .paths
                .iter()
                .find(|p| p.as_os_str() != "-")
                .cloned()
                .unwrap_or_else(|| std::path::PathBuf::from("."));
            Policy::discover(&start)
        }
    };
    match path {
        Some(path) => Ok(Policy::read(&path)?),
        None => Ok(Policy::default()),
    }
}

/// Paths that do not exist or cannot be read are usage errors, not an empty (passing) scan.
fn check_paths(paths: &[std::path::PathBuf], problems: &mut Vec<String>) {
    for path in paths.iter().filter(|p| p.as_os_str() != "-") {
        let shown = crate::sanitize::terminal(&path.to_string_lossy()).into_owned();
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                problems.push(format!("{shown}: no such file or folder"));
            }
            Err(e) => problems.push(format!("{shown}: cannot read: {}", io_reason(&e))),
            Ok(meta) if let Some(kind) = crate::load::walk::special_kind(meta.file_type()) => {
                problems.push(format!(
                    "{shown}: {kind} (give its content on stdin: `sovscan scan - < {shown}`)"
                ));
            }
            Ok(meta) if meta.is_dir() => {
                if let Err(e) = std::fs::read_dir(path) {
                    problems.push(format!("{shown}: cannot read folder: {}", io_reason(&e)));
                }
            }
            Ok(_) => {
                if let Err(e) = std::fs::File::open(path) {
                    problems.push(format!("{shown}: cannot read: {}", io_reason(&e)));
                }
            }
        }
    }
}

/// An I/O error as a sentence, without Rust's `(os error 13)`.
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::NotFound => "no such file or folder".to_string(),
        _ => {
            let text = e.to_string();
            text.split(" (os error").next().unwrap_or(&text).to_string()
        }
    }
}

/// Where a value from the settings file is written (`path:line:col: `), or the file's name.
fn settings_position(policy: &Policy, text: Option<&str>, word: &str) -> String {
    let Some(path) = &policy.source else {
        return String::new();
    };
    match text.and_then(|t| crate::gate::position_in(t, word)) {
        Some((line, col)) => format!("{}:{line}:{col}: ", path.display()),
        None => format!("{}: ", path.display()),
    }
}

/// Every `--select`/`--ignore` term and settings entry must name rules that exist.
fn check_rule_names(
    args: &ScanArgs,
    policy: &Policy,
    vocabulary: &crate::gate::Vocabulary,
    problems: &mut Vec<String>,
) {
    let text = policy
        .source
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok());
    let mut terms: Vec<(String, &str, &String)> = Vec::new();
    for t in &args.select {
        terms.push((String::new(), "--select", t));
    }
    for t in &args.ignore {
        terms.push((String::new(), "--ignore", t));
    }
    for t in &policy.select {
        terms.push((settings_position(policy, text.as_deref(), t), "select", t));
    }
    for t in &policy.ignore {
        terms.push((settings_position(policy, text.as_deref(), t), "ignore", t));
    }
    for (at, key, term) in terms {
        if !vocabulary.selects_any(term) {
            problems.push(format!(
                "{at}{key} {term:?} matches no rule id, id prefix, name or category{}",
                vocabulary.hint(term, true)
            ));
        }
    }
    for (key, value) in [
        ("min_data_in_eu_percent", policy.min_data_in_eu_percent),
        (
            "min_eu_controlled_percent",
            policy.min_eu_controlled_percent,
        ),
    ] {
        if let Some(value) = value.filter(|v| *v > 100) {
            let at = settings_position(policy, text.as_deref(), key);
            problems.push(format!("{at}{key} {value} is not a share from 0 to 100"));
        }
    }
    for country in policy
        .allow
        .countries
        .iter()
        .chain(policy.registries.values())
    {
        if !(country.len() == 2 && country.chars().all(|c| c.is_ascii_alphabetic())) {
            let at = settings_position(policy, text.as_deref(), country);
            problems.push(format!(
                "{at}country {country:?} is not a two-letter ISO code (CH, NO, GB)"
            ));
        }
    }
    for id in policy.severity.keys() {
        if !vocabulary.is_rule(id) {
            let at = settings_position(policy, text.as_deref(), id);
            problems.push(format!(
                "{at}severity override for unknown rule {id:?}{}",
                vocabulary.hint(id, false)
            ));
        }
    }
}

/// `path` (as the scan names it) relative to `base` with `/` separators; `None` outside it.
fn relative_to(base: &std::path::Path, path: &str) -> Option<String> {
    if path == "-" {
        return None;
    }
    let path = std::path::Path::new(path);
    let absolute = std::fs::canonicalize(path)
        .ok()
        .or_else(|| std::env::current_dir().ok().map(|cwd| cwd.join(path)))?;
    let relative = absolute.strip_prefix(base).ok()?;
    Some(
        relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// The settings file's `suppress:` entries, checked: each names something to match, a reason,
/// existing rules, a valid glob, fingerprint and date.
fn settings_suppressions(
    policy: &Policy,
    vocabulary: &crate::gate::Vocabulary,
    problems: &mut Vec<String>,
) -> Vec<crate::suppress::SettingsSuppression> {
    let mut out = Vec::new();
    for (i, entry) in policy.suppress.iter().enumerate() {
        let line = policy.suppress_lines.get(i).copied().unwrap_or(1);
        let at = policy
            .source
            .as_ref()
            .map_or(String::new(), |p| format!("{}:{line}:1: ", p.display()));
        let before = problems.len();
        if entry.rule.is_none()
            && entry.path.is_none()
            && entry.resource.is_none()
            && entry.fingerprint.is_none()
        {
            problems.push(format!(
                "{at}suppress entry names no rule, path, resource or fingerprint"
            ));
        }
        if entry.reason.trim().is_empty() {
            problems.push(format!("{at}suppress entry has an empty reason"));
        }
        if let Some(rule) = &entry.rule
            && !vocabulary.is_rule(rule)
        {
            problems.push(format!(
                "{at}suppress entry names unknown rule {rule:?}{}",
                vocabulary.hint(rule, false)
            ));
        }
        if let Some(fp) = &entry.fingerprint
            && !(fp.len() == 16 && fp.chars().all(|c| c.is_ascii_hexdigit()))
        {
            problems.push(format!(
                "{at}fingerprint {fp:?} is not 16 hexadecimal digits (see the JSON report)"
            ));
        }
        if let Some(until) = &entry.until
            && !is_date(until)
        {
            problems.push(format!("{at}until {until:?} is not a date (YYYY-MM-DD)"));
        }
        match crate::suppress::SettingsSuppression::new(entry.clone(), line) {
            Ok(s) if problems.len() == before => out.push(s),
            Ok(_) => {}
            Err(reason) => problems.push(format!("{at}{reason}")),
        }
    }
    out
}

fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 3
        && [4, 2, 2]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_digit()))
}

/// A baseline file whose rule ids all exist (an unknown id is a usage error, as elsewhere).
fn read_baseline(
    path: &std::path::Path,
    vocabulary: &crate::gate::Vocabulary,
    problems: &mut Vec<String>,
) -> Result<crate::baseline::Baseline> {
    let baseline = crate::baseline::Baseline::read(path)?;
    let unknown: std::collections::BTreeSet<&str> = baseline
        .findings
        .iter()
        .map(|e| e.rule_id.as_str())
        .filter(|id| !vocabulary.is_rule(id))
        .collect();
    for id in unknown {
        problems.push(format!(
            "{}: baseline names unknown rule {id:?}{}",
            path.display(),
            vocabulary.hint(id, false)
        ));
    }
    Ok(baseline)
}

/// Several problems become one error with one `error:` line each.
fn usage_error(problems: Vec<String>) -> Result<()> {
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{}", problems.join("\nerror: "))
    }
}

fn scan_command(args: ScanArgs, prune: bool) -> Result<ExitCode> {
    if args.parse_only {
        let (files, documents) = scan::parse_only(&args.paths, &args.exclude, args.no_ignore)?;
        write_stdout(format!("{files} files, {documents} documents\n").as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let phase = crate::timing::phase("knowledge base");
    let kb = knowledge::get()?;
    drop(phase);
    let phase = crate::timing::phase("settings and rules");
    let policy = load_policy(&args)?;
    let mut problems = Vec::new();
    check_paths(&args.paths, &mut problems);
    let rule_dirs: Vec<_> = policy.rules.iter().chain(&args.rules).cloned().collect();
    let all_rules = load_rules(&rule_dirs)?;
    let vocabulary = crate::gate::Vocabulary::new(&all_rules);
    check_rule_names(&args, &policy, &vocabulary, &mut problems);
    let settings_suppressions = settings_suppressions(&policy, &vocabulary, &mut problems);
    if prune && args.baseline.is_none() {
        problems.push("baseline prune needs --baseline FILE".to_string());
    }
    let baseline = match &args.baseline {
        Some(path) => Some(read_baseline(path, &vocabulary, &mut problems)?),
        None => None,
    };
    usage_error(problems)?;
    let known_rules: Vec<String> = all_rules
        .iter()
        .flat_map(|r| [r.id.clone(), r.name.clone()])
        .collect();
    let select = if args.select.is_empty() {
        &policy.select
    } else {
        &args.select
    };
    let ignore: Vec<String> = policy.ignore.iter().chain(&args.ignore).cloned().collect();
    let rules = engine::select_rules(all_rules.clone(), select, &ignore);
    let estate_rules: Vec<Rule> = all_rules
        .iter()
        .filter(|r| !rules.iter().any(|s| s.id == r.id))
        .cloned()
        .collect();
    let fail_on = match (args.fail_on, &policy.fail_on) {
        (Some(f), _) => f,
        (None, Some(text)) => parse_fail_on(&policy, text)?,
        (None, None) => FailOn::High,
    };
    policy
        .limits
        .or(&crate::limits::Limits {
            expression_depth: args.max_expression_depth,
            value_bytes: args.max_value_bytes,
            file_bytes: args.max_file_bytes,
            stdin_bytes: args.max_stdin_bytes,
            total_bytes: args.max_total_bytes,
        })
        .apply();
    let mut paths = Vec::new();
    let mut stdin = None;
    for p in &args.paths {
        if p.as_os_str() == "-" {
            let limit = crate::limits::stdin_bytes();
            let mut bytes = Vec::new();
            std::io::stdin()
                .take(limit.saturating_add(1))
                .read_to_end(&mut bytes)
                .context("cannot read stdin")?;
            if bytes.len() as u64 > limit {
                anyhow::bail!("cannot scan stdin: {}", crate::limits::stdin_reason());
            }
            stdin = Some(bytes);
        } else {
            paths.push(p.clone());
        }
    }
    // Overrides name a rule by id (any case) or name, as everywhere else.
    let overrides: std::collections::BTreeMap<String, Severity> = policy
        .severity
        .iter()
        .filter_map(|(key, severity)| find_rule(&all_rules, key).map(|r| (r.id.clone(), *severity)))
        .collect();
    let locator = std::sync::Arc::new(report::sarif::Locator::new(&match &args.repo_root {
        Some(root) => root.clone(),
        None => report::sarif::repo_root(
            args.paths
                .iter()
                .find(|p| p.as_os_str() != "-")
                .map_or(std::path::Path::new("."), |p| p.as_path()),
        ),
    }));
    // Fingerprints name files relative to the repository root, as SARIF does: a baseline
    // written by `scan .` in one folder matches `scan /abs/repo` from another. Made in the
    // pass over the findings that applies inline suppressions.
    let adjust = {
        let locator = std::sync::Arc::clone(&locator);
        scan::Adjust::new(move |finding| {
            if let Some(severity) = overrides.get(&*finding.rule_id) {
                finding.severity = *severity;
            }
            if let Some(path) = locator.relative_nearby(&finding.location.path) {
                finding.rebase_fingerprint(&path);
            }
        })
    };
    let request = scan::ScanRequest {
        paths,
        stdin,
        excludes: args.exclude.clone(),
        settings_excludes: policy.exclude.clone(),
        settings_dir: policy.base_dir(),
        profile: match args.profile {
            Some(ProfileArg::Eu) => Profile::Eu,
            Some(ProfileArg::Adequacy) => Profile::Adequacy,
            Some(ProfileArg::Strict) => Profile::Strict,
            None => policy.profile.unwrap_or(Profile::Eu),
        },
        deploy_regions: if args.deploy_region.is_empty() {
            policy.deploy_regions.clone()
        } else {
            args.deploy_region.clone()
        },
        var_files: args.var_file.clone(),
        parameters: args.parameter.clone(),
        parameter_files: args.parameter_file.clone(),
        render: crate::render::RenderOptions {
            enabled: !args.no_render,
            helm_values: args.helm_values.clone(),
        },
        max_log_retention_days: policy
            .max_log_retention_days
            .unwrap_or(crate::engine::checks::cloud_gdpr::DEFAULT_MAX_LOG_RETENTION_DAYS),
        require_customer_managed_keys: policy.require_customer_managed_keys,
        allowed_countries: policy
            .allow
            .countries
            .iter()
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        own_hosts: policy
            .registries
            .iter()
            .map(|(host, country)| (host.to_ascii_lowercase(), country.to_ascii_uppercase()))
            .collect(),
        personal_data_labels: if policy.personal_data_labels.is_empty() {
            scan::default_personal_data_labels()
        } else {
            policy.personal_data_labels.clone().into_iter().collect()
        },
        known_rules,
        no_ignore: args.no_ignore,
        estate_rules,
        // The JUnit report has a test case per resource.
        list_resources: args.format == OutputFormat::Junit || args.junit_output.is_some(),
        adjust,
    };
    drop(phase);
    let phase = crate::timing::phase("scan");
    let mut result = scan::run(&request, &rules, kb)?;
    drop(phase);
    let phase = crate::timing::phase("overrides, settings suppressions and baseline");
    result.settings = policy.source.as_ref().map(|p| p.display().to_string());
    usage_error(
        result
            .unknown_suppressions
            .iter()
            .map(|u| {
                format!(
                    "{}:{}: suppression names unknown rule {:?}{}",
                    crate::sanitize::terminal(&u.path),
                    u.line,
                    u.name,
                    vocabulary.hint(&u.name, false)
                )
            })
            .collect(),
    )?;
    if let (Some(source), Some(base)) = (&policy.source, policy.base_dir()) {
        let warnings = crate::suppress::apply_settings(
            &mut result.findings,
            &settings_suppressions,
            &source.display().to_string(),
            |path| relative_to(&base, path),
            &crate::suppress::today(),
        );
        result.suppression_warnings.extend(warnings);
    }
    let ran: std::collections::BTreeSet<String> = rules.iter().map(|r| r.id.clone()).collect();
    let baseline = match &args.write_baseline {
        Some(path) => {
            refuse_symlink(path, args.force)?;
            let written = crate::baseline::Baseline::of(&result.findings, |p| {
                locator.relative(p).unwrap_or_else(|| p.to_string())
            });
            written.write(path)?;
            eprintln!(
                "wrote {} with {}",
                path.display(),
                plural(written.findings.len(), "finding")
            );
            Some(written)
        }
        None => baseline,
    };
    if let Some(baseline) = &baseline {
        let fixed = baseline.apply(&mut result.findings, &ran);
        result.baseline_fixed = Some(fixed.len());
        if prune && let Some(path) = &args.baseline {
            let mut kept = baseline.clone();
            kept.findings.retain(|e| !fixed.contains(e));
            kept.write(path)?;
            let entries = if fixed.len() == 1 { "entry" } else { "entries" };
            let text = format!(
                "pruned {} {entries} from {}, {} kept\n",
                fixed.len(),
                path.display(),
                kept.findings.len()
            );
            write_stdout(text.as_bytes())?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    let thresholds = Thresholds {
        data_in_eu: policy.min_data_in_eu_percent,
        eu_controlled: policy.min_eu_controlled_percent,
    };
    let strict = args.strict || policy.strict;
    // A folder that gives nothing to judge may be the wrong one; files named one by one (a
    // pre-commit hook's staged files) are what was asked for, whatever they hold.
    let folders = args.paths.iter().any(|p| p.is_dir());
    let (code, verdict) = verdict(&result, kb, fail_on, strict, folders, thresholds);
    drop(phase);
    let _phase = crate::timing::phase("reports");
    // What is shown may be filtered; the verdict above counted everything.
    if let Some(min) = args.min_severity {
        let min = min_severity(min);
        result.findings.retain(|f| f.severity >= min);
    }
    let color = match (args.no_color, args.color) {
        (true, _) | (false, ColorChoice::Never) => false,
        (false, ColorChoice::Always) => true,
        (false, ColorChoice::Auto) => {
            args.output.is_none()
                && std::env::var_os("NO_COLOR").is_none()
                && std::io::stdout().is_terminal()
        }
    };
    let width = report::table::terminal_width(args.width);
    findings_readable(&result)?;
    let inputs = report::Inputs {
        result: &result,
        kb,
        rules: &rules,
        profile: request.profile.as_str(),
        locator: &locator,
        verdict: &verdict,
        failed: code != 0,
        section: None,
    };
    // Each report is written as it is made: the file formats through a buffered writer.
    let emit = |format: OutputFormat, color: bool, out: &mut dyn Write| -> std::io::Result<()> {
        match format {
            OutputFormat::Table => {
                report::table::write(&result, kb, color, args.quiet, width, out)?;
                if args.quiet {
                    return Ok(());
                }
                writeln!(out, "{verdict}")
            }
            other => report::write(other, &inputs, out),
        }
    };
    let extra = [
        (&args.json_output, OutputFormat::Json),
        (&args.sarif_output, OutputFormat::Sarif),
        (&args.text_output, OutputFormat::Table),
        (&args.html_output, OutputFormat::Html),
        (&args.junit_output, OutputFormat::Junit),
        (&args.gitlab_output, OutputFormat::Gitlab),
        (&args.markdown_output, OutputFormat::Markdown),
        (&args.csv_output, OutputFormat::Csv),
    ];
    for (path, format) in extra {
        if let Some(path) = path {
            write_report_with(path, args.force, |out| emit(format, false, out))?;
        }
    }
    let table = args.format == OutputFormat::Table;
    match &args.output {
        Some(path) => write_report_with(path, args.force, |out| emit(args.format, color, out))?,
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            match emit(args.format, color, &mut out).and_then(|()| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other?,
            }
        }
    }
    if args.format == OutputFormat::Github
        && let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY")
    {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .with_context(|| format!("cannot write {}", summary.to_string_lossy()))?;
        file.write_all(report::sarif::step_summary(&result, &verdict).as_bytes())?;
    }
    for e in &result.errors {
        eprintln!("error: {}", crate::sanitize::terminal(&e.to_string()));
    }
    for w in &result.warnings {
        eprintln!("warning: {}", crate::sanitize::terminal(&w.to_string()));
    }
    for w in &result.suppression_warnings {
        let text = format!("{}:{}: {}", w.path, w.line, w.message);
        eprintln!("warning: {}", crate::sanitize::terminal(&text));
    }
    findings_readable(&result)?;
    if code != 0 && (!table || args.output.is_some()) {
        eprintln!("{verdict}");
    }
    // The process ends with this command: freeing every resource and finding one by one
    // would only cost time on the way out. Findings in a temporary file delete it.
    let findings = std::mem::take(&mut result.findings);
    if findings.on_disk() {
        drop(findings);
    } else {
        std::mem::forget(findings);
    }
    std::mem::forget(result);
    Ok(ExitCode::from(code))
}

/// Fails when the findings written to a temporary file could not all be written or read
/// back: reports would miss some.
fn findings_readable(result: &scan::ScanResult) -> Result<()> {
    match result.findings.error() {
        Some(e) => anyhow::bail!(
            "{e} (in {}; set TMPDIR to a folder with room)",
            std::env::temp_dir().display()
        ),
        None => Ok(()),
    }
}

/// Writes a report file; a symbolic link at `path` is refused unless `force` (a link planted in
/// the checkout would otherwise make the scan overwrite whatever it points to).
pub fn write_report(path: &std::path::Path, bytes: &[u8], force: bool) -> Result<()> {
    write_report_with(path, force, |out| out.write_all(bytes))
}

/// Writes a report file through a buffered writer, with the same refusal of symbolic links.
pub fn write_report_with(
    path: &std::path::Path,
    force: bool,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    refuse_symlink(path, force)?;
    // The report of the scan before is written over, not truncated first: dropping the pages
    // of a large file costs the file system as much as writing them again.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = Blocks::new(file);
    let written = write(&mut out).and_then(|()| out.flush());
    // What is left of the old text goes, whether the new one was written whole or not. (A
    // device or a pipe, `/dev/stdout`, has no old text and no length.)
    let mut file = out.inner;
    let cut = match file.metadata() {
        Ok(m) if m.is_file() => {
            std::io::Seek::stream_position(&mut file).and_then(|end| file.set_len(end))
        }
        _ => Ok(()),
    };
    written
        .and(cut)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A buffered writer that writes whole blocks of `Blocks::SIZE` bytes, all but the last: a
/// report written over the one before never makes the file system read a block of the old
/// one to fill the part a write leaves (a report whose pages have left the cache would be
/// read back a block at a time).
struct Blocks<W: Write> {
    inner: W,
    buffer: Vec<u8>,
}

impl<W: Write> Blocks<W> {
    const SIZE: usize = 1 << 16;

    fn new(inner: W) -> Self {
        Blocks {
            inner,
            buffer: Vec::with_capacity(Self::SIZE),
        }
    }
}

impl<W: Write> Write for Blocks<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut rest = data;
        // The block begun is filled and written first; whole blocks of `data` are written
        // from it, not copied.
        if !self.buffer.is_empty() {
            let fill = (Self::SIZE - self.buffer.len()).min(rest.len());
            self.buffer.extend_from_slice(&rest[..fill]);
            rest = &rest[fill..];
            if self.buffer.len() < Self::SIZE {
                return Ok(data.len());
            }
            self.inner.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        let whole = rest.len() / Self::SIZE * Self::SIZE;
        self.inner.write_all(&rest[..whole])?;
        self.buffer.extend_from_slice(&rest[whole..]);
        Ok(data.len())
    }

    /// Writes what is held, the end of a block.
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.write_all(&self.buffer)?;
        self.buffer.clear();
        self.inner.flush()
    }
}

/// An error when `path` is a symbolic link and `force` is not given.
pub fn refuse_symlink(path: &std::path::Path, force: bool) -> Result<()> {
    if !force && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        let target = std::fs::read_link(path)
            .map(|t| format!(" (to {})", t.display()))
            .unwrap_or_default();
        bail!(
            "{} is a symbolic link{}: not written through it (--force to write anyway)",
            crate::sanitize::terminal(&path.to_string_lossy()),
            crate::sanitize::terminal(&target)
        );
    }
    Ok(())
}

/// Estate shares below which the gate fails (`.sovscan.yaml`).
#[derive(Clone, Copy, Debug, Default)]
struct Thresholds {
    data_in_eu: Option<u32>,
    eu_controlled: Option<u32>,
}

/// The exit code and the sentence that explains it (the last line of the table output).
fn verdict(
    result: &scan::ScanResult,
    kb: &knowledge::KnowledgeBase,
    fail_on: FailOn,
    strict: bool,
    folders: bool,
    thresholds: Thresholds,
) -> (u8, String) {
    let unreadable = unreadable_note(result, folders);
    if strict && let Some(note) = &unreadable {
        return (EXIT_ERROR, format!("{note} (--strict): exit 2"));
    }
    // Without --strict the gate goes on, but the last line still says what was not scanned.
    let with_note = |line: String| match &unreadable {
        Some(note) => format!("{line}; {note} (--strict fails on it)"),
        None => line,
    };
    let mut reasons = Vec::new();
    // Settings no rule could judge: a strict gate does not vouch for them.
    let unevaluated = (!result.unevaluated.is_empty())
        .then(|| plural(result.unevaluated.len(), "setting") + " not evaluated");
    let with_note = |line: String| match (&unevaluated, strict) {
        (Some(note), false) => with_note(format!("{line}; {note} (--strict fails on them)")),
        _ => with_note(line),
    };
    let threshold = threshold(fail_on);
    if strict
        && threshold.is_some()
        && let Some(note) = &unevaluated
    {
        reasons.push(format!("{note} (--strict)"));
    }
    if let Some(t) = threshold {
        let failing: usize = result
            .findings
            .counts()
            .iter()
            .filter(|c| c.is_active() && c.severity >= t)
            .map(|c| c.findings)
            .sum();
        if failing > 0 {
            reasons.push(format!("{} at or above {t}", plural(failing, "finding")));
        }
    }
    if thresholds.data_in_eu.is_some() || thresholds.eu_controlled.is_some() {
        let summary = report::summarize(result, kb);
        let checks = [
            (
                "data in the EU/EEA",
                summary.data_in_eu_percent,
                thresholds.data_in_eu,
                "min_data_in_eu_percent",
            ),
            (
                "on EU-controlled providers",
                summary.eu_controlled_percent,
                thresholds.eu_controlled,
                "min_eu_controlled_percent",
            ),
        ];
        for (what, actual, minimum, key) in checks {
            if let (Some(actual), Some(minimum)) = (actual, minimum)
                && actual < minimum
            {
                reasons.push(format!("{actual}% {what}, below {key} {minimum}%"));
            }
        }
    }
    if !reasons.is_empty() {
        return (
            EXIT_FINDINGS,
            with_note(format!("{}: exit 1", reasons.join("; "))),
        );
    }
    match threshold {
        Some(t) => (0, with_note(format!("no findings at or above {t}: exit 0"))),
        None => (
            0,
            with_note("gate off (--fail-on never): exit 0".to_string()),
        ),
    }
}

/// `2 files could not be read or parsed, 1 read with undecodable bytes`, or nothing; with
/// `folders` (a folder was scanned), also that no resource was found in them.
pub fn unreadable_note(result: &scan::ScanResult, folders: bool) -> Option<String> {
    let mut parts = Vec::new();
    // A gate over folders that saw no resource vouches for nothing: a wrong path, a folder of
    // Bicep or Terragrunt files, or charts that could not be rendered pass it otherwise.
    if folders && result.estate.resources == 0 && result.not_created == 0 {
        parts.push(match (result.files, result.skipped.len()) {
            (0, 0) => "no input file found, nothing was scanned".to_string(),
            (0, skipped) => format!(
                "nothing was scanned, {} skipped (listed in the JSON report)",
                plural(skipped, "file")
            ),
            (files, _) => format!(
                "no resource found in {}, nothing was judged",
                plural(files, "file")
            ),
        });
    }
    if !result.errors.is_empty() {
        parts.push(format!(
            "{} could not be read or parsed",
            plural(result.errors.len(), "file")
        ));
    }
    if !result.warnings.is_empty() {
        parts.push(format!(
            "{} read with undecodable bytes",
            plural(result.warnings.len(), "file")
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::Blocks;
    use std::io::Write;

    /// Records the length of each write it is given.
    #[derive(Default)]
    struct Writes {
        bytes: Vec<u8>,
        lengths: Vec<usize>,
    }

    impl Write for Writes {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.bytes.extend_from_slice(data);
            self.lengths.push(data.len());
            Ok(data.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn blocks_are_written_whole_but_the_last() {
        let size = Blocks::<Writes>::SIZE;
        let mut out = Blocks::new(Writes::default());
        let mut expected = Vec::new();
        for (i, len) in [1, 7, 4095, size - 3, 10, 3 * size + 17, 5000]
            .iter()
            .enumerate()
        {
            let piece = vec![u8::try_from(i).unwrap_or(0); *len];
            out.write_all(&piece).unwrap();
            expected.extend_from_slice(&piece);
        }
        out.flush().unwrap();
        let Writes { bytes, lengths } = out.inner;
        assert_eq!(bytes, expected);
        let (last, whole) = lengths.split_last().unwrap();
        assert!(whole.iter().all(|n| n % size == 0), "{lengths:?}");
        assert_eq!(*last, expected.len() % size);
    }
}
