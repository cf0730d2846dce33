//! What the reports say of the scanned resources as a whole, counted as each resource's rules
//! have run: a scan keeps these counts, not the resources.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::sync::{Arc, Mutex};

use crate::knowledge::{KnowledgeBase, canonical_provider};
use crate::load::Format;
use crate::model::Resource;
use crate::spill::{Spill, Text};

/// Counts of the scanned resources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Estate {
    pub resources: usize,
    /// By input format (`kubernetes`, `terraform`, …).
    pub by_format: BTreeMap<&'static str, usize>,
    /// By the canonical key of each provider a resource runs on or is tied to; `none` for
    /// resources tied to none.
    pub by_provider: BTreeMap<String, usize>,
    /// By the jurisdiction that controls each provider of a resource.
    pub by_control: BTreeMap<&'static str, usize>,
    /// By the jurisdiction of the resource's data location (`eu`, `third-country`, `unknown`,
    /// `not applicable`).
    pub by_location: BTreeMap<&'static str, usize>,
    /// Resources whose location resolves to countries, and those of them all in the EU/EEA.
    pub located: usize,
    pub in_eu: usize,
    /// Resources tied to a provider, and those of them tied only to EU-controlled ones.
    pub attributed: usize,
    pub eu_controlled: usize,
    /// Resources of providers controlled from outside the EU, by provider key, service and
    /// service category.
    pub services: BTreeMap<String, BTreeMap<String, BTreeMap<String, usize>>>,
}

impl Estate {
    /// Counts a resource; `ties` are the providers other than its own that findings tie it to.
    pub fn add(&mut self, kb: &KnowledgeBase, r: &Resource, ties: Option<&BTreeSet<String>>) {
        self.resources += 1;
        *self.by_format.entry(r.format.as_str()).or_default() += 1;
        // On an EU-operated offering (S3NS, the AWS European Sovereign Cloud) the offering is
        // who runs the resource, and whose control counts.
        let own = (r.offering().or(r.provider.as_deref())).map(canonical_provider);
        // Most resources are tied to no provider but their own: nothing is gathered for them.
        let mut tied: Vec<&str> = Vec::new();
        if let Some(ties) = ties.filter(|t| !t.is_empty()) {
            tied.extend(ties.iter().map(String::as_str).chain(own));
            tied.sort_unstable();
            tied.dedup();
        }
        let providers = if tied.is_empty() {
            own.as_slice()
        } else {
            &tied
        };
        if providers.is_empty() {
            count(&mut self.by_provider, "none");
        } else {
            self.attributed += 1;
            if providers.iter().all(|p| kb.controlled_from_eu(p)) {
                self.eu_controlled += 1;
            }
            for p in providers {
                count(&mut self.by_provider, p);
                *self
                    .by_control
                    .entry(kb.control_jurisdiction(p).as_str())
                    .or_default() += 1;
            }
        }
        let location = match r.region.as_ref() {
            Some(region) => match &region.resolved {
                Some(info) if !info.countries.is_empty() => {
                    self.located += 1;
                    if info.countries.iter().all(|c| kb.in_eea(c)) {
                        self.in_eu += 1;
                    }
                    info.countries
                        .iter()
                        .map(|c| kb.jurisdiction_of(c))
                        .max()
                        .map_or("unknown", |j| j.as_str())
                }
                _ => "unknown",
            },
            // A region the deployment chooses among a provider's, all in the EU/EEA.
            None if r.unresolved_region.is_some()
                && (r.provider.as_deref()).is_some_and(|p| kb.every_region_in_eu(p)) =>
            {
                self.located += 1;
                self.in_eu += 1;
                "eu"
            }
            None if r.unresolved_region.is_some() => "unknown",
            None => "not applicable",
        };
        *self.by_location.entry(location).or_default() += 1;
        if let (Some(provider), Some(category)) = (own, &r.category)
            && !kb.controlled_from_eu(provider)
        {
            let service = r.service.as_deref().unwrap_or(&r.kind);
            let services = match self.services.get_mut(provider) {
                Some(services) => services,
                None => self.services.entry(provider.to_string()).or_default(),
            };
            let categories = match services.get_mut(service) {
                Some(categories) => categories,
                None => services.entry(service.to_string()).or_default(),
            };
            count(categories, category);
        }
    }

