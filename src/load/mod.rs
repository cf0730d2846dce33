//! Loading: bytes of a file into spanned documents of a known format, or a reason why not.
//! One function per format; detection looks at the content, not only the file name.

pub mod aws_config;
pub mod cloudformation;
pub mod compressed;
pub mod hcl;
pub mod json;
pub mod snapshot;
pub mod walk;
pub mod yaml;

use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

use crate::tree::Node;

/// The input formats sovscan understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Kubernetes,
    Terraform,
    TerraformPlan,
    Cloudformation,
    Arm,
    AwsConfig,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Kubernetes => "kubernetes",
            Format::Terraform => "terraform",
            Format::TerraformPlan => "terraform-plan",
            Format::Cloudformation => "cloudformation",
            Format::Arm => "arm",
            Format::AwsConfig => "aws-config",
        }
    }

    /// Every format, each at the index its `as u8` gives.
    pub const ALL: [Format; 6] = [
        Format::Kubernetes,
        Format::Terraform,
        Format::TerraformPlan,
        Format::Cloudformation,
        Format::Arm,
        Format::AwsConfig,
    ];

    pub fn parse(text: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// One document of a file, in a known format.
#[derive(Debug, Clone)]
pub struct Document {
    pub path: Arc<str>,
    pub format: Format,
    /// Index of the document in its stream (0-based).
    pub index: usize,
    pub root: Node,
}

/// A file that is not a scan input, or a part of one (`main.tf:43`), with the reason.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

impl Skipped {
    /// The file and the line a `path:line` entry names (line 0 for a whole file).
    fn place(&self) -> (&str, u64) {
        match self.path.rsplit_once(':') {
            Some((file, line)) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => {
                (file, line.parse().unwrap_or(u64::MAX))
            }
            _ => (&self.path, 0),
        }
    }
}

/// In file order, and within a file by line as a number (`main.tf:9` before `main.tf:10`).
impl Ord for Skipped {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.place(), &self.path, &self.reason).cmp(&(other.place(), &other.path, &other.reason))
    }
}

impl PartialOrd for Skipped {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A file that could not be read or parsed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct LoadError {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub reason: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path, self.line, self.column, self.reason
            )
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

/// What became of one input file.
#[derive(Debug, Default)]
pub struct FileOutcome {
    pub documents: Vec<Document>,
    /// Documents of the file that are not a known format (counted, not errors).
    pub skipped_documents: usize,
    pub skipped: Option<Skipped>,
    pub error: Option<LoadError>,
    /// Places in other files that marker lines of rendered documents stand for
    /// (see `crate::render`).
    pub relocations: Vec<Relocation>,
    /// CloudFormation parameter values the file holds (`*.parameters.json`, samconfig.toml).
    pub parameter_file: Option<crate::extract::cloudformation_parameters::ParameterFile>,
    /// Problems that did not stop the file being scanned (undecodable bytes replaced).
    pub warnings: Vec<LoadError>,
    /// The lines with an inline suppression (`sovscan:ignore`), with their 1-based number,
    /// found while the text was at hand; `None` when the text was not read.
    pub directives: Option<Vec<(u32, String)>>,
    /// A large AWS Config snapshot, left unparsed to be read one item at a time.
    pub snapshot: Option<snapshot::Snapshot>,
    /// A Terraform or ARM file read but not parsed (`Reading::Outline`): what joining it into its
    /// unit needs, taken from its text. It is parsed when its unit is extracted.
    pub outlined: Option<Outlined>,
}

/// A file outlined from its text, to be parsed with its unit.
#[derive(Debug)]
pub struct Outlined {
    /// The path its document will name.
    pub path: Arc<str>,
    pub outline: crate::extract::units::Outline,
}

/// How the files whose units read other files are read: Terraform's HCL files, and ARM
/// templates and parameters files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Parsed as they are loaded.
    Parse,
    /// Outlined from their text, to be parsed once, with their unit (a scan). An ARM file
    /// that its text cannot outline for sure is parsed as it is loaded.
    Outline,
}

/// A marker line of a rendered document and the place in another file it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relocation {
    pub marker: u32,
    pub path: Arc<str>,
    /// The number of the document the place is in, in its file.
    pub document: usize,
    pub span: crate::tree::Span,
}

