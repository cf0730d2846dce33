//! `docs/rules.md` is generated from the rule files; this test fails when it drifts.
//! Regenerate with `cargo run -- rules docs > docs/rules.md`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

#[test]
fn rule_docs_are_current() {
    let rules = sovscan::engine::all_rules(&[]).unwrap();
    let expected = sovscan::docs::rules_markdown(&rules);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/rules.md is out of date: run `cargo run -- rules docs > docs/rules.md`"
    );
}
