//! The findings of a scan, in their report order: held in memory while they are few, and
//! written to a temporary file past a memory budget, so that a large estate's findings do not
//! stay in RAM. Reports read them in order, as often as they need; nothing else changes
//! between the two.
//!
//! While a scan runs, a [`Collector`] takes each unit's findings. Past its budget it encodes
//! each finding as it comes, and every few MiB of records it sorts them and writes them as a
//! run to a temporary file; at the end the runs are merged into one file in report order,
//! counted as they are written. The file is deleted when the findings are dropped.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::ops::{Deref, Range};
use std::sync::{Arc, Mutex};

use crate::baseline::BaselineState;
use crate::finding::{Category, Finding, ResourceRef, Severity};
use crate::location::Location;
use crate::suppress::Suppression;

/// Bytes of findings (as estimated) a scan holds in memory before it encodes them for a
/// temporary file, and the unit of the runs it writes there (`RUN_BUDGETS`);
/// `SOVSCAN_FINDINGS_MEMORY` (bytes) sets another budget. Findings take more memory than their
/// estimate says: when they were held until written, a budget of 4 MiB gave peaks of 86-91 MB
/// on a 200 MB corpus and 81-96 MB on a 200 MB AWS Config snapshot, 1 MiB 77-84 MB and
/// 76-92 MB.
pub const DEFAULT_BUDGET: usize = 1 << 20;

/// The budget of this process: `SOVSCAN_FINDINGS_MEMORY`, else [`DEFAULT_BUDGET`].
pub fn budget() -> usize {
    std::env::var("SOVSCAN_FINDINGS_MEMORY")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_BUDGET)
}

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
    file: Option<Stored>,
    /// The first problem met writing or reading the file: reports made after it are
    /// incomplete, and the scan fails.
    error: Arc<Mutex<Option<String>>>,
}

/// Findings in a temporary file, in order.
#[derive(Debug)]
struct Stored {
    file: tempfile::NamedTempFile,
    len: usize,
    table: Table,
    counts: Counts,
}

impl Findings {
    pub fn len(&self) -> usize {
        self.file.as_ref().map_or(self.held.len(), |s| s.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the findings are in a temporary file rather than in memory.
    pub fn on_disk(&self) -> bool {
        self.file.is_some()
    }

    /// Every finding, in order.
    pub fn iter(&self) -> Iter<'_> {
        self.read(None)
    }

    /// The findings in order, `batch` at a time, each batch cut into pieces of `piece` findings
    /// that `make` turns into something on every core; `take` gets what is made in order. From
    /// the file, records are read here and decoded, and dropped, where `make` runs. A record
    /// that cannot be read ends the pass, as it ends `iter`, with the error kept.
    pub fn par_pieces<R: Send>(
        &self,
        batch: usize,
        piece: usize,
        make: impl Fn(&[&Finding]) -> std::io::Result<R> + Sync,
        mut take: impl FnMut(R) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        use rayon::prelude::*;
        let Some(stored) = &self.file else {
            for held in self.held.chunks(batch) {
                let made = held
                    .par_chunks(piece)
                    .map(|p| make(&p.iter().collect::<Vec<_>>()))
                    .collect::<std::io::Result<Vec<R>>>()?;
                made.into_iter().try_for_each(&mut take)?;
            }
            return Ok(());
        };
        let mut reader = match stored.file.reopen() {
            Ok(file) => BufReader::with_capacity(1 << 16, file),
            Err(e) => {
                self.fail(format!("cannot read the findings back: {e}"));
                return Ok(());
            }
        };
        let names = &stored.table.names;
        let mut left = stored.len;
        // Reads the next batch's records one after another, and where each lies; false when a
        // record cannot be read (the pass ends).
        let mut read_batch = |records: &mut Vec<u8>, spans: &mut Vec<Range<usize>>| {
            records.clear();
            spans.clear();
            while left > 0 && spans.len() < batch {
                left -= 1;
                let start = records.len();
                if let Err(e) = read_record_onto(&mut reader, records) {
                    self.fail(format!("cannot read the findings back: {e}"));
                    left = 0;
                    return false;
                }
                spans.push(start..records.len());
            }
            true
        };
        // A batch is made on every core while this thread hands the one before to `take` and
        // reads the one after: reading and writing do not leave the cores waiting.
        let (mut records, mut spans) = (Vec::new(), Vec::new());
        let (mut next_records, mut next_spans) = (Vec::new(), Vec::new());
        let mut reading = read_batch(&mut records, &mut spans);
        let mut made: Vec<std::io::Result<std::io::Result<R>>> = Vec::new();
        loop {
            let mut making = Vec::new();
            // Whether the pass goes on once the batch before is taken.
            let mut taken: std::io::Result<bool> = Ok(true);
            rayon::in_place_scope(|scope| {
                if !spans.is_empty() {
                    scope.spawn(|_| {
                        making = spans
                            .par_chunks(piece)
                            .map(|spans| {
                                let findings = spans
                                    .iter()
                                    .map(|span| decode_record(&records[span.clone()], names))
                                    .collect::<std::io::Result<Vec<Finding>>>();
                                findings.map(|f| make(&f.iter().collect::<Vec<_>>()))
                            })
                            .collect();
                    });
                }
                taken = (|| {
                    for m in made.drain(..) {
                        match m {
                            Ok(m) => take(m?)?,
                            Err(e) => {
                                self.fail(format!("cannot read the findings back: {e}"));
                                return Ok(false);
                            }
                        }
                    }
                    Ok(true)
                })();
                next_spans.clear();
                if reading && matches!(taken, Ok(true)) {
                    reading = read_batch(&mut next_records, &mut next_spans);
                }
            });
            if !taken? || spans.is_empty() {
                return Ok(());
            }
            made = making;
            std::mem::swap(&mut records, &mut next_records);
            std::mem::swap(&mut spans, &mut next_spans);
        }
    }

    /// The findings of some rules, in order. Cheaper than filtering `iter` when the findings
    /// are in the file: the others are skipped unread.
    pub fn of_rules<'a>(&'a self, rules: &'a [&'a str]) -> Iter<'a> {
        self.read(Some(rules))
    }

    /// The findings of some rules (all with `None`) as framework controls list them, in
    /// order. From the file only those fields are read, not whole findings.
    pub fn listed<'a>(&'a self, rules: Option<&'a [&'a str]>) -> Listings<'a> {
        let Some(stored) = &self.file else {
            return Listings(Listing::Held(self.held.iter().enumerate(), rules));
        };
        Listings(Listing::File(self.file_iter(stored, rules, decode_listed)))
    }

    /// The findings counted by rule, category, severity and state, in no set order. From the
    /// file, the counts were taken as it was written.
    pub fn counts(&self) -> Vec<Count> {
        let mut counts: HashMap<(Arc<str>, Category, Severity, bool, bool), Count> = HashMap::new();
        let mut add = |texts: (&Arc<str>, &Arc<[String]>), kind, n| {
            let (category, severity, suppressed, in_baseline) = kind;
            counts
                .entry((
                    Arc::clone(texts.0),
                    category,
                    severity,
                    suppressed,
                    in_baseline,
                ))
                .or_insert_with(|| Count {
                    rule_id: Arc::clone(texts.0),
                    category,
                    severity,
                    references: Arc::clone(texts.1),
                    suppressed,
                    in_baseline,
                    findings: 0,
                })
                .findings += n;
        };
        match &self.file {
            None => {
                for f in &self.held {
                    let kind = (f.category, f.severity, f.is_suppressed(), f.is_baseline());
                    add((&f.rule_id, &f.references), kind, 1);
                }
            }
            Some(stored) => {
                let rules = &stored.table.names.rules;
                for (&(rule, category, severity, suppressed, in_baseline), &n) in &stored.counts.0 {
                    if let Some(texts) = rules.get(rule) {
                        let kind = (category, severity, suppressed, in_baseline);
                        add((&texts.rule_id, &texts.references), kind, n);
                    }
                }
            }
        }
        counts.into_values().collect()
    }

    fn file_iter<'a, T>(
        &'a self,
        stored: &'a Stored,
        rules: Option<&'a [&'a str]>,
        decode: Decode<T>,
    ) -> FileIter<'a, T> {
        let reader = match stored.file.reopen() {
            Ok(file) => Some(BufReader::with_capacity(1 << 16, file)),
            Err(e) => {
                self.fail(format!("cannot read the findings back: {e}"));
                None
            }
        };
        let wanted = rules.map(|names| {
            stored
                .table
                .names
                .rules
                .iter()
                .map(|r| names.contains(&&*r.rule_id))
                .collect()
        });
        FileIter {
            reader,
            names: &stored.table.names,
            len: stored.len,
            left: stored.len,
            wanted,
            record: Vec::new(),
            error: &self.error,
            decode,
        }
    }

    fn read<'a>(&'a self, rules: Option<&'a [&'a str]>) -> Iter<'a> {
        let Some(stored) = &self.file else {
            return Iter {
                source: Source::Held(self.held.iter()),
                rules,
            };
        };
        Iter {
            source: Source::File(self.file_iter(stored, rules, decode)),
            rules,
        }
    }

    /// Changes every finding in place.
    pub fn update(&mut self, mut change: impl FnMut(&mut Finding)) {
        if self.file.is_none() {
            self.held.iter_mut().for_each(&mut change);
            return;
        }
        self.rewrite(|batch| {
            batch.iter_mut().for_each(&mut change);
        });
    }

    /// Changes every finding in place, on every core.
    pub fn update_par(&mut self, change: impl Fn(&mut Finding) + Sync + Send) {
        use rayon::prelude::*;
        if self.file.is_none() {
            self.held.par_iter_mut().for_each(change);
            return;
        }
        self.rewrite(|batch| batch.par_iter_mut().for_each(&change));
    }

    /// Keeps the findings `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&Finding) -> bool) {
        if self.file.is_none() {
            self.held.retain(keep);
            return;
        }
        self.rewrite(|batch| batch.retain(|f| keep(f)));
    }

    /// Reads the file batch by batch, lets `change` edit each batch, and writes what it
    /// leaves to a new file that takes the old one's place.
    fn rewrite(&mut self, mut change: impl FnMut(&mut Vec<Finding>)) {
        const BATCH: usize = 4096;
        let Some(stored) = self.file.take() else {
            return;
        };
        let written = (|| -> std::io::Result<Stored> {
            let mut out = Writer::named()?;
            let mut table = Table {
                paths_in_records: stored.table.paths_in_records,
                ..Table::default()
            };
            let mut read = FileIter {
                reader: Some(BufReader::with_capacity(1 << 16, stored.file.reopen()?)),
                names: &stored.table.names,
                len: stored.len,
                left: stored.len,
                wanted: None,
                record: Vec::new(),
                error: &self.error,
                decode,
            };
            let mut batch = Vec::with_capacity(BATCH);
            let mut len = 0;
            loop {
                batch.extend(std::iter::from_fn(|| read.next()).take(BATCH));
                if batch.is_empty() {
                    break;
                }
                change(&mut batch);
                for f in batch.drain(..) {
                    out.push(&f, &mut table)?;
                    len += 1;
                }
            }
            out.stored(len, table)
        })();
        match written {
            Ok(new) => self.file = Some(new),
            Err(e) => {
                self.fail(format!(
                    "cannot write the findings to a temporary file: {e}"
                ));
                self.file = Some(stored);
            }
        }
    }

    /// All findings, read into memory: for tests and small scans.
    pub fn into_vec(self) -> Vec<Finding> {
        if self.file.is_none() {
            return self.held;
        }
        self.iter()
            .map(|item| match item {
                Item::Owned(f) => *f,
                Item::Borrowed(f) => f.clone(),
            })
            .collect()
    }

    /// A problem met writing findings to the temporary file or reading them back, if any:
    /// reports written after it are incomplete.
    pub fn error(&self) -> Option<String> {
        self.error.lock().map_or(None, |e| e.clone())
    }

    fn fail(&self, message: String) {
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert(message);
        }
    }
}

