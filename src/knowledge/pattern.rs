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
}

/// The longest run of literal characters outside every group and class of an expression with
/// no alternation at its top level: every match contains it. `None` when there is none or the
/// expression sets flags (case-insensitive text would not contain the literal as written).
fn required_literal(source: &str) -> Option<String> {
    let mut best = String::new();
    let mut run = String::new();
    let mut depth = 0usize;
    let mut chars = source.chars().peekable();
    let end_run = |run: &mut String, best: &mut String| {
        if run.len() > best.len() {
            *best = std::mem::take(run);
        }
        run.clear();
    };
    while let Some(c) = chars.next() {
        let literal = match c {
            '(' if chars.peek() == Some(&'?') && depth == 0 => {
                // A flag group at the top level, `(?i)` or `(?i:`, changes what matches.
                let rest: String = chars
                    .clone()
                    .skip(1)
                    .take_while(|c| *c != ')' && *c != ':')
                    .collect();
                if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphabetic() || c == '-') {
                    return None;
                }
                depth += 1;
                None
            }
            '(' => {
                depth += 1;
                None
            }
            ')' => {
                depth = depth.saturating_sub(1);
                None
            }
            '[' => {
                // Skip the class, its nested classes and escapes included.
                let mut level = 1;
                let mut first = true;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        ']' if !first => {
                            level -= 1;
                            if level == 0 {
                                break;
                            }
                        }
                        '[' if chars.peek() == Some(&':') => {}
                        '[' => level += 1,
                        _ => {}
                    }
                    first = c == '^' && first;
                }
                None
            }
            '|' if depth == 0 => return None,
            '\\' => match chars.next() {
                Some(e) if e.is_ascii_punctuation() => Some(e),
                _ => None,
            },
            '.' | '^' | '$' | '|' | '*' | '+' | '?' | '{' | '}' => None,
            other => Some(other),
        };
        // A quantifier makes the character before it optional or repeated.
        let quantified = matches!(chars.peek(), Some('?' | '*' | '{' | '+'));
        match literal {
            Some(c) if depth == 0 && !quantified => run.push(c),
            _ => end_run(&mut run, &mut best),
        }
    }
    end_run(&mut run, &mut best);
    (!best.is_empty()).then_some(best)
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
            precheck: required_literal(source).map_or(Precheck::None, Precheck::Contains),
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
        assert_eq!(hub.precheck, Precheck::None);
        assert!(hub.is_match("docker.io") && hub.is_match("index.docker.io"));
        assert!(!hub.is_match("docker.io.example"));
        let top = Pattern::new("^ab|cd$").unwrap();
        assert!(top.is_match("xcd") && top.precheck == Precheck::None);
        let folded = Pattern::new("(?i)^abc$").unwrap();
        assert!(folded.is_match("ABC"));
        let lines = Pattern::new("(?m)^b$").unwrap();
        assert!(lines.is_match("a\nb\nc"));
        let any = Pattern::new(".*").unwrap();
        assert_eq!(any.precheck, Precheck::None);
        assert!(Pattern::new("").is_err());
    }
}
