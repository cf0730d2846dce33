//! One scan end to end: discover files, load them in parallel, extract resources, evaluate
//! rules, and return a report. No printing here; the caller renders the report.

use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use crate::engine::checks::Grouping;
use crate::engine::checks::cloud_log_buckets::Bucket;
use crate::engine::{Context, Engine, Profile, Rule, checks};
use crate::estate::{Estate, Gathered, Listing};
use crate::extract::units::{self, Outline};
use crate::extract::{self, ExtractOptions};
use crate::finding::Finding;
use crate::knowledge::KnowledgeBase;
use crate::load::{self, Document, FileOutcome, LoadError, Skipped};
use crate::model::{Resource, Settled};
use crate::suppress::{Directives, MetadataSuppression};

/// What to scan and how.
#[derive(Clone, Debug)]
pub struct ScanRequest {
    /// Files and folders; `-` reads one document stream from stdin (given as `stdin`).
    pub paths: Vec<PathBuf>,
    pub stdin: Option<Vec<u8>>,
    pub excludes: Vec<String>,
    /// Globs of the settings file's `exclude:`, relative to `settings_dir`.
    pub settings_excludes: Vec<String>,
    /// The folder of the settings file (absolute).
    pub settings_dir: Option<PathBuf>,
    pub profile: Profile,
    pub deploy_regions: Vec<String>,
    /// Terraform variable files (`--var-file`), in the order given.
    pub var_files: Vec<PathBuf>,
    /// CloudFormation parameter values (`--parameter Key=Value`).
    pub parameters: Vec<(String, String)>,
    pub personal_data_labels: Vec<(String, String)>,
    pub max_log_retention_days: i64,
    pub require_customer_managed_keys: bool,
    /// Countries allowed beyond the profile (`allow: {countries: [CH]}`).
    pub allowed_countries: Vec<String>,
    /// The organisation's own registries and service hosts with their country.
    pub own_hosts: Vec<(String, String)>,
    /// Every rule id and name that exists; when given, suppressions naming anything else are
    /// reported in `unknown_suppressions`.
    pub known_rules: Vec<String>,
    /// Rendering of Kustomize overlays and Helm charts before the scan.
    pub render: crate::render::RenderOptions,
    /// CloudFormation parameter files (`--parameter-file`), applied to every template.
    pub parameter_files: Vec<PathBuf>,
    /// Scan files that `.gitignore` and `.ignore` files leave out, too.
    pub no_ignore: bool,
    /// Rules left out by `--select`/`--ignore`: evaluated only so that the estate summary
    /// (which provider each resource is tied to) describes every resource whatever the
    /// selection; their findings are not reported.
    pub estate_rules: Vec<Rule>,
    /// Name every resource in `ScanResult::listed` (the JUnit report has a test case per
    /// resource); otherwise resources are only counted.
    pub list_resources: bool,
    /// A change made to every finding as the scan takes it, before the findings are ordered:
    /// severity overrides, fingerprints named from the repository root.
    pub adjust: Adjust,
}

/// A change made to every finding of a scan (`ScanRequest::adjust`).
#[derive(Clone, Default)]
pub struct Adjust(Option<Arc<Change>>);

type Change = dyn Fn(&mut Finding) + Send + Sync;

impl Adjust {
    pub fn new(change: impl Fn(&mut Finding) + Send + Sync + 'static) -> Self {
        Adjust(Some(Arc::new(change)))
    }

    pub fn apply(&self, finding: &mut Finding) {
        if let Some(change) = &self.0 {
            change(finding);
        }
    }
}

impl std::fmt::Debug for Adjust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Adjust(..)"
        } else {
            "Adjust(none)"
        })
    }
}

impl Default for ScanRequest {
    fn default() -> Self {
        ScanRequest {
            paths: vec![PathBuf::from(".")],
            stdin: None,
            excludes: Vec::new(),
            settings_excludes: Vec::new(),
            settings_dir: None,
            profile: Profile::Eu,
            deploy_regions: Vec::new(),
            var_files: Vec::new(),
            parameters: Vec::new(),
            personal_data_labels: default_personal_data_labels(),
            max_log_retention_days:
                crate::engine::checks::cloud_gdpr::DEFAULT_MAX_LOG_RETENTION_DAYS,
            require_customer_managed_keys: false,
            allowed_countries: Vec::new(),
            own_hosts: Vec::new(),
            known_rules: Vec::new(),
            render: Default::default(),
            parameter_files: Vec::new(),
            no_ignore: false,
            estate_rules: Vec::new(),
            list_resources: false,
            adjust: Adjust::default(),
        }
    }
}