impl From<Vec<Finding>> for Findings {
    fn from(held: Vec<Finding>) -> Self {
        Findings {
            held,
            ..Default::default()
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
    source: Source<'a>,
    rules: Option<&'a [&'a str]>,
}

enum Source<'a> {
    Held(std::slice::Iter<'a, Finding>),
    File(FileIter<'a, Finding>),
}

/// Reads a record, its rule's index read already, into what an iterator gives.
type Decode<T> = fn(&mut Input, usize, &Names) -> std::io::Result<T>;

struct FileIter<'a, T> {
    reader: Option<BufReader<std::fs::File>>,
    names: &'a Names,
    /// The records of the file, and those not read yet.
    len: usize,
    left: usize,
    /// With `of_rules`: whether each rule of the table is wanted.
    wanted: Option<Vec<bool>>,
    record: Vec<u8>,
    error: &'a Mutex<Option<String>>,
    decode: Decode<T>,
}

/// What a framework control lists of a finding and what its listing is ordered by, and what
/// the summary and the gate count of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub rule_id: Arc<str>,
    pub category: Category,
    pub severity: Severity,
    pub references: Arc<[String]>,
    pub path: Arc<str>,
    pub line: u32,
    pub address: String,
    pub fingerprint: String,
    pub suppressed: bool,
    /// In the baseline (`Finding::is_baseline`).
    pub in_baseline: bool,
    /// Where the finding stands among all the findings, in report order, from 0.
    pub position: usize,
}

impl Listed {
    fn of(position: usize, f: &Finding) -> Listed {
        Listed {
            rule_id: Arc::clone(&f.rule_id),
            category: f.category,
            severity: f.severity,
            references: Arc::clone(&f.references),
            path: Arc::clone(&f.location.path),
            line: f.location.start_line,
            address: f.resource.address.clone(),
            fingerprint: f.fingerprint.clone(),
            suppressed: f.is_suppressed(),
            in_baseline: f.is_baseline(),
            position,
        }
    }

    /// Neither suppressed nor in the baseline (`Finding::is_active`).
    pub fn is_active(&self) -> bool {
        !self.suppressed && !self.in_baseline
    }
}

/// Findings of one rule, category, severity and state, counted: what the summary and the gate
/// count (`Findings::counts`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Count {
    pub rule_id: Arc<str>,
    pub category: Category,
    pub severity: Severity,
    pub references: Arc<[String]>,
    pub suppressed: bool,
    /// In the baseline (`Finding::is_baseline`).
    pub in_baseline: bool,
    pub findings: usize,
}

impl Count {
    /// Neither suppressed nor in the baseline (`Finding::is_active`).
    pub fn is_active(&self) -> bool {
        !self.suppressed && !self.in_baseline
    }
}

/// The findings of a file, counted as they are written, so that counting them needs no pass
/// over the file: by rule (its index in the table), category, severity, suppressed, in the
/// baseline.
#[derive(Debug, Default)]
struct Counts(foldhash::HashMap<(usize, Category, Severity, bool, bool), usize>);

impl Counts {
    /// Counts the record that `key` was read from.
    fn add(&mut self, key: &Key) {
        self.count((
            key.rule,
            key.category,
            key.severity,
            key.suppressed,
            key.in_baseline,
        ));
    }

    /// Counts `f`, written with the rule of index `rule`.
    fn add_finding(&mut self, rule: usize, f: &Finding) {
        self.count((
            rule,
            f.category,
            f.severity,
            f.is_suppressed(),
            f.is_baseline(),
        ));
    }

    fn count(&mut self, kind: (usize, Category, Severity, bool, bool)) {
        *self.0.entry(kind).or_default() += 1;
    }
}

/// The findings in order as controls list them: `Findings::listed`.
pub struct Listings<'a>(Listing<'a>);

enum Listing<'a> {
    Held(
        std::iter::Enumerate<std::slice::Iter<'a, Finding>>,
        Option<&'a [&'a str]>,
    ),
    File(FileIter<'a, Listed>),
}

impl Iterator for Listings<'_> {
    type Item = Listed;

    fn next(&mut self) -> Option<Listed> {
        match &mut self.0 {
            Listing::Held(held, None) => held.next().map(|(n, f)| Listed::of(n, f)),
            Listing::Held(held, Some(rules)) => held
                .find(|(_, f)| rules.contains(&&*f.rule_id))
                .map(|(n, f)| Listed::of(n, f)),
            Listing::File(file) => {
                let mut listed = file.next()?;
                listed.position = file.len - file.left - 1;
                Some(listed)
            }
        }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        match &mut self.source {
            Source::Held(held) => match self.rules {
                None => held.next().map(Item::Borrowed),
                Some(rules) => held
                    .find(|f| rules.contains(&&*f.rule_id))
                    .map(Item::Borrowed),
            },
            Source::File(file) => file.next().map(|f| Item::Owned(Box::new(f))),
        }
    }
}

impl<T> FileIter<'_, T> {
    fn next(&mut self) -> Option<T> {
        loop {
            if self.left == 0 {
                return None;
            }
            let reader = self.reader.as_mut()?;
            self.left -= 1;
            let read =
                read_wanted(reader, &mut self.record, self.wanted.as_deref()).and_then(|rule| {
                    match rule {
                        Some(rule) => {
                            (self.decode)(&mut Input::new(&self.record), rule, self.names).map(Some)
                        }
                        None => Ok(None),
                    }
                });
            match read {
                Ok(Some(finding)) => return Some(finding),
                Ok(None) => continue,
                Err(e) => {
                    if let Ok(mut slot) = self.error.lock() {
                        slot.get_or_insert(format!("cannot read the findings back: {e}"));
                    }
                    self.reader = None;
                    return None;
                }
            }
        }
    }
}

/// Takes the findings of a scan's units as they come, and gives them back in report order.
pub struct Collector {
    budget: usize,
    /// Bytes of encoded findings held before they are written as a run (`RUN_BUDGETS` budgets).
    run_bytes: usize,
    /// Where findings at the marker lines of rendered documents belong: they are moved there
    /// as they come, before they are ordered.
    relocations: crate::render::Relocations,
    /// The change made to each finding as it comes, once it is moved (`ScanRequest::adjust`).
    adjust: crate::scan::Adjust,
    /// The findings taken and not yet written: units go on adding while a run is written.
    taking: Mutex<Taking>,
    /// Whether records carry their paths' text rather than an index into the table: see
    /// `paths_in_records`.
    paths_in_records: bool,
    /// Taken as the findings come, so that no pass over them is needed later; apart from
    /// `taking`, so that reading them does not hold up units adding findings.
    ties: Mutex<Ties>,
    state: Mutex<Collecting>,
}

/// How many budgets of encoded records make a run. A record takes a fraction of the memory of
/// the finding it holds, so a run holds several times the findings a budget of them would.
/// A run is held twice over, while it is sorted and written and the next fills: the 200 MB
/// corpus and the 200 MB AWS Config snapshot of the benchmark (about 260 MB of records each)
/// make 60-70 runs of 4 MiB, merged once, at the end (`FAN_IN`). Runs of one budget, as
/// findings held until written, made 750-900 temporary files there (84 and 100 now), and
/// merged their findings twice.
const RUN_BUDGETS: usize = 4;

/// The most a run's buffer is made ready for at once.
const MAX_ROOM: usize = 1 << 26;

#[derive(Default)]
struct Taking {
    held: Vec<Finding>,
    /// What `held` weighs, roughly, in bytes.
    weight: usize,
    /// Once the findings taken outgrow the budget, each is encoded as it comes, and `held`
    /// stays empty.
    encoding: Option<Encoding>,
}

/// Findings encoded as they come, and the table of the texts their records share.
#[derive(Default)]
struct Encoding {
    table: Table,
    records: Records,
    /// The buffers of the last run written, emptied, to take the next: a run's buffers are
    /// made once, not once a run.
    spare: Option<Records>,
}

/// Records not yet written, one after another, with what orders them.
#[derive(Default)]
struct Records {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

/// Where a record ends in `Records::bytes` (it starts where the one before ends), and the
/// texts of its indexes that order it, so that a run is sorted without the table.
struct Entry {
    end: usize,
    path: Arc<str>,
    rule: Arc<str>,
}

impl Records {
    fn push(&mut self, f: &Finding, table: &mut Table) {
        encode(f, table, &mut self.bytes);
        self.entries.push(Entry {
            end: self.bytes.len(),
            path: Arc::clone(&f.location.path),
            rule: Arc::clone(&f.rule_id),
        });
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.entries.clear();
    }