    /// Adds the counts of another part of the scan.
    pub fn merge(&mut self, other: Estate) {
        self.resources += other.resources;
        self.located += other.located;
        self.in_eu += other.in_eu;
        self.attributed += other.attributed;
        self.eu_controlled += other.eu_controlled;
        for (k, n) in other.by_format {
            *self.by_format.entry(k).or_default() += n;
        }
        for (k, n) in other.by_provider {
            *self.by_provider.entry(k).or_default() += n;
        }
        for (k, n) in other.by_control {
            *self.by_control.entry(k).or_default() += n;
        }
        for (k, n) in other.by_location {
            *self.by_location.entry(k).or_default() += n;
        }
        for (provider, services) in other.services {
            let mine = self.services.entry(provider).or_default();
            for (service, categories) in services {
                let mine = mine.entry(service).or_default();
                for (category, n) in categories {
                    *mine.entry(category).or_default() += n;
                }
            }
        }
    }
}

/// Counts one under a key, copying the key only the first time.
fn count(counts: &mut BTreeMap<String, usize>, key: &str) {
    match counts.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            counts.insert(key.to_string(), 1);
        }
    }
}

/// Resources named for reports that list every resource (JUnit has a test case per resource).
/// Packed, since a large scan names hundreds of thousands of resources: each path once, and per
/// part of up to `PART` bytes of text an entry of fixed size per resource and one text of their
/// addresses and names. In the order the units were listed in, which varies between runs: a
/// report orders the resources as it shows them.
#[derive(Debug, Default)]
pub struct Listing {
    /// Each path once, in the order first listed.
    paths: Vec<Arc<str>>,
    /// Index of each path in `paths`; made again when it lacks some (a listing `Gathered::load`
    /// gives back is read, and seldom added to).
    path_index: HashMap<Arc<str>, u32>,
    parts: Vec<Part>,
}

/// The resources of one unit, or of several small ones.
#[derive(Clone, Debug, Default)]
struct Part {
    entries: Vec<Entry>,
    /// The addresses, each followed by its name unless the name ends the address.
    text: String,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// Where the address starts in the part's text.
    start: u32,
    address: u32,
    name: u32,
    path: u32,
    /// The name follows the address in the text (it does not end the address).
    name_after: bool,
    format: Format,
}

/// Where a resource is in a `Listing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Id {
    part: u32,
    entry: u32,
}

/// A resource of a `Listing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listed<'a> {
    pub path: &'a Arc<str>,
    pub address: &'a str,
    pub format: Format,
    pub name: &'a str,
    /// The index of the path among the listing's paths (`Listing::paths`).
    pub file: usize,
}

