//! CloudFormation/SAM templates: loaded and extracted (intrinsics, conditions, loops).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::load_and_extract("template.yaml", data);
});