impl FileOutcome {
    fn skipped(path: &str, reason: impl Into<String>) -> Self {
        FileOutcome {
            skipped: Some(Skipped {
                path: path.to_string(),
                reason: reason.into(),
            }),
            ..Default::default()
        }
    }

    fn error(path: &str, line: u32, column: u32, reason: impl Into<String>) -> Self {
        FileOutcome {
            error: Some(LoadError {
                path: path.to_string(),
                line,
                column,
                reason: reason.into(),
            }),
            ..Default::default()
        }
    }
}

/// Largest input file read by default; bigger files are reported, not loaded
/// (`--max-file-bytes`, see `crate::limits`).
pub const MAX_FILE_BYTES: u64 = crate::limits::DEFAULT_FILE_BYTES;

/// The text of a file, and where its first undecodable bytes were when some had to be
/// replaced (U+FFFD): the rest of the file is still scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub invalid: Option<Invalid>,
}

/// Undecodable bytes: 1-based line and column (in characters) of the first, and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub line: u32,
    pub column: u32,
    pub reason: String,
}

/// Line and column (1-based, in characters) just after `text`.
fn end_position(text: &str) -> (u32, u32) {
    let line = text.bytes().filter(|b| *b == b'\n').count() + 1;
    let last = text.rfind('\n').map_or(text, |i| &text[i + 1..]);
    let column = last.chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// UTF-16 without a byte order mark, as some Windows tools write it: in the first bytes, one
/// byte of each pair is almost always zero (ASCII text) and the other almost never.
fn utf16_without_bom(bytes: &[u8]) -> Option<bool> {
    let head = &bytes[..bytes.len().min(512) & !1];
    if head.len() < 4 {
        return None;
    }
    let pairs = head.len() / 2;
    let zero_even = head.iter().step_by(2).filter(|b| **b == 0).count();
    let zero_odd = head.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    let most = |n: usize| n * 10 >= pairs * 9;
    let few = |n: usize| n * 10 <= pairs;
    if most(zero_odd) && few(zero_even) {
        Some(true)
    } else if most(zero_even) && few(zero_odd) {
        Some(false)
    } else {
        None
    }
}

fn decode_utf16(rest: &[u8], little: bool) -> Decoded {
    let units = rest.chunks_exact(2).map(|c| {
        if little {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let mut text = String::with_capacity(rest.len() / 2);
    let mut invalid = None;
    let mut count = 0usize;
    for unit in char::decode_utf16(units) {
        match unit {
            Ok(c) => text.push(c),
            Err(e) => {
                if invalid.is_none() {
                    let (line, column) = end_position(&text);
                    invalid = Some((line, column, e.unpaired_surrogate()));
                }
                count += 1;
                text.push(char::REPLACEMENT_CHARACTER);
            }
        }
    }
    let odd = rest.len() % 2 == 1;
    let invalid = match (invalid, odd) {
        (Some((line, column, unit)), _) => Some(Invalid {
            line,
            column,
            reason: format!(
                "invalid UTF-16: unpaired surrogate 0x{unit:04X} ({count} replaced by U+FFFD; the rest of the file is scanned)"
            ),
        }),
        (None, true) => {
            let (line, column) = end_position(&text);
            Some(Invalid {
                line,
                column,
                reason: "invalid UTF-16: odd number of bytes, the last one is ignored".into(),
            })
        }
        (None, false) => None,
    };
    Decoded { text, invalid }
}

fn decode_utf8(bytes: &[u8]) -> Decoded {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Decoded {
            text: text.to_string(),
            invalid: None,
        };
    }
    let mut text = String::with_capacity(bytes.len());
    let mut first = None;
    let mut count = 0usize;
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            if first.is_none() {
                let (line, column) = end_position(&text);
                let shown: Vec<String> = chunk
                    .invalid()
                    .iter()
                    .map(|b| format!("0x{b:02X}"))
                    .collect();
                first = Some((line, column, shown.join(" ")));
            }
            count += 1;
            text.push(char::REPLACEMENT_CHARACTER);
        }
    }
    let invalid = first.map(|(line, column, shown)| Invalid {
        line,
        column,
        reason: format!(
            "invalid UTF-8: byte {shown} ({count} replaced by U+FFFD; the rest of the file is scanned; save the file as UTF-8)"
        ),
    });
    Decoded { text, invalid }
}

/// Decodes UTF-8 (with or without BOM) and UTF-16 (with a BOM, as PowerShell writes it, or
/// without); invalid bytes are replaced and reported with their position. A file with NUL
/// bytes that is not UTF-16 is binary: an error at the first NUL.
pub fn decode_text(bytes: &[u8]) -> Result<Decoded, Invalid> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return Ok(decode_utf8(rest));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return Ok(decode_utf16(rest, true));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return Ok(decode_utf16(rest, false));
    }
    if let Some(little) = utf16_without_bom(bytes) {
        return Ok(decode_utf16(bytes, little));
    }
    if let Some(at) = bytes[..bytes.len().min(64 * 1024)]
        .iter()
        .position(|b| *b == 0)
    {
        let (line, column) = end_position(&String::from_utf8_lossy(&bytes[..at]));
        return Err(Invalid {
            line,
            column,
            reason: "binary file (NUL byte), not text".into(),
        });
    }
    Ok(decode_utf8(bytes))
}

