//! The rule engine: embedded and user rules, selection, and evaluation of rules × resources.
//! Pure: no I/O while evaluating; findings come out sorted.

pub mod checks;
pub mod condition;
pub mod rule;

use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::extract::facts;
use crate::finding::{Finding, ResourceRef, Severity};
use crate::knowledge::KnowledgeBase;
use crate::load::Format;
use crate::location::Location;
use crate::model::Resource;
use crate::tree::Node;
use checks::{Check, Hit};
use condition::Condition;
pub use rule::{Profile, Rule, RuleError};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
include!(concat!(env!("OUT_DIR"), "/builtin_rules_json.rs"));

/// The rules shipped inside the binary.
pub fn builtin_rules() -> Result<Vec<Rule>, RuleError> {
    let mut rules = Vec::new();
    for (path, text) in BUILTIN_RULES {
        // The JSON form read at build time, when there is one: YAML costs several times more.
        let json = BUILTIN_RULES_JSON
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, json)| *json);
        match json.and_then(|json| rule::parse_rules_json(path, json)) {
            Some(parsed) => rules.extend(parsed?),
            None => rules.extend(rule::parse_rules(path, text)?),
        }
    }
    Ok(rules)
}

/// Built-in rules plus user rule packs; duplicate ids are an error.
pub fn all_rules(extra_dirs: &[std::path::PathBuf]) -> Result<Vec<Rule>, RuleError> {
    let mut rules = builtin_rules()?;
    for dir in extra_dirs {
        rules.extend(rule::load_dir(dir)?);
    }
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for r in &rules {
        for key in [&r.id, &r.name] {
            if let Some(first) = seen.insert(key.clone(), r.source.clone()) {
                return Err(RuleError::Other {
                    path: r.source.clone(),
                    reason: format!("rule id or name {key:?} is already defined in {first}"),
                });
            }
        }
    }
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rules)
}

/// Keeps rules picked by `--select` (all when empty) and not picked by `--ignore`.
pub fn select_rules(rules: Vec<Rule>, select: &[String], ignore: &[String]) -> Vec<Rule> {
    rules
        .into_iter()
        .filter(|r| select.is_empty() || select.iter().any(|t| r.selected_by(t)))
        .filter(|r| !ignore.iter().any(|t| r.selected_by(t)))
        .collect()
}

/// Where data kept in a country stands (`Context::standing_of`), from the best to the worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// In the EU/EEA, in a country the settings allow, or (profile `adequacy`) in a country
    /// with an adequacy decision.
    Inside,
    /// In a country with an adequacy decision, under profile `eu`: lawful without further
    /// safeguards, reported low (RES-002).
    Adequacy,
    /// Anywhere else, adequacy countries too under profile `strict`.
    Outside,
}

/// Settings a check may read.
pub struct Context<'a> {
    pub kb: &'a KnowledgeBase,
    pub profile: Profile,
    /// Label keys/values that mark personal data (`data-classification: personal`).
    pub personal_data_labels: Arc<[(String, String)]>,
    /// Regions supplied for region-agnostic templates (`--deploy-region`).
    pub deploy_regions: Arc<[String]>,
    /// Longest log retention the policy accepts (GDPR-006), in days.
    pub max_log_retention_days: i64,
    /// The policy asks for customer-managed keys (GDPR-002); profile `strict` always does.
    pub require_customer_managed_keys: bool,
    /// Countries (ISO codes, upper case) the organisation allows beyond its profile
    /// (`allow: {countries: [CH]}` in the settings file): locations there are not findings.
    pub allowed_countries: Arc<[String]>,
    /// The organisation's own registries and service hosts with their country (upper case),
    /// from `registries:` in the settings file; a host covers its subdomains.
    pub own_hosts: Arc<[(String, String)]>,
    /// The resources checks that look across resources read: those of the unit evaluated,
    /// or, once every unit is evaluated, those the scan keeps (see `checks::keep_for_scan`).
    pub resources: &'a [Resource],
    /// Once every unit is evaluated: what the scan keeps of every bucket, for the log senders
    /// of `resources` to name. Empty while a unit is evaluated.
    pub buckets: &'a [checks::cloud_log_buckets::Bucket],
}

