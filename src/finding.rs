//! Findings: what a rule reports about one resource, always with a primary location.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

use crate::location::Location;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Residency,
    Gdpr,
    Hyperscaler,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Residency => "residency",
            Category::Gdpr => "gdpr",
            Category::Hyperscaler => "hyperscaler",
        }
    }
}

/// The resource a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceRef {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub address: String,
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<String>,
    /// A condition on the resource's creation the scan cannot decide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Whether `provider` is the one a finding ties the resource to (a load balancer annotated
    /// for AWS), rather than the resource's own.
    #[serde(skip)]
    pub tied: bool,
}

/// A finding. What it shares with other findings (its rule's texts, the resource it is about,
/// a remediation without placeholders) is shared, not copied: a large estate has hundreds of
/// thousands of findings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule_id: Arc<str>,
    pub rule_name: Arc<str>,
    pub category: Category,
    pub severity: Severity,
    pub title: Arc<str>,
    pub message: String,
    pub resource: Arc<ResourceRef>,
    pub location: Location,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    pub remediation: Arc<str>,
    pub references: Arc<[String]>,
    /// Empty until the finding is stored (`store::Collector::add`) or ordered
    /// (`engine::evaluate`): made once, from the path reports name its file by.
    pub fingerprint: String,
    /// The hit's key that tells several hits on one field apart (part of the fingerprint).
    #[serde(skip)]
    pub key: String,
    /// Set when an inline comment or resource metadata suppresses the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Box<crate::suppress::Suppression>>,
    /// With `--baseline`: `unchanged` when the baseline accepts the finding, else `new`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::baseline::BaselineState>,
}

impl Finding {
    pub fn is_suppressed(&self) -> bool {
        self.suppression.is_some()
    }

    /// In the baseline: reported, but accepted for now.
    pub fn is_baseline(&self) -> bool {
        self.baseline == Some(crate::baseline::BaselineState::Unchanged)
    }

    /// Counts for the gate and the summary: neither suppressed nor in the baseline.
    pub fn is_active(&self) -> bool {
        !self.is_suppressed() && !self.is_baseline()
    }

    /// Order used everywhere: path, line, column, rule id, then message.
    pub fn sort_key(&self) -> (&str, u32, u32, &str, &str) {
        (
            &self.location.path,
            self.location.start_line,
            self.location.start_column,
            &self.rule_id,
            &self.message,
        )
    }
}

impl Finding {
    /// Fingerprints with `path` (relative to the repository root) in place of the path as
    /// given, so that they do not depend on the working directory of the scan.
    pub fn rebase_fingerprint(&mut self, path: &str) {
        self.fingerprint = fingerprint(
            &self.rule_id,
            path,
            &self.resource.address,
            &self.location.field,
            &self.key,
        );
    }

    /// Fingerprints with `path` when no fingerprint was made yet.
    pub fn fingerprint_unmade(&mut self, path: &str) {
        if self.fingerprint.is_empty() {
            self.rebase_fingerprint(path);
        }
    }
}

/// A stable fingerprint: rule + path + resource identity + field, no line numbers.
pub fn fingerprint(rule_id: &str, path: &str, address: &str, field: &str, key: &str) -> String {
    // FNV-1a 64 over each part and a 0xff after it: small, dependency-free and stable across
    // platforms and releases.
    let mut hash = Fnv::start(rule_id, path);
    for part in [address, field, key] {
        hash.add(part);
    }
    hash.hex()
}

/// FNV-1a 64 over parts, each followed by 0xff.
#[derive(Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Fnv {
    const PRIME: u64 = 0x0100_0000_01b3;

    /// The hash of no part.
    pub(crate) fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    /// The hash in 16 hex digits.
    pub(crate) fn hex(self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut digits = [0u8; 16];
        for (i, digit) in digits.iter_mut().enumerate() {
            *digit = HEX[(self.0 >> ((15 - i) * 4)) as usize & 0xf];
        }
        // Hex digits are ASCII.
        std::str::from_utf8(&digits)
            .map(str::to_owned)
            .unwrap_or_default()
    }

    pub(crate) fn add(&mut self, part: &str) {
        let mut hash = self.0;
        for &byte in part.as_bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(Self::PRIME);
        }
        self.0 = (hash ^ 0xff).wrapping_mul(Self::PRIME);
    }

    /// The hash of a rule and a path: the findings of a file hash the same few pairs, one
    /// byte after another, so each thread keeps the last pairs it hashed.
    fn start(rule_id: &str, path: &str) -> Fnv {
        const KEPT: usize = 8;
        thread_local! {
            static LAST: std::cell::RefCell<Kept> = const {
                std::cell::RefCell::new(Kept { next: 0, pairs: Vec::new() })
            };
        }
        LAST.with_borrow_mut(|Kept { next, pairs }| {
            if let Some((.., hash)) = pairs
                .iter()
                .find(|(rule, kept_path, _)| **rule == *rule_id && **kept_path == *path)
            {
                return *hash;
            }
            let mut hash = Fnv::new();
            hash.add(rule_id);
            hash.add(path);
            let pair = (rule_id.into(), path.into(), hash);
            if pairs.len() < KEPT {
                pairs.push(pair);
            } else {
                pairs[*next] = pair;
                *next = (*next + 1) % KEPT;
            }
            hash
        })
    }
}

/// The rule and path pairs a thread hashed last, and which one it replaces next.
struct Kept {
    next: usize,
    pairs: Vec<(Box<str>, Box<str>, Fnv)>,
}

#[cfg(test)]
mod tests {
    use super::fingerprint;
    use proptest::prelude::*;

    /// FNV-1a 64 as it was first written: fingerprints in baselines were made by it.
    fn reference(parts: [&str; 5]) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for part in parts {
            for byte in part.bytes().chain(std::iter::once(0xff)) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{hash:016x}")
    }

    /// Fingerprints baselines hold, written out.
    #[test]
    fn known_fingerprints_stay() {
        assert_eq!(fingerprint("", "", "", "", ""), "ac3fdc08a1c002aa");
        assert_eq!(
            fingerprint("HYP-001", "a/b.tf", "aws_s3_bucket.x", "", ""),
            "9a46e400d52a1bc4"
        );
    }

    proptest! {
        #[test]
        fn fingerprints_are_those_baselines_hold(
            parts in proptest::array::uniform5(".{0,40}"),
        ) {
            let [a, b, c, d, e] = &parts;
            prop_assert_eq!(fingerprint(a, b, c, d, e), reference([a, b, c, d, e]));
        }

        /// Rules and paths met again, among more pairs than a thread keeps, hash as they did
        /// the first time: a kept pair is found by its texts, whole.
        #[test]
        fn pairs_met_again_hash_as_the_first_time(
            pairs in proptest::collection::vec(("[ab]{0,2}", "[ab/]{0,3}"), 1..24),
            address in "[a-z.]{0,8}",
        ) {
            for _ in 0..2 {
                for (rule, path) in &pairs {
                    prop_assert_eq!(
                        fingerprint(rule, path, &address, "f", "k"),
                        reference([rule, path, &address, "f", "k"])
                    );
                }
            }
        }
    }
}