/// The text of a file as the loaders see it (gzip inflated, UTF-16 and invalid bytes decoded),
/// for what reads a file again after loading (inline suppressions); `None` when unreadable.
pub fn read_text(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let bytes = if compressed::is_gzip(path) {
        compressed::gunzip(&bytes, MAX_FILE_BYTES).ok()?
    } else {
        bytes
    };
    decode_text(&bytes).ok().map(|d| d.text)
}

/// Text from stdin or a live source, decoded as a file is.
pub fn text_of(bytes: &[u8]) -> String {
    decode_text(bytes).map_or_else(|_| String::from_utf8_lossy(bytes).into_owned(), |d| d.text)
}

/// Reads and loads one file from disk.
pub fn load_file(path: &Path) -> FileOutcome {
    load_file_as(path, Reading::Parse)
}

/// Reads a file as `load_file` does, but for a Terraform HCL file and an ARM file written as
/// plain JSON, which are only outlined (`Reading::Outline`): a scan parses them with their
/// unit.
pub fn outline_file(path: &Path) -> FileOutcome {
    load_file_as(path, Reading::Outline)
}

fn load_file_as(path: &Path, reading: Reading) -> FileOutcome {
    let display = path.to_string_lossy().into_owned();
    if path.file_name().is_some_and(|n| n == "Chart.yaml") {
        let chart = path
            .parent()
            .map_or(".".into(), |p| p.display().to_string());
        return FileOutcome::skipped(
            &display,
            format!(
                "Helm chart {chart}: templates are not plain YAML; render them with `helm template {chart} | sovscan scan -`"
            ),
        );
    }
    if is_helm_template(path) {
        return FileOutcome::skipped(
            &display,
            "Helm template: render the chart with `helm template <chart> | sovscan scan -`",
        );
    }
    // Opened once: its size is asked of the open file, and the same file is read whole.
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) => return FileOutcome::error(&display, 0, 0, format!("cannot read: {e}")),
    };
    let len = match file.metadata() {
        Ok(meta) => meta.len(),
        Err(e) => return FileOutcome::error(&display, 0, 0, format!("cannot read: {e}")),
    };
    if len > crate::limits::file_bytes() {
        return FileOutcome::error(
            &display,
            0,
            0,
            format!("file is {}", crate::limits::file_reason(len)),
        );
    }
    if let Some(outcome) = streamed_snapshot(path, &display, len) {
        return match crate::limits::hold(len) {
            Ok(()) => outcome,
            Err(reason) => FileOutcome::error(&display, 0, 0, reason),
        };
    }
    match read_whole(file, len) {
        Ok(bytes) if compressed::is_gzip(path) => {
            let limit = crate::limits::file_bytes().min(crate::limits::remaining_total());
            match compressed::gunzip(&bytes, limit).and_then(|inner| {
                crate::limits::hold(inner.len() as u64)?;
                Ok(inner)
            }) {
                Ok(inner) => load_bytes_as(&display, &inner, reading),
                Err(reason) => FileOutcome::error(&display, 0, 0, reason),
            }
        }
        Ok(bytes) => match crate::limits::hold(bytes.len() as u64) {
            Ok(()) => load_bytes_as(&display, &bytes, reading),
            Err(reason) => FileOutcome::error(&display, 0, 0, reason),
        },
        Err(e) => FileOutcome::error(&display, 0, 0, format!("cannot read: {e}")),
    }
}

