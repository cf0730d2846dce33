//! Hostile and broken input, generated here in a temporary folder (never committed): each case
//! must be reported with its path, reason and position, leave the other files scanned (a good
//! manifest beside it keeps its finding), end with the right exit code, and stay within bounded
//! time and memory. The scan runs under `/usr/bin/time -v` when present for its peak RSS.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use assert_cmd::Command;
use std::io::Write;
use std::path::Path;

use crate::common::{Scratch, scratch};
use std::time::{Duration, Instant};

/// A Pod whose image comes from Docker Hub: one RES-007 finding (medium) on line 8.
const GOOD_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: good\nspec:\n  containers:\n    - name: a\n      image: nginx:1.27\n";

/// Every scan here must end within this time (they take well under a second each when sound).
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Peak resident memory allowed for one scan.
const RSS_LIMIT_KB: u64 = 1024 * 1024;

fn tempdir(name: &str) -> Scratch {
    scratch(&format!("bad-{name}"))
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    rss_kb: Option<u64>,
    elapsed: Duration,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    /// (path, rule) of each finding of a JSON report.
    fn findings(&self) -> Vec<(String, String)> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["location"]["path"].as_str().unwrap().to_string(),
                    f["rule_id"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The `scanned.errors` entries whose path ends with `name`.
    fn errors_for(&self, name: &str) -> Vec<serde_json::Value> {
        self.json()["scanned"]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["path"].as_str().unwrap().ends_with(name))
            .cloned()
            .collect()
    }

    fn bounded(&self) {
        assert!(
            self.code.is_some_and(|c| c < 124),
            "killed or timed out after {:?}: {}",
            self.elapsed,
            self.stderr
        );
        assert!(self.elapsed < TIME_LIMIT, "took {:?}", self.elapsed);
        if let Some(rss) = self.rss_kb {
            assert!(rss < RSS_LIMIT_KB, "peak RSS {rss} kB");
        }
    }
}

/// Runs sovscan in `dir` (under `/usr/bin/time -v` when present) and measures it.
fn scan_in(dir: &Path, args: &[&str]) -> Run {
    let bin = assert_cmd::cargo::cargo_bin("sovscan");
    let time = Path::new("/usr/bin/time");
    // `timeout` kills the scan itself at the limit (killing `time` would leave it running).
    let limit = TIME_LIMIT.as_secs().to_string();
    let mut cmd = if time.exists() {
        let mut cmd = Command::new(time);
        cmd.args(["-v", "timeout", "-s", "KILL", &limit]).arg(&bin);
        cmd
    } else {
        let mut cmd = Command::new("timeout");
        cmd.args(["-s", "KILL", &limit]).arg(&bin);
        cmd
    };
    cmd.current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .timeout(TIME_LIMIT + Duration::from_secs(5));
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let elapsed = start.elapsed();
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut rss_kb = None;
    if time.exists()
        && let Some(at) = stderr.find("\tCommand being timed:")
    {
        rss_kb = stderr[at..]
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .and_then(|v| v.trim().parse().ok());
        // `time` reports a non-zero exit on its first line; the rest is the measurement.
        let head = &stderr[..at];
        let head = head
            .strip_suffix(&format!(
                "Command exited with non-zero status {}\n",
                out.status.code().unwrap_or(0)
            ))
            .unwrap_or(head);
        stderr = head.to_string();
    }
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        rss_kb,
        elapsed,
    }
}

/// A scan of `dir` in `format` with only RES-007, at medium failing the gate; bounded.
fn scan_as(dir: &Path, format: &str, extra: &[&str]) -> Run {
    let mut args = vec!["scan", ".", "--select", "RES-007", "--fail-on", "medium"];
    args.extend_from_slice(&["--format", format]);
    args.extend_from_slice(extra);
    let run = scan_in(dir, &args);
    run.bounded();
    run
}

fn scan_json(dir: &Path, extra: &[&str]) -> Run {
    scan_as(dir, "json", extra)
}

