//! Large AWS Config snapshots, read item by item: the byte scan that finds the items, each
//! item parsed with its positions in the whole file, and extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sovscan::load::snapshot::{Snapshot, item_ranges};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(items) = item_ranges(text) else {
        return;
    };
    let snapshot = Snapshot {
        path: "snapshot.json".into(),
        text: text.to_string(),
        items,
    };
    let lines = snapshot.lines();
    for index in 0..snapshot.items.len() {
        let _ = snapshot.item(&lines, index);
    }
    if let Ok(kb) = sovscan::knowledge::get() {
        let _ = sovscan::extract::aws_config::extract_snapshot(&snapshot, kb);
    }
});
