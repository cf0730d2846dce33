//! Budgets that bound the work and memory any input can cost: how deep expressions nest, how
//! large an evaluated value may grow, how much a compressed file or stdin may hold. Each has a
//! flag and a `limits:` settings key; a limit that is reached names itself and how to raise it.
//!
//! The limits are process-wide (set once from the command line before a scan) so the loaders and
//! evaluators deep inside a scan read them without threading them through every call.

use std::sync::atomic::{AtomicU64, Ordering};

/// Nesting of one expression (`a(a(a(…)))`, `!Join [!Select [… ]]`, `f(g(h(…)))`).
pub const DEFAULT_EXPRESSION_DEPTH: u64 = 64;
/// Bytes of one evaluated value (a string, or the text of a list or map).
pub const DEFAULT_VALUE_BYTES: u64 = 1024 * 1024;
/// Bytes a `.gz` file may decompress to, and bytes of one plain file.
pub const DEFAULT_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// Bytes read from stdin (`sovscan scan -`).
pub const DEFAULT_STDIN_BYTES: u64 = 256 * 1024 * 1024;
/// Bytes of input (files as read, `.gz` files decompressed) one scan holds in all.
pub const DEFAULT_TOTAL_BYTES: u64 = 512 * 1024 * 1024;

static EXPRESSION_DEPTH: AtomicU64 = AtomicU64::new(DEFAULT_EXPRESSION_DEPTH);
static VALUE_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_VALUE_BYTES);
static FILE_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_FILE_BYTES);
static STDIN_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_STDIN_BYTES);
static TOTAL_BYTES: AtomicU64 = AtomicU64::new(DEFAULT_TOTAL_BYTES);
/// Bytes of input the running scan holds so far.
static HELD_BYTES: AtomicU64 = AtomicU64::new(0);

/// The limits of one run; `None` keeps the default.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Limits {
    pub expression_depth: Option<u64>,
    pub value_bytes: Option<u64>,
    pub file_bytes: Option<u64>,
    pub stdin_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
}

impl Limits {
    /// Values of `other` where given, else this one's.
    pub fn or(&self, other: &Limits) -> Limits {
        Limits {
            expression_depth: other.expression_depth.or(self.expression_depth),
            value_bytes: other.value_bytes.or(self.value_bytes),
            file_bytes: other.file_bytes.or(self.file_bytes),
            stdin_bytes: other.stdin_bytes.or(self.stdin_bytes),
            total_bytes: other.total_bytes.or(self.total_bytes),
        }
    }

    /// Makes these limits the ones of the process.
    pub fn apply(&self) {
        let set = |cell: &AtomicU64, value: Option<u64>, default: u64| {
            cell.store(value.unwrap_or(default), Ordering::Relaxed);
        };
        set(
            &EXPRESSION_DEPTH,
            self.expression_depth,
            DEFAULT_EXPRESSION_DEPTH,
        );
        set(&VALUE_BYTES, self.value_bytes, DEFAULT_VALUE_BYTES);
        set(&FILE_BYTES, self.file_bytes, DEFAULT_FILE_BYTES);
        set(&STDIN_BYTES, self.stdin_bytes, DEFAULT_STDIN_BYTES);
        set(&TOTAL_BYTES, self.total_bytes, DEFAULT_TOTAL_BYTES);
    }
}

pub fn expression_depth() -> usize {
    usize::try_from(EXPRESSION_DEPTH.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
}

pub fn value_bytes() -> usize {
    usize::try_from(VALUE_BYTES.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
}

pub fn file_bytes() -> u64 {
    FILE_BYTES.load(Ordering::Relaxed)
}

pub fn stdin_bytes() -> u64 {
    STDIN_BYTES.load(Ordering::Relaxed)
}

/// Starts a scan: no input held yet.
pub fn reset_held() {
    HELD_BYTES.store(0, Ordering::Relaxed);
}

/// Bytes a file may still take before the scan's total input budget is used up.
pub fn remaining_total() -> u64 {
    TOTAL_BYTES
        .load(Ordering::Relaxed)
        .saturating_sub(HELD_BYTES.load(Ordering::Relaxed))
}

/// Counts `bytes` of input against the scan's total budget, or says why they cannot be held.
pub fn hold(bytes: u64) -> Result<(), String> {
    let total = TOTAL_BYTES.load(Ordering::Relaxed);
    let before = HELD_BYTES.fetch_add(bytes, Ordering::Relaxed);
    if before.saturating_add(bytes) > total {
        HELD_BYTES.fetch_sub(bytes, Ordering::Relaxed);
        return Err(format!(
            "the scan's input budget of {total} bytes is used up by other files \
             (--max-total-bytes, limits.total_bytes)"
        ));
    }
    Ok(())
}

/// Why a file is not read: above the per-file limit.
pub fn file_reason(size: u64) -> String {
    format!(
        "{size} bytes, above the {}-byte limit (--max-file-bytes, limits.file_bytes)",
        file_bytes()
    )
}

/// Why stdin is not scanned.
pub fn stdin_reason() -> String {
    format!(
        "stdin holds more than {} bytes (--max-stdin-bytes, limits.stdin_bytes)",
        stdin_bytes()
    )
}

/// Why evaluation stopped at the expression depth limit.
pub fn depth_reason() -> String {
    format!(
        "expression nested deeper than {} levels (--max-expression-depth, limits.expression_depth)",
        expression_depth()
    )
}

/// Why a value became unknown at the value size limit.
pub fn value_reason() -> String {
    format!(
        "value larger than {} bytes (--max-value-bytes, limits.value_bytes)",
        value_bytes()
    )
}

/// Is this reason one of the limits above (it names its flag)?
pub fn is_limit(reason: &str) -> bool {
    reason.contains("(--max-")
}

/// Rough bytes a value holds: the length of its text, summed over lists and maps.
pub fn value_size(node: &crate::tree::Node) -> usize {
    use crate::tree::Value;
    match &node.value {
        Value::Str(s) => s.len(),
        Value::Seq(items) => items.iter().map(|i| 1 + value_size(i)).sum(),
        Value::Map(entries) => entries
            .iter()
            .map(|e| 1 + e.key.len() + value_size(&e.value))
            .sum(),
        _ => 8,
    }
}

/// Is a value over the value size limit?
pub fn too_large(node: &crate::tree::Node) -> bool {
    value_size(node) > value_bytes()
}