pub fn default_personal_data_labels() -> Vec<(String, String)> {
    [
        ("data-classification", "personal"),
        ("sovscan.dev/data-classification", "personal"),
        ("data-classification", "pii"),
        ("gdpr.eu/personal-data", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Everything a scan found, ready for any renderer.
#[derive(Debug, Default)]
pub struct ScanResult {
    pub files: usize,
    pub documents: usize,
    /// Counts of the resources found.
    pub estate: Estate,
    /// Every resource found, when the request asks for it (`list_resources`).
    pub listed: Gathered,
    /// Resources left out as never created (`count = 0`, empty `for_each`, false condition).
    pub not_created: usize,
    /// Settings the rules judge whose value only the deployment decides, in path order.
    pub unevaluated: Vec<crate::model::Unevaluated>,
    pub skipped: Vec<Skipped>,
    pub errors: Vec<LoadError>,
    /// Files scanned in spite of a problem (undecodable bytes replaced), with its position.
    pub warnings: Vec<LoadError>,
    /// Input files in the folders scanned that `.gitignore`/`.ignore` files leave out.
    pub ignored: usize,
    /// The settings file in use.
    pub settings: Option<String>,
    /// Overlays and charts rendered before the scan; their files count as scanned.
    pub rendered: Vec<crate::render::RenderedUnit>,
    pub findings: crate::store::Findings,
    pub suppression_warnings: Vec<crate::suppress::SuppressionWarning>,
    /// Suppressions that name no known rule (a typo would otherwise hide nothing, silently).
    pub unknown_suppressions: Vec<UnknownRuleName>,
    /// With a baseline: how many of its entries (of the rules run) match no finding any more.
    pub baseline_fixed: Option<usize>,
}

/// A rule name written in a suppression that names no rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnknownRuleName {
    pub path: String,
    pub line: u32,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Walk(#[from] load::walk::WalkError),
}

pub fn run(
    request: &ScanRequest,
    rules: &[Rule],
    kb: &KnowledgeBase,
) -> Result<ScanResult, ScanError> {
    let phase = crate::timing::phase("walk and render");
    let excludes = load::walk::build_excludes(&request.excludes)?;
    let mut walk = load::walk::discover(&request.paths, &excludes, !request.no_ignore);
    if let Some(dir) = &request.settings_dir
        && !request.settings_excludes.is_empty()
    {
        // The settings file's globs name paths relative to its folder; files named on the
        // command line are scanned whatever they say.
        let settings = load::walk::build_excludes(&request.settings_excludes)?;
        walk.files.retain(|file| {
            request.paths.contains(file)
                || !std::fs::canonicalize(file)
                    .ok()
                    .and_then(|abs| abs.strip_prefix(dir).ok().map(|r| settings.is_match(r)))
                    .unwrap_or(false)
        });
    }

    // Overlays and charts rendered: their files reach the scan through the rendering.
    let mut rendered = crate::render::render(&walk.files, &request.render);
    walk.files.retain(|f| !rendered.covered.contains(f));
    walk.templates
        .retain(|t| !rendered.covered_dirs.iter().any(|d| t.starts_with(d)));

    drop(phase);
    let phase = crate::timing::phase("load, and extract what stands alone");
    crate::limits::reset_held();
    // Values an overlay changed are reported where the overlay writes them, and ordered there.
    let relocations = rendered
        .outcomes
        .iter_mut()
        .flat_map(|o| std::mem::take(&mut o.relocations))
        .collect();
    let mut unit = Unit::new(request, rules, kb, relocations);
    if request.parameter_files.is_empty() {
        // Named as `load_file` names them, so that no path is left out.
        unit.parameter_folders = Some(extract::cloudformation_parameters::PairingFolders::new(
            walk.files.iter().map(|p| p.to_string_lossy()),
        ));
    }
    let mut loaded: Vec<Loaded> = walk
        .files
        .par_iter()
        .map(|p| Loaded::new(load::outline_file(p), Some(p), &unit))
        .collect();
    loaded.extend(
        std::mem::take(&mut rendered.outcomes)
            .into_iter()
            .map(|o| Loaded::new(o, None, &unit)),
    );
    if let Some(bytes) = &request.stdin {
        loaded.push(Loaded::new(load::load_bytes("-", bytes), None, &unit));
    }
    drop(phase);
    let (mut result, directives, metadata) =
        evaluate(request, Gathering::of(loaded), walk.unreadable, &unit);
    result.ignored = walk.ignored;
    // One rendered outcome stands for the files that went into it.
    result.files =
        result.files - rendered.units.len() + rendered.units.iter().map(|u| u.files).sum::<usize>();
    result.rendered = rendered.units;
    for path in &walk.templates {
        result.skipped.push(load::Skipped {
            path: path.display().to_string(),
            reason: "template source: render it and scan the output (`sovscan scan -` reads it from stdin)".into(),
        });
    }
    for (path, in_place) in &walk.shadowed {
        result.skipped.push(load::Skipped {
            path: path.display().to_string(),
            reason: format!(
                "OpenTofu reads {} in its place",
                in_place
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            ),
        });
    }
    for (path, kind) in &walk.foreign {
        result.skipped.push(load::Skipped {
            path: path.display().to_string(),
            reason: (*kind).into(),
        });
    }
    if !request.known_rules.is_empty() {
        let _phase = crate::timing::phase("unknown suppressions");
        result.unknown_suppressions =
            unknown_suppressions(request, &walk.files, &directives, &metadata);
    }
    Ok(result)
}

/// Finds, reads and parses the inputs as a scan does, and nothing more: the floor a scan's
/// cost is measured against. Returns the number of files and of documents loaded.
pub fn parse_only(
    paths: &[PathBuf],
    excludes: &[String],
    no_ignore: bool,
) -> Result<(usize, usize), ScanError> {
    let _phase = crate::timing::phase("read and parse");
    let excludes = load::walk::build_excludes(excludes)?;
    let walk = load::walk::discover(paths, &excludes, !no_ignore);
    let documents = walk
        .files
        .par_iter()
        .map(|p| {
            let outcome = load::load_file(p);
            // A large snapshot is parsed item by item, as a scan reads it; it is one document.
            let snapshot = outcome.snapshot.as_ref().map_or(0, |snapshot| {
                let all: Vec<usize> = (0..snapshot.items.len()).collect();
                let _ = snapshot.parse_items(&all, |_, _| None::<()>);
                1
            });
            outcome.documents.len() + snapshot
        })
        .sum();
    Ok((walk.files.len(), documents))
}

/// A scan of inputs that are not files (live sources): each input is loaded as a file of
/// that name would be, so findings, reports and exit codes are those of a file scan.
pub fn run_inputs(
    request: &ScanRequest,
    inputs: &[(String, Vec<u8>)],
    rules: &[Rule],
    kb: &KnowledgeBase,
) -> ScanResult {
    let mut scan = InputScan::new(request, rules, kb);
    scan.add(inputs);
    scan.finish()
}

/// `run_inputs` for inputs that come batch by batch (the pages of a live source): each batch
/// is loaded, extracted and evaluated as it comes, on every core, and dropped then, so that
/// the scan holds one batch and what it keeps of the resources, not every input.
pub struct InputScan<'a> {
    request: &'a ScanRequest,
    unit: Unit<'a>,
    gathered: Gathering,
}

impl<'a> InputScan<'a> {
    pub fn new(request: &'a ScanRequest, rules: &'a [Rule], kb: &'a KnowledgeBase) -> Self {
        InputScan {
            request,
            // Each input is named by its own address, which only its findings name.
            unit: Unit::new(request, rules, kb, Vec::new()).paths_in_records(),
            // Every input's text is at hand as it is loaded: its inline suppression lines are
            // found then, and an input without any is not listed.
            gathered: Gathering::new(Directives::all_read(), 0),
        }
    }

    /// Loads a batch of inputs, each as a file of its name would be.
    pub fn add(&mut self, inputs: &[(String, Vec<u8>)]) {
        let unit = &self.unit;
        let loaded: Vec<Loaded> = inputs
            .par_iter()
            .map(|(name, bytes)| Loaded::new(load::load_bytes(name, bytes), None, unit))
            .collect();
        for l in loaded {
            self.gathered.take(l);
        }
    }

    pub fn finish(self) -> ScanResult {
        evaluate(self.request, self.gathered, Vec::new(), &self.unit).0
    }
}

/// What every unit of a scan shares: the extraction settings known before all files are
/// loaded, the rules, and what the scan keeps of the resources it drops, so that a unit's
/// resources are evaluated, counted and dropped as soon as it is extracted.
struct Unit<'a> {
    kb: &'a KnowledgeBase,
    early: ExtractOptions,
    /// The settings rules read, over no resources: each unit reads its own.
    ctx: Context<'a>,
    rules: Engine<'a>,
    /// Rules left out of the selection, run for the estate summary's provider ties.
    estate: Engine<'a>,
    /// The findings of the selected rules, as the units give them.
    findings: crate::store::Collector,
    /// Findings that hold only if a scan-wide check confirms them (`Engine::candidate_findings`).
    candidates: crate::store::Collector,
    /// What the scan keeps of the resources it drops.
    folded: std::sync::Mutex<Folded>,
    /// Per snapshot file and grouping key (`Grouping::Owner`: a region for RES-001 to
    /// RES-003), the first item in resource order, which may list others in its findings;
    /// held until the snapshot is read (`settle_item`).
    owners: std::sync::Mutex<HashMap<(Arc<str>, String), Resource>>,
    list_resources: bool,
    /// The folders whose CloudFormation templates a parameter file of the scan may belong to;
    /// a template read from a file in any other folder is extracted as soon as it is loaded,
    /// not read again with its unit. `None` when every template waits for the pairing
    /// (`--parameter-file` given).
    parameter_folders: Option<extract::cloudformation_parameters::PairingFolders>,
    /// The parameter values every template is given (`--parameter`).
    given: Vec<(String, String)>,
}

/// What the scan keeps of the resources it drops: counts, metadata suppressions, and their
/// names when the request lists resources.
#[derive(Default)]
struct Folded {
    estate: Estate,
    metadata: Vec<MetadataSuppression>,
    listed: Gathered,
    /// Every bucket, for log senders of other units to name.
    buckets: Buckets,
    /// The settings the resources' rules could not judge.
    unevaluated: Vec<crate::model::Unevaluated>,
}

/// Every bucket of a scan, in pieces of exact size: one vector would double as it grows.
#[derive(Default)]
struct Buckets(Vec<Vec<Bucket>>);

impl Buckets {
    const PIECE: usize = 4096;

    fn push(&mut self, bucket: Bucket) {
        match self.0.last_mut() {
            Some(last) if last.len() < last.capacity() => last.push(bucket),
            _ => {
                let mut piece = Vec::with_capacity(Self::PIECE);
                piece.push(bucket);
                self.0.push(piece);
            }
        }
    }

    fn append(&mut self, buckets: Vec<Bucket>) {
        if buckets.len() >= Self::PIECE {
            self.0.push(buckets);
        } else {
            buckets.into_iter().for_each(|b| self.push(b));
        }
    }

    /// All of them, in order.
    fn into_sorted(self) -> Vec<Bucket> {
        let mut all = Vec::with_capacity(self.0.iter().map(Vec::len).sum());
        for piece in self.0 {
            all.extend(piece);
        }
        all.par_sort_unstable();
        all
    }
}

impl<'a> Unit<'a> {
    fn new(
        request: &'a ScanRequest,
        rules: &'a [Rule],
        kb: &'a KnowledgeBase,
        relocations: Vec<load::Relocation>,
    ) -> Self {
        let rules = Engine::new(rules, request.profile);
        let early = early_options(request, rules.has_conditions());
        Unit {
            kb,
            given: extract::cloudformation::given_values(&early),
            early,
            ctx: context(request, kb, &[]),
            rules,
            estate: Engine::new(&request.estate_rules, request.profile),
            findings: crate::store::Collector::new(crate::store::budget(), relocations)
                .adjusting(request.adjust.clone()),
            candidates: crate::store::Collector::new(crate::store::budget() / 4, Vec::new()),
            folded: Default::default(),
            owners: Default::default(),
            list_resources: request.list_resources,
            parameter_folders: None,
        }
    }

    /// Findings written with their paths' text (`Collector::paths_in_records`).
    fn paths_in_records(mut self) -> Self {
        self.findings = self.findings.paths_in_records();
        self.candidates = self.candidates.paths_in_records();
        self
    }

    /// Whether a CloudFormation template read from a file can have no parameter file of its
    /// own, and so can be extracted at once.
    fn template_stands_alone(&self, path: &str) -> bool {
        self.parameter_folders
            .as_ref()
            .is_some_and(|folders| !folders.may_pair(path))
    }

    /// Runs the rules of a unit's resources that need no other unit, and the rules that group
    /// the unit's resources; sheds what only those rules read; counts into the estate, and
    /// drops, the resources no scan-wide check reads. Returns those it reads. Findings go to
    /// the collector; `left_out` are findings of rules left out of the selection, which only
    /// tie resources to providers.
    fn settle(&self, mut resources: Vec<Resource>, left_out: Vec<Finding>) -> Vec<Resource> {
        extract::sort_resources(&mut resources);
        if self.rules.has_conditions() {
            resources
                .par_iter_mut()
                .filter(|r| r.settled.is_none())
                .for_each(|r| {
                    let unknown = self.rules.unevaluated_of(r);
                    r.unevaluated.extend(unknown);
                });
        }
        let ctx = self.ctx.over(&resources);
        self.unit_findings(&ctx);
        self.findings.tie(left_out);
        // A chunk of resources at a time, handed to the store by the core that made its
        // findings: a file of thousands of documents (a cluster's export, a plan) would
        // otherwise hold every finding of its resources before taking any, and the store
        // would take them on one core while the others wait.
        resources.par_chunks(SETTLE_CHUNK).for_each(|chunk| {
            let each: Vec<(Vec<Finding>, Vec<Finding>)> = chunk
                .par_iter()
                .map(|r| self.own_findings(&ctx, r))
                .collect();
            let (mut findings, mut ties) = (Vec::new(), Vec::new());
            for (mut own, mut estate) in each {
                findings.append(&mut own);
                ties.append(&mut estate);
            }
            self.findings.add(findings);
            self.findings.tie(ties);
        });
        // Snapshot items made theirs when they were read (`settle_item`).
        let (candidates, mut buckets): (Vec<Vec<Finding>>, Vec<Option<Bucket>>) = resources
            .par_iter()
            .filter(|r| r.settled.is_none())
            .map(|r| (self.rules.candidate_findings(&ctx, r), Bucket::of(&ctx, r)))
            .unzip();
        self.candidates
            .add(candidates.into_iter().flatten().collect());
        let keep: Vec<bool> = resources
            .par_iter()
            .map(|r| checks::keep_for_scan(&ctx, r))
            .collect();
        let mut buckets: Vec<Bucket> = buckets.drain(..).flatten().collect();
        checks::cloud_log_buckets::retain_pairable(&ctx, &mut buckets, &resources);
        drop(ctx);
        if !buckets.is_empty()
            && let Ok(mut folded) = self.folded.lock()
        {
            folded.buckets.append(buckets);
        }
        resources
            .par_iter_mut()
            .filter(|r| r.settled.is_none() && !checks::needs_estate(r))
            .for_each(settle);
        let (kept, dropped): (Vec<_>, Vec<_>) =
            resources.into_iter().zip(keep).partition(|(_, keep)| *keep);
        self.fold(dropped.into_iter().map(|(r, _)| r).collect());
        kept.into_iter().map(|(r, _)| r).collect()
    }

    /// The findings of a resource's own rules, selected and left out; none when it needs
    /// other units or is settled already.
    fn own_findings(&self, ctx: &Context, resource: &Resource) -> (Vec<Finding>, Vec<Finding>) {
        if resource.settled.is_some() || checks::needs_estate(resource) {
            return Default::default();
        }
        (
            self.rules.findings_of(ctx, resource),
            self.estate.tying_findings_of(ctx, resource),
        )
    }

    /// `settle` for one item of a snapshot or one resource of a plan, whose unit is the whole
    /// file, and whose own rules read no other resource of it: its own rules run, its
    /// candidate findings and bucket record are made, and it is counted and dropped, unless
    /// a scan-wide check reads it, or the rules that group the file's resources find
    /// something on it that depends on other items: then it is returned, settled, for
    /// `settle`. (A resource on which a unit check finds nothing alone takes no part in that
    /// check's groups.) The first item of each region that may take others into its finding
    /// is held until the file is read (`take_owners`).
    fn settle_item(&self, mut resource: Resource) -> Option<Resource> {
        if self.rules.has_conditions() {
            let unknown = self.rules.unevaluated_of(&resource);
            resource.unevaluated.extend(unknown);
        }
        let (own, left_out) = self.own_findings(&self.ctx, &resource);
        self.findings.add(own);
        self.findings.tie(left_out);
        self.candidates
            .add(self.rules.candidate_findings(&self.ctx, &resource));
        if let Some(bucket) = Bucket::of(&self.ctx, &resource)
            && let Ok(mut folded) = self.folded.lock()
        {
            folded.buckets.push(bucket);
        }
        let alone = self.ctx.over(std::slice::from_ref(&resource));
        let scan_wide = checks::keep_for_scan(&alone, &resource);
        let hits = self.rules.unit_hits_any(&alone) || self.estate.unit_hits_any(&alone);
        let grouping = self
            .rules
            .grouping(&alone, &resource)
            .and(self.estate.grouping(&alone, &resource));
        drop(alone);
        if !checks::needs_estate(&resource) {
            settle(&mut resource);
        }
        if scan_wide || (hits && grouping == Grouping::Member) {
            return Some(resource);
        }
        if hits {
            if let Grouping::Owner(key) = grouping {
                match self.hold_owner(resource, key) {
                    Some(later) => resource = later,
                    None => return None,
                }
            }
            // Its findings among all the snapshot's resources are those it has alone.
            self.unit_findings(&self.ctx.over(std::slice::from_ref(&resource)));
        }
        self.fold(vec![resource]);
        None
    }

    /// The findings of the rules that group the resources of `ctx`, to the collector; those
    /// of the rules left out, to the provider ties.
    fn unit_findings(&self, ctx: &Context) {
        self.rules
            .unit_findings_in(ctx, |batch| self.findings.add(batch));
        self.estate
            .unit_findings_in(ctx, |batch| self.findings.tie(batch));
    }

    /// Holds an item as the first of its file with its grouping key (`Grouping::Owner`), in
    /// resource order (`sort_resources`); returns the one of the two that comes later, if one
    /// was held.
    fn hold_owner(&self, resource: Resource, key: String) -> Option<Resource> {
        let Ok(mut owners) = self.owners.lock() else {
            return Some(resource);
        };
        fn order(r: &Resource) -> (&str, usize, &str) {
            (&r.path, r.document, &r.address)
        }
        match owners.entry((Arc::clone(&resource.path), key)) {
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(resource);
                None
            }
            std::collections::hash_map::Entry::Occupied(mut entry) => {
                if order(&resource) < order(entry.get()) {
                    Some(std::mem::replace(entry.get_mut(), resource))
                } else {
                    Some(resource)
                }
            }
        }
    }

    /// The items of a snapshot, or resources of a plan, held by `hold_owner`.
    fn take_owners(&self, path: &str) -> Vec<Resource> {
        let Ok(mut owners) = self.owners.lock() else {
            return Vec::new();
        };
        owners
            .extract_if(|(held, _), _| **held == *path)
            .map(|(_, resource)| resource)
            .collect()
    }

    /// Counts resources into the estate, keeps their metadata suppressions (and names), and
    /// drops them.
    fn fold(&self, mut resources: Vec<Resource>) {
        if resources.is_empty() {
            return;
        }
        let mut unevaluated: Vec<crate::model::Unevaluated> = resources
            .iter_mut()
            .flat_map(|r| std::mem::take(&mut r.unevaluated))
            .collect();
        // The resources' ties copied, so that other units add findings while these count.
        let ties: Vec<Option<BTreeSet<String>>> = self.findings.with_ties(|ties| {
            if ties.is_empty() {
                return Vec::new();
            }
            let mut key = (String::new(), String::new());
            let mut tie = |r: &Resource| {
                key.0.replace_range(.., &r.path);
                key.1.replace_range(.., &r.address);
                ties.get(&key).cloned()
            };
            resources.iter().map(&mut tie).collect()
        });
        let count = |estate: &mut Estate, resources: &[Resource]| {
            for (i, r) in resources.iter().enumerate() {
                estate.add(self.kb, r, ties.get(i).and_then(Option::as_ref));
            }
        };
        let mut metadata: Vec<MetadataSuppression> = resources
            .iter()
            .filter_map(MetadataSuppression::of)
            .collect();
        let mut listed = Listing::default();
        if self.list_resources {
            for r in &resources {
                listed.push(r);
            }
        }
        // Many resources are counted into an estate of their own, merged into the scan's
        // after, so that its lock is held briefly, and freed here, on the unit's thread, not
        // all at once at the end. A few (an AWS Config item is one) are counted into the
        // scan's estate directly, which costs less than a merge.
        let own = (resources.len() > COUNTED_UNDER_LOCK).then(|| {
            let mut estate = Estate::default();
            count(&mut estate, &resources);
            estate
        });
        if own.is_some() {
            // Freed on every core: a plan's or a large file's resources are many.
            std::mem::take(&mut resources)
                .into_par_iter()
                .with_min_len(SETTLE_CHUNK)
                .for_each(drop);
        }
        if let Ok(mut all) = self.folded.lock() {
            match own {
                Some(estate) => all.estate.merge(estate),
                None => count(&mut all.estate, &resources),
            }
            all.metadata.append(&mut metadata);
            all.listed.append(listed);
            all.unevaluated.append(&mut unevaluated);
        }
    }
}