impl<'a> Context<'a> {
    /// The same settings, over other resources: the settings are shared, not copied.
    pub fn over<'b>(&self, resources: &'b [Resource]) -> Context<'b>
    where
        'a: 'b,
    {
        Context {
            kb: self.kb,
            profile: self.profile,
            personal_data_labels: Arc::clone(&self.personal_data_labels),
            deploy_regions: Arc::clone(&self.deploy_regions),
            max_log_retention_days: self.max_log_retention_days,
            require_customer_managed_keys: self.require_customer_managed_keys,
            allowed_countries: Arc::clone(&self.allowed_countries),
            own_hosts: Arc::clone(&self.own_hosts),
            resources,
            buckets: &[],
        }
    }

    /// The country of one of the organisation's own hosts, when `host` is one.
    pub fn own_host_country(&self, host: &str) -> Option<&str> {
        let host = host.to_ascii_lowercase();
        self.own_hosts
            .iter()
            .find(|(own, _)| {
                host == *own
                    || host
                        .strip_suffix(own.as_str())
                        .is_some_and(|rest| rest.ends_with('.'))
            })
            .map(|(_, country)| country.as_str())
    }

    /// Does the organisation's own policy allow data in `country`, whatever the profile says?
    pub fn country_allowed(&self, country: &str) -> bool {
        self.allowed_countries
            .iter()
            .any(|c| c.eq_ignore_ascii_case(country))
    }

    /// How data kept in `country` stands under the profile and the organisation's settings:
    /// one judgement for every rule that places data (a resource's region, its replicas, its
    /// multi-region locations, the nodes its pods are pinned to).
    pub fn standing_of(&self, country: &str) -> Standing {
        use crate::knowledge::Jurisdiction;
        if self.country_allowed(country) {
            return Standing::Inside;
        }
        match self.kb.jurisdiction_of(country) {
            Jurisdiction::Eu | Jurisdiction::Eea => Standing::Inside,
            Jurisdiction::Adequacy => match self.profile {
                Profile::Adequacy => Standing::Inside,
                Profile::Eu => Standing::Adequacy,
                Profile::Strict => Standing::Outside,
            },
            Jurisdiction::ThirdCountry | Jurisdiction::Unknown => Standing::Outside,
        }
    }

    /// How data kept in every one of `countries` stands: the worst of them; `None` when there
    /// are none.
    pub fn standing_of_all(&self, countries: &[String]) -> Option<Standing> {
        countries.iter().map(|c| self.standing_of(c)).max()
    }

    /// Is the resource labelled as holding personal data?
    pub fn is_personal_data(&self, resource: &Resource) -> bool {
        self.personal_data_labels.iter().any(|(k, v)| {
            resource
                .label(k)
                .is_some_and(|actual| actual.eq_ignore_ascii_case(v))
        })
    }
}

/// A message or fix with its `{placeholders}` found once, to be filled for every finding.
#[derive(Debug)]
struct Template {
    parts: Vec<Part>,
    /// An upper bound of the text before it is filled, to reserve.
    len: usize,
}

#[derive(Debug)]
enum Part {
    Text(Box<str>),
    /// A placeholder: its key, filled with the value of that name, or left as written.
    Var(Box<str>),
}

impl Template {
    fn new(template: &str) -> Self {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            text.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            match after.find('}') {
                Some(end)
                    if after[..end]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                {
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text).into()));
                    }
                    parts.push(Part::Var(after[..end].into()));
                    rest = &after[end + 1..];
                }
                _ => {
                    text.push('{');
                    rest = after;
                }
            }
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text.into()));
        }
        Template {
            parts,
            len: template.len(),
        }
    }

    /// The keys of its placeholders.
    fn keys(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(key) => Some(&**key),
            Part::Text(_) => None,
        })
    }

    /// The text with each placeholder `value` has a value for filled with it; the others are
    /// left as written.
    fn fill<'v>(&self, value: impl Fn(&str) -> Option<&'v str>) -> String {
        let mut out = String::with_capacity(self.len);
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Var(key) => match value(key) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(key);
                        out.push('}');
                    }
                },
            }
        }
        out
    }
}