/// The rest of an open file, room made for the `len` bytes its metadata gave (a file that
/// grew since is read to its end all the same). Read through `Take`, which asks nothing more of
/// the file system than the reads: a `File`'s own `read_to_end` asks its size and position
/// again.
fn read_whole(file: std::fs::File, len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(len).unwrap_or(0))
        .map_err(std::io::Error::other)?;
    file.take(u64::MAX).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads and loads again a file `load_file` loaded before in this scan: its bytes count
/// against the scan's input budget once, and its problems were reported then.
pub fn reload_file(path: &Path) -> FileOutcome {
    let display = path.to_string_lossy().into_owned();
    let bytes = match std::fs::read(path) {
        Ok(bytes) if compressed::is_gzip(path) => {
            compressed::gunzip(&bytes, crate::limits::file_bytes())
        }
        Ok(bytes) => Ok(bytes),
        Err(e) => Err(format!("cannot read: {e}")),
    };
    match bytes {
        Ok(bytes) => load_bytes(&display, &bytes),
        Err(reason) => FileOutcome::error(&display, 0, 0, reason),
    }
}

/// A CloudFormation parameter file named with `--parameter-file`, whatever its name.
pub fn load_parameter_file(
    path: &Path,
) -> Result<crate::extract::cloudformation_parameters::ParameterFile, LoadError> {
    let display = path.to_string_lossy().into_owned();
    let error = |line, column, reason: String| LoadError {
        path: display.clone(),
        line,
        column,
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| error(0, 0, format!("cannot read: {e}")))?;
    let text = decode_text(&bytes)
        .map_err(|r| error(r.line, r.column, r.reason))?
        .text;
    match crate::extract::cloudformation_parameters::parse(&display, &text) {
        Ok(Some(file)) => Ok(file),
        Ok(None) => Err(error(
            1,
            1,
            "not a CloudFormation parameters file: expected [{\"ParameterKey\": …, \"ParameterValue\": …}] or {\"Parameters\": {…}}".into(),
        )),
        Err((line, column, reason)) => Err(error(line, column, reason)),
    }
}

/// A file anywhere below a chart's `templates/` folder (`templates/jobs/backup.yaml` too).
fn is_helm_template(path: &Path) -> bool {
    path.ancestors()
        .skip(1)
        .filter(|p| p.file_name().is_some_and(|n| n == "templates"))
        .filter_map(Path::parent)
        .any(|chart| chart.join("Chart.yaml").is_file())
}

/// Text that uses Go template actions (`{{ .Values.image }}`, `{{- if … }}`).
fn is_go_template(text: &str) -> bool {
    text.contains("{{") && text.contains("}}")
}

/// Loads a file's content; `display` is the path shown in reports (`-` for stdin).
pub fn load_bytes(display: &str, bytes: &[u8]) -> FileOutcome {
    load_bytes_as(display, bytes, Reading::Parse)
}

fn load_bytes_as(display: &str, bytes: &[u8], reading: Reading) -> FileOutcome {
    let mut decoded = match decode_text(bytes) {
        Ok(d) => d,
        Err(e) => return FileOutcome::error(display, e.line, e.column, e.reason),
    };
    let candidate = snapshot_candidate(display, decoded.text.len(), decoded.text.as_bytes());
    let mut outcome = match candidate.then(|| snapshot::Snapshot::scan_text(&decoded.text)) {
        Some(Some(scanned)) => FileOutcome {
            directives: Some(crate::suppress::directive_lines(&decoded.text)),
            snapshot: Some(snapshot::Snapshot::from_text(
                Arc::from(display),
                std::mem::take(&mut decoded.text),
                scanned,
            )),
            ..Default::default()
        },
        _ => load_text(display, &decoded.text, reading),
    };
    if outcome.directives.is_none() {
        outcome.directives = Some(crate::suppress::directive_lines(&decoded.text));
    }
    if let Some(invalid) = decoded.invalid {
        // One report per file: a parse error says the bytes were bad too.
        match &mut outcome.error {
            Some(error) => error.reason.push_str(&format!(
                " (the file also has undecodable bytes at {}:{}: {})",
                invalid.line, invalid.column, invalid.reason
            )),
            None => {
                let problem = LoadError {
                    path: display.to_string(),
                    line: invalid.line,
                    column: invalid.column,
                    reason: invalid.reason,
                };
                // Nothing scannable came out of it: the file could not be read, not skipped.
                if outcome.documents.is_empty()
                    && outcome.snapshot.is_none()
                    && outcome.outlined.is_none()
                {
                    outcome.skipped = None;
                    outcome.error = Some(problem);
                } else {
                    outcome.warnings.push(problem);
                }
            }
        }
    }
    outcome
}

