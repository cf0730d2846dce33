//! The HCL loader on hostile and unusual input: it never panics, reports a position for what it
//! cannot parse, and reads Windows line endings, byte-order marks and UTF-16.

#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use sovscan::load::{self, Format};

const SAMPLE: &str = "provider \"aws\" {\n  region = var.region\n}\n\nvariable \"region\" {\n  default = \"us-east-1\"\n}\n\nresource \"aws_s3_bucket\" \"a\" {\n  bucket = \"${var.region}-a\"\n  tags   = { team = \"data\" }\n  rule {\n    id = \"x\"\n  }\n}\n";

/// A small deterministic generator, so failures reproduce.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn mutated_hcl_never_panics() {
    let base = SAMPLE.as_bytes();
    let mut rng = Lcg(7);
    let alphabet = b"{}[]()\"$#=.,\n\\/*%~<>!?:aZ09 \t\x00\xff";
    for _ in 0..3000 {
        let mut bytes = base.to_vec();
        for _ in 0..(1 + rng.next() % 6) {
            let at = (rng.next() as usize) % bytes.len().max(1);
            match rng.next() % 3 {
                0 => bytes[at] = alphabet[(rng.next() as usize) % alphabet.len()],
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, alphabet[(rng.next() as usize) % alphabet.len()]),
            }
        }
        let outcome = load::load_bytes("fuzz.tf", &bytes);
        if let Some(error) = &outcome.error {
            assert!(!error.reason.is_empty());
        }
    }
    // Deep nesting is cut off, not a stack overflow.
    let deep = format!("a = {}{}\n", "[".repeat(5000), "]".repeat(5000));
    let _ = load::load_bytes("deep.tf", deep.as_bytes());
    let blocks = format!("{}{}", "b {\n".repeat(2000), "}\n".repeat(2000));
    let _ = load::load_bytes("blocks.tf", blocks.as_bytes());
}

#[test]
fn crlf_bom_and_utf16_keep_line_numbers() {
    let crlf = SAMPLE.replace('\n', "\r\n");
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(crlf.as_bytes());
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in crlf.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    for (name, bytes) in [
        ("crlf.tf", crlf.into_bytes()),
        ("bom.tf", bom),
        ("utf16.tf", utf16),
    ] {
        let outcome = load::load_bytes(name, &bytes);
        assert!(outcome.error.is_none(), "{name}: {:?}", outcome.error);
        let doc = &outcome.documents[0];
        assert_eq!(doc.format, Format::Terraform);
        let bucket = doc.root.path("resource.aws_s3_bucket.a").unwrap();
        assert_eq!(bucket.span.start.line, 9, "{name}");
        assert_eq!(
            bucket.path("rule[0].id").unwrap().span.start.line,
            13,
            "{name}"
        );
    }
}

#[test]
fn tfvars_are_terraform_documents() {
    let outcome = load::load_bytes(
        "prod.tfvars",
        b"region = \"eu-west-1\"\nzones = [\"a\", \"b\"]\n",
    );
    let doc = &outcome.documents[0];
    assert_eq!(doc.format, Format::Terraform);
    assert_eq!(doc.root.get("region").unwrap().as_str(), Some("eu-west-1"));
    assert_eq!(doc.root.get("zones").unwrap().items().len(), 2);
}

#[test]
fn mutated_terraform_json_and_heredocs_never_panic() {
    let json = br#"{"variable": {"r": {"default": "eu-west-1"}}, "provider": {"aws": [{"region": "${var.r}"}]}, "resource": {"aws_s3_bucket": {"b": {"bucket": "x", "tags": {"a": "b"}, "versioning": {"enabled": true}}}}, "//": "c"}"#;
    let heredocs = b"locals {\n  a = <<EOT\n  EOT\n  b = <<-EOT\n  x\n  EOT\n  m = { k = 1, k = 2 }\n}\nvariable \"n\" {\n  default = [\"a\", \"b\"]\n}\nresource \"aws_s3_bucket\" \"x\" {\n  for_each = { for i, v in var.n : v => i if i > 0 }\n  count = length(var.n) > 1 ? lookup(local.m, \"k\", 0) : -1\n  region = each.value[0]\n}\n";
    let kb = sovscan::knowledge::get().unwrap();
    let mut rng = Lcg(11);
    let alphabet = b"{}[]\"$<-EOT\n ,:=\\x";
    for (name, base) in [("fuzz.tf.json", &json[..]), ("fuzz.tf", &heredocs[..])] {
        for _ in 0..1500 {
            let mut bytes = base.to_vec();
            for _ in 0..(1 + rng.next() % 5) {
                let at = (rng.next() as usize) % bytes.len().max(1);
                match rng.next() % 3 {
                    0 => bytes[at] = alphabet[(rng.next() as usize) % alphabet.len()],
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, alphabet[(rng.next() as usize) % alphabet.len()]),
                }
            }
            let outcome = load::load_bytes(name, &bytes);
            if let Some(error) = &outcome.error {
                assert!(!error.reason.is_empty());
            }
            // What loads is also extracted and evaluated without panicking.
            let _ = sovscan::extract::extract_all(&outcome.documents, kb, &Default::default());
        }
    }
    let outcome = load::load_bytes("main.tf.json", json);
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.documents[0].format, Format::Terraform);
    let outcome = load::load_bytes("list.tf.json", b"[1, 2]");
    assert!(outcome.error.unwrap().reason.contains("one object"));
}