/// The values a finding's texts are filled with: a few, looked up by name; a later value
/// stands for an earlier one of the same name.
struct Vars<'a>(Vec<(&'a str, Cow<'a, str>)>);

impl<'a> Vars<'a> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| &**v)
    }
}

/// Whether `reflow` leaves a value filled into a text as it is: words with one space between
/// them. Filling such values into a reflowed text gives what reflowing the filled text does.
fn joins_as_is(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with(' ')
        && !value.ends_with(' ')
        && !value.contains("  ")
        && !value.contains(|c: char| c.is_whitespace() && c != ' ')
}

/// Joins the hard-wrapped lines of a YAML block into paragraphs (blank lines stay breaks).
pub fn reflow(text: &str) -> String {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn resource_ref(resource: &Resource, kb: &KnowledgeBase) -> ResourceRef {
    let region = resource.region.as_ref();
    let country = region
        .and_then(|r| r.resolved.as_ref())
        .and_then(|r| r.country().map(str::to_string));
    ResourceRef {
        kind: resource.kind.clone(),
        name: resource.name.clone(),
        namespace: resource.namespace.clone(),
        address: resource.address.clone(),
        format: resource.format.as_str().to_string(),
        provider: resource.provider.clone(),
        service: resource.service.clone(),
        region: region.map(|r| r.value.clone()),
        jurisdiction: country
            .as_deref()
            .map(|c| kb.jurisdiction_of(c).as_str().to_string()),
        country,
        note: resource
            .fact(crate::model::CREATED_IF)
            .and_then(|f| f.value.as_str())
            .map(str::to_string),
        tied: false,
    }
}

/// A rule as its findings carry it: texts shared by every finding of the rule.
struct Active<'r> {
    rule: &'r Rule,
    /// The formats the rule applies to, a bit each (`format_bit`).
    formats: u8,
    severity: Severity,
    check: Option<Check>,
    id: Arc<str>,
    name: Arc<str>,
    title: Arc<str>,
    references: Arc<[String]>,
    /// The remediation, when the rule's fix names no placeholder and reads the same for all.
    remediation: Option<Arc<str>>,
    message: Template,
    /// The fix with its lines joined, to fill with values that joining would leave as they are.
    fix_joined: Template,
    /// The fix as written, to fill and then join.
    fix: Template,
    /// The remediations made, by the values of the fix's placeholders: a fix that names the
    /// service reads the same for thousands of findings, which share its text.
    made: std::sync::Mutex<foldhash::HashMap<Box<str>, Arc<str>>>,
}

impl<'r> Active<'r> {
    fn new(rule: &'r Rule, severity: Severity) -> Self {
        let formats = Format::ALL
            .into_iter()
            .filter(|&f| rule.applies_to_format(f))
            .fold(0, |bits, f| bits | format_bit(f));
        Active {
            rule,
            formats,
            severity,
            check: rule.check.as_deref().and_then(checks::lookup),
            id: Arc::from(rule.id.as_str()),
            name: Arc::from(rule.name.as_str()),
            title: Arc::from(rule.title.as_str()),
            references: Arc::from(rule.references.as_slice()),
            remediation: (!rule.fix.contains('{')).then(|| Arc::from(reflow(rule.fix.trim()))),
            message: Template::new(&rule.message),
            fix_joined: Template::new(&reflow(rule.fix.trim())),
            fix: Template::new(rule.fix.trim()),
            made: std::sync::Mutex::default(),
        }
    }

    /// The remediation of a finding with `vars`: the fix with its placeholders filled, made
    /// once for each set of values (up to [`REMEDIATIONS_MADE`] of them) and shared.
    fn remediation(&self, vars: &Vars) -> Arc<str> {
        if let Some(shared) = &self.remediation {
            return Arc::clone(shared);
        }
        // Each value after its length, so that no two sets of values make the same key.
        let mut key = String::new();
        for name in self.fix_joined.keys() {
            match vars.get(name) {
                Some(value) => {
                    key.push_str(&value.len().to_string());
                    key.push(':');
                    key.push_str(value);
                }
                None => key.push('-'),
            }
        }
        let mut made = self.made.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(text) = made.get(key.as_str()) {
            return Arc::clone(text);
        }
        // Only the values the fix names are filled in: whether they join as they are decides.
        let text: Arc<str> = if self
            .fix_joined
            .keys()
            .all(|key| vars.get(key).is_none_or(joins_as_is))
        {
            Arc::from(self.fix_joined.fill(|key| vars.get(key)))
        } else {
            Arc::from(reflow(&self.fix.fill(|key| vars.get(key))))
        };
        if made.len() < REMEDIATIONS_MADE {
            made.insert(key.into_boxed_str(), Arc::clone(&text));
        }
        text
    }

