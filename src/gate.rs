//! What makes a scan trustworthy as a CI gate: every path, rule id and category it is given
//! names something that exists (a typo is a usage error with the nearest valid names, never a
//! silent pass), and the run ends by saying why it passed or failed.

use crate::engine::Rule;
use crate::finding::Category;

/// Levenshtein distance over characters, ignoring ASCII case.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// The names a user may give for rules: ids, names and categories of the loaded rules.
pub struct Vocabulary<'a> {
    rules: &'a [Rule],
}

const CATEGORIES: [Category; 3] = [Category::Residency, Category::Gdpr, Category::Hyperscaler];

impl<'a> Vocabulary<'a> {
    pub fn new(rules: &'a [Rule]) -> Self {
        Vocabulary { rules }
    }

    /// Does a `--select`/`--ignore` term (id, id prefix, name or category) pick any rule?
    pub fn selects_any(&self, term: &str) -> bool {
        self.rules.iter().any(|r| r.selected_by(term))
    }

    /// Is `id` a rule id or name (as suppressions and severity overrides name rules)?
    pub fn is_rule(&self, id: &str) -> bool {
        self.rules
            .iter()
            .any(|r| r.id.eq_ignore_ascii_case(id) || r.name == id)
    }

    /// The valid names closest to `term` (at most three, nearest first).
    pub fn nearest(&self, term: &str, with_categories: bool) -> Vec<String> {
        let mut candidates: Vec<String> = Vec::new();
        for r in self.rules {
            candidates.push(r.id.clone());
            candidates.push(r.name.clone());
        }
        if with_categories {
            candidates.extend(CATEGORIES.iter().map(|c| c.as_str().to_string()));
        }
        let limit = (term.chars().count() / 3).max(2);
        let mut scored: Vec<(usize, String)> = candidates
            .into_iter()
            .map(|c| (edit_distance(term, &c), c))
            .filter(|(d, _)| *d <= limit)
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        let Some(best) = scored.first().map(|(d, _)| *d) else {
            return Vec::new();
        };
        scored
            .into_iter()
            .filter(|(d, _)| *d == best)
            .take(3)
            .map(|(_, c)| c)
            .collect()
    }

    /// ` (did you mean GDPR-009?)`, or a pointer to the rule list when nothing is close.
    pub fn hint(&self, term: &str, with_categories: bool) -> String {
        let nearest = self.nearest(term, with_categories);
        if nearest.is_empty() {
            "; `sovscan rules list` shows the rule ids".to_string()
        } else {
            format!("; did you mean {}?", nearest.join(" or "))
        }
    }
}

/// 1-based line and column of the first mention of `word` in a settings file (outside
/// comments), so an error about a value from the file can point at it.
pub fn position_in(text: &str, word: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let code = line.split(" #").next().unwrap_or(line);
        if code.trim_start().starts_with('#') {
            return None;
        }
        let mut from = 0;
        while let Some(at) = code[from..].find(word) {
            let start = from + at;
            let end = start + word.len();
            let before = code[..start].chars().next_back();
            let after = code[end..].chars().next();
            let boundary = |c: Option<char>| {
                c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            };
            if boundary(before) && boundary(after) {
                return Some((i + 1, start + 1));
            }
            from = end;
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("GDPR-999", "GDPR-009"), 2);
        assert_eq!(edit_distance("gdpr-009", "GDPR-009"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn positions_skip_comments_and_partial_words() {
        let text = "# GDPR-99 here\nselect: [GDPR-990, GDPR-99]\n";
        assert_eq!(position_in(text, "GDPR-99"), Some((2, 20)));
        assert_eq!(position_in(text, "RES-1"), None);
    }
}
