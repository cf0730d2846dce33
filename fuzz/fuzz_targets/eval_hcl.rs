//! Terraform modules: variables, locals, templates, count and for_each evaluated by extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::load_and_extract("main.tf", data);
});