    /// Whether the rule applies to resources of `format`.
    fn applies_to(&self, format: Format) -> bool {
        self.formats & format_bit(format) != 0
    }
}

/// How many remediations of one rule are kept to be shared: past it, each is made again.
const REMEDIATIONS_MADE: usize = 4096;

fn format_bit(format: Format) -> u8 {
    1 << format as u8
}

/// The reference to a resource its findings share, built at its first finding.
struct SharedRef<'a> {
    resource: &'a Resource,
    built: Option<Arc<ResourceRef>>,
}

impl<'a> SharedRef<'a> {
    fn new(resource: &'a Resource) -> Self {
        SharedRef {
            resource,
            built: None,
        }
    }

    /// The reference, with the hit's provider when the resource names none.
    fn get(&mut self, hit: &Hit, kb: &KnowledgeBase) -> Arc<ResourceRef> {
        let shared = Arc::clone(
            self.built
                .get_or_insert_with(|| Arc::new(resource_ref(self.resource, kb))),
        );
        match &hit.provider {
            Some(provider) if shared.provider.is_none() => Arc::new(ResourceRef {
                provider: Some(provider.clone()),
                tied: true,
                ..(*shared).clone()
            }),
            _ => shared,
        }
    }
}

fn finding(rule: &Active, resource: &mut SharedRef, hit: Hit, ctx: &Context) -> Finding {
    let reference = resource.get(&hit, ctx.kb);
    let resource = resource.resource;
    let mut vars = Vec::with_capacity(6 + hit.vars.len());
    vars.push(("kind", Cow::Borrowed(&*resource.kind)));
    vars.push(("name", Cow::Borrowed(&*resource.name)));
    vars.push(("address", Cow::Borrowed(&*resource.address)));
    if let Some(ns) = &resource.namespace {
        vars.push(("namespace", Cow::Borrowed(&**ns)));
    }
    if let Some(p) = &resource.provider {
        vars.push(("provider", ctx.kb.provider_name(p)));
    }
    if let Some(r) = &resource.region {
        vars.push(("region", Cow::Borrowed(&*r.value)));
    }
    vars.extend(hit.vars.into_iter().map(|(k, v)| (k, Cow::Owned(v))));
    let vars = Vars(vars);
    let message = rule.message.fill(|key| vars.get(key));
    let remediation = rule.remediation(&vars);
    Finding {
        rule_id: Arc::clone(&rule.id),
        rule_name: Arc::clone(&rule.name),
        category: rule.rule.category,
        severity: hit.severity.unwrap_or(rule.severity),
        title: Arc::clone(&rule.title),
        message,
        resource: reference,
        location: hit.location,
        related: hit.related,
        evidence: hit.evidence,
        remediation,
        references: Arc::clone(&rule.references),
        // Made once its path is known as reports name it: relative to the repository root
        // when the scan's adjustment rebases it, else as written (`store::Collector::add`).
        fingerprint: String::new(),
        key: hit.key,
        suppression: None,
        baseline: None,
    }
}

/// The data condition of a rule that matches the resource (`match:`), if it has one.
fn condition_for<'r>(rule: &'r Rule, resource: &Resource) -> Option<&'r Condition> {
    let condition = rule.fail_if.as_ref()?;
    if let Some(m) = &rule.resource_match {
        let kind_ok = m.kinds.is_empty() || m.kinds.iter().any(|k| k == &resource.kind);
        let provider_ok = m.providers.is_empty()
            || resource
                .provider
                .as_ref()
                .is_some_and(|p| m.providers.contains(p));
        let api_ok = m.api_versions.is_empty()
            || resource
                .api_version
                .as_ref()
                .is_some_and(|a| m.api_versions.iter().any(|x| a.starts_with(x.as_str())));
        if !(kind_ok && provider_ok && api_ok) {
            return None;
        }
    }
    Some(condition)
}