/// An index of the listing's own making, which fits in 32 bits: a part's text is at most
/// `u32::MAX` bytes long, and a part or path count past it would need more resources than
/// memory holds.
fn small(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Listing {
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.entries.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(|p| p.entries.is_empty())
    }

    /// Each path of the listed resources once.
    pub fn paths(&self) -> &[Arc<str>] {
        &self.paths
    }

    /// Where each resource is, in the listing's order.
    pub fn ids(&self) -> impl Iterator<Item = Id> + '_ {
        self.parts.iter().enumerate().flat_map(|(part, p)| {
            (0..p.entries.len()).map(move |entry| Id {
                part: small(part),
                entry: small(entry),
            })
        })
    }

    pub fn get(&self, id: Id) -> Listed<'_> {
        let part = &self.parts[id.part as usize];
        let e = part.entries[id.entry as usize];
        // A part's entries lie in its text: made so by `add` and `append`, checked by `decode`.
        let (address, name) = part.slices(&e).unwrap_or_default();
        Listed {
            path: &self.paths[e.path as usize],
            address,
            format: e.format,
            name,
            file: e.path as usize,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Listed<'_>> + '_ {
        self.ids().map(|id| self.get(id))
    }

    fn path(&mut self, path: &Arc<str>) -> u32 {
        if self.path_index.len() < self.paths.len() {
            self.path_index = (0..)
                .zip(&self.paths)
                .map(|(i, p)| (Arc::clone(p), i))
                .collect();
        }
        if let Some(i) = self.path_index.get(path) {
            return *i;
        }
        let i = small(self.paths.len());
        self.paths.push(Arc::clone(path));
        self.path_index.insert(Arc::clone(path), i);
        i
    }

    pub fn push(&mut self, r: &Resource) {
        self.add(&r.path, &r.address, r.format, &r.name);
    }

    fn add(&mut self, path: &Arc<str>, address: &str, format: Format, name: &str) {
        let path = self.path(path);
        let name_after = !address.ends_with(name);
        let adds = address.len() + if name_after { name.len() } else { 0 };
        let full = self
            .parts
            .last()
            .is_none_or(|p| p.text.len() + adds > u32::MAX as usize);
        if full {
            self.parts.push(Part::default());
        }
        let Some(part) = self.parts.last_mut() else {
            return;
        };
        let start = small(part.text.len());
        part.text.push_str(address);
        if name_after {
            part.text.push_str(name);
        }
        part.entries.push(Entry {
            start,
            address: small(address.len()),
            name: small(name.len()),
            path,
            name_after,
            format,
        });
    }

    /// Adds the resources of another listing: into the last part while it holds less text
    /// than `PART`, else as a part of its own. A scan lists each unit on its own, and units are
    /// many and small (an item of an AWS Config snapshot).
    pub fn append(&mut self, other: Listing) {
        let paths: Vec<u32> = other.paths.iter().map(|p| self.path(p)).collect();
        for mut part in other.parts {
            for e in &mut part.entries {
                e.path = paths[e.path as usize];
            }
            match self.parts.last_mut() {
                Some(last) if last.text.len() + part.text.len() <= PART => {
                    let base = small(last.text.len());
                    last.text.push_str(&part.text);
                    last.entries.extend(part.entries.iter().map(|e| Entry {
                        start: e.start + base,
                        ..*e
                    }));
                }
                _ => self.parts.push(part),
            }
        }
    }
}

/// The resources a scan lists (`ScanRequest::list_resources`), unit by unit: each part of
/// the listing, once complete, is written to a `Spill` (in memory up to the findings budget,
/// in a temporary file past it), and `load` gives every part back when a report reads them.
pub struct Gathered {
    /// The paths, and the part being filled.
    held: Listing,
    spill: Mutex<Spill>,
    /// The parts written, in order.
    written: Vec<Text>,
    /// The resources in them.
    written_len: usize,
    /// The first error met writing a part, which `load` gives.
    error: Option<String>,
}

impl Default for Gathered {
    fn default() -> Self {
        Gathered {
            held: Listing::default(),
            spill: Mutex::new(Spill::new(crate::store::budget())),
            written: Vec::new(),
            written_len: 0,
            error: None,
        }
    }
}

impl std::fmt::Debug for Gathered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gathered")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl Gathered {
    pub fn len(&self) -> usize {
        self.written_len + self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a unit's resources; a part they complete is written out.
    pub fn append(&mut self, other: Listing) {
        self.held.append(other);
        // Every part but the last is complete.
        let complete = self.held.parts.len().saturating_sub(1);
        for part in self.held.parts.drain(..complete) {
            if self.error.is_some() {
                break;
            }
            let mut bytes = Vec::new();
            part.encode(&mut bytes);
            let written = match self.spill.get_mut() {
                Ok(spill) => spill.push(&bytes),
                Err(_) => Err(io::Error::other("the listing's spill was poisoned")),
            };
            match written {
                Ok(at) => {
                    self.written.push(at);
                    self.written_len += part.entries.len();
                }
                Err(e) => self.error = Some(format!("cannot keep the listed resources: {e}")),
            }
        }
    }

    /// Every resource listed.
    pub fn load(&self) -> io::Result<Listing> {
        if let Some(e) = &self.error {
            return Err(io::Error::other(e.clone()));
        }
        let mut spill = self
            .spill
            .lock()
            .map_err(|_| io::Error::other("the listing's spill was poisoned"))?;
        let mut parts = Vec::with_capacity(self.written.len() + self.held.parts.len());
        for at in &self.written {
            parts.push(Part::decode(
                spill.read(*at, false)?,
                self.held.paths.len(),
            )?);
        }
        parts.extend(self.held.parts.iter().cloned());
        Ok(Listing {
            paths: self.held.paths.clone(),
            path_index: HashMap::new(),
            parts,
        })
    }
}

