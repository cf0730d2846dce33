//! `docs/rules.md` and `docs/coverage.md` are generated from the rule and knowledge files; these
//! tests fail when they drift. Regenerate with `cargo run -- rules docs > docs/rules.md` and
//! `cargo run -- rules coverage > docs/coverage.md`.

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

#[test]
fn coverage_docs_are_current() {
    let kb = sovscan::knowledge::get().unwrap();
    let expected = sovscan::docs::coverage_markdown(kb);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/coverage.md");
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/coverage.md is out of date: run `cargo run -- rules coverage > docs/coverage.md`"
    );
    // Every service of the knowledge is listed with its id.
    for service in kb.services.iter() {
        assert!(
            actual.contains(&format!("`{}`", service.id)),
            "{}",
            service.id
        );
    }
}