fn data_condition_hits(rule: &Rule, resource: &Resource) -> Vec<Hit> {
    let Some(condition) = condition_for(rule, resource) else {
        return Vec::new();
    };
    condition
        .evaluate(&resource.body, &|node| {
            facts::decided_at_deployment(resource.format, node)
        })
        .hits
        .into_iter()
        .map(|h| {
            let location = match &h.node {
                Some(node) => resource.locate(node, &h.route),
                None => resource.start(),
            };
            let mut hit = Hit::at(location);
            hit.evidence = h.node.as_ref().and_then(|n| n.scalar_text());
            if let Some(v) = &hit.evidence {
                hit.vars.push(("value", v.clone()));
            }
            hit
        })
        .collect()
}

/// The rules of a scan ready to run, with the texts their findings share: built once and used
/// by every unit of the scan.
pub struct Engine<'r> {
    active: Vec<Active<'r>>,
    /// Whether any rule states a data condition (`has_conditions`).
    conditions: bool,
}

impl<'r> Engine<'r> {
    /// The rules that run under the profile.
    pub fn new(rules: &'r [Rule], profile: Profile) -> Self {
        let active: Vec<Active> = rules
            .iter()
            .filter_map(|r| Some(Active::new(r, r.severity_for(profile)?)))
            .collect();
        Engine {
            conditions: active.iter().any(|a| a.rule.fail_if.is_some()),
            active,
        }
    }

    /// Every per-resource rule on each resource not yet settled (evaluated with its unit).
    /// Unsorted.
    pub fn resource_findings(&self, ctx: &Context, resources: &[Resource]) -> Vec<Finding> {
        resources
            .par_iter()
            .filter(|r| r.settled.is_none())
            .flat_map_iter(|resource| self.findings_of(ctx, resource))
            .collect()
    }

    /// Whether any rule states a data condition (`fail_if`): only those read a resource's tree
    /// with the values the files give its expressions (`ExtractOptions::resolve_trees`).
    pub fn has_conditions(&self) -> bool {
        self.conditions
    }

    /// The settings the rules' data conditions read on a resource that only the deployment
    /// decides: listed as not evaluated, as the knowledge's facts are.
    pub fn unevaluated_of(&self, resource: &Resource) -> Vec<crate::model::Unevaluated> {
        let deployed = |node: &Node| facts::decided_at_deployment(resource.format, node);
        let mut out = Vec::new();
        for rule in &self.active {
            if !rule.applies_to(resource.format) {
                continue;
            }
            let Some(condition) = condition_for(rule.rule, resource) else {
                continue;
            };
            for unknown in condition.evaluate(&resource.body, &deployed).unknown {
                out.push(facts::unevaluated_for_rule(
                    resource,
                    &rule.rule.id,
                    &unknown.route,
                    unknown.node.as_deref(),
                ));
            }
        }
        out
    }

    /// Every per-resource rule on one resource.
    pub fn findings_of(&self, ctx: &Context, resource: &Resource) -> Vec<Finding> {
        self.findings_where(ctx, resource, |_| true)
    }

    /// The findings of `findings_of` that tie the resource to a provider it does not name
    /// (`ResourceRef::tied`): all a scan reads of the rules left out of its selection. The
    /// others are not made.
    pub fn tying_findings_of(&self, ctx: &Context, resource: &Resource) -> Vec<Finding> {
        if resource.provider.is_some() {
            return Vec::new();
        }
        self.findings_where(ctx, resource, |hit| hit.provider.is_some())
    }

