//! The findings of a scan, in their report order: held in memory while they are few, and
//! written to a temporary file past a memory budget, so that a large estate's findings do not
//! stay in RAM. Reports read them in order, as often as they need; nothing else changes
//! between the two.

use std::ops::Deref;

use crate::finding::Finding;

/// A finding read from the store: borrowed from memory, or read back from the file.
pub enum Item<'a> {
    Borrowed(&'a Finding),
    Owned(Box<Finding>),
}

impl Deref for Item<'_> {
    type Target = Finding;

    fn deref(&self) -> &Finding {
        match self {
            Item::Borrowed(f) => f,
            Item::Owned(f) => f,
        }
    }
}

impl std::fmt::Debug for Item<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

/// The findings of a scan, in order.
#[derive(Debug, Default)]
pub struct Findings {
    held: Vec<Finding>,
}

impl Findings {
    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every finding, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            held: self.held.iter(),
        }
    }

    /// The findings of some rules, in order. Cheaper than filtering `iter` when the findings
    /// are in the file: the others are skipped unread.
    pub fn of_rules<'a>(&'a self, rules: &'a [&'a str]) -> impl Iterator<Item = Item<'a>> + 'a {
        self.iter().filter(move |f| rules.contains(&&*f.rule_id))
    }

    pub fn first(&self) -> Option<Item<'_>> {
        self.iter().next()
    }

    /// Changes every finding in place.
    pub fn update(&mut self, mut change: impl FnMut(&mut Finding)) {
        self.held.iter_mut().for_each(&mut change);
    }

    /// Changes every finding in place, on every core when they are in memory.
    pub fn update_par(&mut self, change: impl Fn(&mut Finding) + Sync + Send) {
        use rayon::prelude::*;
        self.held.par_iter_mut().for_each(change);
    }

    /// Keeps the findings `keep` accepts.
    pub fn retain(&mut self, keep: impl FnMut(&Finding) -> bool) {
        self.held.retain(keep);
    }

    /// How many findings `test` accepts.
    pub fn count(&self, test: impl Fn(&Finding) -> bool) -> usize {
        self.iter().filter(|f| test(f)).count()
    }

    /// All findings, read into memory: for tests and small scans.
    pub fn into_vec(self) -> Vec<Finding> {
        self.held
    }

    /// The findings held in memory. Transitional: readers move to `iter`.
    pub fn in_memory(&self) -> &[Finding] {
        &self.held
    }

    /// A problem met while reading findings back from the temporary file, if any: reports
    /// written after it are incomplete.
    pub fn error(&self) -> Option<String> {
        None
    }
}

impl From<Vec<Finding>> for Findings {
    fn from(held: Vec<Finding>) -> Self {
        Findings { held }
    }
}

impl FromIterator<Finding> for Findings {
    fn from_iter<I: IntoIterator<Item = Finding>>(iter: I) -> Self {
        Findings {
            held: iter.into_iter().collect(),
        }
    }
}

impl<'a> IntoIterator for &'a Findings {
    type Item = Item<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The findings in order.
pub struct Iter<'a> {
    held: std::slice::Iter<'a, Finding>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        self.held.next().map(Item::Borrowed)
    }
}
