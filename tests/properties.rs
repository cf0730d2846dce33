//! Properties over generated input: region resolution never panics and does not depend on case
//! or whitespace, EU regions resolve to EU/EEA countries, and fingerprints ignore where the
//! repository is checked out and which line a resource starts on.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use proptest::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;

use crate::common::scratch;
use sovscan::engine;
use sovscan::knowledge::{self, Jurisdiction, KnowledgeBase};
use sovscan::scan::{ScanRequest, run};

fn kb() -> &'static KnowledgeBase {
    knowledge::get().unwrap()
}

const PROVIDERS: &[&str] = &[
    "aws",
    "azure",
    "gcp",
    "google",
    "oci",
    "ionos",
    "stackit",
    "hetzner",
    "ovh",
    "scaleway",
    "otc",
    "huawei",
    "unknown-provider",
];

/// Regions in the EU, by provider, as their APIs spell them.
const EU_REGIONS: &[(&str, &str)] = &[
    ("aws", "eu-central-1"),
    ("aws", "eu-west-1"),
    ("aws", "eu-west-3"),
    ("aws", "eu-north-1"),
    ("aws", "eu-south-1"),
    ("azure", "westeurope"),
    ("azure", "northeurope"),
    ("azure", "germanywestcentral"),
    ("azure", "francecentral"),
    ("gcp", "europe-west1"),
    ("gcp", "europe-west3"),
    ("gcp", "europe-west4"),
    ("hetzner", "fsn1"),
    ("hetzner", "nbg1"),
    ("scaleway", "fr-par"),
    ("scaleway", "nl-ams"),
];

/// The same text with random letter case and spaces around it.
fn variant(text: &str, upper: &[bool], pad: (usize, usize)) -> String {
    let cased: String = text
        .chars()
        .zip(upper.iter().cycle())
        .map(|(c, up)| {
            if *up {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    format!("{}{cased}{}", " ".repeat(pad.0), "\t".repeat(pad.1))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_region_string_resolves_without_panic(raw in "\\PC{0,40}", provider in 0..PROVIDERS.len()) {
        let _ = kb().resolve_region(PROVIDERS[provider], &raw);
        let _ = kb().resolve_region_any(&raw);
    }

    #[test]
    fn region_like_strings_resolve_without_panic(raw in "[a-zA-Z]{1,8}(-[a-zA-Z]{1,10}){0,3}-?[0-9]{0,3}[a-z]?") {
        for provider in PROVIDERS {
            let _ = kb().resolve_region(provider, &raw);
        }
        let _ = kb().resolve_region_any(&raw);
    }

    #[test]
    fn eu_regions_resolve_to_eu_countries_in_any_case_and_spacing(
        index in 0..EU_REGIONS.len(),
        upper in proptest::collection::vec(any::<bool>(), 1..8),
        pad in (0usize..3, 0usize..3),
    ) {
        let (provider, region) = EU_REGIONS[index];
        let written = variant(region, &upper, pad);
        let info = kb().resolve_region(provider, &written);
        prop_assert!(info.is_some(), "{provider} {written:?} does not resolve");
        let info = info.unwrap();
        prop_assert_eq!(&info.id, region);
        prop_assert!(!info.countries.is_empty());
        for country in &info.countries {
            prop_assert_eq!(
                kb().jurisdiction_of(country),
                Jurisdiction::Eu,
                "{} {} is in {}", provider, region, country
            );
        }
    }

    #[test]
    fn resolution_ignores_case_and_surrounding_whitespace(
        raw in "[a-zA-Z0-9-]{1,24}",
        upper in proptest::collection::vec(any::<bool>(), 1..8),
        pad in (0usize..3, 0usize..3),
        provider in 0..PROVIDERS.len(),
    ) {
        let provider = PROVIDERS[provider];
        let plain = kb().resolve_region(provider, &raw.to_ascii_lowercase());
        let varied = kb().resolve_region(provider, &variant(&raw, &upper, pad));
        prop_assert_eq!(plain, varied);
    }

    #[test]
    fn aws_zones_resolve_to_their_region(index in 0..5usize, zone in "[a-f]") {
        let (provider, region) = EU_REGIONS[index];
        let info = kb().resolve_region(provider, &format!("{region}{zone}"));
        prop_assert_eq!(info.map(|i| i.id.clone()), Some(region.to_string()));
    }

    #[test]
    fn fingerprints_keep_their_parts_apart(
        parts in proptest::collection::vec("[a-z/.]{0,6}", 5),
        cut in 0usize..4,
    ) {
        // Moving a character from one part to the next is another fingerprint.
        let mut moved = parts.clone();
        if let Some(c) = moved[cut].pop() {
            moved[cut + 1].insert(0, c);
            let a = sovscan::finding::fingerprint(&parts[0], &parts[1], &parts[2], &parts[3], &parts[4]);
            let b = sovscan::finding::fingerprint(&moved[0], &moved[1], &moved[2], &moved[3], &moved[4]);
            prop_assert_ne!(a, b);
        }
    }
}

/// A manifest with findings (images from US registries, a public load balancer), after
/// `blank` blank and comment lines.
fn manifest(blank: usize, name: &str) -> String {
    let mut text = "# moved down\n\n".repeat(blank);
    text.push_str(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: public.ecr.aws/nginx/nginx:1.27\n        - name: side\n          image: gcr.io/project/side:1\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}-lb, namespace: shop, annotations: {{service.beta.kubernetes.io/aws-load-balancer-type: nlb}}}}\nspec: {{type: LoadBalancer}}\n"
    ));
    text
}

/// Fingerprints of a scan of `text` written at `dir/relative`, rebased to the path relative to
/// `dir` as the CLI does, and the lines the findings start on.
fn fingerprints(dir: &Path, relative: &str, text: &str) -> (BTreeSet<String>, BTreeSet<u32>) {
    let file = dir.join(relative);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, text).unwrap();
    let request = ScanRequest {
        paths: vec![file],
        ..Default::default()
    };
    let rules = engine::all_rules(&[]).unwrap();
    let result = run(&request, &rules, kb()).unwrap();
    let mut prints = BTreeSet::new();
    let mut lines = BTreeSet::new();
    for mut finding in result.findings.into_vec() {
        finding.rebase_fingerprint(relative);
        prints.insert(finding.fingerprint);
        lines.insert(finding.location.start_line);
    }
    (prints, lines)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn fingerprints_ignore_checkout_folder_and_line_shifts(
        prefix in "[a-z]{1,8}(/[a-z]{1,8}){0,2}",
        blank in 1usize..40,
        name in "[a-z]{1,10}",
    ) {
        let root = scratch("properties");
        let here = root.join("a");
        let there = root.join("b").join(&prefix);
        let (first, first_lines) = fingerprints(&here, "k8s/app.yaml", &manifest(0, &name));
        let (second, second_lines) =
            fingerprints(&there, "k8s/app.yaml", &manifest(blank, &name));
        prop_assert!(!first.is_empty(), "the manifest has findings");
        prop_assert_ne!(first_lines, second_lines, "lines moved");
        prop_assert_eq!(first, second);
    }
}