    fn findings_where(
        &self,
        ctx: &Context,
        resource: &Resource,
        keep: impl Fn(&Hit) -> bool,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut shared = SharedRef::new(resource);
        for rule in &self.active {
            if !rule.applies_to(resource.format) {
                continue;
            }
            let mut hits = Vec::new();
            if let Some(Check::Resource(f) | Check::ResourceAndScan(f, _, _)) = rule.check {
                f(ctx, resource, &mut hits);
            }
            hits.extend(data_condition_hits(rule.rule, resource));
            out.extend(
                hits.into_iter()
                    .filter(|hit| keep(hit))
                    .map(|hit| finding(rule, &mut shared, hit, ctx)),
            );
        }
        out
    }

    /// The findings a resource has if a scan-wide check confirms them (a bucket is a log
    /// bucket if a sender of another file names it), made while the resource is at hand.
    pub fn candidate_findings(&self, ctx: &Context, resource: &Resource) -> Vec<Finding> {
        let mut shared = SharedRef::new(resource);
        self.active
            .iter()
            .filter(|rule| rule.applies_to(resource.format))
            .filter_map(|rule| match rule.check {
                Some(Check::ResourceAndScan(_, _, candidate)) => {
                    let hit = candidate(ctx, resource)?;
                    Some(finding(rule, &mut shared, hit, ctx))
                }
                _ => None,
            })
            .collect()
    }

    /// The rules that group the resources of one unit, over the resources of `ctx`. Unsorted.
    pub fn unit_findings(&self, ctx: &Context) -> Vec<Finding> {
        let mut findings = Vec::new();
        self.unit_findings_in(ctx, |mut batch| findings.append(&mut batch));
        findings
    }

    /// `unit_findings`, handed to `emit` a batch at a time: a unit of thousands of resources
    /// never holds all its findings at once.
    pub fn unit_findings_in(&self, ctx: &Context, emit: impl FnMut(Vec<Finding>)) {
        self.grouped_findings(ctx, unit_check, emit);
    }

    /// Whether the rules that group resources find anything among those of `ctx`: the hits,
    /// without the findings made of them.
    pub fn unit_hits_any(&self, ctx: &Context) -> bool {
        self.active.iter().any(|rule| {
            rule.check.and_then(unit_check).is_some_and(|f| {
                let mut hits = Vec::new();
                f(ctx, rule.rule, &mut hits);
                !hits.is_empty()
            })
        })
    }

    /// How the rules that group resources, together, treat `resource` among those of its unit
    /// when they find something on it alone (`checks::Grouping`).
    pub fn grouping(&self, ctx: &Context, resource: &Resource) -> checks::Grouping {
        self.active
            .iter()
            .filter_map(|rule| match rule.check {
                Some(Check::Unit(_, grouping)) => Some(grouping(ctx, resource)),
                _ => None,
            })
            .fold(checks::Grouping::Alone, checks::Grouping::and)
    }

    /// The scan-wide rules over the resources of `ctx`: those the scan keeps of every unit
    /// (`checks::keep_for_scan`). Unsorted.
    pub fn scan_findings(&self, ctx: &Context) -> Vec<Finding> {
        let mut findings = Vec::new();
        self.grouped_findings(
            ctx,
            |check| match check {
                Check::ResourceAndScan(_, f, _) => Some(f),
                _ => None,
            },
            |mut batch| findings.append(&mut batch),
        );
        findings
    }

    fn grouped_findings(
        &self,
        ctx: &Context,
        pick: impl Fn(Check) -> Option<Grouped>,
        mut emit: impl FnMut(Vec<Finding>),
    ) {
        const BATCH: usize = 1024;
        for rule in &self.active {
            if let Some(f) = rule.check.and_then(&pick) {
                let mut hits = Vec::new();
                f(ctx, rule.rule, &mut hits);
                let mut hits = hits.into_iter();
                while hits.len() > 0 {
                    let batch: Vec<(usize, Hit)> = hits.by_ref().take(BATCH).collect();
                    emit(
                        batch
                            .into_par_iter()
                            .filter_map(|(index, hit)| {
                                let resource = ctx.resources.get(index)?;
                                Some(finding(rule, &mut SharedRef::new(resource), hit, ctx))
                            })
                            .collect(),
                    );
                }
            }
        }
    }
}

fn unit_check(check: Check) -> Option<Grouped> {
    match check {
        Check::Unit(f, _) => Some(f),
        _ => None,
    }
}

