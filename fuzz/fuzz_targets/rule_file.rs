//! Rule files (`rules/*.yaml` and the organisation's own rules).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = sovscan::engine::rule::parse_rules("fuzz.yaml", text);
    }
});
