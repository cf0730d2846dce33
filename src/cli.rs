//! Command-line definitions (clap derive) only; behaviour lives in `app`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (knowledge base ",
    env!("SOVSCAN_KB_VERSION"),
    ")"
);

/// Finds where Kubernetes manifests and cloud configurations break GDPR, move data out of the
/// EU, or depend on a hyperscaler controlled from outside the EU.
#[derive(Debug, Parser)]
#[command(name = "sovscan", version = LONG_VERSION, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and folders (default `.`); `-` reads one document stream from stdin.
    Scan(Box<ScanArgs>),
    /// List the rules, or show one.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
    /// Explain a rule: why it exists, what it checks, how to fix it.
    Explain {
        /// Rule id or name (`RES-007`, `image-registry-outside-eu`).
        id: String,
        /// Extra rule packs to look in.
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Scan the resources AWS Config records in an account (or organisation, with an aggregator).
    #[cfg(feature = "aws")]
    Aws(AwsArgs),
    /// Scan the objects of a running Kubernetes cluster.
    #[cfg(feature = "cluster")]
    Cluster(ClusterArgs),
    /// Maintain a baseline file (`scan --write-baseline`).
    Baseline {
        #[command(subcommand)]
        action: BaselineAction,
    },
    /// Write a commented .sovscan.yaml into the current folder.
    Init,
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff), e.g. `sovscan man > sovscan.1`.
    Man,
}