/// The most resources `Unit::fold` counts while it holds the scan's estate.
const COUNTED_UNDER_LOCK: usize = 4;

/// Resources of a unit whose own findings are made and handed to the store together.
const SETTLE_CHUNK: usize = 512;

/// Sheds a resource whose own rules have run, keeping what scan-wide checks and suppressions
/// read.
fn settle(resource: &mut Resource) {
    let settled = Settled {
        provisioner: (resource.kind == "StorageClass")
            .then(|| checks::kubernetes_bindings::provisioner(resource).map(str::to_string))
            .flatten(),
        ignore: crate::suppress::written_metadata_directive(resource),
        ..Default::default()
    };
    resource.settle(settled, checks::SCAN_FACTS);
}

/// The settings rules read, with the resources cross-resource checks look at.
fn context<'a>(
    request: &ScanRequest,
    kb: &'a KnowledgeBase,
    resources: &'a [Resource],
) -> Context<'a> {
    Context {
        kb,
        profile: request.profile,
        personal_data_labels: request.personal_data_labels.as_slice().into(),
        deploy_regions: request.deploy_regions.as_slice().into(),
        max_log_retention_days: request.max_log_retention_days,
        require_customer_managed_keys: request.require_customer_managed_keys,
        allowed_countries: request.allowed_countries.as_slice().into(),
        own_hosts: request.own_hosts.as_slice().into(),
        resources,
        buckets: &[],
    }
}

