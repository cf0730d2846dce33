//! Fact values normalised across formats: `Enabled`/`true`, TLS spellings (`TLS1_2`, `Tls12`,
//! `TLSv1.2_2021`), Azure SKU replication parts, and regions inside ARNs.

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
        "tls_min" => tls_version(&raw),
        // `Standard_RAGRS` → `RAGRS`: the replication part of an Azure storage SKU.
        "storage_replication" => raw.rsplit('_').next().unwrap_or(&raw).to_ascii_uppercase(),
        _ => raw,
    })
}

/// `TLS1_2`, `Tls12`, `TLSv1.2_2021`, `1.2` → `1.2`.
pub fn tls_version(raw: &str) -> String {
    let lower = raw.to_ascii_lowercase();
    // Policy names carry the version after `tls` (`Policy-Min-TLS-1-2-2019-07`).
    let after = lower
        .rfind("tls")
        .map_or(lower.as_str(), |i| &lower[i + 3..]);
    let digits: String = after
        .trim_start_matches('v')
        .trim_start_matches(['_', '-'])
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
        .filter(|c| c.is_ascii_digit())
        .collect();
    match digits.as_str() {
        "" => raw.to_string(),
        d if d.len() == 1 => format!("{d}.0"),
        d => format!("{}.{}", &d[..1], &d[1..2]),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_spellings() {
        for (raw, want) in [
            ("TLS1_2", "1.2"),
            ("Tls12", "1.2"),
            ("TLSv1.2_2021", "1.2"),
            ("1.0", "1.0"),
            ("TLS1_3", "1.3"),
            ("Policy-Min-TLS-1-2-2019-07", "1.2"),
        ] {
            assert_eq!(tls_version(raw), want, "{raw}");
        }
    }
}
