//! Regular expressions of the knowledge base, compiled on first use.
//!
//! The knowledge base holds a few hundred patterns (registry and SaaS hosts, resource-type
//! families, annotation keys); compiling them all costs more than scanning a small file. Each
//! pattern is read once for a literal every match contains, which costs microseconds, and is
//! compiled only when a text holds that literal.

use std::sync::OnceLock;

use regex::{Captures, Regex};

/// One knowledge-base regular expression.
pub struct Pattern {
    source: String,
    precheck: Precheck,
    /// Compiled on first use; `None` when it does not compile (a test compiles every pattern
    /// of the embedded knowledge base, so none is expected), and then it matches nothing.
    regex: OnceLock<Option<Regex>>,
}

/// What a text must hold for the pattern to have any chance of matching.
#[derive(Debug, PartialEq)]
enum Precheck {
    /// Anything may match.
    None,
    /// The text contains this.
    Contains(String),
    /// The text contains one of these (alternatives, each with its own literal).
    AnyOf(Vec<String>),
}

impl Precheck {
    fn of(source: &str) -> Self {
        match required_literals(source) {
            None => Precheck::None,
            Some(mut set) if set.len() == 1 => Precheck::Contains(set.remove(0)),
            Some(set) => Precheck::AnyOf(set),
        }
    }
}