    /// The records sorted in report order, with duplicates dropped, written as a run.
    fn write_run(&self) -> std::io::Result<Run> {
        use rayon::prelude::*;
        let starts = std::iter::once(0).chain(self.entries.iter().map(|e| e.end));
        let records: Vec<&[u8]> = (starts.zip(&self.entries))
            .map(|(start, entry)| &self.bytes[start..entry.end])
            .collect();
        // Room for all of them at once: collected through `Result`, the vector would grow by
        // doubling, moving the keys read so far each time.
        let mut keys = Vec::with_capacity(records.len());
        for record in &records {
            keys.push(Key::read(record)?);
        }
        let mut sides: Vec<Side> = (records.iter().zip(&keys).zip(&self.entries))
            .map(|((record, key), entry)| Side {
                record,
                key,
                path: entry.path.as_bytes(),
                rule: &entry.rule,
            })
            .collect();
        sides.par_sort_by(Key::order);
        // As `engine::finish` drops them: the first of each stays.
        sides.dedup_by(|later, first| Key::same_place(first, later));
        let mut out = Writer::unnamed()?;
        sides.iter().try_for_each(|s| out.copy(s.record))?;
        out.run(sides.len(), 0)
    }
}

/// What the last merge of the findings does to each (`Collector::finish_with`).
pub trait Change {
    /// Whether `change` leaves every finding of the resource at `address` in `path` as it is:
    /// those are copied without being decoded.
    fn leaves_alone(&self, path: &str, address: &str) -> bool;
    fn change(&mut self, finding: &mut Finding);
}

/// No change.
struct Unchanged;

impl Change for Unchanged {
    fn leaves_alone(&self, _: &str, _: &str) -> bool {
        true
    }

    fn change(&mut self, _: &mut Finding) {}
}

/// The runs written.
struct Collecting {
    runs: Vec<Run>,
    error: Option<String>,
    /// How many runs of one level are merged into one of the next: [`FAN_IN`].
    fan_in: usize,
}

impl Default for Collecting {
    fn default() -> Self {
        Collecting {
            runs: Vec::new(),
            error: None,
            fan_in: FAN_IN,
        }
    }
}

/// Providers other than its own each resource is tied to by any rule's finding, keyed by
/// (path, address): a Kubernetes load balancer annotated for AWS is tied to AWS whatever rules
/// were run.
pub type Ties = std::collections::BTreeMap<(String, String), std::collections::BTreeSet<String>>;

/// Records the provider a finding ties its resource to, when it is not the resource's own
/// (which the summary counts anyway).
pub fn tie(ties: &mut Ties, f: &Finding) {
    if let Some(p) = f.resource.provider.as_ref().filter(|_| f.resource.tied) {
        ties.entry((f.location.path.to_string(), f.resource.address.clone()))
            .or_default()
            .insert(p.clone());
    }
}

/// Findings sorted in report order, in an unnamed temporary file.
struct Run {
    file: std::fs::File,
    len: usize,
    /// How many merges its findings went through.
    level: u32,
}

impl Collector {
    pub fn new(budget: usize, relocations: Vec<crate::load::Relocation>) -> Self {
        Collector {
            budget,
            run_bytes: budget.saturating_mul(RUN_BUDGETS),
            relocations: crate::render::relocations(relocations),
            adjust: crate::scan::Adjust::default(),
            taking: Mutex::new(Taking::default()),
            paths_in_records: false,
            ties: Mutex::new(Ties::new()),
            state: Mutex::new(Collecting::default()),
        }
    }

    /// Writes each record's paths into it instead of naming them by an index into a table the
    /// store holds until the scan ends. For the inputs of a live source, each named by its own
    /// address and that address named by the findings of that input only: a table of them
    /// would grow with every input read.
    pub fn paths_in_records(mut self) -> Self {
        self.paths_in_records = true;
        self
    }

    /// Makes `adjust` to each finding added, after moving it, before the findings are ordered.
    pub fn adjusting(mut self, adjust: crate::scan::Adjust) -> Self {
        self.adjust = adjust;
        self
    }

    /// Moves a finding at a marker line of a rendered document to the place it stands for.
    pub fn relocate(&self, finding: &mut Finding) {
        if !self.relocations.is_empty() {
            crate::render::relocate(finding, &self.relocations);
        }
    }

    /// Takes some findings. Past the budget, they are encoded as they come, and what is
    /// encoded goes to a temporary file as a run every `run_bytes`.
    pub fn add(&self, mut findings: Vec<Finding>) {
        if findings.is_empty() {
            return;
        }
        findings.iter_mut().for_each(|f| {
            // A fingerprint not rebased by the adjustment names the path the finding was
            // made with, before any relocation.
            let made_at = f
                .fingerprint
                .is_empty()
                .then(|| Arc::clone(&f.location.path));
            self.relocate(f);
            self.adjust.apply(f);
            if let Some(path) = made_at {
                f.fingerprint_unmade(&path);
            }
        });
        if let Ok(mut ties) = self.ties.lock() {
            findings.iter().for_each(|f| tie(&mut ties, f));
        }
        let (full, switched) = {
            let Ok(mut taking) = self.taking.lock() else {
                return;
            };
            let taking = &mut *taking;
            let mut switched = Vec::new();
            let encoding = match &mut taking.encoding {
                Some(encoding) => encoding,
                None => {
                    taking.weight += findings.iter().map(weight).sum::<usize>();
                    taking.held.append(&mut findings);
                    if taking.weight <= self.budget {
                        return;
                    }
                    switched = std::mem::take(&mut taking.held);
                    taking.encoding.insert(Encoding {
                        table: Table {
                            paths_in_records: self.paths_in_records,
                            ..Table::default()
                        },
                        ..Encoding::default()
                    })
                }
            };
            if encoding.records.bytes.capacity() == 0 {
                // Room for a run and the unit that ends it: grown by doubling, the buffer
                // would take up to twice a run.
                let room = self.run_bytes.saturating_add(self.run_bytes / 4);
                encoding.records.bytes.reserve(room.min(MAX_ROOM));
            }
            for f in switched.iter().chain(&findings) {
                encoding.records.push(f, &mut encoding.table);
            }
            let full = (encoding.records.bytes.len() >= self.run_bytes).then(|| {
                let next = encoding.spare.take().unwrap_or_default();
                std::mem::replace(&mut encoding.records, next)
            });
            (full, switched)
        };
        // Freed, sorted and written while other units go on adding.
        drop((findings, switched));
        let Some(mut records) = full else {
            return;
        };
        let run = records.write_run();
        records.clear();
        if let Ok(mut taking) = self.taking.lock()
            && let Some(encoding) = &mut taking.encoding
        {
            encoding.spare.get_or_insert(records);
        }
        if let Ok(mut state) = self.state.lock() {
            state.keep_run(run);
            state.consolidate(|| self.names());
        }
    }

    /// The texts the records written so far stand for.
    fn names(&self) -> Names {
        match self.taking.lock() {
            Ok(taking) => taking
                .encoding
                .as_ref()
                .map(|e| e.table.names.clone())
                .unwrap_or_default(),
            Err(_) => Names::default(),
        }
    }

    /// Takes the provider ties of findings that are not reported (those of rules left out of
    /// the selection), moved as `add` moves findings.
    pub fn tie(&self, mut findings: Vec<Finding>) {
        findings.retain(|f| f.resource.tied);
        if findings.is_empty() {
            return;
        }
        findings.iter_mut().for_each(|f| self.relocate(f));
        if let Ok(mut ties) = self.ties.lock() {
            findings.iter().for_each(|f| tie(&mut ties, f));
        }
    }

    /// Fails the scan with `message`, as a store that cannot be written does.
    pub fn fail(&self, message: String) {
        if let Ok(mut state) = self.state.lock() {
            state.error.get_or_insert(message);
        }
    }

    /// Reads the provider ties of the findings taken so far.
    pub fn with_ties<R>(&self, read: impl FnOnce(&Ties) -> R) -> R {
        match self.ties.lock() {
            Ok(ties) => read(&ties),
            Err(_) => read(&Ties::new()),
        }
    }

    /// The findings taken, sorted in report order with duplicates removed.
    pub fn finish(&self) -> Findings {
        self.finish_with(&mut Unchanged)
    }

    /// `finish`, with `change` made to each finding, in report order, as it is merged.
    pub fn finish_with(&self, change: &mut impl Change) -> Findings {
        let (mut held, encoding) = match self.taking.lock() {
            Ok(mut taking) => (std::mem::take(&mut taking.held), taking.encoding.take()),
            Err(_) => (Vec::new(), None),
        };
        let mut state = match self.state.lock() {
            Ok(mut state) => std::mem::take(&mut *state),
            Err(_) => Collecting::default(),
        };
        let error = Arc::new(Mutex::new(state.error.take()));
        // Runs are written only once findings are encoded.
        let Some(Encoding {
            records, mut table, ..
        }) = encoding
        else {
            crate::engine::finish(&mut held);
            held.iter_mut().for_each(|f| change.change(f));
            return Findings {
                held,
                file: None,
                error,
            };
        };
        if !records.entries.is_empty() {
            state.keep_run(records.write_run());
        }
        if let Some(e) = state.error.take()
            && let Ok(mut slot) = error.lock()
        {
            slot.get_or_insert(e);
        }
        let runs = std::mem::take(&mut state.runs);
        let names = table.names.clone();
        let merged = Writer::named().and_then(|mut out| {
            let len = merge_aside(runs, &names, |record, key| {
                let address = std::str::from_utf8(&record[key.address.clone()]);
                let path = std::str::from_utf8(key.path_text(record, &names));
                if let (Ok(path), Ok(address)) = (path, address)
                    && change.leaves_alone(path, address)
                {
                    return out.keep(record, key);
                }
                let mut finding = decode_record(record, &names)?;
                change.change(&mut finding);
                out.push(&finding, &mut table)
            })?;
            out.stored(len, table)
        });
        let file = match merged {
            Ok(stored) => Some(stored),
            Err(e) => {
                if let Ok(mut slot) = error.lock() {
                    slot.get_or_insert(format!("cannot merge the findings: {e}"));
                }
                None
            }
        };
        Findings {
            held: Vec::new(),
            file,
            error,
        }
    }
}

impl Collecting {
    /// Merges `fan_in` runs of one level into one of the next, while a level holds that many:
    /// few files stay open, and each finding is written again once a level, not once a merge.
    /// `names` gives the texts of the records' indexes, asked for only when runs are merged.
    fn consolidate(&mut self, names: impl FnOnce() -> Names) {
        let names = std::cell::LazyCell::new(names);
        while let Some(level) = self.runs.last().map(|r| r.level) {
            if self.runs.iter().filter(|r| r.level == level).count() < self.fan_in {
                return;
            }
            let (runs, rest): (Vec<Run>, Vec<Run>) = std::mem::take(&mut self.runs)
                .into_iter()
                .partition(|r| r.level == level);
            self.runs = rest;
            let merged = Writer::unnamed().and_then(|mut out| {
                // The runs share the table: their records are copied as they are.
                let len = merge(runs, &names, |record, _| out.copy(record).map(|()| true))?;
                out.run(len, level + 1)
            });
            self.keep_run(merged);
        }
    }