/// A file named `.json` (or `.json.gz`) of at least `STREAM_BYTES`, whose first bytes name
/// `configurationItems`.
fn snapshot_candidate(display: &str, len: usize, head: &[u8]) -> bool {
    large_json(display, len)
        && head[..head.len().min(1 << 16)]
            .windows(20)
            .any(|w| w == b"\"configurationItems\"")
}

/// A file named `.json` (or `.json.gz`) of at least `STREAM_BYTES`: what its name and size say
/// of a snapshot, before its first bytes are read.
fn large_json(display: &str, len: usize) -> bool {
    let lower = display.to_ascii_lowercase();
    let name = lower.strip_suffix(".gz").unwrap_or(&lower);
    len >= snapshot::STREAM_BYTES && name.ends_with(".json")
}

/// A large snapshot read from its file a window at a time, never whole: a plain UTF-8 file
/// that the byte scan follows. `None` for anything else, which is read whole.
fn streamed_snapshot(path: &Path, display: &str, len: u64) -> Option<FileOutcome> {
    let len = usize::try_from(len).ok()?;
    // Most files are not: they are opened once, to be read whole.
    if compressed::is_gzip(path) || !large_json(display, len) {
        return None;
    }
    use std::io::Read as _;
    let mut head = Vec::with_capacity(1 << 16);
    std::fs::File::open(path)
        .ok()?
        .take(1 << 16)
        .read_to_end(&mut head)
        .ok()?;
    let plain = !head.contains(&0)
        && !head.starts_with(&[0xFF, 0xFE])
        && !head.starts_with(&[0xFE, 0xFF])
        && utf16_without_bom(&head).is_none();
    if !plain || !snapshot_candidate(display, len, &head) {
        return None;
    }
    let snapshot = snapshot::Snapshot::from_file(Arc::from(display), path)?;
    Some(FileOutcome {
        directives: Some(Vec::new()),
        snapshot: Some(snapshot),
        ..Default::default()
    })
}

