//! JSON documents (ARM templates, plan JSON, AWS Config) into trees, and the whole loader.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = sovscan::load::json::parse(text);
    }
    let _ = sovscan::load::load_bytes("input.json", data);
});
