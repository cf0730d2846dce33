//! The rule reference (`docs/rules.md`), generated from the rule files so it cannot drift:
//! a test compares the committed file with this output.

use crate::engine::{Profile, Rule};
use crate::finding::Category;

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