/// A loaded file, with the resources of its documents that stand alone already extracted and
/// their trees freed. Documents whose values come from other files are outlined; their trees
/// are dropped too when the file can be read again with its unit, and kept otherwise (stdin,
/// rendered and live inputs).
struct Loaded {
    /// What is left of the outcome to count, report or extract; `None` when nothing is (most
    /// files: a scan holds one of these per file).
    outcome: Option<Box<FileOutcome>>,
    /// Lines with inline suppressions.
    directives: Option<Vec<(u32, String)>>,
    /// The file on disk the outcome was read from, when its outlined documents are read again.
    source: Option<Reread>,
    /// Outlines of the documents whose values come from other files.
    outlines: Vec<Outline>,
    /// The resources of its documents that stand alone that scan-wide checks read.
    resources: Vec<Resource>,
    /// Documents extracted early, counted in the summary.
    extracted_documents: usize,
    /// Resources of the templates extracted early that a condition leaves out.
    not_created: usize,
    /// The file's path as its documents name it.
    path: Option<Arc<str>>,
    /// What the rules do not read of its documents (a plan's Helm releases), to be listed.
    skipped: Vec<load::Skipped>,
}

impl Loaded {
    fn new(mut outcome: FileOutcome, source: Option<&PathBuf>, unit: &Unit) -> Self {
        let (kb, options) = (unit.kb, &unit.early);
        let mut resources = Vec::new();
        let mut skipped = Vec::new();
        let mut before = outcome.documents.len();
        let mut path = outcome.documents.first().map(|d| Arc::clone(&d.path));
        if let Some(snapshot) = outcome.snapshot.take() {
            // Items are evaluated one by one; those that no scan-wide or unit check reads are
            // counted into the estate and dropped there and then.
            let read =
                extract::aws_config::extract_snapshot(&snapshot, kb, |r| unit.settle_item(r));
            let errors = read.errors;
            resources = read.resources;
            resources.extend(unit.take_owners(&snapshot.path));
            // One report per file, at its first item that does not parse, counting the rest.
            let more = errors.len().saturating_sub(1);
            let first = errors.into_iter().next().map(|mut e| {
                if more > 0 {
                    let items = if more == 1 {
                        "item that does not"
                    } else {
                        "items that do not"
                    };
                    e.reason
                        .push_str(&format!(" (and {more} more {items} parse)"));
                }
                e
            });
            outcome.error = outcome.error.take().or(first);
            before += 1;
            path = Some(Arc::clone(&snapshot.path));
        }
        outcome.documents.retain_mut(|doc| {
            let found = match doc.format {
                // A plan's resources, like a snapshot's items, are evaluated one by one as
                // they are made, and most are dropped there and then: a plan is often an
                // estate's every resource, in one file.
                load::Format::TerraformPlan => {
                    let each = |r| unit.settle_item(r);
                    let mut kept = extract::terraform::plan::extract_each(
                        doc,
                        kb,
                        options,
                        each,
                        &mut skipped,
                    );
                    kept.extend(unit.take_owners(&doc.path));
                    kept
                }
                _ => match extract::take_standalone(doc, kb, options) {
                    Some(found) => found,
                    None => return true,
                },
            };
            resources.extend(found);
            false
        });
        let mut resources = unit.settle(resources, Vec::new());
        // Templates with no parameter file of their own: their unit is the file.
        let mut not_created = 0;
        if source.is_some() {
            let mut templates = Vec::new();
            outcome.documents.retain(|doc| {
                if doc.format != load::Format::Cloudformation
                    || !unit.template_stands_alone(&doc.path)
                {
                    return true;
                }
                let found = extract::cloudformation::extract_environments(
                    doc,
                    None,
                    &unit.given,
                    kb,
                    options,
                );
                templates.extend(found.resources);
                not_created += found.not_created;
                false
            });
            if !templates.is_empty() {
                resources.extend(unit.settle(templates, Vec::new()));
            }
        }
        let mut outlines: Vec<Outline> = outcome
            .documents
            .iter()
            .filter_map(units::outline)
            .collect();
        // A Terraform file outlined from its text: one document, parsed with its unit.
        if let Some(outlined) = outcome.outlined.take() {
            outlines.push(outlined.outline);
            before += 1;
            path = Some(outlined.path);
        }
        if source.is_some() {
            outcome.documents = Vec::new();
        }
        let directives = outcome.directives.take();
        let spent = outcome.documents.is_empty()
            && outcome.skipped_documents == 0
            && outcome.skipped.is_none()
            && outcome.error.is_none()
            && outcome.warnings.is_empty()
            && outcome.parameter_file.is_none();
        Loaded {
            not_created,
            extracted_documents: before - outcome.documents.len(),
            outcome: (!spent).then(|| Box::new(outcome)),
            directives,
            source: source
                .filter(|_| !outlines.is_empty())
                .map(|file| match &path {
                    Some(named) if file.to_str() == Some(&**named) => Reread::Named,
                    _ => Reread::At(file.clone()),
                }),
            outlines,
            resources,
            path,
            skipped,
        }
    }
}