impl Part {
    /// Bytes of an entry written out.
    const ENTRY: usize = 17;

    /// The entries' count, the entries, then the text.
    fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(4 + self.entries.len() * Self::ENTRY + self.text.len());
        out.extend_from_slice(&small(self.entries.len()).to_le_bytes());
        for e in &self.entries {
            for n in [e.start, e.address, e.name, e.path] {
                out.extend_from_slice(&n.to_le_bytes());
            }
            out.push(u8::from(e.name_after) | (e.format as u8) << 1);
        }
        out.extend_from_slice(self.text.as_bytes());
    }

    /// A part written by `encode`, whose entries name `paths` paths at most.
    fn decode(bytes: &[u8], paths: usize) -> io::Result<Part> {
        let damaged = || io::Error::other("the listed resources' temporary file is damaged");
        let word = |at: usize| -> io::Result<u32> {
            let b = bytes.get(at..at + 4).ok_or_else(damaged)?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let count = word(0)? as usize;
        let text_at = count
            .checked_mul(Self::ENTRY)
            .and_then(|n| n.checked_add(4))
            .filter(|n| *n <= bytes.len())
            .ok_or_else(damaged)?;
        let text = std::str::from_utf8(&bytes[text_at..]).map_err(|_| damaged())?;
        let mut entries = Vec::with_capacity(count);
        for i in 0..count {
            let at = 4 + i * Self::ENTRY;
            let flags = bytes[at + 16];
            let e = Entry {
                start: word(at)?,
                address: word(at + 4)?,
                name: word(at + 8)?,
                path: word(at + 12)?,
                name_after: flags & 1 == 1,
                format: *Format::ALL
                    .get(usize::from(flags >> 1))
                    .ok_or_else(damaged)?,
            };
            if e.path as usize >= paths {
                return Err(damaged());
            }
            entries.push(e);
        }
        let part = Part {
            entries,
            text: text.to_string(),
        };
        // Every slice `Listing::get` takes lies in the text, on character boundaries.
        if part.entries.iter().any(|e| part.slices(e).is_none()) {
            return Err(damaged());
        }
        Ok(part)
    }

    /// The address and name of `e`, when they lie in the text.
    fn slices(&self, e: &Entry) -> Option<(&str, &str)> {
        let start = e.start as usize;
        let end = start + e.address as usize;
        let n = e.name as usize;
        let name = if e.name_after {
            self.text.get(end..end + n)?
        } else {
            self.text
                .get(end.checked_sub(n).filter(|from| *from >= start)?..end)?
        };
        Some((self.text.get(start..end)?, name))
    }
}