/// A check over several resources.
type Grouped = fn(&Context, &Rule, &mut Vec<(usize, Hit)>);

/// Puts findings in report order and drops the same finding found twice: the same fingerprint
/// and message at the same place. A module's block that several roots deploy in different
/// regions keeps a finding for each region, under one fingerprint.
pub fn finish(findings: &mut Vec<Finding>) {
    // The order is sorted, then applied by swaps: a merge sort of the findings themselves
    // would hold a second copy of them all while it runs.
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.par_sort_by(|&a, &b| report_order(&findings[a], &findings[b]));
    crate::extract::permute(findings, order);
    findings.dedup_by(|a, b| {
        a.fingerprint == b.fingerprint && a.location == b.location && a.message == b.message
    });
}

/// The order of findings in reports: by place, then rule and message; findings at one place
/// (module instances sharing a block) in their resources' order. Total, so that the order
/// does not depend on the order in which units finish. The findings store compares its records
/// the same way without decoding them (`store::Key::order`): change both together.
pub fn report_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    a.sort_key()
        .cmp(&b.sort_key())
        .then_with(|| a.resource.address.cmp(&b.resource.address))
        .then_with(|| a.fingerprint.cmp(&b.fingerprint))
        .then_with(|| a.location.cmp(&b.location))
        .then_with(|| a.severity.cmp(&b.severity))
        .then_with(|| a.evidence.cmp(&b.evidence))
}

/// Evaluates every rule against every resource it applies to; findings come out sorted.
pub fn evaluate(rules: &[Rule], ctx: &Context) -> Vec<Finding> {
    let engine = Engine::new(rules, ctx.profile);
    let mut findings = engine.resource_findings(ctx, ctx.resources);
    findings.extend(engine.unit_findings(ctx));
    let buckets: Vec<_> = ctx
        .resources
        .iter()
        .filter_map(|r| checks::cloud_log_buckets::Bucket::of(ctx, r))
        .collect();
    let ctx = Context {
        buckets: &buckets,
        ..ctx.over(ctx.resources)
    };
    let confirmed = confirmed_log_buckets(&ctx);
    for resource in ctx.resources {
        if confirmed.contains(&(Arc::clone(&resource.path), resource.address.clone())) {
            findings.extend(engine.candidate_findings(&ctx, resource));
        }
    }
    findings.extend(engine.scan_findings(&ctx));
    for f in &mut findings {
        let path = Arc::clone(&f.location.path);
        f.fingerprint_unmade(&path);
    }
    finish(&mut findings);
    findings
}

/// The buckets whose candidate findings hold, by (path, address): log buckets whose objects
/// never expire, among `ctx.buckets`.
pub fn confirmed_log_buckets(ctx: &Context) -> std::collections::HashSet<(Arc<str>, String)> {
    checks::cloud_log_buckets::LogBuckets::new(ctx)
        .unexpiring()
        .map(|b| (Arc::clone(&b.path), b.address().to_string()))
        .collect()
}