    fn keep_run(&mut self, run: std::io::Result<Run>) {
        match run {
            Ok(run) => self.runs.push(run),
            Err(e) => {
                self.error.get_or_insert(format!(
                    "cannot write the findings to a temporary file: {e}"
                ));
            }
        }
    }
}

/// How many runs are merged at once: each holds an open file and a read buffer. A wider merge
/// writes fewer findings twice: with runs of one budget on a 200 MB AWS Config snapshot, 64
/// took 7.9-8.1 s of CPU against 8.2-8.4 s with 16, at the same peak memory. Past 64, the
/// benchmark's 200 MB inputs are merged once.
const FAN_IN: usize = 128;

/// The read buffers of the runs being merged, together: a merge of `FAN_IN` runs holds 32 KiB
/// for each, one of fewer runs up to 64 KiB. With 8 KiB each, a scan of the 200 MB AWS Config
/// snapshot of the benchmark (69 temporary files) made 33,522 read calls, against 9,827 with
/// these, and ordered its findings in 250-320 ms against 231-285 ms (eight alternating runs
/// each, four of them with 64 KiB for every run).
const MERGE_BUFFERS: usize = 4 << 20;

/// The read buffer of each of `runs` runs being merged (`MERGE_BUFFERS`).
fn merge_buffer(runs: usize) -> usize {
    (MERGE_BUFFERS / runs.max(1)).clamp(8 << 10, 64 << 10)
}

/// Reads sorted runs in report order, passing each finding's record to `emit` once: the
/// duplicates `engine::finish` drops are dropped. Records are compared where they lie, without
/// being decoded. Returns how many `emit` kept (returned `true` for).
fn merge(
    runs: Vec<Run>,
    names: &Names,
    mut emit: impl FnMut(&[u8], &Key) -> std::io::Result<bool>,
) -> std::io::Result<usize> {
    use std::collections::BinaryHeap;

    struct Head<'n> {
        record: Vec<u8>,
        key: Key,
        run: usize,
        names: &'n Names,
    }
    impl PartialEq for Head<'_> {
        fn eq(&self, other: &Self) -> bool {
            self.cmp(other) == Ordering::Equal
        }
    }
    impl Eq for Head<'_> {}
    impl PartialOrd for Head<'_> {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Head<'_> {
        // Reversed: the heap's greatest is the first in report order, of the earliest run.
        fn cmp(&self, other: &Self) -> Ordering {
            Key::order(
                &Side::named(&other.record, &other.key, self.names),
                &Side::named(&self.record, &self.key, self.names),
            )
            .then_with(|| other.run.cmp(&self.run))
        }
    }

    let buffer = merge_buffer(runs.len());
    let mut readers: Vec<(BufReader<std::fs::File>, usize)> = runs
        .into_iter()
        .map(|r| (BufReader::with_capacity(buffer, r.file), r.len))
        .collect();
    let next = |run: usize,
                readers: &mut Vec<(BufReader<std::fs::File>, usize)>,
                mut record: Vec<u8>|
     -> std::io::Result<Option<Head>> {
        let (reader, left) = &mut readers[run];
        if *left == 0 {
            return Ok(None);
        }
        *left -= 1;
        read_record(reader, &mut record)?;
        let key = Key::of(&record, names)?;
        Ok(Some(Head {
            record,
            key,
            run,
            names,
        }))
    };
    let mut heap = BinaryHeap::with_capacity(readers.len());
    for run in 0..readers.len() {
        if let Some(head) = next(run, &mut readers, Vec::new())? {
            heap.push(head);
        }
    }
    // The record emitted last, and a buffer to read the next into.
    let mut last: Option<(Vec<u8>, Key)> = None;
    let mut spare = Vec::new();
    let mut len = 0;
    while let Some(Head {
        record, key, run, ..
    }) = heap.pop()
    {
        if let Some(head) = next(run, &mut readers, std::mem::take(&mut spare))? {
            heap.push(head);
        }
        if let Some((last, last_key)) = &last
            && Key::same_place(
                &Side::named(last, last_key, names),
                &Side::named(&record, &key, names),
            )
        {
            spare = record;
            continue;
        }
        if emit(&record, &key)? {
            len += 1;
        }
        if let Some((old, _)) = last.replace((record, key)) {
            spare = old;
        }
    }
    Ok(len)
}

/// Records merged at once by `merge_aside`, one after another, with where each ends and its
/// key.
#[derive(Default)]
struct Merged {
    bytes: Vec<u8>,
    records: Vec<(usize, Key)>,
}

impl Merged {
    const RECORDS: usize = 512;
}

/// `merge` on a core of the pool, which reads the runs and orders their records, while this
/// thread hands each record to `emit` (marking and writing it): the two halves of the merge
/// overlap. Returns the number of records emitted.
fn merge_aside(
    runs: Vec<Run>,
    names: &Names,
    mut emit: impl FnMut(&[u8], &Key) -> std::io::Result<()>,
) -> std::io::Result<usize> {
    if rayon::current_thread_index().is_some() {
        // On a core of the pool, waiting on the channel could hold up the merge it waits for.
        return merge(runs, names, |record, key| emit(record, key).map(|()| true));
    }
    let (send, merged) = std::sync::mpsc::sync_channel::<Merged>(4);
    let mut merging = Err(std::io::Error::other("the merge of the findings stopped"));
    let mut len = 0;
    let mut emitted = Ok(());
    // The merge runs on a core of the pool (this thread is not one of them: it waits on the
    // channel, not on the pool).
    rayon::in_place_scope(|scope| {
        let merging = &mut merging;
        scope.spawn(move |_| {
            let mut batch = Merged::default();
            *merging = merge(runs, names, |record, key| {
                batch.bytes.extend_from_slice(record);
                batch.records.push((batch.bytes.len(), key.clone()));
                if batch.records.len() == Merged::RECORDS {
                    // The receiver gone (it failed) ends the merge.
                    send.send(std::mem::take(&mut batch))
                        .map_err(|_| std::io::Error::other("the merged findings were not taken"))?;
                }
                Ok(true)
            })
            .and_then(|_| {
                if batch.records.is_empty() {
                    return Ok(());
                }
                send.send(batch)
                    .map_err(|_| std::io::Error::other("the merged findings were not taken"))
            });
        });
        emitted = merged.iter().try_for_each(|batch| {
            let mut start = 0;
            for (end, key) in &batch.records {
                emit(&batch.bytes[start..*end], key)?;
                start = *end;
                len += 1;
            }
            Ok::<(), std::io::Error>(())
        });
        drop(merged);
    });
    // An error of this side comes first: it is why the other stopped.
    emitted.and(merging).map(|()| len)
}

/// Where the fields `engine::report_order` compares lie in a record.
#[derive(Clone)]
struct Key {
    rule: usize,
    category: Category,
    severity: Severity,
    message: Range<usize>,
    address: Range<usize>,
    path: PathAt,
    /// Start line, start column, end line, end column.
    lines: [u32; 4],
    document: usize,
    field: Range<usize>,
    evidence: Option<Range<usize>>,
    fingerprint: Range<usize>,
    suppressed: bool,
    in_baseline: bool,
}

/// Where a record's path is: named by the table (`Names::paths`), or written in the record.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PathAt {
    Named(usize),
    Written(Range<usize>),
}

/// A record to be ordered, with its key and the texts of the path and the rule it names.
struct Side<'r> {
    record: &'r [u8],
    key: &'r Key,
    path: &'r [u8],
    rule: &'r str,
}

impl<'r> Side<'r> {
    /// A record whose indexes stand for texts of `names`.
    fn named(record: &'r [u8], key: &'r Key, names: &'r Names) -> Side<'r> {
        Side {
            record,
            key,
            path: key.path_text(record, names),
            rule: &names.rules[key.rule].rule_id,
        }
    }
}

impl Key {
    /// Reads the key of a record as `encode` writes it, and checks that its indexes are in
    /// `names`.
    fn of(record: &[u8], names: &Names) -> std::io::Result<Key> {
        let key = Key::read(record)?;
        let named = match key.path {
            PathAt::Named(path) => path < names.paths.len(),
            PathAt::Written(_) => true,
        };
        if key.rule >= names.rules.len() || !named {
            return Err(corrupt());
        }
        Ok(key)
    }

    /// The text of the record's path; `names` must hold it when the record names it (as
    /// `Key::of` checks).
    fn path_text<'r>(&self, record: &'r [u8], names: &'r Names) -> &'r [u8] {
        match &self.path {
            PathAt::Named(path) => names.paths[*path].as_bytes(),
            PathAt::Written(range) => &record[range.clone()],
        }
    }

    /// Reads the key of a record as `encode` writes it.
    fn read(record: &[u8]) -> std::io::Result<Key> {
        let total = record.len();
        let mut input = Input::new(record);
        let rule = input.index()?;
        let category = input.category()?;
        let severity = input.severity()?;
        input.skip_remediation()?;
        let message = input.range(total)?;
        input.skip_str()?; // kind
        input.skip_str()?; // name
        input.skip_opt()?; // namespace
        let address = input.range(total)?;
        input.skip_str()?; // format
        for _ in 0..6 {
            input.skip_opt()?; // provider, service, region, country, jurisdiction, note
        }
        input.byte()?; // tied
        let path = match input.index()? {
            0 => PathAt::Written(input.range(total)?),
            named => PathAt::Named(named - 1),
        };
        let mut lines = [0; 4];
        for line in &mut lines {
            *line = input.line()?;
        }
        let document = input.index()?;
        let field = input.range(total)?;
        for _ in 0..input.index()? {
            input.skip_path()?;
            for _ in 0..5 {
                input.index()?;
            }
            input.skip_str()?;
        }
        let evidence = match input.byte()? {
            0 => None,
            1 => Some(input.range(total)?),
            _ => return Err(corrupt()),
        };
        let fingerprint = input.range(total)?;
        input.skip_str()?; // key
        let suppressed = match input.byte()? {
            0 => false,
            _ => {
                input.skip_opt()?; // reason
                input.skip_opt()?; // until
                true
            }
        };
        let in_baseline = input.byte()? == 2;
        Ok(Key {
            rule,
            category,
            severity,
            message,
            address,
            path,
            lines,
            document,
            field,
            evidence,
            fingerprint,
            suppressed,
            in_baseline,
        })
    }

