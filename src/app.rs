//! Subcommands: each turns parsed arguments into output and an exit code.
//! Errors are values until here, where they are printed once.

use anyhow::{Context as _, Result, bail};
use clap::{CommandFactory, Parser};
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use crate::cli::{
    Cli, Command, FailOn, ListFormat, OutputFormat, ProfileArg, RulesAction, ScanArgs,
};
use crate::engine::{self, Profile, Rule};
use crate::finding::Severity;
use crate::policy::Policy;
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
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => scan_command(args),
        Command::Rules { action } => match action {
            RulesAction::List { rules, format } => list_rules(&rules, format),
            RulesAction::Show { id, rules } => explain(&id, &rules),
            RulesAction::Coverage => {
                let kb = crate::knowledge::get()?;
                let text = crate::docs::coverage_markdown(kb);
                std::io::stdout().write_all(text.as_bytes())?;
                Ok(ExitCode::SUCCESS)
            }
            RulesAction::Docs { rules } => {
                let text = crate::docs::rules_markdown(&load_rules(&rules)?);
                std::io::stdout().write_all(text.as_bytes())?;
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

fn list_rules(dirs: &[std::path::PathBuf], format: ListFormat) -> Result<ExitCode> {
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
            let mut table = comfy_table::Table::new();
            table
                .load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
                .force_no_tty();
            table.set_header(vec![
                "id",
                "name",
                "category",
                "severity",
                "applies to",
                "title",
            ]);
            for r in &rules {
                table.add_row(vec![
                    r.id.clone(),
                    r.name.clone(),
                    r.category.as_str().to_string(),
                    r.severity.as_str().to_string(),
                    r.applies_to.join(", "),
                    r.title.clone(),
                ]);
            }
            out.push_str(&format!("{table}\n{} rules\n", rules.len()));
        }
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
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
        bail!("no rule {id:?}; `sovscan rules list` shows them all");
    };
    std::io::stdout().write_all(explain_text(rule).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn threshold(fail_on: FailOn) -> Option<Severity> {
    match fail_on {
        FailOn::Critical => Some(Severity::Critical),
        FailOn::High => Some(Severity::High),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::Low => Some(Severity::Low),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    }
}

fn parse_fail_on(text: &str) -> Result<FailOn> {
    use clap::ValueEnum;
    FailOn::from_str(text, true).map_err(|_| {
        anyhow::anyhow!("fail_on {text:?} in the settings file is not one of critical, high, medium, low, info, never")
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

fn scan_command(args: ScanArgs) -> Result<ExitCode> {
    let kb = knowledge::get()?;
    let policy = load_policy(&args)?;
    let rule_dirs: Vec<_> = policy.rules.iter().chain(&args.rules).cloned().collect();
    let select = if args.select.is_empty() {
        &policy.select
    } else {
        &args.select
    };
    let ignore: Vec<String> = policy.ignore.iter().chain(&args.ignore).cloned().collect();
    let rules = engine::select_rules(load_rules(&rule_dirs)?, select, &ignore);
    let fail_on = match (args.fail_on, &policy.fail_on) {
        (Some(f), _) => f,
        (None, Some(text)) => parse_fail_on(text)?,
        (None, None) => FailOn::High,
    };
    let mut paths = Vec::new();
    let mut stdin = None;
    for p in &args.paths {
        if p.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read stdin")?;
            stdin = Some(bytes);
        } else {
            paths.push(p.clone());
        }
    }
    let request = scan::ScanRequest {
        paths,
        stdin,
        excludes: policy
            .exclude
            .iter()
            .chain(&args.exclude)
            .cloned()
            .collect(),
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
        max_log_retention_days: policy
            .max_log_retention_days
            .unwrap_or(crate::engine::checks::cloud_gdpr::DEFAULT_MAX_LOG_RETENTION_DAYS),
        require_customer_managed_keys: policy.require_customer_managed_keys,
        personal_data_labels: if policy.personal_data_labels.is_empty() {
            scan::default_personal_data_labels()
        } else {
            policy.personal_data_labels.clone().into_iter().collect()
        },
    };
    let mut result = scan::run(&request, &rules, kb)?;
    for finding in &mut result.findings {
        if let Some(severity) = policy.severity.get(&finding.rule_id) {
            finding.severity = *severity;
        }
    }
    let color = !args.no_color
        && args.output.is_none()
        && std::env::var_os("NO_COLOR").is_none()
        && std::io::stdout().is_terminal();
    let text = match args.format {
        OutputFormat::Table => report::table::render(&result, kb, color, args.quiet),
        OutputFormat::Json => report::json::render(&result, kb, request.profile.as_str()),
        OutputFormat::Sarif => report::sarif::render(&result, &rules),
        OutputFormat::Github => report::sarif::render_github(&result),
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    for e in &result.errors {
        eprintln!("error: {e}");
    }
    if args.strict && !result.errors.is_empty() {
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    for w in &result.suppression_warnings {
        eprintln!("warning: {}:{}: {}", w.path, w.line, w.message);
    }
    let failing = threshold(fail_on).is_some_and(|t| {
        result
            .findings
            .iter()
            .any(|f| !f.is_suppressed() && f.severity >= t)
    });
    Ok(if failing {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}
