//! Loading: bytes of a file into spanned documents of a known format, or a reason why not.
//! One function per format; detection looks at the content, not only the file name.

pub mod aws_config;
pub mod cloudformation;
pub mod compressed;
pub mod hcl;
pub mod json;
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

    pub fn parse(text: &str) -> Option<Format> {
        [
            Format::Kubernetes,
            Format::Terraform,
            Format::TerraformPlan,
            Format::Cloudformation,
            Format::Arm,
            Format::AwsConfig,
        ]
        .into_iter()
        .find(|f| f.as_str() == text)
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

/// A file that is not a scan input, with the reason.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
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
    /// The lines with an inline suppression (`sovscan:ignore`), with their 1-based number,
    /// found while the text was at hand; `None` when the text was not read.
    pub directives: Option<Vec<(u32, String)>>,
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

/// Largest input file read; bigger files are reported, not loaded.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Decodes UTF-8 (with or without BOM) and UTF-16 with BOM, as PowerShell writes it.
pub fn decode_text(bytes: &[u8]) -> Result<String, String> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8(rest.to_vec()).map_err(|e| format!("invalid UTF-8: {e}"));
    }
    let utf16 = |rest: &[u8], little: bool| -> Result<String, String> {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| {
                if little {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|e| format!("invalid UTF-16: {e}"))
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, false);
    }
    String::from_utf8(bytes.to_vec()).map_err(|e| format!("invalid UTF-8: {e}"))
}

/// Reads and loads one file from disk.
pub fn load_file(path: &Path) -> FileOutcome {
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
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() > MAX_FILE_BYTES => {
            return FileOutcome::error(
                &display,
                0,
                0,
                format!(
                    "file is {} bytes, above the {MAX_FILE_BYTES}-byte limit",
                    meta.len()
                ),
            );
        }
        Err(e) => return FileOutcome::error(&display, 0, 0, format!("cannot read: {e}")),
        Ok(_) => {}
    }
    match std::fs::read(path) {
        Ok(bytes) if compressed::is_gzip(path) => {
            match compressed::gunzip(&bytes, MAX_FILE_BYTES) {
                Ok(inner) => load_bytes(&display, &inner),
                Err(reason) => FileOutcome::error(&display, 0, 0, reason),
            }
        }
        Ok(bytes) => load_bytes(&display, &bytes),
        Err(e) => FileOutcome::error(&display, 0, 0, format!("cannot read: {e}")),
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
    let text = match decode_text(bytes) {
        Ok(t) => t,
        Err(reason) => return FileOutcome::error(display, 0, 0, reason),
    };
    let mut outcome = load_text(display, &text);
    outcome.directives = Some(crate::suppress::directive_lines(&text));
    outcome
}

fn load_text(display: &str, text: &str) -> FileOutcome {
    let lower = display.to_ascii_lowercase();
    if lower.ends_with(".tf") || lower.ends_with(".tfvars") {
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
    if lower.ends_with(".tf.json") || lower.ends_with(".tfvars.json") {
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
            Err(e) => return FileOutcome::error(display, e.line, e.column, e.reason),
        }
    };
    classify(display, nodes)
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
    use super::*;

    #[test]
    fn decodes_utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "{\"a\":1}".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode_text(&bytes).unwrap(), "{\"a\":1}");
        assert_eq!(decode_text(b"\xEF\xBB\xBFx: 1").unwrap(), "x: 1");
    }

    #[test]
    fn non_kubernetes_yaml_is_skipped_with_reason() {
        let outcome = load_bytes("values.yaml", b"replicaCount: 2\n");
        assert!(outcome.documents.is_empty());
        assert!(outcome.skipped.is_some());
    }
}
