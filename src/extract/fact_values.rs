//! Fact values normalised across formats: `Enabled`/`true`, Azure SKU replication parts, and
//! regions inside ARNs. TLS versions stay as written; GDPR-005 reads every spelling.

use crate::tree::Node;

pub fn flag(node: &Node) -> Option<bool> {
    if let Some(b) = node.as_bool() {
        return Some(b);
    }
    match node.as_str()?.to_ascii_lowercase().as_str() {
        "enabled" | "enable" | "on" | "yes" => Some(true),
        "disabled" | "disable" | "off" | "no" => Some(false),
        _ => None,
    }
}

pub fn text(fact: &str, node: &Node) -> Option<String> {
    let raw = node.scalar_text().filter(|t| !t.is_empty())?;
    Some(match fact {
        // `Standard_RAGRS` → `RAGRS`: the replication part of an Azure storage SKU.
        "storage_replication" => raw.rsplit('_').next().unwrap_or(&raw).to_ascii_uppercase(),
        _ => raw,
    })
}

/// A region id, or the region part of an ARN (`arn:aws:backup:us-east-1:…` → `us-east-1`).
pub fn region_text(node: &Node) -> Option<String> {
    let text = node.scalar_text().filter(|t| !t.is_empty())?;
    if text.starts_with("arn:") {
        return text
            .split(':')
            .nth(3)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
    }
    Some(text)
}