    /// `engine::report_order` of the two findings: text compared as bytes orders as `str` does.
    fn order(a: &Side, b: &Side) -> Ordering {
        let (ka, kb) = (a.key, b.key);
        // One file's records name it by one text.
        let paths = || {
            if std::ptr::eq(a.path, b.path) {
                Ordering::Equal
            } else {
                a.path.cmp(b.path)
            }
        };
        fn text<'r>(side: &Side<'r>, range: &Range<usize>) -> &'r [u8] {
            &side.record[range.clone()]
        }
        paths()
            .then(ka.lines[0].cmp(&kb.lines[0]))
            .then(ka.lines[1].cmp(&kb.lines[1]))
            .then_with(|| a.rule.cmp(b.rule))
            .then_with(|| text(a, &ka.message).cmp(text(b, &kb.message)))
            .then_with(|| text(a, &ka.address).cmp(text(b, &kb.address)))
            .then_with(|| text(a, &ka.fingerprint).cmp(text(b, &kb.fingerprint)))
            // The location, as `Location` orders: path, lines, document, field.
            .then_with(paths)
            .then(ka.lines.cmp(&kb.lines))
            .then(ka.document.cmp(&kb.document))
            .then_with(|| text(a, &ka.field).cmp(text(b, &kb.field)))
            .then(ka.severity.cmp(&kb.severity))
            .then_with(|| match (&ka.evidence, &kb.evidence) {
                (Some(x), Some(y)) => text(a, x).cmp(text(b, y)),
                // No evidence first, as `Option` orders.
                (x, y) => x.is_some().cmp(&y.is_some()),
            })
    }

    /// The duplicates `engine::finish` drops: the same fingerprint and message at the same
    /// location.
    fn same_place(sa: &Side, sb: &Side) -> bool {
        let (a, ka, b, kb) = (sa.record, sa.key, sb.record, sb.key);
        ka.lines == kb.lines
            && (std::ptr::eq(sa.path, sb.path) || sa.path == sb.path)
            && ka.document == kb.document
            && a[ka.field.clone()] == b[kb.field.clone()]
            && a[ka.fingerprint.clone()] == b[kb.fingerprint.clone()]
            && a[ka.message.clone()] == b[kb.message.clone()]
    }
}

/// A temporary file being written with findings: a run, or the findings in report order.
struct Writer<F: Write> {
    out: BufWriter<F>,
    record: Vec<u8>,
    /// The findings written by `push` and `keep`, counted.
    counts: Counts,
}

impl<F: Write> Writer<F> {
    fn new(file: F) -> Self {
        Writer {
            out: BufWriter::with_capacity(1 << 16, file),
            record: Vec::new(),
            counts: Counts::default(),
        }
    }

    /// Writes a finding, counted.
    fn push(&mut self, f: &Finding, table: &mut Table) -> std::io::Result<()> {
        self.record.clear();
        let rule = encode(f, table, &mut self.record);
        self.counts.add_finding(rule, f);
        write_record(&mut self.out, &self.record)
    }

    /// Writes a record as it was read, of a file that shares this one's table.
    fn copy(&mut self, record: &[u8]) -> std::io::Result<()> {
        write_record(&mut self.out, record)
    }

    /// `copy`, counted.
    fn keep(&mut self, record: &[u8], key: &Key) -> std::io::Result<()> {
        self.counts.add(key);
        self.copy(record)
    }

    fn finish(self) -> std::io::Result<F> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

impl Writer<tempfile::NamedTempFile> {
    /// The file of the findings in report order, which readers open again each pass.
    fn named() -> std::io::Result<Self> {
        let file = tempfile::Builder::new()
            .prefix("sovscan-findings-")
            .tempfile()?;
        Ok(Writer::new(file))
    }

    /// The findings written, `len` of them, whose records' indexes stand for texts of `table`.
    fn stored(mut self, len: usize, table: Table) -> std::io::Result<Stored> {
        let counts = std::mem::take(&mut self.counts);
        Ok(Stored {
            file: self.finish()?,
            len,
            table,
            counts,
        })
    }
}

impl Writer<std::fs::File> {
    /// A run, read once, deleted by the system when it is closed.
    fn unnamed() -> std::io::Result<Self> {
        tempfile::tempfile().map(Writer::new)
    }

    fn run(self, len: usize, level: u32) -> std::io::Result<Run> {
        let mut file = self.finish()?;
        file.rewind()?;
        Ok(Run { file, len, level })
    }
}

/// What a finding weighs in memory, roughly: its own size, the text it alone holds, and the
/// reference to its resource, with what an allocation costs beyond its bytes.
fn weight(f: &Finding) -> usize {
    const ALLOCATION: usize = 16;
    let text = |t: &str| {
        if t.is_empty() {
            0
        } else {
            t.len() + ALLOCATION
        }
    };
    let location = |l: &Location| std::mem::size_of::<Location>() + text(&l.field);
    let r = &*f.resource;
    std::mem::size_of::<Finding>()
        + text(&f.message)
        + text(&f.fingerprint)
        + text(&f.key)
        + f.evidence.as_deref().map_or(0, text)
        + location(&f.location)
        + f.related.iter().map(location).sum::<usize>()
        + f.suppression.as_ref().map_or(0, |_| 64)
        // Shared by the findings of one resource, counted for each: a bound, not a sum.
        + std::mem::size_of::<ResourceRef>()
        + ALLOCATION
        + text(&r.kind)
        + text(&r.name)
        + text(&r.address)
        + text(&r.format)
}

/// The texts findings share, written once: a rule's texts, remediations and the paths of files.
#[derive(Debug, Default)]
struct Table {
    names: Names,
    rule_index: foldhash::HashMap<[usize; 4], usize>,
    /// The paths of `names` by their text: each entry is an index into `names.paths`, which
    /// hold the texts, so a path is held once (a live source's inputs each have their own).
    path_index: hashbrown::HashTable<usize>,
    hasher: foldhash::fast::FixedState,
    /// Paths are written into the records, not named in `names` (`Collector::paths_in_records`).
    paths_in_records: bool,
    /// The remediations of `names` by their text, as `path_index` holds the paths.
    remediation_index: hashbrown::HashTable<usize>,
    /// The bytes of the remediations held, at most [`REMEDIATIONS_HELD`].
    remediation_bytes: usize,
}

/// Bytes of remediations other than their rule's first a table holds, each once, for the
/// records to name: a rule whose fix names the service gives a few texts, each for thousands
/// of findings. Past it, a new text is written into its records.
const REMEDIATIONS_HELD: usize = 1 << 20;

/// What a record's indexes stand for.
#[derive(Clone, Debug, Default)]
struct Names {
    rules: Vec<RuleTexts>,
    paths: Vec<Arc<str>>,
    /// Remediations other than their rule's first (`RuleTexts::remediation`).
    remediations: Vec<Arc<str>>,
}

#[derive(Clone, Debug)]
struct RuleTexts {
    rule_id: Arc<str>,
    rule_name: Arc<str>,
    title: Arc<str>,
    references: Arc<[String]>,
    /// The remediation of the rule's first finding; others with the same text share it.
    remediation: Arc<str>,
}

impl Table {
    fn rule(&mut self, f: &Finding) -> usize {
        let key = [
            Arc::as_ptr(&f.rule_id) as *const u8 as usize,
            Arc::as_ptr(&f.rule_name) as *const u8 as usize,
            Arc::as_ptr(&f.title) as *const u8 as usize,
            Arc::as_ptr(&f.references) as *const String as usize,
        ];
        if let Some(&i) = self.rule_index.get(&key) {
            return i;
        }
        let rules = &mut self.names.rules;
        rules.push(RuleTexts {
            rule_id: Arc::clone(&f.rule_id),
            rule_name: Arc::clone(&f.rule_name),
            title: Arc::clone(&f.title),
            references: Arc::clone(&f.references),
            remediation: Arc::clone(&f.remediation),
        });
        self.rule_index.insert(key, rules.len() - 1);
        rules.len() - 1
    }

    fn path(&mut self, path: &Arc<str>) -> usize {
        let (hasher, paths) = (&self.hasher, &mut self.names.paths);
        // Every path is held: there is always room, and an index.
        held_index(&mut self.path_index, hasher, paths, path, |_| true).unwrap_or_default()
    }

    /// The index of `text` in `names.remediations`, added if the budget leaves room.
    fn remediation(&mut self, text: &Arc<str>) -> Option<usize> {
        let (hasher, texts) = (&self.hasher, &mut self.names.remediations);
        let bytes = &mut self.remediation_bytes;
        held_index(&mut self.remediation_index, hasher, texts, text, |len| {
            let fits = *bytes + len <= REMEDIATIONS_HELD;
            *bytes += if fits { len } else { 0 };
            fits
        })
    }
}

/// The index in `texts` of `text`, found by `index` (which holds indexes into `texts`); a text
/// not there yet is added when `room` (given its length) lets it, else `None`.
fn held_index(
    index: &mut hashbrown::HashTable<usize>,
    hasher: &foldhash::fast::FixedState,
    texts: &mut Vec<Arc<str>>,
    text: &Arc<str>,
    room: impl FnOnce(usize) -> bool,
) -> Option<usize> {
    use std::hash::BuildHasher;
    let entry = index.entry(
        hasher.hash_one(&**text),
        |&i| *texts[i] == **text,
        |&i| hasher.hash_one(&*texts[i]),
    );
    match entry {
        hashbrown::hash_table::Entry::Occupied(found) => Some(*found.get()),
        hashbrown::hash_table::Entry::Vacant(vacant) if room(text.len()) => {
            texts.push(Arc::clone(text));
            vacant.insert(texts.len() - 1);
            Some(texts.len() - 1)
        }
        hashbrown::hash_table::Entry::Vacant(_) => None,
    }
}

fn write_record(out: &mut impl Write, record: &[u8]) -> std::io::Result<()> {
    // The length encoded on the stack: a record is written several times.
    let (head, len) = varint(record.len());
    out.write_all(&head[..len])?;
    out.write_all(record)
}

fn read_record(input: &mut impl Read, record: &mut Vec<u8>) -> std::io::Result<()> {
    record.clear();
    read_record_onto(input, record)
}

/// Reads the next record at the end of `records`.
fn read_record_onto(input: &mut impl Read, records: &mut Vec<u8>) -> std::io::Result<()> {
    let (len, _) = read_varint(input)?;
    let start = records.len();
    records.resize(start + len, 0);
    input.read_exact(&mut records[start..]).map_err(short)
}

/// A whole record as `encode` writes it, its rule first.
fn decode_record(record: &[u8], names: &Names) -> std::io::Result<Finding> {
    let mut input = Input::new(record);
    let rule = input.index()?;
    decode(&mut input, rule, names)
}

/// Reads the next record's rule and, when the rule is wanted (or `wanted` is `None`), the
/// rest of the record into `record`; a record of another rule is skipped without copying it.
fn read_wanted(
    input: &mut BufReader<std::fs::File>,
    record: &mut Vec<u8>,
    wanted: Option<&[bool]>,
) -> std::io::Result<Option<usize>> {
    let (len, _) = read_varint(input)?;
    let (rule, rule_bytes) = read_varint(input)?;
    let rest = len.checked_sub(rule_bytes).ok_or_else(corrupt)?;
    if wanted.is_some_and(|w| !w.get(rule).copied().unwrap_or(false)) {
        let skip = i64::try_from(rest).map_err(|_| corrupt())?;
        input.seek_relative(skip)?;
        return Ok(None);
    }
    record.resize(rest, 0);
    input.read_exact(record).map_err(short)?;
    Ok(Some(rule))
}

/// A number as `put_index` writes it, read from a stream, with how many bytes it took.
fn read_varint(input: &mut impl Read) -> std::io::Result<(usize, usize)> {
    let (mut n, mut shift, mut bytes) = (0usize, 0, 0);
    loop {
        let mut byte = [0u8];
        input.read_exact(&mut byte).map_err(short)?;
        bytes += 1;
        n |= usize::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            return Ok((n, bytes));
        }
        shift += 7;
        if shift > 35 {
            return Err(corrupt());
        }
    }
}