/// A location inside a resource for a hit; kept here so checks need not know about routes.
pub fn at(resource: &Resource, node: &crate::tree::Node, route: &crate::tree::Route) -> Location {
    resource.locate(node, route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_from_their_json_form_equal_the_yaml() {
        let mut compared = 0;
        for (path, text) in BUILTIN_RULES {
            let yaml = rule::parse_rules(path, text).unwrap();
            let (_, json) = BUILTIN_RULES_JSON
                .iter()
                .find(|(p, _)| p == path)
                .unwrap_or_else(|| panic!("{path} has no JSON form"));
            let from_json = rule::parse_rules_json(path, json)
                .unwrap_or_else(|| panic!("{path}: the JSON form does not read as rules"))
                .unwrap();
            assert_eq!(format!("{yaml:?}"), format!("{from_json:?}"), "{path}");
            compared += 1;
        }
        assert!(compared > 20, "{compared} rule files");
    }

    #[test]
    fn a_template_fills_its_placeholders_and_leaves_other_braces_as_written() {
        let vars = Vars(vec![
            ("name", Cow::Borrowed("web")),
            ("region", Cow::Borrowed("us-east-1")),
            ("name", Cow::Borrowed("api")),
        ]);
        let filled = |text: &str| Template::new(text).fill(|key| vars.get(key));
        // A later value of a name stands for an earlier one.
        assert_eq!(filled("{name} in {region}"), "api in us-east-1");
        assert_eq!(filled("{name}{name}"), "apiapi");
        // A placeholder with no value stays as written, and so do braces that hold no name.
        assert_eq!(filled("{zone} of {name}"), "{zone} of api");
        assert_eq!(filled("{\"a\": {name}}"), "{\"a\": api}");
        assert_eq!(filled("{a b} {} { {name"), "{a b} {} { {name");
        assert_eq!(filled("tail {"), "tail {");
        assert_eq!(filled(""), "");
        let template = Template::new("{a}-{b}-{a} {c d}");
        let keys: Vec<&str> = template.keys().collect();
        assert_eq!(keys, ["a", "b", "a"]);
    }

    #[test]
    fn a_fix_joined_once_and_filled_reads_as_one_filled_and_joined() {
        let values = [
            "aws",
            "IONOS S3 Object Storage, STACKIT Object Storage",
            "eu-central-1",
            "{name}",
        ];
        let mut compared = 0;
        for (path, text) in BUILTIN_RULES {
            for rule in rule::parse_rules(path, text).unwrap() {
                let joined = reflow(rule.fix.trim());
                for value in values {
                    assert!(joins_as_is(value), "{value}");
                    let mut vars = Vec::new();
                    let mut rest = rule.fix.as_str();
                    while let Some(start) = rest.find('{') {
                        let after = &rest[start + 1..];
                        let end = after.find('}').unwrap_or(after.len());
                        vars.push((&after[..end], Cow::Borrowed(value)));
                        rest = &after[end.min(after.len())..];
                    }
                    let vars = Vars(vars);
                    let fill = |text: &str| Template::new(text).fill(|key| vars.get(key));
                    assert_eq!(fill(&joined), reflow(&fill(rule.fix.trim())), "{}", rule.id);
                    compared += 1;
                }
            }
        }
        assert!(compared > 100, "{compared} fixes filled");
        for value in ["", " a", "a ", "a  b", "a\nb", "a\tb"] {
            assert!(!joins_as_is(value), "{value:?}");
        }
    }

    #[test]
    fn a_remediation_made_again_is_the_one_made_first_and_reads_as_filled() {
        let yaml = "id: X-001\nname: x\ncategory: hyperscaler\nseverity: low\ntitle: t\n\
                    message: m\nwhy: w\napplies_to: [terraform]\ncheck: hyperscaler_service\nfix: |\n  Move {a}\n  to {b}.\n";
        let rules = rule::parse_rules("x.yaml", yaml).unwrap();
        let active = Active::new(&rules[0], Severity::Low);
        let made = |a: Option<&'static str>, b: Option<&'static str>| {
            let mut vars = Vec::new();
            vars.extend(a.map(|a| ("a", Cow::Borrowed(a))));
            vars.extend(b.map(|b| ("b", Cow::Borrowed(b))));
            let vars = Vars(vars);
            let direct = reflow(&active.fix.fill(|key| vars.get(key)));
            (active.remediation(&vars), direct)
        };
        // Values that would read the same one after the other, and values that do not join
        // as they are.
        let sets = [
            (Some("ab"), Some("c")),
            (Some("a"), Some("bc")),
            (Some("a\u{1}b"), Some("c")),
            (Some("a"), Some("b\u{1}c")),
            (Some("1:a"), Some("b")),
            (Some("1:a1:b"), None),
            (Some("x"), None),
            (None, Some("x")),
            (Some("two  spaces"), Some("a\nline")),
            (Some("x"), Some("y")),
        ];
        for (a, b) in sets {
            let (first, direct) = made(a, b);
            assert_eq!(*first, *direct, "{a:?} {b:?}");
            let (again, _) = made(a, b);
            assert!(Arc::ptr_eq(&first, &again), "{a:?} {b:?} made twice");
        }
        assert_eq!(active.made.lock().unwrap().len(), sets.len());
    }
}