/// Scans `dir` in each format: exit 1, and neither stdout nor stderr carries a raw escape or
/// a forged workflow command (`commands` annotations in the GitHub output).
fn assert_safe_in(dir: &Path, formats: &[&str], commands: usize) {
    for format in formats {
        let run = scan_as(dir, format, &[]);
        assert_eq!(run.code, Some(1), "{format}: {}", run.stderr);
        assert_output_safe(format, &run.stdout, commands);
        assert_output_safe("stderr", &run.stderr, 0);
    }
}

/// A billion-laughs YAML: 10^12 values once expanded, from under 1 KB.
fn alias_bomb() -> String {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    text
}

/// A folder holding `good.yaml` and the given bad file.
fn beside_good(name: &str, file: &str, bytes: &[u8]) -> Scratch {
    let dir = tempdir(name);
    std::fs::write(dir.join("good.yaml"), GOOD_POD).unwrap();
    std::fs::write(dir.join(file), bytes).unwrap();
    dir
}

fn assert_good_kept(run: &Run) {
    assert_found(run, "good.yaml", "RES-007");
}

/// A finding of `rule` in the file whose path ends with `file`.
fn assert_found(run: &Run, file: &str, rule: &str) {
    assert!(
        run.findings()
            .iter()
            .any(|(p, r)| p.ends_with(file) && r == rule),
        "no {rule} in {file}: {}",
        run.stdout
    );
}

/// One error for `file`, with a position, whose reason contains `reason`.
fn assert_one_error(run: &Run, file: &str, reason: &str, positioned: bool) {
    let errors = run.errors_for(file);
    assert_eq!(errors.len(), 1, "{file}: {errors:?}\n{}", run.stderr);
    let e = &errors[0];
    assert!(
        e["reason"].as_str().unwrap().contains(reason),
        "{file}: {e}"
    );
    if positioned {
        assert!(e["line"].as_u64().unwrap() >= 1, "{file}: no line: {e}");
        assert!(e["column"].as_u64().unwrap() >= 1, "{file}: no column: {e}");
    }
    // And on stderr, with the path.
    assert!(
        run.stderr.contains(file),
        "{file} not on stderr: {}",
        run.stderr
    );
}

