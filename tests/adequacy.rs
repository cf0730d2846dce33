//! Every rule that places data judges a country as RES-001 and RES-002 do: a country with an
//! adequacy decision is low under profile `eu`, fine under `adequacy`, outside under `strict`,
//! and a country the settings allow is never reported. Replicas and backup copies (RES-005),
//! pods pinned to nodes (RES-008), SaaS endpoints (RES-009) and personal data (GDPR-010) alike.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use assert_cmd::Command;

/// (rule, resource, evidence, severity) of each finding, sorted.
fn findings(config: &str, profile: Option<&str>) -> Vec<(String, String, String, String)> {
    let mut args = vec![
        "scan",
        "tests/adequacy/in",
        "--config",
        config,
        "--select",
        "RES-005,RES-008,RES-009,GDPR-010",
        "--format",
        "json",
    ];
    if let Some(profile) = profile {
        args.extend(["--profile", profile]);
    }
    let out = Command::cargo_bin("sovscan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(&args)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let mut found: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                text(&f["rule_id"]),
                text(&f["resource"]["name"]),
                text(&f["evidence"]),
                text(&f["severity"]),
            )
        })
        .collect();
    found.sort();
    found
}

fn expected(rows: &[(&str, &str, &str, &str)]) -> Vec<(String, String, String, String)> {
    let mut rows: Vec<_> = rows
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    rows.sort();
    rows
}

const EU: &str = "tests/adequacy/eu.sovscan.yaml";
const ALLOW: &str = "tests/adequacy/allow-ch-gb.sovscan.yaml";

#[test]
fn under_profile_eu_an_adequacy_country_is_reported_low() {
    assert_eq!(
        findings(EU, None),
        expected(&[
            ("GDPR-010", "patients", "eu-central-2", "critical"),
            ("RES-005", "nightly", "eu-west-2", "low"),
            ("RES-005", "orders", "eu-central-2", "low"),
            ("RES-005", "orders", "us-east-1", "high"),
            ("RES-008", "exports", "us-east-1", "medium"),
            ("RES-008", "invoices", "eu-central-2", "low"),
            ("RES-008", "patients", "eu-central-2", "medium"),
            ("RES-009", "metrics", "ap1.datadoghq.com", "low"),
        ])
    );
}

#[test]
fn under_profile_adequacy_an_adequacy_country_is_not_reported() {
    assert_eq!(
        findings(EU, Some("adequacy")),
        expected(&[
            ("RES-005", "orders", "us-east-1", "high"),
            ("RES-008", "exports", "us-east-1", "medium"),
        ])
    );
}

#[test]
fn under_profile_strict_an_adequacy_country_is_outside() {
    assert_eq!(
        findings(EU, Some("strict")),
        expected(&[
            ("GDPR-010", "patients", "eu-central-2", "critical"),
            ("RES-005", "nightly", "eu-west-2", "high"),
            ("RES-005", "orders", "eu-central-2", "high"),
            ("RES-005", "orders", "us-east-1", "high"),
            ("RES-008", "exports", "us-east-1", "medium"),
            ("RES-008", "invoices", "eu-central-2", "medium"),
            ("RES-008", "patients", "eu-central-2", "high"),
            ("RES-009", "metrics", "ap1.datadoghq.com", "high"),
        ])
    );
}

#[test]
fn countries_the_settings_allow_are_not_reported_under_any_profile() {
    // CH and GB are allowed; the Datadog site in Japan is judged by the profile.
    assert_eq!(
        findings(ALLOW, None),
        expected(&[
            ("RES-005", "orders", "us-east-1", "high"),
            ("RES-008", "exports", "us-east-1", "medium"),
            ("RES-009", "metrics", "ap1.datadoghq.com", "low"),
        ])
    );
    assert_eq!(
        findings(ALLOW, Some("strict")),
        expected(&[
            ("RES-005", "orders", "us-east-1", "high"),
            ("RES-008", "exports", "us-east-1", "medium"),
            ("RES-009", "metrics", "ap1.datadoghq.com", "high"),
        ])
    );
}