/// The extraction settings a document that stands alone can use before every file is loaded.
/// `resolve_trees`: whether the rules state data conditions (`Engine::has_conditions`).
fn early_options(request: &ScanRequest, resolve_trees: bool) -> ExtractOptions {
    ExtractOptions {
        resolve_trees,
        deploy_regions: request.deploy_regions.clone(),
        var_files: request
            .var_files
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        parameters: request.parameters.clone(),
        ..Default::default()
    }
}

/// What a scan keeps of its files as they are loaded, one at a time: what is counted and
/// reported of them, their inline suppression lines, the resources that stand alone, and the
/// outlines left for their units. A file taken is dropped: a scan of many inputs (a live
/// source's) holds none of them.
struct Gathering {
    result: ScanResult,
    parameter_files: Vec<extract::cloudformation_parameters::ParameterFile>,
    deferred: Vec<Deferred>,
    early_resources: Vec<Vec<Resource>>,
    directives: Directives,
}

impl Gathering {
    /// `outlined`: how many of the files to come have outlines, which their units read.
    fn new(directives: Directives, outlined: usize) -> Self {
        Gathering {
            result: ScanResult::default(),
            parameter_files: Vec::new(),
            // One per file of Terraform, CloudFormation or ARM: a vector grown a push at a
            // time would hold room for as many again.
            deferred: Vec::with_capacity(outlined),
            early_resources: Vec::new(),
            directives,
        }
    }