/// The file ends early only when it was damaged: its records are counted.
fn short(e: std::io::Error) -> std::io::Error {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => corrupt(),
        _ => e,
    }
}

fn corrupt() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "the temporary file of findings is damaged",
    )
}

pub(crate) fn put_index(out: &mut Vec<u8>, n: usize) {
    // Most numbers of a record (lengths of short texts, columns, indexes) take one byte.
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    let (bytes, len) = varint(n);
    out.extend_from_slice(&bytes[..len]);
}

/// `n` in seven-bit groups, the lowest first, each but the last with its high bit set; and how
/// many bytes that takes.
fn varint(mut n: usize) -> ([u8; 10], usize) {
    let (mut bytes, mut len) = ([0u8; 10], 0);
    while n >= 0x80 {
        bytes[len] = (n as u8 & 0x7f) | 0x80;
        n >>= 7;
        len += 1;
    }
    bytes[len] = n as u8;
    (bytes, len + 1)
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_index(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        None => out.push(0),
        Some(t) => {
            out.push(1);
            put_str(out, t);
        }
    }
}

const SUPPRESSION_KINDS: [&str; 3] = ["inline", "metadata", "settings"];

/// Appends the record of `f` to `out`; returns the index of its rule in `table`.
fn encode(f: &Finding, table: &mut Table, out: &mut Vec<u8>) -> usize {
    let rule = table.rule(f);
    put_index(out, rule);
    out.push(f.category as u8);
    out.push(f.severity as u8);
    // 0: the rule's first; 1 and the text; or the text's index in the table plus 2.
    let first = &table.names.rules[rule].remediation;
    if Arc::ptr_eq(&f.remediation, first) || *f.remediation == **first {
        put_index(out, 0);
    } else if let Some(i) = table.remediation(&f.remediation) {
        put_index(out, i + 2);
    } else {
        put_index(out, 1);
        put_str(out, &f.remediation);
    }
    put_str(out, &f.message);
    let r = &*f.resource;
    put_str(out, &r.kind);
    put_str(out, &r.name);
    put_opt(out, r.namespace.as_deref());
    put_str(out, &r.address);
    put_str(out, &r.format);
    for text in [
        &r.provider,
        &r.service,
        &r.region,
        &r.country,
        &r.jurisdiction,
        &r.note,
    ] {
        put_opt(out, text.as_deref());
    }
    out.push(u8::from(r.tied));
    put_location(out, &f.location, table);
    put_index(out, f.related.len());
    for l in &f.related {
        put_location(out, l, table);
    }
    put_opt(out, f.evidence.as_deref());
    put_str(out, &f.fingerprint);
    put_str(out, &f.key);
    match &f.suppression {
        None => out.push(0),
        Some(s) => {
            let kind = SUPPRESSION_KINDS
                .iter()
                .position(|k| *k == s.kind)
                .unwrap_or(0);
            out.push(1 + kind as u8);
            put_opt(out, s.reason.as_deref());
            put_opt(out, s.until.as_deref());
        }
    }
    out.push(match f.baseline {
        None => 0,
        Some(BaselineState::New) => 1,
        Some(BaselineState::Unchanged) => 2,
    });
    rule
}

fn put_location(out: &mut Vec<u8>, l: &Location, table: &mut Table) {
    // 0 and the text, or the path's index in the table plus one.
    if table.paths_in_records {
        out.push(0);
        put_str(out, &l.path);
    } else {
        put_index(out, table.path(&l.path) + 1);
    }
    for n in [l.start_line, l.start_column, l.end_line, l.end_column] {
        put_index(out, n as usize);
    }
    put_index(out, l.document);
    put_str(out, &l.field);
}

/// A record being read.
pub(crate) struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Input { bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn byte(&mut self) -> std::io::Result<u8> {
        let (&first, rest) = self.bytes.split_first().ok_or_else(corrupt)?;
        self.bytes = rest;
        Ok(first)
    }

    /// A number as `put_index` writes it.
    pub(crate) fn index(&mut self) -> std::io::Result<usize> {
        let mut n = 0usize;
        let mut shift = 0;
        loop {
            let byte = self.byte()?;
            n |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
            shift += 7;
            if shift > 63 {
                return Err(corrupt());
            }
        }
    }

    fn line(&mut self) -> std::io::Result<u32> {
        u32::try_from(self.index()?).map_err(|_| corrupt())
    }

    fn str(&mut self) -> std::io::Result<String> {
        self.text().map(str::to_owned)
    }

    fn opt(&mut self) -> std::io::Result<Option<String>> {
        match self.byte()? {
            0 => Ok(None),
            1 => self.str().map(Some),
            _ => Err(corrupt()),
        }
    }

    fn category(&mut self) -> std::io::Result<Category> {
        match self.byte()? {
            b if b == Category::Residency as u8 => Ok(Category::Residency),
            b if b == Category::Gdpr as u8 => Ok(Category::Gdpr),
            b if b == Category::Hyperscaler as u8 => Ok(Category::Hyperscaler),
            _ => Err(corrupt()),
        }
    }

    fn severity(&mut self) -> std::io::Result<Severity> {
        let byte = self.byte()?;
        Severity::ALL
            .iter()
            .find(|s| **s as u8 == byte)
            .copied()
            .ok_or_else(corrupt)
    }

    /// Passes over a remediation as `encode` writes it: the text only when it is written.
    fn skip_remediation(&mut self) -> std::io::Result<()> {
        match self.index()? {
            1 => self.skip_str(),
            _ => Ok(()),
        }
    }

    /// Passes over a string, unread: text is checked where it is read.
    fn skip_str(&mut self) -> std::io::Result<()> {
        let len = self.index()?;
        self.bytes = self.bytes.get(len..).ok_or_else(corrupt)?;
        Ok(())
    }

    /// A string, borrowed from the record.
    fn text(&mut self) -> std::io::Result<&'a str> {
        let len = self.index()?;
        if len > self.bytes.len() {
            return Err(corrupt());
        }
        let (text, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        std::str::from_utf8(text).map_err(|_| corrupt())
    }

    /// Where the next string lies in a record of `total` bytes that this input ends.
    fn range(&mut self, total: usize) -> std::io::Result<Range<usize>> {
        let len = self.index()?;
        if len > self.bytes.len() {
            return Err(corrupt());
        }
        let start = total - self.bytes.len();
        self.bytes = &self.bytes[len..];
        Ok(start..start + len)
    }

    fn skip_opt(&mut self) -> std::io::Result<()> {
        match self.byte()? {
            0 => Ok(()),
            1 => self.skip_str(),
            _ => Err(corrupt()),
        }
    }

    /// A location's path, as `put_location` writes it.
    fn path(&mut self, names: &Names) -> std::io::Result<Arc<str>> {
        match self.index()? {
            0 => self.text().map(Arc::from),
            named => Ok(Arc::clone(names.paths.get(named - 1).ok_or_else(corrupt)?)),
        }
    }

    fn skip_path(&mut self) -> std::io::Result<()> {
        match self.index()? {
            0 => self.skip_str(),
            _ => Ok(()),
        }
    }

    /// A location's path and start line; the rest of it is skipped.
    fn place(&mut self, names: &Names) -> std::io::Result<(Arc<str>, u32)> {
        let path = self.path(names)?;
        let line = self.line()?;
        for _ in 0..4 {
            self.index()?;
        }
        self.skip_str()?;
        Ok((path, line))
    }

    fn location(&mut self, names: &Names) -> std::io::Result<Location> {
        let path = self.path(names)?;
        Ok(Location {
            path,
            start_line: self.line()?,
            start_column: self.line()?,
            end_line: self.line()?,
            end_column: self.line()?,
            document: self.index()?,
            field: self.str()?,
        })
    }
}

/// What `Listed` needs of a record, in the order `encode` writes it; the rest is skipped.
fn decode_listed(input: &mut Input, rule: usize, names: &Names) -> std::io::Result<Listed> {
    let texts = names.rules.get(rule).ok_or_else(corrupt)?;
    let category = input.category()?;
    let severity = input.severity()?;
    input.skip_remediation()?;
    input.skip_str()?; // message
    input.skip_str()?; // kind
    input.skip_str()?; // name
    input.skip_opt()?; // namespace
    let address = input.text()?.to_string();
    input.skip_str()?; // format
    for _ in 0..6 {
        input.skip_opt()?; // provider, service, region, country, jurisdiction, note
    }
    input.byte()?; // tied
    let (path, line) = input.place(names)?;
    for _ in 0..input.index()? {
        input.place(names)?; // related
    }
    input.skip_opt()?; // evidence
    let fingerprint = input.text()?.to_string();
    input.skip_str()?; // key
    let suppressed = match input.byte()? {
        0 => false,
        _ => {
            input.skip_opt()?;
            input.skip_opt()?;
            true
        }
    };
    let in_baseline = match input.byte()? {
        0 | 1 => false,
        2 => true,
        _ => return Err(corrupt()),
    };
    Ok(Listed {
        rule_id: Arc::clone(&texts.rule_id),
        category,
        severity,
        references: Arc::clone(&texts.references),
        path,
        line,
        address,
        fingerprint,
        suppressed,
        in_baseline,
        // Set by `Listings::next`, which counts the records read.
        position: 0,
    })
}

