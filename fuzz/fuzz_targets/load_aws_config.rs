//! AWS Config snapshots and history files: loaded and extracted.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::load_and_extract("config-snapshot.json", data);
});