    /// Gathers everything a file scan of `loaded` gives.
    fn of(loaded: Vec<Loaded>) -> Self {
        let outlined = loaded.iter().filter(|l| !l.outlines.is_empty()).count();
        let mut gathered = Gathering::new(Directives::default(), outlined);
        for l in loaded {
            gathered.take(l);
        }
        gathered
    }

    fn take(&mut self, loaded: Loaded) {
        let Loaded {
            outcome,
            directives: lines,
            source,
            outlines,
            resources,
            extracted_documents,
            not_created,
            path,
            skipped,
        } = loaded;
        let result = &mut self.result;
        result.files += 1;
        result.not_created += not_created;
        let mut outcome = outcome.map_or_else(FileOutcome::default, |o| *o);
        if !resources.is_empty() {
            self.early_resources.push(resources);
        }
        result.documents += extracted_documents;
        self.parameter_files.extend(outcome.parameter_file.take());
        let path = match (path, &outcome.skipped, &outcome.error) {
            (Some(path), _, _) => Some(path),
            (None, Some(s), _) => Some(Arc::from(s.path.as_str())),
            (None, None, Some(e)) => Some(Arc::from(e.path.as_str())),
            (None, None, None) => None,
        };
        if let (Some(path), Some(lines)) = (&path, lines) {
            self.directives.insert(Arc::clone(path), lines);
        }
        result.documents += outcome.documents.len() + outcome.skipped_documents;
        if let Some(path) = path.filter(|_| !outlines.is_empty()) {
            self.deferred.push(Deferred {
                path,
                source,
                outlines,
                held: outcome.documents,
            });
        }
        result.skipped.extend(outcome.skipped);
        result.skipped.extend(skipped);
        result.errors.extend(outcome.error);
        result.warnings.extend(outcome.warnings);
    }
}

