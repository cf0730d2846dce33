//! The rule reference (`docs/rules.md`) and the service coverage (`docs/coverage.md`),
//! generated from the rule and knowledge files so they cannot drift: tests compare the committed
//! files with this output.

use crate::engine::{Profile, Rule};
use std::collections::BTreeMap;

use crate::finding::Category;
use crate::knowledge::KnowledgeBase;
use crate::knowledge::services::{Dialect, FactDefault, Service};

fn section(category: Category) -> &'static str {
    match category {
        Category::Residency => "Residency — where data is stored or processed",
        Category::Gdpr => "GDPR — hygiene on systems that may hold personal data",
        Category::Hyperscaler => "Hyperscaler dependency — lock-in and third-country control",
    }
}

/// Markdown for every rule, grouped by category, in id order.
pub fn rules_markdown(rules: &[Rule]) -> String {
    let mut out = String::from(
        "# sovscan rules\n\nGenerated from `rules/` by `sovscan rules docs`; do not edit by hand.\n\n",
    );
    out.push_str("| id | name | category | severity | applies to |\n|---|---|---|---|---|\n");
    for r in rules {
        out.push_str(&format!(
            "| [{id}](#{anchor}) | {} | {} | {} | {} |\n",
            r.name,
            r.category.as_str(),
            r.severity,
            r.applies_to.join(", "),
            id = r.id,
            anchor = r.id.to_ascii_lowercase(),
        ));
    }
    for category in [Category::Residency, Category::Gdpr, Category::Hyperscaler] {
        out.push_str(&format!("\n## {}\n", section(category)));
        for r in rules.iter().filter(|r| r.category == category) {
            out.push_str(&format!(
                "\n### {}\n\n**{}** — {}\n\n",
                r.id, r.name, r.title
            ));
            let mut severity = format!("Severity: {} (profile `eu`)", r.severity);
            for profile in [Profile::Adequacy, Profile::Strict] {
                if r.severity_by_profile.contains_key(&profile) {
                    let s = r
                        .severity_for(profile)
                        .map_or_else(|| "off".to_string(), |s| s.to_string());
                    severity.push_str(&format!(", {s} (profile `{}`)", profile.as_str()));
                }
            }
            out.push_str(&format!(
                "{severity}. Applies to: {}.\n\n",
                r.applies_to.join(", ")
            ));
            out.push_str(&format!("**Why.** {}\n\n", r.why.trim()));
            out.push_str(&format!("**Fix.** {}\n", r.fix.trim()));
            if let Some(examples) = &r.examples {
                if let Some(fail) = &examples.fail {
                    out.push_str(&format!(
                        "\nFlagged:\n\n```yaml\n{}\n```\n",
                        fail.trim_end()
                    ));
                }
                if let Some(pass) = &examples.pass {
                    out.push_str(&format!(
                        "\nAccepted:\n\n```yaml\n{}\n```\n",
                        pass.trim_end()
                    ));
                }
            }
            if !r.references.is_empty() {
                out.push_str(&format!("\nReferences: {}.\n", r.references.join(", ")));
            }
        }
    }
    out
}

/// Short column names of the formats in the coverage tables.
const FORMAT_COLUMNS: [(Dialect, &str); 6] = [
    (Dialect::Terraform, "Terraform"),
    (Dialect::Cloudformation, "CloudFormation"),
    (Dialect::AwsConfig, "AWS Config"),
    (Dialect::Arm, "ARM / azapi"),
    (Dialect::Kubernetes, "Kubernetes operators"),
    (Dialect::TerraformModule, "Terraform registry modules"),
];

/// Markdown of every service the knowledge covers: its type in each format and, per fact, the
/// formats that say where it is written, with the defaults applied when it is absent.
pub fn coverage_markdown(kb: &KnowledgeBase) -> String {
    let mut out = String::from(
        "# Service coverage\n\nGenerated from `rules/knowledge/services/` by `sovscan rules coverage`; do not edit by hand.\n\n",
    );
    out.push_str(
        "Each service is declared once and named in every format that can declare it. A fact is read where \
         the format writes it; *default* is the provider's value when the setting is absent. Types of a \
         provider that are missing here still get HYP-001 (\"service not in the knowledge base\").\n\n",
    );
    let mut providers: BTreeMap<&str, Vec<&Service>> = BTreeMap::new();
    for s in kb.services.iter() {
        providers.entry(s.provider.as_str()).or_default().push(s);
    }
    out.push_str("| provider | services | primary | ");
    out.push_str(&FORMAT_COLUMNS.map(|(_, c)| c).join(" types | "));
    out.push_str(" types |\n|---|---|---|---|---|---|---|---|---|\n");
    for (provider, services) in &providers {
        let name = kb
            .provider(provider)
            .map_or_else(|| provider.to_string(), |p| p.name);
        let counts = FORMAT_COLUMNS.map(|(d, _)| {
            services
                .iter()
                .map(|s| s.types.get(&d).map_or(0, Vec::len))
                .sum::<usize>()
                .to_string()
        });
        out.push_str(&format!(
            "| {name} | {} | {} | {} |\n",
            services.len(),
            services.iter().filter(|s| s.primary).count(),
            counts.join(" | ")
        ));
    }
    for (provider, services) in &providers {
        let name = kb
            .provider(provider)
            .map_or_else(|| provider.to_string(), |p| p.name);
        out.push_str(&format!("\n## {name}\n\n"));
        out.push_str("| service | id | types | facts |\n|---|---|---|---|\n");
        for s in services {
            let types: Vec<String> = FORMAT_COLUMNS
                .iter()
                .filter_map(|(d, column)| {
                    let names = s.types.get(d)?;
                    Some(format!(
                        "{column}: {}",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
                .collect();
            let facts: Vec<String> = s
                .facts
                .iter()
                .map(|(fact, per_format)| {
                    let formats: Vec<&str> = FORMAT_COLUMNS
                        .iter()
                        .filter(|(d, _)| per_format.contains_key(d))
                        .map(|(_, c)| *c)
                        .collect();
                    let default = s
                        .defaults
                        .get(fact)
                        .map(|d| format!("; default {}", default_text(d)))
                        .unwrap_or_default();
                    format!("{fact} ({}{default})", formats.join(", "))
                })
                .collect();
            let mut traits = Vec::new();
            if let Some(part) = &s.part_of {
                traits.push(format!("part of `{part}`"));
            }
            if s.global {
                traits.push("global".to_string());
            }
            if s.no_data {
                traits.push("holds no data".to_string());
            }
            let service = if traits.is_empty() {
                s.service.clone()
            } else {
                format!("{} ({})", s.service, traits.join(", "))
            };
            out.push_str(&format!(
                "| {service} | `{}` | {} | {} |\n",
                s.id,
                types.join("<br>"),
                if facts.is_empty() {
                    "-".to_string()
                } else {
                    facts.join("<br>")
                }
            ));
        }
    }
    out
}

fn default_text(default: &FactDefault) -> String {
    match default {
        FactDefault::Bool(b) => b.to_string(),
        FactDefault::Int(i) => i.to_string(),
        FactDefault::Text(t) => t.clone(),
    }
}