/// The text of a listing's part, past which another part is started.
const PART: usize = 1 << 18;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_gives_back_what_was_listed_from_every_unit() {
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a/main.tf"), Arc::from("b.yaml"));
        let mut first = Listing::default();
        first.add(&a, "aws_s3_bucket.logs", Format::Terraform, "logs");
        first.add(&b, "Deployment/shop/web", Format::Kubernetes, "web");
        let mut second = Listing::default();
        second.add(&b, "Service/shop/web", Format::Kubernetes, "web");
        // A name that does not end the address is kept after it.
        second.add(&a, "aws_s3_bucket.data[0]", Format::Terraform, "data");
        let mut all = Listing::default();
        all.append(first);
        all.append(Listing::default());
        all.append(second);
        let got: Vec<(&str, &str, Format, &str)> = all
            .iter()
            .map(|r| (&**r.path, r.address, r.format, r.name))
            .collect();
        assert_eq!(
            got,
            [
                ("a/main.tf", "aws_s3_bucket.logs", Format::Terraform, "logs"),
                ("b.yaml", "Deployment/shop/web", Format::Kubernetes, "web"),
                ("b.yaml", "Service/shop/web", Format::Kubernetes, "web"),
                (
                    "a/main.tf",
                    "aws_s3_bucket.data[0]",
                    Format::Terraform,
                    "data"
                ),
            ]
        );
        assert_eq!(all.len(), 4);
        // Each path once, and each resource's index into them.
        assert_eq!(all.paths(), [a, b]);
        let files: Vec<usize> = all.iter().map(|r| r.file).collect();
        assert_eq!(files, [0, 1, 1, 0]);
    }

    /// Units listed past the budget come back from the temporary file as they were listed,
    /// whatever the budget; the paths are named once across units.
    #[test]
    fn gathered_units_come_back_from_memory_or_the_file() {
        let paths: Vec<Arc<str>> = (0..7)
            .map(|n| Arc::from(format!("dir/f{n}.yaml")))
            .collect();
        let resource = |n: usize| {
            (
                Arc::clone(&paths[n % 7]),
                format!("Kind{}/ns/näme-{n}", n % 3),
                Format::ALL[n % 6],
                if n.is_multiple_of(5) {
                    format!("other-{n}")
                } else {
                    format!("näme-{n}")
                },
            )
        };
        for budget in [0, 10_000, usize::MAX] {
            let mut gathered = Gathered {
                spill: Mutex::new(Spill::new(budget)),
                ..Gathered::default()
            };
            for unit in 0..3000 {
                let mut listing = Listing::default();
                for n in unit * 30..unit * 30 + 30 {
                    let (path, address, format, name) = resource(n);
                    listing.add(&path, &address, format, &name);
                }
                gathered.append(listing);
            }
            assert!(
                gathered.written.len() > 1,
                "parts written: {}",
                gathered.written.len()
            );
            let all = gathered.load().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((gathered.len(), all.len()), (90_000, 90_000));
            assert_eq!(all.paths(), paths.as_slice());
            for (n, r) in all.iter().enumerate() {
                let (path, address, format, name) = resource(n);
                assert_eq!(
                    (r.path, r.address, r.format, r.name),
                    (&path, &*address, format, &*name)
                );
                assert_eq!(all.paths()[r.file], path);
            }
            // Added to once given back, a path it holds is named once, a new one added.
            let mut all = all;
            all.add(&paths[3], "Kind0/ns/late", Format::Kubernetes, "late");
            all.add(
                &Arc::from("dir/new.yaml"),
                "Kind0/ns/new",
                Format::Kubernetes,
                "new",
            );
            assert_eq!(all.paths().len(), 8);
            let last: Vec<usize> = all.iter().skip(90_000).map(|r| r.file).collect();
            assert_eq!(last, [3, 7]);
        }
    }

    /// A damaged part is an error, never a panic or a slice out of its text.
    #[test]
    fn a_damaged_part_is_an_error() {
        let mut part = Part::default();
        let mut listing = Listing::default();
        listing.add(
            &Arc::from("a.tf"),
            "aws_s3_bucket.größe",
            Format::Terraform,
            "größe",
        );
        listing.add(
            &Arc::from("a.tf"),
            "aws_s3_bucket.x[0]",
            Format::Terraform,
            "x",
        );
        if let Some(p) = listing.parts.pop() {
            part = p;
        }
        let mut bytes = Vec::new();
        part.encode(&mut bytes);
        let back = Part::decode(&bytes, 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.text, part.text);
        assert!(
            Part::decode(&bytes, 0).is_err(),
            "a path past the listing's"
        );
        for cut in 0..bytes.len() {
            assert!(Part::decode(&bytes[..cut], 1).is_err(), "cut at {cut}");
        }
        // Any byte changed: an error, or a part whose every slice holds.
        for at in 0..bytes.len() {
            for value in [0, 1, 0x7f, 0xc3, 0xff] {
                let mut changed = bytes.clone();
                changed[at] = value;
                if let Ok(p) = Part::decode(&changed, 1) {
                    let one = Listing {
                        paths: vec![Arc::from("a.tf")],
                        parts: vec![p],
                        ..Listing::default()
                    };
                    for r in one.iter() {
                        assert!(r.address.len() + r.name.len() <= bytes.len());
                    }
                }
            }
        }
    }
}