fn evaluate(
    request: &ScanRequest,
    gathered: Gathering,
    unreadable: Vec<(PathBuf, String)>,
    unit: &Unit,
) -> (ScanResult, Directives, Vec<MetadataSuppression>) {
    let kb = unit.kb;
    let Gathering {
        mut result,
        parameter_files,
        deferred,
        early_resources,
        directives,
    } = gathered;
    for (path, reason) in unreadable {
        result.errors.push(LoadError {
            path: path.display().to_string(),
            line: 0,
            column: 0,
            reason,
        });
    }
    // A variable file that cannot be read is an input error like any other.
    for file in &request.var_files {
        result.errors.extend(load::load_file(file).error);
    }
    let options = ExtractOptions {
        given_parameter_files: request
            .parameter_files
            .iter()
            .filter_map(|f| {
                load::load_parameter_file(f)
                    .map_err(|e| result.errors.push(e))
                    .ok()
            })
            .collect(),
        parameter_files,
        ..unit.early.clone()
    };
    // Terraform, CloudFormation and ARM, unit by unit: each unit's files are read again,
    // extracted, and their resources evaluated and shed before the trees go.
    let phase = crate::timing::phase("Terraform, CloudFormation and ARM units");
    let extracted = extract_units(deferred, &options, unit);
    drop(phase);
    let phase = crate::timing::phase("rules across units");
    // One report per file: an error found with its unit says what a warning of its loading
    // said (undecodable bytes).
    if !extracted.errors.is_empty() {
        let failed: std::collections::HashSet<&str> =
            extracted.errors.iter().map(|e| e.path.as_str()).collect();
        result
            .warnings
            .retain(|w| !failed.contains(w.path.as_str()));
    }
    result.errors.extend(extracted.errors);
    result.documents -= extracted.unread_documents;
    let mut kept = extracted.resources;
    kept.reserve_exact(early_resources.iter().map(Vec::len).sum());
    for resources in early_resources {
        kept.extend(resources);
    }
    extract::sort_resources(&mut kept);
    result.not_created += extracted.not_created;
    result.skipped.extend(extracted.skipped);
    result.skipped.sort();
    result.errors.sort();
    result.warnings.sort();

    // What scan-wide checks read of every unit: claims naming a StorageClass of another file
    // are evaluated now, and log buckets paired with the senders of their folder.
    let buckets = match unit.folded.lock() {
        Ok(mut folded) => std::mem::take(&mut folded.buckets).into_sorted(),
        Err(_) => Vec::new(),
    };
    let ctx = Context {
        buckets: &buckets,
        ..context(request, kb, &kept)
    };
    let mut findings = unit.rules.resource_findings(&ctx, &kept);
    findings.extend(unit.rules.scan_findings(&ctx));
    unit.findings.add(findings);
    let mut left_out = unit.estate.resource_findings(&ctx, &kept);
    left_out.extend(unit.estate.scan_findings(&ctx));
    unit.findings.tie(left_out);
    let confirmed = crate::engine::confirmed_log_buckets(&ctx);
    drop(ctx);
    drop(buckets);
    confirm(unit, &confirmed);
    kept.par_iter_mut()
        .filter(|r| r.settled.is_none())
        .for_each(settle);
    unit.fold(kept);
    let folded = match unit.folded.lock() {
        Ok(mut folded) => std::mem::take(&mut *folded),
        Err(_) => Folded::default(),
    };
    result.estate = folded.estate;
    result.listed = folded.listed;
    // A module several roots or environments deploy reads the same setting once for each.
    result.unevaluated = crate::model::Unevaluated::gathered(folded.unevaluated);
    drop(phase);
    let _phase = crate::timing::phase("order and suppress findings");
    let today = crate::suppress::today();
    let mut inline = crate::suppress::Inline::new(&folded.metadata, &directives, &today);
    // Marked as the runs of findings are merged into report order.
    let findings = unit.findings.finish_with(&mut inline);
    result.suppression_warnings = inline.warnings();
    result.findings = findings;
    (result, directives, folded.metadata)
}