fn decode(input: &mut Input, rule: usize, names: &Names) -> std::io::Result<Finding> {
    let texts = names.rules.get(rule).ok_or_else(corrupt)?;
    let category = input.category()?;
    let severity = input.severity()?;
    let remediation = match input.index()? {
        0 => Arc::clone(&texts.remediation),
        1 => Arc::from(input.str()?),
        n => Arc::clone(names.remediations.get(n - 2).ok_or_else(corrupt)?),
    };
    let message = input.str()?;
    let resource = Arc::new(ResourceRef {
        kind: input.str()?,
        name: input.str()?,
        namespace: input.opt()?,
        address: input.str()?,
        format: input.str()?,
        provider: input.opt()?,
        service: input.opt()?,
        region: input.opt()?,
        country: input.opt()?,
        jurisdiction: input.opt()?,
        note: input.opt()?,
        tied: input.byte()? == 1,
    });
    let location = input.location(names)?;
    let related = (0..input.index()?)
        .map(|_| input.location(names))
        .collect::<std::io::Result<_>>()?;
    let evidence = input.opt()?;
    let fingerprint = input.str()?;
    let key = input.str()?;
    let suppression = match input.byte()? {
        0 => None,
        kind => Some(Box::new(Suppression {
            kind: SUPPRESSION_KINDS
                .get(usize::from(kind) - 1)
                .ok_or_else(corrupt)?,
            reason: input.opt()?,
            until: input.opt()?,
        })),
    };
    let baseline = match input.byte()? {
        0 => None,
        1 => Some(BaselineState::New),
        2 => Some(BaselineState::Unchanged),
        _ => return Err(corrupt()),
    };
    Ok(Finding {
        rule_id: Arc::clone(&texts.rule_id),
        rule_name: Arc::clone(&texts.rule_name),
        category,
        severity,
        title: Arc::clone(&texts.title),
        message,
        resource,
        location,
        related,
        evidence,
        remediation,
        references: Arc::clone(&texts.references),
        fingerprint,
        key,
        suppression,
        baseline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_written_after_its_length_and_read_back_whole() {
        for len in [0, 1, 127, 128, 300, 16_383, 16_384, 1 << 21] {
            let record: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut file = Vec::new();
            write_record(&mut file, &record).unwrap();
            // The length, then the record.
            let (read_len, head) = read_varint(&mut &file[..]).unwrap();
            assert_eq!((read_len, file.len()), (len, head + len), "{len}");
            let mut read = Vec::new();
            read_record(&mut &file[..], &mut read).unwrap();
            assert_eq!(read, record, "{len}");
        }
    }

    fn finding(path: &str, line: u32, rule: &Arc<str>, n: usize) -> Finding {
        let location = Location {
            path: Arc::from(path),
            start_line: line,
            start_column: 3,
            end_line: line + 1,
            end_column: 9,
            document: 0,
            field: format!("spec.items[{n}]"),
        };
        Finding {
            rule_id: Arc::clone(rule),
            rule_name: Arc::from("a-rule"),
            category: Category::Gdpr,
            severity: Severity::Medium,
            title: Arc::from("A title"),
            message: format!("message {n} with ünïcode"),
            resource: Arc::new(ResourceRef {
                kind: "Deployment".into(),
                name: format!("web-{n}"),
                namespace: Some("shop".into()),
                address: format!("Deployment/shop/web-{n}"),
                format: "kubernetes".into(),
                provider: None,
                service: None,
                region: Some("eu-central-1".into()),
                country: None,
                jurisdiction: None,
                note: None,
                tied: n.is_multiple_of(3),
            }),
            related: vec![location.clone()],
            location,
            evidence: n.is_multiple_of(2).then(|| "evidence".to_string()),
            remediation: Arc::from(if n.is_multiple_of(3) { "shared" } else { "own" }),
            references: Arc::from(vec!["GDPR-32".to_string()]),
            fingerprint: format!("{n:016x}"),
            key: String::new(),
            suppression: n.is_multiple_of(5).then(|| {
                Box::new(Suppression {
                    kind: "metadata",
                    reason: Some("accepted".into()),
                    until: None,
                })
            }),
            baseline: n.is_multiple_of(7).then_some(BaselineState::Unchanged),
        }
    }

    fn some_findings() -> Vec<Finding> {
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("GDPR-001"), Arc::from("RES-001"));
        (0..500usize)
            .map(|n| {
                let rule = if n.is_multiple_of(4) { &a } else { &b };
                finding(
                    &format!("dir/file-{}.yaml", n % 13),
                    (n % 37) as u32 + 1,
                    rule,
                    n,
                )
            })
            .collect()
    }

    fn collect(budget: usize, findings: Vec<Finding>) -> Findings {
        let collector = Collector::new(budget, Vec::new());
        for chunk in findings.chunks(23) {
            collector.add(chunk.to_vec());
        }
        collector.finish()
    }

    #[test]
    fn records_are_ordered_as_the_findings_they_hold() {
        // Pairs that differ in one compared field at a time, ties broken further down.
        let rule: Arc<str> = Arc::from("GDPR-001");
        let base = finding("dir/b.yaml", 5, &rule, 1);
        let mut variants = vec![base.clone()];
        let mut with = |change: &dyn Fn(&mut Finding)| {
            let mut f = base.clone();
            change(&mut f);
            variants.push(f);
        };
        with(&|f| f.location.path = Arc::from("dir/a.yaml"));
        with(&|f| f.location.start_line = 4);
        with(&|f| f.location.start_column = 1);
        with(&|f| f.rule_id = Arc::from("RES-001"));
        with(&|f| f.message = "message 1 with ü".into());
        with(&|f| f.message = "message 1 with ünïcode, longer".into());
        with(&|f| Arc::make_mut(&mut f.resource).address = "Deployment/shop/a".into());
        with(&|f| f.fingerprint = "0".into());
        with(&|f| f.location.end_line = 2);
        with(&|f| f.location.end_column = 99);
        with(&|f| f.location.document = 3);
        with(&|f| f.location.field = "spec.a".into());
        with(&|f| f.severity = Severity::Critical);
        with(&|f| f.evidence = None);
        with(&|f| f.evidence = Some("a".into()));
        with(&|f| f.evidence = Some("z".into()));
        // Paths named by the table, and written in the records.
        for paths_in_records in [false, true] {
            let mut table = Table {
                paths_in_records,
                ..Table::default()
            };
            let records: Vec<Vec<u8>> = variants
                .iter()
                .map(|f| {
                    let mut record = Vec::new();
                    encode(f, &mut table, &mut record);
                    record
                })
                .collect();
            assert_eq!(table.names.paths.is_empty(), paths_in_records);
            let keys: Vec<Key> = records
                .iter()
                .map(|r| Key::of(r, &table.names).unwrap_or_else(|e| panic!("{e}")))
                .collect();
            let side = |i: usize| Side::named(&records[i], &keys[i], &table.names);
            for (i, a) in variants.iter().enumerate() {
                assert_eq!(
                    decode_record(&records[i], &table.names).ok().as_ref(),
                    Some(a),
                    "{i}"
                );
                for (j, b) in variants.iter().enumerate() {
                    let ours = Key::order(&side(i), &side(j));
                    assert_eq!(ours, crate::engine::report_order(a, b), "{i} against {j}");
                    let same = a.fingerprint == b.fingerprint
                        && a.location == b.location
                        && a.message == b.message;
                    assert_eq!(Key::same_place(&side(i), &side(j)), same, "{i} against {j}");
                }
            }
        }
    }

    #[test]
    fn remediations_are_named_by_the_table_until_its_budget_then_written() {
        // Texts of 8 KiB, each for two findings: the table takes 128 of them, the rest are
        // written into their records.
        let rule: Arc<str> = Arc::from("HYP-001");
        let texts: Vec<Arc<str>> = (0..200)
            .map(|n| Arc::from(format!("{n:04} {}", "x".repeat(8187))))
            .collect();
        // One rule's findings share its texts.
        let one = finding("main.tf", 1, &rule, 0);
        let all: Vec<Finding> = (0..400)
            .map(|n| {
                let mut f = one.clone();
                f.location.start_line = n as u32 + 1;
                f.message = format!("message {n}");
                f.fingerprint = format!("{n:016x}");
                // Equal texts, not the same `Arc`: findings fill their fixes one by one.
                f.remediation = Arc::from(&*texts[n / 2]);
                f
            })
            .collect();
        let mut table = Table::default();
        let records: Vec<Vec<u8>> = (all.iter())
            .map(|f| {
                let mut record = Vec::new();
                encode(f, &mut table, &mut record);
                record
            })
            .collect();
        let held = &table.names.remediations;
        assert_eq!(held.len(), REMEDIATIONS_HELD / 8192);
        assert!(held.iter().map(|t| t.len()).sum::<usize>() <= REMEDIATIONS_HELD);
        for (n, (f, record)) in all.iter().zip(&records).enumerate() {
            assert_eq!(decode_record(record, &table.names).ok().as_ref(), Some(f));
            let key = Key::read(record).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&record[key.message.clone()], f.message.as_bytes(), "{n}");
            // The rule's first text and those the table holds are named, not written.
            let named = n / 2 <= held.len();
            assert_eq!(record.len() < 8192, named, "{n}");
        }
        // Through runs, merges and reports' passes, as in memory.
        let memory = collect(usize::MAX, all.clone());
        let file = collect(0, all.clone());
        assert!(file.on_disk());
        let listed: Vec<String> = file.listed(None).map(|l| l.fingerprint).collect();
        let expected: Vec<String> = memory.iter().map(|f| f.fingerprint.clone()).collect();
        assert_eq!(listed, expected);
        assert_eq!(file.into_vec(), memory.into_vec());
    }

    #[test]
    fn findings_are_adjusted_before_duplicates_are_dropped() {
        // Two renderings of one document, moved to one place: their fingerprints, named from
        // where each was rendered, become one when the scan names them from the repository.
        let rule: Arc<str> = Arc::from("RES-007");
        let first = finding("base/cart.yaml", 16, &rule, 1);
        let mut second = first.clone();
        second.fingerprint = "rendered elsewhere".into();
        for budget in [usize::MAX, 0] {
            let collector =
                Collector::new(budget, Vec::new()).adjusting(crate::scan::Adjust::new(|f| {
                    f.fingerprint = "from the root".into()
                }));
            collector.add(vec![first.clone()]);
            collector.add(vec![
                second.clone(),
                finding("base/cart.yaml", 17, &rule, 2),
            ]);
            let found = collector.finish().into_vec();
            let prints: Vec<&str> = found.iter().map(|f| f.fingerprint.as_str()).collect();
            assert_eq!(
                prints,
                ["from the root", "from the root"],
                "budget {budget}"
            );
            assert_eq!(found[1].location.start_line, 17);
        }
    }

    #[test]
    fn a_finding_without_a_fingerprint_is_given_one_from_the_path_it_was_made_with() {
        // A rendered document's marker line, moved to the overlay that writes it.
        let marker = crate::render::MARKER_BASE + 4;
        let span = crate::tree::Span {
            start: crate::tree::Pos { line: 7, column: 3 },
            end: crate::tree::Pos {
                line: 7,
                column: 20,
            },
        };
        let relocation = crate::load::Relocation {
            marker,
            path: Arc::from("overlays/prod/patch.yaml"),
            document: 0,
            span,
        };
        let rule: Arc<str> = Arc::from("RES-007");
        let mut rendered = finding("<rendered prod>", marker, &rule, 1);
        rendered.fingerprint.clear();
        let mut plain = finding("base/cart.yaml", 16, &rule, 2);
        plain.fingerprint.clear();
        let made_with = |f: &Finding, path: &str| {
            crate::finding::fingerprint(
                &f.rule_id,
                path,
                &f.resource.address,
                &f.location.field,
                &f.key,
            )
        };
        let expected = [
            made_with(&plain, "base/cart.yaml"),
            made_with(&rendered, "<rendered prod>"),
        ];
        for budget in [usize::MAX, 0] {
            let collector = Collector::new(budget, vec![relocation.clone()]);
            collector.add(vec![rendered.clone(), plain.clone()]);
            let found = collector.finish().into_vec();
            let prints: Vec<&str> = found.iter().map(|f| f.fingerprint.as_str()).collect();
            assert_eq!(prints, [&*expected[0], &*expected[1]], "budget {budget}");
            assert_eq!(&*found[1].location.path, "overlays/prod/patch.yaml");
            // A fingerprint the adjustment makes is the only one made.
            let rebased =
                Collector::new(budget, Vec::new()).adjusting(crate::scan::Adjust::new(|f| {
                    f.rebase_fingerprint("from/the/root.yaml")
                }));
            rebased.add(vec![plain.clone()]);
            let found = rebased.finish().into_vec();
            assert_eq!(
                found[0].fingerprint,
                made_with(&plain, "from/the/root.yaml")
            );
        }
    }

    #[test]
    fn findings_read_back_from_the_file_equal_those_kept_in_memory() {
        let mut all = some_findings();
        // Duplicates across runs are dropped as in memory.
        all.extend(all[..40].to_vec());
        let memory = collect(usize::MAX, all.clone());
        let file = collect(0, all);
        assert!(!memory.on_disk() && file.on_disk());
        assert_eq!(memory.len(), 500);
        assert_eq!(file.len(), memory.len());
        assert_eq!(file.into_vec(), memory.into_vec());
    }

    #[test]
    fn duplicates_within_a_run_are_dropped_as_in_memory() {
        // Each finding twice in a row: every run holds pairs.
        let all: Vec<Finding> = some_findings()
            .into_iter()
            .flat_map(|f| [f.clone(), f])
            .collect();
        let memory = collect(usize::MAX, all.clone());
        let collector = Collector::new(0, Vec::new());
        for chunk in all.chunks(46) {
            collector.add(chunk.to_vec());
        }
        {
            let state = collector.state.lock().unwrap();
            let held: usize = state.runs.iter().map(|r| r.len).sum();
            assert_eq!(held, 500);
        }
        let file = collector.finish();
        assert!(file.on_disk());
        assert_eq!(file.len(), 500);
        assert_eq!(file.into_vec(), memory.into_vec());
    }

    #[test]
    fn runs_merged_from_a_core_of_the_pool_or_from_outside_it_give_the_same() {
        let all = some_findings();
        let memory = collect(usize::MAX, all.clone());
        let runs = |all: &[Finding]| {
            let collector = Collector::new(0, Vec::new());
            for chunk in all.chunks(7) {
                collector.add(chunk.to_vec());
            }
            collector
        };
        // Outside the pool the merge runs on one of its cores; on a core of a pool of one
        // it cannot, and runs where it is asked.
        let outside = runs(&all).finish();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let inside = pool.install(|| runs(&all).finish());
        assert!(outside.on_disk() && inside.on_disk());
        assert_eq!(outside.len(), 500);
        let memory = memory.into_vec();
        assert_eq!(outside.into_vec(), memory);
        assert_eq!(inside.into_vec(), memory);
    }

    #[test]
    fn runs_are_merged_level_by_level_and_read_back_in_order() {
        let mut all = some_findings();
        all.extend(all[..40].to_vec());
        let memory = collect(usize::MAX, all.clone());
        // One run per finding: 540 runs, merged sixteen at a time, then those sixteen at a time.
        let collector = Collector::new(0, Vec::new());
        collector.state.lock().unwrap().fan_in = 16;
        for f in &all {
            collector.add(vec![f.clone()]);
        }
        {
            let state = collector.state.lock().unwrap();
            let levels: Vec<u32> = state.runs.iter().map(|r| r.level).collect();
            assert!(levels.contains(&2), "{levels:?}");
            for level in 0..3 {
                let at = levels.iter().filter(|&&l| l == level).count();
                assert!(at < 16, "{at} runs at level {level}: {levels:?}");
            }
            // Duplicates go when they meet in a merge.
            let held: usize = state.runs.iter().map(|r| r.len).sum();
            assert!((500..=540).contains(&held), "{held}");
        }
        let file = collector.finish();
        assert_eq!(file.len(), 500);
        assert_eq!(file.into_vec(), memory.into_vec());
    }

    #[test]
    fn the_file_is_changed_filtered_and_read_by_rule_like_memory() {
        let mut memory = collect(usize::MAX, some_findings());
        let mut file = collect(4096, some_findings());
        assert!(file.on_disk());
        for store in [&mut memory, &mut file] {
            store.update_par(|f| f.severity = Severity::High);
            store.update(|f| f.message.push('!'));
            store.retain(|f| f.location.start_line % 2 == 0);
        }
        assert_eq!(sorted_counts(&file), sorted_counts(&memory));
        let rules = ["GDPR-001"];
        let of_rule = |s: &Findings| s.of_rules(&rules).map(|f| f.clone()).collect::<Vec<_>>();
        assert_eq!(of_rule(&file), of_rule(&memory));
        assert!(!of_rule(&file).is_empty());
        assert_eq!(file.len(), memory.len());
        assert_eq!(file.error(), None);
        assert_eq!(file.into_vec(), memory.into_vec());
    }

    fn sorted_counts(store: &Findings) -> Vec<(String, String, String, bool, bool, usize)> {
        let mut counts: Vec<_> = (store.counts().into_iter())
            .map(|c| {
                let references = c.references.join(" ");
                let kind = format!("{:?} {:?}", c.category, c.severity);
                let (rule, n) = (c.rule_id.to_string(), c.findings);
                (rule, kind, references, c.suppressed, c.in_baseline, n)
            })
            .collect();
        counts.sort();
        counts
    }

    #[test]
    fn findings_counted_as_the_file_is_written_are_those_in_memory() {
        let mut all = some_findings();
        all[3].severity = Severity::Critical;
        all[4].category = Category::Residency;
        all.extend(all[..40].to_vec());
        let memory = collect(usize::MAX, all.clone());
        let counts = sorted_counts(&memory);
        // Suppressed, in the baseline and active findings of two rules, duplicates counted once.
        assert!(counts.len() >= 6, "{counts:?}");
        assert_eq!(counts.iter().map(|c| c.5).sum::<usize>(), 500);
        for budget in [0, 4096] {
            let file = collect(budget, all.clone());
            assert!(file.on_disk());
            assert_eq!(sorted_counts(&file), counts, "budget {budget}");
        }
    }

    #[test]
    fn listings_read_from_the_file_equal_those_made_in_memory() {
        let memory = collect(usize::MAX, some_findings());
        let file = collect(0, some_findings());
        assert!(file.on_disk());
        let rules = ["RES-001"];
        for wanted in [None, Some(&rules[..])] {
            let from_file: Vec<Listed> = file.listed(wanted).collect();
            let from_memory: Vec<Listed> = memory.listed(wanted).collect();
            assert_eq!(from_file, from_memory);
            assert!(
                from_file.iter().any(Listed::is_active) && from_file.iter().any(|l| !l.is_active())
            );
        }
        assert_eq!(file.listed(Some(&rules)).count(), 375);
        assert_eq!(file.error(), None);
    }

    /// A store that writes paths into its records gives what one that names them gives:
    /// findings in order with duplicates across runs and levels dropped, changes, counts and
    /// listings; and holds no path.
    #[test]
    fn paths_written_in_the_records_give_what_named_paths_give() {
        let mut all = some_findings();
        all.extend(all[..40].to_vec());
        let memory = collect(usize::MAX, all.clone());
        let collector = Collector::new(0, Vec::new()).paths_in_records();
        collector.state.lock().unwrap().fan_in = 16;
        for chunk in all.chunks(3) {
            collector.add(chunk.to_vec());
        }
        let mut file = collector.finish();
        let stored = file.file.as_ref().expect("on disk");
        assert!(stored.table.names.paths.is_empty());
        assert_eq!(file.len(), 500);
        assert_eq!(sorted_counts(&file), sorted_counts(&memory));
        let rules = ["RES-001"];
        for wanted in [None, Some(&rules[..])] {
            let from_file: Vec<Listed> = file.listed(wanted).collect();
            assert_eq!(from_file, memory.listed(wanted).collect::<Vec<_>>());
        }
        let mut memory = memory;
        for store in [&mut memory, &mut file] {
            store.update(|f| f.message.push('!'));
            store.retain(|f| f.location.start_line % 2 == 0);
        }
        let stored = file.file.as_ref().expect("on disk");
        assert!(stored.table.names.paths.is_empty());
        assert_eq!(file.error(), None);
        assert_eq!(file.into_vec(), memory.into_vec());
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_panic() {
        let file = collect(0, some_findings());
        let stored = file.file.as_ref().expect("on disk");
        std::fs::write(stored.file.path(), [0x05, 0xff, 0xff]).expect("written");
        assert_eq!(file.iter().count(), 0);
        assert!(file.error().is_some_and(|e| e.contains("damaged")));
    }
}