/// Loads decoded text; `display` is the path shown in reports.
fn load_text(display: &str, text: &str, reading: Reading) -> FileOutcome {
    let lower = display.to_ascii_lowercase();
    if crate::extract::cloudformation_parameters::is_parameter_file_name(display) {
        match crate::extract::cloudformation_parameters::parse(display, text) {
            Ok(Some(file)) => {
                return FileOutcome {
                    parameter_file: Some(file),
                    ..Default::default()
                };
            }
            // JSON of another kind under that name (an ARM parameters file).
            Ok(None) => {}
            Err((line, column, reason)) => {
                return FileOutcome::error(display, line, column, reason);
            }
        }
    }
    if lower.ends_with(".tf") || lower.ends_with(".tofu") || lower.ends_with(".tfvars") {
        let outlined = (reading == Reading::Outline)
            .then(|| crate::extract::terraform::outline_text(display, text))
            .flatten();
        if let Some(calls) = outlined {
            return FileOutcome {
                outlined: Some(Outlined {
                    path: Arc::from(display),
                    outline: crate::extract::units::Outline::Terraform { calls },
                }),
                ..Default::default()
            };
        }
        return match hcl::parse(text) {
            Ok(root) => FileOutcome {
                documents: vec![Document {
                    path: Arc::from(display),
                    format: Format::Terraform,
                    index: 0,
                    root,
                }],
                ..Default::default()
            },
            Err(e) => FileOutcome::error(display, e.line, e.column, e.reason),
        };
    }
    if lower.ends_with(".tf.json")
        || lower.ends_with(".tofu.json")
        || lower.ends_with(".tfvars.json")
    {
        return match json::parse(text) {
            Ok(Some(node)) if node.is_map() => FileOutcome {
                documents: vec![Document {
                    path: Arc::from(display),
                    format: Format::Terraform,
                    index: 0,
                    root: hcl::from_json(node, lower.ends_with(".tfvars.json")),
                }],
                ..Default::default()
            },
            Ok(_) => FileOutcome::error(
                display,
                1,
                1,
                "Terraform JSON syntax: the file must hold one object",
            ),
            Err(e) => FileOutcome::error(display, e.line, e.column, e.reason),
        };
    }
    let trimmed = text.trim_start();
    let name = lower.strip_suffix(".gz").unwrap_or(&lower);
    // CloudFormation `.template` files and Config exports are often JSON under other names.
    let is_json = name.ends_with(".json")
        || (!name.ends_with(".yaml") && !name.ends_with(".yml") && trimmed.starts_with('{'));
    // An ARM file a scan reads again with its unit is outlined now, not parsed twice.
    if is_json
        && reading == Reading::Outline
        && let Some(outline) = crate::extract::arm_outline::outline_text(display, text)
    {
        return FileOutcome {
            outlined: Some(Outlined {
                path: Arc::from(display),
                outline,
            }),
            ..Default::default()
        };
    }
    let nodes = if is_json {
        match json::parse(text) {
            Ok(Some(node)) => vec![node],
            Ok(None) => Vec::new(),
            Err(e) => return FileOutcome::error(display, e.line, e.column, e.reason),
        }
    } else {
        match yaml::parse_stream(text) {
            Ok(nodes) => nodes,
            // Go templates (`{{ .Values.x }}`) outside a chart's `templates/` folder.
            Err(_) if is_go_template(text) => {
                return FileOutcome::skipped(
                    display,
                    "template with `{{ }}` placeholders, not plain YAML: render it (`helm template`, `gomplate`) and scan the output with `sovscan scan -`",
                );
            }
            // A `.template` file is read for CloudFormation's sake; one that is not YAML and
            // names no CloudFormation section is another tool's template (nginx, envsubst).
            Err(_) if name.ends_with(".template") && !names_cloudformation(text) => {
                return FileOutcome::skipped(
                    display,
                    "`.template` file that is neither JSON nor YAML: not a CloudFormation template",
                );
            }
            Err(e) => return FileOutcome::error(display, e.line, e.column, e.reason),
        }
    };
    classify(display, nodes)
}

/// Whether text names a CloudFormation template's version or its `Resources` section: a file
/// that does and does not parse is a broken template, reported as an error.
fn names_cloudformation(text: &str) -> bool {
    text.contains("AWSTemplateFormatVersion")
        || text
            .lines()
            .any(|l| l.starts_with("Resources:") || l.starts_with("\"Resources\""))
}

/// Sorts parsed documents into known formats; the rest of the file is skipped with a reason.
fn classify(display: &str, nodes: Vec<Node>) -> FileOutcome {
    if nodes.is_empty() {
        return FileOutcome::skipped(display, "empty file");
    }
    let path: Arc<str> = Arc::from(display);
    let mut outcome = FileOutcome::default();
    let mut other_reasons = Vec::new();
    for (index, mut root) in nodes.into_iter().enumerate() {
        match detect(&root) {
            Detected::Format(format) => {
                if format == Format::AwsConfig {
                    aws_config::expand_embedded_json(&mut root);
                }
                outcome.documents.push(Document {
                    path: Arc::clone(&path),
                    format,
                    index,
                    root,
                });
            }
            Detected::Other(reason) => {
                outcome.skipped_documents += 1;
                other_reasons.push(reason);
            }
        }
    }
    if outcome.documents.is_empty() {
        other_reasons.dedup();
        outcome.skipped = Some(Skipped {
            path: display.to_string(),
            reason: other_reasons.join("; "),
        });
    }
    outcome
}

enum Detected {
    Format(Format),
    Other(String),
}