fn utf16(text: &str, bom: bool, little: bool) -> Vec<u8> {
    let mut bytes = Vec::new();
    if bom {
        bytes.extend_from_slice(if little { &[0xFF, 0xFE] } else { &[0xFE, 0xFF] });
    }
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&if little {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        });
    }
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn mkfifo(path: &Path) -> bool {
    std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

// ---- encodings ------------------------------------------------------------------------------

#[test]
fn a_latin1_byte_is_a_located_warning_and_the_file_is_still_scanned() {
    let mut bytes = b"# \xC4nderung von J\xFCrgen\n".to_vec();
    bytes.extend_from_slice(GOOD_POD.replace("good", "latin").as_bytes());
    let dir = beside_good("latin1", "latin.yaml", &bytes);
    let run = scan_json(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_good_kept(&run);
    // The Latin-1 file is scanned: its own finding is there.
    assert!(
        run.findings()
            .iter()
            .any(|(p, _)| p.ends_with("latin.yaml")),
        "{}",
        run.stdout
    );
    let warnings = run.json()["scanned"]["warnings"].clone();
    assert_eq!(warnings[0]["line"], 1, "{warnings}");
    assert_eq!(warnings[0]["column"], 3, "{warnings}");
    assert!(
        run.stderr.contains("latin.yaml:1:3: invalid UTF-8"),
        "{}",
        run.stderr
    );
    // --strict makes an unreadable byte fail the gate, and says why on the last line.
    let strict = scan_in(&dir, &["scan", ".", "--strict", "--select", "RES-007"]);
    assert_eq!(strict.code, Some(2), "{}", strict.stdout);
    assert!(
        strict
            .stdout
            .trim_end()
            .ends_with("1 file read with undecodable bytes (--strict): exit 2"),
        "{}",
        strict.stdout
    );
    // Without it, the summary and the last line still say so.
    let table = scan_in(&dir, &["scan", ".", "--select", "RES-007"]);
    assert!(
        table
            .stdout
            .contains("1 file read with undecodable bytes replaced"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.trim_end().ends_with("(--strict fails on it)"),
        "{}",
        table.stdout
    );
}

#[test]
fn the_strict_settings_key_fails_the_gate_like_the_flag() {
    let dir = beside_good("strict-key", "broken.yaml", b"a: [1, 2\n");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let run = scan_in(&dir, &["scan", ".", "--select", "RES-007"]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.stdout.contains("1 file could not be read or parsed"),
        "{}",
        run.stdout
    );
    std::fs::write(dir.join(".sovscan.yaml"), "strict: true\n").unwrap();
    let run = scan_in(&dir, &["scan", ".", "--select", "RES-007"]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert!(run.stdout.contains("Settings from "), "{}", run.stdout);
}

#[test]
fn binary_files_are_errors_at_their_first_nul() {
    let mut bytes = b"apiVersion: v1\nki".to_vec();
    bytes.extend((0..4096u32).map(|i| (i % 251) as u8));
    let dir = beside_good("binary", "blob.yaml", &bytes);
    let run = scan_json(&dir, &[]);
    assert_eq!(run.code, Some(1));
    assert_good_kept(&run);
    assert_one_error(&run, "blob.yaml", "binary", true);
    let e = &run.errors_for("blob.yaml")[0];
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(2), Some(3))
    );
}

#[test]
fn utf16_with_and_without_bom_is_scanned_with_its_suppressions() {
    let dir = tempdir("utf16");
    let suppressed = GOOD_POD.replace(
        "      image: nginx:1.27\n",
        "      image: nginx:1.27 # sovscan:ignore RES-007 reason=\"mirrored\"\n",
    );
    for (name, bom, little) in [
        ("le-bom.yaml", true, true),
        ("be-bom.yaml", true, false),
        ("le.yaml", false, true),
        ("be.yaml", false, false),
    ] {
        std::fs::write(dir.join(name), utf16(GOOD_POD, bom, little)).unwrap();
        std::fs::write(
            dir.join(format!("quiet-{name}")),
            utf16(&suppressed, bom, little),
        )
        .unwrap();
    }
    // A gzipped manifest's inline suppression counts too.
    std::fs::write(dir.join("quiet-gz.yaml.gz"), gzip(suppressed.as_bytes())).unwrap();
    std::fs::write(dir.join("loud-gz.yaml.gz"), gzip(GOOD_POD.as_bytes())).unwrap();
    let run = scan_json(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let json = run.json();
    assert!(
        json["scanned"]["errors"].as_array().unwrap().is_empty(),
        "{json}"
    );
    let active: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["suppression"].is_null())
        .map(|f| f["location"]["path"].as_str().unwrap().to_string())
        .collect();
    let mut names: Vec<&str> = active
        .iter()
        .map(|p| p.rsplit('/').next().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "be-bom.yaml",
            "be.yaml",
            "le-bom.yaml",
            "le.yaml",
            "loud-gz.yaml.gz"
        ],
        "{json}"
    );
}

// ---- size and depth -------------------------------------------------------------------------

#[test]
fn an_alias_bomb_is_refused_with_its_position() {
    let dir = beside_good("alias-bomb", "bomb.yaml", alias_bomb().as_bytes());
    let run = scan_json(&dir, &[]);
    assert_eq!(run.code, Some(1));
    assert_good_kept(&run);
    assert_one_error(&run, "bomb.yaml", "alias", true);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let depth = 20_000;
    let dir = tempdir("nesting");
    std::fs::write(dir.join("good.yaml"), GOOD_POD).unwrap();
    let yaml = format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    let json = format!("{{\"a\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
    let hcl = format!(
        "locals {{\n  a = {}1{}\n}}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    std::fs::write(dir.join("deep.yaml"), yaml).unwrap();
    std::fs::write(dir.join("deep.json"), json).unwrap();
    std::fs::write(dir.join("deep.tf"), hcl).unwrap();
    let run = scan_json(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_good_kept(&run);
    for name in ["deep.yaml", "deep.json", "deep.tf"] {
        assert_one_error(&run, name, "", true);
    }
}

#[test]
fn a_50_mb_line_and_100k_documents_stay_bounded() {
    let dir = tempdir("big");
    std::fs::write(dir.join("good.yaml"), GOOD_POD).unwrap();
    let mut line = String::with_capacity(50 * 1024 * 1024 + 64);
    line.push_str("# ");
    line.push_str(&"x".repeat(50 * 1024 * 1024));
    line.push('\n');
    line.push_str(&GOOD_POD.replace("good", "long"));
    std::fs::write(dir.join("long.yaml"), line).unwrap();
    let mut stream = String::new();
    for i in 0..100_000 {
        stream.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"
        ));
    }
    std::fs::write(dir.join("many.yaml"), stream).unwrap();
    let run = scan_json(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_good_kept(&run);
    assert!(
        run.findings().iter().any(|(p, _)| p.ends_with("long.yaml")),
        "the file with a long line lost its finding"
    );
    // The stream is scanned in full, or refused once with the limit it passed.
    let documents = run.json()["scanned"]["documents"].as_u64().unwrap();
    let refused = run.errors_for("many.yaml");
    assert!(
        documents > 100_000 || refused.len() == 1,
        "{documents} documents, {refused:?}"
    );
}

#[test]
fn gzip_bombs_and_truncated_gzip_are_reported() {
    let dir = tempdir("gzip");
    std::fs::write(dir.join("good.yaml"), GOOD_POD).unwrap();
    // 300 MB of spaces in a JSON array: past the decompressed-size limit.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(b"[").unwrap();
    let block = vec![b' '; 1024 * 1024];
    for _ in 0..300 {
        encoder.write_all(&block).unwrap();
    }
    encoder.write_all(b"]").unwrap();
    std::fs::write(dir.join("bomb.json.gz"), encoder.finish().unwrap()).unwrap();
    let whole = gzip(GOOD_POD.as_bytes());
    std::fs::write(dir.join("cut.yaml.gz"), &whole[..whole.len() / 2]).unwrap();
    let run = scan_json(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_good_kept(&run);
    assert_one_error(&run, "bomb.json.gz", "", false);
    assert_one_error(&run, "cut.yaml.gz", "", false);
}

// ---- special files --------------------------------------------------------------------------

#[test]
fn fifos_are_reported_for_what_they_are_and_never_block() {
    let dir = tempdir("fifo");
    std::fs::write(dir.join("good.yaml"), GOOD_POD).unwrap();
    if !mkfifo(&dir.join("pipe.yaml")) {
        eprintln!("mkfifo unavailable: FIFO cases not run");
        return;
    }
    let run = scan_json(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_good_kept(&run);
    assert_one_error(&run, "pipe.yaml", "FIFO", false);
    // Named on the command line: a usage error that says what it is.
    let run = scan_in(&dir, &["scan", "pipe.yaml"]);
    run.bounded();
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("pipe.yaml: a FIFO"), "{}", run.stderr);
    assert!(!run.stderr.contains("no such file"), "{}", run.stderr);
}

#[test]
fn symlink_loops_and_unreadable_files_are_reported() {
    let dir = tempdir("links");
    std::fs::write(dir.join("good.yaml"), GOOD_POD).unwrap();
    std::os::unix::fs::symlink("loop-b.yaml", dir.join("loop-a.yaml")).unwrap();
    std::os::unix::fs::symlink("loop-a.yaml", dir.join("loop-b.yaml")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("self")).unwrap();
    let locked = dir.join("locked.yaml");
    std::fs::write(&locked, GOOD_POD).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let run = scan_json(&dir, &[]);
    assert!(matches!(run.code, Some(1 | 2)), "{}", run.stderr);
    assert_good_kept(&run);
    if std::fs::read(&locked).is_ok() {
        // Root reads files without permissions: only the other cases are checked here.
        eprintln!("running as root: a mode-000 file is readable, its case is not checked");
    } else {
        assert_one_error(&run, "locked.yaml", "", false);
    }
    // A loop named on the command line is a usage error with the path.
    let run = scan_in(&dir, &["scan", "loop-a.yaml"]);
    run.bounded();
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("loop-a.yaml"), "{}", run.stderr);
}

// ---- hostile names and output safety --------------------------------------------------------

const HOSTILE_NAMES: &[&str] = &[
    "evil\n::error file=forged.yaml,line=1::forged.yaml",
    "esc\u{1b}]0;title\u{7}\u{1b}[31m.yaml",
    "cr\rback.yaml",
];

/// No output of any format carries a raw escape or starts a forged workflow command.
fn assert_output_safe(format: &str, text: &str, expected_commands: usize) {
    assert!(!text.contains('\u{1b}'), "{format}: raw ESC in {text:?}");
    assert!(!text.contains('\u{7}'), "{format}: raw BEL in {text:?}");
    assert!(!text.contains('\r'), "{format}: raw CR in {text:?}");
    let commands = text.lines().filter(|l| l.starts_with("::")).count();
    assert!(
        !text.lines().any(|l| l.starts_with("::error file=forged")),
        "{format}: forged command in {text}"
    );
    if format == "github" {
        assert_eq!(commands, expected_commands, "{text}");
    }
}

#[test]
fn hostile_file_names_cannot_inject_into_any_output() {
    let dir = tempdir("names");
    for name in HOSTILE_NAMES {
        std::fs::write(dir.join(name), GOOD_POD).unwrap();
    }
    std::fs::write(dir.join("good.yaml"), GOOD_POD).unwrap();
    // A name that cannot be parsed lands on stderr.
    std::fs::write(dir.join("bad\u{1b}[2J.yaml"), "a: [\n").unwrap();
    assert_safe_in(
        &dir,
        &["table", "json", "sarif", "github"],
        HOSTILE_NAMES.len() + 1,
    );
    let run = scan_as(&dir, "table", &[]);
    assert!(run.stderr.contains("bad\\x1b[2J.yaml"), "{}", run.stderr);
}

#[test]
fn output_files_are_not_written_through_symlinks() {
    let dir = tempdir("output");
    std::fs::write(dir.join("good.yaml"), GOOD_POD).unwrap();
    std::fs::write(dir.join("precious.txt"), "keep me").unwrap();
    std::os::unix::fs::symlink("precious.txt", dir.join("report.json")).unwrap();
    for flag in ["-o", "--sarif-output"] {
        let run = scan_in(&dir, &["scan", "good.yaml", flag, "report.json"]);
        assert_eq!(run.code, Some(2), "{flag}");
        assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
        assert_eq!(
            std::fs::read_to_string(dir.join("precious.txt")).unwrap(),
            "keep me"
        );
    }
    let run = scan_in(&dir, &["scan", "good.yaml", "-o", "report.json", "--force"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_ne!(
        std::fs::read_to_string(dir.join("precious.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn a_report_written_over_a_longer_file_leaves_nothing_of_it() {
    let dir = tempdir("overwrite");
    std::fs::write(dir.join("good.yaml"), GOOD_POD).unwrap();
    let run = scan_in(
        &dir,
        &["scan", "good.yaml", "--format", "json", "-o", "fresh.json"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let fresh = std::fs::read(dir.join("fresh.json")).unwrap();
    // Longer than the report, with text that would show after its end.
    let old = format!("{}\nOLD TAIL\n", "x".repeat(fresh.len() * 3));
    std::fs::write(dir.join("report.json"), &old).unwrap();
    let run = scan_in(
        &dir,
        &["scan", "good.yaml", "--format", "json", "-o", "report.json"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let written = std::fs::read(dir.join("report.json")).unwrap();
    assert_eq!(written.len(), fresh.len());
    assert_eq!(written, fresh);
}

// ---- what hides input -----------------------------------------------------------------------

#[test]
fn ignore_files_and_outside_settings_are_visible() {
    let root = tempdir("hidden");
    // Settings above the repository are not the project's: never applied.
    std::fs::write(root.join(".sovscan.yaml"), "exclude: [\"**\"]\n").unwrap();
    let repo = root.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("k8s")).unwrap();
    std::fs::write(repo.join("k8s/good.yaml"), GOOD_POD).unwrap();
    std::fs::write(repo.join("k8s/other.yaml"), GOOD_POD).unwrap();
    std::fs::write(repo.join(".gitignore"), "k8s/other.yaml\n").unwrap();
    std::fs::write(repo.join(".ignore"), "*.yml\n").unwrap();
    std::fs::write(repo.join("k8s/third.yml"), GOOD_POD).unwrap();
    let run = scan_in(&repo, &["scan", "k8s", "--select", "RES-007"]);
    run.bounded();
    assert!(
        run.stdout
            .contains("2 files ignored by .gitignore or .ignore: --no-ignore to scan them."),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Settings from"), "{}", run.stdout);
    assert!(run.stdout.contains("k8s/good.yaml"), "{}", run.stdout);
    let all = scan_json(&repo, &["--no-ignore"]);
    assert_eq!(all.findings().len(), 3, "{}", all.stdout);
    assert!(all.json()["scanned"].get("ignored").is_none());
}

// ---- evaluation budgets ---------------------------------------------------------------------

fn arm_template(location: &str, variables: &str) -> String {
    format!(
        r#"{{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "variables": {{{variables}}},
  "resources": [
    {{
      "type": "Microsoft.Storage/storageAccounts",
      "apiVersion": "2023-01-01",
      "name": "data",
      "location": "{location}",
      "sku": {{"name": "Standard_LRS"}},
      "kind": "StorageV2"
    }}
  ]
}}
"#
    )
}

#[test]
fn a_20k_deep_arm_expression_is_an_error_not_a_crash() {
    let depth = 20_000;
    let expression = format!("[{}'westus'{}]", "a(".repeat(depth), ")".repeat(depth));
    let dir = beside_good(
        "arm-deep",
        "deep.json",
        arm_template(&expression, "").as_bytes(),
    );
    let run = scan_json(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_good_kept(&run);
}

#[test]
fn exponential_arm_variables_stay_bounded() {
    let mut variables = String::from("\"v0\": \"westeurope\"");
    for i in 1..48 {
        let p = i - 1;
        variables.push_str(&format!(
            ", \"v{i}\": \"[concat(variables('v{p}'), variables('v{p}'))]\""
        ));
    }
    let dir = beside_good(
        "arm-exp",
        "exp.json",
        arm_template("[variables('v47')]", &variables).as_bytes(),
    );
    let run = scan_json(&dir, &[]);
    assert!(matches!(run.code, Some(1 | 2)), "{}", run.stderr);
    assert_good_kept(&run);
    assert!(
        run.stdout.len() < 10 * 1024 * 1024,
        "report of {} bytes",
        run.stdout.len()
    );
}

#[test]
fn nested_yaml_anchors_are_not_copied_quadratically() {
    let depth = 5_000;
    let mut text =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: anchors\ndata:\n  a: ");
    for i in 0..depth {
        text.push_str(&format!("&a{i} ["));
    }
    text.push_str(&"]".repeat(depth));
    text.push('\n');
    let dir = beside_good("anchors", "anchors.yaml", text.as_bytes());
    let run = scan_json(&dir, &[]);
    assert!(matches!(run.code, Some(1 | 2)), "{}", run.stderr);
    assert_good_kept(&run);
}

// ---- everything at once ---------------------------------------------------------------------

#[test]
fn a_tree_of_every_hostile_input_keeps_the_good_findings() {
    let dir = tempdir("combined");
    let good_dirs = ["k8s", "apps/web", "apps/db"];
    for d in good_dirs {
        std::fs::create_dir_all(dir.join(d)).unwrap();
        std::fs::write(dir.join(d).join("good.yaml"), GOOD_POD).unwrap();
    }
    let bad = dir.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let depth = 20_000;
    let mut blob = b"ki".to_vec();
    blob.extend((0..2048u32).map(|i| (i % 251) as u8));
    let whole = gzip(GOOD_POD.as_bytes());
    let bad_files: Vec<(&str, Vec<u8>)> = vec![
        ("bomb.yaml", alias_bomb().into_bytes()),
        (
            "deep.yaml",
            format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth)).into_bytes(),
        ),
        (
            "deep.json",
            format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes(),
        ),
        (
            "deep.tf",
            format!(
                "locals {{\n  a = {}1{}\n}}\n",
                "[".repeat(depth),
                "]".repeat(depth)
            )
            .into_bytes(),
        ),
        ("blob.yaml", blob),
        ("cut.yaml.gz", whole[..whole.len() / 2].to_vec()),
        ("broken.yaml", b"a: [1, 2\n".to_vec()),
        ("evil\n::error file=forged.yaml::x.yaml", b"a: [\n".to_vec()),
        ("esc\u{1b}[31m.yaml", b"a: {\n".to_vec()),
    ];
    for (name, bytes) in &bad_files {
        std::fs::write(bad.join(name), bytes).unwrap();
    }
    std::fs::write(bad.join("utf16.yaml"), utf16(GOOD_POD, false, true)).unwrap();
    let fifo = mkfifo(&bad.join("pipe.yaml"));
    std::os::unix::fs::symlink("loop-b.yaml", bad.join("loop-a.yaml")).unwrap();
    std::os::unix::fs::symlink("loop-a.yaml", bad.join("loop-b.yaml")).unwrap();
    let mut latin = b"# Gr\xFC\xDFe\n".to_vec();
    latin.extend_from_slice(GOOD_POD.as_bytes());
    std::fs::write(bad.join("latin.yaml"), latin).unwrap();

    let start = Instant::now();
    let run = scan_json(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let findings = run.findings();
    for d in good_dirs {
        assert!(
            findings
                .iter()
                .any(|(p, _)| p.ends_with(&format!("{d}/good.yaml"))),
            "{d}: {findings:?}"
        );
    }
    for kept in ["utf16.yaml", "latin.yaml"] {
        assert!(findings.iter().any(|(p, _)| p.ends_with(kept)), "{kept}");
    }
    // Each bad file reported once.
    let json = run.json();
    let errors = json["scanned"]["errors"].as_array().unwrap();
    for (name, _) in &bad_files {
        let n = errors
            .iter()
            .filter(|e| e["path"].as_str().unwrap().ends_with(name))
            .count();
        assert_eq!(n, 1, "{name:?}: {errors:#?}");
    }
    if fifo {
        assert_eq!(
            errors
                .iter()
                .filter(|e| e["path"].as_str().unwrap().ends_with("pipe.yaml"))
                .count(),
            1
        );
    }
    assert_eq!(json["scanned"]["warnings"].as_array().unwrap().len(), 1);
    assert_safe_in(&dir, &["table", "sarif", "github"], 5);
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_terraform_file_that_does_not_parse_is_one_error_and_its_module_is_still_scanned() {
    let dir = tempdir("hcl-broken");
    std::fs::write(dir.join("good.yaml"), GOOD_POD).unwrap();
    std::fs::create_dir_all(dir.join("stack")).unwrap();
    std::fs::write(
        dir.join("stack/main.tf"),
        "provider \"aws\" {\n  region = \"us-east-1\"\n}\n\nresource \"aws_s3_bucket\" \"kept\" {\n  bucket = \"kept\"\n}\n",
    )
    .unwrap();
    // Unclosed, with a byte that is not UTF-8 before the place it stops parsing.
    std::fs::write(
        dir.join("stack/broken.tf"),
        b"resource \"aws_s3_bucket\" \"lost\" {\n  bucket = \"l\xF6st\"\n",
    )
    .unwrap();
    let run = scan_json(&dir, &["--select", "RES-001"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_good_kept(&run);
    assert_one_error(&run, "broken.tf", "invalid HCL", true);
    assert!(
        run.errors_for("broken.tf")[0]["reason"]
            .as_str()
            .unwrap()
            .contains("also has undecodable bytes at 2:14"),
        "{}",
        run.stdout
    );
    let scanned = &run.json()["scanned"];
    assert!(scanned.get("warnings").is_none(), "{scanned}");
    // good.yaml and main.tf: the file that does not parse is no document.
    assert_eq!(scanned["documents"], 2, "{scanned}");
    assert_found(&run, "stack/main.tf", "RES-001");
}