#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// List every rule with id, name, category and severity.
    List {
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, ignore_case = true, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Fit the table to this many columns [default: the terminal's, or COLUMNS].
        #[arg(long, value_name = "N")]
        width: Option<u16>,
    },
    /// Print the rule reference as Markdown (the content of docs/rules.md).
    Docs {
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Print the services the knowledge covers, with their types and facts per format, as
    /// Markdown (the content of docs/coverage.md).
    Coverage,
    /// Print the framework controls and the rules that give evidence for each, as Markdown
    /// (the content of docs/frameworks.md).
    Frameworks,
    /// Run the `examples:` of every rule in a rule pack: the `fail` example must give a
    /// finding of its rule, the `pass` example none (exit 1 when one gives the wrong answer).
    Test {
        /// The rule pack (a folder of rule YAML files).
        dir: PathBuf,
    },
    /// Show one rule in full.
    Show {
        id: String,
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BaselineAction {
    /// Scan as `scan` does and drop the entries of `--baseline FILE` that match no finding.
    Prune(Box<ScanArgs>),
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other viewers.
    Sarif,
    /// GitHub Actions annotations.
    Github,
    /// One self-contained HTML page for the assessment file.
    Html,
    /// JUnit XML: a test suite per rule, a failing test case per finding.
    Junit,
    /// GitLab Code Quality JSON (the `codequality` report artifact).
    Gitlab,
    /// Markdown for a pull-request comment.
    Markdown,
    /// CSV, one row per finding.
    Csv,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorChoice {
    /// Colours when stdout is a terminal and `NO_COLOR` is not set.
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum MinSeverity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
    Never,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ProfileArg {
    /// EU/EEA allowed; adequacy countries are a low finding.
    Eu,
    /// EU/EEA and adequacy countries allowed.
    Adequacy,
    /// EU/EEA and EU-controlled providers only.
    Strict,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or folders to scan; `-` reads stdin.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Write the report to a file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the JSON report to FILE (besides the --format output).
    #[arg(long, value_name = "FILE")]
    pub json_output: Option<PathBuf>,
    /// Also write the SARIF report to FILE (besides the --format output).
    #[arg(long, value_name = "FILE")]
    pub sarif_output: Option<PathBuf>,
    /// Also write the table, without colours, to FILE (besides the --format output).
    #[arg(long, value_name = "FILE")]
    pub text_output: Option<PathBuf>,
    /// Also write the HTML report to FILE (besides the --format output).
    #[arg(long, value_name = "FILE")]
    pub html_output: Option<PathBuf>,
    /// Also write the JUnit XML report to FILE (besides the --format output).
    #[arg(long, value_name = "FILE")]
    pub junit_output: Option<PathBuf>,
    /// Also write the GitLab Code Quality report to FILE (besides the --format output).
    #[arg(long, value_name = "FILE")]
    pub gitlab_output: Option<PathBuf>,
    /// Also write the Markdown comment to FILE (besides the --format output).
    #[arg(long, value_name = "FILE")]
    pub markdown_output: Option<PathBuf>,
    /// Also write the CSV report to FILE (besides the --format output).
    #[arg(long, value_name = "FILE")]
    pub csv_output: Option<PathBuf>,
    /// Write report and baseline files even where the path is a symbolic link (refused
    /// otherwise: the link's target would be overwritten).
    #[arg(long)]
    pub force: bool,
    /// Findings accepted for now (a file from --write-baseline): reported, but they do not
    /// fail the gate.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,
    /// Write the findings of this scan as a baseline to FILE (and accept them in this run).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Root that SARIF paths are relative to (`%SRCROOT%`) [default: the nearest folder with
    /// `.git` above the first path].
    #[arg(long, value_name = "DIR")]
    pub repo_root: Option<PathBuf>,
    /// Show only findings at or above this severity; the gate still follows --fail-on.
    #[arg(long, value_enum, ignore_case = true)]
    pub min_severity: Option<MinSeverity>,
    /// Exit with 1 when a finding is at or above this severity [default: high].
    #[arg(long, value_enum, ignore_case = true)]
    pub fail_on: Option<FailOn>,
    /// Only these rules: id, id prefix, name or category (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules: id, id prefix, name or category (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Extra rule packs (folders of rule YAML files).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Treat unparseable input, and folders in which no resource was found, as an error (exit 2)
    /// instead of a reported note, and fail the gate (exit 1) on settings whose value only the
    /// deployment decides.
    #[arg(long)]
    pub strict: bool,
    /// Leave out paths matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Which locations and providers are allowed [default: eu].
    #[arg(long, value_enum, ignore_case = true)]
    pub profile: Option<ProfileArg>,
    /// Settings file [default: the nearest .sovscan.yaml above the first path].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Region that region-agnostic templates are deployed to (repeatable).
    #[arg(long, value_name = "REGION")]
    pub deploy_region: Vec<String>,
    /// Terraform variable file applied to every root module, as `terraform plan -var-file`
    /// (repeatable, later files win). Without it, each `*.tfvars` other than
    /// `terraform.tfvars` and `*.auto.tfvars` is scanned as an environment of its own.
    #[arg(long, value_name = "FILE")]
    pub var_file: Vec<PathBuf>,
    /// CloudFormation parameter value `KEY=VALUE` for conditions and references, over the
    /// template's default (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub parameter: Vec<(String, String)>,
    /// CloudFormation parameter file applied to every template: `[{"ParameterKey": …,
    /// "ParameterValue": …}]`, `{"Parameters": {…}}` or a samconfig.toml (repeatable, later
    /// files win). Without it, parameter files next to a template are environments of it.
    #[arg(long, value_name = "FILE")]
    pub parameter_file: Vec<PathBuf>,
    /// Values file for `helm template` when charts are rendered (repeatable, as `-f`).
    #[arg(long, value_name = "FILE")]
    pub helm_values: Vec<PathBuf>,
    /// Scan Kustomize overlays and Helm charts as plain files instead of rendering them with
    /// `kustomize`/`kubectl kustomize` and `helm template`.
    #[arg(long)]
    pub no_render: bool,
    /// Colours in the table output.
    #[arg(long, value_enum, ignore_case = true, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No colours in the table output (same as --color never).
    #[arg(long)]
    pub no_color: bool,
    /// Also scan files that .gitignore and .ignore files leave out (named paths always are).
    #[arg(long)]
    pub no_ignore: bool,
    /// Deepest nesting of one expression evaluated [default: 64] (settings: limits.expression_depth).
    #[arg(long, value_name = "N")]
    pub max_expression_depth: Option<u64>,
    /// Largest evaluated value in bytes; larger ones become unknown [default: 1 MiB]
    /// (settings: limits.value_bytes).
    #[arg(long, value_name = "BYTES")]
    pub max_value_bytes: Option<u64>,
    /// Largest file, or decompressed `.gz` file, in bytes [default: 256 MiB]
    /// (settings: limits.file_bytes).
    #[arg(long, value_name = "BYTES")]
    pub max_file_bytes: Option<u64>,
    /// Most bytes read from stdin with `-` [default: 256 MiB] (settings: limits.stdin_bytes).
    #[arg(long, value_name = "BYTES")]
    pub max_stdin_bytes: Option<u64>,
    /// Most bytes of input one scan holds in all [default: 512 MiB] (settings: limits.total_bytes).
    #[arg(long, value_name = "BYTES")]
    pub max_total_bytes: Option<u64>,
    /// Fit the table to this many columns [default: the terminal's, or COLUMNS, or 160].
    #[arg(long, value_name = "N")]
    pub width: Option<u16>,
    /// Print findings only, no summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Only find, read and parse the inputs, then print how many files and documents were
    /// loaded: the floor the benchmark compares a full scan with.
    #[arg(long, hide = true)]
    pub parse_only: bool,
}

/// `KEY=VALUE` of `--parameter`.
fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("expected KEY=VALUE, got `{text}`")),
    }
}

// ---- live sources: `sovscan aws` and `sovscan cluster` ----

/// Report options shared by the live sources (the meaning is that of `scan`).
#[cfg(any(feature = "aws", feature = "cluster"))]
#[derive(Debug, Args)]
pub struct LiveReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Write the report to a file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the report even where the path is a symbolic link (refused otherwise).
    #[arg(long)]
    pub force: bool,
    /// Exit with 1 when a finding is at or above this severity [default: high].
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,
    /// Only these rules: id, id prefix, name or category (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules: id, id prefix, name or category (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Extra rule packs (folders of rule YAML files).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Which locations and providers are allowed.
    #[arg(long, value_enum, default_value_t = ProfileArg::Eu)]
    pub profile: ProfileArg,
    /// Also write what was read, one JSON file per object, into this folder (scannable later
    /// with `sovscan scan`).
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,
    /// No colours in the table output.
    #[arg(long)]
    pub no_color: bool,
    /// Print findings only, no summary.
    #[arg(long, short)]
    pub quiet: bool,
}

#[cfg(feature = "aws")]
#[derive(Debug, Args)]
pub struct AwsArgs {
    /// Named profile of the shared AWS config (default: the standard credential chain).
    #[arg(long, value_name = "PROFILE")]
    pub aws_profile: Option<String>,
    /// Region to read (repeatable; default: the profile's or AWS_REGION).
    #[arg(long, value_name = "REGION", conflicts_with = "all_regions")]
    pub region: Vec<String>,
    /// Every commercial AWS region the knowledge lists.
    #[arg(long)]
    pub all_regions: bool,
    /// Read through this AWS Config aggregator (a whole organisation) instead of per region.
    #[arg(long, value_name = "NAME")]
    pub aggregator: Option<String>,
    /// Only these resource types (`AWS::S3::Bucket`; repeatable).
    #[arg(long, value_name = "TYPE")]
    pub resource_type: Vec<String>,
    /// Send AWS Config calls to this endpoint (a local test server, a VPC endpoint).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    #[command(flatten)]
    pub report: LiveReportArgs,
}

#[cfg(feature = "cluster")]
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file [default: KUBECONFIG or ~/.kube/config].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Context of the kubeconfig [default: the current context].
    #[arg(long, value_name = "NAME", conflicts_with = "all_contexts")]
    pub context: Option<String>,
    /// Every context of the kubeconfig.
    #[arg(long)]
    pub all_contexts: bool,
    /// Only this namespace (cluster-wide kinds such as Nodes are read all the same).
    #[arg(
        long,
        short = 'n',
        value_name = "NAMESPACE",
        conflicts_with = "all_namespaces"
    )]
    pub namespace: Option<String>,
    /// Every namespace (the default).
    #[arg(long, short = 'A')]
    pub all_namespaces: bool,
    #[command(flatten)]
    pub report: LiveReportArgs,
}