fn detect(root: &Node) -> Detected {
    if !root.is_map() {
        return Detected::Other("not a mapping: no Kubernetes object or template".into());
    }
    let has = |k: &str| root.get(k).is_some();
    if has("AWSTemplateFormatVersion") || cloudformation::is_template_body(root) {
        return Detected::Format(Format::Cloudformation);
    }
    if root
        .get("$schema")
        .and_then(Node::as_str)
        .map(str::to_ascii_lowercase)
        .is_some_and(|s| s.contains("deploymenttemplate") || s.contains("deploymentparameters"))
    {
        return Detected::Format(Format::Arm);
    }
    if has("format_version")
        && (has("planned_values")
            || has("resource_changes")
            || has("values")
            || has("terraform_version"))
    {
        return Detected::Format(Format::TerraformPlan);
    }
    if has("configurationItems")
        || has("configurationItem")
        || (has("resourceType") && has("awsRegion"))
        || root.get("Results").is_some_and(|r| {
            !r.items().is_empty() && r.items().iter().all(|i| i.as_str().is_some())
        })
        || has("BaseConfigurationItems")
        || has("baseConfigurationItems")
        || has("configurationItemDetails")
    {
        return Detected::Format(Format::AwsConfig);
    }
    let api_version = root.get("apiVersion").and_then(Node::as_str);
    let kind = root.get("kind").and_then(Node::as_str);
    match (api_version, kind) {
        (Some(api), Some("Kustomization")) if api.starts_with("kustomize.config.k8s.io") => {
            Detected::Other(
                "kustomization: the resources it lists are scanned as plain files".into(),
            )
        }
        (Some(api), Some(_))
            if api.contains("config.k8s.io")
                && !api.contains("admissionregistration")
                && api.starts_with("kustomize") =>
        {
            Detected::Other("kustomize configuration".into())
        }
        (Some(_), Some(_)) => Detected::Format(Format::Kubernetes),
        _ => Detected::Other(
            "YAML/JSON that is not Kubernetes, CloudFormation, ARM, Terraform plan or AWS Config"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn skipped_parts_of_a_file_are_in_line_order() {
        let entry = |path: &str| super::Skipped {
            path: path.into(),
            reason: String::new(),
        };
        let mut list = [
            entry("b.tf"),
            entry("a.tf:100"),
            entry("a.tf:9"),
            entry("a.tf"),
            entry("a.tf:20"),
        ];
        list.sort();
        let paths: Vec<&str> = list.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["a.tf", "a.tf:9", "a.tf:20", "a.tf:100", "b.tf"]);
    }

    use super::*;

    #[test]
    fn decodes_utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "{\"a\":1}".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode_text(&bytes).unwrap().text, "{\"a\":1}");
        assert_eq!(decode_text(b"\xEF\xBB\xBFx: 1").unwrap().text, "x: 1");
        // Without a BOM, both byte orders.
        let le: Vec<u8> = "kind: Pod\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = "kind: Pod\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(decode_text(&le).unwrap().text, "kind: Pod\n");
        assert_eq!(decode_text(&be).unwrap().text, "kind: Pod\n");
    }

    #[test]
    fn invalid_utf8_is_replaced_and_located() {
        let decoded = decode_text(b"a: 1\n# caf\xE9 au lait\nb: 2\n").unwrap();
        assert_eq!(decoded.text, "a: 1\n# caf\u{FFFD} au lait\nb: 2\n");
        let invalid = decoded.invalid.unwrap();
        assert_eq!((invalid.line, invalid.column), (2, 6));
        assert!(invalid.reason.contains("0xE9"), "{}", invalid.reason);
        let binary = decode_text(b"ab\ncd\0ef").unwrap_err();
        assert_eq!((binary.line, binary.column), (2, 3));
    }

    #[test]
    fn latin1_comment_keeps_the_file_scanned() {
        let outcome = load_bytes(
            "pod.yaml",
            b"# \xC4nderung\napiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n",
        );
        assert_eq!(outcome.documents.len(), 1);
        assert!(outcome.error.is_none());
        assert_eq!(outcome.warnings.len(), 1);
        assert_eq!(
            (outcome.warnings[0].line, outcome.warnings[0].column),
            (1, 3)
        );
    }

    #[test]
    fn non_kubernetes_yaml_is_skipped_with_reason() {
        let outcome = load_bytes("values.yaml", b"replicaCount: 2\n");
        assert!(outcome.documents.is_empty());
        assert!(outcome.skipped.is_some());
    }
}