/// Moves the candidate findings that scan-wide checks confirm to the findings.
fn confirm(unit: &Unit, confirmed: &std::collections::HashSet<(Arc<str>, String)>) {
    let candidates = unit.candidates.finish();
    if !confirmed.is_empty() {
        let mut batch = Vec::new();
        let mut key = (Arc::<str>::from(""), String::new());
        for f in candidates.iter() {
            key.0 = Arc::clone(&f.location.path);
            key.1.replace_range(.., &f.resource.address);
            if confirmed.contains(&key) {
                batch.push(f.clone());
                if batch.len() == 4096 {
                    unit.findings.add(std::mem::take(&mut batch));
                }
            }
        }
        unit.findings.add(batch);
    }
    // Writing the candidates or reading them back failed: the scan fails as for findings.
    if let Some(error) = candidates.error() {
        unit.findings.fail(error);
    }
}

/// Where a file whose documents are outlined is read again with its unit.
enum Reread {
    /// At the path its documents name: most files, which need no second copy of it.
    Named,
    /// At another path.
    At(PathBuf),
}

impl Reread {
    fn path<'a>(&'a self, named: &'a str) -> &'a std::path::Path {
        match self {
            Reread::Named => std::path::Path::new(named),
            Reread::At(file) => file,
        }
    }
}

/// A file with documents whose values come from other files.
struct Deferred {
    /// The path its documents name.
    path: Arc<str>,
    /// The file on disk, read again with its unit; `None` when its documents are `held`.
    source: Option<Reread>,
    outlines: Vec<Outline>,
    held: Vec<Document>,
}

/// What the units of a scan gave, their resources settled.
#[derive(Default)]
struct UnitsExtracted {
    resources: Vec<Resource>,
    /// Documents counted as they were loaded that did not parse with their unit.
    unread_documents: usize,
    not_created: usize,
    skipped: BTreeSet<Skipped>,
    errors: Vec<LoadError>,
}

/// Extracts the deferred files unit by unit, on every core, evaluating and shedding each
/// unit's resources before its trees are dropped.
fn extract_units(files: Vec<Deferred>, options: &ExtractOptions, unit: &Unit) -> UnitsExtracted {
    let outlined: Vec<(&str, &[Outline])> = files
        .iter()
        .map(|f| (&*f.path, f.outlines.as_slice()))
        .collect();
    let (done, unpaired) = extract::by_unit(options, &outlined, |group, pairing| {
        let mut out = UnitsExtracted::default();
        // A Terraform file outlined as it was loaded is parsed here, for the first time: what
        // stops it parsing is reported now.
        let read: Vec<(Vec<Document>, Option<LoadError>)> = group
            .files
            .iter()
            .map(|&i| match &files[i].source {
                Some(source) => {
                    let again = load::reload_file(source.path(&files[i].path));
                    let docs = again.documents.into_iter();
                    let docs = docs.filter(|d| d.format == group.format).collect();
                    (docs, again.error)
                }
                None => (Vec::new(), None),
            })
            .collect();
        let mut docs: Vec<&Document> = Vec::new();
        for (&i, (again, error)) in group.files.iter().zip(&read) {
            let file = &files[i];
            let before = docs.len();
            match file.source {
                Some(_) => docs.extend(again),
                None => docs.extend(file.held.iter().filter(|d| d.format == group.format)),
            }
            let outlined = file.outlines.iter().filter(|o| o.format() == group.format);
            let (got, expected) = (docs.len() - before, outlined.count());
            if got == expected {
                continue;
            }
            out.errors.push(match error {
                Some(error) if got < expected => {
                    out.unread_documents += expected - got;
                    error.clone()
                }
                _ => LoadError {
                    path: file.path.to_string(),
                    line: 0,
                    column: 0,
                    reason: "the file changed while it was scanned: scan it again".into(),
                },
            });
        }
        let found = extract::extract_unit(group.format, &docs, unit.kb, options, pairing);
        drop(docs);
        drop(read);
        out.resources = unit.settle(found.resources, Vec::new());
        out.not_created = found.not_created;
        out.skipped = found.unresolved;
        out
    });
    let mut all = UnitsExtracted {
        skipped: unpaired.into_iter().collect(),
        ..Default::default()
    };
    all.resources
        .reserve_exact(done.iter().map(|u| u.resources.len()).sum());
    for mut one in done {
        all.resources.append(&mut one.resources);
        all.not_created += one.not_created;
        all.skipped.append(&mut one.skipped);
        all.errors.append(&mut one.errors);
        all.unread_documents += one.unread_documents;
    }
    all
}

/// Inline and metadata suppressions that name a rule that does not exist.
fn unknown_suppressions(
    request: &ScanRequest,
    files: &[PathBuf],
    directives: &Directives,
    metadata: &[MetadataSuppression],
) -> Vec<UnknownRuleName> {
    use crate::suppress::{inline_rule_names, inline_rule_names_in};
    let known = |name: &str| {
        name == "all"
            || request
                .known_rules
                .iter()
                .any(|k| k.eq_ignore_ascii_case(name))
    };
    let unknown = |path: &str, line: u32, name: String| UnknownRuleName {
        path: path.to_string(),
        line,
        name,
    };
    let mut found: Vec<UnknownRuleName> = files
        .par_iter()
        .flat_map_iter(|path| {
            let shown = path.display().to_string();
            // Files skipped before their text was read (Helm templates) are read here.
            let names = match directives.get(shown.as_str()) {
                Some(lines) => inline_rule_names_in(lines),
                None => inline_rule_names(&load::read_text(path).unwrap_or_default()),
            };
            names
                .into_iter()
                .filter(|(_, name)| !known(name))
                .map(|(line, name)| unknown(&shown, line, name))
                .collect::<Vec<_>>()
        })
        .collect();
    if request.stdin.is_some() {
        for (line, name) in directives
            .get("-")
            .map_or_else(Vec::new, inline_rule_names_in)
        {
            if !known(&name) {
                found.push(unknown("-", line, name));
            }
        }
    }
    for m in metadata {
        for name in &m.rules {
            if !known(name) {
                found.push(unknown(&m.path, m.line, name.clone()));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}