/// The index just past the class opening at `i` (`[`), nested classes and escapes included.
fn class_end(chars: &[char], i: usize) -> usize {
    let mut level = 1;
    let mut first = true;
    let mut j = i + 1;
    while j < chars.len() {
        let c = chars[j];
        match c {
            '\\' => j += 1,
            // A POSIX class (`[:alpha:]`) closes with `:]`.
            '[' if chars.get(j + 1) == Some(&':') => {
                while j + 1 < chars.len() && !(chars[j] == ':' && chars[j + 1] == ']') {
                    j += 1;
                }
                j += 1;
            }
            '[' => level += 1,
            ']' if !first => {
                level -= 1;
                if level == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        first = c == '^' && first;
        j += 1;
    }
    chars.len()
}

/// The index of the `)` closing the group opening at `i`.
fn group_end(chars: &[char], i: usize) -> Option<usize> {
    let mut depth = 0;
    let mut j = i;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 1,
            '[' => {
                j = class_end(chars, j);
                continue;
            }
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// Where the expression inside the group opening at `i` starts: after `(`, `(?:`, `(?P<name>`
/// or `(?<name>`. `Err` for a group setting flags for the rest of the expression (`(?i)`), and
/// `Ok(None)` for a group with flags of its own (`(?i:…)`) or a look-around, whose text is not
/// read.
fn group_start(chars: &[char], i: usize) -> Result<Option<usize>, ()> {
    if chars.get(i + 1) != Some(&'?') {
        return Ok(Some(i + 1));
    }
    match chars.get(i + 2) {
        Some(':') => Ok(Some(i + 3)),
        Some('P' | '<') if !matches!(chars.get(i + 3), Some('=' | '!')) => {
            Ok(chars[i..].iter().position(|&c| c == '>').map(|p| i + p + 1))
        }
        _ => {
            let flags = chars[i + 2..]
                .iter()
                .position(|&c| c == ')' || c == ':')
                .map(|p| chars[i + 2 + p]);
            if flags == Some(')') {
                Err(())
            } else {
                Ok(None)
            }
        }
    }
}

/// Literals of which every match holds at least one: for a sequence, the most selective of
/// its runs of literal characters and of the sets of its groups; for alternatives, the union
/// of theirs. `None` when some match may hold none of them, or the expression sets flags
/// (case-insensitive text would not contain a literal as written).
fn required_literals(source: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = source.chars().collect();
    literals_in(&chars).ok().flatten()
}

/// `required_literals` of a part of an expression; `Err` when the whole expression must go
/// unchecked.
fn literals_in(chars: &[char]) -> Result<Option<Vec<String>>, ()> {
    // The most selective set: the longest shortest literal, then the fewest literals.
    fn consider(best: &mut Option<Vec<String>>, set: Vec<String>) {
        let score = |s: &Vec<String>| {
            (
                s.iter().map(String::len).min().unwrap_or(0),
                usize::MAX - s.len(),
            )
        };
        if best.as_ref().is_none_or(|b| score(&set) > score(b)) {
            *best = Some(set);
        }
    }
    let flush = |run: &mut String, best: &mut Option<Vec<String>>| {
        if !run.is_empty() {
            consider(best, vec![std::mem::take(run)]);
        }
    };
    let quantified = |j: usize| matches!(chars.get(j), Some('?' | '*' | '+' | '{'));
    let mut alternatives: Vec<String> = Vec::new();
    let mut unchecked = false;
    let mut best: Option<Vec<String>> = None;
    let mut run = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '(' => {
                flush(&mut run, &mut best);
                let Some(end) = group_end(chars, i) else {
                    return Ok(None);
                };
                if let Some(start) = group_start(chars, i)?
                    && !quantified(end + 1)
                    && let Some(set) = literals_in(&chars[start..end])?
                {
                    consider(&mut best, set);
                }
                i = end + 1;
                continue;
            }
            '[' => {
                flush(&mut run, &mut best);
                i = class_end(chars, i);
                continue;
            }
            '{' => {
                // A repetition count is no text.
                flush(&mut run, &mut best);
                i = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .map_or(chars.len(), |p| i + p + 1);
                continue;
            }
            '|' => {
                flush(&mut run, &mut best);
                match best.take() {
                    Some(set) => alternatives.extend(set),
                    None => unchecked = true,
                }
            }
            '\\' => {
                match chars.get(i + 1) {
                    Some(&e) if e.is_ascii_punctuation() && !quantified(i + 2) => run.push(e),
                    _ => flush(&mut run, &mut best),
                }
                i += 2;
                continue;
            }
            '.' | '^' | '$' | '*' | '+' | '?' | '}' | ')' => flush(&mut run, &mut best),
            // A quantifier makes the character before it optional or repeated.
            _ if quantified(i + 1) => flush(&mut run, &mut best),
            c => run.push(c),
        }
        i += 1;
    }
    flush(&mut run, &mut best);
    match best {
        Some(set) if !unchecked => {
            alternatives.extend(set);
            Ok(Some(alternatives))
        }
        _ => Ok(None),
    }
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

impl Pattern {
    /// Reads the literals every match holds; the expression is compiled on first use (a test
    /// compiles every pattern of the knowledge base).
    pub fn new(source: &str) -> Result<Self, String> {
        if source.is_empty() {
            return Err("empty pattern".into());
        }
        Ok(Pattern {
            source: source.to_string(),
            precheck: Precheck::of(source),
            regex: OnceLock::new(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| Regex::new(&self.source).ok())
            .as_ref()
    }

    fn may_match(&self, text: &str) -> bool {
        match &self.precheck {
            Precheck::None => true,
            Precheck::Contains(literal) => text.contains(literal.as_str()),
            Precheck::AnyOf(literals) => literals.iter().any(|l| text.contains(l.as_str())),
        }
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.may_match(text) && self.regex().is_some_and(|r| r.is_match(text))
    }

    pub fn captures<'t>(&self, text: &'t str) -> Option<Captures<'t>> {
        if !self.may_match(text) {
            return None;
        }
        self.regex()?.captures(text)
    }

    /// Compiles now (tests check that every pattern of the knowledge base compiles).
    pub fn compile(&self) -> Result<(), String> {
        Regex::new(&self.source)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_literal_every_match_holds_is_checked_first() {
        let host = Pattern::new(
            r"^(?P<a>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?P<r>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$",
        )
        .unwrap();
        assert_eq!(host.precheck, Precheck::Contains(".amazonaws.com".into()));
        assert!(!host.is_match("ghcr.io"));
        assert!(
            host.regex.get().is_none(),
            "compiled for a text that cannot match"
        );
        let caps = host
            .captures("123456789012.dkr.ecr.eu-central-1.amazonaws.com")
            .unwrap();
        assert_eq!(&caps["r"], "eu-central-1");

        let family = Pattern::new("^aws_iam_").unwrap();
        assert_eq!(family.precheck, Precheck::Contains("aws_iam_".into()));
        assert!(family.is_match("aws_iam_role") && !family.is_match("aws_s3_bucket"));
        let quantified = Pattern::new(r"^abc?d[x\]]y+z{2}$").unwrap();
        assert_eq!(quantified.precheck, Precheck::Contains("ab".into()));
        assert!(quantified.is_match("abd]yyzz") && quantified.is_match("abcdxyzz"));
    }

    #[test]
    fn alternations_and_flags_keep_every_match() {
        let hub = Pattern::new(r"^(?:docker\.io|index\.docker\.io)$").unwrap();
        assert_eq!(
            hub.precheck,
            Precheck::AnyOf(vec!["docker.io".into(), "index.docker.io".into()])
        );
        assert!(hub.is_match("docker.io") && hub.is_match("index.docker.io"));
        assert!(!hub.is_match("docker.io.example"));
        let top = Pattern::new("^ab|cd$").unwrap();
        assert!(top.is_match("xcd") && !top.is_match("xab"));
        assert_eq!(
            top.precheck,
            Precheck::AnyOf(vec!["ab".into(), "cd".into()])
        );
        // An alternative without a literal leaves the whole unchecked.
        let open = Pattern::new(r"(?:^|\.)stripe\.com$|^[a-z]+$").unwrap();
        assert_eq!(open.precheck, Precheck::None);
        assert!(open.is_match("abc"));
        // Counts are not text, optional groups are not required, the most selective set wins.
        let counted = Pattern::new(r"^[a-z]{12}$").unwrap();
        assert_eq!(counted.precheck, Precheck::None);
        let optional = Pattern::new(r"^(?:eu\.)?sentry\.io$").unwrap();
        assert_eq!(optional.precheck, Precheck::Contains("sentry.io".into()));
        let grouped =
            Pattern::new(r"^o[0-9]+\.(?:ingest\.de\.sentry\.io|de\.sentry\.io)$").unwrap();
        assert_eq!(
            grouped.precheck,
            Precheck::AnyOf(vec!["ingest.de.sentry.io".into(), "de.sentry.io".into()])
        );
        let scoped = Pattern::new(r"^(?i:abc)def$").unwrap();
        assert_eq!(scoped.precheck, Precheck::Contains("def".into()));
        assert!(scoped.is_match("ABCdef"));
        let nested_flags = Pattern::new(r"^x(?:(?i)abc)$").unwrap();
        assert_eq!(nested_flags.precheck, Precheck::None);
        let folded = Pattern::new("(?i)^abc$").unwrap();
        assert!(folded.is_match("ABC"));
        let lines = Pattern::new("(?m)^b$").unwrap();
        assert!(lines.is_match("a\nb\nc"));
        let any = Pattern::new(".*").unwrap();
        assert_eq!(any.precheck, Precheck::None);
        assert!(Pattern::new("").is_err());
    }
}
